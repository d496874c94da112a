#pragma once
/// The mesh topology as data: clusters, tenants, workspaces and namespaces as nested groups,
/// workloads as nodes, and the calls between them as edges carrying the configured split, the
/// hop's mutual-TLS state and the decision (allowed, or refused by which policy). Each edge is
/// decided by analysis::check() and routed by routing::selectRoute(): the picture never applies a
/// rule of its own. toDot() and toJson() render the data; Graphviz layout lives outside the
/// engine (headless/report/graphviz.h).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/config/store.h"

namespace meshsim::analysis {

/// Live figures for one edge, measured by the data plane (or a load generator).
struct EdgeTraffic {
  double rps = 0;           ///< requests per second
  uint64_t requests = 0;    ///< total requests
  uint64_t errors = 0;      ///< requests answered with an error (or reset)
  double p50_ms = 0;        ///< median latency in milliseconds
};

/// Live figures keyed by edgeKey(from, to), e.g. "bookinfo/productpage-v1 -> bookinfo/details-v1"
/// or "outside -> bookinfo/productpage-v1".
struct TopologyOverlay {
  std::map<std::string, EdgeTraffic> edges;  ///< edgeKey → figures
};

/// What buildTopology() includes.
struct TopologyOptions {
  /// Add the "outside" node (a plain client entering the mesh, e.g. through an ingress) and its
  /// edges to the entry services.
  bool include_outside = false;
  /// The services ("ns/name") the outside client calls with GET /. Empty: every Service that has
  /// a workload and that no Service's behaviour.calls names.
  std::vector<std::string> entry_services;
  /// Live figures to attach to edges (see applyOverlay()).
  std::optional<TopologyOverlay> overlay;
};

/// A box of the picture.
struct TopologyGroup {
  enum class Kind { kCluster, kTenant, kWorkspace, kNamespace };
  Kind kind = Kind::kCluster;
  /// Unique path, e.g. "cluster/gke-us-east/tenant/retail/workspace/bookinfo/ns/bookinfo".
  std::string id;
  std::string name;    ///< the cluster, tenant, workspace or namespace name
  std::string parent;  ///< id of the enclosing group; empty for a cluster
};

/// "cluster", "tenant", "workspace" or "namespace".
const char* topologyGroupKindName(TopologyGroup::Kind kind);

/// A node of the picture.
struct TopologyNode {
  enum class Kind {
    kWorkload,  ///< a Workload; id "ns/name"
    kOutside,   ///< the plain client outside the mesh; id "outside"
    kService,   ///< a called Service that no workload could serve the call for; id "service:ns/name"
  };
  Kind kind = Kind::kWorkload;
  std::string id;
  std::string name;  ///< workload or service name; "outside"
  std::string namespace_;
  std::string cluster;          ///< kWorkload
  std::string service;          ///< kWorkload: the Service it serves ("" = a pure client)
  std::string version;          ///< kWorkload: labels["version"]
  std::string service_account;  ///< kWorkload
  uint32_t replicas = 0;        ///< kWorkload
  bool sidecar = false;         ///< kWorkload
  std::string group;            ///< id of the innermost enclosing group ("" = top level)
};

/// "workload", "outside" or "service".
const char* topologyNodeKindName(TopologyNode::Kind kind);

/// One upstream call from one workload (or the outside client) to one serving workload.
struct TopologyEdge {
  std::string from;          ///< node id of the caller
  std::string to;            ///< node id of the workload that serves (or the kService node)
  std::string service;       ///< the called Service, "ns/name"
  std::string method;        ///< the call's method
  std::string path;          ///< the call's path
  uint32_t port = 0;         ///< the Service port dialled
  int32_t call_index = -1;   ///< index in the caller's behaviour.calls; -1 for outside calls
  double share = 0;          ///< 0..1: fraction of this call's requests that reach `to`
  std::string virtual_service;  ///< "ns/name" of the VirtualService that routed it, if any
  std::string subset;           ///< DestinationRule subset(s) that lead to `to`, comma-separated
  bool allowed = false;         ///< the request is answered by `to`'s app
  bool mtls = false;            ///< the hop is mutual TLS (Decision::mtls)
  int status = 0;               ///< HTTP status, or policy::kStatusReset (0)
  std::string stage;            ///< deciding stage (policy::stageName), "none" when allowed
  std::string policy;           ///< deciding resource "ns/name" (may be empty)
  int32_t rule = -1;            ///< deciding rule index within `policy`
  std::string reason;           ///< one sentence a person can read
  std::string response_flags;   ///< Envoy response flags of a refusal
  std::optional<EdgeTraffic> traffic;  ///< live figures from an overlay
};

/// The whole picture. Every vector is sorted by id (edges by from, to, call index).
struct Topology {
  std::string organization;  ///< the Organization's name ("" when none)
  std::vector<TopologyGroup> groups;
  std::vector<TopologyNode> nodes;
  std::vector<TopologyEdge> edges;
  /// Overlay entries that matched no edge, as "key: not an edge of the topology".
  std::vector<std::string> notes;
};

/// The overlay key of an edge: "<from> -> <to>".
std::string edgeKey(const std::string& from, const std::string& to);

/// Builds the topology of `snapshot`, which should be the Istio-level configuration that the
/// data plane sees (mgmt::withTranslation() of the loaded snapshot, so that BRIDGED settings
/// and ServiceRoutes count). Requests carry no end-user JWT. When several routes lead the same
/// call to the same workload (overlapping subsets), the shares add up and the edge shows the
/// first refusal among them, if any. InvalidArgument when a call cannot be decided (unknown
/// service or port), naming the calling Service and the call. Pure; thread-safe (the snapshot
/// is shared read-only); never throws.
Result<Topology> buildTopology(std::shared_ptr<const config::Snapshot> snapshot,
                               const TopologyOptions& options);

/// Attaches live figures to edges: each overlay entry goes to the first edge (in sorted order)
/// with that key; entries without an edge are listed in `topology.notes`. Replaces earlier
/// figures.
void applyOverlay(Topology& topology, const TopologyOverlay& overlay);

/// Graphviz DOT: left-to-right, one `subgraph cluster_N` per group (labels "cluster X",
/// "tenant X", "workspace X", "ns X"), workloads as HTML-like labels, edges labelled with the
/// split percentage and live rate, a padlock on mutual-TLS edges, refused edges red and dashed
/// with a tooltip naming the deciding policy. Node statements use generated names (n0, n1 ...)
/// and carry the real id in their `id` and `tooltip` attributes; every user string is escaped.
/// Deterministic.
std::string toDot(const Topology& topology);

/// JSON: {"organization", "groups", "nodes", "edges", "notes"} with every field of the structs
/// (camelCase keys; status is a number or "reset"; traffic is null without an overlay).
std::string toJson(const Topology& topology);

}  // namespace meshsim::analysis
