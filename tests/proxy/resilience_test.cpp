// Client-side resilience of the sidecars (istio-semantics.md sections 5, 6 and 7): retries per
// the route's retry policy, connection-pool circuit breakers with a pending queue, outlier
// ejection aged by the simulated clock. The pure decisions are tested alone; the rest through
// real sidecars on loopback with real TLS. No sleeps: bursts are bounded by request counts and
// ejections expire when the test advances simulated time.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/engine.h"
#include "meshsim/proxy/loopback_data_plane.h"
#include "upstream_policy.h"

namespace meshsim::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// ----------------------------------------------------------------------------- retry decisions

TEST(RetryOnParse, ReadsPoliciesAndStatusCodes) {
  struct Case {
    std::string text;
    uint32_t bits;
    std::vector<int32_t> codes;
    std::vector<std::string> unknown;
  };
  const std::vector<Case> cases = {
      {"", 0, {}, {}},
      {"5xx", kRetryOn5xx, {}, {}},
      {"gateway-error,connect-failure", kRetryOnGatewayError | kRetryOnConnectFailure, {}, {}},
      {" 5xx , retriable-4xx ,", kRetryOn5xx | kRetryOnRetriable4xx, {}, {}},
      // Istio: a numeric entry becomes a retriable status code and enables the policy.
      {"503,reset", kRetryOnReset | kRetryOnRetriableStatusCodes, {503}, {}},
      {"503,503,409", kRetryOnRetriableStatusCodes, {503, 409}, {}},
      // The mesh default (istio-semantics.md section 5 and 9).
      {"connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
       kRetryOnConnectFailure | kRetryOnRefusedStream | kRetryOnGrpcUnavailable |
           kRetryOnGrpcCancelled | kRetryOnRetriableStatusCodes,
       {},
       {}},
      {"reset-before-request,envoy-ratelimited,retriable-headers,http3-post-connect-failure",
       kRetryOnResetBeforeRequest | kRetryOnEnvoyRateLimited | kRetryOnRetriableHeaders |
           kRetryOnHttp3PostConnectFailure,
       {},
       {}},
      {"deadline-exceeded,internal,resource-exhausted",
       kRetryOnGrpcDeadlineExceeded | kRetryOnGrpcInternal | kRetryOnGrpcResourceExhausted,
       {},
       {}},
      // Not a policy and not an HTTP status code.
      {"bogus,5xx", kRetryOn5xx, {}, {"bogus"}},
      {"99,600,5XX,50x", 0, {}, {"99", "600", "5XX", "50x"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    RetryOn on = parseRetryOn(c.text);
    EXPECT_EQ(on.bits, c.bits);
    EXPECT_EQ(on.status_codes, c.codes);
    EXPECT_EQ(on.unknown, c.unknown);
  }
}

AttemptOutcome response(int status, bool overloaded = false, bool ratelimited = false) {
  AttemptOutcome o;
  o.kind = AttemptOutcome::Kind::kResponse;
  o.status = status;
  o.envoy_overloaded = overloaded;
  o.envoy_ratelimited = ratelimited;
  return o;
}

AttemptOutcome failure(AttemptOutcome::Kind kind) {
  AttemptOutcome o;
  o.kind = kind;
  return o;
}

TEST(RetryDecision, FollowsEnvoyRetryOnPolicies) {
  using Kind = AttemptOutcome::Kind;
  const std::string kDefault =
      "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
  struct Case {
    std::string retry_on;
    AttemptOutcome outcome;
    bool retry;
  };
  const std::vector<Case> cases = {
      // The mesh default retries connection failures only: an app's 503 is not retried.
      {kDefault, response(503), false},
      {kDefault, response(500), false},
      {kDefault, failure(Kind::kConnectFailure), true},
      {kDefault, failure(Kind::kReset), false},
      {kDefault, failure(Kind::kPerTryTimeout), false},
      // 5xx: any 5xx response, resets, timeouts and connect failures.
      {"5xx", response(500), true},
      {"5xx", response(503), true},
      {"5xx", response(599), true},
      {"5xx", response(404), false},
      {"5xx", response(200), false},
      {"5xx", failure(Kind::kReset), true},
      {"5xx", failure(Kind::kPerTryTimeout), true},
      {"5xx", failure(Kind::kConnectFailure), true},
      {"5xx", failure(Kind::kOverflow), false},
      // gateway-error: 502, 503, 504.
      {"gateway-error", response(500), false},
      {"gateway-error", response(502), true},
      {"gateway-error", response(503), true},
      {"gateway-error", response(504), true},
      {"gateway-error", failure(Kind::kReset), true},
      // reset: disconnects and timeouts, not responses.
      {"reset", failure(Kind::kReset), true},
      {"reset", failure(Kind::kPerTryTimeout), true},
      {"reset", response(503), false},
      {"connect-failure", failure(Kind::kReset), false},
      {"reset-before-request", failure(Kind::kConnectFailure), true},
      {"reset-before-request", failure(Kind::kReset), false},
      // retriable-4xx is 409 only.
      {"retriable-4xx", response(409), true},
      {"retriable-4xx", response(404), false},
      // Numeric codes; retriable-status-codes without codes retries nothing.
      {"418", response(418), true},
      {"418,503", response(503), true},
      {"418", response(409), false},
      {"retriable-status-codes", response(418), false},
      // HTTP/2 and gRPC policies never apply to an HTTP/1.1 upstream.
      {"refused-stream", failure(Kind::kReset), false},
      {"unavailable,cancelled,internal", response(503), false},
      // Envoy never retries an overloaded upstream, nor a rate-limited one unless asked.
      {"5xx", response(503, /*overloaded=*/true), false},
      {"5xx", response(503, false, /*ratelimited=*/true), false},
      {"envoy-ratelimited", response(429, false, true), true},
      {"envoy-ratelimited", response(429), false},
      // A TLS handshake failure is a configuration error: never retried.
      {"5xx,connect-failure", failure(Kind::kTlsFailure), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.retry_on + " status " + std::to_string(c.outcome.status) + " kind " +
                 std::to_string(static_cast<int>(c.outcome.kind)));
    EXPECT_EQ(wouldRetry(parseRetryOn(c.retry_on), c.outcome), c.retry);
  }
}

TEST(RetryBackoff, IsFullyJitteredExponentialFrom25MsCappedAt250Ms) {
  struct Case {
    int retry;
    double draw;
    int64_t ms;
  };
  const std::vector<Case> cases = {
      {1, 0.0, 0},      {1, 0.5, 12},   {1, 0.999, 24},  // [0, 25)
      {2, 0.5, 37},     {2, 0.999, 74},                  // [0, 75)
      {3, 0.999, 174},                                   // [0, 175)
      {4, 0.5, 187},    {4, 0.9, 250},                   // [0, 375) capped at 250
      {10, 0.999, 250},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("retry " + std::to_string(c.retry) + " draw " + std::to_string(c.draw));
    EXPECT_EQ(retryBackoff(c.retry, c.draw).count(), c.ms);
  }
}

TEST(ResponseFlags, MergeInEnvoyOrder) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"UF", "URX", "UF,URX"},       {"UC", "URX", "UC,URX"},
      {"URX", "UT", "UT,URX"},       {"", "URX", "URX"},
      {"-", "URX", "URX"},           {"UO", "UO", "UO"},
      {"DI,UT", "URX", "UT,DI,URX"}, {"NC", "UH", "UH,NC"},
      {"ZZ", "UH", "UH,ZZ"},         {"", "", ""},
  };
  for (const auto& [a, b, merged] : cases) EXPECT_EQ(mergeFlags(a, b), merged) << a << " + " << b;
}

