// Blast radius, ranking, what-if and least privilege (analysis/blast_radius.h). Every expected
// set is worked out by hand from the policies in the test (istio-semantics.md section 4: an
// ALLOW policy admits only what its rules match; DENY wins; an ALLOW policy without rules admits
// nothing) and the documented score: sum of sensitivity / hops.
#include "meshsim/analysis/blast_radius.h"

#include <gtest/gtest.h>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"

namespace meshsim::analysis {
namespace {

using Strings = std::vector<std::string>;

std::vector<model::Resource> parse(const std::string& text) {
  auto loaded = config::loadString(text, "mesh.yaml");
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return loaded.resources;
}

std::shared_ptr<const config::Snapshot> load(const std::string& text) {
  auto loaded = config::loadString(text, "mesh.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return config::makeSnapshot(loaded.resources);
}

constexpr const char* kHead =
    "apiVersion: meshsim/v1\nkind: Cluster\nmetadata: {name: c1}\n---\n"
    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {namespace: istio-system, name: "
    "default}\nspec: {mtls: {mode: STRICT}}\n---\n";

// Service "name" (port 80 -> 8080) and workload "<name>-v1" (service account "name").
std::string node(const std::string& ns, const std::string& name, double sensitivity = 1) {
  return "apiVersion: meshsim/v1\nkind: Service\nmetadata: {namespace: " + ns + ", name: " + name +
         "}\nspec: {ports: [{name: http, port: 80, targetPort: 8080}]}\n---\napiVersion: meshsim/v1\nkind: "
         "Workload\nmetadata: {namespace: " + ns + ", name: " + name + "-v1}\nspec: {service: " + name +
         ", cluster: c1, serviceAccount: " + name + ", labels: {app: " + name + "}, sensitivity: " +
         std::to_string(sensitivity) + "}\n---\n";
}

// ALLOW on app=<to> from the principal of service account <from> (same namespace).
std::string allow(const std::string& ns, const std::string& policy, const std::string& to, const std::string& from) {
  return "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: " + ns +
         ", name: " + policy + "}\nspec:\n  selector: {matchLabels: {app: " + to +
         "}}\n  rules: [{from: [{source: {principals: [cluster.local/ns/" + ns + "/sa/" + from + "]}}]}]\n---\n";
}

// ALLOW without rules on app=<to>: nobody may call it.
std::string allowNothing(const std::string& ns, const std::string& to) {
  return "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: " + ns +
         ", name: " + to + "-nobody}\nspec: {selector: {matchLabels: {app: " + to + "}}}\n---\n";
}

std::string chainYaml() {
  return std::string(kHead) + node("chain", "a") + node("chain", "b") + node("chain", "c") + node("chain", "d") +
         allowNothing("chain", "a") + allow("chain", "b-from-a", "b", "a") + allow("chain", "c-from-b", "c", "b") +
         allow("chain", "d-from-c", "d", "c");
}

struct Summary {
  Strings nodes;                  // "ns/name@hops"
  std::vector<Strings> policies;  // per node: deciding policy of each path step
};

Summary summarize(const ReachabilityGraph& g, const BlastRadius& r) {
  Summary s;
  for (const auto& n : r.reached) {
    s.nodes.push_back(g.workloadKey(n.workload) + "@" + std::to_string(n.hops));
    Strings steps;
    for (const auto& step : n.path) steps.push_back(g.edges[step.edge].policy);
    s.policies.push_back(steps);
  }
  return s;
}

ReachabilityGraph graphOf(const std::string& yaml) {
  auto g = buildReachability(load(yaml));
  EXPECT_TRUE(g.ok()) << g.status().toString();
  return g.ok() ? std::move(*g) : ReachabilityGraph{};
}

struct HopCase {
  std::optional<uint32_t> hops;
  Strings nodes;
  bool truncated;
  double score;
};

TEST(BlastRadius, ChainWithHopLimits) {
  const auto g = graphOf(chainYaml());
  const std::vector<HopCase> cases = {
      {std::nullopt, {"chain/b-v1@1", "chain/c-v1@2", "chain/d-v1@3"}, false, 1.0 + 1.0 / 2 + 1.0 / 3},
      {3u, {"chain/b-v1@1", "chain/c-v1@2", "chain/d-v1@3"}, false, 1.0 + 1.0 / 2 + 1.0 / 3},
      {2u, {"chain/b-v1@1", "chain/c-v1@2"}, true, 1.5},
      {1u, {"chain/b-v1@1"}, true, 1.0},
      {0u, {}, true, 0.0},
  };
  for (const auto& c : cases) {
    BlastOptions o;
    o.hops = c.hops;
    auto r = blastRadius(g, "chain", "a-v1", o);
    ASSERT_TRUE(r.ok()) << r.status().toString();
    EXPECT_EQ(summarize(g, *r).nodes, c.nodes) << (c.hops ? *c.hops : 99);
    EXPECT_EQ(r->truncated, c.truncated) << (c.hops ? *c.hops : 99);
    EXPECT_DOUBLE_EQ(r->score, c.score);
  }
  auto r = blastRadius(g, "chain", "a-v1");
  ASSERT_TRUE(r.ok());
  // The path to d: three hops, each let in by the next policy of the chain, rule 0, mTLS.
  const Summary s = summarize(g, *r);
  EXPECT_EQ(s.policies[2], (Strings{"chain/b-from-a", "chain/c-from-b", "chain/d-from-c"}));
  for (const auto& step : r->reached[2].path) {
    EXPECT_EQ(g.edges[step.edge].rule, 0);
    EXPECT_TRUE(g.edges[step.edge].mtls);
  }
  EXPECT_EQ(g.workloadKey(r->reached[2].path[0].from), "chain/a-v1");
  EXPECT_EQ(g.workloadKey(r->reached[2].path[2].to), "chain/d-v1");
  Strings edges;
  for (const auto& e : r->edges) edges.push_back(blastEdgeKey(g, e));
  EXPECT_EQ(edges, (Strings{"chain/a-v1 -> chain/b-v1 :80", "chain/b-v1 -> chain/c-v1 :80",
                            "chain/c-v1 -> chain/d-v1 :80"}));
  EXPECT_TRUE(r->token_gated.empty());
  EXPECT_FALSE(r->token_window_seconds.has_value());
  // d calls nobody.
  auto from_d = blastRadius(g, "chain", "d-v1");
  ASSERT_TRUE(from_d.ok());
  EXPECT_TRUE(from_d->reached.empty());
  EXPECT_DOUBLE_EQ(from_d->score, 0.0);
}

TEST(BlastRadius, RankingOrdersByScore) {
  const auto g = graphOf(chainYaml());
  auto ranking = rankWorkloads(g);
  ASSERT_EQ(ranking.size(), 4u);
  Strings order;
  for (const auto& e : ranking) order.push_back(g.workloadKey(e.workload));
  EXPECT_EQ(order, (Strings{"chain/a-v1", "chain/b-v1", "chain/c-v1", "chain/d-v1"}));
  EXPECT_DOUBLE_EQ(ranking[0].score, 1.0 + 1.0 / 2 + 1.0 / 3);
  EXPECT_DOUBLE_EQ(ranking[1].score, 1.5);
  EXPECT_DOUBLE_EQ(ranking[2].score, 1.0);
  EXPECT_DOUBLE_EQ(ranking[3].score, 0.0);
  EXPECT_EQ(ranking[0].reached, 3u);
  EXPECT_EQ(ranking[0].max_hops, 3u);
  BlastOptions two;
  two.hops = 1;
  auto limited = rankWorkloads(g, two);
  EXPECT_DOUBLE_EQ(limited[0].score, 1.0);
}

TEST(BlastRadius, FanOutWeightsSensitivity) {
  const std::string ns = "fan";
  const auto g = graphOf(std::string(kHead) + node(ns, "hub") + node(ns, "x") + node(ns, "y", 5) + node(ns, "z") +
                         allowNothing(ns, "hub") + allow(ns, "x-from-hub", "x", "hub") +
                         allow(ns, "y-from-hub", "y", "hub") + allow(ns, "z-from-hub", "z", "hub"));
  auto r = blastRadius(g, ns, "hub-v1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(summarize(g, *r).nodes, (Strings{"fan/x-v1@1", "fan/y-v1@1", "fan/z-v1@1"}));
  EXPECT_DOUBLE_EQ(r->score, 1 + 5 + 1);
  EXPECT_DOUBLE_EQ(r->reached[1].contribution, 5.0);
  auto ranking = rankWorkloads(g);
  EXPECT_EQ(g.workloadKey(ranking[0].workload), "fan/hub-v1");
}

TEST(BlastRadius, CycleVisitsEachWorkloadOnce) {
  const std::string ns = "ring";
  const auto g = graphOf(std::string(kHead) + node(ns, "p") + node(ns, "q") + node(ns, "r") +
                         allow(ns, "q-from-p", "q", "p") + allow(ns, "r-from-q", "r", "q") +
                         allow(ns, "p-from-r", "p", "r"));
  auto r = blastRadius(g, ns, "p-v1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(summarize(g, *r).nodes, (Strings{"ring/q-v1@1", "ring/r-v1@2"}));
  EXPECT_DOUBLE_EQ(r->score, 1.5);
  Strings edges;
  for (const auto& e : r->edges) edges.push_back(blastEdgeKey(g, e));
  EXPECT_EQ(edges, (Strings{"ring/p-v1 -> ring/q-v1 :80", "ring/q-v1 -> ring/r-v1 :80", "ring/r-v1 -> ring/p-v1 :80"}));
}

TEST(BlastRadius, CrossNamespaceHop) {
  const auto g = graphOf(std::string(kHead) + node("front", "web") + node("back", "api") + node("back", "db") +
                         allowNothing("front", "web") + R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: back, name: api-from-front}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {namespaces: [front]}}]}]
---
)" + allow("back", "db-from-api", "db", "api"));
  auto r = blastRadius(g, "front", "web-v1");
  ASSERT_TRUE(r.ok());
  const Summary s = summarize(g, *r);
  EXPECT_EQ(s.nodes, (Strings{"back/api-v1@1", "back/db-v1@2"}));
  EXPECT_EQ(s.policies[1], (Strings{"back/api-from-front", "back/db-from-api"}));
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
metadata: {namespace: s, name: api-users}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]
---
)";

