// `meshsim topology` as a user runs it: DOT, SVG and JSON output, --out, exit codes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "support/paths.h"
#include "support/process.h"

namespace meshsim::testing {
namespace {

std::vector<std::string> bookinfo(std::vector<std::string> args) {
  std::vector<std::string> out = {"topology", "-f", sourceRoot("scenarios/bookinfo/mesh")};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

TEST(TopologyCommand, DefaultIsDotOnStdout) {
  auto r = runMeshsim(bookinfo({}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("digraph mesh {", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("label=\"cluster gke-us-east\""), std::string::npos);
  EXPECT_NE(r.out.find("<b>reviews-v3</b>"), std::string::npos);
}

TEST(TopologyCommand, SvgIsLaidOutByGraphviz) {
  auto r = runMeshsim(bookinfo({"-o", "svg", "--outside"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("<svg"), std::string::npos);
  EXPECT_NE(r.out.find("</svg>"), std::string::npos);
  for (const char* name : {"productpage-v1", "details-v1", "reviews-v1", "reviews-v2", "reviews-v3",
                           "ratings-v1", "ratings-v2", "outside"}) {
    EXPECT_NE(r.out.find(">" + std::string(name) + "</text>"), std::string::npos) << name;
  }
  EXPECT_NE(r.out.find("cluster eks-eu-west"), std::string::npos);
  EXPECT_NE(r.out.find("workspace bookinfo"), std::string::npos);
  // Ten mTLS edges inside the mesh carry the padlock; the outside client's plaintext hop does not.
  EXPECT_EQ(count(r.out, "\U0001F512"), 10u);
  EXPECT_NE(r.out.find("id=\"node:bookinfo/productpage-v1\""), std::string::npos);
}

TEST(TopologyCommand, RefusedEdgeIsRedInTheSvg) {
  auto r = runMeshsim({"topology", "-f", sourceRoot("scenarios/bookinfo/mesh"), "-f",
                       sourceRoot("scenarios/bookinfo/changes/tenant-strict.yaml"), "--entry",
                       "bookinfo/productpage", "-o", "svg"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stroke=\"red\""), std::string::npos);
  EXPECT_NE(r.out.find("by bookinfo/meshsim-security"), std::string::npos);
}

TEST(TopologyCommand, JsonParsesWithCanaryShares) {
  auto r = runMeshsim({"topology", "-f", sourceRoot("scenarios/bookinfo/mesh"), "-f",
                       sourceRoot("scenarios/bookinfo/changes/ratings-canary.yaml"), "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["nodes"].size(), 7u);
  EXPECT_EQ(doc["edges"].size(), 10u);
  int canary = 0;
  for (const auto& e : doc["edges"]) {
    if (e["to"] == "bookinfo/ratings-v2") {
      ++canary;
      EXPECT_DOUBLE_EQ(e["share"].get<double>(), 0.1);
      EXPECT_EQ(e["virtualService"], "bookinfo/ratings-canary");
    }
  }
  EXPECT_EQ(canary, 3);
}

TEST(TopologyCommand, OutWritesTheFile) {
  auto path = std::filesystem::temp_directory_path() / ("meshsim-topology-" + std::to_string(::getpid()) + ".svg");
  auto r = runMeshsim(bookinfo({"-o", "svg", "--out", path.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("<svg"), std::string::npos);
  EXPECT_NE(text.str().find("productpage-v1"), std::string::npos);
  std::filesystem::remove(path);
}

// Degraded mode: a Graphviz installation whose plugins are not registered (GVBINDIR points at
// an empty directory) cannot lay out; the verb says so and what to do, and exits 2.
TEST(TopologyCommand, MissingGraphvizPluginsExitTwoWithAHint) {
  auto empty = std::filesystem::temp_directory_path() / ("meshsim-gvbindir-" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  ASSERT_EQ(::setenv("GVBINDIR", empty.c_str(), 1), 0);
  auto r = runMeshsim(bookinfo({"-o", "svg"}));
  ::unsetenv("GVBINDIR");
  std::filesystem::remove_all(empty);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("FailedPrecondition"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dot -c"), std::string::npos) << r.err;
  // DOT and JSON need no Graphviz at all.
  ASSERT_EQ(::setenv("GVBINDIR", "/nonexistent", 1), 0);
  auto dot = runMeshsim(bookinfo({}));
  ::unsetenv("GVBINDIR");
  EXPECT_EQ(dot.exit_code, 0) << dot.err;
}

TEST(TopologyCommand, BadInputExitsTwo) {
  auto missing = runMeshsim({"topology", "-f", testData("does-not-exist.yaml")});
  EXPECT_EQ(missing.exit_code, 2);
  auto invalid = runMeshsim({"topology", "-f", testData("invalid/17-authz-bad-action.yaml")});
  EXPECT_EQ(invalid.exit_code, 2);
  auto format = runMeshsim(bookinfo({"-o", "png"}));
  EXPECT_EQ(format.exit_code, 2);
  auto entry = runMeshsim(bookinfo({"--entry", "bookinfo/nope"}));
  EXPECT_EQ(entry.exit_code, 2);
  EXPECT_NE(entry.err.find("bookinfo/nope"), std::string::npos) << entry.err;
  auto unwritable = runMeshsim(bookinfo({"--out", "/nonexistent-dir/topology.dot"}));
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_NE(unwritable.err.find("cannot write"), std::string::npos) << unwritable.err;
}

}  // namespace
}  // namespace meshsim::testing
