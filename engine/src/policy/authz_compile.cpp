// Compilation of AuthorizationPolicies into CompiledAuthz::Impl, policy selection (4.1), and
// the CUSTOM provider helpers.

#include <algorithm>
#include <span>
#include <set>

#include "meshsim/policy/authz.h"
#include "policy/authz_impl.h"

namespace meshsim::policy {

namespace {

using model::AuthorizationPolicy;
using model::AuthzAction;

constexpr std::string_view kHeaderKeyPrefix = "request.headers";
constexpr std::string_view kClaimKeyPrefix = "request.auth.claims";
constexpr std::string_view kEnvoyFilterKeyPrefix = "experimental.envoy.filters.";

/// Cheap checks first: a rule usually fails on its most selective, cheapest field.
int costRank(AuthzAttr attr) {
  switch (attr) {
    case AuthzAttr::kDestinationPort: return 0;
    case AuthzAttr::kMethod: return 1;
    case AuthzAttr::kPrincipal: return 2;
    case AuthzAttr::kHost: return 3;
    case AuthzAttr::kPath: return 4;
    case AuthzAttr::kTrustDomain: return 5;
    case AuthzAttr::kNamespace: return 6;
    case AuthzAttr::kServiceAccount: return 7;
    case AuthzAttr::kSni: return 8;
    case AuthzAttr::kSourceIp:
    case AuthzAttr::kRemoteIp:
    case AuthzAttr::kDestinationIp: return 9;
    case AuthzAttr::kRequestPrincipal: return 10;
    case AuthzAttr::kHeader: return 11;
    case AuthzAttr::kAudience:
    case AuthzAttr::kPresenter: return 12;
    case AuthzAttr::kClaim: return 13;
    case AuthzAttr::kEnvoyMetadata: return 14;
  }
  return 15;
}

std::string lowerAsciiCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// "[name]" -> name; the text between must not be empty.
Result<std::string> nameInBrackets(std::string_view s) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') {
    return invalidArgument("expected \"[<name>]\" after the attribute, got \"" + std::string(s) +
                           "\"");
  }
  const std::string_view name = s.substr(1, s.size() - 2);
  if (name.find_first_of("[]") != std::string_view::npos) {
    return invalidArgument("\"" + std::string(s) + "\" is not a single \"[<name>]\"");
  }
  return std::string(name);
}

/// "[a][b]" -> {a, b}.
Result<std::vector<std::string>> namesInNestedBrackets(std::string_view s) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') {
    return invalidArgument("expected \"[<claim>]\" or \"[<claim>][<nested>]\", got \"" +
                           std::string(s) + "\"");
  }
  std::vector<std::string> names;
  std::string_view inner = s.substr(1, s.size() - 2);
  while (true) {
    const size_t sep = inner.find("][");
    const std::string_view name = inner.substr(0, sep);
    if (name.empty() || name.find_first_of("[]") != std::string_view::npos) {
      return invalidArgument("malformed claim path \"" + std::string(s) + "\"");
    }
    names.emplace_back(name);
    if (sep == std::string_view::npos) break;
    inner.remove_prefix(sep + 2);
  }
  return names;
}

Result<uint32_t> parsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return invalidArgument("\"" + std::string(s) + "\" is not a port");
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return invalidArgument("\"" + std::string(s) + "\" is not a port");
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return invalidArgument("port " + std::string(s) + " is out of range 0..65535");
  return v;
}

std::string ruleId(const std::string& ns, const std::string& name, size_t index) {
  return "ns[" + ns + "]-policy[" + name + "]-rule[" + std::to_string(index) + "]";
}

/// When every principal pattern of `list` pins the namespace ("<td>/ns/<ns>/sa/<sa>" exactly,
/// or a prefix that contains "<td>/ns/<ns>/"), sets `mask` to those namespaces' feature bits.
bool principalNamespaces(const StringMatchList& list, uint64_t& mask) {
  if (list.patterns().empty()) return false;
  for (const auto& pattern : list.patterns()) {
    const StringPattern p = StringPattern::parse(pattern);
    std::string_view text = p.text();
    if (p.kind() == StringMatchKind::kExact) {
      const PrincipalParts parts = splitPrincipal(text);
      if (!parts.canonical) return false;
      mask |= featureNamespaceBit(hashString(parts.namespace_));
      continue;
    }
    if (p.kind() != StringMatchKind::kPrefix) return false;
    const size_t td_end = text.find('/');
    if (td_end == std::string_view::npos || text.substr(td_end, 4) != "/ns/") return false;
    const size_t ns_begin = td_end + 4;
    const size_t ns_end = text.find('/', ns_begin);
    if (ns_end == std::string_view::npos || ns_end == ns_begin) return false;
    mask |= featureNamespaceBit(hashString(text.substr(ns_begin, ns_end - ns_begin)));
  }
  return true;
}

