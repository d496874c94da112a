// Client-side resilience: retries, circuit breakers, outlier ejection, and the part of the
// outbound path that applies them (Replica::forward).
#include "upstream_policy.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "meshsim/routing/client_tls.h"

namespace meshsim::proxy {

namespace {

// Envoy's response flags in the order Envoy prints them (StreamInfo ResponseFlag order).
constexpr std::array<std::string_view, 28> kFlagOrder = {
    "LH",   "UH",   "UT",   "LR",   "UR", "UF",  "UC", "UO", "NR",  "DI",
    "FI",   "RL",   "UAEX", "RLSE", "DC", "URX", "SI", "IH", "DPE", "UMSDR",
    "RFCF", "NFCF", "DT",   "UPE",  "NC", "OM",  "DF", "DO"};

struct NamedBit {
  std::string_view name;
  uint32_t bit;
};

constexpr std::array<NamedBit, 16> kRetryOnNames = {{
    {"5xx", kRetryOn5xx},
    {"gateway-error", kRetryOnGatewayError},
    {"reset", kRetryOnReset},
    {"reset-before-request", kRetryOnResetBeforeRequest},
    {"connect-failure", kRetryOnConnectFailure},
    {"retriable-4xx", kRetryOnRetriable4xx},
    {"retriable-status-codes", kRetryOnRetriableStatusCodes},
    {"refused-stream", kRetryOnRefusedStream},
    {"retriable-headers", kRetryOnRetriableHeaders},
    {"envoy-ratelimited", kRetryOnEnvoyRateLimited},
    {"http3-post-connect-failure", kRetryOnHttp3PostConnectFailure},
    {"cancelled", kRetryOnGrpcCancelled},
    {"deadline-exceeded", kRetryOnGrpcDeadlineExceeded},
    {"internal", kRetryOnGrpcInternal},
    {"resource-exhausted", kRetryOnGrpcResourceExhausted},
    {"unavailable", kRetryOnGrpcUnavailable},
}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

size_t flagRank(std::string_view flag) {
  auto it = std::find(kFlagOrder.begin(), kFlagOrder.end(), flag);
  return static_cast<size_t>(it - kFlagOrder.begin());  // unknown: kFlagOrder.size()
}

std::chrono::milliseconds millisOr(const std::optional<model::Duration>& d,
                                   std::chrono::milliseconds fallback) {
  return d ? std::chrono::milliseconds(d->millis) : fallback;
}

bool hasHeader(const UpstreamResult& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (beast::iequals(k, name)) return true;
  }
  return false;
}

// What an exchange() result says about how the attempt ended. `per_try_cut` is true when the
// attempt's deadline was the per-try timeout (earlier than the request's deadline) and has
// passed.
AttemptOutcome classify(const UpstreamResult& r, bool per_try_cut) {
  AttemptOutcome o;
  if (r.flags.empty()) {
    o.kind = AttemptOutcome::Kind::kResponse;
    o.status = r.status;
    o.envoy_overloaded = hasHeader(r, "x-envoy-overloaded");
    o.envoy_ratelimited = hasHeader(r, "x-envoy-ratelimited");
  } else if (r.flags == "UT") {
    const bool connecting = r.error.rfind("connect ", 0) == 0;
    o.kind = per_try_cut  ? AttemptOutcome::Kind::kPerTryTimeout
             : connecting ? AttemptOutcome::Kind::kConnectFailure
                          : AttemptOutcome::Kind::kPerTryTimeout;
  } else if (r.flags == "UF") {
    o.kind = r.body.find("transport failure") != std::string::npos
                 ? AttemptOutcome::Kind::kTlsFailure
                 : AttemptOutcome::Kind::kConnectFailure;
  } else {
    o.kind = AttemptOutcome::Kind::kReset;
  }
  return o;
}

// The status Envoy's outlier detector sees for an attempt (local-origin failures mapped).
int outlierStatus(const AttemptOutcome& o) {
  switch (o.kind) {
    case AttemptOutcome::Kind::kResponse:
      return o.status;
    case AttemptOutcome::Kind::kPerTryTimeout:
      return 504;
    case AttemptOutcome::Kind::kOverflow:
      return 0;
    default:
      return 503;
  }
}

UpstreamResult localFailure(int status, std::string_view flags, std::string_view body) {
  UpstreamResult r;
  r.status = status;
  r.flags = std::string(flags);
  r.body = std::string(body);
  return r;
}

}  // namespace

// ------------------------------------------------------------------------------ clock, buckets

SteadyClock::time_point meshNow(const pki::SimClock& clock) {
  return SteadyClock::now() + std::chrono::seconds(clock.now());
}

bool sameBucket(const std::optional<model::TokenBucket>& a,
                const std::optional<model::TokenBucket>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->max_tokens == b->max_tokens && a->tokens_per_fill == b->tokens_per_fill &&
         a->fill_interval == b->fill_interval;
}

// ------------------------------------------------------------------------------------ retries

RetryOn parseRetryOn(std::string_view text) {
  RetryOn out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view entry = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (entry.empty()) continue;
    auto named = std::find_if(kRetryOnNames.begin(), kRetryOnNames.end(),
                              [&](const NamedBit& n) { return n.name == entry; });
    if (named != kRetryOnNames.end()) {
      out.bits |= named->bit;
      continue;
    }
    int32_t code = 0;
    auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), code);
    if (ec == std::errc() && end == entry.data() + entry.size() && code >= 100 && code <= 599) {
      if (std::find(out.status_codes.begin(), out.status_codes.end(), code) ==
          out.status_codes.end()) {
        out.status_codes.push_back(code);
      }
      out.bits |= kRetryOnRetriableStatusCodes;
      continue;
    }
    out.unknown.emplace_back(entry);
  }
  return out;
}

