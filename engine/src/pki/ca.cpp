// The mesh CA: a self-signed root, one intermediate per cluster (made on first use), and SVID
// issuance dated by the simulated clock.
#include "meshsim/pki/ca.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <mutex>

#include "meshsim/policy/identity.h"
#include "pki/material.h"

namespace meshsim::pki {

namespace {

constexpr std::string_view kRootCnPrefix = "meshsim root CA ";
constexpr std::string_view kIntermediateCnPrefix = "meshsim intermediate CA ";
constexpr size_t kMaxCommonName = 64;  // ub-common-name, RFC 5280
constexpr size_t kMaxClusterName = kMaxCommonName - kIntermediateCnPrefix.size();
constexpr size_t kMaxTrustDomain = kMaxCommonName - kRootCnPrefix.size();

bool addOverflows(int64_t a, int64_t b) { return a > std::numeric_limits<int64_t>::max() - b; }

Status checkCluster(std::string_view cluster) {
  if (cluster.empty()) return invalidArgument("cluster: the cluster name is empty");
  if (cluster.size() > kMaxClusterName) {
    return invalidArgument("cluster \"" + std::string(cluster) + "\" is longer than " +
                           std::to_string(kMaxClusterName) + " characters");
  }
  for (char c : cluster) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) {
      return invalidArgument("cluster \"" + std::string(cluster) +
                             "\" may contain only letters, digits, '.', '-' and '_'");
    }
  }
  return okStatus();
}

}  // namespace

struct MeshCa::Impl {
  struct Authority {
    ossl::PkeyPtr key;
    ossl::X509Ptr cert;
    CertificateInfo info;
  };

  CaOptions options;
  Authority root;
  TrustBundle bundle;
  std::mutex mu;
  std::map<std::string, Authority, std::less<>> intermediates;  // guarded by mu

  const SimClock& clock() const { return *options.clock; }

  // The cluster's intermediate, made on first use. Requires `mu` held; the returned pointer
  // stays valid (map nodes never move and entries are never erased).
  Result<const Authority*> intermediateLocked(std::string_view cluster) {
    if (auto it = intermediates.find(cluster); it != intermediates.end()) return &it->second;
    if (Status s = checkCluster(cluster); !s.ok()) return s;
    const int64_t now = clock().now();
    if (now >= root.info.not_after) {
      return failedPrecondition("the root CA expired at " + formatUtc(root.info.not_after) +
                                "; no intermediate can be issued for cluster \"" +
                                std::string(cluster) + "\"");
    }
    auto key = detail::generateP256Key();
    if (!key.ok()) return key.status();
    detail::CertSpec spec;
    spec.kind = detail::CertKind::kIntermediate;
    spec.subject = {{"O", options.organization},
                    {"CN", std::string(kIntermediateCnPrefix) + std::string(cluster)}};
    spec.subject_key = key->get();
    spec.issuer = root.cert.get();
    spec.issuer_key = root.key.get();
    spec.not_before = now - kClockSkewSeconds;
    spec.not_after = addOverflows(now, options.intermediate_ttl_seconds)
                         ? root.info.not_after
                         : std::min(now + options.intermediate_ttl_seconds, root.info.not_after);
    auto cert = detail::buildCertificate(spec);
    if (!cert.ok()) return cert.status();
    auto info = detail::describeCertificate(cert->get());
    if (!info.ok()) return info.status();
    // Every copy of this CA's bundle now knows the intermediate, before any SVID it signs
    // exists: sidecars present their leaf alone (material.h, TrustAnchors).
    if (Status known = detail::registerIntermediate(*bundle.anchors(), cert->get()); !known.ok()) {
      return known;
    }
    Authority made{std::move(key).value(), std::move(cert).value(), std::move(info).value()};
    auto [it, inserted] = intermediates.emplace(std::string(cluster), std::move(made));
    return &it->second;
  }
};