/// When every `paths` pattern has literal text at its start or end, sets `mask` to the path
/// prefix/suffix feature bits a matching path must have.
bool pathAffixes(const AuthzPathList& list, uint64_t& mask) {
  for (const auto& pattern : list.strings.patterns()) {
    const StringPattern p = StringPattern::parse(pattern);
    const std::string& text = p.text();
    switch (p.kind()) {
      case StringMatchKind::kExact:
      case StringMatchKind::kPrefix:
        if (text.empty()) return false;
        mask |= featurePathPrefixBit(prefixAffixHash(text, pathAffixLengthFor(text.size())));
        break;
      case StringMatchKind::kSuffix:
        if (text.empty()) return false;
        mask |= featurePathSuffixBit(
            suffixAffixHash(text, pathAffixLengthFor(std::min(text.size(), kPathSuffixLength))));
        break;
      case StringMatchKind::kPresent: return false;
    }
  }
  for (const auto& t : list.templates) {
    const std::string_view head = t.literalPrefix();
    if (head.empty()) return false;
    mask |= featurePathPrefixBit(prefixAffixHash(head, pathAffixLengthFor(head.size())));
  }
  return mask != 0;
}

/// Derives the prefilters of `rule` (see AuthzPrefilter) from the positive checks of the groups
/// every match must pass: the only `to` group, the only `from` group, and `when`.
void derivePrefilters(const CompiledAuthz::Impl& I, AuthzCompiledRule& rule) {
  std::vector<AuthzGroup> mandatory;
  if (rule.has_to && rule.to_end - rule.to_begin == 1) mandatory.push_back(I.groups[rule.to_begin]);
  if (rule.has_from && rule.from_end - rule.from_begin == 1) {
    mandatory.push_back(I.groups[rule.from_begin]);
  }
  if (!rule.has_from) mandatory.push_back(rule.when);
  struct Candidate {
    int priority;
    AuthzPrefilter filter;
  };
  std::vector<Candidate> candidates;
  for (const AuthzGroup& g : mandatory) {
    for (uint32_t i = g.begin; i < g.end; ++i) {
      const AuthzCheck& c = I.checks[i];
      if (c.negate) continue;
      Candidate cand{0, AuthzPrefilter{0, kFeatureFlags, isHttpOnly(c.attr)}};
      switch (c.attr) {
        case AuthzAttr::kPrincipal: {
          const StringMatchList& list = I.strings[c.index];
          uint64_t ns_mask = 0;
          if (list.exactOnly() && !list.exactValues().empty()) {
            cand.priority = 0;
            cand.filter.word = kFeaturePrincipal;
            for (const auto& v : list.exactValues()) {
              cand.filter.mask |= featurePrincipalBit(hashString(v));
            }
          } else if (principalNamespaces(list, ns_mask)) {
            cand.priority = 1;
            cand.filter.word = kFeaturePortNs;
            cand.filter.mask = ns_mask;
          } else {
            cand.priority = 7;
            cand.filter.mask = kFeaturePeerBit;
          }
          break;
        }
        case AuthzAttr::kNamespace: {
          bool all_exact = true;
          bool all_lead = true;  // every value starts with literal text (and has no "/")
          uint64_t exact_mask = 0;
          uint64_t lead_mask = 0;
          for (const auto& m : I.namespaces[c.index]) {
            const std::string& v = m.value();
            all_exact = all_exact && m.exact();
            exact_mask |= featureNamespaceBit(hashString(v));
            const size_t literal = std::min(v.find('*'), v.size());
            const bool lead = literal > 0 && v.find('/') == std::string::npos;
            all_lead = all_lead && lead;
            if (lead) {
              lead_mask |=
                  featureNsPrefixBit(prefixAffixHash(v, std::min(literal, kNsPrefixLength)));
            }
          }
          if (all_exact) {
            cand.priority = 1;
            cand.filter.word = kFeaturePortNs;
            cand.filter.mask = exact_mask;
          } else if (all_lead) {
            cand.priority = 2;
            cand.filter.word = kFeatureNsPrefix;
            cand.filter.mask = lead_mask;
          } else {
            cand.priority = 7;
            cand.filter.mask = kFeaturePeerBit;
          }
          break;
        }
        case AuthzAttr::kPath: {
          uint64_t mask = 0;
          if (!pathAffixes(I.paths[c.index], mask)) continue;
          cand.priority = 3;
          cand.filter.word = kFeaturePath;
          cand.filter.mask = mask;
          break;
        }
        case AuthzAttr::kServiceAccount:
        case AuthzAttr::kTrustDomain:
          cand.priority = 7;
          cand.filter.mask = kFeaturePeerBit;
          break;
        case AuthzAttr::kHeader:
          cand.priority = 3;
          cand.filter.word = kFeatureHeaders;
          cand.filter.mask = featureHeaderBit(hashString(I.header_names[c.aux]));
          break;
        case AuthzAttr::kDestinationPort:
          cand.priority = 4;
          cand.filter.word = kFeaturePortNs;
          for (uint32_t port : I.ports[c.index]) cand.filter.mask |= featurePortBit(port);
          break;
        case AuthzAttr::kMethod: {
          const StringMatchList& list = I.strings[c.index];
          if (c.presence || !list.exactOnly() || list.exactValues().empty()) continue;
          cand.priority = 5;
          for (const auto& v : list.exactValues())
            cand.filter.mask |= featureMethodBit(hashString(v));
          break;
        }
        case AuthzAttr::kSourceIp:
        case AuthzAttr::kRemoteIp:
        case AuthzAttr::kDestinationIp: {
          uint64_t mask = 0;
          bool all_fixed = true;
          for (const auto& range : I.cidrs[c.index].ranges()) {
            all_fixed = all_fixed && range.prefixLength() >= 8;
            mask |= featureIpBit(range.v6(), range.firstByte());
          }
          if (!all_fixed || mask == 0) continue;
          cand.priority = 4;
          cand.filter.word = c.attr == AuthzAttr::kSourceIp   ? kFeatureSourceIp
                             : c.attr == AuthzAttr::kRemoteIp ? kFeatureRemoteIp
                                                              : kFeatureDestinationIp;
          cand.filter.mask = mask;
          break;
        }
        case AuthzAttr::kRequestPrincipal: {
          bool all_exact = true;
          uint64_t mask = 0;
          for (const auto& m : I.request_principals[c.index]) {
            all_exact = all_exact && m.issuerExact();
            mask |= featureIssuerBit(hashString(m.issuer()));
          }
          if (all_exact) {
            cand.priority = 2;
            cand.filter.word = kFeatureIssuer;
            cand.filter.mask = mask;
          } else {
            cand.priority = 6;
            cand.filter.mask = kFeatureAuthBit;
          }
          break;
        }
        case AuthzAttr::kClaim:
        case AuthzAttr::kAudience:
        case AuthzAttr::kPresenter:
          cand.priority = 6;
          cand.filter.mask = kFeatureAuthBit;
          break;
        default: continue;
      }
      if (cand.filter.mask != 0) candidates.push_back(cand);
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.priority < b.priority; });
  rule.prefilter_count = 0;
  for (const Candidate& cand : candidates) {
    if (rule.prefilter_count == kMaxPrefilters) break;
    bool duplicate = false;
    for (uint8_t k = 0; k < rule.prefilter_count; ++k) {
      const AuthzPrefilter& f = rule.prefilters[k];
      duplicate = duplicate || (f.word == cand.filter.word && f.mask == cand.filter.mask &&
                                f.http_only == cand.filter.http_only);
    }
    if (!duplicate) rule.prefilters[rule.prefilter_count++] = cand.filter;
  }
}

