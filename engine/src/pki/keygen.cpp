// ECDSA P-256 key generation, tuned for OpenSSL 3.0.
//
// Why the EC_KEY API (deprecated in 3.0, still shipped): X509_set_pubkey() on a provider-native
// key encodes it with a freshly built OSSL_ENCODER_CTX and decodes it back with a fresh
// OSSL_DECODER_CTX, which is ~65% of the cost of issuing a certificate (measured with
// bench/pki_bench.cpp and perf). A key wrapped around an EC_KEY keeps its legacy ASN.1 method,
// and X509_set_pubkey() then writes the SubjectPublicKeyInfo directly and caches the same key.
// Signing with such a key exports it to the provider once and caches that. Builds of OpenSSL
// without the deprecated API fall back to the provider path, which is correct, only slower.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "pki/material.h"

namespace meshsim::pki::detail {

Result<ossl::PkeyPtr> generateP256Key() {
#ifndef OPENSSL_NO_DEPRECATED_3_0
  EC_KEY* ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  ossl::PkeyPtr key(EVP_PKEY_new());
  if (ec == nullptr || !key || EC_KEY_generate_key(ec) != 1 ||
      EVP_PKEY_assign_EC_KEY(key.get(), ec) != 1) {
    EC_KEY_free(ec);
    return internalError(opensslError("generating an ECDSA P-256 key"));
  }
  return key;
#else
  ossl::PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return internalError(opensslError("generating an ECDSA P-256 key"));
  return key;
#endif
}

}  // namespace meshsim::pki::detail
