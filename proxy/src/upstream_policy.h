#pragma once
// Client-side resilience of a sidecar, after routing (istio-semantics.md sections 5 and 6):
// Envoy's retry decision (retry_on policies, the attempt budget, jittered backoff, the URX
// flag), the connection-pool circuit breakers of a cluster (maxConnections with a pending queue
// in front of it, http1MaxPendingRequests, http2MaxRequests, maxRetries,
// maxRequestsPerConnection), outlier ejection per upstream endpoint, and the mesh clock that
// token buckets and ejections age by.
//
// The pure parts (parseRetryOn, wouldRetry, retryBackoff, mergeFlags, OutlierDetector) take time
// and randomness as arguments and are tested alone; ClusterCircuit adds the waiting. All state
// belongs to one client sidecar (one Replica) and lives on its io_context: no locks.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core.h"
#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"
#include "meshsim/pki/clock.h"

namespace meshsim::proxy {

using SteadyClock = std::chrono::steady_clock;

/// The data plane's policy clock: the monotonic wall clock plus the mesh's simulated seconds.
/// State that must age in simulated time (local rate-limit token buckets, outlier ejections)
/// reads it, so that it ages while the mesh runs and also when MeshRuntime::advanceTime() moves
/// the simulated clock forward — tests advance time instead of sleeping. Thread-safe.
SteadyClock::time_point meshNow(const pki::SimClock& clock);

/// True when two local rate-limit buckets are configured alike (both unset counts as alike): a
/// sidecar keeps its tokens across a new plan unless its bucket changed, as Envoy keeps a
/// listener's filter state when the listener's configuration did not change. Pure.
bool sameBucket(const std::optional<model::TokenBucket>& a,
                const std::optional<model::TokenBucket>& b);

// ------------------------------------------------------------------------------------ retries

/// Envoy retry_on policies (the x-envoy-retry-on vocabulary), one bit each.
enum RetryOnBit : uint32_t {
  kRetryOn5xx = 1u << 0,
  kRetryOnGatewayError = 1u << 1,
  kRetryOnReset = 1u << 2,
  kRetryOnResetBeforeRequest = 1u << 3,
  kRetryOnConnectFailure = 1u << 4,
  kRetryOnRetriable4xx = 1u << 5,
  kRetryOnRetriableStatusCodes = 1u << 6,
  kRetryOnRefusedStream = 1u << 7,
  kRetryOnRetriableHeaders = 1u << 8,
  kRetryOnEnvoyRateLimited = 1u << 9,
  kRetryOnHttp3PostConnectFailure = 1u << 10,
  kRetryOnGrpcCancelled = 1u << 11,
  kRetryOnGrpcDeadlineExceeded = 1u << 12,
  kRetryOnGrpcInternal = 1u << 13,
  kRetryOnGrpcResourceExhausted = 1u << 14,
  kRetryOnGrpcUnavailable = 1u << 15,
};

/// A parsed `retryOn`.
struct RetryOn {
  uint32_t bits = 0;                  ///< RetryOnBit values
  std::vector<int32_t> status_codes;  ///< retriable status codes (numeric entries)
  std::vector<std::string> unknown;   ///< entries that are neither a policy nor a status code
};

/// Parses Istio's `retryOn`: comma-separated Envoy policies and HTTP status codes. A status code
/// (100..599) is added to the retriable codes and enables retriable-status-codes, as Istio's
/// translation does; blanks around entries and empty entries are ignored; anything else lands in
/// `unknown` (Istio's validation rejects such entries, the proxy ignores them). Pure.
RetryOn parseRetryOn(std::string_view text);

/// How one upstream attempt ended.
struct AttemptOutcome {
  enum class Kind {
    kResponse,        ///< the upstream answered with `status`
    kConnectFailure,  ///< no connection (refused, connect timeout): nothing was sent
    kReset,           ///< the connection broke after the request was sent, before a response
    kPerTryTimeout,   ///< perTryTimeout expired before the response
    kOverflow,        ///< a circuit breaker refused the request locally
    kTlsFailure,      ///< the TLS handshake failed (configuration, not a transient fault)
  };
  Kind kind = Kind::kResponse;
  int status = 0;                  ///< kResponse: the HTTP status
  bool envoy_overloaded = false;   ///< the response carries x-envoy-overloaded
  bool envoy_ratelimited = false;  ///< the response carries x-envoy-ratelimited
};

/// Whether Envoy asks for another attempt after `outcome` under `on`, before the attempt budget
/// and the retry circuit breaker are considered (Envoy's wouldRetryFromHeaders and
/// wouldRetryFromReset for HTTP/1.1 upstreams):
/// - responses: 5xx (any 5xx), gateway-error (502/503/504), retriable-4xx (409),
///   retriable-status-codes (the listed codes); never when the response carries
///   x-envoy-overloaded, and with x-envoy-ratelimited only under envoy-ratelimited;
/// - resets and per-try timeouts: 5xx, gateway-error, reset;
/// - connect failures: additionally connect-failure and reset-before-request;
/// - overflow: never. refused-stream, http3-post-connect-failure and the gRPC policies never
///   apply to HTTP/1.1 upstreams. TLS handshake failures are never retried: the engine predicts
///   them as one 503 UF (routing/client_tls.h) and a retry cannot change a configuration. Pure.
bool wouldRetry(const RetryOn& on, const AttemptOutcome& outcome);

/// Envoy's fully jittered exponential backoff before retry number `retry` (1-based, base
/// interval 25 ms, maximum 250 ms): floor(draw × (2^retry − 1) × 25 ms), capped at 250 ms.
/// `draw` is uniform in [0, 1). Pure.
std::chrono::milliseconds retryBackoff(int retry, double draw);

/// Merges Envoy response flags ("UF" and "URX" give "UF,URX") in Envoy's canonical order without
/// duplicates; flags Envoy does not define keep their order after the known ones. Pure.
std::string mergeFlags(std::string_view flags, std::string_view more);

// ----------------------------------------------------------------------- circuit breakers

/// Connection-pool circuit breakers of one cluster, from DestinationRule connectionPool with
/// Istio's translation: an unset or 0 limit stays at Envoy's 2^32−1.
struct CircuitLimits {
  uint32_t max_connections = std::numeric_limits<uint32_t>::max();  ///< tcp.maxConnections
  uint32_t max_pending = std::numeric_limits<uint32_t>::max();   ///< http.http1MaxPendingRequests
  uint32_t max_requests = std::numeric_limits<uint32_t>::max();  ///< http.http2MaxRequests
  uint32_t max_retries = std::numeric_limits<uint32_t>::max();   ///< http.maxRetries
  /// http.maxRequestsPerConnection; 0 = unlimited, 1 disables keep-alive.
  uint32_t max_requests_per_connection = 0;
};

/// The limits of `pool` (unset: all defaults). Pure.
CircuitLimits circuitLimits(const std::optional<model::ConnectionPool>& pool);

/// The circuit breakers of one cluster at one client sidecar: HTTP/1.1 carries one request per
/// connection at a time, so a request needs a connection of its own. Below maxConnections it
/// gets one at once; at the limit it waits in a FIFO pending queue of at most
/// http1MaxPendingRequests for a connection to free up; beyond that it overflows (503 UO). A
/// request is refused as overflow too when http2MaxRequests requests are already active. Idle
/// keep-alive connections are not counted: they carry no request. io_context thread only.
class ClusterCircuit {
 public:
  /// What acquire() decided.
  enum class Admission {
    kGranted,   ///< the caller holds a connection slot; call release() when done
    kOverflow,  ///< refused: pending queue full or too many active requests (503 UO)
    kTimedOut,  ///< `deadline` passed while pending (504 UT)
  };

