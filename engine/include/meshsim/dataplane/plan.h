#pragma once
/// The control plane's output: an immutable, per-workload plan of what every sidecar enforces
/// (listeners and their mTLS modes, compiled JWT authentication and authorization, local rate
/// limits, the app's behaviour, the workload's certificate) and the mesh-wide routing tables.
/// The data plane receives a new shared_ptr<const MeshPlan> for each change and swaps it in;
/// nothing in a plan changes after it is built (ARCHITECTURE.md R6).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/model/mesh.h"
#include "meshsim/pki/ca.h"
#include "meshsim/pki/clock.h"
#include "meshsim/pki/svid.h"
#include "meshsim/pki/trust.h"
#include "meshsim/policy/authz.h"
#include "meshsim/policy/jwt.h"
#include "meshsim/routing/route.h"

namespace meshsim::dataplane {

/// Replicas one cluster can hold: 127.C.X.Y with X in 0..255 and Y in 1..254.
inline constexpr uint32_t kMaxReplicasPerCluster = 256 * 254;
/// Clusters one mesh can hold (C in 1..254; 127.0.0.0/16 stays for the ingress and outsiders).
inline constexpr uint32_t kMaxClusters = 254;

/// The loopback address of replica slot `ordinal` (0-based) of cluster number `cluster_index`
/// (0-based): "127.<cluster_index+1>.<ordinal/254>.<ordinal%254+1>". Preconditions:
/// cluster_index < kMaxClusters and ordinal < kMaxReplicasPerCluster. Pure.
std::string loopbackAddress(uint32_t cluster_index, uint32_t ordinal);

/// One port the sidecar (or, without a sidecar, the app) listens on.
struct InboundPort {
  uint32_t port = 0;          ///< the workload (target) port, bound on every replica address
  uint32_t service_port = 0;  ///< the Service port clients dial
  std::string name;
  model::Protocol protocol = model::Protocol::kHttp;
  model::MtlsMode mode = model::MtlsMode::kPermissive;  ///< effective PeerAuthentication, never kUnset
  std::string peer_authn_policy;  ///< deciding PeerAuthentication "ns/name", empty for the default
};

/// One running copy of a workload.
struct ReplicaPlan {
  uint32_t index = 0;    ///< 0-based
  std::string address;   ///< "127.C.X.Y"
  std::string pod;       ///< "<workload>-<index>"
};

/// Everything one workload's sidecars and apps need. Pointers refer into MeshPlan::config.
struct WorkloadPlan {
  const model::Workload* workload = nullptr;
  const model::Service* service = nullptr;  ///< null for a pure client
  std::string key;        ///< "ns/name"
  std::string namespace_;
  std::string name;
  std::string version;    ///< labels["version"], may be empty
  std::string app;        ///< labels["app"], or the service name
  std::string cluster;
  std::string spiffe_id;  ///< "spiffe://<td>/ns/<ns>/sa/<sa>"
  bool sidecar = true;
  std::vector<ReplicaPlan> replicas;
  std::vector<InboundPort> ports;  ///< empty for a pure client
  std::shared_ptr<const policy::CompiledAuthz> authz;    ///< never null when sidecar
  std::shared_ptr<const policy::CompiledJwtAuthn> jwt;   ///< never null when sidecar
  std::optional<model::TokenBucket> rate_limit;          ///< per replica, from TrafficSettings
  std::string rate_limit_source;                         ///< FQN of the setting
  pki::Svid svid;  ///< the current certificate (sidecar workloads only)

  /// The inbound port with workload port `port`, or null.
  const InboundPort* findPort(uint32_t port) const;
  /// The inbound port whose Service port is `service_port`, or null.
  const InboundPort* findServicePort(uint32_t service_port) const;
};

/// The whole mesh at one configuration revision. Immutable; share it as shared_ptr<const>.
struct MeshPlan {
  uint64_t revision = 0;
  /// The Istio-level configuration every decision reads (TSB settings already translated).
  std::shared_ptr<const config::Snapshot> config;
  routing::CompiledRoutes routes;
  std::string trust_domain;
  pki::TrustBundle trust;
  std::shared_ptr<const pki::SimClock> clock;
  /// The identity of the ingress gateway (spiffe://<td>/ns/<root ns>/sa/istio-ingressgateway).
  pki::Svid ingress_svid;
  std::vector<WorkloadPlan> workloads;  ///< in snapshot order
  std::vector<std::string> warnings;    ///< degraded parts (unresolvable JWKS, ...)

  /// The plan of `workload` (a pointer into `config`), or null.
  const WorkloadPlan* find(const model::Workload* workload) const;
  /// The plan of workload `ns`/`name`, or null.
  const WorkloadPlan* find(std::string_view ns, std::string_view name) const;

  /// Filled by the builder: config workload pointer -> index in `workloads`.
  std::unordered_map<const model::Workload*, size_t> by_pointer;
  std::map<std::string, size_t, std::less<>> by_key;
};

/// Options of the plan builder.
struct PlanOptions {
  /// The clock the CA issues by (the same object); required.
  std::shared_ptr<const pki::SimClock> clock;
  int64_t svid_ttl_seconds = pki::kDefaultSvidTtlSeconds;
  /// The second octet of the first cluster's block: clusters get 127.<first_block + i>.x.y.
  uint32_t first_block = 1;
};

/// Builds MeshPlans from configuration snapshots, issuing and caching certificates and keeping
/// each replica's loopback address stable across revisions (so reconfiguration never moves a
/// listener). Engine thread only (ARCHITECTURE.md R6); the plans it returns are thread-safe.
class PlanBuilder {
 public:
  /// A builder issuing from `ca` (which must outlive the builder) with `keys` for
  /// IdentityProvider JWKS (must outlive the builder).
  PlanBuilder(pki::MeshCa& ca, policy::IdentityProviderKeys& keys, PlanOptions options = {});
  ~PlanBuilder();
  PlanBuilder(const PlanBuilder&) = delete;
  PlanBuilder& operator=(const PlanBuilder&) = delete;

  /// The plan of `snapshot` (raw configuration; TSB settings are translated here). Errors:
  /// InvalidArgument for policies that do not compile or a cluster that has more replicas than
  /// kMaxReplicasPerCluster or more than kMaxClusters clusters (naming it).
  Result<std::shared_ptr<const MeshPlan>> build(std::shared_ptr<const config::Snapshot> snapshot);

  /// Re-issues every cached certificate that is due for rotation at the CA clock's now (50% of
  /// its lifetime, pki::SvidRotator). Returns how many were rotated; build() again to use them.
  Result<size_t> rotateDue();

  /// Number of distinct identities (cluster, namespace, service account) with a certificate.
  size_t identityCount() const;

  /// Moves every replica to the blocks starting at 127.<first_block>.0.0 (e.g. when another
  /// process holds the default ones); the next build() uses them. Certificates are kept.
  void setFirstBlock(uint32_t first_block);
  /// The current first block.
  uint32_t firstBlock() const;
  /// Number of clusters seen so far (blocks in use).
  size_t clusterCount() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshsim::dataplane
