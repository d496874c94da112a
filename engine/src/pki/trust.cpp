// Trust bundles (the roots, parsed once into an X509_STORE) and peer chain verification.
#include "meshsim/pki/trust.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki/material.h"

namespace meshsim::pki {

namespace {

// Builds anchors from roots already known to be CA certificates; duplicates are kept once.
Result<std::shared_ptr<const TrustAnchors>> makeAnchors(std::vector<ossl::X509Ptr> roots) {
  auto anchors = std::make_shared<TrustAnchors>();
  anchors->store.reset(X509_STORE_new());
  anchors->issuer_store.reset(X509_STORE_new());
  if (!anchors->store || !anchors->issuer_store) {
    return internalError(detail::opensslError("X509_STORE_new"));
  }
  for (auto& root : roots) {
    bool duplicate = false;
    for (const auto& kept : anchors->roots) {
      if (X509_cmp(kept.get(), root.get()) == 0) duplicate = true;
    }
    if (duplicate) continue;
    if (X509_STORE_add_cert(anchors->store.get(), root.get()) != 1 ||
        X509_STORE_add_cert(anchors->issuer_store.get(), root.get()) != 1) {
      return internalError(detail::opensslError("adding a root to the trust store"));
    }
    anchors->roots.push_back(std::move(root));
  }
  ERR_clear_error();
  return std::shared_ptr<const TrustAnchors>(std::move(anchors));
}

std::shared_ptr<const TrustAnchors> emptyAnchors() {
  auto made = makeAnchors({});
  // An empty X509_STORE only fails to allocate when memory is exhausted.
  assert(made.ok() && "allocating an empty X509_STORE");
  return made.ok() ? std::move(made).value() : std::make_shared<const TrustAnchors>();
}

}  // namespace

TrustBundle::TrustBundle() : anchors_(emptyAnchors()) {}

TrustBundle::TrustBundle(std::shared_ptr<const TrustAnchors> anchors)
    : anchors_(std::move(anchors)) {}

Result<TrustBundle> TrustBundle::fromPem(std::string_view pem_or_der) {
  auto certs = detail::parseCertificates(pem_or_der, kMaxChainCertificates);
  if (!certs.ok())
    return Status(certs.status().code(), "trust bundle: " + certs.status().message());
  for (size_t i = 0; i < certs->size(); ++i) {
    X509* cert = (*certs)[i].get();
    if ((X509_get_extension_flags(cert) & EXFLAG_CA) == 0) {
      ERR_clear_error();
      return invalidArgument("trust bundle: certificate #" + std::to_string(i + 1) + " (" +
                             detail::nameToString(X509_get_subject_name(cert)) +
                             ") is not a CA certificate");
    }
  }
  auto anchors = makeAnchors(std::move(certs).value());
  if (!anchors.ok()) return anchors.status();
  return TrustBundle(std::move(anchors).value());
}

TrustBundle TrustBundle::merged(const TrustBundle& other) const {
  std::vector<ossl::X509Ptr> roots;
  for (const auto& root : anchors_->roots) roots.push_back(ossl::share(root.get()));
  for (const auto& root : other.anchors_->roots) roots.push_back(ossl::share(root.get()));
  auto anchors = makeAnchors(std::move(roots));
  // Only allocation can fail here; keep this bundle rather than lose trust in it.
  if (!anchors.ok()) return *this;
  // The issuers both sides know now; either CA's later intermediates are presented in chains.
  for (const TrustAnchors* side : {anchors_.get(), other.anchors_.get()}) {
    std::lock_guard lock(side->mu);
    for (const auto& issuer : side->issuers) {
      (void)detail::registerIntermediate(**anchors, issuer.get());
    }
  }
  return TrustBundle(std::move(anchors).value());
}

size_t TrustBundle::size() const { return anchors_->roots.size(); }

std::string TrustBundle::pem() const {
  std::string out;
  for (const auto& root : anchors_->roots) {
    auto pem = detail::certificatePem(root.get());
    if (pem.ok()) out += *pem;
  }
  return out;
}

std::vector<CertificateInfo> TrustBundle::roots() const {
  std::vector<CertificateInfo> out;
  for (const auto& root : anchors_->roots) {
    auto info = detail::describeCertificate(root.get());
    if (info.ok()) out.push_back(std::move(info).value());
  }
  return out;
}

Result<PeerCertInfo> verifyChain(const TrustBundle& bundle, std::string_view chain,
                                 int64_t at_time) {
  auto certs = detail::parseCertificates(chain, kMaxChainCertificates);
  if (!certs.ok()) return Status(certs.status().code(), "peer chain: " + certs.status().message());
  std::vector<X509*> untrusted;
  for (size_t i = 1; i < certs->size(); ++i) untrusted.push_back((*certs)[i].get());
  return detail::verifyParsed(*bundle.anchors(), certs->front().get(), untrusted, at_time);
}

Result<PeerCertInfo> verifySvid(const TrustBundle& bundle, const Svid& svid, int64_t at_time) {
  if (!svid.material || !svid.material->leaf) {
    return invalidArgument("the SVID has no certificate material");
  }
  std::vector<X509*> untrusted;
  for (const auto& cert : svid.material->chain) untrusted.push_back(cert.get());
  return detail::verifyParsed(*bundle.anchors(), svid.material->leaf.get(), untrusted, at_time);
}

}  // namespace meshsim::pki
