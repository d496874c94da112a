// The topology: which workload sits in which box, which calls reach which workloads with which
// share, and how each hop is decided (shared/reference/istio-semantics.md sections 2, 4, 6, 7).
#include "meshsim/analysis/topology.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/mgmt/translate.h"
#include "support/paths.h"

namespace meshsim::analysis {
namespace {

// ---------------------------------------------------------------- helpers

std::shared_ptr<const config::Snapshot> loadFiles(const std::vector<std::string>& paths) {
  auto loaded = config::loadConfiguration(paths);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  // As `meshsim check` and `meshsim topology` do: decide on the translated (Istio-level) view.
  return mgmt::withTranslation(*config::makeSnapshot(loaded.resources));
}

std::shared_ptr<const config::Snapshot> loadYaml(const std::string& text) {
  auto loaded = config::loadString(text, "mesh.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return mgmt::withTranslation(*config::makeSnapshot(loaded.resources));
}

Topology build(std::shared_ptr<const config::Snapshot> snap, TopologyOptions options = {}) {
  auto topo = buildTopology(std::move(snap), options);
  EXPECT_TRUE(topo.ok()) << topo.status().toString();
  return topo.ok() ? *topo : Topology{};
}

const TopologyEdge* findEdge(const Topology& t, const std::string& from, const std::string& to) {
  for (const auto& e : t.edges) {
    if (e.from == from && e.to == to) return &e;
  }
  return nullptr;
}

const TopologyNode* findNode(const Topology& t, const std::string& id) {
  for (const auto& n : t.nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

std::vector<std::string> groupIds(const Topology& t) {
  std::vector<std::string> out;
  for (const auto& g : t.groups) out.push_back(g.id);
  return out;
}

std::vector<std::string> edgePairs(const Topology& t) {
  std::vector<std::string> out;
  for (const auto& e : t.edges) out.push_back(edgeKey(e.from, e.to));
  return out;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

std::shared_ptr<const config::Snapshot> bookinfo(bool canary = false) {
  std::vector<std::string> paths = {testing::sourceRoot("scenarios/bookinfo/mesh")};
  if (canary) paths.push_back(testing::sourceRoot("scenarios/bookinfo/changes/ratings-canary.yaml"));
  return loadFiles(paths);
}

constexpr const char* kGke = "cluster/gke-us-east/tenant/retail/workspace/bookinfo/ns/bookinfo";
constexpr const char* kEks = "cluster/eks-eu-west/tenant/retail/workspace/bookinfo/ns/bookinfo";

// ---------------------------------------------------------------- bookinfo

TEST(TopologyBookinfo, NestsClusterTenantWorkspaceNamespace) {
  Topology t = build(bookinfo());
  EXPECT_EQ(t.organization, "acme");
  EXPECT_EQ(groupIds(t), (std::vector<std::string>{
                             "cluster/eks-eu-west",
                             "cluster/eks-eu-west/tenant/retail",
                             "cluster/eks-eu-west/tenant/retail/workspace/bookinfo",
                             kEks,
                             "cluster/gke-us-east",
                             "cluster/gke-us-east/tenant/retail",
                             "cluster/gke-us-east/tenant/retail/workspace/bookinfo",
                             kGke,
                         }));
  // The bookinfo namespace exists in both clusters and appears once per cluster.
  for (const char* id : {"bookinfo/productpage-v1", "bookinfo/details-v1", "bookinfo/reviews-v1",
                         "bookinfo/reviews-v2", "bookinfo/ratings-v1", "bookinfo/ratings-v2"}) {
    const TopologyNode* n = findNode(t, id);
    ASSERT_NE(n, nullptr) << id;
    EXPECT_EQ(n->group, kGke) << id;
  }
  const TopologyNode* v3 = findNode(t, "bookinfo/reviews-v3");
  ASSERT_NE(v3, nullptr);
  EXPECT_EQ(v3->group, kEks);
  EXPECT_EQ(v3->cluster, "eks-eu-west");
  EXPECT_EQ(v3->version, "v3");
  EXPECT_EQ(v3->service, "reviews");
  EXPECT_TRUE(v3->sidecar);
  EXPECT_EQ(findNode(t, "bookinfo/ratings-v1")->replicas, 2u);
  EXPECT_EQ(t.nodes.size(), 7u);  // no outside node unless asked
  EXPECT_EQ(findNode(t, "outside"), nullptr);
}

TEST(TopologyBookinfo, EdgesFollowTheCallsAndTheRouting) {
  Topology t = build(bookinfo());
  EXPECT_EQ(edgePairs(t), (std::vector<std::string>{
                              "bookinfo/productpage-v1 -> bookinfo/details-v1",
                              "bookinfo/productpage-v1 -> bookinfo/reviews-v1",
                              "bookinfo/productpage-v1 -> bookinfo/reviews-v2",
                              "bookinfo/productpage-v1 -> bookinfo/reviews-v3",
                              "bookinfo/reviews-v1 -> bookinfo/ratings-v1",
                              "bookinfo/reviews-v1 -> bookinfo/ratings-v2",
                              "bookinfo/reviews-v2 -> bookinfo/ratings-v1",
                              "bookinfo/reviews-v2 -> bookinfo/ratings-v2",
                              "bookinfo/reviews-v3 -> bookinfo/ratings-v1",
                              "bookinfo/reviews-v3 -> bookinfo/ratings-v2",
                          }));
  const TopologyEdge* details = findEdge(t, "bookinfo/productpage-v1", "bookinfo/details-v1");
  ASSERT_NE(details, nullptr);
  EXPECT_DOUBLE_EQ(details->share, 1.0);
  EXPECT_TRUE(details->allowed);
  EXPECT_EQ(details->status, 200);
  EXPECT_TRUE(details->mtls);  // auto mTLS between sidecars (section 2)
  EXPECT_EQ(details->service, "bookinfo/details");
  EXPECT_EQ(details->method, "GET");
  EXPECT_EQ(details->path, "/details/0");
  EXPECT_EQ(details->port, 9080u);
  EXPECT_EQ(details->call_index, 0);
  EXPECT_EQ(details->virtual_service, "");
  // Without a VirtualService the three reviews workloads (one replica each) share equally.
  for (const char* v : {"bookinfo/reviews-v1", "bookinfo/reviews-v2", "bookinfo/reviews-v3"}) {
    const TopologyEdge* e = findEdge(t, "bookinfo/productpage-v1", v);
    ASSERT_NE(e, nullptr) << v;
    EXPECT_NEAR(e->share, 1.0 / 3, 1e-9) << v;
    EXPECT_TRUE(e->allowed) << v;
    EXPECT_TRUE(e->mtls) << v;
    EXPECT_EQ(e->call_index, 1) << v;
  }
  // ratings-v1 has 2 of the 3 replicas; ratings-viewer allows the reviews service account.
  const TopologyEdge* r1 = findEdge(t, "bookinfo/reviews-v3", "bookinfo/ratings-v1");
  const TopologyEdge* r2 = findEdge(t, "bookinfo/reviews-v3", "bookinfo/ratings-v2");
  ASSERT_NE(r1, nullptr);
  ASSERT_NE(r2, nullptr);
  EXPECT_NEAR(r1->share, 2.0 / 3, 1e-9);
  EXPECT_NEAR(r2->share, 1.0 / 3, 1e-9);
  EXPECT_TRUE(r1->allowed);
  EXPECT_EQ(r1->policy, "bookinfo/ratings-viewer");
  EXPECT_EQ(r1->rule, 0);
  EXPECT_TRUE(r2->allowed);
  EXPECT_EQ(r2->policy, "bookinfo/ratings-viewer");
}

TEST(TopologyBookinfo, CanaryServiceRouteSendsTenPercentToRatingsV2) {
  Topology t = build(bookinfo(/*canary=*/true));
  for (const char* from : {"bookinfo/reviews-v1", "bookinfo/reviews-v2", "bookinfo/reviews-v3"}) {
    const TopologyEdge* v1 = findEdge(t, from, "bookinfo/ratings-v1");
    const TopologyEdge* v2 = findEdge(t, from, "bookinfo/ratings-v2");
    ASSERT_NE(v1, nullptr) << from;
    ASSERT_NE(v2, nullptr) << from;
    EXPECT_DOUBLE_EQ(v1->share, 0.9) << from;
    EXPECT_DOUBLE_EQ(v2->share, 0.1) << from;
    EXPECT_EQ(v1->virtual_service, "bookinfo/ratings-canary");
    EXPECT_EQ(v1->subset, "v1");
    EXPECT_EQ(v2->subset, "v2");
    EXPECT_TRUE(v2->allowed);
    EXPECT_TRUE(v2->mtls);
  }
  // Other calls are unchanged.
  EXPECT_NEAR(findEdge(t, "bookinfo/productpage-v1", "bookinfo/reviews-v2")->share, 1.0 / 3, 1e-9);
}

TEST(TopologyBookinfo, OutsideEntersAtProductpage) {
  TopologyOptions options;
  options.include_outside = true;
  Topology t = build(bookinfo(), options);
  const TopologyNode* outside = findNode(t, "outside");
  ASSERT_NE(outside, nullptr);
  EXPECT_EQ(outside->kind, TopologyNode::Kind::kOutside);
  EXPECT_EQ(outside->group, "");
  // productpage is the only Service that no Service calls.
  std::vector<const TopologyEdge*> from_outside;
  for (const auto& e : t.edges) {
    if (e.from == "outside") from_outside.push_back(&e);
  }
  ASSERT_EQ(from_outside.size(), 1u);
  EXPECT_EQ(from_outside[0]->to, "bookinfo/productpage-v1");
  EXPECT_EQ(from_outside[0]->call_index, -1);
  EXPECT_TRUE(from_outside[0]->allowed);   // PERMISSIVE accepts plaintext
  EXPECT_FALSE(from_outside[0]->mtls);     // a plain client has no certificate
}

TEST(TopologyBookinfo, TenantStrictResetsTheOutsideClient) {
  TopologyOptions options;
  options.entry_services = {"bookinfo/productpage"};
  options.include_outside = true;
  Topology t = build(loadFiles({testing::sourceRoot("scenarios/bookinfo/mesh"),
                                testing::sourceRoot("scenarios/bookinfo/changes/tenant-strict.yaml")}),
                     options);
  const TopologyEdge* e = findEdge(t, "outside", "bookinfo/productpage-v1");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->allowed);
  EXPECT_EQ(e->status, 0);  // connection reset under STRICT
  EXPECT_EQ(e->stage, "peer_authn");
  EXPECT_EQ(e->policy, "bookinfo/meshsim-security");
  // Mesh-internal hops still work, with mTLS.
  EXPECT_TRUE(findEdge(t, "bookinfo/productpage-v1", "bookinfo/details-v1")->allowed);
  EXPECT_TRUE(findEdge(t, "bookinfo/productpage-v1", "bookinfo/details-v1")->mtls);
}

TEST(TopologyBookinfo, DotHasBoxesPadlocksAndIsDeterministic) {
  Topology t = build(bookinfo());
  std::string dot = toDot(t);
  EXPECT_EQ(dot, toDot(build(bookinfo())));
  EXPECT_EQ(dot.rfind("digraph mesh {", 0), 0u);
  EXPECT_NE(dot.find("rankdir=LR"), std::string::npos);
  EXPECT_NE(dot.find("label=\"organization acme\""), std::string::npos);
  EXPECT_EQ(count(dot, "label=\"cluster gke-us-east\""), 1u);
  EXPECT_EQ(count(dot, "label=\"cluster eks-eu-west\""), 1u);
  EXPECT_EQ(count(dot, "label=\"tenant retail\""), 2u);
  EXPECT_EQ(count(dot, "label=\"workspace bookinfo\""), 2u);
  EXPECT_EQ(count(dot, "label=\"ns bookinfo\""), 2u);
  EXPECT_EQ(count(dot, "subgraph cluster_"), 8u);
  EXPECT_NE(dot.find("<b>productpage-v1</b>"), std::string::npos);
  EXPECT_NE(dot.find("v1 · 2 replicas · sidecar"), std::string::npos);
  // Every edge is mTLS: ten padlocks, labelled with the split.
  EXPECT_EQ(count(dot, "\U0001F512"), 10u);
  EXPECT_NE(dot.find("label=\"\U0001F512 100%\""), std::string::npos);
  EXPECT_NE(dot.find("label=\"\U0001F512 33.3%\""), std::string::npos);
  EXPECT_NE(dot.find("label=\"\U0001F512 66.7%\""), std::string::npos);
  EXPECT_EQ(dot.find("color=red"), std::string::npos);
}

TEST(TopologyBookinfo, JsonCarriesEveryField) {
  TopologyOptions options;
  options.include_outside = true;
  auto doc = nlohmann::json::parse(toJson(build(bookinfo(true), options)));
  EXPECT_EQ(doc["organization"], "acme");
  EXPECT_EQ(doc["groups"].size(), 8u);
  EXPECT_EQ(doc["nodes"].size(), 8u);
  EXPECT_EQ(doc["groups"][0]["kind"], "cluster");
  EXPECT_EQ(doc["groups"][3]["kind"], "namespace");
  EXPECT_EQ(doc["groups"][3]["parent"], "cluster/eks-eu-west/tenant/retail/workspace/bookinfo");
  const auto& edge = doc["edges"][0];
  for (const char* field : {"from", "to", "service", "method", "path", "port", "callIndex", "share",
                            "virtualService", "subset", "allowed", "mtls", "status", "stage", "policy",
                            "rule", "reason", "responseFlags", "traffic"}) {
    EXPECT_TRUE(edge.contains(field)) << field;
  }
  EXPECT_TRUE(edge["traffic"].is_null());
  for (const char* field : {"id", "kind", "name", "namespace", "cluster", "service", "version",
                            "serviceAccount", "replicas", "sidecar", "group"}) {
    EXPECT_TRUE(doc["nodes"][0].contains(field)) << field;
  }
  bool canary = false;
  for (const auto& e : doc["edges"]) {
    if (e["from"] == "bookinfo/reviews-v1" && e["to"] == "bookinfo/ratings-v2") {
      canary = true;
      EXPECT_DOUBLE_EQ(e["share"].get<double>(), 0.1);
      EXPECT_EQ(e["status"], 200);
      EXPECT_EQ(e["virtualService"], "bookinfo/ratings-canary");
    }
  }
  EXPECT_TRUE(canary);
}

// ---------------------------------------------------------------- small meshes

// web (c1, placed in workspace w1) calls api; api-v1 runs in c1, api-v2 (3 replicas) in c2 where
// the workspace does not claim the namespace; misc/tool is a pure client without sidecar.
constexpr const char* kMesh = R"(
apiVersion: meshsim/v1
kind: Organization
metadata: {name: acme}
---
apiVersion: meshsim/v1
kind: Cluster
metadata: {name: c1}
---
apiVersion: meshsim/v1
kind: Cluster
metadata: {name: c2}
---
apiVersion: meshsim/v1
kind: Tenant
metadata: {name: t1}
---
apiVersion: meshsim/v1
kind: Workspace
metadata: {tenant: t1, name: w1}
spec: {namespaceSelector: {names: ["c1/shop"]}}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: web}
spec:
  ports: [{name: http, port: 8080}]
  behaviour: {calls: [{service: api, path: /items, method: POST}]}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: api}
spec: {ports: [{name: http, port: 8000, targetPort: 80}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: web-v1}
spec: {service: web, cluster: c1, serviceAccount: web, labels: {app: web, version: v1}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: api-v1}
spec: {service: api, cluster: c1, serviceAccount: api, labels: {app: api, version: v1}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: api-v2}
spec: {service: api, cluster: c2, serviceAccount: api, replicas: 3, labels: {app: api, version: v2}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: misc, name: tool}
spec: {cluster: c1, sidecar: false, labels: {app: tool}}
)";

std::string mesh(const std::vector<std::string>& extra) {
  std::string text = kMesh;
  for (const auto& e : extra) text += "---\n" + e;
  return text;
}

TEST(TopologyMesh, UnplacedNamespacesSitDirectlyUnderTheirCluster) {
  Topology t = build(loadYaml(kMesh));
  EXPECT_EQ(groupIds(t), (std::vector<std::string>{
                             "cluster/c1",
                             "cluster/c1/ns/misc",
                             "cluster/c1/tenant/t1",
                             "cluster/c1/tenant/t1/workspace/w1",
                             "cluster/c1/tenant/t1/workspace/w1/ns/shop",
                             "cluster/c2",
                             "cluster/c2/ns/shop",
                         }));
  EXPECT_EQ(findNode(t, "shop/web-v1")->group, "cluster/c1/tenant/t1/workspace/w1/ns/shop");
  EXPECT_EQ(findNode(t, "shop/api-v1")->group, "cluster/c1/tenant/t1/workspace/w1/ns/shop");
  EXPECT_EQ(findNode(t, "shop/api-v2")->group, "cluster/c2/ns/shop");
  EXPECT_EQ(findNode(t, "misc/tool")->group, "cluster/c1/ns/misc");
  EXPECT_FALSE(findNode(t, "misc/tool")->sidecar);
  for (const auto& g : t.groups) {
    if (g.id == "cluster/c2/ns/shop") {
      EXPECT_EQ(g.kind, TopologyGroup::Kind::kNamespace);
      EXPECT_EQ(g.parent, "cluster/c2");
      EXPECT_EQ(g.name, "shop");
    }
  }
}

TEST(TopologyMesh, SharesFollowReplicasAcrossClusters) {
  Topology t = build(loadYaml(kMesh));
  ASSERT_EQ(t.edges.size(), 2u);
  const TopologyEdge* v1 = findEdge(t, "shop/web-v1", "shop/api-v1");
  const TopologyEdge* v2 = findEdge(t, "shop/web-v1", "shop/api-v2");
  ASSERT_NE(v1, nullptr);
  ASSERT_NE(v2, nullptr);
  EXPECT_DOUBLE_EQ(v1->share, 0.25);
  EXPECT_DOUBLE_EQ(v2->share, 0.75);
  EXPECT_EQ(v2->method, "POST");
  EXPECT_EQ(v2->path, "/items");
  EXPECT_EQ(v2->port, 8000u);
}

struct HopCase {
  std::string name;
  std::vector<std::string> extra;
  std::string to;
  bool allowed;
  int status;
  std::string stage;
  std::string policy;
  bool mtls;
};

std::ostream& operator<<(std::ostream& os, const HopCase& c) { return os << c.name; }

class TopologyHop : public ::testing::TestWithParam<HopCase> {};

TEST_P(TopologyHop, EdgeCarriesTheDecision) {
  const HopCase& c = GetParam();
  Topology t = build(loadYaml(mesh(c.extra)));
  const TopologyEdge* e = findEdge(t, "shop/web-v1", c.to);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->allowed, c.allowed) << e->reason;
  EXPECT_EQ(e->status, c.status) << e->reason;
  EXPECT_EQ(e->stage, c.stage) << e->reason;
  EXPECT_EQ(e->policy, c.policy);
  EXPECT_EQ(e->mtls, c.mtls);
}

constexpr const char* kStrict = R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: istio-system, name: default}
spec: {mtls: {mode: STRICT}}
)";
constexpr const char* kDisable = R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: shop, name: plain}
spec: {mtls: {mode: DISABLE}}
)";
constexpr const char* kDrDisable = R"(
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {namespace: shop, name: api-plain}
spec: {host: api, trafficPolicy: {tls: {mode: DISABLE}}}
)";
// Denies web on the v2 workload only: the edge to api-v1 stays allowed.
constexpr const char* kDenyWebOnV2 = R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: shop, name: no-web-on-v2}
spec:
  selector: {matchLabels: {app: api, version: v2}}
  action: DENY
  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]}]
)";

