#pragma once
/// Proof of a predicted blast radius: the attacker compromises the workload for real. With the
/// genuine certificate and key of the compromised workload (and, hop by hop, of every workload it
/// reaches) it dials every workload port of the mesh directly through the running data plane and
/// tries the same request shapes the reachability analysis decided; a plaintext outsider tries
/// every port and a forged certificate claiming the compromised identity tries every port. Each
/// observed outcome is compared with the prediction; a disagreement is a bug in either the model
/// or the proxy, and is reported as such.
///
/// The attackers, in order:
/// - stolen: one per distinct mesh identity among the compromised workload and (when
///   `transitive`) the workloads its blast radius reaches, using the genuine certificate of the
///   first such workload. Workloads sharing a service account share the certificate's identity,
///   so one attacker speaks for all of them; a workload without a sidecar has no certificate and
///   attacks like the outsider. Towards a port that terminates TLS (a sidecar in STRICT or
///   PERMISSIVE mode) it speaks mutual TLS; towards a port that does not (DISABLE, or a workload
///   without sidecar) it speaks plaintext, as anyone controlling a pod can. Predicted: the graph
///   has an edge from its identity to that workload port, not gated by an end-user token, whose
///   `allowed` list holds the probe.
/// - outside: plaintext, no certificate. Predicted: a network (kNetworkSource) edge to that port,
///   not token-gated, allows the probe.
/// - forged: TLS with a self-signed certificate carrying the compromised workload's SPIFFE ID.
///   Predicted refused on every port (istio-semantics.md sections 1 and 2): a STRICT or a
///   PERMISSIVE sidecar hands a TLS ClientHello to its mutual-TLS filter chain, which verifies
///   the client chain against the mesh root, so the handshake fails before any HTTP (PERMISSIVE
///   admits plaintext only, not unverified TLS); a DISABLE sidecar or a workload without sidecar
///   does not speak TLS at all and the handshake fails too. A forger who drops the certificate
///   and speaks plaintext is the outsider.
///
/// Observed allowed: an HTTP probe was answered by the destination app (ProbeResult::served_by
/// is set, whatever status the app chose), not by a sidecar's 401/403/503 or a reset; a TCP
/// probe's payload came back echoed. No end-user token is sent, so token-gated edges are
/// predicted refused.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "meshsim/analysis/blast_radius.h"
#include "meshsim/analysis/reachability.h"
#include "meshsim/common/status.h"
#include "meshsim/engine.h"

namespace meshsim {

/// Options of verifyBlastRadius().
struct VerifyOptions {
  /// Also attack from every reached workload with its own certificate (the transitive closure);
  /// false: only from the compromised workload.
  bool transitive = true;
  /// Add a plaintext client without any certificate against every port.
  bool outsider = true;
  /// Add a self-signed certificate carrying the compromised workload's SPIFFE ID.
  bool forged = true;
  /// Extra request shapes tried on every HTTP port besides the ones the analysis derived. The
  /// graph must have evaluated them: build it with reachabilityOptionsFor(these options).
  std::vector<analysis::Probe> extra_probes = {{"GET", "/"}, {"POST", "/"}, {"DELETE", "/admin"}};
};

/// ReachabilityOptions whose graph can be verified with `options` (its extra probes evaluated).
analysis::ReachabilityOptions reachabilityOptionsFor(const VerifyOptions& options);

/// One real request of the verification.
struct VerifiedProbe {
  std::string from;     ///< "stolen:ns/workload", "outside" or "forged:spiffe://..."
  std::string to;       ///< destination workload and port, "ns/workload:port" (Service port)
  std::string service;  ///< destination Service "ns/name"
  std::string request;  ///< analysis::probeText(): "GET /x" or "TCP"
  /// What went on the wire: "mTLS" (stolen certificate), "plaintext", "forged TLS".
  std::string transport;
  bool predicted_allowed = false;  ///< the graph has an edge allowing this request (see above)
  bool observed_allowed = false;   ///< the destination app answered (TCP: the echo came back)
  int observed_status = 0;         ///< HTTP status; 0 = reset or refused before any response
  std::string observed_error;      ///< transport failure text, if any
  std::string served_by;           ///< "ns/workload" of the app that answered, if any
  /// Why the prediction says what it says: the allowing policy and rule, or the refusal basis.
  std::string basis;
  bool agree = true;
};

/// The result of verifyBlastRadius().
struct BlastVerification {
  std::vector<VerifiedProbe> probes;  ///< every request sent, in order
  size_t disagreements = 0;           ///< probes with agree == false
  /// The attackers in the order they probed: "stolen:ns/workload", "outside", "forged:...".
  std::vector<std::string> attackers;
  /// Workloads the attack was observed to reach, "ns/name", sorted, the compromised one
  /// included: a breadth-first search over the observed successes (a stolen attacker's successes
  /// are the next hops of every workload of its identity; the outsider's are one hop from the
  /// compromised workload), limited like the radius (one hop when not `transitive`; the radius'
  /// deepest hop when it was truncated by a hop limit). Comparable with predicted_reached when
  /// the radius was computed with BlastOptions::plaintext == `outsider` and without
  /// follow_token_edges.
  std::vector<std::string> observed_reached;
  /// The prediction's reached workloads plus the compromised one, "ns/name", sorted (one hop
  /// only when not `transitive`).
  std::vector<std::string> predicted_reached;
  /// No probe disagrees and observed_reached == predicted_reached.
  bool agree() const { return disagreements == 0 && observed_reached == predicted_reached; }
};

/// Runs the attack of `radius` (computed on `graph`) against the running mesh of `runtime`.
/// `graph` must be built from runtime.plan()->config (the Istio-level configuration the sidecars
/// enforce, TSB settings translated), with reachabilityOptionsFor(options).
/// FailedPrecondition when the runtime is not running or its plan holds another configuration;
/// InvalidArgument when `radius` does not belong to `graph` (indexes out of range) or the graph
/// did not evaluate options.extra_probes. Sends one request at a time (bounded by the probe
/// timeout each). Engine thread only (it drives MeshRuntime).
Result<BlastVerification> verifyBlastRadius(MeshRuntime& runtime,
                                            const analysis::ReachabilityGraph& graph,
                                            const analysis::BlastRadius& radius,
                                            const VerifyOptions& options = {});

}  // namespace meshsim