// ----------------------------------------------------------------------- circuit breakers

TEST(CircuitLimits, UnsetAndZeroKeepEnvoysDefaults) {
  const uint32_t kMax = std::numeric_limits<uint32_t>::max();
  CircuitLimits none = circuitLimits(std::nullopt);
  EXPECT_EQ(none.max_connections, kMax);
  EXPECT_EQ(none.max_pending, kMax);
  EXPECT_EQ(none.max_requests, kMax);
  EXPECT_EQ(none.max_retries, kMax);
  EXPECT_EQ(none.max_requests_per_connection, 0u);

  model::ConnectionPool zero;
  zero.max_connections = 0;
  zero.http1_max_pending_requests = 0;
  CircuitLimits z = circuitLimits(zero);
  EXPECT_EQ(z.max_connections, kMax);
  EXPECT_EQ(z.max_pending, kMax);

  model::ConnectionPool set;
  set.max_connections = 1;
  set.http1_max_pending_requests = 2;
  set.http2_max_requests = 3;
  set.max_retries = 4;
  set.max_requests_per_connection = 1;
  CircuitLimits s = circuitLimits(set);
  EXPECT_EQ(s.max_connections, 1u);
  EXPECT_EQ(s.max_pending, 2u);
  EXPECT_EQ(s.max_requests, 3u);
  EXPECT_EQ(s.max_retries, 4u);
  EXPECT_EQ(s.max_requests_per_connection, 1u);
}

// Runs `body` on a private io_context until everything it started is done. A coroutine lambda
// must outlive the run (its frame refers to the closure), so tests declare theirs outside.
template <typename Body>
void runCoroutines(Body body) {
  asio::io_context io;
  body(io);
  io.run();
}

TEST(ClusterCircuit, QueuesAtMaxConnectionsAndOverflowsBeyondThePendingLimit) {
  CircuitLimits limits;
  limits.max_connections = 1;
  limits.max_pending = 1;
  ClusterCircuit circuit;
  std::vector<ClusterCircuit::Admission> got(3, ClusterCircuit::Admission::kTimedOut);
  size_t pending_seen = 0;
  const auto far = SteadyClock::now() + seconds(60);
  // The coroutine's closure lives as long as the test: its frame refers to it.
  auto request = [&](asio::io_context& io, size_t i) -> awaitable<void> {
    got[i] = co_await circuit.acquire(io, limits, far);
    if (i == 2) {
      // The third request overflowed at once; the second is pending. Free the first.
      pending_seen = circuit.pending();
      circuit.release(limits);
    }
  };
  runCoroutines([&](asio::io_context& io) {
    for (size_t i = 0; i < 3; ++i) asio::co_spawn(io, request(io, i), asio::detached);
  });
  EXPECT_EQ(got[0], ClusterCircuit::Admission::kGranted);
  EXPECT_EQ(got[1], ClusterCircuit::Admission::kGranted) << "the pending request got the slot";
  EXPECT_EQ(got[2], ClusterCircuit::Admission::kOverflow);
  EXPECT_EQ(pending_seen, 1u);
  EXPECT_EQ(circuit.active(), 1u);
  EXPECT_EQ(circuit.pending(), 0u);
}

TEST(ClusterCircuit, PendingRequestTimesOutAtTheRouteDeadline) {
  CircuitLimits limits;
  limits.max_connections = 1;
  ClusterCircuit circuit;
  ClusterCircuit::Admission first = ClusterCircuit::Admission::kOverflow;
  ClusterCircuit::Admission second = ClusterCircuit::Admission::kGranted;
  auto requests = [&](asio::io_context& io) -> awaitable<void> {
    first = co_await circuit.acquire(io, limits, SteadyClock::now() + seconds(60));
    // Already past its deadline: the wait ends at once, without the slot.
    second = co_await circuit.acquire(io, limits, SteadyClock::now());
  };
  runCoroutines([&](asio::io_context& io) { asio::co_spawn(io, requests(io), asio::detached); });
  EXPECT_EQ(first, ClusterCircuit::Admission::kGranted);
  EXPECT_EQ(second, ClusterCircuit::Admission::kTimedOut);
  EXPECT_EQ(circuit.pending(), 0u);
  EXPECT_EQ(circuit.active(), 1u);
}

