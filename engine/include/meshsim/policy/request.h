#pragma once
/// The attributes of one request (or TCP connection) as the receiving sidecar sees them: the
/// single input of authorization. Built by the data plane, by `meshsim check`, and by analysis.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace meshsim::policy {

/// The peer of a mutual-TLS connection, from its verified certificate's URI SAN.
/// Absent for plaintext connections (PERMISSIVE/DISABLE, clients without a sidecar).
struct PeerIdentity {
  std::string principal;        ///< "<trustDomain>/ns/<ns>/sa/<sa>" (no "spiffe://")
  std::string trust_domain;
  std::string namespace_;
  std::string service_account;
};

/// One claim of a validated JWT. Nested objects are flattened to their path (["a","b"]);
/// list claims keep every element; `scope`, `permission` and configured space-delimited claims
/// are split on spaces.
struct Claim {
  std::vector<std::string> path;
  std::vector<std::string> values;
};

/// The result of JWT authentication that authorization can see (Envoy's jwt_authn metadata).
struct RequestAuth {
  std::string issuer;
  std::string subject;
  bool has_subject = false;
  std::vector<std::string> audiences;
  std::string presenter;  ///< azp
  std::vector<Claim> claims;

  /// Values of a claim at `path`, or nullptr when absent.
  const std::vector<std::string>* claim(const std::vector<std::string>& path) const {
    for (const auto& c : claims) {
      if (c.path == path) return &c.values;
    }
    return nullptr;
  }
};

/// A request as seen at the server sidecar's authorization filter.
struct RequestAttributes {
  bool http = true;                   ///< false: a TCP connection (HTTP-only fields absent)
  std::optional<PeerIdentity> peer;   ///< set only for verified mutual TLS
  std::string source_ip;              ///< direct peer address
  std::string remote_ip;              ///< original client (X-Forwarded-For); defaults to source
  std::string destination_ip;
  uint32_t destination_port = 0;      ///< the workload (target) port
  std::string sni;
  // HTTP only:
  std::string host;                   ///< :authority, including any port
  std::string method;
  std::string path;                   ///< already normalized, no query string
  /// Header names lower-case; duplicates already joined with ",".
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<RequestAuth> auth;    ///< set when a JWT was validated

  /// Header value by lower-case name, or nullptr.
  const std::string* header(const std::string& lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return &v;
    }
    return nullptr;
  }
};

}  // namespace meshsim::policy