  /// Decides without waiting when it can: kGranted (a slot taken) or kOverflow; nullopt when
  /// the request would have to queue (then call acquire()).
  std::optional<Admission> tryAcquire(const CircuitLimits& limits);
  /// Takes a connection slot, waiting (pending) until one frees or `deadline` passes.
  /// `io` runs the wait; the circuit must outlive the wait.
  awaitable<Admission> acquire(asio::io_context& io, const CircuitLimits& limits,
                               SteadyClock::time_point deadline);
  /// Returns a slot taken by acquire(); hands it to the oldest pending request, if any.
  void release(const CircuitLimits& limits);

  /// Reserves a retry under maxRetries (outstanding retries of the cluster); false: overflow.
  bool tryRetry(const CircuitLimits& limits);
  /// Ends a retry reserved by tryRetry() (after its attempt finished).
  void retryDone();

  /// Requests holding a connection slot.
  uint32_t active() const { return active_; }
  /// Requests waiting for one.
  size_t pending() const { return pending_.size(); }
  /// Retries outstanding.
  uint32_t retries() const { return retries_; }

 private:
  struct Waiter {
    explicit Waiter(asio::io_context& io) : timer(io) {}
    Timer timer;
    std::optional<Admission> decided;
  };
  uint32_t active_ = 0;
  uint32_t retries_ = 0;
  std::deque<std::shared_ptr<Waiter>> pending_;
};

// ------------------------------------------------------------------------- outlier ejection

/// DestinationRule outlierDetection with Istio's translation and Envoy's defaults.
struct OutlierSettings {
  uint32_t consecutive_5xx = 5;      ///< consecutive5xxErrors; 0 = off
  uint32_t consecutive_gateway = 0;  ///< consecutiveGatewayErrors; 0 = off (off unless set)
  std::chrono::milliseconds interval{10000};       ///< analysis interval
  std::chrono::milliseconds base_ejection{30000};  ///< baseEjectionTime
  std::chrono::milliseconds max_ejection{300000};  ///< Envoy max_ejection_time (≥ base)
  uint32_t max_ejection_percent = 10;              ///< maxEjectionPercent
  uint32_t min_health_percent = 0;  ///< minHealthPercent: Envoy's healthy panic threshold
};

/// The settings of `od` (unset fields: the defaults above). Pure.
OutlierSettings outlierSettings(const model::OutlierDetection& od);

/// Outlier ejection at one client sidecar (Envoy's consecutive-error detectors; Istio turns
/// success-rate ejection off): per cluster and per endpoint, consecutive 5xx and gateway-error
/// counts. A response status counts as such; local-origin failures count as Envoy maps them
/// (connect failure or reset: 503, timeout: 504). When a count reaches its threshold the endpoint
/// is ejected for baseEjectionTime × its ejection multiplier (capped at max_ejection), unless
/// that would eject more than maxEjectionPercent of the cluster. The multiplier grows with each
/// ejection and shrinks by one per interval the endpoint stays healthy. Expiry is exact (Envoy
/// un-ejects on its next interval tick). Time is passed in. Not thread-safe.
class OutlierDetector {
 public:
  /// Records one attempt of `host` (an endpoint address) in `cluster`, which has `cluster_size`
  /// endpoints. `status` is the HTTP status, or 503/504 for local-origin failures. Returns true
  /// when this ejected the host.
  bool record(std::string_view cluster, std::string_view host, size_t cluster_size, int status,
              const OutlierSettings& settings, SteadyClock::time_point now);