TEST(ClusterCircuit, MaxRequestsOverflowsInsteadOfQueueing) {
  CircuitLimits limits;
  limits.max_requests = 1;  // http2MaxRequests: active requests, HTTP/1.1 included
  ClusterCircuit circuit;
  std::vector<ClusterCircuit::Admission> got;
  auto requests = [&](asio::io_context& io) -> awaitable<void> {
    const auto far = SteadyClock::now() + seconds(60);
    got.push_back(co_await circuit.acquire(io, limits, far));
    got.push_back(co_await circuit.acquire(io, limits, far));
    circuit.release(limits);
    got.push_back(co_await circuit.acquire(io, limits, far));
  };
  runCoroutines([&](asio::io_context& io) { asio::co_spawn(io, requests(io), asio::detached); });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], ClusterCircuit::Admission::kGranted);
  EXPECT_EQ(got[1], ClusterCircuit::Admission::kOverflow);
  EXPECT_EQ(got[2], ClusterCircuit::Admission::kGranted);
}

TEST(ClusterCircuit, MaxRetriesBoundsOutstandingRetries) {
  CircuitLimits limits;
  limits.max_retries = 1;
  ClusterCircuit circuit;
  EXPECT_TRUE(circuit.tryRetry(limits));
  EXPECT_FALSE(circuit.tryRetry(limits)) << "a second outstanding retry overflows";
  circuit.retryDone();
  EXPECT_TRUE(circuit.tryRetry(limits));
  EXPECT_EQ(circuit.retries(), 1u);
}

// ------------------------------------------------------------------------- outlier ejection

OutlierSettings settings(uint32_t consecutive_5xx, uint32_t max_percent = 100) {
  model::OutlierDetection od;
  od.consecutive_5xx_errors = consecutive_5xx;
  od.max_ejection_percent = max_percent;
  od.interval = model::Duration{1000};
  od.base_ejection_time = model::Duration{30000};
  return outlierSettings(od);
}

TEST(OutlierSettings, DefaultsFollowIstioAndEnvoy) {
  OutlierSettings s = outlierSettings(model::OutlierDetection{});
  EXPECT_EQ(s.consecutive_5xx, 5u);
  EXPECT_EQ(s.consecutive_gateway, 0u);
  EXPECT_EQ(s.interval, milliseconds(10000));
  EXPECT_EQ(s.base_ejection, milliseconds(30000));
  EXPECT_EQ(s.max_ejection_percent, 10u);
  EXPECT_EQ(s.min_health_percent, 0u);
  EXPECT_EQ(s.max_ejection, milliseconds(300000));
  model::OutlierDetection long_base;
  long_base.base_ejection_time = model::Duration{600000};
  EXPECT_EQ(outlierSettings(long_base).max_ejection, milliseconds(600000))
      << "max_ejection_time is at least baseEjectionTime";
}

TEST(OutlierDetector, EjectsAfterConsecutive5xxAndASuccessResetsTheCount) {
  OutlierDetector d;
  const auto s = settings(3);
  const auto t = SteadyClock::time_point{} + seconds(1000);
  EXPECT_FALSE(d.record("c", "a", 2, 503, s, t));
  EXPECT_FALSE(d.record("c", "a", 2, 503, s, t));
  EXPECT_FALSE(d.record("c", "a", 2, 200, s, t)) << "a success breaks the run";
  EXPECT_FALSE(d.record("c", "a", 2, 500, s, t));
  EXPECT_FALSE(d.record("c", "a", 2, 502, s, t));
  EXPECT_FALSE(d.ejected("c", "a", t));
  EXPECT_TRUE(d.record("c", "a", 2, 504, s, t)) << "500, 502, 504: three 5xx in a row";
  EXPECT_TRUE(d.ejected("c", "a", t));
  EXPECT_FALSE(d.ejected("c", "b", t));
  EXPECT_FALSE(d.ejected("other", "a", t)) << "ejection is per cluster";
  EXPECT_EQ(d.ejectedCount("c", t), 1u);
  EXPECT_FALSE(d.record("c", "a", 2, 503, s, t)) << "results of an ejected host are ignored";
}

TEST(OutlierDetector, GatewayErrorsCountOnlyFiveOhTwoToFour) {
  model::OutlierDetection od;
  od.consecutive_5xx_errors = 0;  // off
  od.consecutive_gateway_errors = 2;
  od.max_ejection_percent = 100;
  const OutlierSettings s = outlierSettings(od);
  OutlierDetector d;
  const auto t = SteadyClock::time_point{} + seconds(1);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(d.record("c", "a", 2, 500, s, t));
  EXPECT_FALSE(d.record("c", "a", 2, 502, s, t));
  EXPECT_FALSE(d.record("c", "a", 2, 500, s, t)) << "a non-gateway 5xx resets the gateway count";
  EXPECT_FALSE(d.record("c", "a", 2, 503, s, t));
  EXPECT_TRUE(d.record("c", "a", 2, 504, s, t));
}

TEST(OutlierDetector, ZeroConsecutive5xxDisablesDetection) {
  OutlierDetector d;
  const auto s = settings(0);
  const auto t = SteadyClock::time_point{} + seconds(1);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(d.record("c", "a", 2, 503, s, t));
  EXPECT_FALSE(d.ejected("c", "a", t));
}

