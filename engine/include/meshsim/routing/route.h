#pragma once
/// Client-side HTTP routing with VirtualService semantics (istio-semantics.md sections 5 and 7):
/// VirtualService selection for the destination host, first matching http route, weighted
/// destinations, subsets resolved through the DestinationRule, fault injection, redirect,
/// direct response, timeout, retries and the cluster's traffic policy.
///
/// compileRoutes() turns a snapshot into an immutable CompiledRoutes once (RE2 only for regex
/// matches); selectRoute() then evaluates one request without I/O, locks or — unless `explain` is
/// set — allocations on the common path. Randomness is injected (RouteDice).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meshsim/common/source.h"
#include "meshsim/config/store.h"
#include "meshsim/model/istio.h"
#include "meshsim/policy/decision.h"
#include "meshsim/routing/destination.h"

namespace meshsim::routing {

/// The gateway name of sidecar (mesh-internal) traffic.
inline constexpr std::string_view kMeshGateway = "mesh";

/// One request at the client sidecar (or gateway), before routing. Views: the caller keeps the
/// data alive for the duration of the call.
struct RouteRequest {
  std::string_view source_namespace;                ///< the client's namespace
  const model::StringMap* source_labels = nullptr;  ///< the client workload's labels (null: none)
  /// "mesh" for a sidecar; "<ns>/<name>" of the Gateway for traffic entering through one.
  std::string_view gateway = kMeshGateway;
  std::string_view authority;  ///< Host / :authority as sent, possibly with ":port"
  uint32_t port = 0;           ///< the service port the client dialled
  std::string_view scheme = "http";
  std::string_view method = "GET";
  std::string_view path = "/";  ///< path with query string
  /// Header names lower-case; duplicates already joined with ",".
  std::span<const std::pair<std::string, std::string>> headers;
  /// The modelled upstream latency; compared with the route timeout (nullopt: never times out).
  std::optional<double> upstream_latency_ms;
  /// Fill RouteResult::reason and ::trace (allocates; for `meshsim check`).
  bool explain = false;
};

/// Uniform random draws in [0, 1), injected so that decisions are deterministic in tests.
/// A fault applies when `draw * 100 < percentage`; the weighted destination is the first whose
/// cumulative share exceeds `pick`.
struct RouteDice {
  double pick = 0;   ///< chooses the weighted destination
  double abort = 0;  ///< decides fault.abort
  double delay = 0;  ///< decides fault.delay
};

/// How routing ended.
enum class RouteOutcome {
  kForward,            ///< send the request upstream to `endpoints`
  kRedirect,           ///< the client sidecar answers with a redirect (301 by default)
  kDirectResponse,     ///< the client sidecar answers with the configured status and body
  kFaultAbort,         ///< fault injection aborted the request (flag FI)
  kNoRoute,            ///< a VirtualService exists but no http route matched: 404, flag NR
  kClusterNotFound,    ///< undefined subset, unknown host or port: 503, flag NC
  kNoHealthyUpstream,  ///< the chosen cluster has no endpoint: 503 "no healthy upstream", UH
  kTimeout,            ///< upstream latency beyond the route timeout: 504, flag UT
};

/// "forward", "redirect", "direct-response", "fault-abort", "no-route", "cluster-not-found",
/// "no-healthy-upstream", "timeout".
const char* routeOutcomeName(RouteOutcome outcome);

/// The effective retry policy of a route (mesh default: 2 attempts on
/// "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes").
struct RetryPolicy {
  int32_t attempts = 2;                            ///< 0 = retries disabled
  std::string retry_on;                            ///< Envoy retry_on policies
  std::optional<model::Duration> per_try_timeout;  ///< unset = the route timeout
};

/// The outcome of routing one request. Pointers and views refer to the CompiledRoutes (or to
/// `owned` state of this result) and are valid while both live.
struct RouteResult {
  RouteOutcome outcome = RouteOutcome::kClusterNotFound;  ///< how routing ended
  int status = 0;          ///< HTTP status when the client sidecar answers itself; 0 = forward
  std::string_view body;   ///< local reply body
  std::string_view flags;  ///< Envoy response flags: NR, NC, UH, UT, FI, DI (delay), "DI,UT" ...
  std::optional<int32_t> grpc_status;  ///< fault abort with grpcStatus (HTTP status 200)
  std::string location;                ///< redirect target URL
  /// VirtualService "ns/name", route index, chosen destination and the full share table.
  const policy::RouteInfo* info = nullptr;
  // Forwarding (set for kForward, and for kNoHealthyUpstream/kTimeout as far as known):
  const ServiceRef* service = nullptr;     ///< destination Service
  std::string_view host;                   ///< destination host (canonical)
  std::string_view subset;                 ///< empty = the service's default cluster
  uint32_t port = 0;                       ///< destination service port
  const EndpointSet* endpoints = nullptr;  ///< the chosen cluster's endpoints
  const EffectiveTrafficPolicy* traffic_policy = nullptr;  ///< DestinationRule policy for the port
  std::optional<model::Duration> timeout;                  ///< route timeout (nullopt = disabled)
  const RetryPolicy* retries = nullptr;                    ///< effective retry policy
  std::optional<model::Duration> delay;                    ///< injected fault delay, when applied
  const model::Destination* mirror = nullptr;              ///< traffic mirror target, if any
  std::string_view rewrite_uri;                            ///< rewrite.uri, if any
  /// Filled only with RouteRequest::explain.
  std::string reason;
  std::vector<std::string> trace;
  /// Keeps per-request state alive (a DestinationRule selected by the client's labels).
  std::shared_ptr<const void> owned;