INSTANTIATE_TEST_SUITE_P(
    Decisions, TopologyHop,
    ::testing::Values(
        HopCase{"PermissiveSidecarsUseMtls", {}, "shop/api-v1", true, 200, "none", "", true},
        HopCase{"StrictSidecarsUseMtls", {kStrict}, "shop/api-v2", true, 200, "none", "", true},
        HopCase{"DisabledServerGetsPlaintext", {kDisable}, "shop/api-v2", true, 200, "none", "", false},
        HopCase{"DestinationRuleDisableAgainstStrictIs503", {kStrict, kDrDisable}, "shop/api-v1", false,
                503, "transport", "shop/api-plain", false},
        HopCase{"DenyOnV2RefusesTheV2Edge", {kDenyWebOnV2}, "shop/api-v2", false, 403, "authz",
                "shop/no-web-on-v2", true},
        HopCase{"DenyOnV2LeavesTheV1EdgeAllowed", {kDenyWebOnV2}, "shop/api-v1", true, 200, "none", "",
                true}),
    [](const ::testing::TestParamInfo<HopCase>& p) { return p.param.name; });

TEST(TopologyMesh, RefusedEdgeIsRedWithThePolicyInTheTooltip) {
  Topology t = build(loadYaml(mesh({kDenyWebOnV2})));
  const TopologyEdge* e = findEdge(t, "shop/web-v1", "shop/api-v2");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->rule, 0);
  EXPECT_EQ(e->reason.empty(), false);
  std::string dot = toDot(t);
  auto pos = dot.find("label=\"✗ 403 shop/no-web-on-v2\\n75%\"");
  ASSERT_NE(pos, std::string::npos) << dot;
  auto line_end = dot.find('\n', pos);
  std::string line = dot.substr(pos, line_end - pos);
  EXPECT_NE(line.find("color=red, fontcolor=red, style=dashed"), std::string::npos) << line;
  EXPECT_NE(line.find("refused 403 at authz by shop/no-web-on-v2 rule 0"), std::string::npos) << line;
  EXPECT_EQ(count(dot, "fontcolor=red"), 1u);  // only the refused edge
}