TEST(OutlierDetector, EjectionLastsBaseTimesNumberOfEjections) {
  OutlierDetector d;
  const auto s = settings(1);
  const auto t0 = SteadyClock::time_point{} + seconds(1000);
  ASSERT_TRUE(d.record("c", "a", 2, 503, s, t0));
  EXPECT_TRUE(d.ejected("c", "a", t0 + milliseconds(29999)));
  EXPECT_FALSE(d.ejected("c", "a", t0 + seconds(30)));
  // Ejected again right after: 2 × 30 s.
  const auto t1 = t0 + seconds(30);
  ASSERT_TRUE(d.record("c", "a", 2, 503, s, t1));
  EXPECT_TRUE(d.ejected("c", "a", t1 + milliseconds(59999)));
  EXPECT_FALSE(d.ejected("c", "a", t1 + seconds(60)));
  // Healthy for two intervals (1 s each): the multiplier decays from 2 to 0, so the next
  // ejection is 1 × 30 s again.
  const auto t2 = t1 + seconds(62);
  EXPECT_FALSE(d.record("c", "a", 2, 200, s, t2));
  ASSERT_TRUE(d.record("c", "a", 2, 503, s, t2));
  EXPECT_TRUE(d.ejected("c", "a", t2 + milliseconds(29999)));
  EXPECT_FALSE(d.ejected("c", "a", t2 + seconds(30)));
}

TEST(OutlierDetector, EjectionTimeIsCappedByMaxEjectionTime) {
  OutlierDetector d;
  model::OutlierDetection od;
  od.consecutive_5xx_errors = 1;
  od.max_ejection_percent = 100;
  od.base_ejection_time = model::Duration{200000};  // 200 s: the cap is 300 s
  const OutlierSettings s = outlierSettings(od);
  auto t = SteadyClock::time_point{} + seconds(1);
  ASSERT_TRUE(d.record("c", "a", 2, 503, s, t));
  t += seconds(200);
  ASSERT_TRUE(d.record("c", "a", 2, 503, s, t));  // 2 × 200 s capped at 300 s
  EXPECT_TRUE(d.ejected("c", "a", t + milliseconds(299999)));
  EXPECT_FALSE(d.ejected("c", "a", t + seconds(300)));
}

TEST(OutlierDetector, MaxEjectionPercentLimitsEjections) {
  struct Case {
    size_t hosts;
    uint32_t max_percent;
    size_t ejected;
  };
  // An ejection happens when (ejected + 1) / hosts <= maxEjectionPercent.
  const std::vector<Case> cases = {
      {4, 25, 1}, {4, 50, 2}, {4, 100, 4}, {2, 10, 0}, {10, 10, 1}, {2, 50, 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::to_string(c.hosts) + " hosts, " + std::to_string(c.max_percent) + "%");
    OutlierDetector d;
    const auto s = settings(1, c.max_percent);
    const auto t = SteadyClock::time_point{} + seconds(1);
    for (size_t h = 0; h < c.hosts; ++h) d.record("c", "h" + std::to_string(h), c.hosts, 503, s, t);
    EXPECT_EQ(d.ejectedCount("c", t), c.ejected);
  }
}

TEST(OutlierDetector, EligibleHostsAndPanicBelowMinHealthPercent) {
  const auto t = SteadyClock::time_point{} + seconds(1);
  const std::vector<std::string_view> hosts = {"a", "b"};
  OutlierDetector d;
  auto s = settings(1);
  d.record("c", "a", 2, 503, s, t);
  EXPECT_EQ(d.eligible("c", hosts, s, t), (std::vector<bool>{false, true}));
  d.record("c", "b", 2, 503, s, t);
  EXPECT_EQ(d.eligible("c", hosts, s, t), (std::vector<bool>{false, false}))
      << "minHealthPercent 0: no panic, no healthy upstream";
  s.min_health_percent = 50;
  EXPECT_EQ(d.eligible("c", hosts, s, t), (std::vector<bool>{true, true}))
      << "0% healthy < 50%: panic, every host";
  OutlierDetector one;
  one.record("c", "a", 2, 503, s, t);
  EXPECT_EQ(one.eligible("c", hosts, s, t), (std::vector<bool>{false, true}))
      << "50% healthy is not below 50%";
  EXPECT_EQ(d.eligible("unknown", hosts, s, t), (std::vector<bool>{true, true}));
}

TEST(TokenBuckets, SameBucketComparesEveryField) {
  model::TokenBucket a{3, 3, model::Duration{60000}};
  model::TokenBucket b = a;
  EXPECT_TRUE(sameBucket(std::nullopt, std::nullopt));
  EXPECT_TRUE(sameBucket(a, b));
  EXPECT_FALSE(sameBucket(a, std::nullopt));
  b.max_tokens = 4;
  EXPECT_FALSE(sameBucket(a, b));
  b = a;
  b.tokens_per_fill = 1;
  EXPECT_FALSE(sameBucket(a, b));
  b = a;
  b.fill_interval.millis = 1000;
  EXPECT_FALSE(sameBucket(a, b));
}

TEST(MeshClock, FollowsSimulatedTime) {
  pki::SimClock clock(1'700'000'000);
  const auto before = meshNow(clock);
  ASSERT_TRUE(clock.advance(30).ok());
  EXPECT_GE(meshNow(clock) - before, seconds(30));
}

// ----------------------------------------------------------------------- through real sidecars

// ratings has a healthy version (v1) and, when kBad is added, a version whose app answers every
// request with 503 (Workload behaviour override).
constexpr const char* kBase = R"(
apiVersion: meshsim/v1
kind: Cluster
metadata: {name: east}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: ratings}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: client}
spec: {cluster: east, serviceAccount: client, labels: {app: client}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: ratings-good}
spec: {service: ratings, cluster: east, serviceAccount: ratings, labels: {app: ratings, version: v1}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: istio-system, name: default}
spec: {mtls: {mode: STRICT}}
)";

