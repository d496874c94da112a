// JWT request authentication (istio-semantics.md section 3; status texts from Envoy's
// jwt_verify_lib as listed there) and its building blocks: base64url, parsing, JWKS, signing.

#include "meshsim/policy/jwt.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "meshsim/config/store.h"

namespace meshsim::policy {
namespace {

constexpr int64_t kNow = 1'700'000'000;
constexpr const char* kIssuer = "testing@secure.istio.io";
constexpr const char* kOtherIssuer = "https://accounts.example.com";

using Headers = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------- shared keys

struct Keys {
  JwtSigner rsa;        // kid "rsa-1", issuer kIssuer
  JwtSigner rsa_other;  // kid "rsa-1" too: same kid, different key (bad signatures)
  JwtSigner ec;         // kid "ec-1"
  JwtSigner rsa_b;      // kid "b-1", issuer kOtherIssuer
};

const Keys& keys() {
  static const Keys* k = [] {
    auto gen = [](JwtAlgorithm alg, const char* kid) {
      auto s = JwtSigner::generate(alg, kid);
      EXPECT_TRUE(s.ok()) << s.status().toString();
      return std::move(s).value();
    };
    return new Keys{gen(JwtAlgorithm::kRs256, "rsa-1"), gen(JwtAlgorithm::kRs256, "rsa-1"),
                    gen(JwtAlgorithm::kEs256, "ec-1"), gen(JwtAlgorithm::kRs256, "b-1")};
  }();
  return *k;
}

JwtClaims claims(std::string iss = kIssuer, std::string sub = "user-1") {
  JwtClaims c;
  c.issuer = std::move(iss);
  c.subject = std::move(sub);
  c.issued_at = kNow - 10;
  c.expires_at = kNow + 3600;
  return c;
}

std::string sign(const JwtSigner& signer, const JwtClaims& c, const JwtHeaderOptions& h = {}) {
  auto t = signer.sign(c, h);
  EXPECT_TRUE(t.ok()) << t.status().toString();
  return t.ok() ? *t : std::string();
}

std::string token(const JwtClaims& c = claims()) { return sign(keys().rsa, c); }

// Changes one character in the middle of a section (0 header, 1 payload, 2 signature).
std::string tamper(std::string t, int section) {
  size_t start = 0;
  for (int i = 0; i < section; ++i) start = t.find('.', start) + 1;
  const size_t pos = start + 5;
  t[pos] = t[pos] == 'A' ? 'B' : 'A';
  return t;
}

// A token whose payload is replaced by another one, keeping header and signature.
std::string swapPayload(const std::string& t, const JwtClaims& c) {
  const std::string other = token(c);
  const size_t a = t.find('.');
  const size_t b = t.find('.', a + 1);
  const size_t oa = other.find('.');
  const size_t ob = other.find('.', oa + 1);
  return t.substr(0, a + 1) + other.substr(oa + 1, ob - oa - 1) + t.substr(b);
}

// A token with hand-written header and payload JSON and a dummy signature.
std::string rawToken(const std::string& header, const std::string& payload) {
  return base64UrlEncode(header) + "." + base64UrlEncode(payload) + "." + base64UrlEncode("sig");
}

model::JwtRule rule(std::string issuer = kIssuer, std::string jwks = {}) {
  model::JwtRule r;
  r.issuer = std::move(issuer);
  r.jwks = jwks.empty() ? keys().rsa.jwksJson() : std::move(jwks);
  return r;
}

CompiledJwtAuthn compile(std::vector<model::JwtRule> rules) {
  std::vector<SourcedJwtRule> sourced;
  for (auto& r : rules) sourced.push_back({std::move(r), "foo/jwt-example"});
  return compileJwtAuthn(std::move(sourced), nullptr, nullptr);
}

// ---------------------------------------------------------------- the authentication table

struct Arrange {
  std::vector<model::JwtRule> rules{rule()};
  Headers headers;
  std::string method = "GET";
  std::string path = "/headers";
};

struct AuthnCase {
  const char* name;
  std::function<void(Arrange&)> arrange;
  bool accepted;
  JwtStatus status;
  int http_status;
  std::string body;
};

void bearer(Arrange& s, const std::string& t) {
  s.headers.push_back({"authorization", "Bearer " + t});
}

class JwtAuthnTable : public ::testing::TestWithParam<AuthnCase> {};

TEST_P(JwtAuthnTable, Outcome) {
  const AuthnCase& c = GetParam();
  Arrange s;
  c.arrange(s);
  const CompiledJwtAuthn authn = compile(s.rules);
  JwtRequest req;
  req.method = s.method;
  req.host = "httpbin.foo:8000";
  req.path = s.path;
  req.headers = s.headers;
  const JwtAuthnResult r = authenticateJwt(authn, req, kNow);
  EXPECT_EQ(r.accepted, c.accepted) << r.reason;
  EXPECT_EQ(r.status, c.status) << jwtStatusText(r.status) << " / " << r.reason;
  EXPECT_EQ(r.http_status, c.http_status);
  EXPECT_EQ(r.body, c.body);
  EXPECT_EQ(r.auth.has_value(), c.status == JwtStatus::kOk);
}

const std::string kFormatText =
    "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";

INSTANTIATE_TEST_SUITE_P(
    Section3, JwtAuthnTable,
    ::testing::Values(
        // "No token at any configured location -> accepted, no identity".
        AuthnCase{"MissingTokenAccepted", [](Arrange&) {}, true, JwtStatus::kMissing, 200, ""},
        AuthnCase{"ValidRs256Accepted", [](Arrange& s) { bearer(s, token()); }, true,
                  JwtStatus::kOk, 200, ""},
        AuthnCase{"ValidEs256Accepted",
                  [](Arrange& s) {
                    s.rules = {rule(kIssuer, keys().ec.jwksJson())};
                    bearer(s, sign(keys().ec, claims()));
                  },
                  true, JwtStatus::kOk, 200, ""},
        // "not three dot-separated parts (e.g. Bearer deadbeef)".
        AuthnCase{"BearerDeadbeefIsBadFormat", [](Arrange& s) { bearer(s, "deadbeef"); }, false,
                  JwtStatus::kBadFormat, 401, kFormatText},
        AuthnCase{"FourSectionsIsBadFormat", [](Arrange& s) { bearer(s, token() + ".x"); }, false,
                  JwtStatus::kBadFormat, 401, kFormatText},
        AuthnCase{"EmptySectionIsBadFormat", [](Arrange& s) { bearer(s, "a..c"); }, false,
                  JwtStatus::kBadFormat, 401, kFormatText},
        AuthnCase{"UnknownIssuer",
                  [](Arrange& s) { bearer(s, token(claims("https://evil.example.com"))); }, false,
                  JwtStatus::kUnknownIssuer, 401, "Jwt issuer is not configured"},
        AuthnCase{"Expired",
                  [](Arrange& s) {
                    auto c = claims();
                    c.expires_at = kNow - 120;
                    bearer(s, token(c));
                  },
                  false, JwtStatus::kExpired, 401, "Jwt is expired"},
        // "exp/nbf (60 s clock skew)".
        AuthnCase{"ExpiredWithinSkewAccepted",
                  [](Arrange& s) {
                    auto c = claims();
                    c.expires_at = kNow - 30;
                    bearer(s, token(c));
                  },
                  true, JwtStatus::kOk, 200, ""},
        AuthnCase{"NotYetValid",
                  [](Arrange& s) {
                    auto c = claims();
                    c.not_before = kNow + 120;
                    bearer(s, token(c));
                  },
                  false, JwtStatus::kNotYetValid, 401, "Jwt not yet valid"},
        AuthnCase{"NotBeforeWithinSkewAccepted",
                  [](Arrange& s) {
                    auto c = claims();
                    c.not_before = kNow + 30;
                    bearer(s, token(c));
                  },
                  true, JwtStatus::kOk, 200, ""},
        AuthnCase{"NoExpNeverExpires",
                  [](Arrange& s) {
                    auto c = claims();
                    c.expires_at.reset();
                    bearer(s, token(c));
                  },
                  true, JwtStatus::kOk, 200, ""},
        // "Audience mismatch -> 403 (not 401), body Audiences in Jwt are not allowed".
        AuthnCase{"AudienceMismatchIs403",
                  [](Arrange& s) {
                    s.rules[0].audiences = {"bookinfo.com"};
                    auto c = claims();
                    c.audiences = {"other.com"};
                    bearer(s, token(c));
                  },
                  false, JwtStatus::kAudienceNotAllowed, 403, "Audiences in Jwt are not allowed"},
        AuthnCase{"AudienceMissingInTokenIs403",
                  [](Arrange& s) {
                    s.rules[0].audiences = {"bookinfo.com"};
                    bearer(s, token());
                  },
                  false, JwtStatus::kAudienceNotAllowed, 403, "Audiences in Jwt are not allowed"},
        // "token aud, string or list, must contain one of them".
        AuthnCase{"AudienceListContainsOne",
                  [](Arrange& s) {
                    s.rules[0].audiences = {"bookinfo.com"};
                    auto c = claims();
                    c.audiences = {"x.com", "bookinfo.com"};
                    bearer(s, token(c));
                  },
                  true, JwtStatus::kOk, 200, ""},
        // "empty list = audience not checked".
        AuthnCase{"EmptyAudiencesNotChecked",
                  [](Arrange& s) {
                    auto c = claims();
                    c.audiences = {"anything"};
                    bearer(s, token(c));
                  },
                  true, JwtStatus::kOk, 200, ""},
        // [impl, jwt_verify_lib CheckAudience] scheme and trailing slash are ignored.
        AuthnCase{"AudienceSchemeAndSlashIgnored",
                  [](Arrange& s) {
                    s.rules[0].audiences = {"https://api.example.com/"};
                    auto c = claims();
                    c.audiences = {"api.example.com"};
                    bearer(s, token(c));
                  },
                  true, JwtStatus::kOk, 200, ""},
        // "bad signature (kid found in JWKS) Jwt verification fails".
        AuthnCase{"BadSignature", [](Arrange& s) { bearer(s, tamper(token(), 2)); }, false,
                  JwtStatus::kVerificationFail, 401, "Jwt verification fails"},
        AuthnCase{"SignedByAnotherKeyWithSameKid",
                  [](Arrange& s) { bearer(s, sign(keys().rsa_other, claims())); }, false,
                  JwtStatus::kVerificationFail, 401, "Jwt verification fails"},
        AuthnCase{"TamperedPayload",
                  [](Arrange& s) {
                    // A genuine signature over another payload: sub swapped to "admin".
                    bearer(s, swapPayload(token(), claims(kIssuer, "admin")));
                  },
                  false, JwtStatus::kVerificationFail, 401, "Jwt verification fails"},
        // "kid/alg not in JWKS Jwks doesn't have key to match kid or alg from Jwt".
        AuthnCase{"KidNotInJwks",
                  [](Arrange& s) {
                    JwtHeaderOptions h;
                    h.kid = "unknown-kid";
                    bearer(s, sign(keys().rsa, claims(), h));
                  },
                  false, JwtStatus::kJwksKidAlgMismatch, 401,
                  "Jwks doesn't have key to match kid or alg from Jwt"},
        AuthnCase{"AlgNotInJwks",
                  [](Arrange& s) {
                    JwtHeaderOptions h;
                    h.alg = "RS384";
                    bearer(s, sign(keys().rsa, claims(), h));
                  },
                  false, JwtStatus::kJwksKidAlgMismatch, 401,
                  "Jwks doesn't have key to match kid or alg from Jwt"},
        AuthnCase{"TokenWithoutKidTriesEveryKey",
                  [](Arrange& s) {
                    JwtHeaderOptions h;
                    h.include_kid = false;
                    bearer(s, sign(keys().rsa, claims(), h));
                  },
                  true, JwtStatus::kOk, 200, ""},
        // "JWKS unreachable/invalid -> 401" with "Jwks remote fetch is failed".
        AuthnCase{"InvalidInlineJwks",
                  [](Arrange& s) {
                    s.rules[0].jwks = "{not json";
                    bearer(s, token());
                  },
                  false, JwtStatus::kJwksFetchFail, 401, "Jwks remote fetch is failed"},
        AuthnCase{"InlineJwksWithoutKeys",
                  [](Arrange& s) {
                    s.rules[0].jwks = R"({"keys":[]})";
                    bearer(s, token());
                  },
                  false, JwtStatus::kJwksFetchFail, 401, "Jwks remote fetch is failed"},
        AuthnCase{"UnresolvableJwksUri",
                  [](Arrange& s) {
                    s.rules[0].jwks.clear();
                    s.rules[0].jwks_uri = "https://nowhere.example.com/jwks.json";
                    bearer(s, token());
                  },
                  false, JwtStatus::kJwksFetchFail, 401, "Jwks remote fetch is failed"},
        // Check order: format -> issuer -> exp/nbf -> audience -> JWKS -> signature.
        AuthnCase{"OrderExpiredBeatsBadSignature",
                  [](Arrange& s) {
                    auto c = claims();
                    c.expires_at = kNow - 3600;
                    bearer(s, tamper(token(c), 2));
                  },
                  false, JwtStatus::kExpired, 401, "Jwt is expired"},
        AuthnCase{"OrderWrongAudienceBeatsBadSignature",
                  [](Arrange& s) {
                    s.rules[0].audiences = {"bookinfo.com"};
                    auto c = claims();
                    c.audiences = {"other.com"};
                    bearer(s, tamper(token(c), 2));
                  },
                  false, JwtStatus::kAudienceNotAllowed, 403, "Audiences in Jwt are not allowed"},
        AuthnCase{"OrderUnknownIssuerBeatsExpired",
                  [](Arrange& s) {
                    auto c = claims("someone-else");
                    c.expires_at = kNow - 3600;
                    bearer(s, token(c));
                  },
                  false, JwtStatus::kUnknownIssuer, 401, "Jwt issuer is not configured"},
        AuthnCase{"OrderExpiredBeatsWrongAudience",
                  [](Arrange& s) {
                    s.rules[0].audiences = {"bookinfo.com"};
                    auto c = claims();
                    c.expires_at = kNow - 3600;
                    bearer(s, token(c));
                  },
                  false, JwtStatus::kExpired, 401, "Jwt is expired"},
        AuthnCase{"OrderWrongAudienceBeatsMissingJwks",
                  [](Arrange& s) {
                    s.rules[0].jwks = "[]";
                    s.rules[0].audiences = {"bookinfo.com"};
                    bearer(s, token());
                  },
                  false, JwtStatus::kAudienceNotAllowed, 403, "Audiences in Jwt are not allowed"},
        AuthnCase{"OrderMissingJwksBeatsBadSignature",
                  [](Arrange& s) {
                    s.rules[0].jwks = "[]";
                    bearer(s, tamper(token(), 2));
                  },
                  false, JwtStatus::kJwksFetchFail, 401, "Jwks remote fetch is failed"},
        // "Token in a location no rule reads (e.g. other header) -> treated as missing".
        AuthnCase{"TokenInUnreadHeaderIgnored",
                  [](Arrange& s) { s.headers.push_back({"x-jwt-assertion", tamper(token(), 2)}); },
                  true, JwtStatus::kMissing, 200, ""},
        AuthnCase{"BasicAuthorizationIsNoToken",
                  [](Arrange& s) { s.headers.push_back({"authorization", "Basic dXNlcjpwYXNz"}); },
                  true, JwtStatus::kMissing, 200, ""},
        // "Default token locations: Authorization: Bearer, then query param access_token".
        AuthnCase{"AccessTokenQueryParameter",
                  [](Arrange& s) { s.path = "/headers?x=1&access_token=" + token(); }, true,
                  JwtStatus::kOk, 200, ""},
        AuthnCase{"InvalidAccessTokenQueryParameter",
                  [](Arrange& s) { s.path = "/headers?access_token=deadbeef"; }, false,
                  JwtStatus::kBadFormat, 401, kFormatText},
        AuthnCase{"FromHeadersWithoutPrefix",
                  [](Arrange& s) {
                    s.rules[0].from_headers = {{"X-Jwt-Assertion", ""}};
                    s.headers.push_back({"x-jwt-assertion", token()});
                  },
                  true, JwtStatus::kOk, 200, ""},
        AuthnCase{"FromHeadersWithPrefix",
                  [](Arrange& s) {
                    s.rules[0].from_headers = {{"x-jwt-assertion", "Bearer "}};
                    s.headers.push_back({"x-jwt-assertion", "Bearer " + token()});
                  },
                  true, JwtStatus::kOk, 200, ""},
        // [doc!=impl] The API says a header without the exact prefix "is considered invalid";
        // Envoy's extractor skips such a header (value_prefix not found -> no token there), so
        // the request proceeds as token-less.
        AuthnCase{"FromHeadersPrefixMismatchIsNoToken",
                  [](Arrange& s) {
                    s.rules[0].from_headers = {{"x-jwt-assertion", "Bearer "}};
                    s.headers.push_back({"x-jwt-assertion", "Token " + token()});
                  },
                  true, JwtStatus::kMissing, 200, ""},
        AuthnCase{"FromHeadersPrefixMatchWithBadToken",
                  [](Arrange& s) {
                    s.rules[0].from_headers = {{"x-jwt-assertion", "Bearer "}};
                    s.headers.push_back({"x-jwt-assertion", "Bearer " + tamper(token(), 2)});
                  },
                  false, JwtStatus::kVerificationFail, 401, "Jwt verification fails"},
        // Configured locations replace the defaults.
        AuthnCase{"AuthorizationNotReadWhenFromHeadersSet",
                  [](Arrange& s) {
                    s.rules[0].from_headers = {{"x-jwt-assertion", ""}};
                    bearer(s, "deadbeef");
                  },
                  true, JwtStatus::kMissing, 200, ""},
        AuthnCase{"FromParams",
                  [](Arrange& s) {
                    s.rules[0].from_params = {"my_token"};
                    s.path = "/headers?my_token=" + token();
                  },
                  true, JwtStatus::kOk, 200, ""},
        AuthnCase{"FromCookies",
                  [](Arrange& s) {
                    s.rules[0].from_cookies = {"session"};
                    s.headers.push_back({"cookie", "theme=dark; session=" + token() + "; x=1"});
                  },
                  true, JwtStatus::kOk, 200, ""},
        // "CORS preflight (OPTIONS + Origin + Access-Control-Request-Method) bypasses JWT".
        AuthnCase{"CorsPreflightBypassesBadToken",
                  [](Arrange& s) {
                    s.method = "OPTIONS";
                    s.headers.push_back({"origin", "https://app.example.com"});
                    s.headers.push_back({"access-control-request-method", "GET"});
                    bearer(s, "deadbeef");
                  },
                  true, JwtStatus::kMissing, 200, ""},
        AuthnCase{"OptionsWithoutOriginIsChecked",
                  [](Arrange& s) {
                    s.method = "OPTIONS";
                    bearer(s, "deadbeef");
                  },
                  false, JwtStatus::kBadFormat, 401, kFormatText},
        // Parse failures: Envoy's texts.
        AuthnCase{"HeaderBadBase64", [](Arrange& s) { bearer(s, "e$$.eyJ9.c2ln"); }, false,
                  JwtStatus::kBadFormat, 401, kFormatText},
        AuthnCase{"HeaderNotBase64url",
                  [](Arrange& s) {
                    s.rules[0].from_headers = {{"x-jwt", ""}};
                    s.headers.push_back({"x-jwt", "e$$.eyJ9.c2ln"});
                  },
                  false, JwtStatus::kHeaderBadBase64, 401,
                  "Jwt header is an invalid Base64url encoded"},
        AuthnCase{"HeaderBadJson",
                  [](Arrange& s) { bearer(s, rawToken("{alg", R"({"iss":"x"})")); }, false,
                  JwtStatus::kHeaderBadJson, 401, "Jwt header is an invalid JSON"},
        AuthnCase{"HeaderWithoutAlg",
                  [](Arrange& s) { bearer(s, rawToken(R"({"typ":"JWT"})", R"({"iss":"x"})")); },
                  false, JwtStatus::kHeaderBadAlg, 401,
                  "Jwt header [alg] field is required and must be a string"},
        AuthnCase{"AlgNoneNotSupported",
                  [](Arrange& s) { bearer(s, rawToken(R"({"alg":"none"})", R"({"iss":"x"})")); },
                  false, JwtStatus::kHeaderNotImplementedAlg, 401,
                  "Jwt header [alg] is not supported"},
        AuthnCase{"KidNotString",
                  [](Arrange& s) { bearer(s, rawToken(R"({"alg":"RS256","kid":7})", "{}")); },
                  false, JwtStatus::kHeaderBadKid, 401, "Jwt header [kid] field is not a string"},
        AuthnCase{"PayloadNotObject",
                  [](Arrange& s) { bearer(s, rawToken(R"({"alg":"RS256"})", "[1]")); }, false,
                  JwtStatus::kPayloadBadJson, 401, "Jwt payload is an invalid JSON"},
        AuthnCase{"ExpNotInteger",
                  [](Arrange& s) {
                    bearer(s, rawToken(R"({"alg":"RS256"})",
                                       R"({"iss":"testing@secure.istio.io","exp":"soon"})"));
                  },
                  false, JwtStatus::kPayloadExpNotInteger, 401,
                  "Jwt payload [exp] field is not an integer"},
        AuthnCase{"AudNotString",
                  [](Arrange& s) { bearer(s, rawToken(R"({"alg":"RS256"})", R"({"aud":5})")); },
                  false, JwtStatus::kPayloadAudNotString, 401,
                  "Jwt payload [aud] field is not a string or string list"},
        AuthnCase{"IssNotString",
                  [](Arrange& s) { bearer(s, rawToken(R"({"alg":"RS256"})", R"({"iss":1})")); },
                  false, JwtStatus::kPayloadIssNotString, 401,
                  "Jwt payload [iss] field is not a string"},
        // Several rules: each is a provider; "OR of all providers and of the AND".
        AuthnCase{"TwoIssuersSecondValidates",
                  [](Arrange& s) {
                    s.rules.push_back(rule(kOtherIssuer, keys().rsa_b.jwksJson()));
                    bearer(s, sign(keys().rsa_b, claims(kOtherIssuer)));
                  },
                  true, JwtStatus::kOk, 200, ""},
        AuthnCase{"TwoIssuersNeitherConfigured",
                  [](Arrange& s) {
                    s.rules.push_back(rule(kOtherIssuer, keys().rsa_b.jwksJson()));
                    bearer(s, token(claims("third")));
                  },
                  false, JwtStatus::kUnknownIssuer, 401, "Jwt issuer is not configured"},
        AuthnCase{"TwoIssuersExpiredBeatsUnknownIssuer",
                  [](Arrange& s) {
                    s.rules.push_back(rule(kOtherIssuer, keys().rsa_b.jwksJson()));
                    auto c = claims(kOtherIssuer);
                    c.expires_at = kNow - 3600;
                    bearer(s, sign(keys().rsa_b, c));
                  },
                  false, JwtStatus::kExpired, 401, "Jwt is expired"},
        AuthnCase{"TwoIssuersNoToken",
                  [](Arrange& s) { s.rules.push_back(rule(kOtherIssuer, keys().rsa_b.jwksJson())); },
                  true, JwtStatus::kMissing, 200, ""},
        AuthnCase{"TwoRulesSameIssuerSecondJwksVerifies",
                  [](Arrange& s) {
                    s.rules[0].jwks = keys().rsa_b.jwksJson();
                    s.rules.push_back(rule());
                    bearer(s, token());
                  },
                  true, JwtStatus::kOk, 200, ""}),
    [](const auto& p) { return std::string(p.param.name); });

// ---------------------------------------------------------------- details of one result

JwtAuthnResult run(const CompiledJwtAuthn& authn, const Headers& headers,
                   const std::string& path = "/headers") {
  JwtRequest req;
  req.host = "httpbin.foo:8000";
  req.path = path;
  req.headers = headers;
  return authenticateJwt(authn, req, kNow);
}

TEST(JwtAuthn, RejectionCarriesWwwAuthenticate) {
  const auto r = run(compile({rule()}), {{"authorization", "Bearer deadbeef"}}, "/headers?a=b");
  ASSERT_FALSE(r.accepted);
  ASSERT_EQ(r.response_headers.size(), 1u);
  EXPECT_EQ(r.response_headers[0].first, "www-authenticate");
  EXPECT_EQ(r.response_headers[0].second,
            "Bearer realm=\"http://httpbin.foo:8000/headers?a=b\", error=\"invalid_token\"");
  EXPECT_EQ(r.policy, "foo/jwt-example");
  EXPECT_EQ(r.rule, 0);
}

TEST(JwtAuthn, AudienceRejectionAlsoCarriesWwwAuthenticate) {
  auto rules = std::vector<model::JwtRule>{rule()};
  rules[0].audiences = {"bookinfo.com"};
  const auto r = run(compile(rules), {{"authorization", "Bearer " + token()}});
  EXPECT_EQ(r.http_status, 403);
  ASSERT_EQ(r.response_headers.size(), 1u);
  EXPECT_EQ(r.response_headers[0].second,
            "Bearer realm=\"http://httpbin.foo:8000/headers\", error=\"invalid_token\"");
}

TEST(JwtAuthn, ForwardOriginalTokenFalseRemovesTheTokenHeader) {
  const auto r = run(compile({rule()}), {{"authorization", "Bearer " + token()}});
  ASSERT_TRUE(r.accepted);
  EXPECT_EQ(r.remove_headers, std::vector<std::string>{"authorization"});
}

TEST(JwtAuthn, ForwardOriginalTokenTrueKeepsIt) {
  auto rules = std::vector<model::JwtRule>{rule()};
  rules[0].forward_original_token = true;
  const auto r = run(compile(rules), {{"authorization", "Bearer " + token()}});
  ASSERT_TRUE(r.accepted);
  EXPECT_TRUE(r.remove_headers.empty());
}

TEST(JwtAuthn, QueryTokenRemovesNoHeader) {
  const auto r = run(compile({rule()}), {}, "/x?access_token=" + token());
  ASSERT_EQ(r.status, JwtStatus::kOk);
  EXPECT_TRUE(r.remove_headers.empty());
}

TEST(JwtAuthn, OutputPayloadAndClaimHeaders) {
  auto rules = std::vector<model::JwtRule>{rule()};
  rules[0].output_payload_to_header = "X-Jwt-Payload";
  rules[0].output_claim_to_headers = {
      {"X-Sub", "sub"}, {"x-org", "org.name"}, {"x-n", "n"}, {"x-missing", "nope"}};
  auto c = claims();
  c.extra_json = R"({"org":{"name":"acme"},"n":42})";
  const std::string t = token(c);
  // An incoming x-sub header must not survive (it could be spoofed).
  const auto r = run(compile(rules), {{"authorization", "Bearer " + t}, {"x-sub", "spoofed"}});
  ASSERT_TRUE(r.accepted) << r.reason;
  const std::string payload = t.substr(t.find('.') + 1, t.rfind('.') - t.find('.') - 1);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"x-jwt-payload", payload}, {"x-sub", "user-1"}, {"x-org", "acme"}, {"x-n", "42"}};
  EXPECT_EQ(r.add_headers, expected);
  const std::vector<std::string> removed = {"x-jwt-payload", "x-n", "x-missing", "x-org", "x-sub"};
  for (const auto& h : removed) {
    EXPECT_NE(std::find(r.remove_headers.begin(), r.remove_headers.end(), h),
              r.remove_headers.end())
        << h;
  }
}

