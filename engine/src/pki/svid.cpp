// SVID values: SPIFFE ID syntax, export, inspection, forging and the one-line description.
#include "meshsim/pki/svid.h"

#include <openssl/err.h>

#include <limits>

#include "meshsim/pki/trust.h"
#include "meshsim/policy/identity.h"
#include "pki/material.h"

namespace meshsim::pki {

namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr size_t kMaxSpiffeIdBytes = 2048;

bool isTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool isPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

namespace detail {

Status checkTrustDomain(std::string_view field, std::string_view td) {
  if (td.empty()) return invalidArgument(std::string(field) + ": the trust domain is empty");
  for (char c : td) {
    if (!isTrustDomainChar(c)) {
      return invalidArgument(std::string(field) + ": trust domain \"" + std::string(td) +
                             "\" may contain only lower-case letters, digits, '.', '-' and '_'");
    }
  }
  return okStatus();
}

Status checkPathSegment(std::string_view field, std::string_view segment) {
  if (segment.empty()) return invalidArgument(std::string(field) + " is empty");
  if (segment == "." || segment == "..") {
    return invalidArgument(std::string(field) + " may not be \"" + std::string(segment) + "\"");
  }
  for (char c : segment) {
    if (!isPathChar(c)) {
      return invalidArgument(std::string(field) + " \"" + std::string(segment) +
                             "\" may contain only letters, digits, '.', '-' and '_'");
    }
  }
  return okStatus();
}

Result<Svid> makeSvid(SvidRequest request, std::string spiffe_id, int64_t issued_at,
                      int64_t not_before, int64_t not_after, ossl::X509Ptr leaf,
                      std::vector<ossl::X509Ptr> chain, ossl::PkeyPtr key,
                      std::string intermediate_pem) {
  auto pem = certificatePem(leaf.get());
  if (!pem.ok()) return pem.status();
  Svid svid;
  svid.spiffe_id = spiffe_id;
  svid.request = std::move(request);
  svid.serial_hex = serialHex(leaf.get());
  svid.issuer = nameToString(X509_get_issuer_name(leaf.get()));
  svid.issued_at = issued_at;
  svid.not_before = not_before;
  svid.not_after = not_after;
  svid.leaf_pem = std::move(pem).value();
  svid.intermediate_pem = std::move(intermediate_pem);
  auto material = std::make_shared<SvidMaterial>();
  material->leaf = std::move(leaf);
  material->chain = std::move(chain);
  material->key = std::move(key);
  material->spiffe_id = std::move(spiffe_id);
  svid.material = std::move(material);
  return svid;
}

}  // namespace detail

Status validateSpiffeId(std::string_view id) {
  if (id.size() > kMaxSpiffeIdBytes) {
    return invalidArgument("a SPIFFE ID is at most 2048 bytes, this one has " +
                           std::to_string(id.size()));
  }
  if (id.substr(0, kScheme.size()) != kScheme) {
    return invalidArgument("\"" + std::string(id) + "\" does not start with \"spiffe://\"");
  }
  const std::string_view rest = id.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string_view td = rest.substr(0, slash);
  if (Status s = detail::checkTrustDomain("\"" + std::string(id) + "\"", td); !s.ok()) return s;
  if (slash == std::string_view::npos) return okStatus();
  std::string_view path = rest.substr(slash);
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const size_t next = path.find('/');
    const std::string_view segment = path.substr(0, next);
    if (Status s = detail::checkPathSegment("\"" + std::string(id) + "\": path segment", segment);
        !s.ok()) {
      return s;
    }
    path = next == std::string_view::npos ? std::string_view{} : path.substr(next);
  }
  return okStatus();
}

Result<std::string> chainDer(const Svid& svid) {
  if (!svid.material || !svid.material->leaf) {
    return invalidArgument("the SVID has no certificate material");
  }
  auto out = detail::certificateDer(svid.material->leaf.get());
  if (!out.ok()) return out;
  for (const auto& cert : svid.material->chain) {
    auto der = detail::certificateDer(cert.get());
    if (!der.ok()) return der;
    out.value() += *der;
  }
  return out;
}

Result<std::string> privateKeyPem(const Svid& svid) {
  if (!svid.material || !svid.material->key) {
    return invalidArgument("the SVID has no private key material");
  }
  return detail::privateKeyPem(svid.material->key.get());
}

Result<std::vector<CertificateInfo>> inspectCertificates(std::string_view pem_or_der) {
  auto certs = detail::parseCertificates(pem_or_der, kMaxChainCertificates);
  if (!certs.ok()) return certs.status();
  std::vector<CertificateInfo> out;
  for (const auto& cert : *certs) {
    auto info = detail::describeCertificate(cert.get());
    if (!info.ok()) return invalidArgument(info.status().message());
    out.push_back(std::move(info).value());
  }
  return out;
}

Result<Svid> forgeSelfSigned(std::string_view spiffe_id, const SimClock& clock,
                             int64_t ttl_seconds) {
  if (Status s = validateSpiffeId(spiffe_id); !s.ok()) return s;
  const int64_t now = clock.now();
  if (ttl_seconds <= 0 || now > std::numeric_limits<int64_t>::max() - ttl_seconds ||
      now < std::numeric_limits<int64_t>::min() + kClockSkewSeconds) {
    return invalidArgument("forged SVID: TTL " + std::to_string(ttl_seconds) +
                           " s must be positive and keep the dates representable");
  }
  auto key = detail::generateP256Key();
  if (!key.ok()) return key.status();
  detail::CertSpec spec;
  spec.kind = detail::CertKind::kLeaf;
  spec.subject = {{"CN", "self-signed workload"}};
  spec.subject_key = key->get();
  spec.not_before = now - kClockSkewSeconds;
  spec.not_after = now + ttl_seconds;
  spec.uri_san = std::string(spiffe_id);
  auto cert = detail::buildCertificate(spec);
  if (!cert.ok()) return cert.status();
  SvidRequest request;
  request.ttl_seconds = ttl_seconds;
  // The claimed identity, when it has Istio's shape; the cluster stays empty (no issuer).
  if (auto claimed = policy::parseSpiffeUri(spiffe_id); claimed.ok()) {
    request.trust_domain = claimed->trust_domain;
    request.namespace_ = claimed->namespace_;
    request.service_account = claimed->service_account;
  }
  return detail::makeSvid(std::move(request), std::string(spiffe_id), now, spec.not_before,
                          spec.not_after, std::move(cert).value(), {}, std::move(key).value(), "");
}

std::string describe(const Svid& svid) {
  std::string out = svid.spiffe_id + " serial " + svid.serial_hex + " issued by " + svid.issuer;
  out +=
      svid.request.cluster.empty() ? " (self-signed)" : " (cluster " + svid.request.cluster + ")";
  out += " valid " + formatUtc(svid.not_before) + ".." + formatUtc(svid.not_after);
  return out;
}

}  // namespace meshsim::pki
