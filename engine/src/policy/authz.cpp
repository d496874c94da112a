// Evaluation of CompiledAuthz (4.2 - 4.6) and its explanation.

#include "meshsim/policy/authz.h"

#include "policy/authz_impl.h"

namespace meshsim::policy {

namespace {

using model::AuthzAction;
using Impl = CompiledAuthz::Impl;

/// Which kind of RBAC engine a rule belongs to: ALLOW rules drop whole on TCP, the others
/// only lose their HTTP-only fields.
enum class Engine : uint8_t { kAllow, kOther };

/// The request as the matchers need it; hashes and parsed addresses are computed on first use.
class RequestView {
 public:
  explicit RequestView(const RequestAttributes& r)
      : r_(r), peer_(r.peer ? &*r.peer : nullptr), auth_(r.http && r.auth ? &*r.auth : nullptr) {
    if (peer_ != nullptr) {
      principal_ = peer_->principal;
      trust_domain_ = peer_->trust_domain;
      if (trust_domain_.empty()) trust_domain_ = principal_.substr(0, principal_.find('/'));
    }
  }

  const RequestAttributes& request() const { return r_; }
  bool http() const { return r_.http; }
  bool hasPeer() const { return peer_ != nullptr; }
  std::string_view principal() const { return principal_; }
  std::string_view trustDomain() const { return trust_domain_; }
  const RequestAuth* auth() const { return auth_; }

  uint64_t principalHash() {
    if (!principal_hashed_) {
      principal_hash_ = hashString(principal_);
      principal_hashed_ = true;
    }
    return principal_hash_;
  }
  uint64_t methodHash() {
    if (!method_hashed_) {
      method_hash_ = hashString(r_.method);
      method_hashed_ = true;
    }
    return method_hash_;
  }
  uint64_t pathHash() {
    if (!path_hashed_) {
      path_hash_ = hashString(r_.path);
      path_hashed_ = true;
    }
    return path_hash_;
  }
  uint64_t hostHash() {
    if (!host_hashed_) {
      host_hash_ = hashStringLower(r_.host);
      host_hashed_ = true;
    }
    return host_hash_;
  }

  /// The principal split into its parts (computed once).
  const PrincipalParts& parts() {
    if (!parts_done_) {
      parts_ = splitPrincipal(principal_);
      parts_done_ = true;
    }
    return parts_;
  }

  /// Computes the feature words whose bit is set in `words` (see AuthzFeatureWord).
  void computeFeatures(uint32_t words, uint64_t* out) {
    for (uint8_t w = 0; w < kFeatureWordCount; ++w) {
      if ((words & (1u << w)) != 0) out[w] = computeFeature(w);
    }
  }

  const IpAddress* sourceIp() { return ip(source_, r_.source_ip); }
  const IpAddress* remoteIp() {
    return ip(remote_, r_.remote_ip.empty() ? r_.source_ip : r_.remote_ip);
  }
  const IpAddress* destinationIp() { return ip(destination_, r_.destination_ip); }

 private:
  struct LazyIp {
    bool parsed = false;
    bool valid = false;
    IpAddress value;
  };
  static const IpAddress* ip(LazyIp& slot, const std::string& text) {
    if (!slot.parsed) {
      slot.parsed = true;
      if (auto parsed = IpAddress::parse(text)) {
        slot.value = *parsed;
        slot.valid = true;
      }
    }
    return slot.valid ? &slot.value : nullptr;
  }

