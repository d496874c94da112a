#pragma once
/// The mesh certificate authority: one self-signed root per mesh and one intermediate per
/// cluster, issuing SPIFFE SVIDs for workloads (PRODUCT.md section 3). Keys are ECDSA P-256,
/// signatures ECDSA-SHA256, serial numbers random 128-bit; every time comes from the SimClock.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "meshsim/common/status.h"
#include "meshsim/pki/clock.h"
#include "meshsim/pki/svid.h"
#include "meshsim/pki/trust.h"

namespace meshsim::pki {

/// How the mesh CA is set up.
struct CaOptions {
  std::string trust_domain = "cluster.local";  ///< SPIFFE trust domain; at most 48 characters
  std::string organization = "meshsim";        ///< the O= of the CA subjects
  std::shared_ptr<const SimClock> clock;       ///< required; shared with the scenario
  int64_t root_ttl_seconds = 10 * 365 * kSecondsPerDay;     ///< as Istio's self-signed root
  int64_t intermediate_ttl_seconds = 365 * kSecondsPerDay;  ///< capped at the root's notAfter
  int64_t max_svid_ttl_seconds = 90 * kSecondsPerDay;       ///< Istio's max workload cert TTL
};

/// The mesh's certificate authority. Created once per mesh; move-only (a moved-from MeshCa may
/// only be destroyed or assigned to).
/// Thread-safe: issue() and intermediateFor() may be called concurrently (one internal mutex);
/// the root and trust bundle never change.
class MeshCa {
 public:
  /// Generates the root CA: ECDSA P-256, self-signed, CA:TRUE, keyCertSign + cRLSign, subject
  /// "O=<organization>, CN=meshsim root CA <trust domain>", valid from now - kClockSkewSeconds
  /// for root_ttl_seconds. InvalidArgument for a missing clock, an invalid trust domain or
  /// organization, or a non-positive TTL; Internal when OpenSSL fails.
  static Result<MeshCa> create(const CaOptions& options);

  /// Moves the CA; `other` may then only be destroyed or assigned to.
  MeshCa(MeshCa&& other) noexcept;
  /// Moves the CA; `other` may then only be destroyed or assigned to.
  MeshCa& operator=(MeshCa&& other) noexcept;
  /// Frees the keys and certificates. SVIDs already issued stay valid (they share what they use).
  ~MeshCa();

  /// The mesh trust domain.
  const std::string& trustDomain() const;
  /// The clock every certificate of this CA is dated by.
  const SimClock& clock() const;
  /// The root certificate.
  const CertificateInfo& root() const;
  /// A bundle holding just this mesh's root.
  const TrustBundle& trustBundle() const;
  /// The root's private key as PKCS#8 PEM (export, e.g. to hand the CA to a real proxy setup).
  Result<std::string> rootKeyPem() const;

  /// The intermediate CA of `cluster`, created on first use (ECDSA P-256, CA:TRUE pathlen:0,
  /// keyCertSign + cRLSign, subject "O=<organization>, CN=meshsim intermediate CA <cluster>",
  /// signed by the root, valid from now - kClockSkewSeconds for intermediate_ttl_seconds but
  /// never past the root) and cached. InvalidArgument for a cluster name that is empty, longer
  /// than 40 characters or not [A-Za-z0-9._-].
  Result<CertificateInfo> intermediateFor(std::string_view cluster);

  /// Issues an SVID at clock().now(): ECDSA P-256 leaf, empty subject, critical URI SAN
  /// spiffe://<td>/ns/<ns>/sa/<sa>, CA:FALSE, keyUsage digitalSignature, extKeyUsage
  /// serverAuth + clientAuth, notBefore = now - kClockSkewSeconds, notAfter = now + TTL, signed
  /// by the cluster's intermediate. Errors: InvalidArgument for an empty or malformed trust
  /// domain, namespace, service account or cluster, or a TTL outside (0, max_svid_ttl_seconds];
  /// FailedPrecondition when the intermediate expires before the requested notAfter.
  Result<Svid> issue(const SvidRequest& request);

 private:
  struct Impl;
  explicit MeshCa(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshsim::pki
