// `meshsim blast-radius` and `meshsim suggest-authz` on scenarios/bookinfo/mesh as shipped.
//
// Hand computation: bookinfo/mesh sets no PeerAuthentication (PERMISSIVE everywhere) and one
// AuthorizationPolicy, bookinfo/ratings-viewer: ratings admits only GET /ratings/* from the
// bookinfo-reviews service account. Every other workload has no ALLOW policy, so any identity may
// call it. Compromising details-v1 therefore reaches productpage-v1 and reviews-v1/v2/v3 at hop 1
// ("no ALLOW policy"), and ratings-v1/v2 at hop 2 through a reviews workload (whose certificate
// the attacker then holds) by ratings-viewer rule 0. Score: 4 x 1/1 + 2 x 1/2 = 5.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/paths.h"
#include "support/process.h"

namespace meshsim::testing {
namespace {

namespace fs = std::filesystem;

class BlastRadiusCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("meshsim-blast-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  static std::vector<std::string> blast(std::vector<std::string> args) {
    std::vector<std::string> out = {"blast-radius", "-f", sourceRoot("scenarios/bookinfo/mesh")};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }
  static std::vector<std::string> names(const nlohmann::json& reached) {
    std::vector<std::string> out;
    for (const auto& n : reached) out.push_back(n["workload"].get<std::string>() + "@" + std::to_string(n["hops"].get<int>()));
    return out;
  }