  /// A copy of `*info` (empty when routing did not get that far).
  policy::RouteInfo routeInfo() const { return info != nullptr ? *info : policy::RouteInfo{}; }
};

/// VirtualServices, DestinationRules, Services and endpoints of one snapshot, compiled for
/// routing. Immutable; copies share state; safe to use from several threads at once.
class CompiledRoutes {
 public:
  /// Routes of an empty snapshot.
  CompiledRoutes();
  ~CompiledRoutes();
  CompiledRoutes(const CompiledRoutes&);
  CompiledRoutes& operator=(const CompiledRoutes&);
  CompiledRoutes(CompiledRoutes&&) noexcept;
  CompiledRoutes& operator=(CompiledRoutes&&) noexcept;

  /// Warnings found while compiling: invalid regexes (such matches never match), VirtualServices
  /// that conflict for the same host and gateway, routes whose weights are all zero.
  const Diagnostics& diagnostics() const;
  /// The snapshot the routes were compiled from.
  const config::Snapshot& snapshot() const;

 private:
  struct Impl;
  friend struct RouteAccess;  // defined in route.cpp
  std::shared_ptr<const Impl> impl_;
};

/// Compiles the routing view of `snapshot` (kept alive by the result).
CompiledRoutes compileRoutes(std::shared_ptr<const config::Snapshot> snapshot);

/// Routes one request: selects the VirtualService bound to the request's gateway for the host
/// (first by creation when several conflict), the first http route whose match list matches
/// (uri/scheme/method/authority/headers/withoutHeaders/queryParams with exact/prefix/regex,
/// ignoreUriCase, port, sourceLabels, sourceNamespace, gateways), and then applies, in Envoy's
/// order: fault abort and delay, redirect or direct response, the weighted destination, the
/// cluster (subset from the DestinationRule visible to the client: undefined = 503 NC), its
/// endpoints (none = 503 UH) and the route timeout (504 UT). Without a VirtualService the
/// request goes to the whole service. Pure; thread-safe.
RouteResult selectRoute(const CompiledRoutes& routes, const RouteRequest& request,
                        const RouteDice& dice = {});

/// Copies the route info into `decision.route`; when routing answered itself (anything but
/// kForward), also sets status, body, response flags, stage kRoute, policy and rule. Appends the
/// trace (when explained) to the decision's trace.
void applyToDecision(const RouteResult& result, policy::Decision& decision);

}  // namespace meshsim::routing