TEST(BlastRadius, JwtGatedEdgeIsNotOpenToABareCompromise) {
  const auto g = graphOf(std::string(kHead) + node("s", "web") + node("s", "api") + kJwtGate);
  auto r = blastRadius(g, "s", "web-v1");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->reached.empty());
  ASSERT_EQ(r->token_gated.size(), 1u);
  EXPECT_EQ(blastEdgeKey(g, r->token_gated[0]), "s/web-v1 -> s/api-v1 :80");
  EXPECT_EQ(g.edges[r->token_gated[0].edge].token.issuer, "https://idp.example");
  EXPECT_EQ(r->token_window_seconds, std::optional<int64_t>(3600));

  BlastOptions with_token;
  with_token.follow_token_edges = true;
  with_token.token_ttl_seconds = 600;
  auto t = blastRadius(g, "s", "web-v1", with_token);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(summarize(g, *t).nodes, (Strings{"s/api-v1@1"}));
  EXPECT_TRUE(t->token_gated.empty());
  EXPECT_EQ(t->token_window_seconds, std::optional<int64_t>(600));
}

TEST(BlastRadius, CredentialWindowIsTheWholeSvidLifetime) {
  const auto g = graphOf(chainYaml());
  auto r = blastRadius(g, "chain", "a-v1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->credential_window_seconds, 86400);
  EXPECT_EQ(r->rotation_after_seconds, 43200);
  BlastOptions hour;
  hour.svid_ttl_seconds = 3600;
  auto h = blastRadius(g, "chain", "a-v1", hour);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->credential_window_seconds, 3600);
  EXPECT_EQ(h->rotation_after_seconds, 1800);
}