  uint64_t computeFeature(uint8_t word) {
    uint64_t bits = 0;
    switch (word) {
      case kFeatureFlags:
        if (r_.http) bits |= kFeatureHttpBit | featureMethodBit(methodHash());
        if (peer_ != nullptr) bits |= kFeaturePeerBit;
        if (auth_ != nullptr) bits |= kFeatureAuthBit;
        break;
      case kFeatureHeaders:
        if (r_.http) {
          for (const auto& header : r_.headers) bits |= featureHeaderBit(hashString(header.first));
        }
        break;
      case kFeaturePrincipal:
        if (peer_ != nullptr) bits = featurePrincipalBit(principalHash());
        break;
      case kFeaturePortNs:
        bits = featurePortBit(r_.destination_port);
        if (peer_ != nullptr) {
          const PrincipalParts& p = parts();
          if (!p.canonical) {
            bits |= ~0ULL << 32;  // any namespace value may match: no filtering
          } else {
            bits |= featureNamespaceBit(hashString(p.namespace_));
            if (p.trust_domain == "ns") bits |= featureNamespaceBit(hashString("ns"));
            if (p.namespace_ == "ns") bits |= featureNamespaceBit(hashString("sa"));
          }
        }
        break;
      case kFeatureNsPrefix:
        if (peer_ != nullptr) {
          const PrincipalParts& p = parts();
          if (!p.canonical) {
            bits = ~0ULL;
          } else {
            // The text after each "/ns/" of "spiffe://" + principal (see NamespaceMatcher).
            const size_t td = p.trust_domain.size();
            bits = nsPrefixBits(principal_.substr(td + 4));
            if (p.trust_domain == "ns") bits |= nsPrefixBits(principal_.substr(3));
            if (p.namespace_ == "ns") bits |= nsPrefixBits(principal_.substr(td + 7));
          }
        }
        break;
      case kFeaturePath:
        if (r_.http) {
          const std::string& path = r_.path;
          uint64_t h = kFnvBasis;
          for (size_t i = 0; i < kPathPrefixLength && i < path.size(); ++i) {
            h = fnvStep(h, path[i]);
            if (pathAffixLengthUsed(i + 1)) bits |= featurePathPrefixBit(h);
          }
          h = kFnvBasis;
          for (size_t i = 0; i < kPathSuffixLength && i < path.size(); ++i) {
            h = fnvStep(h, path[path.size() - 1 - i]);
            if (pathAffixLengthUsed(i + 1)) bits |= featurePathSuffixBit(h);
          }
        }
        break;
      case kFeatureIssuer:
        if (auth_ != nullptr) bits = featureIssuerBit(hashString(auth_->issuer));
        break;
      case kFeatureSourceIp: bits = ipBits(sourceIp()); break;
      case kFeatureRemoteIp: bits = ipBits(remoteIp()); break;
      case kFeatureDestinationIp: bits = ipBits(destinationIp()); break;
      default: break;
    }
    return bits;
  }

  static uint64_t ipBits(const IpAddress* ip) {
    return ip == nullptr ? 0 : featureIpBit(ip->v6, ip->bytes[0]);
  }

  static uint64_t nsPrefixBits(std::string_view rest) {
    uint64_t bits = 0;
    uint64_t h = kFnvBasis;
    for (size_t i = 0; i < kNsPrefixLength && i < rest.size(); ++i) {
      h = fnvStep(h, rest[i]);
      bits |= featureNsPrefixBit(h);
    }
    return bits;
  }

