// verifyBlastRadius() (meshsim/verify.h) against the real loopback data plane: the predicted blast
// radius is attacked for real with stolen certificates, a plaintext outsider and a forged
// certificate, and every probe's outcome must agree with the prediction.
//
// Hand computation of the reached sets (predicted_reached includes the compromised workload):
// - scenarios/bookinfo/mesh is PERMISSIVE everywhere with one AuthorizationPolicy: ratings admits
//   only GET /ratings/* from bookinfo-reviews. Every other workload has no ALLOW policy, so any
//   identity may call it; from any workload the attacker reaches reviews in one hop and ratings
//   with reviews' certificate: all seven workloads. With tenant-strict.yaml (trafficMode
//   REQUIRED for the retail tenant) the same, over mutual TLS only.
// - scenarios/multicloud/mesh: STRICT and WORKSPACE authorization per tenant: storefront and
//   catalog (shop, retail) reach each other, ledger (payments, finance) is closed to them; billing
//   (payments) reaches ledger; shopper (a client of shop) reaches storefront and catalog.
// - scenarios/end-user-auth/mesh: STRICT; the database needs the backend's identity AND a token
//   with scope read, so its edges are token-gated; backend has no ALLOW policy.
#include "meshsim/verify.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/engine.h"
#include "meshsim/mgmt/translate.h"
#include "meshsim/proxy/loopback_data_plane.h"
#include "support/paths.h"

