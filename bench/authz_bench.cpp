// AuthorizationPolicy evaluation and compilation (engine/include/meshsim/policy/authz.h).
//
// Targets: evaluateAuthz over 100 applicable policies of mixed shapes < 1 µs median, 0 heap
// allocations per decision; compileAuthz of 10,000 policies < 200 ms. The baseline is a single
// one-rule policy evaluated in the same run; "vs_baseline" is the ratio to it.
//
// Run (Release): authz_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <new>
#include <string>
#include <vector>

#include "meshsim/policy/authz.h"
#include "meshsim/policy/identity.h"

// ---------------------------------------------------------------- allocation counting

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// GCC pairs the inlined malloc/free of these replacements with the callers' new/delete and
// reports a mismatch; the pairing is correct by construction (both sides are replaced here).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace meshsim::policy {
namespace {

using model::AuthorizationPolicy;
using model::AuthzAction;
using model::AuthzCondition;
using model::AuthzOperation;
using model::AuthzRule;
using model::AuthzSource;

AuthorizationPolicy makePolicy(const std::string& ns, const std::string& name, AuthzAction action,
                               std::vector<AuthzRule> rules) {
  AuthorizationPolicy p;
  p.meta.kind = "AuthorizationPolicy";
  p.meta.namespace_ = ns;
  p.meta.name = name;
  p.action = action;
  p.rules_present = true;
  p.rules = std::move(rules);
  return p;
}

AuthzCondition condition(std::string key, std::vector<std::string> values) {
  AuthzCondition c;
  c.key = std::move(key);
  c.values = std::move(values);
  return c;
}

/// Policy `i` of a mixed set: principals, namespaces + methods, paths (prefix, suffix, template),
/// header DENY, JWT claims + request principals, ipBlocks DENY, hosts + ports.
AuthorizationPolicy mixedPolicy(int i, const std::string& ns) {
  const std::string n = std::to_string(i);
  AuthzRule rule;
  AuthzAction action = AuthzAction::kAllow;
  switch (i % 7) {
    case 0: {
      AuthzSource s;
      s.principals = {"cluster.local/ns/ns" + n + "/sa/sa" + n, "cluster.local/ns/team" + n + "/*"};
      rule.from = std::vector<AuthzSource>{s};
      break;
    }
    case 1: {
      AuthzSource s;
      s.namespaces = {"ns" + n, "prod-" + n + "-*"};
      AuthzOperation o;
      o.methods = {"GET", "HEAD"};
      rule.from = std::vector<AuthzSource>{s};
      rule.to = std::vector<AuthzOperation>{o};
      break;
    }
    case 2: {
      AuthzOperation o;
      o.paths = {"/api/v" + n + "/*", "*.v" + n + ".js", "/items/{*}/detail" + n};
      rule.to = std::vector<AuthzOperation>{o};
      break;
    }
    case 3: {
      action = AuthzAction::kDeny;
      rule.when = {condition("request.headers[x-block-" + n + "]", {"yes"})};
      break;
    }
    case 4: {
      AuthzSource s;
      s.request_principals = {"issuer" + n + ".example/*"};
      rule.from = std::vector<AuthzSource>{s};
      rule.when = {condition("request.auth.claims[groups]", {"group" + n})};
      break;
    }
    case 5: {
      action = AuthzAction::kDeny;
      AuthzSource s;
      s.ip_blocks = {"10." + std::to_string(i % 256) + ".0.0/16", "fd00:" + n + "::/32"};
      rule.from = std::vector<AuthzSource>{s};
      break;
    }
    default: {
      AuthzOperation o;
      o.hosts = {"svc" + n + ".example.com", "svc" + n + ".example.com:*"};
      o.ports = {std::to_string(8000 + i % 1000)};
      rule.to = std::vector<AuthzOperation>{o};
      break;
    }
  }
  return makePolicy(ns, "p" + n, action, {rule});
}

std::vector<AuthorizationPolicy> mixedPolicies(int count) {
  std::vector<AuthorizationPolicy> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) out.push_back(mixedPolicy(i, "bench"));
  return out;
}

std::vector<const AuthorizationPolicy*> pointers(const std::vector<AuthorizationPolicy>& v) {
  std::vector<const AuthorizationPolicy*> out;
  for (const auto& p : v) out.push_back(&p);
  return out;
}

