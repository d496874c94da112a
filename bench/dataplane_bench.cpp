// The loopback data plane in-process: one request from an app through its sidecar, mutual TLS
// over a pooled keep-alive connection, the server sidecar's filters and the app behind it —
// against a baseline of the same HTTP exchange between two plain Beast endpoints on loopback, in
// the same run. The same request with a new mutual-TLS connection each time (a DestinationRule's
// maxRequestsPerConnection: 1; sidecars resume the session, as they do by default); the
// difference of their process_cpu_us counters is what a new connection costs both sidecars.
// And start-up: certificates, plans and listeners for N workloads.
//
//   build/release/bench/dataplane_bench --benchmark_counters_tabular=true
//
// Whole-process figures against nginx (wrk through the ingress, pinned cores) are in
// bench/peers/compare.sh; whole-process start-up and memory in bench/peers/startup.sh.
#include <benchmark/benchmark.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <ctime>
#include <fstream>
#include <string>
#include <thread>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/engine.h"
#include "meshsim/proxy/loopback_data_plane.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::shared_ptr<const meshsim::config::Snapshot> load(const std::string& text) {
  auto loaded = meshsim::config::loadString(text, "bench.yaml");
  meshsim::config::validateReferences(loaded.resources, loaded.diagnostics);
  if (loaded.diagnostics.hasErrors()) {
    std::fprintf(stderr, "%s\n", loaded.diagnostics.items()[0].toString().c_str());
    std::abort();
  }
  return meshsim::config::makeSnapshot(loaded.resources);
}

// A mesh of `n` services (one workload each) in one cluster, plus a client and a backend.
std::string mesh(int n) {
  std::string y =
      "apiVersion: meshsim/v1\nkind: Cluster\nmetadata: {name: bench}\n---\n"
      "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {namespace: istio-system, name: default}\n"
      "spec: {mtls: {mode: STRICT}}\n---\n"
      "apiVersion: meshsim/v1\nkind: Service\nmetadata: {namespace: bench, name: backend}\n"
      "spec: {ports: [{name: http, port: 8080}]}\n---\n"
      "apiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: bench, name: backend-v1}\n"
      "spec: {service: backend, cluster: bench, serviceAccount: backend, labels: {app: backend, version: v1}}\n---\n"
      "apiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: bench, name: client}\n"
      "spec: {cluster: bench, serviceAccount: client, labels: {app: client}}\n";
  for (int i = 0; i < n; ++i) {
    const std::string ns = "ns" + std::to_string(i / 100);
    const std::string s = "svc" + std::to_string(i);
    y += "---\napiVersion: meshsim/v1\nkind: Service\nmetadata: {namespace: " + ns + ", name: " + s +
         "}\nspec: {ports: [{name: http, port: 8080}]}\n---\napiVersion: meshsim/v1\nkind: Workload\n"
         "metadata: {namespace: " + ns + ", name: " + s + "-v1}\nspec: {service: " + s +
         ", cluster: bench, serviceAccount: " + s + ", labels: {app: " + s + ", version: v1}}\n";
  }
  return y;
}

// CPU time of the whole process (every event-loop thread), in seconds.
double processCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Resident memory of this process in KiB (VmRSS).
long residentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Baseline: a keep-alive HTTP/1.1 exchange between a Beast client and a Beast server answering
// 200 on loopback, no TLS, no sidecar — the floor the mesh path is measured against.
void BM_BaselinePlainHttpRoundTrip(benchmark::State& state) {
  asio::io_context server_io(1);
  asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::thread server([&] {
    asio::ip::tcp::socket socket(server_io);
    acceptor.accept(socket);
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      beast::error_code ec;
      http::read(socket, buffer, req, ec);
      if (ec) break;
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"service":"backend","version":"v1"})";
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec) break;
    }
  });
  asio::io_context io(1);
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  beast::flat_buffer buffer;
  for (auto _ : state) {
    http::request<http::string_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, "backend.bench.svc.cluster.local:8080");
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    benchmark::DoNotOptimize(res.body().data());
  }
  socket.close();
  server.join();
}
BENCHMARK(BM_BaselinePlainHttpRoundTrip)->UseRealTime();

// The mesh path: client app -> client sidecar (route, pool) -> TLS 1.3 mTLS -> server sidecar
// (peer authentication, JWT, authorization, telemetry, access log) -> app -> back.
// Arg 0: pooled keep-alive connections. Arg 1: a new connection for every request.
// process_cpu_us: CPU of the whole process (both sidecars, both apps) per request.
void BM_MeshRequestThroughTwoSidecars(benchmark::State& state) {
  meshsim::proxy::LoopbackOptions options;
  options.threads = 1;
  options.ingress = false;
  std::string yaml = mesh(0);
  if (state.range(0) != 0) {
    yaml +=
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {namespace: bench, name: backend}\n"
        "spec: {host: backend, trafficPolicy: {connectionPool: {http: {maxRequestsPerConnection: 1}}}}\n";
  }
  auto runtime = meshsim::MeshRuntime::create(load(yaml),
                                              std::make_unique<meshsim::proxy::LoopbackDataPlane>(options));
  if (!runtime.ok() || !(*runtime)->start().ok()) {
    state.SkipWithError("mesh did not start");
    return;
  }
  meshsim::dataplane::ProbeRequest pr;
  pr.from.kind = meshsim::dataplane::ProbeSource::Kind::kWorkload;
  pr.from.workload = "bench/client";
  pr.to_namespace = "bench";
  pr.to_service = "backend";
  auto& dp = (*runtime)->dataPlane();
  if (dp.probe(pr).status != 200) {  // warms the pool: one full handshake
    state.SkipWithError("probe failed");
    return;
  }
  int failures = 0;
  const double cpu_start = processCpuSeconds();
  for (auto _ : state) {
    auto r = dp.probe(pr);
    if (r.status != 200) ++failures;
    benchmark::DoNotOptimize(r.status);
  }
  state.counters["process_cpu_us"] = benchmark::Counter(
      (processCpuSeconds() - cpu_start) * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["failures"] = failures;
  (*runtime)->stop();
}
BENCHMARK(BM_MeshRequestThroughTwoSidecars)->Arg(0)->Arg(1)->UseRealTime();

// Start-up: CA, certificates (one identity per workload), compiled plans and one listener per
// workload; memory is the resident growth divided by the workloads.
void BM_StartWorkloads(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto snapshot = load(mesh(n));
  double kib_per_workload = 0;
  for (auto _ : state) {
    const long before = residentKib();
    meshsim::proxy::LoopbackOptions options;
    options.threads = 2;
    options.ingress = false;
    auto runtime = meshsim::MeshRuntime::create(snapshot,
                                                std::make_unique<meshsim::proxy::LoopbackDataPlane>(options));
    if (!runtime.ok() || !(*runtime)->start().ok()) {
      state.SkipWithError("mesh did not start");
      return;
    }
    state.PauseTiming();
    kib_per_workload = static_cast<double>(residentKib() - before) / (n + 2);
    (*runtime)->stop();
    runtime->reset();
    state.ResumeTiming();
  }
  state.counters["workloads"] = n + 2;
  state.counters["KiB_per_workload"] = kib_per_workload;
  state.counters["workloads_per_s"] =
      benchmark::Counter(static_cast<double>(n + 2) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StartWorkloads)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