TEST(JwtAuthn, IdentityAndClaims) {
  auto c = claims("testing@secure.istio.io", "user-7");
  c.audiences = {"a.com", "b.com"};
  c.strings = {
      {"scope", "write read"}, {"permission", "p1  p2"}, {"roles", "x y"}, {"azp", "frontend"}};
  c.extra_json = R"({"groups":["dev","ops",3],"org":{"team":{"name":"blue"}},"admin":true,"n":1})";
  auto rules = std::vector<model::JwtRule>{rule()};
  rules[0].space_delimited_claims = {"roles"};
  const auto r = run(compile(rules), {{"authorization", "Bearer " + token(c)}});
  ASSERT_TRUE(r.auth.has_value()) << r.reason;
  const RequestAuth& a = *r.auth;
  EXPECT_EQ(a.issuer, "testing@secure.istio.io");
  EXPECT_EQ(a.subject, "user-7");
  EXPECT_TRUE(a.has_subject);
  EXPECT_EQ(a.audiences, (std::vector<std::string>{"a.com", "b.com"}));
  EXPECT_EQ(a.presenter, "frontend");
  // "scope/permission/spaceDelimitedClaims string claims are split on spaces first".
  ASSERT_NE(a.claim({"scope"}), nullptr);
  EXPECT_EQ(*a.claim({"scope"}), (std::vector<std::string>{"write", "read"}));
  EXPECT_EQ(*a.claim({"permission"}), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(*a.claim({"roles"}), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(*a.claim({"azp"}), (std::vector<std::string>{"frontend"}));
  // "nested via claims[a][b]; list-valued claims match if any element matches".
  ASSERT_NE(a.claim({"org", "team", "name"}), nullptr);
  EXPECT_EQ(*a.claim({"org", "team", "name"}), (std::vector<std::string>{"blue"}));
  EXPECT_EQ(*a.claim({"groups"}), (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(*a.claim({"iss"}), (std::vector<std::string>{"testing@secure.istio.io"}));
  // Numbers and booleans never match Istio's string matchers.
  EXPECT_EQ(a.claim({"admin"}), nullptr);
  EXPECT_EQ(a.claim({"exp"}), nullptr);
}

TEST(JwtAuthn, ScopeNotSplitWhenNotTopLevel) {
  auto c = claims();
  c.extra_json = R"({"ext":{"scope":"a b"}})";
  const auto r = run(compile({rule()}), {{"authorization", "Bearer " + token(c)}});
  ASSERT_TRUE(r.auth.has_value());
  EXPECT_EQ(*r.auth->claim({"ext", "scope"}), (std::vector<std::string>{"a b"}));
}

TEST(JwtAuthn, TokenWithoutSubject) {
  auto c = claims();
  c.subject.clear();
  const auto r = run(compile({rule()}), {{"authorization", "Bearer " + token(c)}});
  ASSERT_TRUE(r.auth.has_value());
  EXPECT_FALSE(r.auth->has_subject);
}

TEST(JwtAuthn, NoRulesIgnoresEveryToken) {
  const CompiledJwtAuthn none;
  EXPECT_TRUE(none.empty());
  const auto r = run(none, {{"authorization", "Bearer deadbeef"}});
  EXPECT_TRUE(r.accepted);
  EXPECT_EQ(r.status, JwtStatus::kMissing);
}

TEST(JwtAuthn, WarningsNameTheRuleWithoutJwks) {
  auto rules = std::vector<model::JwtRule>{rule()};
  rules[0].jwks.clear();
  rules[0].jwks_uri = "https://nowhere.example.com/jwks.json";
  const auto authn = compile(rules);
  ASSERT_EQ(authn.warnings().size(), 1u);
  EXPECT_NE(authn.warnings()[0].find("rule 0 (foo/jwt-example"), std::string::npos)
      << authn.warnings()[0];
}

TEST(JwtAuthn, ApplyToDecision) {
  const auto r = run(compile({rule()}), {{"authorization", "Bearer " + tamper(token(), 2)}});
  Decision d;
  applyToDecision(r, d);
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.body, "Jwt verification fails");
  EXPECT_EQ(d.stage, Stage::kJwt);
  EXPECT_EQ(d.policy, "foo/jwt-example");
  EXPECT_EQ(d.rule, 0);
  EXPECT_EQ(d.trace.size(), 1u);

  Decision ok;
  applyToDecision(run(compile({rule()}), {}), ok);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.stage, Stage::kNone);
}

// ---------------------------------------------------------------- selection and merge

model::Workload workload(std::string ns, model::StringMap labels) {
  model::Workload w;
  w.meta.kind = "Workload";
  w.meta.namespace_ = std::move(ns);
  w.meta.name = "httpbin";
  w.labels = std::move(labels);
  return w;
}

model::RequestAuthentication ra(std::string ns, std::string name, model::StringMap selector,
                                std::string issuer, int64_t created = 1) {
  model::RequestAuthentication r;
  r.meta.kind = "RequestAuthentication";
  r.meta.namespace_ = std::move(ns);
  r.meta.name = std::move(name);
  r.meta.creation_index = created;
  r.selector.match_labels = std::move(selector);
  r.selector.present = !r.selector.match_labels.empty();
  model::JwtRule jr;
  jr.issuer = std::move(issuer);
  jr.jwks = R"({"keys":[]})";
  r.jwt_rules.push_back(jr);
  return r;
}

TEST(JwtSelection, RootAndWorkloadNamespaceWithSelectorSubset) {
  auto targeted = ra("foo", "targeted", {}, "t");
  targeted.has_target_ref = true;
  auto snap = config::makeSnapshot({
      ra("foo", "ns-wide", {}, "z-ns"),
      ra("foo", "for-httpbin", {{"app", "httpbin"}}, "a-workload"),
      ra("foo", "for-other", {{"app", "other"}}, "other"),
      ra("foo", "needs-more", {{"app", "httpbin"}, {"version", "v9"}}, "more"),
      ra("bar", "other-ns", {}, "bar"),
      ra("istio-system", "mesh", {}, "m-mesh"),
      ra("istio-system", "mesh-selector", {{"app", "httpbin"}}, "m-sel"),
      targeted,
  });
  const auto w = workload("foo", {{"app", "httpbin"}, {"version", "v1"}});
  const auto applied = applicableRequestAuthentications(*snap, w);
  std::vector<std::string> names;
  for (const auto* p : applied) names.push_back(p->meta.namespace_ + "/" + p->meta.name);
  EXPECT_EQ(names, (std::vector<std::string>{"istio-system/mesh", "istio-system/mesh-selector",
                                             "foo/for-httpbin", "foo/ns-wide"}));
  const auto merged = mergeJwtRules(applied);
  std::vector<std::string> issuers;
  for (const auto& r : merged) issuers.push_back(r.rule.issuer + "@" + r.policy);
  EXPECT_EQ(issuers,
            (std::vector<std::string>{"a-workload@foo/for-httpbin", "m-mesh@istio-system/mesh",
                                      "m-sel@istio-system/mesh-selector", "z-ns@foo/ns-wide"}));
}

TEST(JwtSelection, OrganizationRootNamespace) {
  model::Organization org;
  org.meta.kind = "Organization";
  org.meta.name = "acme";
  org.root_namespace = "mesh-root";
  auto snap =
      config::makeSnapshot({org, ra("mesh-root", "m", {}, "m"), ra("istio-system", "x", {}, "x")});
  const auto applied = applicableRequestAuthentications(*snap, workload("foo", {}));
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0]->meta.name, "m");
}

