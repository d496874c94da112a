#pragma once
/// The engine's view of a data plane: something that runs a MeshPlan with real sidecars and lets
/// the engine send requests through them. proxy/ implements it with Boost.Asio sidecars on
/// loopback (LoopbackDataPlane); headless/ and gui/ get one injected by their main.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/dataplane/plan.h"
#include "meshsim/observe/telemetry.h"
#include "meshsim/pki/svid.h"

namespace meshsim::dataplane {

/// Who sends a probe.
struct ProbeSource {
  enum class Kind {
    kWorkload,  ///< the app of `workload` calls through its own sidecar (or directly without one)
    kOutside,   ///< a plain client on 127.0.0.1: no sidecar, no certificate, dials an endpoint
    kTls,       ///< a client on 127.0.0.1 presenting `credential` (stolen or forged) over TLS
    kIngress,   ///< a plain client sending to the ingress gateway
  };
  Kind kind = Kind::kOutside;
  std::string workload;  ///< kWorkload: "ns/name"
  uint32_t replica = 0;  ///< kWorkload: which replica's app sends
  /// kTls: the certificate and key presented (a stolen SVID keeps its dates; a forged one is
  /// self-signed). No value: TLS without a client certificate.
  std::optional<pki::Svid> credential;
};

/// One request into the mesh.
struct ProbeRequest {
  ProbeSource from;
  std::string to_namespace;
  std::string to_service;
  uint32_t port = 0;            ///< Service port; 0 = the first port
  /// kOutside/kTls: dial this workload ("ns/name") of the service; empty = its first endpoint.
  std::string target_workload;
  std::string method = "GET";
  std::string path = "/";
  std::string host;             ///< default "<svc>.<ns>.svc.cluster.local:<port>"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};
};

/// What came back.
struct ProbeResult {
  int status = 0;              ///< HTTP status; 0 = reset or refused before any response
  std::string body;
  std::string response_flags;  ///< Envoy flags of the client sidecar ("" when none)
  bool mtls = false;           ///< the hop into the destination sidecar was mutual TLS
  std::string served_by;       ///< "ns/workload" of the app that answered ("" if none did)
  std::string version;         ///< its version label
  std::string pod;
  std::string cluster;
  std::string error;           ///< transport failure: "connection refused", TLS reason, timeout
  double latency_ms = 0;
};

/// A burst of traffic: `requests` requests (or, when 0, for `duration`) by `concurrency`
/// parallel clients, each waiting for its answer before the next request.
struct TrafficSpec {
  ProbeRequest request;
  uint64_t requests = 100;
  std::chrono::milliseconds duration{0};
  uint32_t concurrency = 1;
};

/// Counts and latency of a burst.
struct TrafficResult {
  uint64_t sent = 0;
  std::map<int, uint64_t> by_status;            ///< 0 = reset / transport error
  std::map<std::string, uint64_t> by_version;   ///< version of the app that answered ("" none)
  std::map<std::string, uint64_t> by_workload;  ///< "ns/name" that answered
  bool all_mtls = true;                         ///< every answered request came over mTLS
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  double seconds = 0;                           ///< wall time of the burst
  std::vector<std::string> errors;              ///< first distinct transport errors (at most 5)
};

/// A request to the admin endpoint (`meshsim serve --admin-port`).
struct AdminRequest {
  std::string method;  ///< "GET", "POST", ...
  std::string path;    ///< without the query
  std::string query;   ///< after "?", may be empty
  std::vector<std::pair<std::string, std::string>> headers;  ///< lower-case names
  std::string body;
};

/// The admin endpoint's answer.
struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// Answers admin requests. Called on the data plane's admin thread, one request at a time; it may
/// block (e.g. to run the request on the engine thread).
using AdminHandler = std::function<AdminResponse(const AdminRequest&)>;

/// A running data plane. Methods are called from the engine thread; implementations run their
/// own threads and must make apply() atomic for in-flight requests (finish them on the plan
/// they started with).
class DataPlane {
 public:
  virtual ~DataPlane() = default;

  /// Starts sidecars, apps and the ingress for the first plan; for later plans starts new
  /// listeners, stops removed ones and swaps the configuration of the rest without dropping
  /// in-flight requests. Returns when the plan is in force. Unavailable when a listener cannot
  /// be bound (naming address and port).
  virtual Status apply(std::shared_ptr<const MeshPlan> plan) = 0;
  /// Stops everything and joins the threads. Idempotent.
  virtual void stop() = 0;
  /// Sends one request and waits for its outcome (bounded by request.timeout).
  virtual ProbeResult probe(const ProbeRequest& request) = 0;
  /// Sends a burst and waits for it to finish.
  virtual TrafficResult traffic(const TrafficSpec& spec) = 0;
  /// A copy of the telemetry recorded so far. Thread-safe.
  virtual observe::TelemetrySnapshot telemetry() const = 0;
  /// The last `max_entries` access log entries, oldest first. Thread-safe.
  virtual std::vector<observe::AccessLogEntry> accessLog(size_t max_entries) const = 0;
  /// The ingress gateway's port on 127.0.0.1 (0 before apply()).
  virtual uint16_t ingressPort() const = 0;
  /// Number of listening sockets.
  virtual size_t listenerCount() const = 0;
  /// Serves `handler` over plain HTTP/1.1 on 127.0.0.1:`port` (0 = an ephemeral port) on a thread
  /// of its own, until stop(). Returns the bound port; Unavailable when it cannot listen.
  virtual Result<uint16_t> serveAdmin(uint16_t port, AdminHandler handler) = 0;
};

/// What the composition root (headless/main.cpp, gui/main.cpp) lets verbs choose about the data
/// plane they get.
struct DataPlaneOptions {
  unsigned threads = 2;        ///< event-loop threads
  bool ingress = true;         ///< start the ingress gateway
  uint16_t ingress_port = 0;   ///< on 127.0.0.1; 0 = an ephemeral port
  bool access_log = true;      ///< keep access log lines (metrics are always recorded)
};

/// Makes a data plane. main.cpp injects one that builds proxy::LoopbackDataPlane, so that verbs
/// and the GUI never name proxy/ (ARCHITECTURE.md R4).
using DataPlaneFactory = std::function<std::unique_ptr<DataPlane>(const DataPlaneOptions&)>;

}  // namespace meshsim::dataplane
