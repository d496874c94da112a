// X.509 plumbing shared by the CA, the trust bundle and verification: parsing, encoding, names,
// dates, SANs, key generation and certificate building. OpenSSL 3 APIs only; every failure is a
// Status and the OpenSSL error queue is left empty.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <climits>
#include <ctime>

#include "meshsim/pki/clock.h"
#include "meshsim/policy/identity.h"
#include "pki/material.h"

namespace meshsim::pki {

namespace ossl {
X509Ptr share(X509* cert) {
  if (cert != nullptr) X509_up_ref(cert);
  return X509Ptr(cert);
}
PkeyPtr share(EVP_PKEY* key) {
  if (key != nullptr) EVP_PKEY_up_ref(key);
  return PkeyPtr(key);
}
}  // namespace ossl

namespace detail {

namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
struct StackFree {
  // The stack does not own its certificates (they were pushed without a reference).
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtFree>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, StoreCtxFree>;
using StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;

// Never prompt for a pass phrase: an "encrypted" certificate block is simply malformed input.
int noPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

std::string bioContents(BIO* bio) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  if (mem == nullptr || mem->data == nullptr) return {};
  return std::string(mem->data, mem->length);
}

Status parsePem(std::string_view in, size_t max_certs, std::vector<ossl::X509Ptr>& out) {
  BioPtr bio(BIO_new_mem_buf(in.data(), static_cast<int>(in.size())));
  if (!bio) return internalError(opensslError("BIO_new_mem_buf"));
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, noPassword, nullptr);
    if (cert == nullptr) {
      const unsigned long err = ERR_peek_last_error();  // NOLINT(runtime/int): OpenSSL's type
      const bool no_more =
          ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
      if (no_more && !out.empty()) {
        ERR_clear_error();
        return okStatus();
      }
      if (no_more) {
        ERR_clear_error();
        return invalidArgument("no \"-----BEGIN CERTIFICATE-----\" block in the PEM input");
      }
      return invalidArgument(
          opensslError("malformed PEM certificate #" + std::to_string(out.size() + 1)));
    }
    out.emplace_back(cert);
    if (out.size() > max_certs) {
      return invalidArgument("more than " + std::to_string(max_certs) +
                             " certificates in the input");
    }
  }
}

Status parseDer(std::string_view in, size_t max_certs, std::vector<ossl::X509Ptr>& out) {
  const auto* begin = reinterpret_cast<const unsigned char*>(in.data());
  const unsigned char* p = begin;
  const unsigned char* end = begin + in.size();
  while (p < end) {
    const unsigned char* start = p;
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(end - p));  // NOLINT(runtime/int)
    if (cert == nullptr || p <= start) {
      X509_free(cert);
      return invalidArgument(opensslError("malformed DER certificate at byte offset " +
                                          std::to_string(start - begin)));
    }
    out.emplace_back(cert);
    if (out.size() > max_certs) {
      return invalidArgument("more than " + std::to_string(max_certs) +
                             " certificates in the input");
    }
  }
  return okStatus();
}

Status addExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext) return internalError(opensslError(std::string("extension ") + OBJ_nid2sn(nid)));
  if (X509_add_ext(cert, ext.get(), -1) != 1) {
    return internalError(opensslError(std::string("adding extension ") + OBJ_nid2sn(nid)));
  }
  return okStatus();
}

Status addUriSan(X509* cert, const std::string& uri, bool critical) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* value = ASN1_IA5STRING_new();
  if (!names || name == nullptr || value == nullptr ||
      ASN1_STRING_set(value, uri.data(), static_cast<int>(uri.size())) != 1) {
    GENERAL_NAME_free(name);
    ASN1_IA5STRING_free(value);
    return internalError(opensslError("subjectAltName"));
  }
  GENERAL_NAME_set0_value(name, GEN_URI, value);
  if (sk_GENERAL_NAME_push(names.get(), name) == 0) {
    GENERAL_NAME_free(name);
    return internalError(opensslError("subjectAltName"));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical ? 1 : 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return internalError(opensslError("adding subjectAltName"));
  }
  return okStatus();
}

Status setTime(ASN1_TIME* field, int64_t seconds, const char* what) {
  // ASN.1 GeneralizedTime has a four-digit year: 0000-01-01T00:00:00Z..9999-12-31T23:59:59Z.
  // OpenSSL writes later years without complaint and then cannot read them back.
  constexpr int64_t kFirst = -62167219200;
  constexpr int64_t kLast = 253402300799;
  if (seconds < kFirst || seconds > kLast) {
    return invalidArgument(std::string(what) + " " + std::to_string(seconds) +
                           " is outside the years 0000..9999 a certificate can hold");
  }
  if (ASN1_TIME_set(field, static_cast<time_t>(seconds)) == nullptr) {
    return invalidArgument(opensslError(std::string(what) + " " + std::to_string(seconds) +
                                        " cannot be written in a certificate"));
  }
  return okStatus();
}