// ---------------------------------------------------------------- IdentityProvider keys

model::IdentityProvider idp(std::string name, std::string issuer, std::string alg = "ES256") {
  model::IdentityProvider p;
  p.meta.kind = "IdentityProvider";
  p.meta.name = std::move(name);
  p.issuer = std::move(issuer);
  p.algorithm = std::move(alg);
  p.audiences = {"bookinfo"};
  p.users = {{"alice", {{"scope", "read write"}}}, {"bob", {}}};
  return p;
}

TEST(IdentityProvider, JwksUriResolution) {
  auto snap = config::makeSnapshot(
      {idp("corp", "https://idp.example.com"), idp("corp-eu", "https://idp.example.com/eu")});
  EXPECT_EQ(identityProviderForJwksUri(*snap, "meshsim://idp/corp")->meta.name, "corp");
  EXPECT_EQ(
      identityProviderForJwksUri(*snap, "https://idp.example.com/.well-known/jwks.json")->meta.name,
      "corp");
  EXPECT_EQ(identityProviderForJwksUri(*snap, "https://idp.example.com/eu/keys")->meta.name,
            "corp-eu");
  EXPECT_EQ(identityProviderForJwksUri(*snap, "https://idp.example.com.evil/jwks"), nullptr);
  EXPECT_EQ(identityProviderForJwksUri(*snap, "meshsim://idp/none"), nullptr);
}

