// Reachability between identities (analysis/reachability.h). Expected edges are written by hand
// from shared/reference/istio-semantics.md: section 2 (PeerAuthentication: STRICT refuses
// plaintext, PERMISSIVE accepts both, DISABLE reads TLS as HTTP) and section 4 (authorization:
// DENY before ALLOW, no ALLOW policy = allowed, ALLOW policies present = only matches allowed,
// requestPrincipals need a validated JWT).
#include "meshsim/analysis/reachability.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"

namespace meshsim::analysis {
namespace {

std::shared_ptr<const config::Snapshot> load(const std::string& text) {
  auto loaded = config::loadString(text, "mesh.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return config::makeSnapshot(loaded.resources);
}

// A Service "name" (port 80 -> 8080, HTTP unless `tcp`) with one workload "<name>-v1" running
// as service account "name" and labelled app=<name>.
std::string serviceAndWorkload(const std::string& ns, const std::string& name, bool sidecar = true,
                               bool tcp = false) {
  return "apiVersion: meshsim/v1\nkind: Service\nmetadata: {namespace: " + ns + ", name: " + name +
         "}\nspec: {ports: [{name: p, port: 80, targetPort: 8080" + (tcp ? ", protocol: TCP" : "") +
         "}]}\n---\napiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: " + ns + ", name: " + name +
         "-v1}\nspec: {service: " + name + ", cluster: c1, serviceAccount: " + name + ", labels: {app: " + name +
         "}" + (sidecar ? "" : ", sidecar: false") + "}\n---\n";
}

constexpr const char* kCluster = "apiVersion: meshsim/v1\nkind: Cluster\nmetadata: {name: c1}\n---\n";
constexpr const char* kStrict =
    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {namespace: istio-system, name: "
    "default}\nspec: {mtls: {mode: STRICT}}\n---\n";

// Edges of identity "ns/sa" (by destination workload key), excluding the network source.
std::vector<std::string> destinationsOf(const ReachabilityGraph& g, const std::string& ns, const std::string& sa) {
  std::vector<std::string> out;
  for (size_t i = 0; i < g.identities.size(); ++i) {
    if (g.identities[i].namespace_ != ns || g.identities[i].service_account != sa) continue;
    for (const auto& e : g.edgesFrom(i)) out.push_back(g.workloadKey(e.destination));
  }
  return out;
}

const ReachEdge* edge(const ReachabilityGraph& g, const std::string& ns, const std::string& sa,
                      const std::string& to) {
  for (size_t i = 0; i < g.identities.size(); ++i) {
    if (g.identities[i].namespace_ != ns || g.identities[i].service_account != sa) continue;
    for (const auto& e : g.edgesFrom(i)) {
      if (g.workloadKey(e.destination) == to) return &e;
    }
  }
  return nullptr;
}

using Strings = std::vector<std::string>;

TEST(Reachability, NoPolicyStrictMeshEveryIdentityReachesEveryWorkloadOverMtls) {
  auto snap = load(std::string(kCluster) + kStrict + serviceAndWorkload("s", "a") + serviceAndWorkload("s", "b"));
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  EXPECT_EQ(g->identities.size(), 2u);
  EXPECT_EQ(destinationsOf(*g, "s", "a"), (Strings{"s/a-v1", "s/b-v1"}));
  const ReachEdge* e = edge(*g, "s", "a", "s/b-v1");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->mtls);
  EXPECT_EQ(e->basis, "no ALLOW policy");
  EXPECT_EQ(e->policy, "");
  EXPECT_EQ(e->service, "s/b");
  EXPECT_EQ(e->port, 80u);
  EXPECT_EQ(e->target_port, 8080u);
  EXPECT_EQ(e->allowed, (std::vector<Probe>{{"GET", "/"}, {"POST", "/"}}));
  EXPECT_FALSE(e->needs_token);
  // STRICT everywhere: nothing is open to plaintext.
  EXPECT_TRUE(g->exposures.empty());
  EXPECT_TRUE(g->edgesFrom(kNetworkSource).empty());
}

TEST(Reachability, ProbesComeFromTheRulesAndOnlyAllowedOnesAreRecorded) {
  auto snap = load(std::string(kCluster) + kStrict + serviceAndWorkload("s", "reviews") +
                   serviceAndWorkload("s", "ratings") + serviceAndWorkload("s", "web") + R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: ratings-viewer}
spec:
  selector: {matchLabels: {app: ratings}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/s/sa/reviews]}}]
    to: [{operation: {methods: [GET], paths: ["/ratings/*"]}}]
)");
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  const ReachEdge* e = edge(*g, "s", "reviews", "s/ratings-v1");
  ASSERT_NE(e, nullptr);
  // Probes: {GET, POST} x {/, /ratings/}; the rule allows GET on the prefix only.
  EXPECT_EQ(e->allowed, (std::vector<Probe>{{"GET", "/ratings/"}}));
  EXPECT_EQ(e->policy, "s/ratings-viewer");
  EXPECT_EQ(e->rule, 0);
  EXPECT_EQ(e->basis, "ALLOW matched");
  EXPECT_EQ(edge(*g, "s", "web", "s/ratings-v1"), nullptr);
  EXPECT_NE(edge(*g, "s", "web", "s/reviews-v1"), nullptr);
}

