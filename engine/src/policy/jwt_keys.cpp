// JWKS parsing, RS/PS/ES signature verification, the JWT signer and the IdentityProvider key
// registry. OpenSSL 3 EVP APIs only; no OpenSSL type leaves this file.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>

#include "meshsim/policy/jwt.h"
#include "policy/jwt_internal.h"

namespace meshsim::policy {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The last OpenSSL error as text, clearing the queue so that it never leaks into later calls.
std::string opensslError() {
  const unsigned long code = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

enum class KeyType { kRsa, kEc };

struct Curve {
  const char* jwk_name;      // "P-256"
  const char* openssl_name;  // group name accepted by OpenSSL
  size_t coordinate_bytes;
  const char* alg;  // the ES alg that goes with the curve
};
constexpr Curve kCurves[] = {
    {"P-256", "P-256", 32, "ES256"},
    {"P-384", "P-384", 48, "ES384"},
    {"P-521", "P-521", 66, "ES512"},
};

const Curve* findCurve(std::string_view jwk_name) {
  for (const auto& c : kCurves) {
    if (jwk_name == c.jwk_name) return &c;
  }
  return nullptr;
}
const Curve* curveForAlg(std::string_view alg) {
  for (const auto& c : kCurves) {
    if (alg == c.alg) return &c;
  }
  return nullptr;
}

const EVP_MD* digestForAlg(std::string_view alg) {
  if (alg.size() == 5 && alg.substr(2) == "384") return EVP_sha384();
  if (alg.size() == 5 && alg.substr(2) == "512") return EVP_sha512();
  return EVP_sha256();
}

PkeyPtr rsaPublicKey(std::string_view n, std::string_view e) {
  BnPtr bn_n(BN_bin2bn(bytes(n), static_cast<int>(n.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(bytes(e), static_cast<int>(e.size()), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || BN_is_zero(bn_n.get()) || BN_is_zero(bn_e.get()) ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return PkeyPtr(raw);
}

PkeyPtr ecPublicKey(const Curve& curve, std::string_view x, std::string_view y) {
  if (x.size() != curve.coordinate_bytes || y.size() != curve.coordinate_bytes) return nullptr;
  std::string point;
  point.reserve(1 + 2 * curve.coordinate_bytes);
  point.push_back('\x04');  // uncompressed point
  point.append(x);
  point.append(y);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve.openssl_name,
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  PkeyPtr key(raw);
  // The point must lie on the curve; fromdata alone does not promise that check.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return key;
}

// Converts a JWS ECDSA signature (r || s, fixed width) to the DER form EVP expects.
std::string rawEcdsaToDer(std::string_view raw, size_t coordinate_bytes) {
  if (raw.size() != 2 * coordinate_bytes) return {};
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes(raw), static_cast<int>(coordinate_bytes), nullptr);
  BIGNUM* s = BN_bin2bn(bytes(raw) + coordinate_bytes, static_cast<int>(coordinate_bytes), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return {};
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) {
    ERR_clear_error();
    return {};
  }
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &out);
  return der;
}

// Converts a DER ECDSA signature to the JWS form r || s.
std::string derEcdsaToRaw(std::string_view der, size_t coordinate_bytes) {
  const unsigned char* in = bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));  // NOLINT
  if (!sig) {
    ERR_clear_error();
    return {};
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * coordinate_bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, static_cast<int>(coordinate_bytes)) < 0 ||
      BN_bn2binpad(s, out + coordinate_bytes, static_cast<int>(coordinate_bytes)) < 0) {
    ERR_clear_error();
    return {};
  }
  return raw;
}

bool verifyDigest(EVP_PKEY* key, const EVP_MD* md, bool pss, std::string_view signature,
                  std::string_view signed_data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    ERR_clear_error();
    return false;
  }
  if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    ERR_clear_error();
    return false;
  }
  const int rc = EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(signed_data),
                                  signed_data.size());
  if (rc != 1) ERR_clear_error();
  return rc == 1;
}