TEST(TopologyMesh, CallToAServiceWithoutWorkloadsEndsAtTheService) {
  Topology t = build(loadYaml(mesh({R"(
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: cache}
spec:
  ports: [{name: http, port: 6379}]
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: cron}
spec:
  ports: [{name: http, port: 8080}]
  behaviour: {calls: [{service: cache}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: cron-v1}
spec: {service: cron, cluster: c1, serviceAccount: cron}
)"})));
  const TopologyNode* cache = findNode(t, "service:shop/cache");
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->kind, TopologyNode::Kind::kService);
  const TopologyEdge* e = findEdge(t, "shop/cron-v1", "service:shop/cache");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->allowed);
  EXPECT_EQ(e->status, 503);  // no healthy upstream (section 7)
  EXPECT_EQ(e->stage, "route");
  EXPECT_EQ(e->response_flags, "UH");
  EXPECT_DOUBLE_EQ(e->share, 1.0);
}

TEST(TopologyMesh, OutsideWithoutSidecarReachesAllReplicas) {
  TopologyOptions options;
  options.include_outside = true;
  options.entry_services = {"shop/api"};
  Topology t = build(loadYaml(mesh({kStrict})), options);
  const TopologyEdge* v1 = findEdge(t, "outside", "shop/api-v1");
  const TopologyEdge* v2 = findEdge(t, "outside", "shop/api-v2");
  ASSERT_NE(v1, nullptr);
  ASSERT_NE(v2, nullptr);
  EXPECT_DOUBLE_EQ(v1->share, 0.25);
  EXPECT_DOUBLE_EQ(v2->share, 0.75);
  EXPECT_FALSE(v2->allowed);
  EXPECT_EQ(v2->status, 0);
  EXPECT_EQ(v2->stage, "peer_authn");
  EXPECT_FALSE(v2->mtls);
}

