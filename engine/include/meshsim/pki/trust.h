#pragma once
/// Trust bundles and chain verification: the check a sidecar makes on its peer's certificate.
/// Verification uses only the time it is given (a SimClock reading), never the wall clock.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/pki/svid.h"
#include "meshsim/policy/request.h"

namespace meshsim::pki {

/// The parsed root certificates and the OpenSSL store built from them once. Defined privately
/// (engine/src/pki/material.h); immutable and safe to share between threads.
struct TrustAnchors;

/// The root certificates a workload trusts (the mesh root; federated roots are merged in).
/// Immutable value type; copies share the parsed anchors. Thread-safe.
class TrustBundle {
 public:
  /// An empty bundle: trusts nothing.
  TrustBundle();

  /// Parses one or more root CA certificates (PEM blocks or concatenated DER). InvalidArgument on
  /// empty or malformed input, or when a certificate is not a CA (basicConstraints CA:TRUE);
  /// duplicates are kept once.
  static Result<TrustBundle> fromPem(std::string_view pem_or_der);

  /// This bundle's roots followed by `other`'s (duplicates kept once): federation.
  TrustBundle merged(const TrustBundle& other) const;

  /// Number of root certificates.
  size_t size() const;
  /// The roots as concatenated PEM, in order.
  std::string pem() const;
  /// The roots, described.
  std::vector<CertificateInfo> roots() const;

  /// The parsed anchors for the data plane; never null.
  const std::shared_ptr<const TrustAnchors>& anchors() const { return anchors_; }

 private:
  explicit TrustBundle(std::shared_ptr<const TrustAnchors> anchors);
  std::shared_ptr<const TrustAnchors> anchors_;
};

/// What a verified peer certificate proves.
struct PeerCertInfo {
  std::string spiffe_id;  ///< the leaf's single URI SAN
  /// The Istio identity when the SPIFFE ID has the shape spiffe://<td>/ns/<ns>/sa/<sa>.
  std::optional<policy::PeerIdentity> identity;
  std::string serial_hex;   ///< the leaf's serial, lower-case hex
  std::string issuer;       ///< the leaf's issuer, "O=..., CN=..."
  int64_t not_before = 0;   ///< the leaf's notBefore, seconds since the epoch
  int64_t not_after = 0;    ///< the leaf's notAfter, seconds since the epoch
  size_t chain_length = 0;  ///< certificates in the verified path, leaf through root
};

/// Largest certificate input accepted, in bytes (a real chain of two is about 1.5 KiB).
inline constexpr size_t kMaxChainBytes = 64 * 1024;
/// Most certificates accepted in one input; also the verification depth limit.
inline constexpr size_t kMaxChainCertificates = 8;

/// Verifies a presented chain (leaf first, then intermediates; PEM blocks or concatenated DER)
/// against `bundle` at simulated time `at_time` (OpenSSL's X509_V_FLAG_USE_CHECK_TIME), then
/// extracts the SPIFFE ID. Errors:
///  - InvalidArgument: empty, oversized, malformed PEM/DER, more than kMaxChainCertificates;
///  - PermissionDenied: OpenSSL's reason, e.g. "certificate has expired", "certificate is not yet
///    valid", "unable to get local issuer certificate", "self-signed certificate"; or a leaf that
///    is a CA, has no URI SAN ("no SPIFFE ID"), has more than one URI SAN, or whose URI SAN is not
///    a SPIFFE ID.
/// Pure apart from OpenSSL's internal caches; thread-safe.
Result<PeerCertInfo> verifyChain(const TrustBundle& bundle, std::string_view chain,
                                 int64_t at_time);

/// verifyChain on the SVID's already-parsed certificates (no decoding): the data plane's path.
/// InvalidArgument when `svid` has no material.
Result<PeerCertInfo> verifySvid(const TrustBundle& bundle, const Svid& svid, int64_t at_time);

}  // namespace meshsim::pki