class Compiler {
 public:
  explicit Compiler(const AuthzContext& context)
      : context_(context), bundle_(context.trust_domain, context.trust_domain_aliases) {}

  Status addPolicy(const AuthorizationPolicy& policy);
  Status finish();
  std::shared_ptr<CompiledAuthz::Impl> take() { return std::move(impl_); }

 private:
  /// Appends the checks of one field (values or notValues) to `out`.
  Status addField(AuthzAttr attr, const std::vector<std::string>& values, bool negate,
                  const std::string& label, uint32_t aux, std::vector<AuthzCheck>& out);
  /// One field of a source or operation: its attribute, values and whether it is a notX field.
  struct Field {
    AuthzAttr attr;
    const std::vector<std::string>* values;
    bool negate;
    const char* name;
  };
  /// addField() for every entry of `fields`; errors name `base` + the field and `where`.
  Status addFields(std::span<const Field> fields, const std::string& base,
                   const SourceLocation& where, std::vector<AuthzCheck>& out);
  Status addCondition(const model::AuthzCondition& c, const std::string& label_base,
                      std::vector<AuthzCheck>& out);
  AuthzGroup pushGroup(std::vector<AuthzCheck> checks);
  Status fail(const Status& cause, const std::string& field, const SourceLocation& where) const;