std::string badVersion(int replicas = 1, int status = 503) {
  return "---\napiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: shop, name: "
         "ratings-bad}\n"
         "spec: {service: ratings, cluster: east, serviceAccount: ratings, replicas: " +
         std::to_string(replicas) +
         ", labels: {app: ratings, version: v2},\n"
         "       behaviour: {errorRate: 1, errorStatus: " +
         std::to_string(status) + "}}\n";
}

std::string slowVersion() {
  return "---\napiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: shop, name: "
         "ratings-slow}\n"
         "spec: {service: ratings, cluster: east, serviceAccount: ratings,\n"
         "       labels: {app: ratings, version: v3}, behaviour: {latencyMs: 3000}}\n";
}

// A VirtualService for ratings with `retries` (YAML flow mapping).
std::string retries(const std::string& spec) {
  return "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
         "metadata: {namespace: shop, name: ratings}\n"
         "spec:\n  hosts: [ratings]\n  http:\n  - route: [{destination: {host: ratings}}]\n"
         "    retries: " +
         spec + "\n";
}

// A DestinationRule for ratings with `traffic_policy` (YAML flow mapping).
std::string trafficPolicy(const std::string& policy) {
  return "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
         "metadata: {namespace: shop, name: ratings}\n"
         "spec:\n  host: ratings\n  trafficPolicy: " +
         policy + "\n";
}

std::shared_ptr<const config::Snapshot> load(const std::string& text) {
  auto loaded = config::loadString(text, "shop.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return config::makeSnapshot(loaded.resources, 0);
}

// Workload spec.behaviour overrides the Service's behaviour for one workload (a failing or slow
// version); out-of-range values and unknown keys are reported like every other field.
TEST(WorkloadBehaviour, ParsesOverridesAndReportsBadValues) {
  auto workload = [](const std::string& behaviour) {
    return config::loadString(
        "apiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: shop, name: w}\n"
        "spec: {cluster: east, behaviour: " +
            behaviour + "}\n",
        "w.yaml");
  };
  auto ok = workload("{latencyMs: 2.5, errorRate: 0.25, errorStatus: 502}");
  ASSERT_FALSE(ok.diagnostics.hasErrors()) << ok.diagnostics.items()[0].toString();
  ASSERT_EQ(ok.resources.size(), 1u);
  const auto& w = std::get<model::Workload>(ok.resources[0]);
  EXPECT_EQ(w.behaviour.latency_ms, 2.5);
  EXPECT_EQ(w.behaviour.error_rate, 0.25);
  EXPECT_EQ(w.behaviour.error_status, 502);

  auto partial = workload("{errorRate: 1}");
  ASSERT_FALSE(partial.diagnostics.hasErrors());
  const auto& p = std::get<model::Workload>(partial.resources[0]);
  EXPECT_EQ(p.behaviour.error_rate, 1.0);
  EXPECT_FALSE(p.behaviour.error_status.has_value()) << "unset: the Service's status applies";
  EXPECT_FALSE(p.behaviour.latency_ms.has_value());

  struct Bad {
    std::string behaviour;
    std::string field;
  };
  const std::vector<Bad> bad = {
      {"{errorRate: 1.5}", "spec.behaviour.errorRate"},
      {"{errorStatus: 200}", "spec.behaviour.errorStatus"},
      {"{latencyMs: -1}", "spec.behaviour.latencyMs"},
      {"{latencyMs: fast}", "spec.behaviour.latencyMs"},
      {"{calls: []}", "spec.behaviour.calls"},  // calls belong to the Service
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.behaviour);
    auto loaded = workload(b.behaviour);
    ASSERT_TRUE(loaded.diagnostics.hasErrors());
    EXPECT_EQ(loaded.diagnostics.items()[0].field, b.field)
        << loaded.diagnostics.items()[0].toString();
  }
}

class ResilienceTest : public ::testing::Test {
 protected:
  void start(const std::string& yaml) {
    auto rt = MeshRuntime::create(load(yaml), std::make_unique<LoopbackDataPlane>());
    ASSERT_TRUE(rt.ok()) << rt.status().toString();
    runtime_ = std::move(*rt);
    ASSERT_TRUE(runtime_->start().ok());
  }

  analysis::CheckRequest toRatings() const {
    analysis::CheckRequest r;
    r.from = *analysis::parseCheckSource("shop/client");
    r.to_namespace = "shop";
    r.to_service = "ratings";
    return r;
  }

  dataplane::TrafficResult burst(uint64_t n, uint32_t concurrency = 1) {
    TrafficRequest t;
    t.request = toRatings();
    t.requests = n;
    t.concurrency = concurrency;
    auto r = runtime_->traffic(t);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? *r : dataplane::TrafficResult{};
  }

  dataplane::ProbeResult probe() {
    auto r = runtime_->probe(toRatings());
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? *r : dataplane::ProbeResult{};
  }

  // Requests the client sidecar reported, by (status, response flags).
  std::map<std::pair<int, std::string>, uint64_t> clientOutcomes() {
    std::map<std::pair<int, std::string>, uint64_t> out;
    for (const auto& [labels, stats] : runtime_->dataPlane().telemetry().requests) {
      if (labels.reporter == "source" && labels.source_workload == "client") {
        out[{labels.response_code, labels.response_flags}] += stats.count;
      }
    }
    return out;
  }

