#pragma once
/// Workload identity (istio-semantics.md section 1 and 4.4/4.5): SPIFFE URIs and principals,
/// trust-domain aliasing, and the identity matchers of AuthorizationPolicy (principals,
/// namespaces, serviceAccounts, trustDomains, requestPrincipals). Matchers are compiled once and
/// never allocate while matching.

#include <string>
#include <string_view>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/model/mesh.h"
#include "meshsim/policy/match.h"
#include "meshsim/policy/request.h"

namespace meshsim::policy {

/// "spiffe://"
inline constexpr std::string_view kSpiffePrefix = "spiffe://";
/// The trust domain that policies use to mean "the local trust domain and its aliases".
inline constexpr std::string_view kClusterLocalTrustDomain = "cluster.local";

/// Parses an Istio SPIFFE URI "spiffe://<td>/ns/<ns>/sa/<sa>" (exactly these five path parts,
/// none empty). InvalidArgument otherwise. The principal is the URI without "spiffe://".
Result<PeerIdentity> parseSpiffeUri(std::string_view uri);

/// Parses a principal "<td>/ns/<ns>/sa/<sa>" (a SPIFFE URI without the scheme).
Result<PeerIdentity> parsePrincipal(std::string_view principal);

/// "<td>/ns/<ns>/sa/<sa>": the principal of a workload running as `service_account`.
std::string principalFor(std::string_view trust_domain, std::string_view ns,
                         std::string_view service_account);

/// "spiffe://<td>/ns/<ns>/sa/<sa>": the URI SAN of the workload's certificate.
std::string spiffeUriFor(std::string_view trust_domain, std::string_view ns,
                         std::string_view service_account);

/// The full identity of a workload running as `service_account` in `ns`.
PeerIdentity peerIdentityFor(std::string_view trust_domain, std::string_view ns,
                             std::string_view service_account);

/// The identity in the certificate of `workload` (its namespace and service account) under
/// `trust_domain`.
PeerIdentity workloadIdentity(const model::Workload& workload, std::string_view trust_domain);

/// The local trust domain followed by its aliases (Organization.trustDomainAliases), as Istio's
/// trust-domain bundle. Immutable; thread-safe.
class TrustDomainBundle {
 public:
  /// The default bundle: just "cluster.local".
  TrustDomainBundle();
  /// `trust_domain` first, then `aliases` (duplicates dropped).
  TrustDomainBundle(std::string trust_domain, std::vector<std::string> aliases);

  /// Local trust domain first, then the aliases.
  const std::vector<std::string>& domains() const { return domains_; }
  const std::string& local() const { return domains_.front(); }
  /// True when `td` is the local trust domain or an alias.
  bool contains(std::string_view td) const;

  /// Rewrites a policy principal the way Istio does at config time: a principal of five
  /// "/"-separated parts whose trust domain is "cluster.local", the local trust domain or an alias
  /// becomes one principal per trust domain of the bundle (duplicates dropped). Anything else
  /// ("*", "*/ns/..", other trust domains, principals of another shape) is kept as written.
  std::vector<std::string> expandPrincipal(std::string_view policy_principal) const;

  /// For `trustDomains` values: a value that is the local trust domain or an alias stands for the
  /// whole bundle; anything else is kept.
  std::vector<std::string> expandTrustDomain(std::string_view value) const;

 private:
  std::vector<std::string> domains_;
};

/// True when the policy principal `pattern` (exact, "abc*", "*abc" or "*") matches the peer
/// principal `principal` after trust-domain aliasing with `bundle`. One-shot helper (allocates);
/// the compiled path is StringMatchList over expandPrincipal().
bool principalMatches(std::string_view pattern, std::string_view principal,
                      const TrustDomainBundle& bundle);

/// A principal split into its parts when it has the canonical shape "<td>/ns/<ns>/sa/<sa>"
/// (views into the principal; `canonical` false otherwise).
struct PrincipalParts {
  bool canonical = false;
  std::string_view trust_domain;
  std::string_view namespace_;
  std::string_view service_account;
};

/// Splits `principal` without allocating.
PrincipalParts splitPrincipal(std::string_view principal);

/// One `namespaces` / `source.namespace` value. Istio matches it against the peer principal with
/// the regular expression ".*/ns/<value>/.*" in which every "*" of the value became ".*"; this
/// matcher reproduces that expression without regular expressions and without allocation.
class NamespaceMatcher {
 public:
  /// Compiles one value ("foo", "foo*", "*-prod", "*").
  static NamespaceMatcher compile(std::string_view value);
  /// True when the principal ("<td>/ns/<ns>/sa/<sa>") is in a matching namespace.
  bool matches(std::string_view principal) const;
  /// Same as matches(principal), faster when `parts` = splitPrincipal(principal) is canonical.
  bool matches(std::string_view principal, const PrincipalParts& parts) const;
  const std::string& value() const { return value_; }
  /// True for a value without "*" and "/": it then names exactly one namespace.
  bool exact() const { return exact_; }

 private:
  std::string value_;
  bool exact_ = false;
  std::vector<std::string> pieces_;  ///< "/ns/<p0>", <p1>, ..., "<pn>/": in order, gaps between
};

/// One `serviceAccounts` / `source.serviceAccount` value: "<ns>/<sa>", or a bare "<sa>" meaning
/// the policy's namespace. No wildcards. Matches the principal as Istio's expression
/// "spiffe://.+/ns/<ns>/(.+/|)sa/<sa>(/.+)?" does.
class ServiceAccountMatcher {
 public:
  /// Compiles `value`; `policy_namespace` completes a bare service-account name.
  static ServiceAccountMatcher compile(std::string_view value, std::string_view policy_namespace);
  bool matches(std::string_view principal) const;
  const std::string& ns() const { return ns_; }
  const std::string& serviceAccount() const { return sa_; }

 private:
  std::string ns_marker_;  ///< "/ns/<ns>/"
  std::string sa_marker_;  ///< "sa/<sa>"
  std::string ns_;
  std::string sa_;
};

/// One `requestPrincipals` / `request.auth.principal` value "<iss>/<sub>", split at the LAST "/"
/// (the issuer may be a URL); "iss" and "sub" are compared separately as Istio does: "*" means
/// both present and non-empty; "*x" and "x*" wildcards apply to the part that carries them.
class RequestPrincipalMatcher {
 public:
  static RequestPrincipalMatcher compile(std::string_view value);
  /// True when the validated token's `iss`/`sub` claims match. Every form constrains both parts
  /// (an unconstrained part still needs a non-empty claim), so a token without `sub` matches no
  /// value at all.
  bool matches(const RequestAuth& auth) const;
  const std::string& value() const { return value_; }
  /// True when the issuer part is compared exactly (then `issuer()` must equal `iss`).
  bool issuerExact() const { return iss_kind_ == Part::kExact; }
  const std::string& issuer() const { return iss_; }

 private:
  enum class Part : uint8_t { kAny, kExact, kPrefix, kSuffix };
  static bool partMatches(Part kind, const std::string& text, std::string_view value, bool present);
  std::string value_;
  Part iss_kind_ = Part::kExact;
  Part sub_kind_ = Part::kExact;
  std::string iss_;
  std::string sub_;
};

}  // namespace meshsim::policy
