#pragma once
/// A Decision: what would happen to one request, which stage decided it, and why. The same
/// value is produced by `meshsim check`, by the proxies and by blast-radius analysis.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace meshsim::policy {

/// The stage of the request path that produced the final outcome.
enum class Stage {
  kNone,        ///< nothing refused: the app answered
  kRequest,     ///< malformed request (400: %00 in path, lower-case method)
  kRoute,       ///< client-side routing: 404 NR, 503 NC/UH, fault abort
  kTransport,   ///< client-side TLS origination vs server mode (503 UF/URX)
  kPeerAuthn,   ///< server refused the connection (STRICT vs plaintext, bad certificate)
  kJwt,         ///< request authentication: 401 / 403 audience
  kAuthz,       ///< authorization: 403 RBAC (or CUSTOM provider)
  kRateLimit,   ///< 429
  kApp,         ///< the application's own answer
};
const char* stageName(Stage s);

/// A status of 0 means the connection was reset/closed before any HTTP response.
inline constexpr int kStatusReset = 0;

struct SubsetShare {
  std::string host;
  std::string subset;
  double share = 0;  ///< 0..1
};

struct RouteInfo {
  std::string virtual_service;  ///< "ns/name" or empty when no VirtualService applied
  int32_t route_index = -1;
  std::string destination;      ///< host[:subset] chosen (or the default cluster)
  std::vector<SubsetShare> shares;
};

/// The complete outcome of a request.
struct Decision {
  int status = 200;            ///< HTTP code, or kStatusReset
  std::string body;            ///< response body for refusals (e.g. "RBAC: access denied")
  Stage stage = Stage::kNone;
  std::string policy;          ///< deciding resource "ns/name" (empty when none)
  int32_t rule = -1;           ///< index of the deciding rule within `policy`
  std::string reason;          ///< one sentence a person can read
  std::string response_flags;  ///< Envoy-style flags: NR, NC, UH, UF, URX, FI, RL, UT, UO
  bool mtls = false;           ///< whether the hop is mutual TLS
  RouteInfo route;
  /// The reasoning chain, one line per step (which policies applied, which matched, ...).
  std::vector<std::string> trace;

  bool allowed() const { return status >= 200 && status < 300; }
};

}  // namespace meshsim::policy