// b refuses every mTLS peer but, being PERMISSIVE, still answers plaintext: the attacker drops
// the certificate and gets in.
TEST(BlastRadius, PlaintextExposureVersusStrict) {
  const std::string body = node("s", "a") + node("s", "b") + R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: s, name: b-no-mesh-peers}
spec:
  selector: {matchLabels: {app: b}}
  action: DENY
  rules: [{from: [{source: {principals: ["*"]}}]}]
---
)" + allowNothing("s", "a");
  const std::string cluster = "apiVersion: meshsim/v1\nkind: Cluster\nmetadata: {name: c1}\n---\n";
  const auto permissive = graphOf(cluster + body);
  auto r = blastRadius(permissive, "s", "a-v1");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(summarize(permissive, *r).nodes, (Strings{"s/b-v1@1"}));
  const ReachEdge& e = permissive.edges[r->reached[0].path[0].edge];
  EXPECT_EQ(e.source, kNetworkSource);
  EXPECT_FALSE(e.mtls);
  BlastOptions no_plain;
  no_plain.plaintext = false;
  auto np = blastRadius(permissive, "s", "a-v1", no_plain);
  ASSERT_TRUE(np.ok());
  EXPECT_TRUE(np->reached.empty());

  const auto strict = graphOf(std::string(kHead) + body);
  auto s = blastRadius(strict, "s", "a-v1");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->reached.empty());
}