Result<std::string> signDigest(EVP_PKEY* key, std::string_view data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes(data), data.size()) != 1) {
    return internalError("JWT signing failed: " + opensslError());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(data),
                     data.size()) != 1) {
    return internalError("JWT signing failed: " + opensslError());
  }
  sig.resize(len);
  return sig;
}

std::string bnParam(EVP_PKEY* key, const char* name, int pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) {
    ERR_clear_error();
    return {};
  }
  BnPtr bn(raw);
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn.get());
  std::string out(static_cast<size_t>(size), '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) < 0) {
    ERR_clear_error();
    return {};
  }
  return out;
}

// Reads an optional string member; false when present with another type.
bool optionalString(const nlohmann::json& obj, const char* name, std::string& out, bool& present) {
  auto it = obj.find(name);
  present = it != obj.end();
  if (!present) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

}  // namespace

// ---------------------------------------------------------------- Jwks

struct Jwks::Impl {
  struct Key {
    std::string kid;  // "" = unspecified
    std::string alg;  // "" = unspecified
    KeyType type = KeyType::kRsa;
    const Curve* curve = nullptr;  // EC only
    PkeyPtr pkey;
  };
  std::vector<Key> keys;
};

Jwks::Jwks() : impl_(std::make_shared<const Impl>()) {}
Jwks::Jwks(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Jwks::~Jwks() = default;
Jwks::Jwks(const Jwks&) = default;
Jwks& Jwks::operator=(const Jwks&) = default;
Jwks::Jwks(Jwks&&) noexcept = default;
Jwks& Jwks::operator=(Jwks&&) noexcept = default;

size_t Jwks::size() const { return impl_ ? impl_->keys.size() : 0; }

std::vector<std::string> Jwks::kids() const {
  std::vector<std::string> out;
  if (!impl_) return out;
  for (const auto& k : impl_->keys) out.push_back(k.kid);
  return out;
}

Result<Jwks> Jwks::parse(std::string_view json) {
  const nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return invalidArgument("Jwks is an invalid JSON");
  auto keys_it = doc.find("keys");
  if (keys_it == doc.end()) return invalidArgument("Jwks does not have [keys] field");
  if (!keys_it->is_array()) return invalidArgument("[keys] in Jwks is not an array");

  auto impl = std::make_shared<Impl>();
  std::string first_error;
  for (const auto& entry : *keys_it) {
    if (!entry.is_object()) continue;
    Impl::Key key;
    std::string kty;
    bool present = false;
    if (!optionalString(entry, "kty", kty, present)) {
      first_error = "[kty] is bad in [keys]";
      break;
    }
    if (!present) {
      first_error = "[kty] is missing in [keys]";
      break;
    }
    if (!optionalString(entry, "kid", key.kid, present)) {
      first_error = "[kid] is bad in [keys]";
      break;
    }
    if (!optionalString(entry, "alg", key.alg, present)) {
      first_error = "[alg] is bad in [keys]";
      break;
    }
    if (kty == "oct" || kty == "OKP") continue;  // HMAC/EdDSA keys: not verified by meshsim
    if (kty == "RSA") {
      if (!key.alg.empty() && key.alg.rfind("RS", 0) != 0 && key.alg.rfind("PS", 0) != 0) {
        first_error = "[alg] is not started with [RS] or [PS] for an RSA key";
        break;
      }
      std::string n, e;
      bool has_n = false, has_e = false;
      if (!optionalString(entry, "n", n, has_n) || !has_n) {
        first_error =
            has_n ? "[n] field is not string for a RSA key" : "[n] field is missing for a RSA key";
        break;
      }
      if (!optionalString(entry, "e", e, has_e) || !has_e) {
        first_error =
            has_e ? "[e] field is not string for a RSA key" : "[e] field is missing for a RSA key";
        break;
      }
      auto n_bytes = base64UrlDecode(n);
      auto e_bytes = base64UrlDecode(e);
      if (n_bytes.ok() && e_bytes.ok()) key.pkey = rsaPublicKey(*n_bytes, *e_bytes);
      if (!key.pkey) {
        first_error = "Jwks RSA [n] or [e] field is missing or has a parse error";
        break;
      }
      key.type = KeyType::kRsa;
    } else if (kty == "EC") {
      if (!key.alg.empty() && key.alg.rfind("ES", 0) != 0) {
        first_error = "[alg] is not started with [ES] for an EC key";
        break;
      }
      std::string crv;
      if (!optionalString(entry, "crv", crv, present)) {
        first_error = "[crv] field is not string for an EC key";
        break;
      }
      const Curve* curve =
          present ? findCurve(crv) : curveForAlg(key.alg.empty() ? "ES256" : key.alg);
      if (curve == nullptr) {
        first_error = "[crv] or [alg] field is not supported for an EC key";
        break;
      }
      if (!key.alg.empty() && key.alg != curve->alg) {
        first_error = "[crv] field specified is not compatible with [alg] for an EC key";
        break;
      }
      std::string x, y;
      bool has_x = false, has_y = false;
      if (!optionalString(entry, "x", x, has_x) || !has_x) {
        first_error =
            has_x ? "[x] field is not string for an EC key" : "[x] field is missing for an EC key";
        break;
      }
      if (!optionalString(entry, "y", y, has_y) || !has_y) {
        first_error =
            has_y ? "[y] field is not string for an EC key" : "[y] field is missing for an EC key";
        break;
      }
      auto x_bytes = base64UrlDecode(x);
      auto y_bytes = base64UrlDecode(y);
      if (!x_bytes.ok() || !y_bytes.ok()) {
        first_error = "Jwks EC [x] or [y] field is an invalid Base64.";
        break;
      }
      key.pkey = ecPublicKey(*curve, *x_bytes, *y_bytes);
      if (!key.pkey) {
        first_error = "Jwks EC [x] and [y] fields have a parse error.";
        break;
      }
      key.type = KeyType::kEc;
      key.curve = curve;
    } else {
      first_error = "[kty] is not supported in [keys]";
      break;
    }
    impl->keys.push_back(std::move(key));
  }
  if (impl->keys.empty()) {
    std::string msg = "Jwks doesn't have any valid public key";
    if (!first_error.empty()) msg += " (" + first_error + ")";
    return invalidArgument(std::move(msg));
  }
  return Jwks(std::shared_ptr<const Impl>(std::move(impl)));
}

JwtStatus Jwks::verify(const ParsedJwt& jwt) const {
  if (!impl_) return JwtStatus::kJwksKidAlgMismatch;
  const std::string signed_data = jwt.header_b64 + "." + jwt.payload_b64;
  bool kid_alg_matched = false;
  for (const auto& key : impl_->keys) {
    if (!jwt.kid.empty() && !key.kid.empty() && key.kid != jwt.kid) continue;
    if (!key.alg.empty() && key.alg != jwt.alg) continue;
    kid_alg_matched = true;
    const EVP_MD* md = digestForAlg(jwt.alg);
    if (key.type == KeyType::kEc) {
      const std::string der = rawEcdsaToDer(jwt.signature, key.curve->coordinate_bytes);
      if (!der.empty() && verifyDigest(key.pkey.get(), md, false, der, signed_data)) {
        return JwtStatus::kOk;
      }
    } else {
      const bool pss = jwt.alg.rfind("PS", 0) == 0;
      const bool rsa_alg = pss || jwt.alg.rfind("RS", 0) == 0;
      if (rsa_alg && verifyDigest(key.pkey.get(), md, pss, jwt.signature, signed_data)) {
        return JwtStatus::kOk;
      }
    }
  }
  return kid_alg_matched ? JwtStatus::kVerificationFail : JwtStatus::kJwksKidAlgMismatch;
}

// ---------------------------------------------------------------- JwtSigner

const char* jwtAlgorithmName(JwtAlgorithm alg) {
  return alg == JwtAlgorithm::kEs256 ? "ES256" : "RS256";
}

std::optional<JwtAlgorithm> parseJwtAlgorithm(std::string_view name) {
  if (name == "RS256") return JwtAlgorithm::kRs256;
  if (name == "ES256") return JwtAlgorithm::kEs256;
  return std::nullopt;
}

struct JwtSigner::Impl {
  JwtAlgorithm alg = JwtAlgorithm::kRs256;
  std::string kid;
  PkeyPtr pkey;
  std::string jwks;
};

JwtSigner::JwtSigner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JwtSigner::~JwtSigner() = default;
JwtSigner::JwtSigner(JwtSigner&&) noexcept = default;
JwtSigner& JwtSigner::operator=(JwtSigner&&) noexcept = default;

JwtAlgorithm JwtSigner::algorithm() const { return impl_->alg; }
const std::string& JwtSigner::kid() const { return impl_->kid; }
std::string JwtSigner::jwksJson() const { return impl_->jwks; }

Result<JwtSigner> JwtSigner::generate(JwtAlgorithm alg, std::string kid) {
  auto impl = std::make_unique<Impl>();
  impl->alg = alg;
  impl->kid = std::move(kid);
  EVP_PKEY* raw = alg == JwtAlgorithm::kRs256
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (raw == nullptr) {
    return internalError(std::string("generating a ") + jwtAlgorithmName(alg) +
                         " key failed: " + opensslError());
  }
  impl->pkey.reset(raw);

  nlohmann::json jwk;
  jwk["alg"] = jwtAlgorithmName(alg);
  jwk["use"] = "sig";
  jwk["kid"] = impl->kid;
  if (alg == JwtAlgorithm::kRs256) {
    const std::string n = bnParam(raw, OSSL_PKEY_PARAM_RSA_N, 0);
    const std::string e = bnParam(raw, OSSL_PKEY_PARAM_RSA_E, 0);
    if (n.empty() || e.empty()) return internalError("exporting the RSA public key failed");
    jwk["kty"] = "RSA";
    jwk["n"] = base64UrlEncode(n);
    jwk["e"] = base64UrlEncode(e);
  } else {
    const std::string x = bnParam(raw, OSSL_PKEY_PARAM_EC_PUB_X, 32);
    const std::string y = bnParam(raw, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    if (x.empty() || y.empty()) return internalError("exporting the EC public key failed");
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = base64UrlEncode(x);
    jwk["y"] = base64UrlEncode(y);
  }
  nlohmann::json jwks;
  jwks["keys"] = nlohmann::json::array({jwk});
  impl->jwks = jwks.dump();
  return JwtSigner(std::move(impl));
}

Result<std::string> JwtSigner::signJson(std::string_view payload_json,
                                        const JwtHeaderOptions& header) const {
  const nlohmann::json payload = nlohmann::json::parse(payload_json, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) {
    return invalidArgument("JWT payload must be a JSON object");
  }
  nlohmann::json head;
  head["alg"] = header.alg.value_or(jwtAlgorithmName(impl_->alg));
  head["typ"] = "JWT";
  if (header.include_kid) head["kid"] = header.kid.value_or(impl_->kid);
  const std::string signing_input =
      base64UrlEncode(head.dump()) + "." + base64UrlEncode(payload.dump());
  auto sig = signDigest(impl_->pkey.get(), signing_input);
  if (!sig.ok()) return sig.status();
  std::string signature = std::move(sig).value();
  if (impl_->alg == JwtAlgorithm::kEs256) {
    signature = derEcdsaToRaw(signature, 32);
    if (signature.empty()) return internalError("converting the ECDSA signature failed");
  }
  return signing_input + "." + base64UrlEncode(signature);
}

Result<std::string> JwtSigner::sign(const JwtClaims& claims, const JwtHeaderOptions& header) const {
  nlohmann::json payload = nlohmann::json::object();
  if (!claims.issuer.empty()) payload["iss"] = claims.issuer;
  if (!claims.subject.empty()) payload["sub"] = claims.subject;
  if (claims.audiences.size() == 1) {
    payload["aud"] = claims.audiences.front();
  } else if (claims.audiences.size() > 1) {
    payload["aud"] = claims.audiences;
  }
  if (claims.issued_at) payload["iat"] = *claims.issued_at;
  if (claims.not_before) payload["nbf"] = *claims.not_before;
  if (claims.expires_at) payload["exp"] = *claims.expires_at;
  for (const auto& [name, value] : claims.strings) payload[name] = value;
  if (!claims.extra_json.empty()) {
    const nlohmann::json extra = nlohmann::json::parse(claims.extra_json, nullptr, false);
    if (extra.is_discarded() || !extra.is_object()) {
      return invalidArgument("JwtClaims.extra_json must be a JSON object");
    }
    for (const auto& [name, value] : extra.items()) payload[name] = value;
  }
  return signJson(payload.dump(), header);
}

// ---------------------------------------------------------------- IdentityProviderKeys

struct IdentityProviderKeys::Entry {
  JwtAlgorithm alg;
  JwtSigner signer;
};

IdentityProviderKeys::IdentityProviderKeys() = default;
IdentityProviderKeys::~IdentityProviderKeys() = default;
IdentityProviderKeys::IdentityProviderKeys(IdentityProviderKeys&&) noexcept = default;
IdentityProviderKeys& IdentityProviderKeys::operator=(IdentityProviderKeys&&) noexcept = default;

size_t IdentityProviderKeys::size() const { return entries_.size(); }

Result<const JwtSigner*> IdentityProviderKeys::signerFor(const model::IdentityProvider& idp) {
  const auto alg = parseJwtAlgorithm(idp.algorithm);
  if (!alg) {
    return invalidArgument("IdentityProvider " + idp.meta.name + ": spec.algorithm \"" +
                               idp.algorithm + "\" is not supported (use RS256 or ES256)",
                           idp.meta.source);
  }
  auto it = entries_.find(idp.meta.name);
  if (it != entries_.end() && it->second->alg == *alg) return &it->second->signer;
  auto signer = JwtSigner::generate(*alg, idp.meta.name);
  if (!signer.ok()) return signer.status();
  auto entry = std::unique_ptr<Entry>(new Entry{*alg, std::move(signer).value()});
  const JwtSigner* out = &entry->signer;
  entries_[idp.meta.name] = std::move(entry);
  return out;
}

Result<std::string> IdentityProviderKeys::jwksFor(const model::IdentityProvider& idp) {
  auto signer = signerFor(idp);
  if (!signer.ok()) return signer.status();
  return (*signer)->jwksJson();
}

Result<std::string> IdentityProviderKeys::issueToken(const model::IdentityProvider& idp,
                                                     std::string_view subject,
                                                     int64_t now_seconds) {
  const model::IdentityProviderUser* user = nullptr;
  for (const auto& u : idp.users) {
    if (u.subject == subject) user = &u;
  }
  if (user == nullptr) {
    return notFound(
        "IdentityProvider " + idp.meta.name + " has no user \"" + std::string(subject) + "\"",
        idp.meta.source);
  }
  auto signer = signerFor(idp);
  if (!signer.ok()) return signer.status();
  JwtClaims claims;
  claims.issuer = idp.issuer;
  claims.subject = user->subject;
  claims.audiences = idp.audiences;
  claims.issued_at = now_seconds;
  claims.expires_at = now_seconds + idp.token_ttl.millis / 1000;
  for (const auto& [name, value] : user->claims) claims.strings[name] = value;
  return (*signer)->sign(claims);
}

const model::IdentityProvider* identityProviderForJwksUri(const config::Snapshot& snapshot,
                                                          std::string_view jwks_uri) {
  constexpr std::string_view kScheme = "meshsim://idp/";
  if (jwks_uri.substr(0, kScheme.size()) == kScheme) {
    const std::string_view name = jwks_uri.substr(kScheme.size());
    for (const auto* idp : snapshot.identity_providers) {
      if (idp->meta.name == name) return idp;
    }
    return nullptr;
  }
  const model::IdentityProvider* best = nullptr;
  for (const auto* idp : snapshot.identity_providers) {
    const std::string& iss = idp->issuer;
    if (iss.empty() || jwks_uri.substr(0, iss.size()) != iss) continue;
    const bool boundary =
        jwks_uri.size() == iss.size() || iss.back() == '/' || jwks_uri[iss.size()] == '/';
    if (!boundary) continue;
    if (best == nullptr || iss.size() > best->issuer.size()) best = idp;
  }
  return best;
}

}  // namespace meshsim::policy
