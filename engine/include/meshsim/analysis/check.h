#pragma once
/// `meshsim check`: what a real mesh would do with one request, stage by stage, and why. It
/// chains the single implementations of the rules — client routing (VirtualService,
/// DestinationRule), client transport (auto mTLS), the server's PeerAuthentication, JWT
/// authentication and authorization — exactly in the order the sidecars apply them.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/policy/decision.h"

namespace meshsim::policy {
class IdentityProviderKeys;
}

namespace meshsim::analysis {

/// Who sends the request.
struct CheckSource {
  enum class Kind {
    kWorkload,  ///< a workload of the mesh, through its own sidecar when it has one
    kOutside,   ///< a plain client: no sidecar, no certificate
    kStolen,    ///< an attacker presenting the named workload's genuine certificate and key
    kForged,    ///< a self-signed certificate carrying `spiffe_id` (not chained to the root)
  };
  Kind kind = Kind::kOutside;
  std::string namespace_;  ///< kWorkload, kStolen
  std::string name;        ///< kWorkload, kStolen
  std::string spiffe_id;   ///< kForged: "spiffe://td/ns/x/sa/y"
};

/// Parses the `--from` syntax: "NS/WORKLOAD", "outside", "stolen:NS/WORKLOAD",
/// "forged:SPIFFE-ID". InvalidArgument with the expected forms otherwise.
Result<CheckSource> parseCheckSource(const std::string& text);

/// How the request carries (or mangles) an end-user JWT.
struct CheckJwt {
  enum class Kind { kNone, kToken, kClaims, kInvalid };
  Kind kind = Kind::kNone;
  std::string token;     ///< kToken: sent as is
  std::string claims;    ///< kClaims: JSON object signed by the configured issuer
  std::string invalid;   ///< kInvalid: signature | expired | malformed | issuer | audience
};

struct CheckRequest {
  CheckSource from;
  std::string to_namespace;
  std::string to_service;
  std::optional<uint32_t> port;           ///< service port (default: the first)
  std::optional<uint32_t> workload_port;  ///< or the target port directly
  std::string method = "GET";
  std::string path = "/";                 ///< may carry a query string
  std::string host;                       ///< default "<service>.<ns>.svc.cluster.local:<port>"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string source_ip;                  ///< default: the client's loopback address
  CheckJwt jwt;
  int64_t now_seconds = 0;                ///< simulated time for JWT expiry
  /// Which weighted destination to follow: the first whose cumulative share exceeds `pick`
  /// (default 0: the first destination with a non-zero share). Faults use 1 (never fire).
  double pick = 0;
};

/// The bearer token `jwt` stands for when sent to `server` at `now_seconds`: the token as given,
/// or one signed by the IdentityProvider that the server's RequestAuthentication trusts (valid,
/// or broken the way `jwt.invalid` says). Empty for CheckJwt::Kind::kNone. InvalidArgument when
/// no RequestAuthentication of the server names an IdentityProvider. Engine thread only.
Result<std::string> checkToken(const config::Snapshot& snapshot, const model::Workload& server,
                               const CheckJwt& jwt, int64_t now_seconds,
                               policy::IdentityProviderKeys& keys);

/// Decides the request. InvalidArgument (→ exit 2) for unknown services, workloads, ports or
/// malformed flags; otherwise the Decision, with `trace` holding the reasoning chain.
/// `keys` provides IdentityProvider signing keys (for --jwt-claims and jwksUri resolution).
/// Engine thread only (it may generate keys).
Result<policy::Decision> check(std::shared_ptr<const config::Snapshot> snapshot, const CheckRequest& request,
                               policy::IdentityProviderKeys& keys);

}  // namespace meshsim::analysis