// How a rejected certificate is named in an error: its SPIFFE ID, else its subject.
std::string nameForError(X509* cert) {
  if (cert == nullptr) return "unknown certificate";
  const auto uris = uriSans(cert);
  if (uris.size() == 1) return uris.front();
  const std::string subject = nameToString(X509_get_subject_name(cert));
  return subject.empty() ? "serial " + serialHex(cert) : subject;
}

}  // namespace

std::string opensslError(std::string_view what) {
  const unsigned long code = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type
  ERR_clear_error();
  std::string out(what);
  if (code == 0) return out;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  const char* reason = ERR_reason_error_string(code);
  out += ": ";
  out += reason != nullptr ? reason : buf;
  return out;
}

Result<std::vector<ossl::X509Ptr>> parseCertificates(std::string_view pem_or_der,
                                                     size_t max_certs) {
  ERR_clear_error();
  if (pem_or_der.empty()) return invalidArgument("no certificate: the input is empty");
  if (pem_or_der.size() > kMaxChainBytes) {
    return invalidArgument("certificate input of " + std::to_string(pem_or_der.size()) +
                           " bytes exceeds the limit of " + std::to_string(kMaxChainBytes));
  }
  std::vector<ossl::X509Ptr> certs;
  Status status;
  if (pem_or_der.find("-----BEGIN") != std::string_view::npos) {
    status = parsePem(pem_or_der, max_certs, certs);
  } else if (static_cast<unsigned char>(pem_or_der.front()) == 0x30) {  // DER SEQUENCE
    status = parseDer(pem_or_der, max_certs, certs);
  } else {
    return invalidArgument("certificate input is neither PEM (no \"-----BEGIN\" line) nor DER");
  }
  if (!status.ok()) return status;
  return certs;
}

Result<std::string> certificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return internalError(opensslError("PEM encoding of a certificate"));
  }
  return bioContents(bio.get());
}

Result<std::string> certificateDer(X509* cert) {
  const int len = i2d_X509(cert, nullptr);
  if (len <= 0) return internalError(opensslError("DER encoding of a certificate"));
  std::string out(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (i2d_X509(cert, &p) != len) {
    return internalError(opensslError("DER encoding of a certificate"));
  }
  return out;
}

Result<std::string> privateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return internalError(opensslError("PEM encoding of a private key"));
  }
  return bioContents(bio.get());
}

Result<int64_t> unixTime(const ASN1_TIME* t) {
  struct tm parts = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &parts) != 1) {
    return internalError(opensslError("reading a certificate date"));
  }
  const int64_t days =
      daysFromCivil(int64_t{parts.tm_year} + 1900, static_cast<unsigned>(parts.tm_mon + 1),
                    static_cast<unsigned>(parts.tm_mday));
  return days * kSecondsPerDay + int64_t{parts.tm_hour} * 3600 + int64_t{parts.tm_min} * 60 +
         parts.tm_sec;
}

std::string serialHex(const X509* cert) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) {
    ERR_clear_error();
    return {};
  }
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) {
    ERR_clear_error();
    return {};
  }
  std::string out(hex);
  OPENSSL_free(hex);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string nameToString(const X509_NAME* name) {
  std::string out;
  const int count = X509_NAME_entry_count(name);
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(entry);
    const int nid = OBJ_obj2nid(obj);
    std::string key;
    if (nid != NID_undef) {
      key = OBJ_nid2sn(nid);
    } else {
      char buf[80];
      OBJ_obj2txt(buf, sizeof buf, obj, 1);
      key = buf;
    }
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    std::string value = len >= 0 ? std::string(reinterpret_cast<char*>(utf8), len) : "?";
    OPENSSL_free(utf8);
    if (!out.empty()) out += ", ";
    out += key + "=" + value;
  }
  ERR_clear_error();
  return out;
}

std::vector<std::string> uriSans(const X509* cert) {
  std::vector<std::string> uris;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  ERR_clear_error();
  if (!names) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return uris;
}

Result<std::string> spiffeIdOf(const X509* cert) {
  // A repeated or undecodable subjectAltName extension never gets here: OpenSSL marks such a
  // certificate invalid and chain verification fails first.
  const auto uris = uriSans(cert);
  if (uris.empty()) return permissionDenied("the leaf has no URI SAN, so no SPIFFE ID");
  if (uris.size() > 1) {
    return permissionDenied("the leaf has " + std::to_string(uris.size()) +
                            " URI SANs; an SVID carries exactly one");
  }
  if (Status valid = validateSpiffeId(uris.front()); !valid.ok()) {
    return permissionDenied("the leaf's URI SAN is not a SPIFFE ID: " + valid.message());
  }
  return uris.front();
}

