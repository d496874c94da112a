#pragma once
// The parsed OpenSSL objects behind the identity layer's opaque handles (Svid::material,
// TrustBundle::anchors) and the helpers that make and check them. Private to engine/src; the data
// plane may include it to hand the same X509/EVP_PKEY objects to its SSL_CTX
// (SSL_CTX_use_certificate, SSL_CTX_add1_chain_cert, SSL_CTX_set1_verify_cert_store) without
// re-decoding anything.

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/pki/svid.h"
#include "meshsim/pki/trust.h"

namespace meshsim::pki {

namespace ossl {
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct StoreFree {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

/// A new reference to `cert` (X509_up_ref); null stays null.
X509Ptr share(X509* cert);
/// A new reference to `key` (EVP_PKEY_up_ref); null stays null.
PkeyPtr share(EVP_PKEY* key);
}  // namespace ossl

/// The parsed SVID. All members are set once, before the material is shared.
struct SvidMaterial {
  ossl::X509Ptr leaf;
  std::vector<ossl::X509Ptr> chain;  ///< intermediates, leaf's issuer first; never the root
  ossl::PkeyPtr key;                 ///< the leaf's private key
  std::string spiffe_id;
};

/// The parsed roots and the X509_STORE built from them once (X509_STORE is reference counted
/// and safe for concurrent verification; per-verification settings go on the X509_STORE_CTX).
///
/// Known issuers: the mesh CA registers each intermediate it makes with its own bundle's anchors
/// (detail::registerIntermediate). A peer whose issuer is registered may present its leaf alone:
/// verification then finds the issuer in `issuer_store` and stops there (partial chain), the
/// issuer's own signature having been checked against a root once, at registration. That is one
/// certificate decode and one ECDSA verification fewer per side of every full handshake in the
/// data plane (performance.md, "short chains"). A peer that presents a chain is verified against
/// the roots alone, exactly as before. Copies of a TrustBundle share its anchors, so every
/// sidecar of a mesh learns an intermediate before the first SVID it signs exists.
struct TrustAnchors {
  std::vector<ossl::X509Ptr> roots;
  ossl::StorePtr store;         ///< the roots
  ossl::StorePtr issuer_store;  ///< the roots and the registered intermediates
  mutable std::mutex mu;
  mutable std::vector<ossl::X509Ptr> issuers;  ///< registered intermediates; guarded by mu
};

namespace detail {

/// The oldest queued OpenSSL error as text, prefixed by `what`; clears the error queue.
std::string opensslError(std::string_view what);

/// Parses PEM blocks ("-----BEGIN CERTIFICATE-----") or concatenated DER certificates. At most
/// `max_certs` certificates and kMaxChainBytes bytes. InvalidArgument for anything else.
Result<std::vector<ossl::X509Ptr>> parseCertificates(std::string_view pem_or_der, size_t max_certs);

/// PEM / DER encodings.
Result<std::string> certificatePem(X509* cert);
Result<std::string> certificateDer(X509* cert);
Result<std::string> privateKeyPem(EVP_PKEY* key);

/// Days from 1970-01-01 to a proleptic Gregorian date (month 1..12, day 1..31). Pure.
int64_t daysFromCivil(int64_t year, unsigned month, unsigned day);

/// Seconds since the epoch of an ASN1_TIME (UTCTime or GeneralizedTime).
Result<int64_t> unixTime(const ASN1_TIME* t);
/// The serial number as lower-case hex.
std::string serialHex(const X509* cert);
/// "O=meshsim, CN=..." in certificate order (short names, values as UTF-8).
std::string nameToString(const X509_NAME* name);
/// Every URI SAN of `cert`, in order.
std::vector<std::string> uriSans(const X509* cert);
/// The one SPIFFE ID of a leaf: PermissionDenied when it has no URI SAN, more than one, or one
/// that is not a SPIFFE ID. Call it on a verified certificate (verification rejects repeated or
/// undecodable subjectAltName extensions).
Result<std::string> spiffeIdOf(const X509* cert);
/// Describes a certificate (for CertificateInfo); Internal when its dates cannot be read.
Result<CertificateInfo> describeCertificate(X509* cert);

/// Verifies `leaf` with the `untrusted` intermediates against `anchors` at `at_time` (never the
/// wall clock), then checks the leaf is an SVID (not a CA, exactly one SPIFFE URI SAN). The
/// error names OpenSSL's reason ("certificate has expired", ...). The data plane calls this from
/// its verify callback with the X509 objects OpenSSL already built. A leaf presented alone
/// (`untrusted` empty) may also chain to a registered intermediate (see TrustAnchors);
/// chain_length still counts the root above it.
Result<PeerCertInfo> verifyParsed(const TrustAnchors& anchors, X509* leaf,
                                  const std::vector<X509*>& untrusted, int64_t at_time);

/// Registers `intermediate` as a known issuer of `anchors` (see TrustAnchors) after checking
/// that it is a CA certificate signed by one of the roots. Registering one twice is harmless.
/// InvalidArgument when it is not a CA or no root signed it; Internal when OpenSSL fails.
Status registerIntermediate(const TrustAnchors& anchors, X509* intermediate);

/// Whether `cert` is a registered intermediate of `anchors`: a peer verifying with them need not
/// be sent it.
bool knowsIntermediate(const TrustAnchors& anchors, const X509* cert);

/// A fresh ECDSA P-256 key pair.
Result<ossl::PkeyPtr> generateP256Key();

/// What kind of certificate buildCertificate makes; sets basicConstraints, keyUsage, extKeyUsage.
enum class CertKind { kRoot, kIntermediate, kLeaf };

/// Everything a certificate needs. `issuer`/`issuer_key` null: self-signed with `subject_key`.
struct CertSpec {
  CertKind kind = CertKind::kLeaf;
  std::vector<std::pair<std::string, std::string>> subject;  ///< e.g. {{"O","meshsim"},{"CN",..}}
  EVP_PKEY* subject_key = nullptr;
  X509* issuer = nullptr;
  EVP_PKEY* issuer_key = nullptr;
  int64_t not_before = 0;
  int64_t not_after = 0;
  std::string uri_san;  ///< leaf only; marked critical when the subject is empty (RFC 5280)
};

/// Builds and signs (ECDSA-SHA256) a version-3 certificate with a random 128-bit serial, subject
/// and authority key identifiers. Internal when OpenSSL fails, InvalidArgument for a subject
/// value OpenSSL refuses (e.g. a CN over 64 characters).
Result<ossl::X509Ptr> buildCertificate(const CertSpec& spec);

/// InvalidArgument unless `td` is a SPIFFE trust domain name ([a-z0-9._-]+). `field` names it.
Status checkTrustDomain(std::string_view field, std::string_view td);
/// InvalidArgument unless `segment` is a SPIFFE path segment ([A-Za-z0-9._-]+, not "." or "..").
Status checkPathSegment(std::string_view field, std::string_view segment);

/// Assembles an Svid from freshly built parts: PEM of the leaf, serial, issuer, dates; the
/// material takes ownership of `leaf`, `chain` and `key`.
Result<Svid> makeSvid(SvidRequest request, std::string spiffe_id, int64_t issued_at,
                      int64_t not_before, int64_t not_after, ossl::X509Ptr leaf,
                      std::vector<ossl::X509Ptr> chain, ossl::PkeyPtr key,
                      std::string intermediate_pem);

}  // namespace detail
}  // namespace meshsim::pki
