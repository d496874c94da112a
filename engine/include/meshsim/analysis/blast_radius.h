#pragma once
/// Blast radius: "the attacker is already in your network; how much damage can they do?"
/// Starting from one compromised workload, every workload it may call (reachability.h) is
/// assumed compromised in turn, and then acts with its own identity. The result is the set of
/// reached workloads with their hop distance and the chain of policy decisions that let the
/// attacker in, the time the stolen credentials stay usable, a score, a ranking of all
/// workloads, before/after comparisons for candidate policies, and least-privilege
/// AuthorizationPolicies built from observed traffic. Pure; no I/O; never throws.
///
/// Score of a compromised workload W: sum over every workload V reached from W (V != W) of
/// sensitivity(V) / hops(V), where hops(V) >= 1 is the BFS distance. A workload one hop away
/// counts fully, two hops away half, and so on: distant workloads need more steps (more chances
/// of detection) but still count.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/analysis/reachability.h"
#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/model/istio.h"
#include "meshsim/model/resource.h"
#include "meshsim/pki/svid.h"

namespace meshsim::analysis {

/// Default lifetime assumed for a stolen end-user JWT (its `exp` minus the theft time).
inline constexpr int64_t kDefaultTokenTtlSeconds = 3600;

/// Options of blastRadius() and rankWorkloads().
struct BlastOptions {
  std::optional<uint32_t> hops;  ///< maximum hop distance; nullopt = unlimited
  /// Follow needs_token edges too (the attacker also holds a suitable end-user token).
  bool follow_token_edges = false;
  /// The attacker may also speak plaintext without a certificate (PERMISSIVE/DISABLE ports).
  bool plaintext = true;
  int64_t svid_ttl_seconds = pki::kDefaultSvidTtlSeconds;  ///< workload certificate lifetime
  int64_t token_ttl_seconds = kDefaultTokenTtlSeconds;     ///< stolen JWT lifetime
};

/// One hop of an attack path: workload `from` (compromised) calls workload `to` using
/// graph.edges[edge].
struct PathStep {
  size_t from = 0;
  size_t to = 0;
  size_t edge = 0;
};

/// A workload the attacker reaches.
struct ReachedWorkload {
  size_t workload = 0;          ///< index into ReachabilityGraph::workloads
  uint32_t hops = 0;            ///< BFS distance (>= 1)
  std::vector<PathStep> path;   ///< from the compromised workload to this one, hops steps
  double contribution = 0;      ///< sensitivity / hops
};

/// A usable edge between workloads of the blast radius (for graphs and diffs).
struct BlastEdge {
  size_t from = 0;  ///< compromised or reached workload
  size_t to = 0;
  size_t edge = 0;  ///< index into ReachabilityGraph::edges
};

/// The blast radius of one compromised workload.
struct BlastRadius {
  size_t compromised = 0;
  std::vector<ReachedWorkload> reached;  ///< by hops, then workload index
  /// Every usable edge out of the compromised and reached workloads that stay within the hop
  /// limit (each (from, to) pair once, the first edge by port).
  std::vector<BlastEdge> edges;
  /// needs_token edges out of the blast radius that were not followed (each (from, to) once).
  std::vector<BlastEdge> token_gated;
  bool truncated = false;  ///< the hop limit left out workloads that are otherwise reachable
  double score = 0;        ///< sum of contributions
  /// How long the stolen workload certificate stays usable: the attacker keeps it until its
  /// notAfter, and rotation at 50% of the lifetime revokes nothing, so the worst case (stolen
  /// right after issue) is the full SVID lifetime.
  int64_t credential_window_seconds = 0;
  /// When the workload's agent renews the certificate (50% of the lifetime, pki/rotation.h).
  int64_t rotation_after_seconds = 0;
  /// When token-gated edges exist: a stolen end-user token works until its exp.
  std::optional<int64_t> token_window_seconds;
};

/// The blast radius of workload `workload` (an index into graph.workloads). InvalidArgument when
/// the index is out of range.
Result<BlastRadius> blastRadius(const ReachabilityGraph& graph, size_t workload,
                                const BlastOptions& options = {});

/// The blast radius of the workload "ns/name". InvalidArgument naming it when it does not exist.
Result<BlastRadius> blastRadius(const ReachabilityGraph& graph, const std::string& ns,
                                const std::string& name, const BlastOptions& options = {});

/// One line of the ranking.
struct RankEntry {
  size_t workload = 0;
  double score = 0;
  size_t reached = 0;     ///< number of reached workloads
  uint32_t max_hops = 0;  ///< largest hop distance
};

/// Every workload's score, riskiest first (ties: more reached, then snapshot order). Each entry
/// equals what blastRadius() reports for that workload under the same options (score, number
/// of reached workloads, deepest hop). The searches run bit-parallel, 512 sources at a time:
/// every workload holds one bit per source, and workloads sharing an identity walk their
/// common edges once per level.
std::vector<RankEntry> rankWorkloads(const ReachabilityGraph& graph, const BlastOptions& options = {});

/// What changed between two blast radii of the same workload under two configurations.
/// Workloads and edges are named, so the two graphs may come from different snapshots.
struct BlastDiff {
  std::vector<std::string> nodes_added;    ///< "ns/name" reached only after
  std::vector<std::string> nodes_removed;  ///< reached only before
  /// "from -> to :port" for usable edges present only after / only before.
  std::vector<std::string> edges_added;
  std::vector<std::string> edges_removed;
  double score_before = 0;
  double score_after = 0;
  bool empty() const {
    return nodes_added.empty() && nodes_removed.empty() && edges_added.empty() && edges_removed.empty();
  }
};

/// "from -> to :port", the name of a blast edge in diffs.
std::string blastEdgeKey(const ReachabilityGraph& graph, const BlastEdge& edge);

/// Compares two blast radii (sorted lists).
BlastDiff diffBlastRadius(const ReachabilityGraph& before_graph, const BlastRadius& before,
                          const ReachabilityGraph& after_graph, const BlastRadius& after);

/// `base` with `changes` applied: a change replaces the resource with the same key
/// (model::keyOf) or is added. Creation order of replaced resources is kept.
std::shared_ptr<const config::Snapshot> overlaySnapshot(const config::Snapshot& base,
                                                        std::vector<model::Resource> changes);

// ---------------------------------------------------------------- least privilege

/// One call seen in traffic: source workload, destination Service port, method and path.
struct ObservedCall {
  std::string from_namespace;
  std::string from_workload;
  std::string to_namespace;
  std::string to_service;
  uint32_t port = 0;  ///< Service port
  std::string method = "GET";
  std::string path = "/";
};

/// Parses a run file: {"calls":[{"from":"ns/workload","to":"ns/service","port":9080,
/// "method":"GET","path":"/x"}]}. "method" defaults to GET and "path" to "/"; "port" is
/// required. InvalidArgument naming the call index and field otherwise.
Result<std::vector<ObservedCall>> parseObservedCalls(std::string_view json);

/// Options of suggestAuthorizationPolicies().
struct SuggestOptions {
  /// Also propose an allow-nothing policy for every served workload that received no observed
  /// call, so that only the observed edges remain.
  bool deny_unobserved = true;
};

/// Proposed AuthorizationPolicies.
struct AuthzSuggestion {
  /// ALLOW policies named "least-privilege-<service>" in the Service's namespace, one per
  /// destination workload selector, one rule per caller identity (its principal), one operation
  /// per (target port, path) listing the exact methods seen.
  std::vector<model::AuthorizationPolicy> policies;
  std::vector<std::string> warnings;  ///< callers without a sidecar, ambiguous selectors
};

/// Proposes the least-privilege policies for `calls`. The selector of a Service's policy is the
/// set of labels all its endpoints share when exactly those workloads of the namespace carry
/// them; otherwise one policy per endpoint with the endpoint's full labels. InvalidArgument for
/// unknown workloads, Services or ports, naming the call.
Result<AuthzSuggestion> suggestAuthorizationPolicies(const config::Snapshot& snapshot,
                                                     const std::vector<ObservedCall>& calls,
                                                     const SuggestOptions& options = {});

/// The policies as Istio YAML documents separated by "---".
std::string suggestionYaml(const AuthzSuggestion& suggestion);

/// The policies as resources, ready for overlaySnapshot().
std::vector<model::Resource> suggestionResources(const AuthzSuggestion& suggestion);

}  // namespace meshsim::analysis
