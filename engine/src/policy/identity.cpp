#include "meshsim/policy/identity.h"

#include <algorithm>

namespace meshsim::policy {

namespace {

/// Splits on every '/', keeping empty parts.
std::vector<std::string_view> splitSlash(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

// Istio's `stringMatch(td, bundle)`: the bundle entries are the patterns here.
bool bundleEntryMatches(std::string_view td, std::string_view entry) {
  if (td == entry || entry == "*") return true;
  if (!entry.empty() && entry.back() == '*') {
    return td.substr(0, entry.size() - 1) == entry.substr(0, entry.size() - 1);
  }
  if (!entry.empty() && entry.front() == '*') {
    const std::string_view suffix = entry.substr(1);
    return td.size() >= suffix.size() && td.substr(td.size() - suffix.size()) == suffix;
  }
  return false;
}

bool isSuffixWildcardFor(std::string_view pattern, std::string_view td) {
  if (pattern.empty() || pattern.front() != '*') return false;
  const std::string_view suffix = pattern.substr(1);
  return td.size() >= suffix.size() && td.substr(td.size() - suffix.size()) == suffix;
}

void pushUnique(std::vector<std::string>& out, std::string value) {
  if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(std::move(value));
}

}  // namespace

Result<PeerIdentity> parsePrincipal(std::string_view principal) {
  const auto parts = splitSlash(principal);
  if (parts.size() != 5 || parts[1] != "ns" || parts[3] != "sa") {
    return invalidArgument(
        "\"" + std::string(principal) +
        "\" is not an Istio identity <trust-domain>/ns/<namespace>/sa/<account>");
  }
  if (parts[0].empty() || parts[2].empty() || parts[4].empty()) {
    return invalidArgument("\"" + std::string(principal) +
                           "\" has an empty trust domain, namespace or service account");
  }
  PeerIdentity id;
  id.principal = std::string(principal);
  id.trust_domain = std::string(parts[0]);
  id.namespace_ = std::string(parts[2]);
  id.service_account = std::string(parts[4]);
  return id;
}

Result<PeerIdentity> parseSpiffeUri(std::string_view uri) {
  if (uri.substr(0, kSpiffePrefix.size()) != kSpiffePrefix) {
    return invalidArgument("\"" + std::string(uri) + "\" is not a SPIFFE URI (spiffe://...)");
  }
  return parsePrincipal(uri.substr(kSpiffePrefix.size()));
}

std::string principalFor(std::string_view trust_domain, std::string_view ns,
                         std::string_view service_account) {
  std::string out;
  out.reserve(trust_domain.size() + ns.size() + service_account.size() + 8);
  out.append(trust_domain).append("/ns/").append(ns).append("/sa/").append(service_account);
  return out;
}

std::string spiffeUriFor(std::string_view trust_domain, std::string_view ns,
                         std::string_view service_account) {
  return std::string(kSpiffePrefix) + principalFor(trust_domain, ns, service_account);
}

PeerIdentity peerIdentityFor(std::string_view trust_domain, std::string_view ns,
                             std::string_view service_account) {
  PeerIdentity id;
  id.principal = principalFor(trust_domain, ns, service_account);
  id.trust_domain = std::string(trust_domain);
  id.namespace_ = std::string(ns);
  id.service_account = std::string(service_account);
  return id;
}

PeerIdentity workloadIdentity(const model::Workload& workload, std::string_view trust_domain) {
  return peerIdentityFor(trust_domain, workload.meta.namespace_, workload.service_account);
}

// ---------------------------------------------------------------- TrustDomainBundle

TrustDomainBundle::TrustDomainBundle() : domains_{std::string(kClusterLocalTrustDomain)} {}

TrustDomainBundle::TrustDomainBundle(std::string trust_domain, std::vector<std::string> aliases) {
  if (trust_domain.empty()) trust_domain = std::string(kClusterLocalTrustDomain);
  domains_.push_back(std::move(trust_domain));
  for (auto& a : aliases) {
    if (!a.empty()) pushUnique(domains_, std::move(a));
  }
}

bool TrustDomainBundle::contains(std::string_view td) const {
  return std::find(domains_.begin(), domains_.end(), td) != domains_.end();
}

std::vector<std::string> TrustDomainBundle::expandPrincipal(
    std::string_view policy_principal) const {
  const auto parts = splitSlash(policy_principal);
  // A principal that does not have five parts, or whose trust domain is "*", does not constrain
  // the trust domain: Istio keeps it as written.
  if (parts.size() != 5 || parts[0] == "*") return {std::string(policy_principal)};
  const std::string_view td = parts[0];
  bool in_bundle = td == kClusterLocalTrustDomain;
  for (const auto& d : domains_) in_bundle = in_bundle || bundleEntryMatches(td, d);
  if (!in_bundle) return {std::string(policy_principal)};
  const std::string_view rest = policy_principal.substr(td.size());  // "/ns/.../sa/..."
  std::vector<std::string> out;
  for (const auto& d : domains_) {
    if (isSuffixWildcardFor(td, d)) {
      pushUnique(out, std::string(policy_principal));
    } else {
      pushUnique(out, d + std::string(rest));
    }
  }
  return out;
}

std::vector<std::string> TrustDomainBundle::expandTrustDomain(std::string_view value) const {
  if (contains(value)) return domains_;
  return {std::string(value)};
}

bool principalMatches(std::string_view pattern, std::string_view principal,
                      const TrustDomainBundle& bundle) {
  for (const auto& expanded : bundle.expandPrincipal(pattern)) {
    if (StringPattern::parse(expanded).matches(principal)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- NamespaceMatcher

PrincipalParts splitPrincipal(std::string_view principal) {
  PrincipalParts parts;
  std::string_view fields[5];
  size_t count = 0;
  size_t start = 0;
  while (count < 5) {
    const size_t slash = principal.find('/', start);
    fields[count++] =
        principal.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
    if (count == 5) return parts;  // a sixth field follows
  }
  if (count != 5 || fields[1] != "ns" || fields[3] != "sa") return parts;
  parts.canonical = true;
  parts.trust_domain = fields[0];
  parts.namespace_ = fields[2];
  parts.service_account = fields[4];
  return parts;
}

NamespaceMatcher NamespaceMatcher::compile(std::string_view value) {
  NamespaceMatcher m;
  m.value_ = std::string(value);
  m.exact_ = value.find_first_of("*/") == std::string_view::npos;
  // ".*/ns/" + value-with-".*" + "/.*": the literal pieces between wildcards must appear in
  // order; the first right after "/ns/", the last right before a "/".
  std::vector<std::string_view> literals;
  size_t start = 0;
  while (true) {
    const size_t star = value.find('*', start);
    literals.push_back(value.substr(start, star == std::string_view::npos ? star : star - start));
    if (star == std::string_view::npos) break;
    start = star + 1;
  }
  for (size_t i = 0; i < literals.size(); ++i) {
    std::string piece(literals[i]);
    if (i == 0) piece = "/ns/" + piece;
    if (i + 1 == literals.size()) piece += "/";
    if (!piece.empty()) m.pieces_.push_back(std::move(piece));
  }
  return m;
}

bool NamespaceMatcher::matches(std::string_view principal) const {
  // Leftmost placement of each literal is optimal for a chain of literals separated by ".*".
  // The expression runs over "spiffe://" + principal: the first piece ("/ns/...") may use the
  // scheme's last "/", i.e. start one character before the principal.
  size_t from = 0;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const std::string& piece = pieces_[i];
    if (i == 0 && principal.substr(0, piece.size() - 1) == std::string_view(piece).substr(1)) {
      from = piece.size() - 1;
      continue;
    }
    const size_t at = principal.find(piece, from);
    if (at == std::string_view::npos) return false;
    from = at + piece.size();
  }
  return true;
}

bool NamespaceMatcher::matches(std::string_view principal, const PrincipalParts& parts) const {
  if (!parts.canonical) return matches(principal);
  // In "spiffe://<td>/ns/<ns>/sa/<sa>" a "/ns/" can only sit before <ns> (the "ns" field), at
  // the scheme's last "/" when <td> is "ns", or before "sa" when <ns> is "ns".
  if (exact_) {
    return value_ == parts.namespace_ || (parts.trust_domain == "ns" && value_ == "ns") ||
           (parts.namespace_ == "ns" && value_ == "sa");
  }
  const std::string_view first = std::string_view(pieces_.front()).substr(1);  // "ns/<p0>..."
  const size_t td = parts.trust_domain.size();
  // Candidate starts of "ns/..." in increasing order; the leftmost that fits is optimal.
  size_t starts[3];
  size_t count = 0;
  if (parts.trust_domain == "ns") starts[count++] = 0;
  starts[count++] = td + 1;
  if (parts.namespace_ == "ns") starts[count++] = td + 4 + parts.namespace_.size();
  for (size_t k = 0; k < count; ++k) {
    if (principal.compare(starts[k], first.size(), first) != 0) continue;
    size_t from = starts[k] + first.size();
    bool ok = true;
    for (size_t i = 1; i < pieces_.size() && ok; ++i) {
      const size_t at = principal.find(pieces_[i], from);
      ok = at != std::string_view::npos;
      if (ok) from = at + pieces_[i].size();
    }
    return ok;
  }
  return false;
}

// ---------------------------------------------------------------- ServiceAccountMatcher

ServiceAccountMatcher ServiceAccountMatcher::compile(std::string_view value,
                                                     std::string_view policy_namespace) {
  ServiceAccountMatcher m;
  const size_t slash = value.find('/');
  if (slash == std::string_view::npos) {
    m.ns_ = std::string(policy_namespace);
    m.sa_ = std::string(value);
  } else {
    m.ns_ = std::string(value.substr(0, slash));
    m.sa_ = std::string(value.substr(slash + 1));
  }
  m.ns_marker_ = "/ns/" + m.ns_ + "/";
  m.sa_marker_ = "sa/" + m.sa_;
  return m;
}

bool ServiceAccountMatcher::matches(std::string_view principal) const {
  // "spiffe://" + ".+" (a non-empty trust domain) + "/ns/<ns>/" + "(.+/|)" + "sa/<sa>" + "(/.+)?"
  for (size_t i = principal.find(ns_marker_, 1); i != std::string_view::npos;
       i = principal.find(ns_marker_, i + 1)) {
    const std::string_view rest = principal.substr(i + ns_marker_.size());
    for (size_t k = rest.find(sa_marker_); k != std::string_view::npos;
         k = rest.find(sa_marker_, k + 1)) {
      const bool before_ok = k == 0 || (k >= 2 && rest[k - 1] == '/');
      const size_t end = k + sa_marker_.size();
      const bool after_ok = end == rest.size() || (rest[end] == '/' && rest.size() > end + 1);
      if (before_ok && after_ok) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- RequestPrincipalMatcher

RequestPrincipalMatcher RequestPrincipalMatcher::compile(std::string_view value) {
  RequestPrincipalMatcher m;
  m.value_ = std::string(value);
  const size_t idx = value.rfind('/');
  const bool found = idx != std::string_view::npos;
  const std::string_view iss = found ? value.substr(0, idx) : value;
  const std::string_view sub = found ? value.substr(idx + 1) : std::string_view();
  if (value == "*") {
    m.iss_kind_ = Part::kAny;
    m.sub_kind_ = Part::kAny;
  } else if (!value.empty() && value.front() == '*') {
    if (found) {
      if (iss == "*") {
        m.iss_kind_ = Part::kAny;
      } else {
        m.iss_kind_ = Part::kSuffix;
        m.iss_ = std::string(iss.substr(1));
      }
      m.sub_kind_ = Part::kExact;
      m.sub_ = std::string(sub);
    } else {
      m.iss_kind_ = Part::kAny;
      m.sub_kind_ = Part::kSuffix;
      m.sub_ = std::string(value.substr(1));
    }
  } else if (!value.empty() && value.back() == '*') {
    if (found) {
      m.iss_kind_ = Part::kExact;
      m.iss_ = std::string(iss);
      if (sub == "*") {
        m.sub_kind_ = Part::kAny;
      } else {
        m.sub_kind_ = Part::kPrefix;
        m.sub_ = std::string(sub.substr(0, sub.size() - 1));
      }
    } else {
      m.iss_kind_ = Part::kPrefix;
      m.iss_ = std::string(value.substr(0, value.size() - 1));
      m.sub_kind_ = Part::kAny;
    }
  } else {
    m.iss_kind_ = Part::kExact;
    m.iss_ = std::string(iss);
    m.sub_kind_ = Part::kExact;
    m.sub_ = std::string(sub);
  }
  return m;
}

bool RequestPrincipalMatcher::partMatches(Part kind, const std::string& text,
                                          std::string_view value, bool present) {
  if (!present) return false;
  switch (kind) {
    case Part::kAny: return !value.empty();
    case Part::kExact: return value == text;
    case Part::kPrefix: return value.substr(0, text.size()) == text;
    case Part::kSuffix:
      return value.size() >= text.size() && value.substr(value.size() - text.size()) == text;
  }
  return false;
}

bool RequestPrincipalMatcher::matches(const RequestAuth& auth) const {
  return partMatches(iss_kind_, iss_, auth.issuer, true) &&
         partMatches(sub_kind_, sub_, auth.subject, auth.has_subject);
}

}  // namespace meshsim::policy