  fs::path dir_;
};

using Strings = std::vector<std::string>;

TEST_F(BlastRadiusCli, DetailsReachesEverythingThroughReviews) {
  auto r = runMeshsim(blast({"--compromise", "bookinfo/details-v1", "-o", "json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["compromised"], "bookinfo/details-v1");
  EXPECT_EQ(doc["identity"], "cluster.local/ns/bookinfo/sa/bookinfo-details");
  EXPECT_EQ(names(doc["reached"]),
            (Strings{"bookinfo/productpage-v1@1", "bookinfo/reviews-v1@1", "bookinfo/reviews-v2@1",
                     "bookinfo/reviews-v3@1", "bookinfo/ratings-v1@2", "bookinfo/ratings-v2@2"}));
  EXPECT_DOUBLE_EQ(doc["score"].get<double>(), 5.0);
  EXPECT_EQ(doc["credentialWindowSeconds"], 86400);
  EXPECT_EQ(doc["rotationAfterSeconds"], 43200);
  EXPECT_TRUE(doc["tokenWindowSeconds"].is_null());
  EXPECT_EQ(doc["truncated"], false);
  const auto& first = doc["reached"][0]["path"][0];
  EXPECT_EQ(first["basis"], "no ALLOW policy");
  EXPECT_EQ(first["mtls"], true);
  const auto& ratings_path = doc["reached"][4]["path"];
  ASSERT_EQ(ratings_path.size(), 2u);
  EXPECT_EQ(ratings_path[0]["to"], "bookinfo/reviews-v1");
  EXPECT_EQ(ratings_path[1]["policy"], "bookinfo/ratings-viewer");
  EXPECT_EQ(ratings_path[1]["rule"], 0);
  EXPECT_EQ(ratings_path[1]["source"], "cluster.local/ns/bookinfo/sa/bookinfo-reviews");
  EXPECT_EQ(ratings_path[1]["allowed"], nlohmann::json::array({"GET /ratings/"}));
}

TEST_F(BlastRadiusCli, HopLimitAndTable) {
  auto r = runMeshsim(blast({"--compromise", "bookinfo/details-v1", "--hops", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("compromised: bookinfo/details-v1 (identity cluster.local/ns/bookinfo/sa/bookinfo-details)\n", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("reached 4 workload(s), score 4.00 (sum of sensitivity / hops), more beyond the hop limit"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("WORKLOAD"), std::string::npos);
  EXPECT_NE(r.out.find("details-v1 -[mTLS :9080]-> reviews-v3"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ratings"), std::string::npos) << r.out;

  auto full = runMeshsim(blast({"--compromise", "bookinfo/details-v1"}));
  ASSERT_EQ(full.exit_code, 0);
  EXPECT_NE(full.out.find("bookinfo/ratings-viewer rule 0"), std::string::npos) << full.out;
}

TEST_F(BlastRadiusCli, DotColoursTheCompromisedAndReachedNodes) {
  auto r = runMeshsim(blast({"--compromise", "bookinfo/details-v1", "-o", "dot"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("digraph blast_radius {", 0), 0u);
  EXPECT_NE(r.out.find("\"bookinfo/details-v1\" [fillcolor=red"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"bookinfo/ratings-v1\" [fillcolor=orange, label=\"bookinfo/ratings-v1\\nhop 2\"]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"bookinfo/reviews-v1\" -> \"bookinfo/ratings-v1\" [label=\"bookinfo/ratings-viewer rule 0\"]"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
}

TEST_F(BlastRadiusCli, RankPutsReviewsFirst) {
  auto r = runMeshsim(blast({"--rank", "-o", "json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  const auto& ranking = doc["ranking"];
  ASSERT_EQ(ranking.size(), 7u);
  // reviews reaches all six others at hop 1 (it may call ratings itself): 6.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ranking[i]["workload"].get<std::string>().rfind("bookinfo/reviews-v", 0), 0u);
    EXPECT_DOUBLE_EQ(ranking[i]["score"].get<double>(), 6.0);
  }
  // ratings: five at hop 1, the other ratings workload at hop 2 (through reviews): 5.5.
  EXPECT_EQ(ranking[3]["workload"], "bookinfo/ratings-v1");
  EXPECT_DOUBLE_EQ(ranking[3]["score"].get<double>(), 5.5);
  EXPECT_DOUBLE_EQ(ranking[6]["score"].get<double>(), 5.0);

  auto table = runMeshsim(blast({"--rank"}));
  ASSERT_EQ(table.exit_code, 0);
  EXPECT_EQ(table.out.rfind("RANK  WORKLOAD", 0), 0u) << table.out;
}

TEST_F(BlastRadiusCli, WhatIfWithACandidatePolicy) {
  const std::string candidate = write("candidate.yaml", R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: bookinfo, name: reviews-from-productpage}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{from: [{source: {principals: ["cluster.local/ns/bookinfo/sa/bookinfo-productpage"]}}]}]
)");
  auto r = runMeshsim(blast({"--compromise", "bookinfo/details-v1", "--with", candidate, "-o", "json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  // reviews now admits only productpage: details needs one more hop for reviews and ratings.
  EXPECT_EQ(names(doc["after"]["reached"]),
            (Strings{"bookinfo/productpage-v1@1", "bookinfo/reviews-v1@2", "bookinfo/reviews-v2@2",
                     "bookinfo/reviews-v3@2", "bookinfo/ratings-v1@3", "bookinfo/ratings-v2@3"}));
  EXPECT_TRUE(doc["diff"]["nodesAdded"].empty());
  EXPECT_TRUE(doc["diff"]["nodesRemoved"].empty());
  EXPECT_TRUE(doc["diff"]["edgesAdded"].empty());
  const auto removed = doc["diff"]["edgesRemoved"].get<Strings>();
  EXPECT_NE(std::find(removed.begin(), removed.end(), "bookinfo/details-v1 -> bookinfo/reviews-v1 :9080"), removed.end());
  EXPECT_DOUBLE_EQ(doc["diff"]["scoreBefore"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(doc["diff"]["scoreAfter"].get<double>(), 1.0 + 3.0 / 2 + 2.0 / 3);

  auto table = runMeshsim(blast({"--compromise", "bookinfo/details-v1", "--with", candidate}));
  ASSERT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("what-if: score 5.00 -> 3.17"), std::string::npos) << table.out;
}

TEST_F(BlastRadiusCli, SuggestAuthzFromObservedCalls) {
  const std::string run = write("run.json", R"({"calls":[
 {"from":"bookinfo/productpage-v1","to":"bookinfo/details","port":9080,"method":"GET","path":"/details/0"},
 {"from":"bookinfo/productpage-v1","to":"bookinfo/reviews","port":9080,"method":"GET","path":"/reviews/0"},
 {"from":"bookinfo/reviews-v2","to":"bookinfo/ratings","port":9080,"method":"GET","path":"/ratings/0"}]})");
  auto r = runMeshsim({"suggest-authz", "-f", sourceRoot("scenarios/bookinfo/mesh"), "--from-run", run, "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["policies"], nlohmann::json::array({"bookinfo/least-privilege-details", "bookinfo/least-privilege-productpage",
                                                    "bookinfo/least-privilege-ratings", "bookinfo/least-privilege-reviews"}));
  std::map<std::string, nlohmann::json> left;
  for (const auto& e : doc["blastRadius"]) left[e["workload"]] = e;
  // Only the observed edges remain: productpage -> details, reviews (-> ratings); reviews -> ratings.
  EXPECT_EQ(names(left["bookinfo/productpage-v1"]["reached"]),
            (Strings{"bookinfo/details-v1@1", "bookinfo/reviews-v1@1", "bookinfo/reviews-v2@1", "bookinfo/reviews-v3@1",
                     "bookinfo/ratings-v1@2", "bookinfo/ratings-v2@2"}));
  EXPECT_EQ(names(left["bookinfo/reviews-v1"]["reached"]), (Strings{"bookinfo/ratings-v1@1", "bookinfo/ratings-v2@1"}));
  EXPECT_TRUE(left["bookinfo/details-v1"]["reached"].empty());
  EXPECT_DOUBLE_EQ(left["bookinfo/details-v1"]["scoreBefore"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(left["bookinfo/details-v1"]["scoreAfter"].get<double>(), 0.0);

  auto yaml = runMeshsim({"suggest-authz", "-f", sourceRoot("scenarios/bookinfo/mesh"), "--from-run", run});
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  EXPECT_NE(yaml.out.find("  name: \"least-privilege-details\"\n"), std::string::npos) << yaml.out;
  EXPECT_NE(yaml.out.find("      \"app\": \"details\"\n"), std::string::npos) << yaml.out;
  EXPECT_NE(yaml.out.find("        principals: [\"cluster.local/ns/bookinfo/sa/bookinfo-productpage\"]\n"),
            std::string::npos);
  EXPECT_NE(yaml.out.find("        ports: [\"9080\"]\n        methods: [\"GET\"]\n        paths: [\"/details/0\"]\n"),
            std::string::npos);
  EXPECT_NE(yaml.out.find("#   bookinfo/details-v1: score 5.00 -> 0.00, reaches 0"), std::string::npos) << yaml.out;
  // The suggestion is a valid configuration on top of the mesh.
  const std::string file = write("suggested.yaml", yaml.out);
  auto validate = runMeshsim({"validate", "-f", sourceRoot("scenarios/bookinfo/mesh"), "-f", file});
  EXPECT_EQ(validate.exit_code, 0) << validate.out << validate.err;
}

struct BadCase {
  std::string name;
  std::vector<std::string> args;
  std::string message;  // expected in stderr ("" = any)
};

// Plaintext exposure (hand computation above): PERMISSIVE everywhere, so every port accepts a
// client without a certificate; ratings-viewer needs a principal, so only ratings refuses it.
TEST_F(BlastRadiusCli, TableListsPlaintextExposure) {
  auto r = runMeshsim(blast({"--compromise", "bookinfo/details-v1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find(
          "plaintext exposure: 5 port(s) any network attacker reaches without a certificate\n"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("WORKLOAD                 PORT  MODE        PEER-AUTHENTICATION  ALLOWS\n"),
            std::string::npos)
      << r.out;
  for (const std::string w :
       {"productpage-v1", "details-v1", "reviews-v1", "reviews-v2", "reviews-v3"}) {
    const std::string row = "bookinfo/" + w;
    const size_t at = r.out.find(row + std::string(25 - row.size(), ' ') +
                                 "9080  PERMISSIVE  (default)            GET /, POST /\n");
    EXPECT_NE(at, std::string::npos) << w << "\n" << r.out;
  }
  const size_t section = r.out.find("plaintext exposure:");
  EXPECT_EQ(r.out.find("bookinfo/ratings-v", section), std::string::npos) << r.out;

  auto json = runMeshsim(blast({"--compromise", "bookinfo/details-v1", "-o", "json"}));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto exposure = nlohmann::json::parse(json.out)["plaintextExposure"];
  ASSERT_EQ(exposure.size(), 5u);
  EXPECT_EQ(exposure[0]["mode"], "PERMISSIVE");
  EXPECT_EQ(exposure[0]["peerAuthentication"], "");
  EXPECT_EQ(exposure[0]["allowed"], nlohmann::json::array({"GET /", "POST /"}));

  // The tenant requires mutual TLS (a translated STRICT PeerAuthentication): nothing is exposed.
  auto strict = runMeshsim({"blast-radius", "-f", sourceRoot("scenarios/bookinfo/mesh"), "-f",
                            sourceRoot("scenarios/bookinfo/changes/tenant-strict.yaml"),
                            "--compromise", "bookinfo/details-v1"});
  ASSERT_EQ(strict.exit_code, 0) << strict.err;
  EXPECT_NE(strict.out.find(
                "plaintext exposure: none (no port lets a client without a certificate in)\n"),
            std::string::npos)
      << strict.out;
}

// A sidecar-less workload and a DISABLE port, with the PeerAuthentication that set the mode.
TEST_F(BlastRadiusCli, TableNamesThePeerAuthenticationOfEachExposure) {
  const std::string mesh = write("mesh.yaml", R"(apiVersion: meshsim/v1
kind: Cluster
metadata: {name: c1}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: istio-system, name: default}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: app, name: api-plaintext}
spec: {selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: app, name: api}
spec: {ports: [{name: http, port: 9090}]}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: app, name: legacy}
spec: {ports: [{name: http, port: 80, targetPort: 8000}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: app, name: api-v1}
spec: {service: api, cluster: c1, serviceAccount: api, labels: {app: api}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: app, name: legacy-v1}
spec: {service: legacy, cluster: c1, serviceAccount: legacy, sidecar: false, labels: {app: legacy}}
)");
  auto r = runMeshsim({"blast-radius", "-f", mesh, "--compromise", "app/api-v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("plaintext exposure: 2 port(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("app/api-v1     9090      DISABLE     app/api-plaintext    GET /, POST /\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("app/legacy-v1  80->8000  no sidecar  -                    GET /, POST /\n"),
            std::string::npos)
      << r.out;
}

TEST_F(BlastRadiusCli, SvgIsTheDotLaidOutByGraphviz) {
  auto r = runMeshsim(blast({"--compromise", "bookinfo/details-v1", "-o", "svg"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("<svg"), std::string::npos) << r.out.substr(0, 200);
  EXPECT_NE(r.out.find("</svg>"), std::string::npos);
  // Node titles are the workload keys; the edge label names the deciding policy.
  EXPECT_NE(r.out.find("<title>bookinfo/details-v1</title>"), std::string::npos);
  EXPECT_NE(r.out.find("bookinfo/ratings-viewer rule 0"), std::string::npos);
  auto rank = runMeshsim(blast({"--rank", "-o", "svg"}));
  EXPECT_EQ(rank.exit_code, 2);
  EXPECT_NE(rank.err.find("not svg"), std::string::npos) << rank.err;
}

struct VerifyCase {
  std::vector<std::string> files;
  std::string workload;
};

// --verify on every shipped scenario mesh, two workloads each: the real attack agrees with the
// prediction probe by probe.
TEST_F(BlastRadiusCli, VerifyAgreesOnEveryShippedScenario) {
  const std::vector<VerifyCase> cases = {
      {{"scenarios/bookinfo/mesh"}, "bookinfo/details-v1"},
      {{"scenarios/bookinfo/mesh"}, "bookinfo/productpage-v1"},
      {{"scenarios/bookinfo/mesh", "scenarios/bookinfo/changes/tenant-strict.yaml"},
       "bookinfo/reviews-v1"},
      {{"scenarios/multicloud/mesh"}, "shop/storefront-v1"},
      {{"scenarios/multicloud/mesh"}, "payments/billing-v1"},
      {{"scenarios/end-user-auth/mesh"}, "shop/backend-v1"},
      {{"scenarios/end-user-auth/mesh"}, "shop/frontend-v1"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"blast-radius"};
    for (const auto& f : c.files) {
      args.push_back("-f");
      args.push_back(sourceRoot(f));
    }
    args.insert(args.end(), {"--compromise", c.workload, "--verify"});
    auto r = runMeshsim(args);
    EXPECT_EQ(r.exit_code, 0) << c.workload << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find(" attackers: all agree\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("observed reach matches the prediction: "), std::string::npos) << r.out;
  }
}

TEST_F(BlastRadiusCli, VerifyJsonCarriesEveryProbe) {
  auto r = runMeshsim(blast({"--compromise", "bookinfo/details-v1", "--verify", "-o", "json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["compromised"], "bookinfo/details-v1");
  const auto& v = doc["verification"];
  EXPECT_EQ(v["agree"], true);
  EXPECT_EQ(v["disagreements"], 0);
  // Four identities (details, productpage, reviews, ratings), the outsider and the forger, each
  // probing 7 workload ports: 5 x (GET /, POST /, DELETE /admin) + 2 ratings x 5 shapes.
  EXPECT_EQ(v["attackers"].size(), 6u);
  EXPECT_EQ(v["probeCount"], 6 * 25);
  EXPECT_EQ(v["probes"].size(), 150u);
  EXPECT_EQ(v["predictedReached"], v["observedReached"]);
  EXPECT_EQ(v["observedReached"].size(), 7u);
  const auto& first = v["probes"][0];
  EXPECT_EQ(first["from"], "stolen:bookinfo/details-v1");
  EXPECT_EQ(first["transport"], "mTLS");
  EXPECT_TRUE(first.contains("basis"));
}

TEST_F(BlastRadiusCli, VerifyUsageErrorsExitTwo) {
  const std::string candidate =
      write("candidate.yaml",
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
            "metadata: {namespace: bookinfo, name: x}\nspec: {}\n");
  const std::vector<BadCase> cases = {
      {"verify and rank",
       {"blast-radius", "-f", sourceRoot("scenarios/bookinfo/mesh"), "--rank", "--verify"},
       "--verify"},
      {"verify and with",
       blast({"--compromise", "bookinfo/details-v1", "--verify", "--with", candidate}), "--verify"},
      {"verify and dot", blast({"--compromise", "bookinfo/details-v1", "--verify", "-o", "dot"}),
       "not dot"},
      {"verify and tokens",
       blast({"--compromise", "bookinfo/details-v1", "--verify", "--follow-tokens"}), "tokens"},
      {"verify unknown workload", blast({"--compromise", "bookinfo/nope", "--verify"}),
       "unknown workload bookinfo/nope"},
  };
  for (const auto& c : cases) {
    auto r = runMeshsim(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.name << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
  }
}

TEST_F(BlastRadiusCli, BadInputExitsTwo) {
  const std::string mesh = sourceRoot("scenarios/bookinfo/mesh");
  const std::string bad_run = write("bad.json", R"({"calls":[{"from":"bookinfo/productpage-v1","to":"bookinfo/nope","port":9080}]})");
  const std::string not_json = write("not.json", "{");
  const std::vector<BadCase> cases = {
      {"unknown workload", {"blast-radius", "-f", mesh, "--compromise", "bookinfo/nope"}, "unknown workload bookinfo/nope"},
      {"malformed workload", {"blast-radius", "-f", mesh, "--compromise", "details-v1"}, "must be NS/WORKLOAD"},
      {"negative hops", {"blast-radius", "-f", mesh, "--compromise", "bookinfo/details-v1", "--hops", "-1"}, "--hops"},
      {"text hops", {"blast-radius", "-f", mesh, "--compromise", "bookinfo/details-v1", "--hops", "x"}, "--hops"},
      {"missing file", {"blast-radius", "-f", (dir_ / "missing.yaml").string(), "--rank"}, "missing.yaml"},
      {"no target", {"blast-radius", "-f", mesh}, "--compromise NS/WORKLOAD or --rank"},
      {"rank and dot", {"blast-radius", "-f", mesh, "--rank", "-o", "dot"}, "not dot"},
      {"missing candidate",
       {"blast-radius", "-f", mesh, "--compromise", "bookinfo/details-v1", "--with", (dir_ / "nope.yaml").string()},
       "--with"},
      {"missing run", {"suggest-authz", "-f", mesh, "--from-run", (dir_ / "nope.json").string()}, "cannot read"},
      {"run not json", {"suggest-authz", "-f", mesh, "--from-run", not_json}, "not valid JSON"},
      {"run unknown service", {"suggest-authz", "-f", mesh, "--from-run", bad_run}, "unknown service bookinfo/nope"},
  };
  for (const auto& c : cases) {
    auto r = runMeshsim(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.name << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
  }
}

}  // namespace
}  // namespace meshsim::testing