TEST(IdentityProvider, IssuedTokenValidatesThroughJwksUri) {
  const auto provider = idp("corp", "https://idp.example.com");
  auto snap = config::makeSnapshot({provider});
  IdentityProviderKeys registry;
  model::JwtRule r;
  r.issuer = "https://idp.example.com";
  r.jwks_uri = "https://idp.example.com/.well-known/jwks.json";
  r.audiences = {"bookinfo"};
  const auto authn = compileJwtAuthn({{r, "foo/ra"}}, snap.get(), &registry);
  EXPECT_TRUE(authn.warnings().empty());
  auto t = registry.issueToken(provider, "alice", kNow);
  ASSERT_TRUE(t.ok()) << t.status().toString();
  const auto res = run(authn, {{"authorization", "Bearer " + *t}});
  ASSERT_EQ(res.status, JwtStatus::kOk) << res.reason;
  EXPECT_EQ(res.auth->subject, "alice");
  EXPECT_EQ(*res.auth->claim({"scope"}), (std::vector<std::string>{"read", "write"}));
  // tokenTtl defaults to one hour: two hours later the token is expired.
  JwtRequest later;
  const Headers h = {{"authorization", "Bearer " + *t}};
  later.headers = h;
  EXPECT_EQ(authenticateJwt(authn, later, kNow + 7200).status, JwtStatus::kExpired);
  EXPECT_EQ(registry.size(), 1u);
}

