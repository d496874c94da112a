// Request authentication as Envoy's jwt_authn filter performs it for Istio's RequestAuthentication
// (istio-semantics.md section 3): token extraction, per-provider checks in Envoy's order, the
// "provider OR allow_missing" requirement tree, claims for authorization and output headers.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "meshsim/policy/jwt.h"
#include "policy/jwt_internal.h"

namespace meshsim::policy {

namespace {

constexpr int64_t kClockSkewSeconds = 60;
constexpr std::string_view kBase64UrlPlusDot =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// jwt_verify_lib's CheckAudience: "http(s)://" prefixes and one trailing '/' are ignored.
std::string sanitizeAudience(std::string_view aud) {
  if (aud.empty()) return std::string(aud);
  if (aud.substr(0, 7) == "http://") {
    aud.remove_prefix(7);
  } else if (aud.substr(0, 8) == "https://") {
    aud.remove_prefix(8);
  }
  if (!aud.empty() && aud.back() == '/') aud.remove_suffix(1);
  return std::string(aud);
}

// Envoy's extractJWT: skip to the first base64url/dot character after `after`, take the run of
// such characters. Falls back to the whole value when none is found.
std::string_view extractToken(std::string_view value, size_t after) {
  const size_t start = value.find_first_of(kBase64UrlPlusDot, after);
  if (start == std::string_view::npos) return value;
  const size_t end = value.find_first_not_of(kBase64UrlPlusDot, start);
  return end == std::string_view::npos ? value.substr(start) : value.substr(start, end - start);
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hexValue(s[i + 1]);
      const int lo = hexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// First value of query parameter `name` (decoded), as Envoy's parseAndDecodeQueryString keeps it.
std::optional<std::string> queryParam(std::string_view path, std::string_view name) {
  const size_t q = path.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = path.substr(q + 1);
  if (const size_t hash = query.find('#'); hash != std::string_view::npos) {
    query = query.substr(0, hash);
  }
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (percentDecode(key) == name) return percentDecode(value);
  }
  return std::nullopt;
}

std::optional<std::string> cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (part.substr(0, eq) != name) continue;
    std::string_view value = part.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

const std::string* findHeader(std::span<const std::pair<std::string, std::string>> headers,
                              std::string_view lower_name) {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

struct HeaderLocation {
  std::string name;  // lower-case
  std::string prefix;
};

struct CompiledRule {
  model::JwtRule rule;
  std::string policy;
  int32_t index = 0;
  std::vector<HeaderLocation> headers;
  std::vector<std::string> params;
  std::vector<std::string> cookies;
  std::vector<std::string> audiences;  // sanitized
  std::optional<Jwks> jwks;            // nullopt: JWKS unavailable
  std::string jwks_problem;
  std::vector<std::string> space_delimited;
  std::string payload_header;                                      // lower-case; empty = none
  std::vector<std::pair<std::string, std::string>> claim_headers;  // lower-case header, claim
};

enum class Where { kHeader, kParam, kCookie };

struct Token {
  std::string value;
  Where where = Where::kHeader;
  std::string location;  // header name, parameter or cookie name
};

std::vector<Token> extractTokens(const CompiledRule& rule, const JwtRequest& request) {
  std::vector<Token> tokens;
  for (const auto& loc : rule.headers) {
    const std::string* value = findHeader(request.headers, loc.name);
    if (value == nullptr) continue;
    std::string_view v = *value;
    if (!loc.prefix.empty()) {
      const size_t pos = v.find(loc.prefix);
      if (pos == std::string_view::npos) continue;  // Envoy: no prefix, no token here
      v = extractToken(v, pos + loc.prefix.size());
    }
    tokens.push_back({std::string(v), Where::kHeader, loc.name});
  }
  for (const auto& name : rule.params) {
    if (auto v = queryParam(request.path, name)) {
      tokens.push_back({std::move(*v), Where::kParam, name});
    }
  }
  if (!rule.cookies.empty()) {
    if (const std::string* header = findHeader(request.headers, "cookie")) {
      for (const auto& name : rule.cookies) {
        if (auto v = cookie(*header, name)) tokens.push_back({std::move(*v), Where::kCookie, name});
      }
    }
  }
  return tokens;
}

std::string describeLocations(const CompiledRule& rule) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!out.empty()) out += ", ";
    out += s;
  };
  for (const auto& h : rule.headers)
    add("header " + h.name + (h.prefix.empty() ? "" : " \"" + h.prefix + "\""));
  for (const auto& p : rule.params) add("query parameter " + p);
  for (const auto& c : rule.cookies) add("cookie " + c);
  return out;
}

