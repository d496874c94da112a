#pragma once
/// Destinations as a client sidecar sees them (istio-semantics.md section 6): host names and the
/// Services they denote, the DestinationRule that applies to a destination from a client
/// namespace, its subsets, the effective traffic policy of a (subset, port), and the endpoints
/// (Workload replicas) behind a Service or subset. Pure functions over a config::Snapshot.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"

namespace meshsim::routing {

/// The DNS suffix of Services: "<name>.<namespace>.svc.cluster.local".
inline constexpr std::string_view kServiceDomain = "svc.cluster.local";

/// A Service by namespace and name.
struct ServiceRef {
  std::string namespace_;  ///< the Service's namespace
  std::string name;        ///< the Service's name

  /// "<name>.<namespace>.svc.cluster.local".
  std::string fqdn() const;
  /// "<namespace>/<name>".
  std::string key() const { return namespace_ + "/" + name; }
  friend bool operator==(const ServiceRef&, const ServiceRef&) = default;
};

/// What a host name denotes.
struct HostTarget {
  /// The Service the host names, when it has the shape of a Service name (it may not exist).
  std::optional<ServiceRef> service;
  /// The Service resource, when it exists in the snapshot.
  const model::Service* resource = nullptr;
  /// Canonical spelling: the Service FQDN, or the host lower-cased without port and trailing dot.
  std::string canonical;
};

/// Removes a ":port" suffix (and the brackets of an IPv6 literal) from an :authority value.
std::string_view hostWithoutPort(std::string_view authority);

/// Resolves a host written in a resource (or sent by a client) of namespace `context_ns`:
/// "reviews" -> <context_ns>/reviews; "reviews.bookinfo" -> bookinfo/reviews when that Service
/// exists (otherwise an external name); "reviews.bookinfo.svc" and
/// "reviews.bookinfo.svc.cluster.local" -> bookinfo/reviews. Case-insensitive; wildcards
/// ("*.bookinfo.svc.cluster.local", "*") are returned as canonical patterns without a Service.
HostTarget resolveHost(const config::Snapshot& snapshot, std::string_view host,
                       std::string_view context_ns);

/// True when canonical `pattern` (exact, "*" or "*.suffix") covers canonical `host`.
bool hostMatches(std::string_view pattern, std::string_view host);

/// Istio exportTo visibility of a resource of namespace `owner_ns` from `client_ns`: empty or "*"
/// = everywhere, "." = the owner's namespace, "~" = nowhere, other entries name namespaces.
bool isVisibleFrom(const std::vector<std::string>& export_to, std::string_view owner_ns,
                   std::string_view client_ns);

/// The DestinationRule a client in `client_ns` uses for `service`, after Istio's merge of the
/// DestinationRules of the chosen namespace.
struct ResolvedDestinationRule {
  model::DestinationRule rule;       ///< merged view (subsets of later rules appended)
  std::vector<std::string> sources;  ///< "ns/name" of the merged rules, oldest first
  std::string namespace_;            ///< where it was found
};

/// Looks up the DestinationRule for `service` as seen from `client_ns`: the client's namespace,
/// then the service's namespace, then the root namespace; the first namespace with a visible
/// rule for the host wins (exportTo applies; exact hosts beat wildcard hosts, longer wildcards beat
/// shorter). Within that namespace the rules for the same host are merged oldest first: subsets
/// with a new name are appended, the first top-level trafficPolicy is kept. A rule with a
/// workloadSelector applies only to matching `client_labels` in its own namespace and is then
/// preferred. nullopt when no rule applies.
std::optional<ResolvedDestinationRule> findDestinationRule(
    const config::Snapshot& snapshot, std::string_view client_ns, const ServiceRef& service,
    const model::StringMap* client_labels = nullptr);

/// The subset named `name`, or nullptr.
const model::Subset* findSubset(const model::DestinationRule& rule, std::string_view name);

/// The traffic policy in force for a (subset, service port), with Istio's merge
/// (MergeSubsetTrafficPolicy): a matching portLevelSettings entry replaces its level's policy
/// wholesale (unset fields fall back to defaults, not to the level above); the subset's policy
/// then overrides the top-level one field by field — entirely when the subset has a matching
/// portLevelSettings entry.
struct EffectiveTrafficPolicy {
  std::optional<model::ClientTls> tls;                       ///< unset = auto mTLS
  std::optional<model::ConnectionPool> connection_pool;      ///< unset = Envoy defaults
  std::optional<model::OutlierDetection> outlier_detection;  ///< unset = none
  model::LbPolicy load_balancer = model::LbPolicy::kUnset;   ///< kUnset = LEAST_REQUEST
  std::string destination_rule;  ///< "ns/name" of the rule, empty when none applies
  /// Which level the tls came from: "subset port 9080", "subset", "port 9080", "top-level" or "".
  std::string tls_source;
};

/// Computes the effective traffic policy; `rule` may be null (no DestinationRule: all unset).
/// An empty `subset` means the service's default cluster.
EffectiveTrafficPolicy effectiveTrafficPolicy(const model::DestinationRule* rule,
                                              std::string_view subset, uint32_t port,
                                              std::string rule_name = {});

/// True when `workload` is an endpoint of `service` (its `service` field, "name" in its own
/// namespace or "ns/name").
bool workloadServes(const model::Workload& workload, const ServiceRef& service);

/// The Workloads behind a Service (or a subset of it) and their total replica count.
struct EndpointSet {
  std::vector<const model::Workload*> workloads;  ///< with at least one replica
  uint32_t replicas = 0;                          ///< sum of their replicas
};

/// Endpoints of `service` whose labels include `subset_labels` (null = all endpoints).
EndpointSet endpointsOf(const config::Snapshot& snapshot, const ServiceRef& service,
                        const model::StringMap* subset_labels = nullptr);

}  // namespace meshsim::routing