TEST(IdentityProvider, KeyIsGeneratedOnceAndReplacedWhenAlgorithmChanges) {
  IdentityProviderKeys registry;
  auto p = idp("corp", "https://idp.example.com");
  auto first = registry.signerFor(p);
  auto again = registry.signerFor(p);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_EQ((*first)->kid(), "corp");
  p.algorithm = "RS256";
  auto rsa = registry.signerFor(p);
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ((*rsa)->algorithm(), JwtAlgorithm::kRs256);
  EXPECT_EQ(registry.size(), 1u);
}

TEST(IdentityProvider, Errors) {
  IdentityProviderKeys registry;
  auto p = idp("corp", "https://idp.example.com");
  const auto unknown_user = registry.issueToken(p, "mallory", kNow);
  EXPECT_EQ(unknown_user.status().code(), StatusCode::kNotFound);
  p.algorithm = "HS256";
  EXPECT_EQ(registry.signerFor(p).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.jwksFor(p).status().code(), StatusCode::kInvalidArgument);
}

TEST(IdentityProvider, MeshsimSchemeWithoutRegistryIsFetchFailure) {
  auto snap = config::makeSnapshot({idp("corp", "https://idp.example.com")});
  model::JwtRule r;
  r.issuer = kIssuer;
  r.jwks_uri = "meshsim://idp/corp";
  const auto authn = compileJwtAuthn({{r, "foo/ra"}}, snap.get(), nullptr);
  const auto res = run(authn, {{"authorization", "Bearer " + token()}});
  EXPECT_EQ(res.http_status, 401);
  EXPECT_EQ(res.body, "Jwks remote fetch is failed");
}

