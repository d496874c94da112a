// The client sidecar's TLS origination toward one endpoint, and its outcome against the server.
#include "meshsim/routing/client_tls.h"

namespace meshsim::routing {

namespace {

constexpr std::string_view kResetBody =
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "termination";
constexpr std::string_view kTlsErrorBody =
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "failure, transport failure reason: TLS error: 268435703:SSL "
    "routines:OPENSSL_internal:WRONG_VERSION_NUMBER";
constexpr std::string_view kHandshakeBody =
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "failure, transport failure reason: TLS error: 268436498:SSL "
    "routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE";

model::MtlsMode normalized(model::MtlsMode mode) {
  return mode == model::MtlsMode::kUnset ? model::MtlsMode::kPermissive : mode;
}

std::string serverText(bool sidecar, model::MtlsMode mode) {
  if (!sidecar) return "an endpoint without a sidecar";
  return std::string("a sidecar in ") + model::mtlsModeName(mode) + " mode";
}

void fail(ClientTransport& t, TransportOutcome outcome, std::string_view body,
          std::string_view flags) {
  t.outcome = outcome;
  t.status = 503;
  t.body = body;
  t.flags = flags;
}

}  // namespace

ClientTransport clientTransport(const EffectiveTrafficPolicy& policy, bool server_has_sidecar,
                                model::MtlsMode server_mode, bool explain) {
  ClientTransport t;
  const model::MtlsMode mode = normalized(server_mode);
  // The sentence is for `meshsim check`; a sidecar decides per request and never reads it.
  const std::string server = explain ? serverText(server_has_sidecar, mode) : std::string();
  auto say = [&](std::initializer_list<std::string_view> parts) {
    if (!explain) return;
    for (std::string_view part : parts) t.reason.append(part);
  };
  const bool server_terminates_tls = server_has_sidecar && mode != model::MtlsMode::kDisable;

  const bool explicit_tls = policy.tls && policy.tls->mode != model::TlsMode::kUnset;
  if (!explicit_tls) {
    // Auto mTLS: mesh mTLS to sidecars that accept it, plaintext otherwise; never fails.
    t.mode = server_terminates_tls ? model::TlsMode::kIstioMutual : model::TlsMode::kDisable;
    t.sends_tls = t.sends_mtls = server_terminates_tls;
    say({server_terminates_tls ? "auto mTLS: ISTIO_MUTUAL to " : "auto mTLS: plaintext to ",
         server});
    return t;
  }

  t.explicit_dr = true;
  t.mode = policy.tls->mode;
  say({"DestinationRule ", policy.destination_rule, " (", policy.tls_source, ") sets tls.mode ",
       model::tlsModeName(t.mode)});
  switch (t.mode) {
    case model::TlsMode::kDisable:
      if (server_has_sidecar && mode == model::MtlsMode::kStrict) {
        fail(t, TransportOutcome::kResetByServer, kResetBody, "UC");
        say({": plaintext to ", server,
             ", which has no plaintext filter chain and resets the connection (503 UC)"});
      } else {
        say({": plaintext to ", server});
      }
      return t;
    case model::TlsMode::kIstioMutual:
      t.sends_tls = t.sends_mtls = true;
      if (!server_terminates_tls) {
        fail(t, TransportOutcome::kTlsError, kTlsErrorBody, "UF");
        say({": mesh mTLS to ", server,
             ", which does not terminate TLS and answers the ClientHello as plaintext "
             "(503 UF, TLS error)"});
      } else {
        say({": mesh mTLS to ", server});
      }
      return t;
    case model::TlsMode::kSimple:
    case model::TlsMode::kMutual:
      t.sends_tls = true;
      if (!server_terminates_tls) {
        fail(t, TransportOutcome::kTlsError, kTlsErrorBody, "UF");
        say({": TLS origination to ", server,
             ", whose application speaks plaintext (503 UF, TLS error)"});
      } else {
        // The sidecar only accepts client certificates issued by the mesh CA.
        fail(t, TransportOutcome::kTlsError, kHandshakeBody, "UF");
        say({": TLS origination without a mesh certificate to ", server,
             ", which rejects the handshake (503 UF, TLS error)"});
      }
      return t;
    case model::TlsMode::kUnset:
      break;
  }
  return t;
}

}  // namespace meshsim::routing
