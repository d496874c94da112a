#pragma once
/// Reachability between identities: which workload may call which, decided by the same compiled
/// PeerAuthentication and AuthorizationPolicy functions the sidecars run (policy/peer_authn.h,
/// policy/authz.h). The question it answers: an attacker who controls a workload holds its mesh
/// certificate and key; which other workloads will accept its requests, for which requests, and
/// which policy rule lets it in. It also lists what an attacker without any certificate reaches
/// (ports that accept plaintext).
///
/// The compromised workload is assumed to dial endpoints directly with its genuine certificate
/// (like `meshsim check --from stolen:NS/WORKLOAD`): client-side routing and DestinationRules do
/// not constrain an attacker who controls the pod. Pure; no I/O; never throws.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"

namespace meshsim::analysis {

/// One request shape used to probe authorization. TCP ports have a single probe with an empty
/// method and path (the connection itself).
struct Probe {
  std::string method;  ///< "GET", "POST", ...; empty for TCP
  std::string path;    ///< normalized path without query; empty for TCP
  friend bool operator==(const Probe&, const Probe&) = default;
  friend auto operator<=>(const Probe&, const Probe&) = default;
};

/// "GET /x", or "TCP" for a TCP probe.
std::string probeText(const Probe& probe);

/// What an end-user JWT must carry to satisfy an ALLOW rule that uses `requestPrincipals` or
/// `request.auth.*` conditions. Values are the synthesized ones that the rule accepted.
struct TokenRequirement {
  std::string issuer;                  ///< `iss` (one the destination's RequestAuthentication trusts)
  std::string subject;                 ///< `sub` used for the probe ("*" patterns: any subject)
  std::vector<std::string> audiences;  ///< `aud`
  /// Required claims: key as written in the rule ("request.auth.claims[groups]"), values.
  std::vector<std::pair<std::string, std::vector<std::string>>> claims;
  /// "issuer https://idp, claims groups=admin", for people.
  std::string text() const;
};

/// Index of the pseudo source "any network attacker" (no certificate) in ReachEdge::source.
inline constexpr size_t kNetworkSource = std::numeric_limits<size_t>::max();
/// Marker in ReachabilityGraph::identity_of for workloads without a sidecar (no certificate).
inline constexpr size_t kNoIdentity = std::numeric_limits<size_t>::max();

/// An allowed (or token-gated) call from a source identity to one destination workload port.
struct ReachEdge {
  size_t source = kNetworkSource;  ///< index into ReachabilityGraph::identities, or kNetworkSource
  size_t destination = 0;          ///< index into ReachabilityGraph::workloads
  std::string service;             ///< destination Service "ns/name"
  uint32_t port = 0;               ///< Service port
  uint32_t target_port = 0;        ///< workload (container) port
  bool http = true;                ///< false for TCP ports
  std::vector<Probe> allowed;      ///< probes that were allowed (sorted)
  std::string policy;              ///< deciding policy "ns/name"; empty when none decided
  int32_t rule = -1;               ///< deciding rule index in `policy`
  /// Why it is allowed: "ALLOW matched", "no ALLOW policy" (policy/authz.h authzBasisName) or
  /// "no sidecar" (nothing enforces policy at the destination).
  std::string basis;
  bool mtls = false;               ///< the hop is mutual TLS
  bool needs_token = false;        ///< allowed only with an end-user JWT (`token` says which)
  TokenRequirement token;
};

/// The mesh identity (certificate) shared by the workloads running as one service account.
struct SourceIdentity {
  std::string namespace_;
  std::string service_account;
  std::string principal;        ///< "<td>/ns/<ns>/sa/<sa>"
  std::vector<size_t> workloads;  ///< indexes into ReachabilityGraph::workloads (with a sidecar)
};

/// A workload port that accepts connections without a mesh certificate: its effective
/// PeerAuthentication is PERMISSIVE or DISABLE, or it has no sidecar at all.
struct PlaintextExposure {
  size_t workload = 0;      ///< index into ReachabilityGraph::workloads
  std::string service;      ///< "ns/name"
  uint32_t port = 0;        ///< Service port
  uint32_t target_port = 0;
  bool http = true;
  bool sidecar = true;      ///< false: no proxy, so no mesh policy applies
  model::MtlsMode mode = model::MtlsMode::kPermissive;  ///< effective mode (sidecar only)
  std::string peer_authn_policy;  ///< the PeerAuthentication that set the mode ("" = default)
  std::vector<Probe> allowed;     ///< probes allowed for a request with no peer identity
  std::string policy;             ///< deciding authorization policy, if any
  int32_t rule = -1;
  bool needs_token = false;       ///< nothing is allowed without a JWT; `token` is
  TokenRequirement token;
};

/// One workload port the graph evaluated, and the request shapes it tried there. An edge's
/// `allowed` is the subset of these probes its source may send.
struct DestinationPort {
  size_t workload = 0;        ///< index into ReachabilityGraph::workloads
  std::string service;        ///< "ns/name"
  uint32_t port = 0;          ///< Service port
  uint32_t target_port = 0;   ///< workload (container) port
  bool http = true;           ///< false for TCP ports
  std::vector<Probe> probes;  ///< sorted; a TCP port has the single connection probe
};

/// Options of buildReachability().
struct ReachabilityOptions {
  /// Also look for edges that only an end-user JWT opens (needs_token edges).
  bool token_edges = true;
  /// Request shapes tried on every HTTP port besides the ones derived from the policies (a live
  /// verification sends these too, see meshsim/verify.h). Each needs a valid method and an
  /// already normalized path starting with "/"; InvalidArgument otherwise.
  std::vector<Probe> extra_probes;
};

/// The reachability graph of one snapshot. Edges are sorted by source identity, then
/// destination workload, then port; plaintext (network) edges come last. Holds the snapshot so
/// that the workload pointers stay valid. Immutable after construction; thread-safe to read.
struct ReachabilityGraph {
  std::shared_ptr<const config::Snapshot> snapshot;
  std::vector<const model::Workload*> workloads;  ///< every workload, snapshot order
  std::vector<SourceIdentity> identities;         ///< distinct (namespace, service account)
  std::vector<size_t> identity_of;  ///< per workload: index into identities, or kNoIdentity
  std::vector<ReachEdge> edges;
  std::vector<PlaintextExposure> exposures;
  /// Every workload port that was evaluated as a destination, in snapshot order, with its probes.
  std::vector<DestinationPort> destinations;
  /// Compilation warnings of the destination policies, "ns/workload: text", deduplicated.
  std::vector<std::string> warnings;
  /// Offsets into `edges`: identity i owns [edge_begin[i], edge_begin[i+1]); the network
  /// source owns [edge_begin[identities.size()], edges.size()).
  std::vector<size_t> edge_begin;