  // Requests the server sidecars of `workload` answered.
  uint64_t served(const std::string& workload) {
    uint64_t n = 0;
    for (const auto& [labels, stats] : runtime_->dataPlane().telemetry().requests) {
      if (labels.reporter == "destination" && labels.destination_workload == workload) {
        n += stats.count;
      }
    }
    return n;
  }

  std::unique_ptr<MeshRuntime> runtime_;
};

// --- retries

TEST_F(ResilienceTest, AnAppsFiveOhThreeIsNotRetriedByDefault) {
  start(std::string(kBase) + badVersion());
  auto r = burst(40);
  // Round robin over the two versions; the mesh default retries connection failures only.
  EXPECT_EQ(r.by_status[200], 20u);
  EXPECT_EQ(r.by_status[503], 20u);
  EXPECT_EQ(served("ratings-bad"), 20u) << "each failed request reached the app once";
  EXPECT_EQ((clientOutcomes()[{503, "-"}]), 20u) << "an upstream 503 carries no client flag";
}

TEST_F(ResilienceTest, RetryOnFiveXxRetriesOnTheOtherEndpoint) {
  start(std::string(kBase) + badVersion() + retries("{attempts: 1, retryOn: 5xx}"));
  auto r = burst(40, 4);
  EXPECT_EQ(r.by_status[200], 40u) << (r.errors.empty() ? "" : r.errors.front());
  EXPECT_EQ(r.by_workload["shop/ratings-good"], 40u);
  // One retry is enough only because a retry goes to an endpoint the request has not tried.
  EXPECT_EQ(served("ratings-good"), 40u);
  EXPECT_GT(served("ratings-bad"), 0u);
  // The upstream sees which attempt it serves (Istio sets include_request_attempt_count).
  bool retried_seen = false;
  for (int i = 0; i < 2; ++i) {
    auto p = probe();
    EXPECT_EQ(p.status, 200);
    if (p.body.find("\"x-envoy-attempt-count\":\"2\"") != std::string::npos) retried_seen = true;
  }
  EXPECT_TRUE(retried_seen) << "one of two round-robin picks starts on the failing version";
}

TEST_F(ResilienceTest, RetryOnPoliciesDecideWhichAppStatusesAreRetried) {
  struct Case {
    std::string retry_on;
    int app_status;
    uint64_t ok;  // of 20 requests, half of which first reach the failing version
  };
  const std::vector<Case> cases = {
      {"gateway-error", 503, 20}, {"gateway-error", 500, 10},   {"503", 503, 20},
      {"502,504", 503, 10},       {"retriable-4xx", 409, 20},   {"retriable-4xx", 503, 10},
      {"reset", 503, 10},         {"connect-failure", 503, 10},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("retryOn " + c.retry_on + ", app status " + std::to_string(c.app_status));
    start(std::string(kBase) + badVersion(1, c.app_status) +
          retries("{attempts: 2, retryOn: \"" + c.retry_on + "\"}"));
    auto r = burst(20);
    EXPECT_EQ(r.by_status[200], c.ok);
    EXPECT_EQ(r.by_status[c.app_status], 20 - c.ok);
    runtime_->stop();
  }
}

TEST_F(ResilienceTest, ExhaustedRetriesKeepTheLastStatusAndAddURX) {
  // Only the failing version (two replicas): every try fails; attempts 2 = three tries.
  start(std::string(kBase) + badVersion(2) +
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        "metadata: {namespace: shop, name: ratings}\n"
        "spec:\n  hosts: [ratings]\n  http:\n"
        "  - route: [{destination: {host: ratings, subset: bad}}]\n"
        "    retries: {attempts: 2, retryOn: 5xx}\n"
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {namespace: shop, name: ratings}\n"
        "spec:\n  host: ratings\n  subsets: [{name: bad, labels: {version: v2}}]\n");
  auto r = burst(10);
  EXPECT_EQ(r.by_status[503], 10u);
  EXPECT_EQ((clientOutcomes()[{503, "URX"}]), 10u);
  EXPECT_EQ(served("ratings-bad"), 30u) << "1 try + 2 retries per request";
  auto p = probe();
  EXPECT_EQ(p.status, 503);
  EXPECT_EQ(p.response_flags, "URX");
  EXPECT_EQ(p.served_by, "shop/ratings-bad") << "the last attempt's response reaches the client";
}

TEST_F(ResilienceTest, AttemptsZeroDisablesRetries) {
  start(std::string(kBase) + badVersion() + retries("{attempts: 0, retryOn: 5xx}"));
  auto r = burst(20);
  EXPECT_EQ(r.by_status[200], 10u);
  EXPECT_EQ(r.by_status[503], 10u);
  EXPECT_EQ((clientOutcomes()[{503, "-"}]), 10u) << "no retry was attempted, so no URX";
}

TEST_F(ResilienceTest, PerTryTimeoutIsRetriedOnTheOtherEndpoint) {
  start(std::string(kBase) + slowVersion() +
        retries("{attempts: 1, perTryTimeout: 100ms, retryOn: 5xx}"));
  auto r = burst(4);
  EXPECT_EQ(r.by_status[200], 4u) << (r.errors.empty() ? "" : r.errors.front());
  EXPECT_EQ(r.by_workload["shop/ratings-good"], 4u);
}

TEST_F(ResilienceTest, PerTryTimeoutNotCoveredByRetryOnIs504UT) {
  start(std::string(kBase) + slowVersion() +
        retries("{attempts: 2, perTryTimeout: 100ms, retryOn: connect-failure}"));
  auto r = burst(4);
  EXPECT_EQ(r.by_status[200], 2u);
  EXPECT_EQ(r.by_status[504], 2u);
  EXPECT_EQ((clientOutcomes()[{504, "UT"}]), 2u);
}