TEST(Reachability, DenyOverridesAllow) {
  auto snap = load(std::string(kCluster) + kStrict + serviceAndWorkload("s", "api") + serviceAndWorkload("s", "web") +
                   serviceAndWorkload("s", "batch") + R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: api-from-namespace}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {namespaces: [s]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: api-deny-web}
spec:
  selector: {matchLabels: {app: api}}
  action: DENY
  rules: [{from: [{source: {principals: [cluster.local/ns/s/sa/web]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: api-deny-admin}
spec:
  selector: {matchLabels: {app: api}}
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]
)");
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  EXPECT_EQ(edge(*g, "s", "web", "s/api-v1"), nullptr);  // the DENY rule wins over the ALLOW
  const ReachEdge* e = edge(*g, "s", "batch", "s/api-v1");
  ASSERT_NE(e, nullptr);
  // Probes {GET, POST} x {/, /admin/}: the admin prefix is denied for everyone.
  EXPECT_EQ(e->allowed, (std::vector<Probe>{{"GET", "/"}, {"POST", "/"}}));
  EXPECT_EQ(e->policy, "s/api-from-namespace");
}

TEST(Reachability, CrossNamespaceByNamespaceAndServiceAccount) {
  auto snap = load(std::string(kCluster) + kStrict + serviceAndWorkload("front", "web") +
                   serviceAndWorkload("back", "api") + serviceAndWorkload("back", "db") +
                   serviceAndWorkload("back", "cache") + R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: back, name: api-from-front}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {namespaces: [front]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: back, name: db-from-api}
spec:
  selector: {matchLabels: {app: db}}
  rules: [{from: [{source: {serviceAccounts: [api]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: back, name: cache-local}
spec:
  selector: {matchLabels: {app: cache}}
  rules: [{from: [{source: {namespaces: [back]}}]}]
)");
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  EXPECT_EQ(destinationsOf(*g, "front", "web"), (Strings{"back/api-v1", "front/web-v1"}));
  EXPECT_EQ(destinationsOf(*g, "back", "api"), (Strings{"back/cache-v1", "back/db-v1", "front/web-v1"}));
  EXPECT_EQ(destinationsOf(*g, "back", "db"), (Strings{"back/cache-v1", "front/web-v1"}));
}

TEST(Reachability, WildcardPrincipalsAreEvaluatedPerIdentity) {
  auto snap = load(std::string(kCluster) + kStrict + serviceAndWorkload("s", "api") +
                   serviceAndWorkload("s", "web-a") + serviceAndWorkload("s", "batch") + R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: api-web-star}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {principals: ["cluster.local/ns/s/sa/web*"]}}]}]
)");
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  EXPECT_NE(edge(*g, "s", "web-a", "s/api-v1"), nullptr);
  EXPECT_EQ(edge(*g, "s", "batch", "s/api-v1"), nullptr);
}

