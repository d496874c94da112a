#pragma once
// Private helpers shared by the jwt_*.cpp files. Not part of the public API.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "meshsim/policy/jwt.h"

namespace meshsim::policy::jwt_internal {

/// A parsed JWT plus its payload as JSON, so that claims are read without parsing twice.
struct DecodedJwt {
  ParsedJwt parsed;
  nlohmann::json payload;
};

/// parseJwt() that also keeps the payload object.
JwtStatus decodeJwt(std::string_view token, DecodedJwt& out);

/// Standard base64 with padding (RFC 4648 section 4), used for claim headers as Envoy does.
std::string base64StdEncode(std::string_view bytes);

}  // namespace meshsim::policy::jwt_internal
