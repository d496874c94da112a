// Blast radius and ranking (engine/include/meshsim/analysis/blast_radius.h) at mesh scale.
//
// Topology: 100 namespaces x 100 services, one workload each with its own service account
// (10,000 identities), mesh-wide STRICT mTLS, and 20,000 AuthorizationPolicies: per workload one
// ALLOW (GET /api/* from two same-namespace neighbours and one workload of the next namespace)
// and one DENY (/admin/* from the first neighbour). Every workload is reachable from every other
// one, so each blast radius covers the whole mesh (the worst case for ranking).
//
// Target: building the graph plus the ranking of all 10,000 workloads < 2 s. The baseline, in
// the same run, compiles every workload's applicable policies and nothing else;
// "vs_baseline" is the ratio to it.
//
// Run (Release): blast_radius_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "meshsim/analysis/blast_radius.h"
#include "meshsim/policy/authz.h"

namespace meshsim::analysis {
namespace {

constexpr int kNamespaces = 100;
constexpr int kServicesPerNamespace = 100;

std::string nsName(int i) { return "ns" + std::to_string(i); }
std::string svcName(int j) { return "svc" + std::to_string(j); }
std::string principal(int i, int j) {
  return "cluster.local/ns/" + nsName(i) + "/sa/sa" + std::to_string(j);
}

model::AuthorizationPolicy policy(int i, int j, model::AuthzAction action) {
  model::AuthorizationPolicy p;
  p.meta.kind = "AuthorizationPolicy";
  p.meta.api_version = "security.istio.io/v1";
  p.meta.namespace_ = nsName(i);
  p.meta.name = svcName(j) + (action == model::AuthzAction::kAllow ? "-allow" : "-deny");
  p.selector.match_labels = {{"app", svcName(j)}};
  p.selector.present = true;
  p.action = action;
  p.rules_present = true;
  model::AuthzRule rule;
  model::AuthzSource src;
  model::AuthzOperation op;
  const int n = kServicesPerNamespace;
  if (action == model::AuthzAction::kAllow) {
    src.principals = {principal(i, (j + n - 1) % n), principal(i, (j + n - 2) % n),
                      principal((i + kNamespaces - 1) % kNamespaces, j)};
    op.methods = {"GET"};
    op.paths = {"/api/*"};
  } else {
    src.principals = {principal(i, (j + n - 1) % n)};
    op.paths = {"/admin/*"};
  }
  rule.from = std::vector<model::AuthzSource>{src};
  rule.to = std::vector<model::AuthzOperation>{op};
  p.rules.push_back(rule);
  return p;
}

std::shared_ptr<const config::Snapshot> mesh() {
  static const std::shared_ptr<const config::Snapshot> snap = [] {
    std::vector<model::Resource> rs;
    model::Cluster cluster;
    cluster.meta.kind = "Cluster";
    cluster.meta.name = "c1";
    rs.emplace_back(cluster);
    model::PeerAuthentication strict;
    strict.meta.kind = "PeerAuthentication";
    strict.meta.namespace_ = "istio-system";
    strict.meta.name = "default";
    strict.mode = model::MtlsMode::kStrict;
    strict.mtls_present = true;
    rs.emplace_back(strict);
    for (int i = 0; i < kNamespaces; ++i) {
      for (int j = 0; j < kServicesPerNamespace; ++j) {
        model::Service s;
        s.meta.kind = "Service";
        s.meta.namespace_ = nsName(i);
        s.meta.name = svcName(j);
        s.ports.push_back({"http", 80, 8080, model::Protocol::kHttp});
        rs.emplace_back(s);
        model::Workload w;
        w.meta.kind = "Workload";
        w.meta.namespace_ = nsName(i);
        w.meta.name = svcName(j) + "-v1";
        w.service = svcName(j);
        w.service_account = "sa" + std::to_string(j);
        w.cluster = "c1";
        w.labels = {{"app", svcName(j)}};
        w.sensitivity = 1 + (j % 5);
        rs.emplace_back(w);
        rs.emplace_back(policy(i, j, model::AuthzAction::kAllow));
        rs.emplace_back(policy(i, j, model::AuthzAction::kDeny));
      }
    }
    return config::makeSnapshot(std::move(rs));
  }();
  return snap;
}

double g_baseline_ns = 0;

void report(benchmark::State& state, double total_ns, bool baseline) {
  const double ns = total_ns / static_cast<double>(state.iterations());
  if (baseline) g_baseline_ns = ns;
  state.counters["ms"] = ns / 1e6;
  if (g_baseline_ns > 0) state.counters["vs_baseline"] = ns / g_baseline_ns;
}

template <typename F>
void timed(benchmark::State& state, bool baseline, F&& body) {
  double total = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    body();
    total += std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  }
  report(state, total, baseline);
}

// Baseline: compile every workload's applicable policies (what any policy consumer must do).
void BM_BaselineCompileAllPolicies(benchmark::State& state) {
  auto snap = mesh();
  const auto ctx = policy::authzContextFor(*snap);
  // Policies grouped by namespace so that the baseline measures compilation, not the scan.
  std::map<std::string, std::vector<const model::AuthorizationPolicy*>> by_ns;
  for (const auto* p : snap->authorization_policies) by_ns[p->meta.namespace_].push_back(p);
  timed(state, true, [&] {
    size_t rules = 0;
    for (const auto* w : snap->workloads) {
      std::vector<const model::AuthorizationPolicy*> applicable;
      for (const auto* p : by_ns[w->meta.namespace_]) {
        if (p->selector.matches(w->labels)) applicable.push_back(p);
      }
      auto c = policy::compileAuthz(applicable, ctx);
      rules += c.ok() ? c->ruleCount() : 0;
    }
    benchmark::DoNotOptimize(rules);
  });
}
BENCHMARK(BM_BaselineCompileAllPolicies)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_BuildGraph(benchmark::State& state) {
  auto snap = mesh();
  size_t edges = 0;
  timed(state, false, [&] {
    auto g = buildReachability(snap);
    edges = g.ok() ? g->edges.size() : 0;
  });
  state.counters["edges"] = static_cast<double>(edges);
}
BENCHMARK(BM_BuildGraph)->Unit(benchmark::kMillisecond)->Iterations(3);

// (a) ranking of all 10,000 workloads, graph included: the 2 s target.
void BM_BuildGraphAndRankAll(benchmark::State& state) {
  auto snap = mesh();
  double top = 0;
  timed(state, false, [&] {
    auto g = buildReachability(snap);
    if (!g.ok()) return;
    auto ranking = rankWorkloads(*g);
    top = ranking.front().score;
  });
  state.counters["top_score"] = top;
}
BENCHMARK(BM_BuildGraphAndRankAll)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_RankAllPrebuiltGraph(benchmark::State& state) {
  auto g = buildReachability(mesh());
  if (!g.ok()) {
    state.SkipWithError(g.status().toString().c_str());
    return;
  }
  timed(state, false, [&] { benchmark::DoNotOptimize(rankWorkloads(*g)); });
}
BENCHMARK(BM_RankAllPrebuiltGraph)->Unit(benchmark::kMillisecond)->Iterations(3);

// (b) blast radius of one workload with paths, graph included.
void BM_BuildGraphAndBlastOne(benchmark::State& state) {
  auto snap = mesh();
  size_t reached = 0;
  timed(state, false, [&] {
    auto g = buildReachability(snap);
    if (!g.ok()) return;
    auto r = blastRadius(*g, "ns0", "svc0-v1");
    reached = r.ok() ? r->reached.size() : 0;
  });
  state.counters["reached"] = static_cast<double>(reached);
}
BENCHMARK(BM_BuildGraphAndBlastOne)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_BlastOnePrebuiltGraph(benchmark::State& state) {
  auto g = buildReachability(mesh());
  if (!g.ok()) {
    state.SkipWithError(g.status().toString().c_str());
    return;
  }
  timed(state, false, [&] { benchmark::DoNotOptimize(blastRadius(*g, "ns0", "svc0-v1")); });
}
BENCHMARK(BM_BlastOnePrebuiltGraph)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace meshsim::analysis

BENCHMARK_MAIN();