constexpr const char* kJwtGate = R"(
apiVersion: meshsim/v1
kind: IdentityProvider
metadata: {name: idp}
spec: {issuer: https://idp.example, audiences: [api]}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {namespace: s, name: api-jwt}
spec:
  selector: {matchLabels: {app: api}}
  jwtRules: [{issuer: https://idp.example, audiences: [api], jwksUri: "meshsim://idp/idp"}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: api-admins}
spec:
  selector: {matchLabels: {app: api}}
  rules:
  - from: [{source: {requestPrincipals: ["https://idp.example/*"]}}]
    when: [{key: "request.auth.claims[groups]", values: [admin]}]
)";

TEST(Reachability, JwtGatedEdgeNeedsAToken) {
  auto snap = load(std::string(kCluster) + kStrict + serviceAndWorkload("s", "api") + serviceAndWorkload("s", "web") +
                   kJwtGate);
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  const ReachEdge* e = edge(*g, "s", "web", "s/api-v1");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->needs_token);
  EXPECT_EQ(e->token.issuer, "https://idp.example");
  EXPECT_EQ(e->token.subject, "*");
  EXPECT_EQ(e->token.audiences, (Strings{"api"}));
  ASSERT_EQ(e->token.claims.size(), 1u);
  EXPECT_EQ(e->token.claims[0].first, "request.auth.claims[groups]");
  EXPECT_EQ(e->token.claims[0].second, (Strings{"admin"}));
  EXPECT_EQ(e->token.text(), "issuer https://idp.example, subject *, audience api, request.auth.claims[groups]=admin");
  EXPECT_EQ(e->policy, "s/api-admins");
  EXPECT_EQ(e->allowed, (std::vector<Probe>{{"GET", "/"}, {"POST", "/"}}));

  ReachabilityOptions no_tokens;
  no_tokens.token_edges = false;
  auto plain = buildReachability(snap, no_tokens);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(edge(*plain, "s", "web", "s/api-v1"), nullptr);
}

TEST(Reachability, JwtRuleForAnUntrustedIssuerOpensNothing) {
  auto snap = load(std::string(kCluster) + kStrict + serviceAndWorkload("s", "api") + serviceAndWorkload("s", "web") + R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: api-other-issuer}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {requestPrincipals: ["https://elsewhere.example/alice"]}}]}]
)");
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok());
  // No RequestAuthentication trusts that issuer, so no token can ever validate.
  EXPECT_EQ(edge(*g, "s", "web", "s/api-v1"), nullptr);
}

TEST(Reachability, PermissiveExposesPlaintextStrictDoesNot) {
  auto snap = load(std::string(kCluster) + serviceAndWorkload("open", "api") + serviceAndWorkload("open", "guarded") +
                   serviceAndWorkload("locked", "db") + serviceAndWorkload("open", "legacy", /*sidecar=*/false) + R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: locked, name: strict}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: open, name: guarded-principals}
spec:
  selector: {matchLabels: {app: guarded}}
  rules: [{from: [{source: {principals: [cluster.local/ns/open/sa/api]}}]}]
)");
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok()) << g.status().toString();
  std::vector<std::string> exposed;
  for (const auto& x : g->exposures) exposed.push_back(g->workloadKey(x.workload));
  std::sort(exposed.begin(), exposed.end());
  // locked/db is STRICT; the three in "open" are PERMISSIVE by default or have no sidecar.
  EXPECT_EQ(exposed, (Strings{"open/api-v1", "open/guarded-v1", "open/legacy-v1"}));
  for (const auto& x : g->exposures) {
    const std::string key = g->workloadKey(x.workload);
    if (key == "open/api-v1") {
      EXPECT_EQ(x.mode, model::MtlsMode::kPermissive);
      EXPECT_EQ(x.allowed, (std::vector<Probe>{{"GET", "/"}, {"POST", "/"}}));
    } else if (key == "open/guarded-v1") {
      EXPECT_TRUE(x.allowed.empty());  // principals cannot match a request without a peer
    } else {
      EXPECT_FALSE(x.sidecar);
      EXPECT_EQ(x.allowed.size(), 2u);
    }
  }
  std::vector<std::string> network;
  for (const auto& e : g->edgesFrom(kNetworkSource)) network.push_back(g->workloadKey(e.destination));
  EXPECT_EQ(network, (Strings{"open/api-v1", "open/legacy-v1"}));
  for (const auto& e : g->edgesFrom(kNetworkSource)) EXPECT_FALSE(e.mtls);
  // legacy has no sidecar: it holds no certificate, so it is not an identity.
  EXPECT_EQ(g->identities.size(), 3u);
  const ReachEdge* to_legacy = edge(*g, "open", "api", "open/legacy-v1");
  ASSERT_NE(to_legacy, nullptr);
  EXPECT_FALSE(to_legacy->mtls);
  EXPECT_EQ(to_legacy->basis, "no sidecar");
}

