#pragma once
/// SPIFFE X.509 SVIDs: the workload certificates of the mesh (PRODUCT.md section 3, "Identity").
/// An Svid carries its PEM forms for people and files, and an opaque shared handle to the parsed
/// OpenSSL objects so that the data plane never re-decodes a certificate (performance.md,
/// design consequence 3). No OpenSSL type appears here.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/pki/clock.h"

namespace meshsim::pki {

/// The parsed leaf certificate, its issuing chain and its private key. Defined privately
/// (engine/src/pki/material.h) for the data plane; immutable once built and safe to share
/// between threads.
struct SvidMaterial;

/// Default SVID lifetime: 24 hours, as Istio's default workload certificate TTL.
inline constexpr int64_t kDefaultSvidTtlSeconds = kSecondsPerDay;
/// Certificates are back-dated by this much so that peers with a slightly slow clock accept them.
inline constexpr int64_t kClockSkewSeconds = 60;

/// What a workload asks the mesh CA for.
struct SvidRequest {
  std::string trust_domain;     ///< empty: the CA's own trust domain
  std::string namespace_;       ///< Kubernetes namespace
  std::string service_account;  ///< Kubernetes service account
  std::string cluster;          ///< selects the issuing intermediate CA
  int64_t ttl_seconds = kDefaultSvidTtlSeconds;
};

/// An issued (or forged) X.509 SVID. A value type: copies share the parsed material.
struct Svid {
  std::string spiffe_id;         ///< "spiffe://<td>/ns/<ns>/sa/<sa>", the single URI SAN
  SvidRequest request;           ///< the request as served (trust domain filled in)
  std::string serial_hex;        ///< the serial number, lower-case hex without separators
  std::string issuer;            ///< the issuer's subject, "O=..., CN=..."
  int64_t issued_at = 0;         ///< the simulated time of issue
  int64_t not_before = 0;        ///< issued_at - kClockSkewSeconds
  int64_t not_after = 0;         ///< issued_at + request.ttl_seconds
  std::string leaf_pem;          ///< the leaf certificate, PEM
  std::string intermediate_pem;  ///< the issuing intermediate, PEM; empty when self-signed
  std::shared_ptr<const SvidMaterial> material;  ///< parsed objects; never null in a valid Svid

  /// The chain a workload presents: leaf then intermediate, PEM.
  std::string chainPem() const { return leaf_pem + intermediate_pem; }
};

/// What a certificate says, for reports and the CLI.
struct CertificateInfo {
  std::string subject;     ///< "O=..., CN=..." in certificate order; empty for SVID leaves
  std::string issuer;      ///< same form
  std::string serial_hex;  ///< lower-case hex
  int64_t not_before = 0;  ///< seconds since the epoch
  int64_t not_after = 0;   ///< seconds since the epoch
  bool is_ca = false;      ///< basicConstraints CA:TRUE
  std::vector<std::string> uri_sans;
  std::string pem;
};

/// The chain as concatenated DER certificates (leaf first), the form TLS puts on the wire.
/// InvalidArgument when `svid` has no material; Internal when OpenSSL fails to encode.
Result<std::string> chainDer(const Svid& svid);

/// The SVID's private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"): export for files
/// handed to a real proxy. InvalidArgument when `svid` has no material.
Result<std::string> privateKeyPem(const Svid& svid);

/// Parses every certificate of `pem_or_der` (PEM blocks, or concatenated DER) and describes each.
/// InvalidArgument on empty, malformed or oversized input; never crashes on garbage.
Result<std::vector<CertificateInfo>> inspectCertificates(std::string_view pem_or_der);

/// What an attacker makes: a self-signed ECDSA P-256 certificate carrying `spiffe_id` as its
/// URI SAN, with the usages of a real SVID, valid from clock.now() - kClockSkewSeconds for
/// `ttl_seconds`. Chain verification against the mesh trust bundle must reject it.
/// InvalidArgument when `spiffe_id` is not a SPIFFE ID or `ttl_seconds` is not positive.
Result<Svid> forgeSelfSigned(std::string_view spiffe_id, const SimClock& clock,
                             int64_t ttl_seconds = kDefaultSvidTtlSeconds);

/// One line for people: "spiffe://td/ns/a/sa/b serial 1a2b... issued by O=..., CN=... (cluster
/// east) valid 2024-01-01T00:00:00Z..2024-01-02T00:00:00Z". Pure.
std::string describe(const Svid& svid);

/// InvalidArgument unless `id` is a SPIFFE ID: "spiffe://" + a trust domain of [a-z0-9._-] +
/// zero or more "/segment" parts of [A-Za-z0-9._-] (no empty, "." or ".." segment, no query,
/// fragment, port or user info), at most 2048 bytes (the SPIFFE X509-SVID specification).
Status validateSpiffeId(std::string_view id);

}  // namespace meshsim::pki