namespace meshsim {
namespace {

using Strings = std::vector<std::string>;

std::shared_ptr<const config::Snapshot> loadFiles(const Strings& relative) {
  Strings paths;
  for (const auto& r : relative) paths.push_back(testing::sourceRoot(r));
  config::LoadResult loaded = config::loadPaths(paths);
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return config::makeSnapshot(loaded.resources);
}

std::shared_ptr<const config::Snapshot> loadText(const std::string& yaml) {
  auto loaded = config::loadString(yaml, "mesh.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return config::makeSnapshot(loaded.resources);
}

std::string disagreements(const BlastVerification& v) {
  std::string out;
  for (const auto& p : v.probes) {
    if (p.agree) continue;
    out += "\n  " + p.from + " -> " + p.to + " " + p.request + " (" + p.transport +
           "): predicted " + (p.predicted_allowed ? "allowed" : "refused") + " [" + p.basis +
           "], observed " + std::to_string(p.observed_status) + " " + p.served_by + " " +
           p.observed_error;
  }
  return out;
}

class VerifyTest : public ::testing::Test {
 protected:
  void start(std::shared_ptr<const config::Snapshot> snapshot) {
    proxy::LoopbackOptions options;
    options.ingress = false;
    auto rt = MeshRuntime::create(std::move(snapshot),
                                  std::make_unique<proxy::LoopbackDataPlane>(options));
    ASSERT_TRUE(rt.ok()) << rt.status().toString();
    runtime_ = std::move(*rt);
    ASSERT_TRUE(runtime_->start().ok());
    auto g = analysis::buildReachability(runtime_->plan()->config,
                                         reachabilityOptionsFor(VerifyOptions{}));
    ASSERT_TRUE(g.ok()) << g.status().toString();
    graph_ = std::move(*g);
  }
  Result<BlastVerification> verify(const std::string& workload, const VerifyOptions& options = {},
                                   const analysis::BlastOptions& blast = {}) {
    const size_t slash = workload.find('/');
    auto radius =
        analysis::blastRadius(graph_, workload.substr(0, slash), workload.substr(slash + 1), blast);
    EXPECT_TRUE(radius.ok()) << radius.status().toString();
    if (!radius.ok()) return radius.status();
    return verifyBlastRadius(*runtime_, graph_, *radius, options);
  }
  std::unique_ptr<MeshRuntime> runtime_;
  analysis::ReachabilityGraph graph_;
};

struct ScenarioCase {
  const char* name;
  Strings files;
  std::string compromised;
  Strings reached;  // predicted_reached, by hand (see the file comment)
};

const Strings kAllBookinfo = {
    "bookinfo/details-v1", "bookinfo/productpage-v1", "bookinfo/ratings-v1", "bookinfo/ratings-v2",
    "bookinfo/reviews-v1", "bookinfo/reviews-v2",     "bookinfo/reviews-v3"};

TEST_F(VerifyTest, EveryShippedScenarioMeshAgreesWithThePrediction) {
  const Strings bookinfo = {"scenarios/bookinfo/mesh"};
  const Strings strict = {"scenarios/bookinfo/mesh",
                          "scenarios/bookinfo/changes/tenant-strict.yaml"};
  const std::vector<ScenarioCase> cases = {
      {"bookinfo PERMISSIVE", bookinfo, "bookinfo/details-v1", kAllBookinfo},
      {"bookinfo PERMISSIVE", bookinfo, "bookinfo/ratings-v1", kAllBookinfo},
      {"bookinfo PERMISSIVE", bookinfo, "bookinfo/productpage-v1", kAllBookinfo},
      {"bookinfo STRICT", strict, "bookinfo/details-v1", kAllBookinfo},
      {"bookinfo STRICT", strict, "bookinfo/reviews-v2", kAllBookinfo},
      {"multicloud",
       {"scenarios/multicloud/mesh"},
       "shop/storefront-v1",
       {"shop/catalog-v1", "shop/storefront-v1"}},
      {"multicloud",
       {"scenarios/multicloud/mesh"},
       "shop/shopper",
       {"shop/catalog-v1", "shop/shopper", "shop/storefront-v1"}},
      {"multicloud",
       {"scenarios/multicloud/mesh"},
       "payments/billing-v1",
       {"payments/billing-v1", "payments/ledger-v1"}},
      {"end-user-auth", {"scenarios/end-user-auth/mesh"}, "shop/backend-v1", {"shop/backend-v1"}},
      {"end-user-auth",
       {"scenarios/end-user-auth/mesh"},
       "shop/frontend-v1",
       {"shop/backend-v1", "shop/frontend-v1"}},
  };
  Strings started;
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name) + ", compromised " + c.compromised);
    if (started != c.files) {
      if (runtime_) runtime_->stop();
      runtime_.reset();
      start(loadFiles(c.files));
      started = c.files;
    }
    auto v = verify(c.compromised);
    ASSERT_TRUE(v.ok()) << v.status().toString();
    EXPECT_EQ(v->disagreements, 0u) << disagreements(*v);
    EXPECT_EQ(v->predicted_reached, c.reached);
    EXPECT_EQ(v->observed_reached, v->predicted_reached);
    EXPECT_TRUE(v->agree());
    // Not vacuous: some probes got through and some were refused; the forged certificate and
    // the outsider probed too.
    const auto allowed = std::count_if(v->probes.begin(), v->probes.end(),
                                       [](const VerifiedProbe& p) { return p.observed_allowed; });
    EXPECT_GT(allowed, 0);
    EXPECT_LT(static_cast<size_t>(allowed), v->probes.size());
    ASSERT_GE(v->attackers.size(), 3u);
    EXPECT_EQ(v->attackers[v->attackers.size() - 2], "outside");
    EXPECT_EQ(v->attackers.back().rfind("forged:spiffe://cluster.local/ns/", 0), 0u)
        << v->attackers.back();
  }
}