TEST(BlastRadius, WhatIfDiffNamesNodesAndEdges) {
  auto before_snap = load(chainYaml());
  auto before_graph = buildReachability(before_snap);
  ASSERT_TRUE(before_graph.ok());
  auto before = blastRadius(*before_graph, "chain", "a-v1");
  ASSERT_TRUE(before.ok());

  // Candidate 1: b no longer admits a.
  auto cut = overlaySnapshot(*before_snap, parse(allow("chain", "b-from-a", "b", "nobody")));
  EXPECT_EQ(cut->authorization_policies.size(), before_snap->authorization_policies.size());
  auto cut_graph = buildReachability(cut);
  ASSERT_TRUE(cut_graph.ok());
  auto after = blastRadius(*cut_graph, "chain", "a-v1");
  ASSERT_TRUE(after.ok());
  BlastDiff d = diffBlastRadius(*before_graph, *before, *cut_graph, *after);
  EXPECT_EQ(d.nodes_removed, (Strings{"chain/b-v1", "chain/c-v1", "chain/d-v1"}));
  EXPECT_TRUE(d.nodes_added.empty());
  EXPECT_EQ(d.edges_removed, (Strings{"chain/a-v1 -> chain/b-v1 :80", "chain/b-v1 -> chain/c-v1 :80",
                                      "chain/c-v1 -> chain/d-v1 :80"}));
  EXPECT_TRUE(d.edges_added.empty());
  EXPECT_DOUBLE_EQ(d.score_after, 0.0);

  // Candidate 2: d also admits a directly (a new policy).
  auto wide = overlaySnapshot(*before_snap, parse(allow("chain", "d-from-a", "d", "a")));
  EXPECT_EQ(wide->authorization_policies.size(), before_snap->authorization_policies.size() + 1);
  auto wide_graph = buildReachability(wide);
  ASSERT_TRUE(wide_graph.ok());
  auto wider = blastRadius(*wide_graph, "chain", "a-v1");
  ASSERT_TRUE(wider.ok());
  BlastDiff w = diffBlastRadius(*before_graph, *before, *wide_graph, *wider);
  EXPECT_TRUE(w.nodes_added.empty());
  EXPECT_TRUE(w.nodes_removed.empty());
  EXPECT_EQ(w.edges_added, (Strings{"chain/a-v1 -> chain/d-v1 :80"}));
  EXPECT_TRUE(w.edges_removed.empty());
  EXPECT_DOUBLE_EQ(w.score_after, 1.0 + 1.0 / 2 + 1.0);

  BlastDiff same = diffBlastRadius(*before_graph, *before, *before_graph, *before);
  EXPECT_TRUE(same.empty());
}

