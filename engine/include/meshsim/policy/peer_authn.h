#pragma once
/// PeerAuthentication on the server side (istio-semantics.md section 2): the effective mTLS mode
/// of a workload (and of one of its ports), and what the receiving sidecar does with a
/// connection given that mode and what the client sends. Pure functions; no I/O.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"
#include "meshsim/policy/decision.h"
#include "meshsim/policy/request.h"

namespace meshsim::policy {

/// The scope whose PeerAuthentication decided the mode.
enum class PeerAuthnLevel {
  kDefault,    ///< nothing set a mode: PERMISSIVE
  kMesh,       ///< root namespace, no selector
  kNamespace,  ///< workload namespace, no selector
  kWorkload,   ///< workload namespace, selector labels ⊆ workload labels
  kPort,       ///< portLevelMtls of the workload policy, keyed by the workload (target) port
};

/// "default", "mesh", "namespace", "workload", "port". Thread-safe.
const char* peerAuthnLevelName(PeerAuthnLevel level);

/// A PeerAuthentication that exists in scope but does not count, and why.
struct IgnoredPeerAuthn {
  std::string policy;  ///< "ns/name"
  std::string why;
};

/// The effective PeerAuthentication of one workload (port).
struct EffectivePeerAuthn {
  model::MtlsMode mode = model::MtlsMode::kPermissive;  ///< never kUnset
  std::string policy;  ///< deciding resource "ns/name"; empty at level kDefault
  PeerAuthnLevel level = PeerAuthnLevel::kDefault;
  std::vector<IgnoredPeerAuthn> ignored;  ///< conflicting younger policies, root-ns selectors
  std::vector<std::string> trace;         ///< one line per step, for people
};

/// Resolves the mode from `policies` (any namespaces; those outside the root namespace and the
/// workload's namespace are skipped) for `workload`, optionally for one `workload_port`.
/// Precedence: mesh < namespace < workload < port; UNSET inherits the next wider level;
/// several candidates at one level: the oldest (smaller meta.creation_index; ties by name) wins
/// and the others are reported in `ignored`; a root-namespace policy with a selector is ignored.
/// Port-level settings apply only when `workload_port` is one of `inbound_ports` (the target ports
/// the sidecar has inbound filter chains for, i.e. declared by the workload's Service).
/// Pure; thread-safe.
EffectivePeerAuthn resolvePeerAuthn(std::span<const model::PeerAuthentication* const> policies,
                                    std::string_view root_namespace,
                                    const model::Workload& workload,
                                    std::optional<uint32_t> workload_port,
                                    std::span<const uint32_t> inbound_ports);

/// The workload (target) ports of the Service the workload belongs to, ascending; empty when the
/// workload has no Service (or it is not in the snapshot).
std::vector<uint32_t> workloadInboundPorts(const config::Snapshot& snapshot,
                                           const model::Workload& workload);

/// resolvePeerAuthn() over the snapshot's PeerAuthentications, root namespace and the workload's
/// Service ports.
EffectivePeerAuthn effectivePeerAuthn(const config::Snapshot& snapshot,
                                      const model::Workload& workload,
                                      std::optional<uint32_t> workload_port = std::nullopt);

/// What the client puts on the wire towards the server sidecar.
enum class ClientTransport {
  kMeshMtls,              ///< TLS with a valid certificate chained to the mesh root
  kPlaintext,             ///< no TLS (client without sidecar, or DestinationRule DISABLE)
  kUntrustedCertificate,  ///< TLS with a certificate not chained to the mesh root (forged)
};

/// "mTLS", "plaintext", "untrusted certificate". Thread-safe.
const char* clientTransportName(ClientTransport transport);

/// How the server sidecar treats the connection.
enum class ServerAcceptance {
  kAcceptedWithIdentity,     ///< mTLS terminated; the peer principal is known
  kAcceptedWithoutIdentity,  ///< plaintext accepted; no principal, namespace or account
  kReset,                    ///< closed before any HTTP (no filter chain / handshake failure)
  kTlsReadAsHttp,            ///< DISABLE: the TLS ClientHello is parsed as HTTP -> 400 DPE
};

/// "accepted with identity", "accepted without identity", "reset", "TLS read as HTTP".
const char* serverAcceptanceName(ServerAcceptance acceptance);

/// The outcome of one connection attempt at the server sidecar, as data.
struct ServerConnectionOutcome {
  ServerAcceptance acceptance = ServerAcceptance::kAcceptedWithoutIdentity;
  model::MtlsMode mode = model::MtlsMode::kPermissive;  ///< the server's effective mode
  bool mtls = false;                                    ///< the hop is mutual TLS
  std::optional<PeerIdentity> peer;                     ///< set for kAcceptedWithIdentity
  /// What a client without a sidecar sees: accepted -> status 200 / stage kNone (the request
  /// continues); refused -> stage kPeerAuthn, status kStatusReset, reason and response flags.
  Decision decision;
  std::string server_detail;  ///< server log: "NR filter_chain_not_found", "DPE", TLS alert ...
  /// What the app behind a client sidecar would get when the server refuses: 503 with Envoy's
  /// body and flags (the client sidecar's own routing is decided elsewhere). 0 when accepted.
  int sidecar_client_status = 0;
  std::string sidecar_client_body;
  std::string sidecar_client_flags;
};

/// Decides what the server sidecar does with a connection under `mode` (kUnset = PERMISSIVE)
/// when the client sends `transport`. `client_identity` is the identity in the client's mesh
/// certificate (used for kMeshMtls). Pure; thread-safe.
ServerConnectionOutcome serverAcceptance(model::MtlsMode mode, ClientTransport transport,
                                         const std::optional<PeerIdentity>& client_identity = {});

}  // namespace meshsim::policy