TEST(TopologyMesh, OverlayAnnotatesEdgesAndReportsStrangers) {
  TopologyOptions options;
  options.overlay = TopologyOverlay{};
  options.overlay->edges["shop/web-v1 -> shop/api-v2"] = EdgeTraffic{12.5, 250, 3, 4.5};
  options.overlay->edges["shop/api-v1 -> shop/web-v1"] = EdgeTraffic{1, 1, 0, 1};
  Topology t = build(loadYaml(kMesh), options);
  const TopologyEdge* v2 = findEdge(t, "shop/web-v1", "shop/api-v2");
  ASSERT_TRUE(v2->traffic.has_value());
  EXPECT_DOUBLE_EQ(v2->traffic->rps, 12.5);
  EXPECT_EQ(v2->traffic->requests, 250u);
  EXPECT_EQ(v2->traffic->errors, 3u);
  EXPECT_FALSE(findEdge(t, "shop/web-v1", "shop/api-v1")->traffic.has_value());
  EXPECT_EQ(t.notes, (std::vector<std::string>{"shop/api-v1 -> shop/web-v1: not an edge of the topology"}));
  std::string dot = toDot(t);
  EXPECT_NE(dot.find("label=\"\U0001F512 75% · 12.5 rps\\np50 4.5 ms · 3 err\""), std::string::npos) << dot;
  auto doc = nlohmann::json::parse(toJson(t));
  bool seen = false;
  for (const auto& e : doc["edges"]) {
    if (e["to"] == "shop/api-v2") {
      seen = true;
      EXPECT_DOUBLE_EQ(e["traffic"]["rps"].get<double>(), 12.5);
      EXPECT_EQ(e["traffic"]["errors"], 3);
      EXPECT_DOUBLE_EQ(e["traffic"]["p50Ms"].get<double>(), 4.5);
    }
  }
  EXPECT_TRUE(seen);
  // A new overlay replaces the figures.
  applyOverlay(t, TopologyOverlay{});
  EXPECT_FALSE(findEdge(t, "shop/web-v1", "shop/api-v2")->traffic.has_value());
}