TEST(BlastRadius, UnknownWorkloadAndBadOptionsAreInvalidArgument) {
  const auto g = graphOf(chainYaml());
  auto r = blastRadius(g, "chain", "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("chain/nope"), std::string::npos);
  EXPECT_FALSE(blastRadius(g, 99).ok());
  BlastOptions bad;
  bad.svid_ttl_seconds = 0;
  EXPECT_FALSE(blastRadius(g, 0, bad).ok());
  bad = {};
  bad.token_ttl_seconds = -1;
  EXPECT_FALSE(blastRadius(g, 0, bad).ok());
}

// ---------------------------------------------------------------- least privilege

std::string lpYaml() { return std::string(kHead) + node("lp", "a") + node("lp", "b") + node("lp", "c"); }

TEST(LeastPrivilege, SuggestionLeavesExactlyTheObservedEdges) {
  auto snap = load(lpYaml());
  auto calls = parseObservedCalls(R"({"calls":[
    {"from":"lp/a-v1","to":"lp/b","port":80,"method":"GET","path":"/x"},
    {"from":"lp/b-v1","to":"lp/c","port":80,"method":"POST","path":"/y"},
    {"from":"lp/a-v1","to":"lp/b","port":80,"method":"GET","path":"/x"}]})");
  ASSERT_TRUE(calls.ok()) << calls.status().toString();
  ASSERT_EQ(calls->size(), 3u);
  auto s = suggestAuthorizationPolicies(*snap, *calls);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  ASSERT_EQ(s->policies.size(), 3u);  // a (nothing observed), b, c
  EXPECT_TRUE(s->warnings.empty());
  const auto& pb = s->policies[1];
  EXPECT_EQ(pb.meta.name, "least-privilege-b");
  EXPECT_EQ(pb.meta.namespace_, "lp");
  EXPECT_EQ(pb.selector.match_labels, (model::StringMap{{"app", "b"}}));
  ASSERT_EQ(pb.rules.size(), 1u);
  EXPECT_EQ((*pb.rules[0].from)[0].principals, (Strings{"cluster.local/ns/lp/sa/a"}));
  ASSERT_EQ(pb.rules[0].to->size(), 1u);
  EXPECT_EQ((*pb.rules[0].to)[0].methods, (Strings{"GET"}));
  EXPECT_EQ((*pb.rules[0].to)[0].paths, (Strings{"/x"}));
  EXPECT_EQ((*pb.rules[0].to)[0].ports, (Strings{"8080"}));
  EXPECT_TRUE(s->policies[0].rules.empty());  // a: allow nothing

  // The YAML reads back into the same policies.
  const std::string yaml = suggestionYaml(*s);
  EXPECT_NE(yaml.find("  name: \"least-privilege-b\"\n"), std::string::npos) << yaml;
  auto reread = config::loadString(yaml, "suggested.yaml");
  ASSERT_FALSE(reread.diagnostics.hasErrors()) << reread.diagnostics.items()[0].toString() << "\n" << yaml;
  ASSERT_EQ(reread.resources.size(), 3u);

  auto after = buildReachability(overlaySnapshot(*snap, suggestionResources(*s)));
  ASSERT_TRUE(after.ok());
  Strings edges;
  for (size_t i = 0; i < after->identities.size(); ++i) {
    for (const auto& e : after->edgesFrom(i)) {
      std::string probes;
      for (const auto& p : e.allowed) probes += " " + probeText(p);
      edges.push_back(after->identities[i].service_account + " -> " + after->workloadKey(e.destination) + probes);
    }
  }
  EXPECT_EQ(edges, (Strings{"a -> lp/b-v1 GET /x", "b -> lp/c-v1 POST /y"}));
  auto r = blastRadius(*after, "lp", "a-v1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(summarize(*after, *r).nodes, (Strings{"lp/b-v1@1", "lp/c-v1@2"}));
}