RequestAttributes baseRequest() {
  RequestAttributes r;
  r.http = true;
  r.peer = peerIdentityFor("cluster.local", "client", "app");
  r.source_ip = "172.16.0.5";
  r.destination_ip = "172.16.1.9";
  r.destination_port = 8080;
  r.host = "svc.example.com";
  r.method = "GET";
  r.path = "/api/users/42";
  r.headers = {{"user-agent", "curl/8.1"}, {"x-request-id", "0f1e2d3c"}};
  RequestAuth auth;
  auth.issuer = "issuer.example";
  auth.subject = "alice";
  auth.has_subject = true;
  auth.claims.push_back(Claim{{"groups"}, {"dev", "ops"}});
  r.auth = auth;
  return r;
}

double g_baseline_ns = 0;

double threadCpuNanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// Runs evaluateAuthz in the benchmark loop and reports CPU ns/decision, allocations/decision
/// and the ratio to the baseline.
void runEvaluation(benchmark::State& state, const CompiledAuthz& authz,
                   const RequestAttributes& request, int expected_status, bool is_baseline) {
  if (evaluateAuthz(authz, request).status != expected_status) {
    state.SkipWithError("unexpected decision: the benchmark set-up is wrong");
    return;
  }
  const uint64_t allocs_before = g_allocations.load(std::memory_order_relaxed);
  const double cpu_before = threadCpuNanos();
  for (auto _ : state) {
    AuthzDecision d = evaluateAuthz(authz, request);
    benchmark::DoNotOptimize(d);
  }
  const double cpu_ns = threadCpuNanos() - cpu_before;
  const uint64_t allocs = g_allocations.load(std::memory_order_relaxed) - allocs_before;
  const double iterations = static_cast<double>(state.iterations());
  // CPU time, not wall time: on a shared 2-core box the wall clock also counts preemption.
  const double ns = cpu_ns / iterations;
  if (is_baseline) g_baseline_ns = ns;
  state.counters["allocs_per_decision"] = static_cast<double>(allocs) / iterations;
  state.counters["cpu_ns_per_decision"] = ns;
  if (g_baseline_ns > 0) state.counters["vs_baseline"] = ns / g_baseline_ns;
}

void BM_EvaluateBaselineSinglePolicy(benchmark::State& state) {
  AuthzSource s;
  s.principals = {"cluster.local/ns/client/sa/app"};
  AuthzRule rule;
  rule.from = std::vector<AuthzSource>{s};
  const std::vector<AuthorizationPolicy> policies = {
      makePolicy("bench", "only", AuthzAction::kAllow, {rule})};
  auto compiled = compileAuthz(pointers(policies), AuthzContext{});
  if (!compiled.ok()) {
    state.SkipWithError(compiled.status().toString().c_str());
    return;
  }
  runEvaluation(state, *compiled, baseRequest(), 200, true);
}
BENCHMARK(BM_EvaluateBaselineSinglePolicy);

/// 100 mixed policies; range(0) picks the request:
/// 0 = allowed by the last principal policy, 1 = denied by a DENY header rule,
/// 2 = nothing matches (every rule is evaluated; 403 [none]).
void BM_Evaluate100Policies(benchmark::State& state) {
  const std::vector<AuthorizationPolicy> policies = mixedPolicies(100);
  auto compiled = compileAuthz(pointers(policies), AuthzContext{});
  if (!compiled.ok()) {
    state.SkipWithError(compiled.status().toString().c_str());
    return;
  }
  RequestAttributes request = baseRequest();
  int expected = 200;
  switch (state.range(0)) {
    case 0:
      request.peer = peerIdentityFor("cluster.local", "ns98", "sa98");
      state.SetLabel("allowed by ALLOW p98");
      break;
    case 1:
      request.headers.emplace_back("x-block-94", "yes");
      expected = 403;
      state.SetLabel("denied by DENY p94");
      break;
    default:
      expected = 403;
      state.SetLabel("no rule matches");
      break;
  }
  runEvaluation(state, *compiled, request, expected, false);
}
BENCHMARK(BM_Evaluate100Policies)->Arg(0)->Arg(1)->Arg(2);

void BM_Compile10000Policies(benchmark::State& state) {
  std::vector<AuthorizationPolicy> policies;
  policies.reserve(10000);
  for (int i = 0; i < 10000; ++i) policies.push_back(mixedPolicy(i, "ns" + std::to_string(i % 50)));
  const auto ptrs = pointers(policies);
  for (auto _ : state) {
    auto compiled = compileAuthz(ptrs, AuthzContext{});
    benchmark::DoNotOptimize(compiled);
    if (!compiled.ok()) {
      state.SkipWithError(compiled.status().toString().c_str());
      return;
    }
  }
  state.counters["policies"] = 10000;
}
BENCHMARK(BM_Compile10000Policies)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace meshsim::policy

BENCHMARK_MAIN();
