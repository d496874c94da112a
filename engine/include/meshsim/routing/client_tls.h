#pragma once
/// What a client sidecar sends to one endpoint, and what happens then (istio-semantics.md
/// section 2 "client side", section 7, section 8 gotcha 11): a DestinationRule tls mode overrides
/// auto mTLS; auto mTLS sends ISTIO_MUTUAL to endpoints with a sidecar unless the server's
/// effective PeerAuthentication mode for that port is DISABLE, and plaintext to endpoints
/// without a sidecar.

#include <string>
#include <string_view>

#include "meshsim/model/istio.h"
#include "meshsim/routing/destination.h"

namespace meshsim::routing {

/// The result of the client's transport choice meeting the server.
enum class TransportOutcome {
  kOk,             ///< the connection works (mutual TLS or plaintext)
  kResetByServer,  ///< plaintext to a STRICT server: no filter chain, connection reset (503 UC)
  kTlsError,       ///< TLS the server does not terminate, or a handshake it refuses (503 UF)
};

/// The client sidecar's transport to one endpoint.
struct ClientTransport {
  bool sends_tls = false;    ///< the client originates TLS (ISTIO_MUTUAL, SIMPLE or MUTUAL)
  bool sends_mtls = false;   ///< mesh mutual TLS (ISTIO_MUTUAL, explicit or automatic)
  bool explicit_dr = false;  ///< the mode came from a DestinationRule tls block
  model::TlsMode mode = model::TlsMode::kDisable;    ///< the mode in force for this endpoint
  TransportOutcome outcome = TransportOutcome::kOk;  ///< what the connection attempt gives
  int status = 0;                                    ///< 503 when the outcome is not kOk, else 0
  std::string_view body;                             ///< Envoy's local reply body (static storage)
  std::string_view flags;  ///< "UC" or "UF" (static storage); empty when ok
  std::string reason;      ///< one sentence for `meshsim check` (only when asked for)

  bool ok() const { return outcome == TransportOutcome::kOk; }
};

/// Decides the transport from the effective DestinationRule policy for the endpoint's
/// (subset, port), whether the endpoint runs a sidecar, and the server's effective
/// PeerAuthentication mode for the target port (computed elsewhere; kUnset counts as PERMISSIVE).
/// `server_mode` is ignored for endpoints without a sidecar. `explain` fills `reason` (it
/// allocates; the data plane decides per request without it). Pure; thread-safe.
ClientTransport clientTransport(const EffectiveTrafficPolicy& policy, bool server_has_sidecar,
                                model::MtlsMode server_mode, bool explain = false);

}  // namespace meshsim::routing
