#pragma once
// Internals of the loopback data plane: the event loops, one Replica per workload replica (its
// sidecar's listeners and outbound pool, and its in-process app), telemetry and the access log.
// Every Replica lives on one io_context: its listeners, its connections, its pool and its app run
// on that thread only, so replica state needs no locks (the io_context is the strand).

#include <boost/asio.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "meshsim/dataplane/dataplane.h"
#include "meshsim/observe/telemetry.h"
#include "meshsim/policy/request.h"
#include "meshsim/routing/destination.h"
#include "timed_socket.h"
#include "tls/identity_tls.h"
#include "tls/tls_stream.h"

namespace meshsim::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
/// Everything in the data plane runs on io_context threads, so coroutines and I/O objects name
/// the io_context's own executor instead of the type-erased asio::any_io_executor, whose copies
/// and dispatch through a function table showed on every completion of the request path.
using Executor = asio::io_context::executor_type;
template <typename T>
using awaitable = asio::awaitable<T, Executor>;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
/// A TCP connection with a deadline (timed_socket.h).
using TcpStream = TimedSocket;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
/// TLS over such a connection (tls/tls_stream.h).
using TlsStream = tls::TlsStream<TcpStream>;
/// Completion token: coroutines get (error_code, result...) tuples and never throw for I/O.
inline constexpr auto kTuple = asio::as_tuple(asio::use_awaitable_t<Executor>{});

/// Envoy's local reply bodies for upstream failures (istio-semantics.md section 7).
inline constexpr std::string_view kBodyReset =
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "termination";
inline constexpr std::string_view kBodyConnectFailure =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
inline constexpr std::string_view kBodyOverflow =
    "upstream connect error or disconnect/reset before headers. reset reason: overflow";
inline constexpr std::string_view kBodyTimeout = "upstream request timeout";
inline constexpr std::string_view kBodyNoHealthyUpstream = "no healthy upstream";
inline constexpr std::string_view kBodyRateLimited = "local_rate_limited";

/// Envoy's route timeout when a route sets none.
inline constexpr std::chrono::milliseconds kDefaultRouteTimeout{15000};
/// Envoy's default upstream connect timeout.
inline constexpr std::chrono::milliseconds kConnectTimeout{10000};
/// Idle keep-alive connections are closed after this long (Envoy's idle_timeout is 1 h; the
/// testbed keeps fewer file descriptors around).
inline constexpr std::chrono::seconds kIdleTimeout{60};
/// Most idle pooled connections kept per upstream endpoint and port.
inline constexpr size_t kMaxIdlePerUpstream = 64;

/// The data plane's view of one plan: the plan plus the indexes the proxies need per request.
struct PlanView {
  std::shared_ptr<const dataplane::MeshPlan> plan;
  /// Replica address -> (workload plan, replica index): who a connection comes from.
  std::unordered_map<std::string, std::pair<const dataplane::WorkloadPlan*, uint32_t>> by_address;
  /// The ingress gateway as a telemetry peer (upstream_policy.h ingressWorkload()).
  dataplane::WorkloadPlan ingress;
};

/// Counters, histograms and the access log, shared by every replica. Thread-safe.
class Telemetry {
 public:
  explicit Telemetry(size_t log_capacity) : log_capacity_(log_capacity) {}

  /// Which sidecar reports and about which edge.
  struct Edge {
    const char* reporter;  ///< "source" or "destination"
    const dataplane::WorkloadPlan* source = nullptr;       ///< null: unknown
    const dataplane::WorkloadPlan* destination = nullptr;  ///< null: unknown
    std::string_view source_principal;                     ///< empty: unknown
    std::string_view destination_service;                  ///< FQDN, may be empty
    std::string_view destination_service_name;
    std::string_view destination_service_namespace;
    bool http = true;
    bool mtls = false;
  };
  /// Records one request of `edge` with `status` and `flags`.
  void request(const Edge& edge, int status, std::string_view flags, double duration_ms);
  /// Records a TCP connection opened (or closed) on `edge`.
  void tcp(const Edge& edge, bool opened);
  /// Appends an access log line.
  void log(observe::AccessLogEntry entry);
  /// Whether access log lines are kept at all (capacity > 0): callers skip building them when not.
  bool logging() const { return log_capacity_ > 0; }

  observe::TelemetrySnapshot snapshot() const;
  std::vector<observe::AccessLogEntry> accessLog(size_t max_entries) const;