// Envoy's convertClaimDoubleToString: integral numbers without a fraction.
std::string numberText(double d) {
  char buf[64];
  if (std::fmod(d, 1.0) == 0 && std::fabs(d) < 1e18) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(d));
    return ec == std::errc() ? std::string(buf, end) : std::string();
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

const nlohmann::json* claimAt(const nlohmann::json& payload, std::string_view dotted) {
  const nlohmann::json* cur = &payload;
  while (true) {
    const size_t dot = dotted.find('.');
    const std::string key(dotted.substr(0, dot));
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string_view::npos) return cur;
    dotted.remove_prefix(dot + 1);
  }
}

std::string claimHeaderValue(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return numberText(v.get<double>());
  if (v.is_object() || v.is_array()) return jwt_internal::base64StdEncode(v.dump());
  return {};
}

// Flattens string claims (and string elements of lists) to their paths; objects recurse.
void flattenClaims(const nlohmann::json& obj, std::vector<std::string>& path,
                   const std::vector<std::string>& space_delimited, std::vector<Claim>& out) {
  for (const auto& [key, value] : obj.items()) {
    path.push_back(key);
    if (value.is_object()) {
      flattenClaims(value, path, space_delimited, out);
    } else {
      Claim claim;
      claim.path = path;
      if (value.is_string()) {
        const std::string& s = value.get_ref<const std::string&>();
        const bool split =
            path.size() == 1 &&
            std::find(space_delimited.begin(), space_delimited.end(), key) != space_delimited.end();
        if (split) {
          size_t start = 0;
          while (start <= s.size()) {
            const size_t sp = s.find(' ', start);
            const std::string word =
                s.substr(start, sp == std::string::npos ? std::string::npos : sp - start);
            if (!word.empty()) claim.values.push_back(word);
            if (sp == std::string::npos) break;
            start = sp + 1;
          }
        } else {
          claim.values.push_back(s);
        }
      } else if (value.is_array()) {
        for (const auto& e : value) {
          if (e.is_string()) claim.values.push_back(e.get<std::string>());
        }
      }
      // Numbers and booleans are not matchable by Istio's string matchers, and lists without
      // strings match nothing: both are left out. A string claim is kept even when splitting
      // leaves no word.
      if (value.is_string() || !claim.values.empty()) out.push_back(std::move(claim));
    }
    path.pop_back();
  }
}

struct TokenOutcome {
  JwtStatus status = JwtStatus::kMissing;
  std::string issuer;  // of the last token looked at (for reasons)
  std::optional<RequestAuth> auth;
  std::vector<std::pair<std::string, std::string>> add_headers;
  std::vector<std::string> remove_headers;
};

// One Envoy provider verifier: every token at the rule's locations must pass (Envoy pops tokens
// from the back and stops at the first failure).
TokenOutcome verifyProvider(const CompiledRule& rule, const JwtRequest& request, int64_t now) {
  TokenOutcome out;
  std::vector<Token> tokens = extractTokens(rule, request);
  if (tokens.empty()) return out;
  const uint64_t unow = now < 0 ? 0 : static_cast<uint64_t>(now);
  for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) {
    jwt_internal::DecodedJwt jwt;
    out.status = jwt_internal::decodeJwt(it->value, jwt);
    out.issuer = jwt.parsed.issuer;
    if (out.status != JwtStatus::kOk) return out;
    const ParsedJwt& p = jwt.parsed;
    if (!rule.rule.issuer.empty() && p.issuer != rule.rule.issuer) {
      out.status = JwtStatus::kUnknownIssuer;
      return out;
    }
    if (unow + kClockSkewSeconds < p.nbf) {
      out.status = JwtStatus::kNotYetValid;
      return out;
    }
    if (p.exp != 0 && unow > p.exp + kClockSkewSeconds) {
      out.status = JwtStatus::kExpired;
      return out;
    }
    if (!rule.audiences.empty()) {
      bool allowed = false;
      for (const auto& aud : p.audiences) {
        const std::string s = sanitizeAudience(aud);
        if (std::find(rule.audiences.begin(), rule.audiences.end(), s) != rule.audiences.end()) {
          allowed = true;
          break;
        }
      }
      if (!allowed) {
        out.status = JwtStatus::kAudienceNotAllowed;
        return out;
      }
    }
    if (!rule.jwks) {
      out.status = JwtStatus::kJwksFetchFail;
      return out;
    }
    out.status = rule.jwks->verify(p);
    if (out.status != JwtStatus::kOk) return out;

    // A good token: outputs, header removal and the identity.
    if (!rule.payload_header.empty())
      out.add_headers.emplace_back(rule.payload_header, p.payload_b64);
    for (const auto& [header, claim] : rule.claim_headers) {
      if (const nlohmann::json* v = claimAt(jwt.payload, claim)) {
        std::string text = claimHeaderValue(*v);
        if (!text.empty()) out.add_headers.emplace_back(header, std::move(text));
      }
    }
    if (!rule.rule.forward_original_token && it->where == Where::kHeader) {
      out.remove_headers.push_back(it->location);
    }
    RequestAuth auth;
    auth.issuer = p.issuer;
    auth.subject = p.subject;
    auth.has_subject = p.has_subject;
    auth.audiences = p.audiences;
    if (auto azp = jwt.payload.find("azp"); azp != jwt.payload.end() && azp->is_string()) {
      auth.presenter = azp->get<std::string>();
    }
    std::vector<std::string> path;
    flattenClaims(jwt.payload, path, rule.space_delimited, auth.claims);
    out.auth = std::move(auth);
  }
  return out;
}