// ---------------------------------------------------------------- error paths

TEST(TopologyErrors, UnknownServicePortNamesTheCall) {
  auto snap = loadYaml(mesh({R"(
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: batch}
spec:
  ports: [{name: http, port: 8080}]
  behaviour: {calls: [{service: api, port: 9999}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: batch-v1}
spec: {service: batch, cluster: c1, serviceAccount: batch}
)"}));
  auto t = buildTopology(snap, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("Service shop/batch spec.behaviour.calls[0] from shop/batch-v1"),
            std::string::npos)
      << t.status().message();
  EXPECT_NE(t.status().message().find("9999"), std::string::npos) << t.status().message();
}

TEST(TopologyErrors, MalformedEntryServiceIsRefused) {
  TopologyOptions options;
  options.include_outside = true;
  options.entry_services = {"api"};
  auto t = buildTopology(loadYaml(kMesh), options);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("\"api\" is not NS/SERVICE"), std::string::npos);
}

TEST(TopologyErrors, UnknownEntryServiceIsRefused) {
  TopologyOptions options;
  options.include_outside = true;
  options.entry_services = {"shop/nope"};
  auto t = buildTopology(loadYaml(kMesh), options);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("shop/nope"), std::string::npos);
}

TEST(TopologyErrors, NullSnapshotIsRefused) {
  auto t = buildTopology(nullptr, {});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- DOT escaping

TEST(TopologyDot, HostileStringsAreEscaped) {
  Topology t;
  t.organization = "acme\" ]; evil [";
  t.groups.push_back({TopologyGroup::Kind::kCluster, "cluster/c\"1", "c\"1\\N", ""});
  TopologyNode a;
  a.id = "ns/a\"b";
  a.name = "a\"b<i>&'x']\\";
  a.namespace_ = "ns";
  a.version = "v<1>";
  a.replicas = 1;
  a.sidecar = true;
  a.group = "cluster/c\"1";
  TopologyNode b = a;
  b.id = "ns/b";
  b.name = "b";
  t.nodes = {a, b};
  TopologyEdge e;
  e.from = a.id;
  e.to = b.id;
  e.service = "ns/b";
  e.method = "GET";
  e.path = "/x\"y\\z\nw";
  e.share = 1;
  e.allowed = false;
  e.status = 403;
  e.stage = "authz";
  e.policy = "ns/p\"ol\\";
  e.reason = "line1\nline2\ttab";
  t.edges = {e};
  std::string dot = toDot(t);
  // Quoted strings: quotes and backslashes escaped, line breaks as \n, control characters gone.
  EXPECT_NE(dot.find("label=\"organization acme\\\" ]; evil [\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"cluster c\\\"1\\\\N\";"), std::string::npos) << dot;
  EXPECT_NE(dot.find("tooltip=\"ns/a\\\"b\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"✗ 403 ns/p\\\"ol\\\\\\n100%\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("/x\\\"y\\\\z\\nw"), std::string::npos) << dot;
  EXPECT_NE(dot.find(": line1\\nline2 tab\""), std::string::npos) << dot;
  // HTML-like label: markup characters become entities.
  EXPECT_NE(dot.find("<b>a&quot;b&lt;i&gt;&amp;&#39;x&#39;&#93;\\</b>"), std::string::npos) << dot;
  EXPECT_NE(dot.find("v&lt;1&gt; · 1 replica · sidecar"), std::string::npos) << dot;
  // Node statements use generated names; no user text appears outside quotes or labels.
  EXPECT_NE(dot.find("  n0 -> n1 ["), std::string::npos) << dot;
  EXPECT_EQ(dot.find('\t'), std::string::npos);
  // Every double-quoted string is closed on its line: an even number of unescaped quotes.
  size_t pos = 0;
  while (pos < dot.size()) {
    size_t end = dot.find('\n', pos);
    std::string line = dot.substr(pos, end - pos);
    int quotes = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\') {
        ++i;
        continue;
      }
      if (line[i] == '"') ++quotes;
    }
    EXPECT_EQ(quotes % 2, 0) << line;
    pos = end + 1;
  }
}

TEST(TopologyDot, EdgesToUnknownNodesAreLeftOut) {
  Topology t;
  TopologyNode a;
  a.id = "ns/a";
  a.name = "a";
  t.nodes = {a};
  TopologyEdge e;
  e.from = "ns/a";
  e.to = "ns/missing";
  t.edges = {e};
  std::string dot = toDot(t);
  EXPECT_EQ(dot.find("->"), std::string::npos) << dot;
  EXPECT_NE(dot.find("  n0;"), std::string::npos) << dot;  // a node outside any group: top level
}

}  // namespace
}  // namespace meshsim::analysis