  const AuthzContext& context_;
  TrustDomainBundle bundle_;
  std::shared_ptr<CompiledAuthz::Impl> impl_ = std::make_shared<CompiledAuthz::Impl>();
  const AuthorizationPolicy* current_ = nullptr;
};

Status Compiler::addFields(std::span<const Field> fields, const std::string& base,
                           const SourceLocation& where, std::vector<AuthzCheck>& out) {
  for (const Field& f : fields) {
    Status s = addField(f.attr, *f.values, f.negate, base + f.name, 0, out);
    if (!s.ok()) return fail(s, base + f.name, where);
  }
  return okStatus();
}

Status Compiler::fail(const Status& cause, const std::string& field,
                      const SourceLocation& where) const {
  const SourceLocation& loc = where.known() ? where : current_->meta.source;
  return invalidArgument("AuthorizationPolicy " + current_->meta.namespace_ + "/" +
                             current_->meta.name + ": " + field + ": " + cause.message(),
                         loc);
}

AuthzGroup Compiler::pushGroup(std::vector<AuthzCheck> checks) {
  std::stable_sort(checks.begin(), checks.end(), [](const AuthzCheck& a, const AuthzCheck& b) {
    return costRank(a.attr) < costRank(b.attr);
  });
  AuthzGroup g;
  g.begin = static_cast<uint32_t>(impl_->checks.size());
  impl_->checks.insert(impl_->checks.end(), checks.begin(), checks.end());
  g.end = static_cast<uint32_t>(impl_->checks.size());
  return g;
}

