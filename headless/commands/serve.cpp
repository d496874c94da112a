// `meshsim serve`: start the mesh and keep it running for people and tools — the ingress gateway
// for curl or wrk, and an admin endpoint (/metrics, /topology, /audit, /accesslog, /apply) so a
// second terminal can change policy while traffic flows. Ctrl-C (or SIGTERM) stops it cleanly.
#include <pthread.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include "commands/commands.h"
#include "commands/common.h"
#include "commands/state_options.h"
#include "meshsim/analysis/topology.h"
#include "meshsim/config/loader.h"
#include "meshsim/engine.h"
#include "meshsim/mgmt/rbac.h"
#include "meshsim/observe/telemetry.h"

namespace meshsim::cli {

namespace {

// Work for the engine thread (the main thread), posted by the admin endpoint and the signal
// watcher. Everything that touches the runtime or the management plane runs here.
class EngineQueue {
 public:
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  // Runs `task` on the engine thread and waits for its result.
  template <typename T>
  T call(std::function<T()> task) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    post([promise, task] { promise->set_value(task()); });
    return future.get();
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
  }
  // Runs tasks until stop().
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
};

std::string headerOf(const dataplane::AdminRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

std::string queryParam(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

dataplane::AdminResponse json(int status, const nlohmann::json& doc) {
  return {status, "application/json", doc.dump(2) + "\n"};
}

// The admin endpoint's routes, run on the engine thread.
struct Admin {
  MeshRuntime& runtime;
  mgmt::ManagementPlane& plane;

  dataplane::AdminResponse handle(const dataplane::AdminRequest& r) {
    if (r.path == "/" && r.method == "GET") {
      return {200, "text/plain; charset=utf-8",
              "meshsim admin endpoint\n"
              "  GET  /metrics    Prometheus text format (Istio standard metrics)\n"
              "  GET  /topology   the mesh topology with live request counts (JSON)\n"
              "  GET  /audit      the audit log (JSON)\n"
              "  GET  /accesslog  recent access log lines (?n=100)\n"
              "  POST /apply      YAML body, header x-meshsim-user: USER (or ?user=USER)\n"
              "  POST /delete     YAML body naming the resources, same user header\n"};
    }
    if (r.path == "/metrics" && r.method == "GET") {
      return {200, "text/plain; version=0.0.4; charset=utf-8",
              observe::toPrometheus(runtime.dataPlane().telemetry())};
    }
    if (r.path == "/accesslog" && r.method == "GET") {
      size_t n = 100;
      std::string q = queryParam(r.query, "n");
      if (!q.empty()) n = static_cast<size_t>(std::strtoul(q.c_str(), nullptr, 10));
      std::string out;
      for (const auto& e : runtime.dataPlane().accessLog(n)) out += observe::formatAccessLog(e) + "\n";
      return {200, "text/plain; charset=utf-8", out};
    }
    if (r.path == "/topology" && r.method == "GET") return topology();
    if (r.path == "/audit" && r.method == "GET") return audit();
    if ((r.path == "/apply" || r.path == "/delete") && r.method == "POST") return change(r);
    if (r.path == "/apply" || r.path == "/delete" || r.path == "/metrics" || r.path == "/topology" ||
        r.path == "/audit" || r.path == "/accesslog") {
      return {405, "text/plain; charset=utf-8", "method not allowed\n"};
    }
    return {404, "text/plain; charset=utf-8", "not found: " + r.path + " (GET / lists the endpoints)\n"};
  }

  dataplane::AdminResponse topology() {
    analysis::TopologyOptions options;
    analysis::TopologyOverlay overlay;
    for (const auto& [labels, stats] : runtime.dataPlane().telemetry().requests) {
      if (labels.reporter != "destination" || labels.source_workload == "unknown") continue;
      auto key = analysis::edgeKey(labels.source_workload_namespace + "/" + labels.source_workload,
                                   labels.destination_workload_namespace + "/" + labels.destination_workload);
      auto& edge = overlay.edges[key];
      edge.requests += stats.count;
      if (labels.response_code >= 500 || labels.response_code == 0) edge.errors += stats.count;
    }
    options.overlay = overlay;
    auto topo = analysis::buildTopology(runtime.plan()->config, options);
    if (!topo.ok()) return {500, "text/plain; charset=utf-8", topo.status().message() + "\n"};
    return {200, "application/json", analysis::toJson(*topo) + "\n"};
  }

  dataplane::AdminResponse audit() {
    auto records = plane.state().audit();
    if (!records.ok()) return {500, "text/plain; charset=utf-8", records.status().message() + "\n"};
    nlohmann::json out = nlohmann::json::array();
    for (const auto& a : *records) {
      out.push_back({{"seq", a.seq}, {"time", a.time}, {"user", a.user}, {"verb", a.verb},
                     {"kind", a.kind}, {"resource", a.resource}, {"outcome", a.outcome},
                     {"reason", a.reason}, {"diff", a.diff}});
    }
    return json(200, out);
  }

  dataplane::AdminResponse change(const dataplane::AdminRequest& r) {
    std::string user = headerOf(r, "x-meshsim-user");
    if (user.empty()) user = queryParam(r.query, "user");
    if (user.empty()) {
      return {400, "text/plain; charset=utf-8", "name the acting user: header x-meshsim-user: USER or ?user=USER\n"};
    }
    auto loaded = config::loadString(r.body, "request body");
    if (loaded.diagnostics.hasErrors()) {
      std::string msg;
      for (const auto& d : loaded.diagnostics.items()) msg += d.toString() + "\n";
      return {400, "text/plain; charset=utf-8", msg};
    }
    std::vector<mgmt::ChangeOutcome> outcomes;
    if (r.path == "/apply") {
      outcomes = plane.apply(loaded.resources, user);
    } else {
      std::vector<model::ResourceKey> keys;
      for (const auto& res : loaded.resources) keys.push_back(model::keyOf(res));
      outcomes = plane.remove(keys, user);
    }
    bool any_accepted = false, all_accepted = true;
    StatusCode first_refusal = StatusCode::kOk;
    nlohmann::json out = nlohmann::json::array();
    for (const auto& o : outcomes) {
      any_accepted = any_accepted || o.accepted;
      if (!o.accepted && all_accepted) first_refusal = o.code;
      all_accepted = all_accepted && o.accepted;
      out.push_back({{"resource", o.resource}, {"kind", o.kind}, {"accepted", o.accepted},
                     {"result", o.result}, {"code", statusCodeName(o.code)}, {"message", o.message}});
    }
    if (any_accepted) {
      if (Status st = runtime.reconfigure(plane.snapshot()); !st.ok()) {
        return {500, "text/plain; charset=utf-8", "accepted, but the mesh could not be reconfigured: " + st.message() + "\n"};
      }
    }
    int status = all_accepted ? 200
                 : first_refusal == StatusCode::kPermissionDenied ? 403
                 : first_refusal == StatusCode::kFailedPrecondition ? 409
                                                                    : 400;
    return json(status, out);
  }
};

// SIGINT/SIGTERM are blocked in every thread and collected by one watcher thread (no work in a
// signal handler).
sigset_t stopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void registerServe(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Start the mesh and keep it running: ingress gateway + admin endpoint");
  cmd->footer(
      "Prints 'ready: ...' once every listener is bound. Admin endpoint: GET /metrics /topology\n"
      "/audit /accesslog, POST /apply and /delete (YAML body, header x-meshsim-user: USER).\n"
      "Ctrl-C or SIGTERM stops it. Exit status: 0 after a clean stop, 2 bad input or a port in use.");
  auto inputs = std::make_shared<InputOptions>();
  addInputOptions(*cmd, *inputs);
  struct Opts {
    std::string state;
    uint16_t ingress_port = 0;
    uint16_t admin_port = 0;
    unsigned threads = 2;
    bool no_admin = false;
    bool no_access_log = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--state", o->state,
                  "Management-plane state directory (default: a temporary one, removed on exit); "
                  "-f files are applied to it as admin");
  cmd->add_option("--ingress-port", o->ingress_port, "Ingress gateway port on 127.0.0.1 (default: any free port)");
  cmd->add_option("--admin-port", o->admin_port, "Admin endpoint port on 127.0.0.1 (default: any free port)");
  cmd->add_option("--threads", o->threads, "Data-plane event-loop threads (default 2)")->check(CLI::Range(1, 64));
  cmd->add_flag("--no-admin", o->no_admin, "Do not start the admin endpoint");
  cmd->add_flag("--no-access-log", o->no_access_log,
                "Keep no access log lines (as Istio's default meshConfig; metrics stay on)");
  cmd->callback([inputs, o] {
    const auto started = std::chrono::steady_clock::now();
    const auto& factory = dataPlaneFactory();
    if (!factory) {
      std::cerr << "meshsim serve: this build has no data plane\n";
      setExitCode(kExitUsage);
      return;
    }
    // The configuration: -f files, applied as admin to the state (a temporary one by default).
    std::unique_ptr<config::LoadResult> loaded;
    if (!inputs->paths.empty()) {
      loaded = std::make_unique<config::LoadResult>(config::loadPaths(inputs->paths));
      loaded->diagnostics.sort();
      if (loaded->diagnostics.hasErrors()) {
        for (const auto& d : loaded->diagnostics.items()) std::cerr << d.toString() << "\n";
        setExitCode(kExitUsage);
        return;
      }
    }
    std::string state_dir = o->state;
    bool temporary = false;
    if (state_dir.empty()) {
      std::error_code ec;
      auto base = std::filesystem::temp_directory_path(ec);
      if (ec) base = "/tmp";
      state_dir = (base / ("meshsim-serve-" + std::to_string(::getpid()))).string();
      temporary = true;
    }
    struct Cleanup {
      std::string dir;
      bool remove;
      ~Cleanup() {
        std::error_code ec;
        if (remove) std::filesystem::remove_all(dir, ec);
      }
    } cleanup{state_dir, temporary};
    // A temporary state is deleted on exit: it need not survive a crash either.
    auto plane = mgmt::ManagementPlane::open(
        state_dir, mgmt::wallClockRfc3339,
        temporary ? mgmt::Durability::kProcessLifetime : mgmt::Durability::kDurable);
    if (!plane.ok()) {
      std::cerr << "meshsim serve: cannot open state " << state_dir << ": " << plane.status().toString() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    if (loaded) {
      for (const auto& outcome : (*plane)->apply(loaded->resources, mgmt::kBootstrapAdmin)) {
        if (!outcome.accepted) {
          std::cerr << "meshsim serve: " << outcome.kind << " " << outcome.resource << " refused: "
                    << outcome.message << "\n";
          setExitCode(kExitUsage);
          return;
        }
      }
    }
    const auto workloads = (*plane)->snapshot()->workloads.size();
    if (workloads == 0) {
      std::cerr << "meshsim serve: the configuration has no Workload: nothing to serve (give -f PATH)\n";
      setExitCode(kExitUsage);
      return;
    }

    // Block the stop signals before any thread starts, so only the watcher receives them.
    sigset_t signals = stopSignals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    dataplane::DataPlaneOptions dp;
    dp.threads = o->threads;
    dp.ingress = true;
    dp.ingress_port = o->ingress_port;
    dp.access_log = !o->no_access_log;
    auto runtime = MeshRuntime::create((*plane)->snapshot(), factory(dp));
    if (!runtime.ok()) {
      std::cerr << "meshsim serve: " << runtime.status().message() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    if (Status st = (*runtime)->start(); !st.ok()) {
      std::cerr << "meshsim serve: " << st.message() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    EngineQueue queue;
    Admin admin{**runtime, **plane};
    uint16_t admin_port = 0;
    if (!o->no_admin) {
      auto bound = (*runtime)->dataPlane().serveAdmin(o->admin_port, [&queue, &admin](const dataplane::AdminRequest& r) {
        return queue.call<dataplane::AdminResponse>([&admin, r] { return admin.handle(r); });
      });
      if (!bound.ok()) {
        std::cerr << "meshsim serve: admin endpoint: " << bound.status().message() << "\n";
        (*runtime)->stop();
        setExitCode(kExitUsage);
        return;
      }
      admin_port = *bound;
    }
    std::thread watcher([&queue, signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      queue.stop();
    });

    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    const auto& dataplane = (*runtime)->dataPlane();
    std::cout << "meshsim: ingress http://127.0.0.1:" << dataplane.ingressPort()
              << "  (send Host: <service>.<namespace>.svc.cluster.local)\n";
    if (admin_port != 0) {
      std::cout << "meshsim: admin   http://127.0.0.1:" << admin_port << "  (/metrics /topology /audit /accesslog /apply)\n";
    }
    std::cout << "ready: " << workloads << " workloads, " << dataplane.listenerCount() << " listeners, "
              << (*runtime)->plan()->workloads.size() << " sidecar plans in " << static_cast<int64_t>(ms)
              << " ms (Ctrl-C stops)" << std::endl;

    queue.run();  // until SIGINT/SIGTERM
    (*runtime)->stop();
    watcher.join();  // it returned after queueing the stop
    std::cout << "meshsim: stopped" << std::endl;
    setExitCode(kExitOk);
  });
}

}  // namespace meshsim::cli