TEST(LeastPrivilege, WithoutDenyUnobservedOnlyCalledServicesGetPolicies) {
  auto snap = load(lpYaml());
  std::vector<ObservedCall> calls = {{"lp", "a-v1", "lp", "b", 80, "GET", "/x"}};
  SuggestOptions o;
  o.deny_unobserved = false;
  auto s = suggestAuthorizationPolicies(*snap, calls, o);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->policies.size(), 1u);
  EXPECT_EQ(s->policies[0].meta.name, "least-privilege-b");
}

TEST(LeastPrivilege, CallerWithoutSidecarIsAWarning) {
  auto snap = load(lpYaml() +
                   "apiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: lp, name: bare}\n"
                   "spec: {cluster: c1, sidecar: false, labels: {app: bare}}\n");
  std::vector<ObservedCall> calls = {{"lp", "bare", "lp", "b", 80, "GET", "/"}};
  auto s = suggestAuthorizationPolicies(*snap, calls);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->warnings.size(), 1u);
  EXPECT_NE(s->warnings[0].find("lp/bare has no sidecar"), std::string::npos);
}

TEST(LeastPrivilege, UnknownReferencesAreInvalidArgument) {
  auto snap = load(lpYaml());
  const std::vector<std::pair<ObservedCall, std::string>> cases = {
      {{"lp", "ghost", "lp", "b", 80, "GET", "/"}, "unknown workload lp/ghost"},
      {{"lp", "a-v1", "lp", "ghost", 80, "GET", "/"}, "unknown service lp/ghost"},
      {{"lp", "a-v1", "lp", "b", 81, "GET", "/"}, "has no port 81"},
  };
  for (const auto& [call, text] : cases) {
    auto s = suggestAuthorizationPolicies(*snap, {call});
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(text), std::string::npos) << s.status().message();
  }
}

TEST(LeastPrivilege, RunFileErrorsNameTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "not valid JSON"},
      {"[]", "\"calls\" array"},
      {R"({"calls":[1]})", "calls[0]: expected an object"},
      {R"({"calls":[{"to":"a/b","port":1}]})", "calls[0].from: missing"},
      {R"({"calls":[{"from":"a/b","port":1}]})", "calls[0].to: missing"},
      {R"({"calls":[{"from":"a/b","to":"a/c"}]})", "calls[0].port: missing"},
      {R"({"calls":[{"from":"ab","to":"a/c","port":1}]})", "calls[0].from: \"ab\" is not ns/name"},
      {R"({"calls":[{"from":"a/b","to":5,"port":1}]})", "calls[0].to: expected a string"},
      {R"({"calls":[{"from":"a/b","to":"a/c","port":70000}]})", "calls[0].port: expected an integer"},
      {R"({"calls":[{"from":"a/b","to":"a/c","port":1,"method":"get"}]})", "calls[0].method"},
      {R"({"calls":[{"from":"a/b","to":"a/c","port":1,"method":3}]})", "calls[0].method: expected a string"},
      {R"({"calls":[{"from":"a/b","to":"a/c","port":1,"path":4}]})", "calls[0].path: expected a string"},
  };
  for (const auto& [json, text] : cases) {
    auto r = parseObservedCalls(json);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(text), std::string::npos) << json << " -> " << r.status().message();
  }
  auto defaults = parseObservedCalls(R"({"calls":[{"from":"a/b","to":"a/c","port":1}]})");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ((*defaults)[0].method, "GET");
  EXPECT_EQ((*defaults)[0].path, "/");
}

}  // namespace
}  // namespace meshsim::analysis