  const RequestAttributes& r_;
  const PeerIdentity* peer_;
  const RequestAuth* auth_;
  std::string_view principal_;
  std::string_view trust_domain_;
  uint64_t principal_hash_ = 0, method_hash_ = 0, path_hash_ = 0, host_hash_ = 0;
  bool principal_hashed_ = false, method_hashed_ = false, path_hashed_ = false,
       host_hashed_ = false;
  LazyIp source_, remote_, destination_;
  PrincipalParts parts_;
  bool parts_done_ = false;
};

/// Whether the attribute matches the check's values (before `negate`). Absent -> false.
bool attributeMatches(const Impl& I, const AuthzCheck& c, RequestView& v) {
  const RequestAttributes& r = v.request();
  switch (c.attr) {
    case AuthzAttr::kPrincipal:
      return v.hasPeer() && I.strings[c.index].matchesHashed(v.principal(), v.principalHash());
    case AuthzAttr::kTrustDomain: return v.hasPeer() && I.strings[c.index].matches(v.trustDomain());
    case AuthzAttr::kNamespace:
      if (!v.hasPeer()) return false;
      for (const auto& m : I.namespaces[c.index]) {
        if (m.matches(v.principal(), v.parts())) return true;
      }
      return false;
    case AuthzAttr::kServiceAccount:
      if (!v.hasPeer()) return false;
      for (const auto& m : I.service_accounts[c.index]) {
        if (m.matches(v.principal())) return true;
      }
      return false;
    case AuthzAttr::kRequestPrincipal:
      if (v.auth() == nullptr) return false;
      for (const auto& m : I.request_principals[c.index]) {
        if (m.matches(*v.auth())) return true;
      }
      return false;
    case AuthzAttr::kSourceIp: {
      const IpAddress* ip = v.sourceIp();
      return ip != nullptr && I.cidrs[c.index].contains(*ip);
    }
    case AuthzAttr::kRemoteIp: {
      const IpAddress* ip = v.remoteIp();
      return ip != nullptr && I.cidrs[c.index].contains(*ip);
    }
    case AuthzAttr::kDestinationIp: {
      const IpAddress* ip = v.destinationIp();
      return ip != nullptr && I.cidrs[c.index].contains(*ip);
    }
    case AuthzAttr::kDestinationPort:
      for (uint32_t p : I.ports[c.index]) {
        if (p == r.destination_port) return true;
      }
      return false;
    case AuthzAttr::kHost:
      if (!v.http()) return false;
      return c.presence || I.strings[c.index].matchesHashed(r.host, v.hostHash());
    case AuthzAttr::kMethod:
      if (!v.http()) return false;
      return c.presence || I.strings[c.index].matchesHashed(r.method, v.methodHash());
    case AuthzAttr::kPath: {
      if (!v.http()) return false;
      const AuthzPathList& list = I.paths[c.index];
      if (!list.strings.empty() && list.strings.matchesHashed(r.path, v.pathHash())) return true;
      for (const auto& t : list.templates) {
        if (t.matches(r.path)) return true;
      }
      return false;
    }
    case AuthzAttr::kHeader: {
      if (!v.http()) return false;
      const std::string* value = r.header(I.header_names[c.aux]);
      return value != nullptr && (c.presence || I.strings[c.index].matches(*value));
    }
    case AuthzAttr::kClaim: {
      if (v.auth() == nullptr) return false;
      const std::vector<std::string>* values = v.auth()->claim(I.claim_paths[c.aux]);
      if (values == nullptr) return false;
      for (const auto& value : *values) {
        if (I.strings[c.index].matches(value)) return true;
      }
      return false;
    }
    case AuthzAttr::kAudience:
      if (v.auth() == nullptr) return false;
      for (const auto& aud : v.auth()->audiences) {
        if (I.strings[c.index].matches(aud)) return true;
      }
      return false;
    case AuthzAttr::kPresenter:
      return v.auth() != nullptr && !v.auth()->presenter.empty() &&
             I.strings[c.index].matches(v.auth()->presenter);
    case AuthzAttr::kSni: return I.strings[c.index].matches(r.sni);
    case AuthzAttr::kEnvoyMetadata:
      // meshsim's sidecars publish no dynamic metadata from other filters.
      return false;
  }
  return false;
}

bool checkPasses(const Impl& I, const AuthzCheck& c, RequestView& v) {
  // On TCP an HTTP-only field of a DENY/AUDIT/CUSTOM rule is dropped (ALLOW rules never get
  // here with such fields).
  if (!v.http() && isHttpOnly(c.attr)) return true;
  return attributeMatches(I, c, v) != c.negate;
}

/// Index of the first failing check of the group, or -1 when it passes.
int64_t firstFailing(const Impl& I, const AuthzGroup& g, RequestView& v) {
  for (uint32_t i = g.begin; i < g.end; ++i) {
    if (!checkPasses(I, I.checks[i], v)) return i;
  }
  return -1;
}

bool groupPasses(const Impl& I, const AuthzGroup& g, RequestView& v) {
  for (uint32_t i = g.begin; i < g.end; ++i) {
    if (!checkPasses(I, I.checks[i], v)) return false;
  }
  return true;
}

bool anyGroupPasses(const Impl& I, uint32_t begin, uint32_t end, RequestView& v) {
  for (uint32_t g = begin; g < end; ++g) {
    if (groupPasses(I, I.groups[g], v)) return true;
  }
  return false;
}

bool ruleDroppedOnTcp(const AuthzCompiledRule& rule, Engine engine, const RequestView& v) {
  return engine == Engine::kAllow && !v.http() && rule.http_only;
}

bool ruleMatches(const Impl& I, const AuthzCompiledRule& rule, Engine engine, RequestView& v) {
  if (ruleDroppedOnTcp(rule, engine, v)) return false;
  if (rule.has_to && !anyGroupPasses(I, rule.to_begin, rule.to_end, v)) return false;
  if (rule.has_from && !anyGroupPasses(I, rule.from_begin, rule.from_end, v)) return false;
  return groupPasses(I, rule.when, v);
}

/// The first rule of `list` (sorted by id) that matches, or nullptr. `features` holds the words
/// of Impl::used_feature_words; a rule whose prefilter fails cannot match and is skipped.
const AuthzCompiledRule* firstMatch(const Impl& I, const std::vector<AuthzRuleSlot>& list,
                                    Engine engine, RequestView& v, const uint64_t* features) {
  const bool tcp = !v.http();
  for (const AuthzRuleSlot& slot : list) {
    bool possible = true;
    for (uint8_t i = 0; i < slot.prefilter_count && possible; ++i) {
      const AuthzPrefilter& f = slot.prefilters[i];
      possible = (features[f.word] & f.mask) != 0 || (tcp && f.http_only);
    }
    if (possible && ruleMatches(I, I.rules[slot.rule], engine, v)) return &I.rules[slot.rule];
  }
  return nullptr;
}

AuthzRuleRef refOf(const Impl& I, const AuthzCompiledRule* rule) {
  if (rule == nullptr) return {};
  return AuthzRuleRef{I.policies[rule->policy].key, rule->index};
}

void deny(AuthzDecision& d, const RequestView& v, AuthzBasis basis, AuthzAction action, int status,
          std::string_view body, std::string_view detail) {
  d.allowed = false;
  d.basis = basis;
  d.action = action;
  d.detail = detail;
  if (v.http()) {
    d.status = status;
    d.body = body;
  } else {
    d.status = kStatusReset;
    d.body = {};
  }
}

// ---------------------------------------------------------------- explanation helpers

std::string attributeText(const Impl& I, const AuthzCheck& c, const RequestView& v) {
  const RequestAttributes& r = v.request();
  auto quoted = [](std::string_view s) { return "\"" + std::string(s) + "\""; };
  switch (c.attr) {
    case AuthzAttr::kPrincipal:
    case AuthzAttr::kNamespace:
    case AuthzAttr::kServiceAccount:
      return v.hasPeer() ? "peer " + quoted(v.principal())
                         : std::string("no peer identity (plaintext connection)");
    case AuthzAttr::kTrustDomain:
      return v.hasPeer() ? "trust domain " + quoted(v.trustDomain())
                         : std::string("no peer identity (plaintext connection)");
    case AuthzAttr::kRequestPrincipal:
      if (v.auth() == nullptr) return "no validated JWT";
      return "request principal " +
             quoted(v.auth()->issuer + "/" + (v.auth()->has_subject ? v.auth()->subject : ""));
    case AuthzAttr::kSourceIp: return "source.ip " + quoted(r.source_ip);
    case AuthzAttr::kRemoteIp:
      return "remote.ip " + quoted(r.remote_ip.empty() ? r.source_ip : r.remote_ip);
    case AuthzAttr::kDestinationIp: return "destination.ip " + quoted(r.destination_ip);
    case AuthzAttr::kDestinationPort: return "port " + std::to_string(r.destination_port);
    case AuthzAttr::kHost: return "host " + quoted(r.host);
    case AuthzAttr::kMethod: return "method " + quoted(r.method);
    case AuthzAttr::kPath: return "path " + quoted(r.path);
    case AuthzAttr::kHeader: {
      const std::string* value = r.header(I.header_names[c.aux]);
      return "header " + I.header_names[c.aux] + (value ? " = " + quoted(*value) : " absent");
    }
    case AuthzAttr::kClaim: {
      std::string path;
      for (const auto& p : I.claim_paths[c.aux]) path += "[" + p + "]";
      if (v.auth() == nullptr) return "no validated JWT";
      const auto* values = v.auth()->claim(I.claim_paths[c.aux]);
      if (values == nullptr) return "claim " + path + " absent";
      std::string joined;
      for (const auto& x : *values) joined += (joined.empty() ? "" : ", ") + quoted(x);
      return "claim " + path + " = [" + joined + "]";
    }
    case AuthzAttr::kAudience: {
      if (v.auth() == nullptr) return "no validated JWT";
      std::string joined;
      for (const auto& x : v.auth()->audiences) joined += (joined.empty() ? "" : ", ") + quoted(x);
      return "audiences [" + joined + "]";
    }
    case AuthzAttr::kPresenter:
      return v.auth() == nullptr ? std::string("no validated JWT")
                                 : "presenter " + quoted(v.auth()->presenter);
    case AuthzAttr::kSni: return "SNI " + quoted(r.sni);
    case AuthzAttr::kEnvoyMetadata: return "no Envoy filter metadata";
  }
  return {};
}

std::string failureText(const Impl& I, uint32_t check_index, RequestView& v) {
  const AuthzCheck& c = I.checks[check_index];
  return I.labels[c.label] + " did not match (" + attributeText(I, c, v) + ")";
}

/// Why `rule` did not match, in one phrase.
std::string whyNotMatched(const Impl& I, const AuthzCompiledRule& rule, Engine engine,
                          RequestView& v) {
  if (ruleDroppedOnTcp(rule, engine, v)) {
    return "dropped on this TCP port: an ALLOW rule using HTTP-only attributes is ignored whole";
  }
  auto explainAlternatives = [&](uint32_t begin, uint32_t end, const char* what) -> std::string {
    if (end - begin == 1) {
      return failureText(I, static_cast<uint32_t>(firstFailing(I, I.groups[begin], v)), v);
    }
    std::string out =
        std::string("none of ") + std::to_string(end - begin) + " " + what + " matched";
    const int64_t f = firstFailing(I, I.groups[begin], v);
    if (f >= 0) out += "; first: " + failureText(I, static_cast<uint32_t>(f), v);
    return out;
  };
  if (rule.has_to && !anyGroupPasses(I, rule.to_begin, rule.to_end, v)) {
    return explainAlternatives(rule.to_begin, rule.to_end, "operations");
  }
  if (rule.has_from && !anyGroupPasses(I, rule.from_begin, rule.from_end, v)) {
    return explainAlternatives(rule.from_begin, rule.from_end, "sources");
  }
  const int64_t f = firstFailing(I, rule.when, v);
  if (f >= 0) return failureText(I, static_cast<uint32_t>(f), v);
  return "matched";
}

std::string policyRole(const AuthzCompiledPolicy& p) {
  std::string role = model::authzActionName(p.action);
  if (p.dry_run) role += " (dry-run)";
  return role;
}

std::string reasonFor(const AuthzDecision& d, const RequestAttributes& request,
                      const std::string& allow_policies) {
  const std::string outcome = d.allowed
                                  ? std::string("allowed")
                                  : (request.http ? "denied (" + std::to_string(d.status) + ")"
                                                  : std::string("denied (TCP connection closed)"));
  const std::string rule = d.decided_by.found() ? std::string(d.decided_by.policy) + " rule " +
                                                      std::to_string(d.decided_by.rule)
                                                : std::string();
  switch (d.basis) {
    case AuthzBasis::kNoAllowPolicy:
      return outcome + ": no DENY rule matched and no ALLOW policy applies to the workload";
    case AuthzBasis::kAllowMatched: return outcome + " by ALLOW policy " + rule;
    case AuthzBasis::kDenyMatched: return outcome + " by DENY policy " + rule;
    case AuthzBasis::kCustomDenied:
      return outcome + " by the CUSTOM provider (policy " + rule + " sent the request to it)";
    case AuthzBasis::kCustomMisconfigured:
      return outcome + " by CUSTOM policy " + rule +
             ": its provider is unusable, so Istio turned its rules into deny rules";
    case AuthzBasis::kNoAllowMatched: {
      std::string out = outcome + ": ALLOW policies apply to the workload" +
                        (allow_policies.empty() ? std::string() : " (" + allow_policies + ")") +
                        " and none of their rules matched";
      if (!request.peer) {
        out +=
            "; the connection is plaintext, so principals, namespaces and service accounts "
            "cannot match";
      }
      return out;
    }
  }
  return outcome;
}

}  // namespace

const char* authzBasisName(AuthzBasis basis) {
  switch (basis) {
    case AuthzBasis::kNoAllowPolicy: return "no ALLOW policy";
    case AuthzBasis::kAllowMatched: return "ALLOW matched";
    case AuthzBasis::kDenyMatched: return "DENY matched";
    case AuthzBasis::kCustomDenied: return "CUSTOM denied";
    case AuthzBasis::kCustomMisconfigured: return "CUSTOM misconfigured";
    case AuthzBasis::kNoAllowMatched: return "no ALLOW matched";
  }
  return "no ALLOW policy";
}

AuthzDecision evaluateAuthz(const CompiledAuthz& authz, const RequestAttributes& request) {
  const Impl& I = authz.impl();
  RequestView v(request);
  AuthzDecision d;
  uint64_t features[kFeatureWordCount] = {};
  v.computeFeatures(I.used_feature_words, features);

  // Neither AUDIT nor dry-run policies decide; they are reported whatever the outcome.
  if (!I.audit.empty()) d.audit = refOf(I, firstMatch(I, I.audit, Engine::kOther, v, features));
  d.shadow.has_deny = I.has_shadow_deny_policy;
  d.shadow.has_allow = I.has_shadow_allow_policy;
  if (!I.shadow_deny.empty()) {
    d.shadow.deny = refOf(I, firstMatch(I, I.shadow_deny, Engine::kOther, v, features));
  }
  if (!I.shadow_allow.empty()) {
    d.shadow.allow = refOf(I, firstMatch(I, I.shadow_allow, Engine::kAllow, v, features));
  }

  // 1. CUSTOM: a matching rule sends the request to the provider, whose denial is final.
  if (!I.custom.empty()) {
    if (const AuthzCompiledRule* rule = firstMatch(I, I.custom, Engine::kOther, v, features)) {
      d.custom = refOf(I, rule);
      if (I.custom_provider == nullptr) {
        d.decided_by = d.custom;
        deny(d, v, AuthzBasis::kCustomMisconfigured, AuthzAction::kCustom, 403, kRbacDeniedBody,
             rule->detail);
        return d;
      }
      const CustomCheckResult result = I.custom_provider->check(request);
      if (!result.allow) {
        d.decided_by = d.custom;
        deny(d, v, AuthzBasis::kCustomDenied, AuthzAction::kCustom, result.status, result.body,
             kExtAuthzDeniedDetail);
        return d;
      }
    }
  }
  // 2. DENY.
  if (const AuthzCompiledRule* rule = firstMatch(I, I.deny, Engine::kOther, v, features)) {
    d.decided_by = refOf(I, rule);
    deny(d, v, AuthzBasis::kDenyMatched, AuthzAction::kDeny, 403, kRbacDeniedBody, rule->detail);
    return d;
  }
  // 3. No ALLOW policy: allowed.
  if (!I.has_allow_policy) {
    d.basis = AuthzBasis::kNoAllowPolicy;
    return d;
  }
  // 4. Any ALLOW rule.
  if (const AuthzCompiledRule* rule = firstMatch(I, I.allow, Engine::kAllow, v, features)) {
    d.decided_by = refOf(I, rule);
    d.basis = AuthzBasis::kAllowMatched;
    d.action = AuthzAction::kAllow;
    return d;
  }
  // 5. Otherwise denied.
  deny(d, v, AuthzBasis::kNoAllowMatched, AuthzAction::kAllow, 403, kRbacDeniedBody,
       kRbacNoneDetail);
  return d;
}

Decision toDecision(const AuthzDecision& d, const RequestAttributes& request) {
  Decision out;
  out.status = d.status;
  out.body = std::string(d.body);
  out.stage = d.allowed ? Stage::kNone : Stage::kAuthz;
  out.policy = std::string(d.decided_by.policy);
  out.rule = d.decided_by.rule;
  out.mtls = request.peer.has_value();
  if (d.basis == AuthzBasis::kCustomDenied) out.response_flags = "UAEX";
  out.reason = reasonFor(d, request, {});
  return out;
}

Decision explainAuthz(const CompiledAuthz& authz, const RequestAttributes& request) {
  const Impl& I = authz.impl();
  const AuthzDecision d = evaluateAuthz(authz, request);
  RequestView v(request);

  std::string allow_policies;
  for (const auto& p : I.policies) {
    if (p.action == AuthzAction::kAllow && !p.dry_run) {
      allow_policies += (allow_policies.empty() ? "" : ", ") + p.key;
    }
  }
  Decision out = toDecision(d, request);
  out.reason = reasonFor(d, request, allow_policies);

  auto& trace = out.trace;
  trace.push_back(
      std::string("authz: ") + (request.http ? "HTTP request" : "TCP connection") + ", " +
      std::to_string(I.policies.size()) + " polic" + (I.policies.size() == 1 ? "y" : "ies") +
      " apply" +
      (request.peer ? ", peer " + request.peer->principal : std::string(", no peer identity")));
  if (!I.custom_problem.empty()) trace.push_back("authz: " + I.custom_problem);
  for (const auto& p : I.policies) {
    const std::string head = policyRole(p) + " " + p.key;
    const Engine engine = p.action == AuthzAction::kAllow ? Engine::kAllow : Engine::kOther;
    if (p.rule_count == 0) {
      trace.push_back(head + (p.action == AuthzAction::kAllow && !p.dry_run
                                  ? ": no rules (allow-nothing: matches nothing, but an ALLOW "
                                    "policy now applies)"
                                  : ": no rules, matches nothing"));
      continue;
    }
    for (uint32_t r = p.first_rule; r < p.first_rule + p.rule_count; ++r) {
      const AuthzCompiledRule& rule = I.rules[r];
      const bool matched = ruleMatches(I, rule, engine, v);
      std::string line = head + " rule " + std::to_string(rule.index) + ": ";
      line += matched ? "matched" : whyNotMatched(I, rule, engine, v);
      if (matched && p.action == AuthzAction::kCustom && !p.dry_run) {
        line += I.custom_provider ? " -> sent to provider \"" + I.custom_provider_name + "\""
                                  : " -> denies (provider unusable)";
      }
      if (matched && p.action == AuthzAction::kAudit && !p.dry_run) {
        line += " -> request marked for audit";
      }
      if (matched && p.dry_run) {
        switch (p.action) {
          case AuthzAction::kDeny: line += " -> would deny (dry-run, not enforced)"; break;
          case AuthzAction::kAllow: line += " -> would allow (dry-run, not enforced)"; break;
          case AuthzAction::kCustom:
            line += " -> would be sent to the provider (dry-run, not enforced)";
            break;
          case AuthzAction::kAudit: line += " -> would be marked for audit (dry-run)"; break;
        }
      }
      trace.push_back(std::move(line));
    }
  }
  if (d.shadow.has_allow && !d.shadow.allow.found()) {
    trace.push_back("dry-run: no dry-run ALLOW rule matched -> the dry-run policies would deny");
  }
  std::string verdict = "decision: " + out.reason;
  if (!d.detail.empty()) verdict += " [" + std::string(d.detail) + "]";
  trace.push_back(std::move(verdict));
  return out;
}

}  // namespace meshsim::policy