// ---------------------------------------------------------------- building blocks

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    const std::string enc = base64UrlEncode(bytes);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    auto dec = base64UrlDecode(enc);
    ASSERT_TRUE(dec.ok());
    EXPECT_EQ(*dec, bytes);
    bytes.push_back(static_cast<char>(i * 37 + 250));
  }
}

TEST(Base64Url, KnownVectorsAndErrors) {
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_EQ(*base64UrlDecode("-_8="), "\xfb\xff");
  EXPECT_EQ(base64UrlDecode("ab+c").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(base64UrlDecode("abcde").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseJwt, ReadsHeaderAndClaims) {
  auto c = claims();
  c.audiences = {"x"};
  c.not_before = kNow - 5;
  ParsedJwt p;
  ASSERT_EQ(parseJwt(token(c), p), JwtStatus::kOk);
  EXPECT_EQ(p.alg, "RS256");
  EXPECT_EQ(p.kid, "rsa-1");
  EXPECT_EQ(p.issuer, kIssuer);
  EXPECT_EQ(p.subject, "user-1");
  EXPECT_EQ(p.audiences, std::vector<std::string>{"x"});
  EXPECT_EQ(p.exp, static_cast<uint64_t>(kNow + 3600));
  EXPECT_EQ(p.nbf, static_cast<uint64_t>(kNow - 5));
  EXPECT_EQ(p.signature.size(), 256u);
}

TEST(ParseJwt, NegativeExpIsOutOfRange) {
  ParsedJwt p;
  EXPECT_EQ(parseJwt(rawToken(R"({"alg":"RS256"})", R"({"exp":-1})"), p),
            JwtStatus::kPayloadExpOutOfRange);
  EXPECT_STREQ(jwtStatusText(JwtStatus::kPayloadExpOutOfRange),
               "Jwt payload [exp] field is not a positive 64 bit integer");
}

TEST(Signer, Es256SignatureIsRawRAndS) {
  ParsedJwt p;
  ASSERT_EQ(parseJwt(sign(keys().ec, claims()), p), JwtStatus::kOk);
  EXPECT_EQ(p.alg, "ES256");
  EXPECT_EQ(p.signature.size(), 64u);
  auto jwks = Jwks::parse(keys().ec.jwksJson());
  ASSERT_TRUE(jwks.ok());
  EXPECT_EQ(jwks->verify(p), JwtStatus::kOk);
}

TEST(Signer, RoundTripsBothAlgorithms) {
  for (const JwtSigner* s : {&keys().rsa, &keys().ec}) {
    auto jwks = Jwks::parse(s->jwksJson());
    ASSERT_TRUE(jwks.ok()) << jwks.status().toString();
    EXPECT_EQ(jwks->kids(), std::vector<std::string>{s->kid()});
    ParsedJwt p;
    ASSERT_EQ(parseJwt(sign(*s, claims()), p), JwtStatus::kOk);
    EXPECT_EQ(jwks->verify(p), JwtStatus::kOk);
    ASSERT_EQ(parseJwt(tamper(sign(*s, claims()), 2), p), JwtStatus::kOk);
    EXPECT_EQ(jwks->verify(p), JwtStatus::kVerificationFail);
  }
}

TEST(Signer, SignJsonRejectsNonObjects) {
  EXPECT_EQ(keys().rsa.signJson("[1,2]").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys().rsa.signJson("{oops").status().code(), StatusCode::kInvalidArgument);
  JwtClaims c;
  c.extra_json = "42";
  EXPECT_EQ(keys().rsa.sign(c).status().code(), StatusCode::kInvalidArgument);
}

struct JwksCase {
  const char* name;
  std::string json;
  std::string error;  // empty = parses
};

class JwksParseTable : public ::testing::TestWithParam<JwksCase> {};

TEST_P(JwksParseTable, Parses) {
  const auto& c = GetParam();
  auto r = Jwks::parse(c.json);
  if (c.error.empty()) {
    EXPECT_TRUE(r.ok()) << r.status().toString();
  } else {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), c.error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Envoy, JwksParseTable,
    ::testing::Values(
        JwksCase{"InvalidJson", "{", "Jwks is an invalid JSON"},
        JwksCase{"NoKeys", "{}", "Jwks does not have [keys] field"},
        JwksCase{"KeysNotArray", R"({"keys":{}})", "[keys] in Jwks is not an array"},
        JwksCase{"EmptyKeys", R"({"keys":[]})", "Jwks doesn't have any valid public key"},
        JwksCase{"MissingKty", R"({"keys":[{"kid":"a"}]})",
                 "Jwks doesn't have any valid public key ([kty] is missing in [keys])"},
        JwksCase{"RsaMissingN", R"({"keys":[{"kty":"RSA","e":"AQAB"}]})",
                 "Jwks doesn't have any valid public key ([n] field is missing for a RSA key)"},
        JwksCase{"RsaBadAlg", R"({"keys":[{"kty":"RSA","alg":"ES256","n":"AQAB","e":"AQAB"}]})",
                 "Jwks doesn't have any valid public key ([alg] is not started with [RS] or [PS] "
                 "for an RSA key)"},
        JwksCase{"EcBadCurve", R"({"keys":[{"kty":"EC","crv":"P-192","x":"AA","y":"AA"}]})",
                 "Jwks doesn't have any valid public key ([crv] or [alg] field is not supported "
                 "for an EC key)"},
        JwksCase{
            "EcPointNotOnCurve",
            R"({"keys":[{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}]})",
            "Jwks doesn't have any valid public key (Jwks EC [x] and [y] fields have a parse "
            "error.)"},
        JwksCase{"OnlyHmacKey", R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})",
                 "Jwks doesn't have any valid public key"},
        JwksCase{"UnsupportedKty", R"({"keys":[{"kty":"XYZ"}]})",
                 "Jwks doesn't have any valid public key ([kty] is not supported in [keys])"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Jwks, SkipsHmacKeysAndStopsAtFirstBadKey) {
  const std::string rsa_key = keys().rsa.jwksJson();
  const std::string key =
      rsa_key.substr(rsa_key.find('[') + 1, rsa_key.rfind(']') - rsa_key.find('[') - 1);
  auto r = Jwks::parse(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"},)" + key + R"(,{"kty":"RSA"},)" +
                       key + "]}");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->size(), 1u);
}

}  // namespace
}  // namespace meshsim::policy