bool isCorsPreflight(const JwtRequest& request) {
  if (request.method != "OPTIONS") return false;
  const std::string* origin = findHeader(request.headers, "origin");
  const std::string* acrm = findHeader(request.headers, "access-control-request-method");
  return origin != nullptr && !origin->empty() && acrm != nullptr && !acrm->empty();
}

}  // namespace

// ---------------------------------------------------------------- compiled form

struct CompiledJwtAuthn::Impl {
  std::vector<CompiledRule> rules;
  std::vector<std::string> warnings;
  std::vector<std::string> sanitize_headers;  // output headers of every rule
};

struct JwtAuthnAccess {
  using Impl = CompiledJwtAuthn::Impl;
  static const Impl* impl(const CompiledJwtAuthn& c) { return c.impl_.get(); }
  static void set(CompiledJwtAuthn& c, std::shared_ptr<const Impl> impl) {
    c.impl_ = std::move(impl);
  }
};

CompiledJwtAuthn::CompiledJwtAuthn() : impl_(std::make_shared<const Impl>()) {}
CompiledJwtAuthn::~CompiledJwtAuthn() = default;
CompiledJwtAuthn::CompiledJwtAuthn(const CompiledJwtAuthn&) = default;
CompiledJwtAuthn& CompiledJwtAuthn::operator=(const CompiledJwtAuthn&) = default;
CompiledJwtAuthn::CompiledJwtAuthn(CompiledJwtAuthn&&) noexcept = default;
CompiledJwtAuthn& CompiledJwtAuthn::operator=(CompiledJwtAuthn&&) noexcept = default;

bool CompiledJwtAuthn::empty() const { return !impl_ || impl_->rules.empty(); }
size_t CompiledJwtAuthn::ruleCount() const { return impl_ ? impl_->rules.size() : 0; }
const std::vector<std::string>& CompiledJwtAuthn::warnings() const { return impl_->warnings; }

std::vector<const model::RequestAuthentication*> applicableRequestAuthentications(
    const config::Snapshot& snapshot, const model::Workload& workload) {
  const std::string root = snapshot.rootNamespace();
  std::vector<const model::RequestAuthentication*> out;
  for (const auto* ra : snapshot.request_authentications) {
    const std::string& ns = ra->meta.namespace_;
    if (ns != root && ns != workload.meta.namespace_) continue;
    if (ra->has_target_ref) continue;
    if (!ra->selector.matches(workload.labels)) continue;
    out.push_back(ra);
  }
  std::stable_sort(out.begin(), out.end(), [&](const auto* a, const auto* b) {
    const bool ra = a->meta.namespace_ == root;
    const bool rb = b->meta.namespace_ == root;
    if (ra != rb) return ra;
    if (a->meta.creation_index != b->meta.creation_index) {
      return a->meta.creation_index < b->meta.creation_index;
    }
    return a->meta.name < b->meta.name;
  });
  return out;
}

std::vector<SourcedJwtRule> mergeJwtRules(
    const std::vector<const model::RequestAuthentication*>& policies) {
  std::vector<SourcedJwtRule> out;
  for (const auto* ra : policies) {
    for (const auto& rule : ra->jwt_rules) {
      out.push_back({rule, ra->meta.namespace_ + "/" + ra->meta.name});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const SourcedJwtRule& a, const SourcedJwtRule& b) {
    return a.rule.issuer < b.rule.issuer;
  });
  return out;
}

