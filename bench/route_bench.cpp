// Route selection cost: a host whose VirtualService has 20 http routes (prefix, exact, header,
// regex, query and source matches) ending in a weighted 80/15/5 split, against the baseline of a
// host without VirtualService, measured in the same run. Reports median ns per selection, the
// ratio to the baseline, and heap allocations per selection (global operator new is replaced by a
// counting version in this file).

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/routing/route.h"

// ---------------------------------------------------------------- allocation counting

namespace {
std::atomic<uint64_t> g_allocations{0};

void* countedAlloc(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* countedAlignedAlloc(std::size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(align);
  const std::size_t rounded = (size + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, rounded == 0 ? a : rounded)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return countedAlloc(size); }
void* operator new[](std::size_t size) { return countedAlloc(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new(std::size_t size, std::align_val_t align) {
  return countedAlignedAlloc(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return countedAlignedAlloc(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using namespace meshsim;  // NOLINT(build/namespaces): benchmark file

// ---------------------------------------------------------------- the model

model::ObjectMeta meta(const char* kind, std::string ns, std::string name) {
  model::ObjectMeta m;
  m.kind = kind;
  m.namespace_ = std::move(ns);
  m.name = std::move(name);
  return m;
}

model::Service service(const char* name) {
  model::Service s;
  s.meta = meta("Service", "bookinfo", name);
  s.ports.push_back({"http", 9080, 9080, model::Protocol::kHttp});
  return s;
}

model::Workload workload(const char* name, const char* svc, const char* version) {
  model::Workload w;
  w.meta = meta("Workload", "bookinfo", name);
  w.service = svc;
  w.labels = {{"app", svc}, {"version", version}};
  return w;
}

model::StringMatch sm(model::MatchKind kind, std::string value) {
  return {kind, std::move(value), false};
}

model::HttpRoute routeTo(const char* subset, model::HttpMatchRequest match) {
  model::HttpRoute r;
  r.match.push_back(std::move(match));
  model::HttpRouteDestination d;
  d.destination.host = "reviews";
  d.destination.subset = subset;
  r.route.push_back(d);
  return r;
}

model::HttpMatchRequest uri(model::MatchKind kind, std::string value) {
  model::HttpMatchRequest m;
  m.uri = sm(kind, std::move(value));
  return m;
}

model::HttpMatchRequest header(std::string name, model::MatchKind kind, std::string value) {
  model::HttpMatchRequest m;
  m.headers.emplace(std::move(name), sm(kind, std::move(value)));
  return m;
}

std::shared_ptr<const config::Snapshot> model20Routes() {
  using K = model::MatchKind;
  std::vector<model::Resource> res = {
      service("reviews"),
      service("ratings"),
      workload("reviews-v1", "reviews", "v1"),
      workload("reviews-v2", "reviews", "v2"),
      workload("reviews-v3", "reviews", "v3"),
      workload("ratings-v1", "ratings", "v1"),
  };
  model::DestinationRule dr;
  dr.meta = meta("DestinationRule", "bookinfo", "reviews");
  dr.host = "reviews";
  for (const char* v : {"v1", "v2", "v3"}) {
    model::Subset s;
    s.name = v;
    s.labels = {{"version", v}};
    dr.subsets.push_back(s);
  }
  res.push_back(dr);

  model::VirtualService vs;
  vs.meta = meta("VirtualService", "bookinfo", "reviews");
  vs.hosts = {"reviews"};
  vs.http.push_back(routeTo("v2", header("end-user", K::kExact, "jason")));  // 0
  vs.http.push_back(routeTo("v1", uri(K::kExact, "/login")));                // 1
  vs.http.push_back(routeTo("v1", uri(K::kExact, "/logout")));               // 2
  vs.http.push_back(routeTo("v1", uri(K::kPrefix, "/api/v1/")));             // 3
  vs.http.push_back(routeTo("v2", uri(K::kPrefix, "/api/v2/")));             // 4
  vs.http.push_back(routeTo("v1", uri(K::kPrefix, "/static")));              // 5
  model::HttpMatchRequest canary;
  canary.headers.emplace("x-canary", model::StringMatch{K::kExact, "", true});
  vs.http.push_back(routeTo("v3", canary));                                   // 6
  vs.http.push_back(routeTo("v2", uri(K::kRegex, "/users/[0-9]+/profile")));  // 7
  vs.http.push_back(routeTo("v3", uri(K::kRegex, "/orders/[a-f0-9]{8}")));    // 8
  auto admin = uri(K::kPrefix, "/admin");
  admin.method = sm(K::kExact, "DELETE");
  vs.http.push_back(routeTo("v1", admin));  // 9
  model::HttpMatchRequest beta;
  beta.query_params.emplace("beta", sm(K::kExact, "1"));
  vs.http.push_back(routeTo("v3", beta));                                           // 10
  vs.http.push_back(routeTo("v2", header("user-agent", K::kRegex, ".*Mobile.*")));  // 11
  vs.http.push_back(routeTo("v1", uri(K::kPrefix, "/health")));                     // 12
  vs.http.push_back(routeTo("v1", uri(K::kExact, "/metrics")));                     // 13
  vs.http.push_back(routeTo("v2", header("x-tenant", K::kExact, "acme")));          // 14
  auto v3 = uri(K::kPrefix, "/v3/");
  v3.ignore_uri_case = true;
  vs.http.push_back(routeTo("v3", v3));                                               // 15
  vs.http.push_back(routeTo("v3", header("cookie", K::kRegex, ".*session=beta.*")));  // 16
  vs.http.push_back(routeTo("v1", uri(K::kRegex, "/search/.*")));                     // 17
  model::HttpMatchRequest other;
  other.source_labels = {{"app", "other"}};
  vs.http.push_back(routeTo("v3", other));  // 18
  model::HttpRoute split;                   // 19
  for (auto [v, w] : {std::pair{"v1", 80}, std::pair{"v2", 15}, std::pair{"v3", 5}}) {
    model::HttpRouteDestination d;
    d.destination.host = "reviews";
    d.destination.subset = v;
    d.weight = w;
    split.route.push_back(d);
  }
  vs.http.push_back(split);
  res.push_back(vs);
  return config::makeSnapshot(std::move(res));
}

struct Fixture {
  routing::CompiledRoutes routes = routing::compileRoutes(model20Routes());
  model::StringMap labels = {{"app", "productpage"}, {"version", "v1"}};
  std::vector<std::pair<std::string, std::string>> headers = {
      {"user-agent", "curl/8.4.0"},
      {"accept", "*/*"},
      {"cookie", "theme=dark; lang=en"},
      {"x-request-id", "5f0c1c5e-8d3b-4a55-9b1d-0c1f4b2f3e6a"},
      {"x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"},
      {"x-forwarded-proto", "http"},
  };

  routing::RouteRequest request(std::string_view authority, std::string_view path) const {
    routing::RouteRequest r;
    r.source_namespace = "bookinfo";
    r.source_labels = &labels;
    r.authority = authority;
    r.port = 9080;
    r.path = path;
    r.headers = headers;
    return r;
  }
};

const Fixture& fixture() {
  static const Fixture* f = new Fixture();
  return *f;
}

void runSelections(benchmark::State& state, const routing::RouteRequest& req, int expect_route) {
  const auto& routes = fixture().routes;
  routing::RouteDice dice;
  double pick = 0;
  {
    const auto check = routing::selectRoute(routes, req, dice);
    if (check.outcome != routing::RouteOutcome::kForward ||
        check.routeInfo().route_index != expect_route) {
      state.SkipWithError("the benchmark request does not take the expected route");
      return;
    }
  }
  const uint64_t before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    pick += 0.6180339887;  // low-discrepancy walk over [0,1) for the weighted pick
    if (pick >= 1) pick -= 1;
    dice.pick = pick;
    auto result = routing::selectRoute(routes, req, dice);
    benchmark::DoNotOptimize(result);
  }
  const uint64_t allocations = g_allocations.load(std::memory_order_relaxed) - before;
  state.counters["allocs_per_selection"] = benchmark::Counter(
      static_cast<double>(allocations) / static_cast<double>(state.iterations()));
}

void BM_Baseline_NoVirtualService(benchmark::State& state) {
  runSelections(state, fixture().request("ratings:9080", "/ratings/0"), -1);
}
void BM_Vs20_FirstRouteHeader(benchmark::State& state) {
  auto req = fixture().request("reviews:9080", "/reviews/0");
  static const std::vector<std::pair<std::string, std::string>> headers = [] {
    auto h = fixture().headers;
    h.push_back({"end-user", "jason"});
    return h;
  }();
  req.headers = headers;
  runSelections(state, req, 0);
}
void BM_Vs20_RegexRoute7(benchmark::State& state) {
  runSelections(state, fixture().request("reviews:9080", "/users/12345/profile"), 7);
}
void BM_Vs20_LastRouteWeighted(benchmark::State& state) {
  runSelections(state, fixture().request("reviews:9080", "/reviews/0?page=2"), 19);
}
void BM_Vs20_LastRouteWeightedFqdn(benchmark::State& state) {
  runSelections(state, fixture().request("reviews.bookinfo.svc.cluster.local:9080", "/reviews/0"),
                19);
}
void BM_Vs20_LastRouteExplained(benchmark::State& state) {
  auto req = fixture().request("reviews:9080", "/reviews/0");
  req.explain = true;
  runSelections(state, req, 19);
}

// Ratios to the baseline, from the median of the repetitions.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median") {
        medians_.push_back(
            {run.run_name.function_name, run.GetAdjustedRealTime(), run.GetAdjustedCPUTime()});
        auto it = run.counters.find("allocs_per_selection");
        allocs_.push_back(it == run.counters.end() ? 0.0 : it->second.value);
      }
    }
  }
  // CPU time is the primary figure: the machine is shared, so wall time includes waiting.
  void summary() const {
    double baseline = 0;
    for (const auto& m : medians_) {
      if (m.name.find("Baseline") != std::string::npos) baseline = m.cpu_ns;
    }
    std::printf("\n%-32s %10s %10s %10s %11s\n", "median per selection", "cpu ns", "wall ns",
                "x baseline", "allocs/sel");
    for (size_t i = 0; i < medians_.size(); ++i) {
      const Median& m = medians_[i];
      std::printf("%-32s %10.1f %10.1f %10.2f %11.2f\n", m.name.c_str(), m.cpu_ns, m.wall_ns,
                  baseline > 0 ? m.cpu_ns / baseline : 0.0, allocs_[i]);
    }
  }

 private:
  struct Median {
    std::string name;
    double wall_ns;
    double cpu_ns;
  };
  std::vector<Median> medians_;
  std::vector<double> allocs_;
};

}  // namespace

BENCHMARK(BM_Baseline_NoVirtualService)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Vs20_FirstRouteHeader)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Vs20_RegexRoute7)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Vs20_LastRouteWeighted)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Vs20_LastRouteWeightedFqdn)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_Vs20_LastRouteExplained)->Repetitions(5)->ReportAggregatesOnly(true);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.summary();
  benchmark::Shutdown();
  return 0;
}
