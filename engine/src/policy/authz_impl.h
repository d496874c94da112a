#pragma once
// The compiled form of a workload's AuthorizationPolicies: flat vectors of checks, groups and
// rules, indexed by action. Private to engine/src/policy (authz_compile.cpp builds it, authz.cpp
// evaluates it).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/policy/authz.h"
#include "meshsim/policy/identity.h"
#include "meshsim/policy/match.h"
#include "meshsim/policy/path.h"

namespace meshsim::policy {

/// The attribute one check reads.
enum class AuthzAttr : uint8_t {
  kDestinationPort,
  kMethod,
  kPrincipal,
  kHost,
  kPath,
  kTrustDomain,
  kNamespace,
  kServiceAccount,
  kSni,
  kSourceIp,
  kRemoteIp,
  kDestinationIp,
  kRequestPrincipal,
  kHeader,
  kAudience,
  kPresenter,
  kClaim,
  kEnvoyMetadata,
};

/// True for attributes that only exist on HTTP requests (4.6).
inline bool isHttpOnly(AuthzAttr attr) {
  switch (attr) {
    case AuthzAttr::kMethod:
    case AuthzAttr::kHost:
    case AuthzAttr::kPath:
    case AuthzAttr::kRequestPrincipal:
    case AuthzAttr::kHeader:
    case AuthzAttr::kAudience:
    case AuthzAttr::kPresenter:
    case AuthzAttr::kClaim: return true;
    default: return false;
  }
}

/// One field of a source/operation or one condition: `values` (any matches) or, with `negate`,
/// `notValues` (none matches).
struct AuthzCheck {
  AuthzAttr attr = AuthzAttr::kPrincipal;
  bool negate = false;
  bool presence = false;  ///< "*" among values of a header-like attribute: presence suffices
  uint32_t index = 0;     ///< into the pool of `attr`
  uint32_t aux = 0;       ///< header name / claim path index
  uint32_t label = 0;     ///< into Impl::labels
};

/// checks[begin, end): all must pass.
struct AuthzGroup {
  uint32_t begin = 0;
  uint32_t end = 0;
};

/// `paths`: plain patterns and `{*}`/`{**}` templates.
struct AuthzPathList {
  StringMatchList strings;
  std::vector<PathTemplate> templates;
};

/// Feature words computed once per request (see RequestView in authz.cpp).
enum AuthzFeatureWord : uint8_t {
  kFeatureFlags = 0,          ///< http / peer / auth flags, method buckets (bits 32..63)
  kFeatureHeaders = 1,        ///< header-name buckets
  kFeaturePrincipal = 2,      ///< principal buckets
  kFeaturePortNs = 3,         ///< port buckets (bits 0..31), namespace buckets (bits 32..63)
  kFeatureNsPrefix = 4,       ///< the first 1..3 characters after each "/ns/" of the principal
  kFeatureIssuer = 5,         ///< JWT issuer buckets
  kFeaturePath = 6,           ///< path prefixes of 1/2/4/8/16 chars (bits 0..39), suffixes of
                              ///< 1/2/4 chars (bits 40..63)
  kFeatureSourceIp = 7,       ///< first byte of source.ip (IPv4 bits 0..31, IPv6 bits 32..63)
  kFeatureRemoteIp = 8,       ///< same for remote.ip
  kFeatureDestinationIp = 9,  ///< same for destination.ip
  kFeatureWordCount = 10,
};
inline constexpr uint64_t kFeatureHttpBit = 1;
inline constexpr uint64_t kFeaturePeerBit = 2;
inline constexpr uint64_t kFeatureAuthBit = 4;
inline uint64_t featureMethodBit(uint64_t hash) { return 1ULL << (32 + (hash >> 59)); }
inline uint64_t featureHeaderBit(uint64_t hash) { return 1ULL << (hash >> 58); }
inline uint64_t featurePrincipalBit(uint64_t hash) { return 1ULL << (hash >> 58); }
inline uint64_t featurePortBit(uint32_t port) { return 1ULL << (port % 32); }
inline uint64_t featureNamespaceBit(uint64_t hash) { return 1ULL << (32 + (hash >> 59)); }

/// Affix buckets: a running FNV-1a hash, so that the request side gets the buckets of all its
/// short prefixes (or suffixes) in one pass.
inline constexpr size_t kNsPrefixLength = 3;
inline constexpr size_t kPathPrefixLength = 16;
inline constexpr size_t kPathSuffixLength = 4;
/// Only prefixes/suffixes of these lengths are bucketed (fewer request bits, fewer collisions);
/// a pattern uses the longest such length its literal covers.
inline constexpr bool pathAffixLengthUsed(size_t n) {
  return n == 1 || n == 2 || n == 4 || n == 8 || n == 16;
}
inline constexpr size_t pathAffixLengthFor(size_t literal) {
  return literal >= 16 ? 16 : literal >= 8 ? 8 : literal >= 4 ? 4 : literal >= 2 ? 2 : literal;
}
inline constexpr uint64_t kFnvBasis = 0xcbf29ce484222325ULL;
inline uint64_t fnvStep(uint64_t h, char c) {
  return (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
}
inline unsigned fnvBucket(uint64_t h, unsigned bits) {
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return static_cast<unsigned>(h >> (64 - bits));
}
/// Running hash of the first `n` characters of `s`.
inline uint64_t prefixAffixHash(std::string_view s, size_t n) {
  uint64_t h = kFnvBasis;
  for (size_t i = 0; i < n && i < s.size(); ++i) h = fnvStep(h, s[i]);
  return h;
}
/// Running hash of the last `n` characters of `s`, read backwards.
inline uint64_t suffixAffixHash(std::string_view s, size_t n) {
  uint64_t h = kFnvBasis;
  for (size_t i = 0; i < n && i < s.size(); ++i) h = fnvStep(h, s[s.size() - 1 - i]);
  return h;
}
/// The bucket of an address's first byte; CIDR ranges of prefix length >= 8 fix that byte.
inline uint64_t featureIpBit(bool v6, uint8_t first_byte) {
  return 1ULL << ((v6 ? 32 : 0) + (first_byte & 31));
}
inline uint64_t featureNsPrefixBit(uint64_t affix_hash) { return 1ULL << fnvBucket(affix_hash, 6); }
inline uint64_t featurePathPrefixBit(uint64_t affix_hash) {
  return 1ULL << (fnvBucket(affix_hash, 32) % 40);
}
inline uint64_t featurePathSuffixBit(uint64_t affix_hash) {
  return 1ULL << (40 + fnvBucket(affix_hash, 32) % 24);
}
inline uint64_t featureIssuerBit(uint64_t hash) { return 1ULL << (hash >> 58); }

/// A necessary condition of a rule: some bit of `mask` is set in feature word `word`. Derived
/// from positive checks every match must pass; lets evaluation skip most rules with one AND.
struct AuthzPrefilter {
  uint64_t mask = 0;
  uint8_t word = 0;
  bool http_only = false;  ///< derived from an HTTP-only check: ignored for TCP requests
};
inline constexpr size_t kMaxPrefilters = 4;

struct AuthzCompiledRule {
  std::array<AuthzPrefilter, kMaxPrefilters> prefilters{};
  uint8_t prefilter_count = 0;
  uint32_t policy = 0;
  int32_t index = 0;  ///< in spec.rules
  bool has_from = false;
  bool has_to = false;
  bool http_only = false;                 ///< some check reads an HTTP-only attribute
  uint32_t from_begin = 0, from_end = 0;  ///< into groups
  uint32_t to_begin = 0, to_end = 0;
  AuthzGroup when;
  std::string id;      ///< "ns[NS]-policy[NAME]-rule[I]" (Envoy's policy name)
  std::string detail;  ///< "rbac_access_denied_matched_policy[<id>]"
};

/// A rule in an action list: its index and a copy of its prefilters, packed for the scan.
struct AuthzRuleSlot {
  uint32_t rule = 0;
  uint8_t prefilter_count = 0;
  std::array<AuthzPrefilter, kMaxPrefilters> prefilters{};
};

struct AuthzCompiledPolicy {
  std::string key;  ///< "ns/name"
  model::AuthzAction action = model::AuthzAction::kAllow;
  bool dry_run = false;
  std::string provider;
  size_t rule_count = 0;
  uint32_t first_rule = 0;  ///< rules[first_rule, first_rule + rule_count)
};

struct CompiledAuthz::Impl {
  std::vector<AuthzCompiledPolicy> policies;
  std::vector<AuthzCompiledRule> rules;
  std::vector<AuthzGroup> groups;
  std::vector<AuthzCheck> checks;
  std::vector<std::string> labels;

  // Pools, indexed by AuthzCheck::index according to its attribute.
  std::vector<StringMatchList> strings;  ///< principal, host, method, trust domain, sni, header,
                                         ///< audience, presenter, claim
  std::vector<std::vector<NamespaceMatcher>> namespaces;
  std::vector<std::vector<ServiceAccountMatcher>> service_accounts;
  std::vector<std::vector<RequestPrincipalMatcher>> request_principals;
  std::vector<CidrList> cidrs;
  std::vector<std::vector<uint32_t>> ports;
  std::vector<AuthzPathList> paths;
  std::vector<std::string> header_names;              ///< lower-case
  std::vector<std::vector<std::string>> claim_paths;  ///< request.auth.claims[a][b] -> {a, b}

  // Rules per role, each sorted by rule id (Envoy keeps RBAC policies in a sorted map, so the
  // reported policy is the first matching one in that order), with their prefilters inline.
  std::vector<AuthzRuleSlot> custom, deny, allow, audit, shadow_deny, shadow_allow;
  uint32_t used_feature_words = 0;  ///< bit w set: some prefilter reads feature word w
  bool has_allow_policy = false;
  bool has_shadow_allow_policy = false;
  bool has_shadow_deny_policy = false;

  std::shared_ptr<const CustomAuthzProvider> custom_provider;  ///< null: CUSTOM rules deny
  std::string custom_provider_name;
  std::string custom_problem;  ///< why CUSTOM rules deny (no/unknown/several providers)
  std::vector<std::string> warnings;
};

}  // namespace meshsim::policy