CompiledJwtAuthn compileJwtAuthn(std::vector<SourcedJwtRule> rules,
                                 const config::Snapshot* snapshot, IdentityProviderKeys* keys) {
  auto impl = std::make_shared<JwtAuthnAccess::Impl>();
  int32_t index = 0;
  for (auto& sourced : rules) {
    CompiledRule c;
    c.index = index++;
    c.policy = std::move(sourced.policy);
    c.rule = std::move(sourced.rule);
    const model::JwtRule& r = c.rule;
    for (const auto& h : r.from_headers) c.headers.push_back({lower(h.name), h.prefix});
    c.params = r.from_params;
    c.cookies = r.from_cookies;
    if (c.headers.empty() && c.params.empty() && c.cookies.empty()) {
      c.headers.push_back({"authorization", "Bearer "});
      c.params.push_back("access_token");
    }
    for (const auto& aud : r.audiences) c.audiences.push_back(sanitizeAudience(aud));
    c.space_delimited = {"scope", "permission"};
    for (const auto& claim : r.space_delimited_claims) c.space_delimited.push_back(claim);
    if (!r.output_payload_to_header.empty()) c.payload_header = lower(r.output_payload_to_header);
    for (const auto& ch : r.output_claim_to_headers) {
      c.claim_headers.emplace_back(lower(ch.header), ch.claim);
    }

    const std::string label =
        "rule " + std::to_string(c.index) + " (" + c.policy + ", issuer \"" + r.issuer + "\")";
    if (!r.jwks.empty()) {
      auto jwks = Jwks::parse(r.jwks);
      if (jwks.ok()) {
        c.jwks = std::move(jwks).value();
      } else {
        c.jwks_problem = "inline jwks is invalid: " + jwks.status().message();
      }
    } else if (!r.jwks_uri.empty()) {
      const model::IdentityProvider* idp =
          snapshot != nullptr ? identityProviderForJwksUri(*snapshot, r.jwks_uri) : nullptr;
      if (idp == nullptr || keys == nullptr) {
        c.jwks_problem = "jwksUri \"" + r.jwks_uri + "\" names no IdentityProvider of the model";
      } else {
        auto text = keys->jwksFor(*idp);
        auto jwks = text.ok() ? Jwks::parse(*text) : Result<Jwks>(text.status());
        if (jwks.ok()) {
          c.jwks = std::move(jwks).value();
        } else {
          c.jwks_problem = "IdentityProvider " + idp->meta.name + ": " + jwks.status().message();
        }
      }
    } else {
      c.jwks_problem = "neither jwks nor jwksUri is set";
    }
    if (!c.jwks) impl->warnings.push_back(label + ": " + c.jwks_problem);

    if (!c.payload_header.empty()) impl->sanitize_headers.push_back(c.payload_header);
    for (const auto& ch : c.claim_headers) impl->sanitize_headers.push_back(ch.first);
    impl->rules.push_back(std::move(c));
  }
  std::sort(impl->sanitize_headers.begin(), impl->sanitize_headers.end());
  impl->sanitize_headers.erase(
      std::unique(impl->sanitize_headers.begin(), impl->sanitize_headers.end()),
      impl->sanitize_headers.end());
  CompiledJwtAuthn out;
  JwtAuthnAccess::set(out, std::move(impl));
  return out;
}

CompiledJwtAuthn compileJwtAuthnForWorkload(const config::Snapshot& snapshot,
                                            const model::Workload& workload,
                                            IdentityProviderKeys& keys) {
  return compileJwtAuthn(mergeJwtRules(applicableRequestAuthentications(snapshot, workload)),
                         &snapshot, &keys);
}

// ---------------------------------------------------------------- evaluation