Status Compiler::addField(AuthzAttr attr, const std::vector<std::string>& values, bool negate,
                          const std::string& label, uint32_t aux, std::vector<AuthzCheck>& out) {
  if (values.empty()) return okStatus();
  AuthzCheck check;
  check.attr = attr;
  check.negate = negate;
  check.aux = aux;
  check.label = static_cast<uint32_t>(impl_->labels.size());
  impl_->labels.push_back(label);
  const bool has_star = std::find(values.begin(), values.end(), "*") != values.end();
  auto& I = *impl_;
  switch (attr) {
    case AuthzAttr::kPrincipal: {
      std::vector<std::string> expanded;
      for (const auto& v : values) {
        for (auto& e : bundle_.expandPrincipal(v)) expanded.push_back(std::move(e));
      }
      check.index = static_cast<uint32_t>(I.strings.size());
      I.strings.push_back(StringMatchList::compile(expanded));
      break;
    }
    case AuthzAttr::kTrustDomain: {
      std::vector<std::string> expanded;
      for (const auto& v : values) {
        for (auto& e : bundle_.expandTrustDomain(v)) expanded.push_back(std::move(e));
      }
      check.index = static_cast<uint32_t>(I.strings.size());
      I.strings.push_back(StringMatchList::compile(expanded));
      break;
    }
    case AuthzAttr::kHost:
    case AuthzAttr::kMethod:
    case AuthzAttr::kHeader:
      // Istio builds header matchers (":authority", ":method", request.headers) with "*" as
      // a presence match.
      check.presence = has_star;
      check.index = static_cast<uint32_t>(I.strings.size());
      I.strings.push_back(StringMatchList::compile(values, attr == AuthzAttr::kHost));
      break;
    case AuthzAttr::kSni:
    case AuthzAttr::kAudience:
    case AuthzAttr::kPresenter:
    case AuthzAttr::kClaim:
      check.index = static_cast<uint32_t>(I.strings.size());
      I.strings.push_back(StringMatchList::compile(values));
      break;
    case AuthzAttr::kNamespace: {
      std::vector<NamespaceMatcher> list;
      for (const auto& v : values) list.push_back(NamespaceMatcher::compile(v));
      check.index = static_cast<uint32_t>(I.namespaces.size());
      I.namespaces.push_back(std::move(list));
      break;
    }
    case AuthzAttr::kServiceAccount: {
      std::vector<ServiceAccountMatcher> list;
      for (const auto& v : values) {
        list.push_back(ServiceAccountMatcher::compile(v, current_->meta.namespace_));
      }
      check.index = static_cast<uint32_t>(I.service_accounts.size());
      I.service_accounts.push_back(std::move(list));
      break;
    }
    case AuthzAttr::kRequestPrincipal: {
      std::vector<RequestPrincipalMatcher> list;
      for (const auto& v : values) list.push_back(RequestPrincipalMatcher::compile(v));
      check.index = static_cast<uint32_t>(I.request_principals.size());
      I.request_principals.push_back(std::move(list));
      break;
    }
    case AuthzAttr::kSourceIp:
    case AuthzAttr::kRemoteIp:
    case AuthzAttr::kDestinationIp: {
      auto list = CidrList::compile(values);
      if (!list.ok()) return list.status();
      check.index = static_cast<uint32_t>(I.cidrs.size());
      I.cidrs.push_back(std::move(*list));
      break;
    }
    case AuthzAttr::kDestinationPort: {
      std::vector<uint32_t> ports;
      for (const auto& v : values) {
        auto p = parsePort(v);
        if (!p.ok()) return p.status();
        ports.push_back(*p);
      }
      check.index = static_cast<uint32_t>(I.ports.size());
      I.ports.push_back(std::move(ports));
      break;
    }
    case AuthzAttr::kPath: {
      AuthzPathList list;
      std::vector<std::string> plain;
      for (const auto& v : values) {
        if (PathTemplate::isTemplate(v)) {
          auto t = PathTemplate::compile(v);
          if (!t.ok()) return t.status();
          list.templates.push_back(std::move(*t));
        } else {
          plain.push_back(v);
        }
      }
      list.strings = StringMatchList::compile(plain);
      check.index = static_cast<uint32_t>(I.paths.size());
      I.paths.push_back(std::move(list));
      break;
    }
    case AuthzAttr::kEnvoyMetadata: break;
  }
  out.push_back(check);
  return okStatus();
}

Status Compiler::addCondition(const model::AuthzCondition& c, const std::string& label_base,
                              std::vector<AuthzCheck>& out) {
  const std::string_view key = c.key;
  AuthzAttr attr;
  uint32_t aux = 0;
  if (key == "source.ip") {
    attr = AuthzAttr::kSourceIp;
  } else if (key == "remote.ip") {
    attr = AuthzAttr::kRemoteIp;
  } else if (key == "destination.ip") {
    attr = AuthzAttr::kDestinationIp;
  } else if (key == "destination.port") {
    attr = AuthzAttr::kDestinationPort;
  } else if (key == "source.namespace") {
    attr = AuthzAttr::kNamespace;
  } else if (key == "source.principal") {
    attr = AuthzAttr::kPrincipal;
  } else if (key == "source.serviceAccount") {
    attr = AuthzAttr::kServiceAccount;
  } else if (key == "source.trustDomain") {
    attr = AuthzAttr::kTrustDomain;
  } else if (key == "request.auth.principal") {
    attr = AuthzAttr::kRequestPrincipal;
  } else if (key == "request.auth.audiences") {
    attr = AuthzAttr::kAudience;
  } else if (key == "request.auth.presenter") {
    attr = AuthzAttr::kPresenter;
  } else if (key == "connection.sni") {
    attr = AuthzAttr::kSni;
  } else if (key.substr(0, kHeaderKeyPrefix.size()) == kHeaderKeyPrefix) {
    auto name = nameInBrackets(key.substr(kHeaderKeyPrefix.size()));
    if (!name.ok()) return fail(name.status(), label_base + ".key", c.source);
    attr = AuthzAttr::kHeader;
    aux = static_cast<uint32_t>(impl_->header_names.size());
    impl_->header_names.push_back(lowerAsciiCopy(*name));
  } else if (key.substr(0, kClaimKeyPrefix.size()) == kClaimKeyPrefix) {
    auto names = namesInNestedBrackets(key.substr(kClaimKeyPrefix.size()));
    if (!names.ok()) return fail(names.status(), label_base + ".key", c.source);
    attr = AuthzAttr::kClaim;
    aux = static_cast<uint32_t>(impl_->claim_paths.size());
    impl_->claim_paths.push_back(std::move(*names));
  } else if (key.substr(0, kEnvoyFilterKeyPrefix.size()) == kEnvoyFilterKeyPrefix) {
    attr = AuthzAttr::kEnvoyMetadata;
  } else {
    return fail(invalidArgument("unknown condition key \"" + c.key + "\""), label_base + ".key",
                c.source);
  }
  const std::string label = label_base + " " + c.key;
  Status s = addField(attr, c.values, false, label + " values", aux, out);
  if (!s.ok()) return fail(s, label_base + ".values", c.source);
  s = addField(attr, c.not_values, true, label + " notValues", aux, out);
  if (!s.ok()) return fail(s, label_base + ".notValues", c.source);
  return okStatus();
}