 private:
  struct Series {
    observe::RequestLabels labels;
    observe::RequestStats stats;
    observe::TcpStats tcp;
  };
  static void key(std::string& out, const Edge& edge, int status, std::string_view flags);
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static observe::RequestLabels labels(const Edge& edge, int status, std::string_view flags);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Series, KeyHash, std::equal_to<>> requests_;
  std::unordered_map<std::string, Series, KeyHash, std::equal_to<>> tcp_;
  std::deque<observe::AccessLogEntry> log_;
  size_t log_capacity_;
};

/// What an upstream exchange produced, as the calling app (or probe) sees it.
struct UpstreamResult {
  int status = 0;            ///< 0: no HTTP response (only for non-sidecar clients)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< response headers
  std::string flags;         ///< Envoy response flags of the client sidecar, "" when none
  bool mtls = false;
  std::string upstream_host;      ///< "127.C.X.Y:port"
  std::string upstream_workload;  ///< "ns/name"
  std::string error;              ///< transport failure text
};

/// One request an app (or the ingress, or a probe) sends through its sidecar.
struct OutboundRequest {
  std::string authority;  ///< host[:port] as the app writes it
  uint32_t port = 0;      ///< the Service port (0: from the authority or the service's first)
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;  ///< lower-case names
  std::string body;
  std::chrono::milliseconds timeout{0};  ///< 0: the route's timeout
};

class Mesh;
struct PooledConnection;
class UpstreamPolicy;

/// One workload replica: its sidecar (listeners, filters, outbound pool) and its app; or the
/// ingress gateway (gateway == true: a plain HTTP listener that routes like a sidecar).
class Replica : public std::enable_shared_from_this<Replica> {
 public:
  Replica(Mesh& mesh, asio::io_context& io, std::string key, uint32_t index, std::string address,
          bool gateway);
  ~Replica();

  /// Opens, binds and listens on `port` (engine thread, before any async operation). The
  /// accept loop starts with start().
  Status bindPort(uint32_t port);
  /// Switches to `view` (io thread): new connections and requests use it; starts accept loops
  /// for listeners not yet running; closes listeners whose port is gone.
  /// `svid` is this sidecar's certificate (null: no sidecar); its TLS contexts are built on the
  /// first connection that needs them (an SSL_CTX pair costs ~0.5 ms: 10,000 idle workloads
  /// should not pay it at start-up).
  void install(std::shared_ptr<const PlanView> view, const pki::Svid* svid);
  /// Closes the listeners and drains (io thread).
  void shutdown();

  /// Sends one request through this replica's sidecar (io thread): routing, endpoint pick,
  /// transport, pooled connection, retries, timeouts, telemetry. Never throws.
  awaitable<UpstreamResult> callUpstream(OutboundRequest request);

  const std::string& key() const { return key_; }
  const std::string& address() const { return address_; }
  asio::io_context& io() { return io_; }
  size_t listenerCount() const { return listeners_.size(); }
  std::vector<uint32_t> ports() const;
  /// The current view (io thread).
  const std::shared_ptr<const PlanView>& view() const { return view_; }
  const dataplane::WorkloadPlan* plan() const { return wp_; }

 private:
  struct Listener {
    uint32_t port = 0;
    Acceptor acceptor;
    bool running = false;
  };
  struct ConnInfo;

  awaitable<void> acceptLoop(Listener* listener);
  awaitable<void> serveConnection(Socket socket, uint32_t port);
  template <typename Stream>
  awaitable<void> serveHttp(Stream& stream, const ConnInfo& info);
  template <typename Stream>
  awaitable<void> serveTcp(Stream& stream, const ConnInfo& info);
  awaitable<Response> handleInbound(Request& request, const ConnInfo& info);
  /// The connection's part of the authorization input (peer, addresses, port).
  policy::RequestAttributes connectionAttributes(const ConnInfo& info, bool http) const;
  awaitable<Response> app(const Request& request, const ConnInfo& info,
                          const std::shared_ptr<const PlanView>& view);
  bool takeToken();
  /// This sidecar's TLS contexts, built on first use (io thread). Null when it has no
  /// certificate or the contexts cannot be built (logged).
  std::shared_ptr<const tls::IdentityTls> identity();

  /// What `host` (an :authority without port) names, resolved in this replica's namespace;
  /// cached per plan view (io thread). Shared: a request keeps it across a reconfiguration.
  std::shared_ptr<const routing::HostTarget> resolve(std::string_view host, const PlanView& view);

