#pragma once
/// Translation of BRIDGED TSB-style settings into Istio objects, as a management plane would:
/// SecuritySetting → PeerAuthentication + AuthorizationPolicy + RequestAuthentication,
/// ServiceRoute → VirtualService + DestinationRule, TrafficSetting → route timeouts/retries and
/// local rate limits. The data plane and every decision consume only the Istio-level result.

#include <memory>
#include <string>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/model/resource.h"

namespace meshsim::mgmt {

/// Annotation on every generated object naming the meshsim resource it came from.
inline constexpr const char* kSourceAnnotation = "meshsim.io/source";

/// A local rate limit for one service's server sidecars (an EnvoyFilter local_ratelimit in Istio).
struct LocalRateLimit {
  std::string namespace_;
  std::string service;
  std::string cluster;  ///< "*" = every cluster
  model::TokenBucket bucket;
  std::string source_fqn;
};

struct Translation {
  std::vector<model::Resource> resources;  ///< generated Istio objects
  std::vector<LocalRateLimit> rate_limits;
  std::vector<std::string> notes;          ///< settings skipped and why
};

/// Translates every BRIDGED setting that applies to namespaces with workloads in `cluster`
/// ("*" = every cluster). Deterministic; pure.
Translation translate(const config::Snapshot& snap, const std::string& cluster = "*");

/// The snapshot's resources plus the generated Istio objects of every cluster.
std::shared_ptr<const config::Snapshot> withTranslation(const config::Snapshot& snap);

/// Istio YAML (one document, no leading "---") for an Istio-kind resource. Resources read from
/// files are emitted as written; generated ones from their fields.
std::string toIstioYaml(const model::Resource& resource);

/// Istio YAML of an EnvoyFilter implementing `limit` with Envoy's local_ratelimit filter.
std::string rateLimitYaml(const LocalRateLimit& limit);

}  // namespace meshsim::mgmt