TEST_F(ResilienceTest, PerTryTimeoutOnEveryTryIs504WithUTAndURX) {
  std::string slow_only = std::string(kBase) + slowVersion();
  // Route to the slow version only.
  slow_only +=
      "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
      "metadata: {namespace: shop, name: ratings}\n"
      "spec:\n  hosts: [ratings]\n  http:\n"
      "  - route: [{destination: {host: ratings, subset: slow}}]\n"
      "    retries: {attempts: 1, perTryTimeout: 100ms, retryOn: reset}\n"
      "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
      "metadata: {namespace: shop, name: ratings}\n"
      "spec:\n  host: ratings\n  subsets: [{name: slow, labels: {version: v3}}]\n";
  start(slow_only);
  auto p = probe();
  EXPECT_EQ(p.status, 504);
  EXPECT_EQ(p.body, "upstream request timeout");
  EXPECT_EQ(p.response_flags, "UT,URX");
}

TEST_F(ResilienceTest, ResetsAreRetriedOnlyWhenRetryOnCoversThem) {
  // DestinationRule tls DISABLE towards a STRICT server: the server resets the plaintext
  // connection after the request was written (503 UC, istio-semantics.md section 7).
  struct Case {
    std::string retries;  // empty: the mesh default
    std::string flags;
  };
  const std::vector<Case> cases = {
      {"", "UC"},
      {"{attempts: 1, retryOn: connect-failure}", "UC"},
      {"{attempts: 1, retryOn: reset-before-request}", "UC"},
      {"{attempts: 1, retryOn: reset}", "UC,URX"},
      {"{attempts: 1, retryOn: 5xx}", "UC,URX"},
      {"{attempts: 1, retryOn: gateway-error}", "UC,URX"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.retries);
    start(std::string(kBase) + trafficPolicy("{tls: {mode: DISABLE}}") +
          (c.retries.empty() ? std::string() : retries(c.retries)));
    auto p = probe();
    EXPECT_EQ(p.status, 503);
    EXPECT_EQ(p.response_flags, c.flags);
    EXPECT_EQ(p.body,
              "upstream connect error or disconnect/reset before headers. reset reason: "
              "connection termination");
    EXPECT_EQ(served("ratings-good"), 0u);
    runtime_->stop();
  }
}

TEST_F(ResilienceTest, TlsHandshakeFailuresAreNotRetried) {
  // DestinationRule ISTIO_MUTUAL towards a workload without a sidecar: the handshake fails
  // (503 UF, as the engine predicts), and retrying cannot fix a configuration.
  std::string plain = kBase;
  const std::string labels = "labels: {app: ratings, version: v1}}";
  plain.replace(plain.find(labels), labels.size(),
                "labels: {app: ratings, version: v1}, sidecar: false}");
  start(plain + trafficPolicy("{tls: {mode: ISTIO_MUTUAL}}") +
        retries("{attempts: 2, retryOn: \"5xx,connect-failure\"}"));
  auto p = probe();
  EXPECT_EQ(p.status, 503);
  EXPECT_EQ(p.response_flags, "UF");
  EXPECT_NE(p.body.find("TLS error"), std::string::npos) << p.body;
}

TEST_F(ResilienceTest, MaxRetriesOverflowEndsRetriesWithUO) {
  // Two failing replicas, up to two retries each, but only one retry outstanding in the cluster.
  start(std::string(kBase) + badVersion(2) +
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
        "metadata: {namespace: shop, name: ratings}\n"
        "spec:\n  hosts: [ratings]\n  http:\n"
        "  - route: [{destination: {host: ratings, subset: bad}}]\n"
        "    retries: {attempts: 2, retryOn: 5xx}\n"
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {namespace: shop, name: ratings}\n"
        "spec:\n  host: ratings\n  subsets: [{name: bad, labels: {version: v2}}]\n"
        "  trafficPolicy: {connectionPool: {http: {maxRetries: 1}}}\n");
  auto r = burst(40, 4);
  EXPECT_EQ(r.by_status[503], 40u);
  auto outcomes = clientOutcomes();
  EXPECT_EQ((outcomes[{503, "URX"}] + outcomes[{503, "UO"}]), 40u);
  EXPECT_GT((outcomes[{503, "UO"}]), 0u) << "four clients contend for one outstanding retry";
  EXPECT_LT(served("ratings-bad"), 120u) << "fewer than three tries per request";
}

// --- connection-pool circuit breakers

TEST_F(ResilienceTest, PendingQueueOverflowIs503UO) {
  start(std::string(kBase) +
        trafficPolicy(
            "{connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}}"));
  auto r = burst(60, 3);
  EXPECT_EQ(r.sent, 60u);
  EXPECT_EQ(r.by_status[200] + r.by_status[503], 60u) << "every request is 200 or 503";
  EXPECT_GT(r.by_status[503], 0u) << "3 clients, 1 connection, 1 pending place: some overflow";
  auto outcomes = clientOutcomes();
  EXPECT_EQ((outcomes[{503, "UO"}]), r.by_status[503]) << "every 503 is an overflow";
  EXPECT_EQ(served("ratings-good"), r.by_status[200]) << "overflowed requests never left";
}

TEST_F(ResilienceTest, LargePendingQueueLetsEveryRequestWaitForTheConnection) {
  start(std::string(kBase) +
        trafficPolicy(
            "{connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 100}}}"));
  auto r = burst(60, 3);
  EXPECT_EQ(r.by_status[200], 60u) << (r.errors.empty() ? "" : r.errors.front());
}

