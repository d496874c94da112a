// base64url, Envoy's JWT status texts, and compact-JWT parsing in jwt_verify_lib's order.
#include <array>
#include <limits>

#include "meshsim/policy/jwt.h"
#include "policy/jwt_internal.h"

namespace meshsim::policy {

namespace {

constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encodeWith(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) out.append("==");
  } else if (rest == 2) {
    const uint32_t v =
        (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.push_back('=');
  }
  return out;
}

constexpr std::array<int8_t, 256> makeUrlDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& t : table) t = -1;
  for (size_t i = 0; i < kUrlAlphabet.size(); ++i) {
    table[static_cast<uint8_t>(kUrlAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kUrlDecode = makeUrlDecodeTable();

// Reads an unsigned integer claim the way jwt_verify_lib's StructUtils::GetUInt64 does.
enum class IntClaim { kAbsent, kOk, kWrongType, kOutOfRange };
IntClaim readUint(const nlohmann::json& payload, const char* name, uint64_t& out) {
  auto it = payload.find(name);
  if (it == payload.end()) return IntClaim::kAbsent;
  if (!it->is_number()) return IntClaim::kWrongType;
  if (it->is_number_unsigned()) {
    out = it->get<uint64_t>();
    return IntClaim::kOk;
  }
  if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    if (v < 0) return IntClaim::kOutOfRange;
    out = static_cast<uint64_t>(v);
    return IntClaim::kOk;
  }
  const double d = it->get<double>();
  if (!(d >= 0) || d >= static_cast<double>(std::numeric_limits<uint64_t>::max())) {
    return IntClaim::kOutOfRange;
  }
  out = static_cast<uint64_t>(d);
  return IntClaim::kOk;
}

bool supportedAlg(std::string_view alg) {
  static constexpr std::array<std::string_view, 13> kAlgs = {
      "ES256", "ES384", "ES512", "HS256", "HS384", "HS512", "RS256",
      "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"};
  for (auto a : kAlgs) {
    if (a == alg) return true;
  }
  return false;
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
  return encodeWith(bytes, kUrlAlphabet, false);
}

Result<std::string> base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) {
    return invalidArgument("base64url text has an impossible length (" +
                           std::to_string(text.size()) + " characters)");
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int8_t v = kUrlDecode[static_cast<uint8_t>(text[i])];
    if (v < 0) {
      return invalidArgument("character " + std::to_string(i) +
                             " is not in the base64url alphabet");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

const char* jwtStatusText(JwtStatus status) {
  switch (status) {
    case JwtStatus::kOk:
      return "OK";
    case JwtStatus::kMissing:
      return "Jwt is missing";
    case JwtStatus::kNotYetValid:
      return "Jwt not yet valid";
    case JwtStatus::kExpired:
      return "Jwt is expired";
    case JwtStatus::kBadFormat:
      return "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
    case JwtStatus::kHeaderBadBase64:
      return "Jwt header is an invalid Base64url encoded";
    case JwtStatus::kHeaderBadJson:
      return "Jwt header is an invalid JSON";
    case JwtStatus::kHeaderBadAlg:
      return "Jwt header [alg] field is required and must be a string";
    case JwtStatus::kHeaderNotImplementedAlg:
      return "Jwt header [alg] is not supported";
    case JwtStatus::kHeaderBadKid:
      return "Jwt header [kid] field is not a string";
    case JwtStatus::kPayloadBadBase64:
      return "Jwt payload is an invalid Base64url encoded";
    case JwtStatus::kPayloadBadJson:
      return "Jwt payload is an invalid JSON";
    case JwtStatus::kPayloadIssNotString:
      return "Jwt payload [iss] field is not a string";
    case JwtStatus::kPayloadSubNotString:
      return "Jwt payload [sub] field is not a string";
    case JwtStatus::kPayloadIatNotInteger:
      return "Jwt payload [iat] field is not an integer";
    case JwtStatus::kPayloadIatOutOfRange:
      return "Jwt payload [iat] field is not a positive 64 bit integer";
    case JwtStatus::kPayloadNbfNotInteger:
      return "Jwt payload [nbf] field is not an integer";
    case JwtStatus::kPayloadNbfOutOfRange:
      return "Jwt payload [nbf] field is not a positive 64 bit integer";
    case JwtStatus::kPayloadExpNotInteger:
      return "Jwt payload [exp] field is not an integer";
    case JwtStatus::kPayloadExpOutOfRange:
      return "Jwt payload [exp] field is not a positive 64 bit integer";
    case JwtStatus::kPayloadJtiNotString:
      return "Jwt payload [jti] field is not a string";
    case JwtStatus::kPayloadAudNotString:
      return "Jwt payload [aud] field is not a string or string list";
    case JwtStatus::kSignatureBadBase64:
      return "Jwt signature is an invalid Base64url encoded";
    case JwtStatus::kUnknownIssuer:
      return "Jwt issuer is not configured";
    case JwtStatus::kAudienceNotAllowed:
      return "Audiences in Jwt are not allowed";
    case JwtStatus::kVerificationFail:
      return "Jwt verification fails";
    case JwtStatus::kJwksKidAlgMismatch:
      return "Jwks doesn't have key to match kid or alg from Jwt";
    case JwtStatus::kJwksFetchFail:
      return "Jwks remote fetch is failed";
  }
  return "";
}

int jwtHttpStatus(JwtStatus status) {
  switch (status) {
    case JwtStatus::kOk:
    case JwtStatus::kMissing:
      return 200;
    case JwtStatus::kAudienceNotAllowed:
      return 403;
    default:
      return 401;
  }
}

namespace jwt_internal {

std::string base64StdEncode(std::string_view bytes) {
  return encodeWith(bytes, kStdAlphabet, true);
}

JwtStatus decodeJwt(std::string_view token, DecodedJwt& out) {
  ParsedJwt& p = out.parsed;
  p = ParsedJwt{};
  out.payload = nlohmann::json();

  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos ||
      dot1 == 0 || dot2 == dot1 + 1 || dot2 + 1 == token.size()) {
    return JwtStatus::kBadFormat;
  }
  const std::string_view header = token.substr(0, dot1);
  const std::string_view payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature = token.substr(dot2 + 1);

  auto header_text = base64UrlDecode(header);
  if (!header_text.ok()) return JwtStatus::kHeaderBadBase64;
  p.header_b64 = std::string(header);
  p.header_json = std::move(header_text).value();
  nlohmann::json header_obj = nlohmann::json::parse(p.header_json, nullptr, false);
  if (header_obj.is_discarded() || !header_obj.is_object()) return JwtStatus::kHeaderBadJson;

  auto alg = header_obj.find("alg");
  if (alg == header_obj.end() || !alg->is_string()) return JwtStatus::kHeaderBadAlg;
  p.alg = alg->get<std::string>();
  if (!supportedAlg(p.alg)) return JwtStatus::kHeaderNotImplementedAlg;
  if (auto kid = header_obj.find("kid"); kid != header_obj.end()) {
    if (!kid->is_string()) return JwtStatus::kHeaderBadKid;
    p.kid = kid->get<std::string>();
  }

  auto payload_text = base64UrlDecode(payload);
  if (!payload_text.ok()) return JwtStatus::kPayloadBadBase64;
  p.payload_b64 = std::string(payload);
  p.payload_json = std::move(payload_text).value();
  out.payload = nlohmann::json::parse(p.payload_json, nullptr, false);
  if (out.payload.is_discarded() || !out.payload.is_object()) return JwtStatus::kPayloadBadJson;
  const nlohmann::json& claims = out.payload;

  if (auto iss = claims.find("iss"); iss != claims.end()) {
    if (!iss->is_string()) return JwtStatus::kPayloadIssNotString;
    p.issuer = iss->get<std::string>();
  }
  if (auto sub = claims.find("sub"); sub != claims.end()) {
    if (!sub->is_string()) return JwtStatus::kPayloadSubNotString;
    p.subject = sub->get<std::string>();
    p.has_subject = true;
  }
  struct IntField {
    const char* name;
    uint64_t* target;
    JwtStatus wrong_type;
    JwtStatus out_of_range;
  };
  const IntField int_fields[] = {
      {"iat", &p.iat, JwtStatus::kPayloadIatNotInteger, JwtStatus::kPayloadIatOutOfRange},
      {"nbf", &p.nbf, JwtStatus::kPayloadNbfNotInteger, JwtStatus::kPayloadNbfOutOfRange},
      {"exp", &p.exp, JwtStatus::kPayloadExpNotInteger, JwtStatus::kPayloadExpOutOfRange},
  };
  for (const auto& f : int_fields) {
    switch (readUint(claims, f.name, *f.target)) {
      case IntClaim::kWrongType:
        return f.wrong_type;
      case IntClaim::kOutOfRange:
        return f.out_of_range;
      case IntClaim::kAbsent:
      case IntClaim::kOk:
        break;
    }
  }
  if (auto jti = claims.find("jti"); jti != claims.end() && !jti->is_string()) {
    return JwtStatus::kPayloadJtiNotString;
  }
  if (auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) {
      p.audiences.push_back(aud->get<std::string>());
    } else if (aud->is_array()) {
      for (const auto& a : *aud) {
        if (!a.is_string()) return JwtStatus::kPayloadAudNotString;
        p.audiences.push_back(a.get<std::string>());
      }
    } else {
      return JwtStatus::kPayloadAudNotString;
    }
  }

  auto sig = base64UrlDecode(signature);
  if (!sig.ok()) return JwtStatus::kSignatureBadBase64;
  p.signature = std::move(sig).value();
  return JwtStatus::kOk;
}

}  // namespace jwt_internal

JwtStatus parseJwt(std::string_view token, ParsedJwt& out) {
  jwt_internal::DecodedJwt decoded;
  const JwtStatus status = jwt_internal::decodeJwt(token, decoded);
  out = std::move(decoded.parsed);
  return status;
}

}  // namespace meshsim::policy