Result<CertificateInfo> describeCertificate(X509* cert) {
  CertificateInfo info;
  info.subject = nameToString(X509_get_subject_name(cert));
  info.issuer = nameToString(X509_get_issuer_name(cert));
  info.serial_hex = serialHex(cert);
  auto not_before = unixTime(X509_get0_notBefore(cert));
  if (!not_before.ok()) return not_before.status();
  auto not_after = unixTime(X509_get0_notAfter(cert));
  if (!not_after.ok()) return not_after.status();
  info.not_before = *not_before;
  info.not_after = *not_after;
  info.is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
  info.uri_sans = uriSans(cert);
  auto pem = certificatePem(cert);
  if (!pem.ok()) return pem.status();
  info.pem = std::move(pem).value();
  ERR_clear_error();
  return info;
}

Result<PeerCertInfo> verifyParsed(const TrustAnchors& anchors, X509* leaf,
                                  const std::vector<X509*>& untrusted, int64_t at_time) {
  ERR_clear_error();
  if (leaf == nullptr) return invalidArgument("no leaf certificate to verify");
  StackPtr stack(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!stack || !ctx) return internalError(opensslError("allocating a verification context"));
  for (X509* cert : untrusted) {
    if (sk_X509_push(stack.get(), cert) == 0) {
      return internalError(opensslError("building the untrusted chain"));
    }
  }
  // A leaf presented alone may chain to a registered intermediate, which then ends the chain
  // (its own signature was checked against a root when it was registered). A presented chain
  // is verified against the roots alone.
  const bool leaf_alone = untrusted.empty();
  X509_STORE* store = leaf_alone ? anchors.issuer_store.get() : anchors.store.get();
  if (X509_STORE_CTX_init(ctx.get(), store, leaf, stack.get()) != 1) {
    return internalError(opensslError("X509_STORE_CTX_init"));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // The simulated time, never the wall clock: set_time also raises X509_V_FLAG_USE_CHECK_TIME,
  // set here explicitly as well so that the intent is visible. Validity dates are checked for
  // every certificate of the chain, a registered intermediate at its top included.
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at_time));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_USE_CHECK_TIME | X509_V_FLAG_X509_STRICT |
                                         (leaf_alone ? X509_V_FLAG_PARTIAL_CHAIN : 0));
  X509_VERIFY_PARAM_set_depth(param, static_cast<int>(kMaxChainCertificates));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    std::string message = "certificate verification failed at depth " + std::to_string(depth) +
                          " (" + nameForError(bad) + "): " + X509_verify_cert_error_string(err);
    if ((err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID) &&
        bad != nullptr) {
      auto from = unixTime(X509_get0_notBefore(bad));
      auto to = unixTime(X509_get0_notAfter(bad));
      if (from.ok() && to.ok()) {
        message += "; valid " + formatUtc(*from) + ".." + formatUtc(*to) + ", checked at " +
                   formatUtc(at_time);
      }
    }
    ERR_clear_error();
    return permissionDenied(std::move(message));
  }
  PeerCertInfo info;
  STACK_OF(X509)* path = X509_STORE_CTX_get0_chain(ctx.get());
  info.chain_length = static_cast<size_t>(sk_X509_num(path));
  // Ended at a registered intermediate: its root is part of the path too.
  if (info.chain_length > 0 &&
      (X509_get_extension_flags(sk_X509_value(path, sk_X509_num(path) - 1)) & EXFLAG_SS) == 0) {
    ++info.chain_length;
  }
  if ((X509_get_extension_flags(leaf) & EXFLAG_CA) != 0) {
    return permissionDenied("the leaf certificate (" + nameForError(leaf) +
                            ") is a CA; an SVID must not be one");
  }
  auto id = spiffeIdOf(leaf);
  if (!id.ok()) return id.status();
  info.spiffe_id = std::move(id).value();
  if (auto identity = policy::parseSpiffeUri(info.spiffe_id); identity.ok()) {
    info.identity = std::move(identity).value();
  }
  info.serial_hex = serialHex(leaf);
  info.issuer = nameToString(X509_get_issuer_name(leaf));
  auto not_before = unixTime(X509_get0_notBefore(leaf));
  auto not_after = unixTime(X509_get0_notAfter(leaf));
  if (!not_before.ok()) return not_before.status();
  if (!not_after.ok()) return not_after.status();
  info.not_before = *not_before;
  info.not_after = *not_after;
  ERR_clear_error();
  return info;
}