MeshCa::MeshCa(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MeshCa::MeshCa(MeshCa&& other) noexcept = default;
MeshCa& MeshCa::operator=(MeshCa&& other) noexcept = default;
MeshCa::~MeshCa() = default;

Result<MeshCa> MeshCa::create(const CaOptions& options) {
  if (!options.clock) return invalidArgument("mesh CA: a simulated clock is required");
  if (Status s = detail::checkTrustDomain("mesh CA", options.trust_domain); !s.ok()) return s;
  if (options.trust_domain.size() > kMaxTrustDomain) {
    return invalidArgument("mesh CA: trust domain \"" + options.trust_domain +
                           "\" is longer than " + std::to_string(kMaxTrustDomain) +
                           " characters and does not fit the root CA's common name");
  }
  if (options.organization.empty() || options.organization.size() > kMaxCommonName) {
    return invalidArgument("mesh CA: the organization must have 1 to 64 characters");
  }
  if (options.root_ttl_seconds <= 0 || options.intermediate_ttl_seconds <= 0 ||
      options.max_svid_ttl_seconds <= 0) {
    return invalidArgument("mesh CA: root, intermediate and maximum SVID TTLs must be positive");
  }
  const int64_t now = options.clock->now();
  if (addOverflows(now, options.root_ttl_seconds) ||
      now < std::numeric_limits<int64_t>::min() + kClockSkewSeconds) {
    return invalidArgument("mesh CA: the root's validity overflows the time range");
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto key = detail::generateP256Key();
  if (!key.ok()) return key.status();
  detail::CertSpec spec;
  spec.kind = detail::CertKind::kRoot;
  spec.subject = {{"O", options.organization},
                  {"CN", std::string(kRootCnPrefix) + options.trust_domain}};
  spec.subject_key = key->get();
  spec.not_before = now - kClockSkewSeconds;
  spec.not_after = now + options.root_ttl_seconds;
  auto cert = detail::buildCertificate(spec);
  if (!cert.ok()) return cert.status();
  auto info = detail::describeCertificate(cert->get());
  if (!info.ok()) return info.status();
  auto bundle = TrustBundle::fromPem(info->pem);
  if (!bundle.ok()) return bundle.status();
  impl->root = {std::move(key).value(), std::move(cert).value(), std::move(info).value()};
  impl->bundle = std::move(bundle).value();
  return MeshCa(std::move(impl));
}

const std::string& MeshCa::trustDomain() const { return impl_->options.trust_domain; }
const SimClock& MeshCa::clock() const { return impl_->clock(); }
const CertificateInfo& MeshCa::root() const { return impl_->root.info; }
const TrustBundle& MeshCa::trustBundle() const { return impl_->bundle; }

Result<std::string> MeshCa::rootKeyPem() const {
  return detail::privateKeyPem(impl_->root.key.get());
}

Result<CertificateInfo> MeshCa::intermediateFor(std::string_view cluster) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto authority = impl_->intermediateLocked(cluster);
  if (!authority.ok()) return authority.status();
  return (*authority)->info;
}

Result<Svid> MeshCa::issue(const SvidRequest& request) {
  SvidRequest served = request;
  if (served.trust_domain.empty()) served.trust_domain = impl_->options.trust_domain;
  if (Status s = detail::checkTrustDomain("SVID request", served.trust_domain); !s.ok()) return s;
  if (Status s = detail::checkPathSegment("SVID request: namespace", served.namespace_); !s.ok()) {
    return s;
  }
  if (Status s = detail::checkPathSegment("SVID request: service account", served.service_account);
      !s.ok()) {
    return s;
  }
  if (served.ttl_seconds <= 0) {
    return invalidArgument("SVID request: TTL " + std::to_string(served.ttl_seconds) +
                           " s must be positive");
  }
  if (served.ttl_seconds > impl_->options.max_svid_ttl_seconds) {
    return invalidArgument("SVID request: requested TTL " + std::to_string(served.ttl_seconds) +
                           " s is greater than the max allowed TTL " +
                           std::to_string(impl_->options.max_svid_ttl_seconds) + " s");
  }
  std::string spiffe_id =
      policy::spiffeUriFor(served.trust_domain, served.namespace_, served.service_account);
  if (Status s = validateSpiffeId(spiffe_id); !s.ok()) {
    return invalidArgument("SVID request: " + s.message());
  }

  // Hold the lock only to find (or make) the intermediate; keys are shared by reference so that
  // key generation and signing run concurrently (an EVP_PKEY may sign from several threads).
  ossl::X509Ptr issuer_cert;
  ossl::PkeyPtr issuer_key;
  std::string issuer_pem;
  int64_t issuer_not_after = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto authority = impl_->intermediateLocked(served.cluster);
    if (!authority.ok()) {
      return Status(authority.status().code(), "SVID request: " + authority.status().message());
    }
    issuer_cert = ossl::share((*authority)->cert.get());
    issuer_key = ossl::share((*authority)->key.get());
    issuer_pem = (*authority)->info.pem;
    issuer_not_after = (*authority)->info.not_after;
  }

  const int64_t now = impl_->clock().now();
  if (addOverflows(now, served.ttl_seconds) || now + served.ttl_seconds > issuer_not_after) {
    return failedPrecondition("SVID request: the intermediate CA of cluster \"" + served.cluster +
                              "\" is valid until " + formatUtc(issuer_not_after) +
                              "; an SVID issued at " + formatUtc(now) + " for " +
                              std::to_string(served.ttl_seconds) + " s would outlive it");
  }
  auto key = detail::generateP256Key();
  if (!key.ok()) return key.status();
  detail::CertSpec spec;
  spec.kind = detail::CertKind::kLeaf;
  spec.subject_key = key->get();
  spec.issuer = issuer_cert.get();
  spec.issuer_key = issuer_key.get();
  spec.not_before = now - kClockSkewSeconds;
  spec.not_after = now + served.ttl_seconds;
  spec.uri_san = spiffe_id;
  auto cert = detail::buildCertificate(spec);
  if (!cert.ok()) return cert.status();
  std::vector<ossl::X509Ptr> chain;
  chain.push_back(std::move(issuer_cert));
  return detail::makeSvid(std::move(served), std::move(spiffe_id), now, spec.not_before,
                          spec.not_after, std::move(cert).value(), std::move(chain),
                          std::move(key).value(), std::move(issuer_pem));
}

}  // namespace meshsim::pki