  /// Whether `host` of `cluster` is ejected at `now`.
  bool ejected(std::string_view cluster, std::string_view host, SteadyClock::time_point now) const;

  /// The hosts of `hosts` that may receive traffic at `now`: true for each one not ejected; all
  /// true when the healthy share is below minHealthPercent (Envoy's panic mode). All false means
  /// there is no healthy upstream.
  std::vector<bool> eligible(std::string_view cluster, const std::vector<std::string_view>& hosts,
                             const OutlierSettings& settings, SteadyClock::time_point now) const;

  /// Ejections in force in `cluster` at `now`.
  size_t ejectedCount(std::string_view cluster, SteadyClock::time_point now) const;

 private:
  struct HostState {
    uint32_t consecutive_5xx = 0;
    uint32_t consecutive_gateway = 0;
    uint32_t multiplier = 0;  // Envoy's ejectTimeBackoff
    std::optional<SteadyClock::time_point> ejected_until;
    std::optional<SteadyClock::time_point> decay_from;  // healthy since (for the multiplier)
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Hosts = std::unordered_map<std::string, HostState, Hash, std::equal_to<>>;

  // Applies expiry and multiplier decay up to `now`.
  static void refresh(HostState& host, const OutlierSettings& settings,
                      SteadyClock::time_point now);

  std::unordered_map<std::string, Hosts, Hash, std::equal_to<>> clusters_;
};

/// Everything a client sidecar keeps between requests for its upstream clusters.
class UpstreamPolicy {
 public:
  /// The circuit breakers of `cluster`, created on first use; the reference stays valid for the
  /// life of this object.
  ClusterCircuit& circuit(std::string_view cluster);
  /// The outlier detector of this sidecar.
  OutlierDetector& outliers() { return outliers_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<ClusterCircuit>, Hash, std::equal_to<>> circuits_;
  OutlierDetector outliers_;
};

/// The ingress gateway as a telemetry peer: workload "istio-ingressgateway" of the root
/// namespace (app istio-ingressgateway), its SPIFFE identity and cluster from the plan's ingress
/// certificate. Used for the source labels of requests entering through the ingress. Pure.
dataplane::WorkloadPlan ingressWorkload(const dataplane::MeshPlan& plan);

}  // namespace meshsim::proxy