bool wouldRetry(const RetryOn& on, const AttemptOutcome& outcome) {
  using Kind = AttemptOutcome::Kind;
  switch (outcome.kind) {
    case Kind::kOverflow:
    case Kind::kTlsFailure:
      return false;
    case Kind::kConnectFailure:
      return (on.bits & (kRetryOn5xx | kRetryOnGatewayError | kRetryOnReset |
                         kRetryOnConnectFailure | kRetryOnResetBeforeRequest)) != 0;
    case Kind::kReset:
    case Kind::kPerTryTimeout:
      return (on.bits & (kRetryOn5xx | kRetryOnGatewayError | kRetryOnReset)) != 0;
    case Kind::kResponse:
      break;
  }
  if (outcome.envoy_overloaded) return false;
  if (outcome.envoy_ratelimited) return (on.bits & kRetryOnEnvoyRateLimited) != 0;
  const int s = outcome.status;
  if ((on.bits & kRetryOn5xx) && s >= 500 && s <= 599) return true;
  if ((on.bits & kRetryOnGatewayError) && (s == 502 || s == 503 || s == 504)) return true;
  if ((on.bits & kRetryOnRetriable4xx) && s == 409) return true;
  if (on.bits & kRetryOnRetriableStatusCodes) {
    return std::find(on.status_codes.begin(), on.status_codes.end(), s) != on.status_codes.end();
  }
  return false;
}

std::chrono::milliseconds retryBackoff(int retry, double draw) {
  constexpr int64_t kBaseMs = 25;
  constexpr int64_t kMaxMs = 250;
  const int shift = std::clamp(retry, 1, 16);
  const int64_t ceiling = ((int64_t{1} << shift) - 1) * kBaseMs;
  const auto ms =
      static_cast<int64_t>(std::floor(std::clamp(draw, 0.0, 1.0) * static_cast<double>(ceiling)));
  return std::chrono::milliseconds(std::min({ms, ceiling - 1, kMaxMs}));
}