JwtAuthnResult authenticateJwt(const CompiledJwtAuthn& authn, const JwtRequest& request,
                               int64_t now_seconds) {
  JwtAuthnResult result;
  const JwtAuthnAccess::Impl* impl = JwtAuthnAccess::impl(authn);
  if (impl == nullptr || impl->rules.empty()) {
    result.reason = "no RequestAuthentication applies to the workload: tokens are ignored";
    return result;
  }
  if (isCorsPreflight(request)) {
    result.cors_preflight_bypass = true;
    result.reason = "CORS preflight request: JWT checks are bypassed";
    return result;
  }
  result.remove_headers = impl->sanitize_headers;

  const auto& rules = impl->rules;
  std::vector<TokenOutcome> outcomes;
  outcomes.reserve(rules.size());
  for (const auto& rule : rules) outcomes.push_back(verifyProvider(rule, request, now_seconds));

  // Istio's requirement: one rule = RequiresAny{P, allow_missing}; several rules = RequiresAny{
  // P1..Pn, RequiresAll{RequiresAny{Pi, allow_missing}...}}. Children run in order; the first Ok
  // child completes the OR.
  int32_t ok_rule = -1;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].status == JwtStatus::kOk) {
      ok_rule = static_cast<int32_t>(i);
      break;
    }
  }
  const auto real_error = [](JwtStatus s) {
    return s != JwtStatus::kOk && s != JwtStatus::kMissing;
  };
  JwtStatus final_status = JwtStatus::kMissing;
  int32_t final_rule = -1;
  if (ok_rule >= 0) {
    final_status = JwtStatus::kOk;
    final_rule = ok_rule;
  } else if (rules.size() == 1) {
    final_status = outcomes[0].status;
    final_rule = 0;
  } else {
    // The AND child fails with the first provider that failed for a reason other than "missing".
    JwtStatus and_status = JwtStatus::kOk;
    int32_t and_rule = -1;
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (real_error(outcomes[i].status)) {
        and_status = outcomes[i].status;
        and_rule = static_cast<int32_t>(i);
        break;
      }
    }
    if (and_status == JwtStatus::kOk) {
      final_status = JwtStatus::kMissing;  // every provider saw no token
    } else {
      // Envoy's RequiresAny aggregation: prefer errors other than missing/unknown issuer, the
      // later child winning; an unknown issuer beats "missing".
      const auto weak = [](JwtStatus s) {
        return s == JwtStatus::kMissing || s == JwtStatus::kUnknownIssuer;
      };
      for (size_t i = 0; i <= outcomes.size(); ++i) {
        const JwtStatus s = i < outcomes.size() ? outcomes[i].status : and_status;
        const int32_t r = i < outcomes.size() ? static_cast<int32_t>(i) : and_rule;
        if (!weak(s) || final_status == JwtStatus::kMissing) {
          final_status = s;
          final_rule = r;
        }
      }
    }
  }

  result.status = final_status;
  if (final_status == JwtStatus::kMissing) {
    std::string locations;
    for (const auto& rule : rules) {
      const std::string part = describeLocations(rule);
      if (locations.find(part) != std::string::npos) continue;
      if (!locations.empty()) locations += "; ";
      locations += part;
    }
    result.reason = "no JWT at the configured locations (" + locations +
                    "): accepted without a request identity";
    return result;
  }
  const CompiledRule& rule = rules[static_cast<size_t>(final_rule)];
  TokenOutcome& outcome = outcomes[static_cast<size_t>(final_rule)];
  result.policy = rule.policy;
  result.rule = rule.index;
  if (final_status == JwtStatus::kOk) {
    result.auth = std::move(outcome.auth);
    for (auto& h : outcome.remove_headers) {
      if (std::find(result.remove_headers.begin(), result.remove_headers.end(), h) ==
          result.remove_headers.end()) {
        result.remove_headers.push_back(std::move(h));
      }
    }
    result.add_headers = std::move(outcome.add_headers);
    result.reason = "JWT of \"" + result.auth->issuer + "/" + result.auth->subject +
                    "\" validated by rule " + std::to_string(rule.index) + " of " + rule.policy;
    return result;
  }

  result.accepted = false;
  result.remove_headers.clear();
  result.http_status = jwtHttpStatus(final_status);
  result.body = jwtStatusText(final_status);
  std::string realm =
      std::string(request.scheme) + "://" + std::string(request.host) + std::string(request.path);
  result.response_headers.emplace_back("www-authenticate",
                                       "Bearer realm=\"" + realm + "\", error=\"invalid_token\"");
  std::string why = std::to_string(result.http_status) + " \"" + result.body + "\"";
  if (final_status == JwtStatus::kUnknownIssuer) {
    result.reason = "JWT rejected with " + why + ": issuer \"" + outcome.issuer +
                    "\" is not the issuer of any jwtRule reading that location";
  } else if (final_status == JwtStatus::kJwksFetchFail) {
    result.reason = "JWT rejected with " + why + " by rule " + std::to_string(rule.index) + " of " +
                    rule.policy + ": " + rule.jwks_problem;
  } else {
    result.reason = "JWT rejected with " + why + " by rule " + std::to_string(rule.index) + " of " +
                    rule.policy + " (issuer \"" + rule.rule.issuer + "\")";
  }
  return result;
}

void applyToDecision(const JwtAuthnResult& result, Decision& decision) {
  decision.trace.push_back("jwt: " + result.reason);
  if (result.accepted) return;
  decision.status = result.http_status;
  decision.body = result.body;
  decision.stage = Stage::kJwt;
  decision.policy = result.policy;
  decision.rule = result.rule;
  decision.reason = result.reason;
}

}  // namespace meshsim::policy