  /// Index of the workload "ns/name", or nullopt.
  std::optional<size_t> findWorkload(const std::string& ns, const std::string& name) const;
  /// "ns/name" of workload `index`.
  std::string workloadKey(size_t index) const;
  /// Edges whose source is identity `identity` (kNetworkSource: the plaintext edges).
  std::span<const ReachEdge> edgesFrom(size_t identity) const;
  /// The edges an attacker in control of workload `workload` can use directly: those of its
  /// identity (none without a sidecar) followed by the network edges.
  std::vector<const ReachEdge*> edgesOfWorkload(size_t workload) const;
};

/// Builds the graph: for every workload with a sidecar (a mesh identity), every Service port
/// and every endpoint workload of that Service, decides with the destination's compiled
/// AuthorizationPolicies whether requests from that identity over mutual TLS are allowed, for
/// probes derived from the policies themselves (every method and path mentioned by a rule,
/// exact paths as written, prefixes and suffixes completed, plus GET / and POST /). An edge
/// exists when any probe is allowed. When no probe is allowed, ALLOW rules that need an
/// end-user JWT are tried with a synthesized validated token from an issuer the destination's
/// RequestAuthentication trusts; success gives a needs_token edge. Ports whose effective
/// PeerAuthentication is PERMISSIVE or DISABLE, and workloads without a sidecar, are listed as
/// plaintext exposures and evaluated without a peer identity.
///
/// Cost: each destination's policies are compiled once (shared by workloads with the same
/// applicable policies) and only the identities that its rules name are evaluated one by one;
/// every other identity is decided by one representative that no rule names.
/// InvalidArgument when a policy does not compile (names the workload and the policy problem).
Result<ReachabilityGraph> buildReachability(std::shared_ptr<const config::Snapshot> snapshot,
                                            const ReachabilityOptions& options = {});

}  // namespace meshsim::analysis
