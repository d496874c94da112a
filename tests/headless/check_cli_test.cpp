// `meshsim check` as a user runs it: verdict line, JSON fields, exit codes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/paths.h"
#include "support/process.h"

namespace meshsim::testing {
namespace {

std::vector<std::string> withMesh(std::vector<std::string> args, bool strict = false) {
  std::vector<std::string> out = {"check", "-f", sourceRoot("scenarios/bookinfo/mesh")};
  if (strict) {
    out.push_back("-f");
    out.push_back(sourceRoot("scenarios/bookinfo/changes/tenant-strict.yaml"));
  }
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

TEST(CheckCommand, AllowedRequestExitsZeroAndNamesThePolicy) {
  auto r = runMeshsim(withMesh({"--from", "bookinfo/reviews-v2", "--to", "bookinfo/ratings", "--path", "/ratings/0"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ALLOWED 200  stage=none policy=bookinfo/ratings-viewer rule=0 mtls=yes", 0), 0u) << r.out;
}

TEST(CheckCommand, RefusedRequestExitsOne) {
  auto r = runMeshsim(withMesh({"--from", "bookinfo/productpage-v1", "--to", "bookinfo/ratings", "--path", "/ratings/0"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("DENIED 403 \"RBAC: access denied\"  stage=authz", 0), 0u) << r.out;
}

TEST(CheckCommand, JsonCarriesTheDocumentedFields) {
  auto r = runMeshsim(withMesh({"--from", "outside", "--to", "bookinfo/ratings", "-o", "json"}, /*strict=*/true));
  EXPECT_EQ(r.exit_code, 1);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["status"], "reset");
  EXPECT_EQ(doc["allowed"], false);
  EXPECT_EQ(doc["stage"], "peer_authn");
  EXPECT_EQ(doc["policy"], "bookinfo/meshsim-security");
  EXPECT_EQ(doc["mtls"], false);
  for (const char* field : {"rule", "body", "reason", "route", "trace"}) EXPECT_TRUE(doc.contains(field)) << field;
  EXPECT_TRUE(doc["route"].contains("virtualService"));
  EXPECT_TRUE(doc["route"].contains("shares"));
}

TEST(CheckCommand, CanaryReportsSharesPerSubset) {
  auto r = runMeshsim({"check", "-f", sourceRoot("scenarios/bookinfo/mesh"), "-f",
                       sourceRoot("scenarios/bookinfo/changes/ratings-canary.yaml"), "--from", "bookinfo/reviews-v2",
                       "--to", "bookinfo/ratings", "--path", "/ratings/0", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["route"]["virtualService"], "bookinfo/ratings-canary");
  ASSERT_EQ(doc["route"]["shares"].size(), 2u);
  EXPECT_DOUBLE_EQ(doc["route"]["shares"][0]["share"].get<double>(), 0.9);
  EXPECT_EQ(doc["route"]["shares"][1]["subset"], "v2");
}

TEST(CheckCommand, BadInputExitsTwo) {
  EXPECT_EQ(runMeshsim(withMesh({"--to", "bookinfo/nope"})).exit_code, 2);
  EXPECT_EQ(runMeshsim(withMesh({"--to", "bookinfo/ratings", "--from", "nobody"})).exit_code, 2);
  EXPECT_EQ(runMeshsim(withMesh({"--to", "bookinfo/ratings", "--port", "1"})).exit_code, 2);
  EXPECT_EQ(runMeshsim(withMesh({"--to", "bookinfo/ratings", "--header", "novalue"})).exit_code, 2);
  EXPECT_EQ(runMeshsim(withMesh({"--to", "bookinfo/ratings", "--jwt-invalid", "sometimes"})).exit_code, 2);
  EXPECT_EQ(runMeshsim({"check", "--to", "bookinfo/ratings", "-f", testData("invalid/17-authz-bad-action.yaml")}).exit_code, 2);
}

}  // namespace
}  // namespace meshsim::testing
