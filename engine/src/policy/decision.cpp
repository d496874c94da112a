#include "meshsim/policy/decision.h"

namespace meshsim::policy {

const char* stageName(Stage s) {
  switch (s) {
    case Stage::kNone: return "none";
    case Stage::kRequest: return "request";
    case Stage::kRoute: return "route";
    case Stage::kTransport: return "transport";
    case Stage::kPeerAuthn: return "peer_authn";
    case Stage::kJwt: return "jwt";
    case Stage::kAuthz: return "authz";
    case Stage::kRateLimit: return "ratelimit";
    case Stage::kApp: return "app";
  }
  return "none";
}

}  // namespace meshsim::policy