  awaitable<UpstreamResult> exchange(const std::shared_ptr<const PlanView>& view,
                                     const dataplane::WorkloadPlan& target, uint32_t replica,
                                     uint32_t target_port, bool mtls, bool tls_only,
                                     const Request& request,
                                     std::chrono::steady_clock::time_point deadline,
                                     uint32_t max_requests_per_connection = 0);
  /// The HTTP part of callUpstream after routing (upstream_policy.cpp): endpoint pick without
  /// ejected hosts, circuit breakers, attempts with per-try timeouts, retries, outlier
  /// accounting. `*dest` is set to the last endpoint's workload.
  awaitable<UpstreamResult> forward(
      const std::shared_ptr<const PlanView>& view, const routing::RouteResult& route,
      const std::vector<std::pair<const dataplane::WorkloadPlan*, uint32_t>>& candidates,
      uint32_t port, Request& request, std::chrono::steady_clock::time_point deadline,
      const dataplane::WorkloadPlan** dest);

  Mesh& mesh_;
  asio::io_context& io_;
  std::string key_;
  uint32_t index_;
  std::string address_;
  bool gateway_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::shared_ptr<const PlanView> view_;
  const dataplane::WorkloadPlan* wp_ = nullptr;
  std::shared_ptr<const tls::IdentityTls> tls_;
  std::optional<pki::Svid> svid_;  // the certificate tls_ is (or will be) built from
  std::unordered_map<std::string, std::vector<std::unique_ptr<PooledConnection>>> pool_;
  std::string fqdn_;  // FQDN of this workload's Service ("" without one)
  // Host resolution is string work on the snapshot, and a client calls the same few hosts.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const routing::HostTarget>, StringHash,
                     std::equal_to<>>
      hosts_;
  uint64_t round_robin_ = 0;
  std::minstd_rand rng_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_fill_{};
  bool bucket_init_ = false;
  bool stopping_ = false;
  std::unique_ptr<UpstreamPolicy> upstream_policy_;  // retries, circuit breakers, ejections
};

/// Everything the replicas share.
class Mesh {
 public:
  Mesh(unsigned threads, size_t log_capacity);
  ~Mesh();

  /// The io_context replica number `n` lives on.
  asio::io_context& ioFor(size_t n) { return *ios_[n % ios_.size()]; }
  size_t threadCount() const { return ios_.size(); }
  void startThreads();
  void stopThreads();

  /// The TLS contexts of `svid`, built once per certificate (keyed by serial).
  Result<std::shared_ptr<const tls::IdentityTls>> identityFor(const pki::Svid& svid,
                                                              const pki::TrustBundle& trust,
                                                              std::shared_ptr<const pki::SimClock> clock);
  /// A client context without certificate (outsiders speaking TLS, DestinationRule SIMPLE).
  Result<std::shared_ptr<const tls::IdentityTls>> anonymousFor(const pki::TrustBundle& trust,
                                                               std::shared_ptr<const pki::SimClock> clock);

  Telemetry telemetry;
  std::atomic<uint64_t> request_ids{1};

 private:
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::mutex tls_mu_;
  std::map<std::string, std::shared_ptr<const tls::IdentityTls>> tls_;
  std::shared_ptr<const tls::IdentityTls> anonymous_;
};

/// Headers of `request` as the policy layer wants them: lower-case names, duplicates joined with
/// ",".
std::vector<std::pair<std::string, std::string>> policyHeaders(const Request& request);

/// Envoy's local reply: status, text body, `server: istio-envoy`.
Response localReply(int status, std::string_view body, unsigned version, bool keep_alive);

/// Milliseconds since `start`.
double elapsedMs(std::chrono::steady_clock::time_point start);

/// A client speaking directly to `address`:`port` from 127.0.0.1 (outsiders and attackers):
/// plaintext when `identity` is null, else TLS presenting `identity`'s certificate (which may be
/// stolen, forged, or none for anonymous). Fills status/body or `error`.
awaitable<dataplane::ProbeResult> directRequest(asio::io_context& io, std::string address,
                                                uint32_t port,
                                                std::shared_ptr<const tls::IdentityTls> identity,
                                                Request request, std::chrono::milliseconds timeout,
                                                bool tcp = false);

/// Reads the app's JSON answer (service, version, pod, cluster, workload) into `result`.
void readAppIdentity(const std::string& body, dataplane::ProbeResult& result);

}  // namespace meshsim::proxy