std::string mergeFlags(std::string_view flags, std::string_view more) {
  std::vector<std::string_view> all;
  for (std::string_view list : {flags, more}) {
    while (!list.empty()) {
      const size_t comma = list.find(',');
      std::string_view f = trim(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (!f.empty() && f != "-" && std::find(all.begin(), all.end(), f) == all.end()) {
        all.push_back(f);
      }
    }
  }
  std::stable_sort(all.begin(), all.end(), [](std::string_view a, std::string_view b) {
    return flagRank(a) < flagRank(b);
  });
  std::string out;
  for (std::string_view f : all) {
    if (!out.empty()) out += ',';
    out += f;
  }
  return out;
}

// ----------------------------------------------------------------------- circuit breakers

CircuitLimits circuitLimits(const std::optional<model::ConnectionPool>& pool) {
  CircuitLimits l;
  if (!pool) return l;
  auto set = [](uint32_t& slot, const std::optional<uint32_t>& v) {
    if (v && *v > 0) slot = *v;
  };
  set(l.max_connections, pool->max_connections);
  set(l.max_pending, pool->http1_max_pending_requests);
  set(l.max_requests, pool->http2_max_requests);
  set(l.max_retries, pool->max_retries);
  if (pool->max_requests_per_connection) {
    l.max_requests_per_connection = *pool->max_requests_per_connection;
  }
  return l;
}

std::optional<ClusterCircuit::Admission> ClusterCircuit::tryAcquire(const CircuitLimits& limits) {
  if (active_ < limits.max_connections && pending_.empty()) {
    if (active_ >= limits.max_requests) return Admission::kOverflow;
    ++active_;
    return Admission::kGranted;
  }
  if (pending_.size() >= limits.max_pending) return Admission::kOverflow;
  return std::nullopt;
}

awaitable<ClusterCircuit::Admission> ClusterCircuit::acquire(asio::io_context& io,
                                                             const CircuitLimits& limits,
                                                             SteadyClock::time_point deadline) {
  if (auto now = tryAcquire(limits)) co_return *now;
  auto waiter = std::make_shared<Waiter>(io);
  pending_.push_back(waiter);
  waiter->timer.expires_at(deadline);
  // Cancelled by release() when it decides for this waiter; otherwise the deadline passes.
  co_await waiter->timer.async_wait(kTuple);
  if (waiter->decided) co_return *waiter->decided;
  auto it = std::find(pending_.begin(), pending_.end(), waiter);
  if (it != pending_.end()) pending_.erase(it);
  co_return Admission::kTimedOut;
}

void ClusterCircuit::release(const CircuitLimits& limits) {
  if (active_ > 0) --active_;
  while (!pending_.empty() && active_ < limits.max_connections) {
    auto next = pending_.front();
    pending_.pop_front();
    if (active_ >= limits.max_requests) {
      next->decided = Admission::kOverflow;
    } else {
      next->decided = Admission::kGranted;
      ++active_;
    }
    next->timer.cancel();
    if (*next->decided == Admission::kGranted) break;
  }
}

bool ClusterCircuit::tryRetry(const CircuitLimits& limits) {
  if (retries_ >= limits.max_retries) return false;
  ++retries_;
  return true;
}

void ClusterCircuit::retryDone() {
  if (retries_ > 0) --retries_;
}

// ------------------------------------------------------------------------- outlier ejection

OutlierSettings outlierSettings(const model::OutlierDetection& od) {
  OutlierSettings s;
  if (od.consecutive_5xx_errors) s.consecutive_5xx = *od.consecutive_5xx_errors;
  if (od.consecutive_gateway_errors) s.consecutive_gateway = *od.consecutive_gateway_errors;
  s.interval = std::max(std::chrono::milliseconds(1), millisOr(od.interval, s.interval));
  s.base_ejection = millisOr(od.base_ejection_time, s.base_ejection);
  s.max_ejection = std::max(s.max_ejection, s.base_ejection);
  if (od.max_ejection_percent && *od.max_ejection_percent > 0) {
    s.max_ejection_percent = std::min<uint32_t>(100, *od.max_ejection_percent);
  }
  if (od.min_health_percent) s.min_health_percent = std::min<uint32_t>(100, *od.min_health_percent);
  return s;
}

void OutlierDetector::refresh(HostState& host, const OutlierSettings& settings,
                              SteadyClock::time_point now) {
  if (host.ejected_until && now >= *host.ejected_until) {
    // Un-ejected: the counters restart, and the multiplier decays from here.
    host.decay_from = *host.ejected_until;
    host.ejected_until.reset();
    host.consecutive_5xx = 0;
    host.consecutive_gateway = 0;
  }
  if (!host.ejected_until && host.decay_from && host.multiplier > 0) {
    const auto periods = (now - *host.decay_from) / settings.interval;
    if (periods > 0) {
      const auto steps = std::min<int64_t>(periods, host.multiplier);
      host.multiplier -= static_cast<uint32_t>(steps);
      *host.decay_from += periods * settings.interval;
    }
  }
}

bool OutlierDetector::record(std::string_view cluster, std::string_view host, size_t cluster_size,
                             int status, const OutlierSettings& settings,
                             SteadyClock::time_point now) {
  auto cit = clusters_.find(cluster);
  if (cit == clusters_.end()) cit = clusters_.emplace(std::string(cluster), Hosts{}).first;
  Hosts& hosts = cit->second;
  auto hit = hosts.find(host);
  if (hit == hosts.end()) hit = hosts.emplace(std::string(host), HostState{}).first;
  HostState& h = hit->second;
  refresh(h, settings, now);
  if (h.ejected_until) return false;  // results of requests still in flight to an ejected host

  bool trip = false;
  if (status >= 500 && status <= 599) {
    if (status == 502 || status == 503 || status == 504) {
      ++h.consecutive_gateway;
      if (settings.consecutive_gateway > 0 &&
          h.consecutive_gateway == settings.consecutive_gateway) {
        trip = true;
      }
    } else {
      h.consecutive_gateway = 0;
    }
    ++h.consecutive_5xx;
    if (settings.consecutive_5xx > 0 && h.consecutive_5xx == settings.consecutive_5xx) trip = true;
  } else {
    h.consecutive_5xx = 0;
    h.consecutive_gateway = 0;
  }
  if (!trip) return false;
  // Both counters restart after a detection, ejected or not.
  h.consecutive_5xx = 0;
  h.consecutive_gateway = 0;

  size_t active = 0;
  for (auto& [name, other] : hosts) {
    refresh(other, settings, now);
    if (other.ejected_until) ++active;
  }
  const double percent = 100.0 * static_cast<double>(active + 1) /
                         static_cast<double>(std::max<size_t>(1, cluster_size));
  if (percent > static_cast<double>(settings.max_ejection_percent)) return false;

  if (std::chrono::milliseconds(settings.base_ejection * h.multiplier) <
      settings.max_ejection + settings.base_ejection) {
    ++h.multiplier;
  }
  const auto duration = std::min<std::chrono::milliseconds>(settings.base_ejection * h.multiplier,
                                                            settings.max_ejection);
  h.ejected_until = now + duration;
  h.decay_from.reset();
  return true;
}

bool OutlierDetector::ejected(std::string_view cluster, std::string_view host,
                              SteadyClock::time_point now) const {
  auto cit = clusters_.find(cluster);
  if (cit == clusters_.end()) return false;
  auto hit = cit->second.find(host);
  if (hit == cit->second.end()) return false;
  return hit->second.ejected_until && now < *hit->second.ejected_until;
}

size_t OutlierDetector::ejectedCount(std::string_view cluster, SteadyClock::time_point now) const {
  auto cit = clusters_.find(cluster);
  if (cit == clusters_.end()) return 0;
  size_t n = 0;
  for (const auto& [name, h] : cit->second) {
    if (h.ejected_until && now < *h.ejected_until) ++n;
  }
  return n;
}

std::vector<bool> OutlierDetector::eligible(std::string_view cluster,
                                            const std::vector<std::string_view>& hosts,
                                            const OutlierSettings& settings,
                                            SteadyClock::time_point now) const {
  std::vector<bool> ok(hosts.size(), true);
  auto cit = clusters_.find(cluster);
  if (cit == clusters_.end()) return ok;
  size_t healthy = 0;
  for (size_t i = 0; i < hosts.size(); ++i) {
    auto hit = cit->second.find(hosts[i]);
    ok[i] =
        hit == cit->second.end() || !hit->second.ejected_until || now >= *hit->second.ejected_until;
    if (ok[i]) ++healthy;
  }
  // Panic: below the healthy threshold Envoy balances over every host, ejected or not.
  if (!hosts.empty() && 100.0 * static_cast<double>(healthy) / static_cast<double>(hosts.size()) <
                            static_cast<double>(settings.min_health_percent)) {
    std::fill(ok.begin(), ok.end(), true);
  }
  return ok;
}

ClusterCircuit& UpstreamPolicy::circuit(std::string_view cluster) {
  auto it = circuits_.find(cluster);
  if (it == circuits_.end()) {
    it = circuits_.emplace(std::string(cluster), std::make_unique<ClusterCircuit>()).first;
  }
  return *it->second;
}

dataplane::WorkloadPlan ingressWorkload(const dataplane::MeshPlan& plan) {
  dataplane::WorkloadPlan w;
  w.name = "istio-ingressgateway";
  w.namespace_ = plan.config ? plan.config->rootNamespace() : std::string("istio-system");
  w.key = w.namespace_ + "/" + w.name;
  w.app = "istio-ingressgateway";
  w.cluster = plan.ingress_svid.request.cluster;
  w.spiffe_id = plan.ingress_svid.spiffe_id;
  w.sidecar = true;
  return w;
}

// ------------------------------------------------------------------------- the outbound path

awaitable<UpstreamResult> Replica::forward(
    const std::shared_ptr<const PlanView>& view, const routing::RouteResult& route,
    const std::vector<std::pair<const dataplane::WorkloadPlan*, uint32_t>>& candidates,
    uint32_t port, Request& request, SteadyClock::time_point deadline,
    const dataplane::WorkloadPlan** dest) {
  auto self = shared_from_this();
  if (!upstream_policy_) upstream_policy_ = std::make_unique<UpstreamPolicy>();
  UpstreamPolicy& policy = *upstream_policy_;
  static const routing::EffectiveTrafficPolicy kNoPolicy;
  const routing::EffectiveTrafficPolicy& traffic =
      route.traffic_policy != nullptr ? *route.traffic_policy : kNoPolicy;
  static const routing::RetryPolicy kMeshDefaultRetries{
      2, "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes", {}};
  const routing::RetryPolicy& retry_policy =
      route.retries != nullptr ? *route.retries : kMeshDefaultRetries;
  const RetryOn retry_on = parseRetryOn(retry_policy.retry_on);
  const int max_retries = std::max(0, retry_policy.attempts);
  const CircuitLimits limits = circuitLimits(traffic.connection_pool);
  const uint32_t service_port = route.port != 0 ? route.port : port;

  // Envoy's cluster: host, subset and port ("outbound|9080|v1|reviews.ns.svc.cluster.local").
  std::string cluster = "outbound|" + std::to_string(service_port) + "|";
  cluster.append(route.subset).append("|").append(route.host);
  ClusterCircuit& circuit = policy.circuit(cluster);
  std::optional<OutlierSettings> outlier;
  if (traffic.outlier_detection) outlier = outlierSettings(*traffic.outlier_detection);
  const pki::SimClock& sim = *view->plan->clock;

  std::vector<bool> tried(candidates.size(), false);
  bool holding_retry = false;
  std::string extra_flags;  // URX or UO when retries end early
  UpstreamResult res;
  for (int attempt = 0;; ++attempt) {
    // Endpoint pick: round robin over hosts that are not ejected, preferring hosts this request
    // has not tried yet (Istio's previous_hosts retry predicate).
    std::vector<bool> ok;  // empty: every endpoint is eligible
    if (outlier) {
      std::vector<std::string_view> hosts;
      hosts.reserve(candidates.size());
      for (const auto& [tp, idx] : candidates) hosts.emplace_back(tp->replicas[idx].address);
      ok = policy.outliers().eligible(cluster, hosts, *outlier, meshNow(sim));
    }
    const size_t n = candidates.size();
    std::optional<size_t> pick;
    for (int pass = 0; pass < 2 && !pick; ++pass) {
      for (size_t k = 0; k < n; ++k) {
        const size_t i = (round_robin_ + k) % n;
        if ((ok.empty() || ok[i]) && (pass == 1 || !tried[i])) {
          pick = i;
          round_robin_ += k + 1;
          break;
        }
      }
    }
    if (!pick) {
      if (holding_retry) circuit.retryDone();
      co_return localFailure(503, "UH", kBodyNoHealthyUpstream);
    }
    tried[*pick] = true;
    auto [tp, idx] = candidates[*pick];
    *dest = tp;
    const dataplane::InboundPort* ip = tp->findServicePort(service_port);
    const uint32_t target_port = ip != nullptr ? ip->port : port;
    const model::MtlsMode mode = ip != nullptr ? ip->mode : model::MtlsMode::kPermissive;
    const routing::ClientTransport ct = routing::clientTransport(traffic, tp->sidecar, mode);

    // Circuit breakers: a connection slot now, a place in the pending queue, or overflow.
    // Decided at once unless it has to queue: no coroutine frame on the common path.
    std::optional<ClusterCircuit::Admission> now = circuit.tryAcquire(limits);
    const auto admission = now ? *now : co_await circuit.acquire(io_, limits, deadline);
    if (admission != ClusterCircuit::Admission::kGranted) {
      if (holding_retry) circuit.retryDone();
      if (admission == ClusterCircuit::Admission::kTimedOut) {
        res = localFailure(504, "UT", kBodyTimeout);
        res.error = "upstream request timeout while pending for a connection";
      } else {
        res = localFailure(503, "UO", kBodyOverflow);
        res.headers.emplace_back("x-envoy-overloaded", "true");
        res.error = "circuit breaker overflow for " + cluster;
      }
      co_return res;
    }

    auto attempt_deadline = deadline;
    if (retry_policy.per_try_timeout && retry_policy.per_try_timeout->millis > 0) {
      attempt_deadline =
          std::min(deadline, SteadyClock::now() +
                                 std::chrono::milliseconds(retry_policy.per_try_timeout->millis));
    }
    request.set("x-envoy-attempt-count", std::to_string(attempt + 1));
    res = co_await exchange(view, *tp, idx, target_port, ct.sends_mtls,
                            ct.sends_tls && !ct.sends_mtls, request, attempt_deadline,
                            limits.max_requests_per_connection);
    circuit.release(limits);
    if (holding_retry) {
      circuit.retryDone();
      holding_retry = false;
    }

    const bool per_try_cut = attempt_deadline < deadline && SteadyClock::now() >= attempt_deadline;
    const AttemptOutcome outcome = classify(res, per_try_cut);
    if (outlier) {
      if (int status = outlierStatus(outcome); status != 0) {
        const std::string_view host = tp->replicas[idx].address;
        policy.outliers().record(cluster, host, n, status, *outlier, meshNow(sim));
      }
    }
    // The route's own timeout ends the request: 504 UT, no retry.
    if (res.flags == "UT" && SteadyClock::now() >= deadline) break;
    // attempts 0: Istio sends no retry policy at all, so there is no retry limit to exceed.
    if (max_retries == 0 || !wouldRetry(retry_on, outcome)) break;
    if (attempt >= max_retries) {
      extra_flags = "URX";
      break;
    }
    if (!circuit.tryRetry(limits)) {
      extra_flags = "UO";
      break;
    }
    holding_retry = true;
    const auto backoff =
        retryBackoff(attempt + 1, std::uniform_real_distribution<double>(0, 1)(rng_));
    if (SteadyClock::now() + backoff >= deadline) {
      circuit.retryDone();
      res = localFailure(504, "UT", kBodyTimeout);
      res.error = "upstream request timeout before retry " + std::to_string(attempt + 1);
      co_return res;
    }
    if (backoff.count() > 0) {
      Timer timer(io_);
      timer.expires_after(backoff);
      co_await timer.async_wait(kTuple);
    }
  }
  if (!extra_flags.empty()) res.flags = mergeFlags(res.flags, extra_flags);
  co_return res;
}

}  // namespace meshsim::proxy