Status registerIntermediate(const TrustAnchors& anchors, X509* intermediate) {
  ERR_clear_error();
  if (intermediate == nullptr) return invalidArgument("no intermediate to register");
  if ((X509_get_extension_flags(intermediate) & EXFLAG_CA) == 0) {
    return invalidArgument("not a CA certificate: " + nameForError(intermediate));
  }
  bool signed_by_root = false;
  for (const auto& root : anchors.roots) {
    EVP_PKEY* key = X509_get0_pubkey(root.get());
    if (key != nullptr && X509_check_issued(root.get(), intermediate) == X509_V_OK &&
        X509_verify(intermediate, key) == 1) {
      signed_by_root = true;
      break;
    }
  }
  ERR_clear_error();
  if (!signed_by_root) {
    return invalidArgument("no root of the bundle signed " + nameForError(intermediate));
  }
  std::lock_guard lock(anchors.mu);
  for (const auto& known : anchors.issuers) {
    if (X509_cmp(known.get(), intermediate) == 0) return okStatus();
  }
  if (X509_STORE_add_cert(anchors.issuer_store.get(), intermediate) != 1) {
    return internalError(opensslError("adding an intermediate to the trust store"));
  }
  anchors.issuers.push_back(ossl::share(intermediate));
  return okStatus();
}

bool knowsIntermediate(const TrustAnchors& anchors, const X509* cert) {
  std::lock_guard lock(anchors.mu);
  for (const auto& known : anchors.issuers) {
    if (X509_cmp(known.get(), cert) == 0) return true;
  }
  return false;
}

Result<ossl::X509Ptr> buildCertificate(const CertSpec& spec) {
  ERR_clear_error();
  ossl::X509Ptr cert(X509_new());
  if (!cert) return internalError(opensslError("X509_new"));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return internalError(opensslError("X509_set_version"));
  }

  // A random positive 127-bit serial; RFC 5280 allows up to 20 octets.
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) return internalError(opensslError("RAND_bytes"));
  random[0] &= 0x7f;
  BnPtr serial(BN_bin2bn(random, sizeof random, nullptr));
  if (!serial) return internalError(opensslError("BN_bin2bn"));
  if (BN_is_zero(serial.get()) && BN_one(serial.get()) != 1) {
    return internalError(opensslError("BN_one"));
  }
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return internalError(opensslError("setting the serial number"));
  }

  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const auto& [key, value] : spec.subject) {
    if (X509_NAME_add_entry_by_txt(subject, key.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      return invalidArgument(opensslError("subject " + key + "=\"" + value + "\""));
    }
  }
  const bool self_signed = spec.issuer == nullptr;
  X509_NAME* issuer_name = self_signed ? subject : X509_get_subject_name(spec.issuer);
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1) {
    return internalError(opensslError("X509_set_issuer_name"));
  }
  if (Status s = setTime(X509_getm_notBefore(cert.get()), spec.not_before, "notBefore"); !s.ok()) {
    return s;
  }
  if (Status s = setTime(X509_getm_notAfter(cert.get()), spec.not_after, "notAfter"); !s.ok()) {
    return s;
  }
  if (X509_set_pubkey(cert.get(), spec.subject_key) != 1) {
    return internalError(opensslError("X509_set_pubkey"));
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, self_signed ? cert.get() : spec.issuer, cert.get(), nullptr, nullptr, 0);
  const char* basic = "critical,CA:FALSE";
  const char* usage = "critical,digitalSignature";
  if (spec.kind == CertKind::kRoot) {
    basic = "critical,CA:TRUE";
    usage = "critical,keyCertSign,cRLSign";
  } else if (spec.kind == CertKind::kIntermediate) {
    basic = "critical,CA:TRUE,pathlen:0";
    usage = "critical,keyCertSign,cRLSign";
  }
  Status s = addExtension(cert.get(), &ctx, NID_basic_constraints, basic);
  if (s.ok()) s = addExtension(cert.get(), &ctx, NID_key_usage, usage);
  if (s.ok() && spec.kind == CertKind::kLeaf) {
    s = addExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  if (s.ok()) s = addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (s.ok() && !self_signed) {
    s = addExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  }
  if (s.ok() && !spec.uri_san.empty()) {
    s = addUriSan(cert.get(), spec.uri_san, /*critical=*/spec.subject.empty());
  }
  if (!s.ok()) return s;

  EVP_PKEY* signer = self_signed ? spec.subject_key : spec.issuer_key;
  if (X509_sign(cert.get(), signer, EVP_sha256()) <= 0) {
    return internalError(opensslError("signing the certificate"));
  }
  return cert;
}

}  // namespace detail
}  // namespace meshsim::pki