Status Compiler::addPolicy(const AuthorizationPolicy& policy) {
  current_ = &policy;
  auto& I = *impl_;
  AuthzCompiledPolicy cp;
  cp.key = policy.meta.namespace_ + "/" + policy.meta.name;
  cp.action = policy.action;
  cp.dry_run = policy.dry_run;
  cp.provider = policy.provider;
  cp.first_rule = static_cast<uint32_t>(I.rules.size());
  cp.rule_count = policy.rules.size();
  const uint32_t policy_index = static_cast<uint32_t>(I.policies.size());

  for (size_t ri = 0; ri < policy.rules.size(); ++ri) {
    const model::AuthzRule& rule = policy.rules[ri];
    const std::string rb = "spec.rules[" + std::to_string(ri) + "]";
    AuthzCompiledRule cr;
    cr.policy = policy_index;
    cr.index = static_cast<int32_t>(ri);
    cr.id = ruleId(policy.meta.namespace_, policy.meta.name, ri);
    cr.detail = "rbac_access_denied_matched_policy[" + cr.id + "]";

    std::vector<AuthzCheck> when_checks;
    for (size_t wi = 0; wi < rule.when.size(); ++wi) {
      Status s = addCondition(rule.when[wi], rb + ".when[" + std::to_string(wi) + "]", when_checks);
      if (!s.ok()) return s;
    }

    std::vector<std::vector<AuthzCheck>> from_groups;
    if (rule.from && !rule.from->empty()) {
      cr.has_from = true;
      for (size_t fi = 0; fi < rule.from->size(); ++fi) {
        const model::AuthzSource& src = (*rule.from)[fi];
        const std::string b = rb + ".from[" + std::to_string(fi) + "].source.";
        std::vector<AuthzCheck> checks;
        const Field fields[] = {
            {AuthzAttr::kPrincipal, &src.principals, false, "principals"},
            {AuthzAttr::kPrincipal, &src.not_principals, true, "notPrincipals"},
            {AuthzAttr::kRequestPrincipal, &src.request_principals, false, "requestPrincipals"},
            {AuthzAttr::kRequestPrincipal, &src.not_request_principals, true,
             "notRequestPrincipals"},
            {AuthzAttr::kNamespace, &src.namespaces, false, "namespaces"},
            {AuthzAttr::kNamespace, &src.not_namespaces, true, "notNamespaces"},
            {AuthzAttr::kServiceAccount, &src.service_accounts, false, "serviceAccounts"},
            {AuthzAttr::kServiceAccount, &src.not_service_accounts, true, "notServiceAccounts"},
            {AuthzAttr::kSourceIp, &src.ip_blocks, false, "ipBlocks"},
            {AuthzAttr::kSourceIp, &src.not_ip_blocks, true, "notIpBlocks"},
            {AuthzAttr::kRemoteIp, &src.remote_ip_blocks, false, "remoteIpBlocks"},
            {AuthzAttr::kRemoteIp, &src.not_remote_ip_blocks, true, "notRemoteIpBlocks"},
            {AuthzAttr::kTrustDomain, &src.trust_domains, false, "trustDomains"},
            {AuthzAttr::kTrustDomain, &src.not_trust_domains, true, "notTrustDomains"},
        };
        if (Status s = addFields(fields, b, src.source, checks); !s.ok()) return s;
        checks.insert(checks.end(), when_checks.begin(), when_checks.end());
        from_groups.push_back(std::move(checks));
      }
    }

    std::vector<std::vector<AuthzCheck>> to_groups;
    if (rule.to && !rule.to->empty()) {
      cr.has_to = true;
      for (size_t ti = 0; ti < rule.to->size(); ++ti) {
        const model::AuthzOperation& op = (*rule.to)[ti];
        const std::string b = rb + ".to[" + std::to_string(ti) + "].operation.";
        std::vector<AuthzCheck> checks;
        const Field fields[] = {
            {AuthzAttr::kHost, &op.hosts, false, "hosts"},
            {AuthzAttr::kHost, &op.not_hosts, true, "notHosts"},
            {AuthzAttr::kDestinationPort, &op.ports, false, "ports"},
            {AuthzAttr::kDestinationPort, &op.not_ports, true, "notPorts"},
            {AuthzAttr::kMethod, &op.methods, false, "methods"},
            {AuthzAttr::kMethod, &op.not_methods, true, "notMethods"},
            {AuthzAttr::kPath, &op.paths, false, "paths"},
            {AuthzAttr::kPath, &op.not_paths, true, "notPaths"},
        };
        if (Status s = addFields(fields, b, op.source, checks); !s.ok()) return s;
        to_groups.push_back(std::move(checks));
      }
    }

    // Conditions are evaluated once per rule (equivalent to Istio copying them into every
    // source and operation); when there are sources they already carry them.
    for (const auto& c : when_checks) cr.http_only = cr.http_only || isHttpOnly(c.attr);
    for (const auto& g : from_groups) {
      for (const auto& c : g) cr.http_only = cr.http_only || isHttpOnly(c.attr);
    }
    for (const auto& g : to_groups) {
      for (const auto& c : g) cr.http_only = cr.http_only || isHttpOnly(c.attr);
    }
    cr.from_begin = static_cast<uint32_t>(I.groups.size());
    for (auto& g : from_groups) I.groups.push_back(pushGroup(std::move(g)));
    cr.from_end = static_cast<uint32_t>(I.groups.size());
    cr.to_begin = static_cast<uint32_t>(I.groups.size());
    for (auto& g : to_groups) I.groups.push_back(pushGroup(std::move(g)));
    cr.to_end = static_cast<uint32_t>(I.groups.size());
    cr.when = cr.has_from ? AuthzGroup{} : pushGroup(std::move(when_checks));
    derivePrefilters(I, cr);

    if (cr.http_only && policy.action == AuthzAction::kDeny && !policy.dry_run) {
      I.warnings.push_back("DENY policy " + cp.key + " rule " + std::to_string(ri) +
                           " uses HTTP-only attributes: on TCP ports only those fields are "
                           "dropped, so it matches more connections");
    }
    I.rules.push_back(std::move(cr));
  }

  if (!policy.dry_run && policy.action == AuthzAction::kAllow) I.has_allow_policy = true;
  if (policy.dry_run && policy.action == AuthzAction::kAllow) I.has_shadow_allow_policy = true;
  if (policy.dry_run && policy.action == AuthzAction::kDeny) I.has_shadow_deny_policy = true;
  for (uint32_t r = cp.first_rule; r < cp.first_rule + cp.rule_count; ++r) {
    AuthzRuleSlot slot;
    slot.rule = r;
    slot.prefilter_count = I.rules[r].prefilter_count;
    slot.prefilters = I.rules[r].prefilters;
    for (uint8_t k = 0; k < slot.prefilter_count; ++k) {
      I.used_feature_words |= 1u << slot.prefilters[k].word;
    }
    if (policy.dry_run) {
      if (policy.action == AuthzAction::kAllow) I.shadow_allow.push_back(slot);
      if (policy.action == AuthzAction::kDeny) I.shadow_deny.push_back(slot);
      continue;
    }
    switch (policy.action) {
      case AuthzAction::kAllow: I.allow.push_back(slot); break;
      case AuthzAction::kDeny: I.deny.push_back(slot); break;
      case AuthzAction::kAudit: I.audit.push_back(slot); break;
      case AuthzAction::kCustom: I.custom.push_back(slot); break;
    }
  }
  I.policies.push_back(std::move(cp));
  return okStatus();
}