TEST(Reachability, DisableModeFallsBackToPlaintextWithoutIdentity) {
  auto snap = load(std::string(kCluster) + serviceAndWorkload("s", "api") + serviceAndWorkload("s", "web") + R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: s, name: api-off}
spec: {selector: {matchLabels: {app: api}}, mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: api-web}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {principals: [cluster.local/ns/s/sa/web]}}]}]
)");
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok());
  // DISABLE: no mutual TLS, so the principal never reaches authorization and the ALLOW fails.
  EXPECT_EQ(edge(*g, "s", "web", "s/api-v1"), nullptr);
  bool found = false;
  for (const auto& x : g->exposures) {
    if (g->workloadKey(x.workload) != "s/api-v1") continue;
    found = true;
    EXPECT_EQ(x.mode, model::MtlsMode::kDisable);
    EXPECT_EQ(x.peer_authn_policy, "s/api-off");
    EXPECT_TRUE(x.allowed.empty());
  }
  EXPECT_TRUE(found);
}

TEST(Reachability, TcpPortsHaveOneConnectionProbe) {
  auto snap = load(std::string(kCluster) + kStrict + serviceAndWorkload("s", "db", true, /*tcp=*/true) +
                   serviceAndWorkload("s", "web"));
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok());
  const ReachEdge* e = edge(*g, "s", "web", "s/db-v1");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->http);
  EXPECT_EQ(e->allowed, (std::vector<Probe>{Probe{}}));
  EXPECT_EQ(probeText(e->allowed[0]), "TCP");
  EXPECT_EQ(probeText({"GET", "/x"}), "GET /x");
}

TEST(Reachability, EdgesOfWorkloadAddNetworkEdgesAndHelpersFindWorkloads) {
  auto snap = load(std::string(kCluster) + serviceAndWorkload("s", "a") + serviceAndWorkload("s", "b", false));
  auto g = buildReachability(snap);
  ASSERT_TRUE(g.ok());
  auto a = g->findWorkload("s", "a-v1");
  auto b = g->findWorkload("s", "b-v1");
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(g->findWorkload("s", "nope").has_value());
  EXPECT_EQ(g->identity_of[*b], kNoIdentity);
  // a: its identity's two edges plus two network edges (both workloads accept plaintext).
  EXPECT_EQ(g->edgesOfWorkload(*a).size(), 4u);
  EXPECT_EQ(g->edgesOfWorkload(*b).size(), 2u);
}

TEST(Reachability, NullSnapshotIsInvalidArgument) {
  auto g = buildReachability(nullptr);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
}

TEST(Reachability, PolicyThatDoesNotCompileNamesTheWorkload) {
  auto base = load(std::string(kCluster) + serviceAndWorkload("s", "a"));
  std::vector<model::Resource> resources = base->resources;
  model::AuthorizationPolicy bad;
  bad.meta.kind = "AuthorizationPolicy";
  bad.meta.api_version = "security.istio.io/v1";
  bad.meta.namespace_ = "s";
  bad.meta.name = "bad-cidr";
  bad.rules_present = true;
  model::AuthzRule rule;
  model::AuthzSource src;
  src.ip_blocks = {"not-a-cidr"};
  rule.from = std::vector<model::AuthzSource>{src};
  bad.rules.push_back(rule);
  resources.emplace_back(bad);
  auto g = buildReachability(config::makeSnapshot(resources));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(g.status().message().find("s/a-v1"), std::string::npos) << g.status().message();
}

}  // namespace
}  // namespace meshsim::analysis