TEST_F(VerifyTest, AttackersAreOnePerIdentityAndForgedCertificatesNeverGetIn) {
  start(loadFiles({"scenarios/bookinfo/mesh"}));
  auto v = verify("bookinfo/details-v1");
  ASSERT_TRUE(v.ok()) << v.status().toString();
  // reviews-v1/v2/v3 share bookinfo-reviews and ratings-v1/v2 share bookinfo-ratings: one
  // stolen certificate each, taken from the first reached workload of the identity.
  EXPECT_EQ(v->attackers,
            (Strings{"stolen:bookinfo/details-v1", "stolen:bookinfo/productpage-v1",
                     "stolen:bookinfo/reviews-v1", "stolen:bookinfo/ratings-v1", "outside",
                     "forged:spiffe://cluster.local/ns/bookinfo/sa/bookinfo-details"}));
  size_t forged = 0, outsider_to_ratings = 0;
  for (const auto& p : v->probes) {
    if (p.from.rfind("forged:", 0) == 0) {
      ++forged;
      EXPECT_FALSE(p.observed_allowed) << p.to << " " << p.request;
      EXPECT_EQ(p.observed_status, 0) << p.to;
      EXPECT_EQ(p.transport, "forged TLS");
    }
    // PERMISSIVE admits the outsider's plaintext, but ratings-viewer needs a principal: 403.
    if (p.from == "outside" && p.to.rfind("bookinfo/ratings-v", 0) == 0) {
      ++outsider_to_ratings;
      EXPECT_FALSE(p.predicted_allowed);
      EXPECT_EQ(p.observed_status, 403);
    }
    if (p.from == "stolen:bookinfo/reviews-v1" && p.to == "bookinfo/ratings-v1:9080" &&
        p.request == "GET /ratings/") {
      EXPECT_TRUE(p.predicted_allowed);
      EXPECT_EQ(p.basis, "mTLS, bookinfo/ratings-viewer rule 0");
      EXPECT_EQ(p.served_by, "bookinfo/ratings-v1");
      EXPECT_EQ(p.transport, "mTLS");
    }
  }
  // 7 workload ports: productpage, details, reviews x3 get GET /, POST /, DELETE /admin;
  // ratings x2 also the policy's GET and POST /ratings/ (5 shapes).
  EXPECT_EQ(forged, 5u * 3 + 2u * 5);
  EXPECT_EQ(outsider_to_ratings, 2u * 5);
  EXPECT_EQ(v->probes.size(), 6u * (5u * 3 + 2u * 5));
}

TEST_F(VerifyTest, NotTransitiveAttacksOnlyFromTheCompromisedWorkload) {
  start(loadFiles({"scenarios/bookinfo/mesh", "scenarios/bookinfo/changes/tenant-strict.yaml"}));
  VerifyOptions o;
  o.transitive = false;
  o.forged = false;
  auto v = verify("bookinfo/productpage-v1", o);
  ASSERT_TRUE(v.ok()) << v.status().toString();
  EXPECT_EQ(v->attackers, (Strings{"stolen:bookinfo/productpage-v1", "outside"}));
  EXPECT_EQ(v->disagreements, 0u) << disagreements(*v);
  // One hop: ratings-viewer keeps productpage out of ratings.
  const Strings one_hop = {"bookinfo/details-v1", "bookinfo/productpage-v1", "bookinfo/reviews-v1",
                           "bookinfo/reviews-v2", "bookinfo/reviews-v3"};
  EXPECT_EQ(v->predicted_reached, one_hop);
  EXPECT_EQ(v->observed_reached, one_hop);
}

TEST_F(VerifyTest, HopLimitBoundsTheObservedReach) {
  start(loadFiles({"scenarios/bookinfo/mesh", "scenarios/bookinfo/changes/tenant-strict.yaml"}));
  analysis::BlastOptions one;
  one.hops = 1;
  auto v = verify("bookinfo/productpage-v1", {}, one);
  ASSERT_TRUE(v.ok()) << v.status().toString();
  EXPECT_EQ(v->disagreements, 0u) << disagreements(*v);
  const Strings one_hop = {"bookinfo/details-v1", "bookinfo/productpage-v1", "bookinfo/reviews-v1",
                           "bookinfo/reviews-v2", "bookinfo/reviews-v3"};
  EXPECT_EQ(v->predicted_reached, one_hop);
  EXPECT_EQ(v->observed_reached, one_hop);
}

// DISABLE, no sidecar and a TCP port: the stolen certificate speaks plaintext where the server
// does not terminate TLS, and a TCP probe is allowed when its echo comes back.
//
// Mesh STRICT. api-v1 runs DISABLE (workload PeerAuthentication), legacy-v1 has no sidecar,
// db-v1 (TCP 5432) admits only the api identity. Compromising web-v1: api-v1 and legacy-v1 in
// one hop (plaintext, no ALLOW policy / no sidecar), db-v1 in two with api's certificate.
// The outsider reaches api-v1 and legacy-v1 only; STRICT resets it at web and db.
constexpr const char* kMixed = R"(
apiVersion: meshsim/v1
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
metadata: {namespace: app, name: web}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: app, name: api}
spec: {ports: [{name: http, port: 9090}]}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: app, name: db}
spec: {ports: [{name: sql, port: 5432, protocol: TCP}]}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: app, name: legacy}
spec: {ports: [{name: http, port: 80, targetPort: 8000}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: app, name: web-v1}
spec: {service: web, cluster: c1, serviceAccount: web, labels: {app: web}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: app, name: api-v1}
spec: {service: api, cluster: c1, serviceAccount: api, labels: {app: api}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: app, name: db-v1}
spec: {service: db, cluster: c1, serviceAccount: db, labels: {app: db}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: app, name: legacy-v1}
spec: {service: legacy, cluster: c1, serviceAccount: legacy, sidecar: false, labels: {app: legacy}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: app, name: db-from-api}
spec:
  selector: {matchLabels: {app: db}}
  rules: [{from: [{source: {principals: [cluster.local/ns/app/sa/api]}}]}]
)";