Status Compiler::finish() {
  auto& I = *impl_;
  auto byId = [&I](const AuthzRuleSlot& a, const AuthzRuleSlot& b) {
    return I.rules[a.rule].id < I.rules[b.rule].id;
  };
  for (auto* list : {&I.custom, &I.deny, &I.allow, &I.audit, &I.shadow_deny, &I.shadow_allow}) {
    std::sort(list->begin(), list->end(), byId);
  }
  std::set<std::string> providers;
  for (const auto& p : I.policies) {
    if (p.action == AuthzAction::kCustom && !p.dry_run && p.rule_count > 0) {
      providers.insert(p.provider);
    }
  }
  if (providers.size() == 1) {
    const std::string& name = *providers.begin();
    I.custom_provider_name = name;
    const auto it = context_.custom_providers.find(name);
    if (it != context_.custom_providers.end() && it->second != nullptr) {
      I.custom_provider = it->second;
    } else {
      I.custom_problem = "CUSTOM provider \"" + name +
                         "\" is not defined in meshConfig.extensionProviders; its rules deny";
    }
  } else if (providers.size() > 1) {
    std::string names;
    for (const auto& n : providers) names += (names.empty() ? "\"" : ", \"") + n + "\"";
    I.custom_problem =
        "only one CUSTOM provider per workload is supported, found " + names + "; the rules deny";
  }
  if (!I.custom_problem.empty()) I.warnings.push_back(I.custom_problem);
  return okStatus();
}

}  // namespace