TEST_F(ResilienceTest, OverflowReplyCarriesEnvoysBody) {
  // http2MaxRequests 1 (active requests, HTTP/1.1 included): a second concurrent request
  // overflows at once.
  start(std::string(kBase) + trafficPolicy("{connectionPool: {http: {http2MaxRequests: 1}}}"));
  auto r = burst(30, 2);
  EXPECT_GT(r.by_status[503], 0u);
  EXPECT_EQ(r.by_status[200] + r.by_status[503], 30u);
  bool seen = false;
  for (const auto& e : runtime_->dataPlane().accessLog(1000)) {
    if (e.direction == "outbound" && e.response_flags == "UO") {
      seen = true;
      EXPECT_EQ(e.status, 503);
      EXPECT_EQ(e.bytes_sent, std::string("upstream connect error or disconnect/reset before "
                                          "headers. reset reason: overflow")
                                  .size());
    }
  }
  EXPECT_TRUE(seen);
}

// Distinct client connections the server sidecar of ratings-good saw.
size_t serverConnections(dataplane::DataPlane& dp) {
  std::set<std::string> peers;
  for (const auto& e : dp.accessLog(10000)) {
    if (e.direction == "inbound" && e.workload == "shop/ratings-good")
      peers.insert(e.downstream_peer);
  }
  return peers.size();
}

TEST_F(ResilienceTest, MaxRequestsPerConnectionLimitsKeepAlive) {
  struct Case {
    std::string pool;  // empty: no DestinationRule
    size_t connections;
  };
  const std::vector<Case> cases = {
      {"", 1},  // keep-alive: one connection carries all ten requests
      {"{connectionPool: {http: {maxRequestsPerConnection: 1}}}", 10},  // keep-alive off
      {"{connectionPool: {http: {maxRequestsPerConnection: 5}}}", 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.pool);
    start(std::string(kBase) + (c.pool.empty() ? std::string() : trafficPolicy(c.pool)));
    auto r = burst(10);
    EXPECT_EQ(r.by_status[200], 10u);
    EXPECT_EQ(serverConnections(runtime_->dataPlane()), c.connections);
    runtime_->stop();
  }
}

// --- outlier ejection

TEST_F(ResilienceTest, ConsecutiveFailuresEjectTheEndpointUntilSimulatedTimePasses) {
  start(std::string(kBase) + badVersion() +
        trafficPolicy("{outlierDetection: {consecutive5xxErrors: 3, interval: 1s, "
                      "baseEjectionTime: 30s, maxEjectionPercent: 100}}"));
  // Round robin: the failing version sees every other request until its third 503 ejects it.
  auto first = burst(20);
  EXPECT_EQ(first.by_status[503], 3u);
  EXPECT_EQ(first.by_status[200], 17u);
  auto ejected = burst(10);
  EXPECT_EQ(ejected.by_workload["shop/ratings-good"], 10u) << "all traffic to the healthy version";

  // baseEjectionTime later the endpoint is back, fails three times more and is ejected again,
  // now for 2 × baseEjectionTime.
  ASSERT_TRUE(runtime_->advanceTime(30).ok());
  auto back = burst(10);
  EXPECT_EQ(back.by_workload["shop/ratings-bad"], 3u);
  EXPECT_EQ(back.by_status[503], 3u);
  ASSERT_TRUE(runtime_->advanceTime(30).ok());
  auto still = burst(10);
  EXPECT_EQ(still.by_workload["shop/ratings-good"], 10u) << "second ejection lasts 60 s";
  ASSERT_TRUE(runtime_->advanceTime(30).ok());
  auto again = burst(10);
  EXPECT_EQ(again.by_workload["shop/ratings-bad"], 3u);
}

TEST_F(ResilienceTest, DefaultMaxEjectionPercentEjectsNoneOfTwoEndpoints) {
  // 10% of 2 endpoints: ejecting one would be 50%.
  start(std::string(kBase) + badVersion() +
        trafficPolicy("{outlierDetection: {consecutive5xxErrors: 1}}"));
  auto r = burst(20);
  EXPECT_EQ(r.by_status[503], 10u);
}

// Only the failing version, two replicas.
std::string failingOnly(const std::string& outlier) {
  return std::string(kBase) + badVersion(2) +
         "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
         "metadata: {namespace: shop, name: ratings}\n"
         "spec:\n  hosts: [ratings]\n  http:\n"
         "  - route: [{destination: {host: ratings, subset: bad}}]\n"
         "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
         "metadata: {namespace: shop, name: ratings}\n"
         "spec:\n  host: ratings\n  subsets: [{name: bad, labels: {version: v2}}]\n"
         "  trafficPolicy: {outlierDetection: " +
         outlier + "}\n";
}

TEST_F(ResilienceTest, EveryEndpointEjectedIsNoHealthyUpstream) {
  start(failingOnly("{consecutive5xxErrors: 2, maxEjectionPercent: 100}"));
  // Each replica fails twice (round robin), then both are ejected.
  auto r = burst(10);
  EXPECT_EQ(r.by_status[503], 10u);
  auto outcomes = clientOutcomes();
  EXPECT_EQ((outcomes[{503, "-"}]), 4u);
  EXPECT_EQ((outcomes[{503, "UH"}]), 6u);
  auto p = probe();
  EXPECT_EQ(p.status, 503);
  EXPECT_EQ(p.response_flags, "UH");
  EXPECT_EQ(p.body, "no healthy upstream");
}

TEST_F(ResilienceTest, BelowMinHealthPercentTrafficGoesToEveryEndpoint) {
  start(failingOnly("{consecutive5xxErrors: 2, maxEjectionPercent: 100, minHealthPercent: 50}"));
  auto r = burst(10);
  EXPECT_EQ(r.by_status[503], 10u);
  EXPECT_EQ((clientOutcomes()[{503, "-"}]), 10u) << "panic mode: the apps answer, never UH";
  EXPECT_EQ(served("ratings-bad"), 10u);
}

}  // namespace
}  // namespace meshsim::proxy