TEST_F(VerifyTest, DisableNoSidecarAndTcpPortsAgree) {
  start(loadText(kMixed));
  auto v = verify("app/web-v1");
  ASSERT_TRUE(v.ok()) << v.status().toString();
  EXPECT_EQ(v->disagreements, 0u) << disagreements(*v);
  EXPECT_EQ(v->predicted_reached,
            (Strings{"app/api-v1", "app/db-v1", "app/legacy-v1", "app/web-v1"}));
  EXPECT_EQ(v->observed_reached, v->predicted_reached);
  // legacy-v1 has no sidecar, so no certificate to steal: web's, api's and db's certificates.
  EXPECT_EQ(v->attackers, (Strings{"stolen:app/web-v1", "stolen:app/api-v1", "stolen:app/db-v1",
                                   "outside", "forged:spiffe://cluster.local/ns/app/sa/web"}));
  bool saw_tcp_echo = false, saw_tcp_refused = false, saw_plaintext_to_api = false;
  for (const auto& p : v->probes) {
    if (p.from == "stolen:app/api-v1" && p.to == "app/db-v1:5432") {
      EXPECT_EQ(p.request, "TCP");
      EXPECT_EQ(p.transport, "mTLS");
      EXPECT_TRUE(p.observed_allowed);
      saw_tcp_echo = true;
    }
    if (p.from == "stolen:app/web-v1" && p.to == "app/db-v1:5432") {
      EXPECT_FALSE(p.observed_allowed);
      saw_tcp_refused = true;
    }
    if (p.from == "stolen:app/web-v1" && p.to == "app/api-v1:9090" && p.request == "GET /") {
      EXPECT_EQ(p.transport, "plaintext");
      EXPECT_TRUE(p.observed_allowed);
      saw_plaintext_to_api = true;
    }
    if (p.from == "outside" && (p.to == "app/web-v1:8080" || p.to == "app/db-v1:5432")) {
      EXPECT_EQ(p.basis, "STRICT: a plaintext connection is reset");
      EXPECT_FALSE(p.observed_allowed);
    }
  }
  EXPECT_TRUE(saw_tcp_echo);
  EXPECT_TRUE(saw_tcp_refused);
  EXPECT_TRUE(saw_plaintext_to_api);
}

// Removes graph.edges[index], keeping edge_begin consistent.
analysis::ReachEdge dropEdge(analysis::ReachabilityGraph& g, size_t index) {
  analysis::ReachEdge dropped = g.edges[index];
  g.edges.erase(g.edges.begin() + static_cast<std::ptrdiff_t>(index));
  for (auto& b : g.edge_begin) {
    if (b > index) --b;
  }
  return dropped;
}