// ---------------------------------------------------------------- providers

DenyingCustomAuthzProvider::DenyingCustomAuthzProvider(int status, std::string body)
    : status_(status), body_(std::move(body)) {}

CustomCheckResult DenyingCustomAuthzProvider::check(const RequestAttributes&) const {
  return CustomCheckResult{false, status_, body_};
}

FunctionCustomAuthzProvider::FunctionCustomAuthzProvider(Function fn) : fn_(std::move(fn)) {}

CustomCheckResult FunctionCustomAuthzProvider::check(const RequestAttributes& request) const {
  if (!fn_) return CustomCheckResult{false, 403, {}};
  return fn_(request);
}

// ---------------------------------------------------------------- selection and compilation

std::vector<const model::AuthorizationPolicy*> applicablePolicies(const config::Snapshot& snapshot,
                                                                  const model::Workload& workload) {
  std::vector<const model::AuthorizationPolicy*> out;
  const std::string root = snapshot.rootNamespace();
  for (const auto* p : snapshot.authorization_policies) {
    if (p == nullptr || p->has_target_ref) continue;
    const std::string& ns = p->meta.namespace_;
    if (ns != root && ns != workload.meta.namespace_) continue;
    if (p->selector.matches(workload.labels)) out.push_back(p);
  }
  return out;
}

AuthzContext authzContextFor(const config::Snapshot& snapshot) {
  AuthzContext ctx;
  ctx.trust_domain = snapshot.trustDomain();
  if (snapshot.organization != nullptr) {
    ctx.trust_domain_aliases = snapshot.organization->trust_domain_aliases;
  }
  return ctx;
}

CompiledAuthz::CompiledAuthz() : impl_(std::make_shared<const Impl>()) {}

size_t CompiledAuthz::policyCount() const { return impl_->policies.size(); }
size_t CompiledAuthz::ruleCount() const { return impl_->rules.size(); }
bool CompiledAuthz::hasAllowPolicy() const { return impl_->has_allow_policy; }
const std::vector<std::string>& CompiledAuthz::warnings() const { return impl_->warnings; }

std::vector<std::string> CompiledAuthz::policyNames() const {
  std::vector<std::string> out;
  out.reserve(impl_->policies.size());
  for (const auto& p : impl_->policies) out.push_back(p.key);
  return out;
}

Result<CompiledAuthz> compileAuthz(std::span<const model::AuthorizationPolicy* const> policies,
                                   const AuthzContext& context) {
  Compiler compiler(context);
  for (size_t i = 0; i < policies.size(); ++i) {
    if (policies[i] == nullptr) {
      return invalidArgument("compileAuthz: policy #" + std::to_string(i) + " is null");
    }
    Status s = compiler.addPolicy(*policies[i]);
    if (!s.ok()) return s;
  }
  Status s = compiler.finish();
  if (!s.ok()) return s;
  return CompiledAuthz(compiler.take());
}

Result<CompiledAuthz> compileAuthzForWorkload(const config::Snapshot& snapshot,
                                              const model::Workload& workload,
                                              const AuthzContext& context) {
  const auto policies = applicablePolicies(snapshot, workload);
  return compileAuthz(policies, context);
}

}  // namespace meshsim::policy