TEST_F(VerifyTest, AWrongGraphIsReportedExactlyWhereItIsWrong) {
  start(loadFiles({"scenarios/bookinfo/mesh", "scenarios/bookinfo/changes/tenant-strict.yaml"}));
  // The model "forgets" that details' identity may call productpage.
  analysis::ReachabilityGraph wrong = graph_;
  const size_t details = *wrong.findWorkload("bookinfo", "details-v1");
  const size_t productpage = *wrong.findWorkload("bookinfo", "productpage-v1");
  const size_t identity = wrong.identity_of[details];
  std::optional<size_t> victim;
  for (size_t i = wrong.edge_begin[identity]; i < wrong.edge_begin[identity + 1]; ++i) {
    if (wrong.edges[i].destination == productpage) victim = i;
  }
  ASSERT_TRUE(victim.has_value());
  const analysis::ReachEdge dropped = dropEdge(wrong, *victim);
  EXPECT_EQ(dropped.allowed,
            (std::vector<analysis::Probe>{{"DELETE", "/admin"}, {"GET", "/"}, {"POST", "/"}}));

  auto radius = analysis::blastRadius(wrong, details);
  ASSERT_TRUE(radius.ok());
  auto v = verifyBlastRadius(*runtime_, wrong, *radius);
  ASSERT_TRUE(v.ok()) << v.status().toString();
  // Exactly the three probes of the dropped edge disagree: predicted refused, the app answered.
  Strings got;
  for (const auto& p : v->probes) {
    if (p.agree) continue;
    got.push_back(p.from + " -> " + p.to + " " + p.request);
    EXPECT_FALSE(p.predicted_allowed);
    EXPECT_TRUE(p.observed_allowed);
    EXPECT_EQ(p.served_by, "bookinfo/productpage-v1");
  }
  EXPECT_EQ(v->disagreements, 3u);
  EXPECT_EQ(got,
            (Strings{"stolen:bookinfo/details-v1 -> bookinfo/productpage-v1:9080 DELETE /admin",
                     "stolen:bookinfo/details-v1 -> bookinfo/productpage-v1:9080 GET /",
                     "stolen:bookinfo/details-v1 -> bookinfo/productpage-v1:9080 POST /"}));
  EXPECT_FALSE(v->agree());
}

TEST_F(VerifyTest, ARadiusThatOmitsAWorkloadShowsInTheReachComparison) {
  start(loadFiles({"scenarios/multicloud/mesh"}));
  auto radius = analysis::blastRadius(graph_, "shop", "storefront-v1");
  ASSERT_TRUE(radius.ok());
  ASSERT_EQ(radius->reached.size(), 1u);
  radius->reached.clear();  // the model claims storefront reaches nothing
  auto v = verifyBlastRadius(*runtime_, graph_, *radius);
  ASSERT_TRUE(v.ok()) << v.status().toString();
  EXPECT_EQ(v->predicted_reached, (Strings{"shop/storefront-v1"}));
  EXPECT_EQ(v->observed_reached, (Strings{"shop/catalog-v1", "shop/storefront-v1"}));
  EXPECT_FALSE(v->agree());
}

TEST_F(VerifyTest, RuntimeNotRunningIsFailedPrecondition) {
  auto rt = MeshRuntime::create(loadFiles({"scenarios/bookinfo/mesh"}),
                                std::make_unique<proxy::LoopbackDataPlane>());
  ASSERT_TRUE(rt.ok());
  auto g = analysis::buildReachability((*rt)->plan()->config, reachabilityOptionsFor({}));
  ASSERT_TRUE(g.ok());
  auto radius = analysis::blastRadius(*g, "bookinfo", "details-v1");
  ASSERT_TRUE(radius.ok());
  auto v = verifyBlastRadius(**rt, *g, *radius);
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("not running"), std::string::npos) << v.status().message();
  // Started and stopped again: not running either.
  ASSERT_TRUE((*rt)->start().ok());
  (*rt)->stop();
  EXPECT_EQ(verifyBlastRadius(**rt, *g, *radius).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(VerifyTest, GraphOfAnotherConfigurationIsFailedPrecondition) {
  auto raw = loadFiles({"scenarios/bookinfo/mesh"});
  start(raw);
  // Same files, but translated separately: not the configuration object the sidecars run.
  auto other = analysis::buildReachability(mgmt::withTranslation(*raw), reachabilityOptionsFor({}));
  ASSERT_TRUE(other.ok());
  auto radius = analysis::blastRadius(*other, "bookinfo", "details-v1");
  ASSERT_TRUE(radius.ok());
  auto v = verifyBlastRadius(*runtime_, *other, *radius);
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(v.status().message().find("plan()->config"), std::string::npos) << v.status().message();
  // After a reconfiguration the old graph no longer matches either.
  ASSERT_TRUE(runtime_
                  ->reconfigure(loadFiles(
                      {"scenarios/bookinfo/mesh", "scenarios/bookinfo/changes/tenant-strict.yaml"}))
                  .ok());
  auto stale = analysis::blastRadius(graph_, "bookinfo", "details-v1");
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(verifyBlastRadius(*runtime_, graph_, *stale).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(VerifyTest, RadiusOfAnotherGraphIsInvalidArgument) {
  start(loadFiles({"scenarios/bookinfo/mesh"}));
  auto radius = analysis::blastRadius(graph_, "bookinfo", "details-v1");
  ASSERT_TRUE(radius.ok());
  analysis::BlastRadius out_of_range = *radius;
  out_of_range.compromised = graph_.workloads.size();
  auto v = verifyBlastRadius(*runtime_, graph_, out_of_range);
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("out of range"), std::string::npos) << v.status().message();
  analysis::BlastRadius bad_reached = *radius;
  bad_reached.reached[0].workload = 1000;
  EXPECT_EQ(verifyBlastRadius(*runtime_, graph_, bad_reached).status().code(),
            StatusCode::kInvalidArgument);
  analysis::BlastRadius bad_edge = *radius;
  bad_edge.reached[0].path[0].edge = graph_.edges.size();
  EXPECT_EQ(verifyBlastRadius(*runtime_, graph_, bad_edge).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(VerifyTest, GraphWithoutTheExtraProbesIsInvalidArgument) {
  start(loadFiles({"scenarios/bookinfo/mesh"}));
  auto plain = analysis::buildReachability(runtime_->plan()->config);  // no extra probes
  ASSERT_TRUE(plain.ok());
  auto radius = analysis::blastRadius(*plain, "bookinfo", "details-v1");
  ASSERT_TRUE(radius.ok());
  auto v = verifyBlastRadius(*runtime_, *plain, *radius);
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("DELETE /admin"), std::string::npos) << v.status().message();
  // Without extra probes the same graph is verifiable.
  VerifyOptions none;
  none.extra_probes.clear();
  auto ok = verifyBlastRadius(*runtime_, *plain, *radius, none);
  ASSERT_TRUE(ok.ok()) << ok.status().toString();
  EXPECT_EQ(ok->disagreements, 0u) << disagreements(*ok);
}

TEST(ReachabilityExtraProbes, MalformedExtraProbeIsInvalidArgument) {
  auto snap = loadFiles({"scenarios/bookinfo/mesh"});
  for (const analysis::Probe& bad : std::vector<analysis::Probe>{
           {"get", "/"}, {"GET", "relative"}, {"GET", "/a/../b"}, {"GET", "/q?x=1"}, {"", ""}}) {
    analysis::ReachabilityOptions o;
    o.extra_probes = {bad};
    auto g = analysis::buildReachability(snap, o);
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << analysis::probeText(bad);
  }
}

TEST_F(VerifyTest, ProbeEndpointDialsTheChosenWorkload) {
  start(loadFiles({"scenarios/bookinfo/mesh"}));
  analysis::CheckRequest r;
  r.from.kind = analysis::CheckSource::Kind::kOutside;
  r.to_namespace = "bookinfo";
  r.to_service = "reviews";
  for (const std::string w :
       {"bookinfo/reviews-v1", "bookinfo/reviews-v2", "bookinfo/reviews-v3"}) {
    auto res = runtime_->probeEndpoint(r, w);
    ASSERT_TRUE(res.ok()) << res.status().toString();
    EXPECT_EQ(res->served_by, w);
  }
  // Errors: a workload source, unknown workloads, a workload of another Service.
  analysis::CheckRequest own = r;
  own.from = {analysis::CheckSource::Kind::kWorkload, "bookinfo", "productpage-v1", ""};
  EXPECT_EQ(runtime_->probeEndpoint(own, "bookinfo/reviews-v1").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime_->probeEndpoint(r, "bookinfo/nope").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime_->probeEndpoint(r, "no-slash").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(runtime_->probeEndpoint(r, "bookinfo/ratings-v1").status().code(),
            StatusCode::kInvalidArgument);
  runtime_->stop();
  EXPECT_FALSE(runtime_->running());
  EXPECT_EQ(runtime_->probeEndpoint(r, "bookinfo/reviews-v1").status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace meshsim
