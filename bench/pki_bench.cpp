// Identity layer costs: issuing an SVID and verifying a peer chain, next to the raw OpenSSL
// operations they are built from (measured in the same run): P-256 key generation, one ECDSA
// P-256 signature and verification, and decoding one DER certificate. performance.md says
// decoding dominates handshakes on OpenSSL 3.0; verifySvid shows the path that avoids it.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "meshsim/pki/ca.h"
#include "meshsim/pki/rotation.h"
#include "meshsim/pki/trust.h"

namespace {

using meshsim::pki::CaOptions;
using meshsim::pki::MeshCa;
using meshsim::pki::SimClock;
using meshsim::pki::Svid;
using meshsim::pki::SvidRequest;

constexpr int64_t kStart = 1700000000;

// One CA and one SVID shared by the verification benchmarks.
struct Fixture {
  std::shared_ptr<SimClock> clock = std::make_shared<SimClock>(kStart);
  std::unique_ptr<MeshCa> ca;
  Svid svid;
  std::string chain_pem;
  std::string chain_der;
  std::string leaf_der;

  Fixture() {
    CaOptions options;
    options.clock = clock;
    auto made = MeshCa::create(options);
    if (!made.ok()) die(made.status().toString());
    ca = std::make_unique<MeshCa>(std::move(made).value());
    auto issued = ca->issue(SvidRequest{"", "default", "productpage", "east"});
    if (!issued.ok()) die(issued.status().toString());
    svid = std::move(issued).value();
    chain_pem = svid.chainPem();
    auto der = meshsim::pki::chainDer(svid);
    if (!der.ok()) die(der.status().toString());
    chain_der = *der;
    const auto* p = reinterpret_cast<const unsigned char*>(chain_der.data());
    X509* leaf = d2i_X509(nullptr, &p, static_cast<long>(chain_der.size()));  // NOLINT
    leaf_der.assign(chain_der.data(), reinterpret_cast<const char*>(p) - chain_der.data());
    X509_free(leaf);
  }

  [[noreturn]] static void die(const std::string& why) {
    std::fprintf(stderr, "pki_bench setup failed: %s\n", why.c_str());
    std::abort();
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_BaselineP256Keygen(benchmark::State& state) {
  for (auto _ : state) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    benchmark::DoNotOptimize(key);
    EVP_PKEY_free(key);
  }
}
BENCHMARK(BM_BaselineP256Keygen);

void BM_BaselineEcdsaP256Sign(benchmark::State& state) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  const unsigned char message[64] = {1, 2, 3};
  unsigned char sig[128];
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = sizeof sig;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, sig, &len, message, sizeof message);
    benchmark::DoNotOptimize(sig);
    EVP_MD_CTX_free(ctx);
  }
  EVP_PKEY_free(key);
}
BENCHMARK(BM_BaselineEcdsaP256Sign);

void BM_BaselineEcdsaP256Verify(benchmark::State& state) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  const unsigned char message[64] = {1, 2, 3};
  unsigned char sig[128];
  size_t len = sizeof sig;
  EVP_MD_CTX* sign = EVP_MD_CTX_new();
  EVP_DigestSignInit(sign, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(sign, sig, &len, message, sizeof message);
  EVP_MD_CTX_free(sign);
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    const int ok = EVP_DigestVerify(ctx, sig, len, message, sizeof message);
    if (ok != 1) state.SkipWithError("signature did not verify");
    EVP_MD_CTX_free(ctx);
  }
  EVP_PKEY_free(key);
}
BENCHMARK(BM_BaselineEcdsaP256Verify);

void BM_BaselineDecodeOneDerCertificate(benchmark::State& state) {
  const std::string& der = fixture().leaf_der;
  for (auto _ : state) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));  // NOLINT
    benchmark::DoNotOptimize(cert);
    X509_free(cert);
  }
}
BENCHMARK(BM_BaselineDecodeOneDerCertificate);

void BM_IssueSvid(benchmark::State& state) {
  MeshCa& ca = *fixture().ca;
  const SvidRequest request{"", "default", "reviews", "east"};
  for (auto _ : state) {
    auto svid = ca.issue(request);
    if (!svid.ok()) state.SkipWithError(svid.status().message().c_str());
    benchmark::DoNotOptimize(svid);
  }
}
BENCHMARK(BM_IssueSvid);

void BM_ForgeSelfSigned(benchmark::State& state) {
  const SimClock& clock = *fixture().clock;
  for (auto _ : state) {
    auto svid = meshsim::pki::forgeSelfSigned("spiffe://cluster.local/ns/default/sa/x", clock);
    benchmark::DoNotOptimize(svid);
  }
}
BENCHMARK(BM_ForgeSelfSigned);

void BM_VerifyChainPem(benchmark::State& state) {
  const Fixture& f = fixture();
  for (auto _ : state) {
    auto peer = meshsim::pki::verifyChain(f.ca->trustBundle(), f.chain_pem, kStart);
    if (!peer.ok()) state.SkipWithError(peer.status().message().c_str());
    benchmark::DoNotOptimize(peer);
  }
}
BENCHMARK(BM_VerifyChainPem);

void BM_VerifyChainDer(benchmark::State& state) {
  const Fixture& f = fixture();
  for (auto _ : state) {
    auto peer = meshsim::pki::verifyChain(f.ca->trustBundle(), f.chain_der, kStart);
    if (!peer.ok()) state.SkipWithError(peer.status().message().c_str());
    benchmark::DoNotOptimize(peer);
  }
}
BENCHMARK(BM_VerifyChainDer);

void BM_VerifySvidParsed(benchmark::State& state) {
  const Fixture& f = fixture();
  for (auto _ : state) {
    auto peer = meshsim::pki::verifySvid(f.ca->trustBundle(), f.svid, kStart);
    if (!peer.ok()) state.SkipWithError(peer.status().message().c_str());
    benchmark::DoNotOptimize(peer);
  }
}
BENCHMARK(BM_VerifySvidParsed);

void BM_RotationDue(benchmark::State& state) {
  const meshsim::pki::SvidRotator rotator;
  const Svid& svid = fixture().svid;
  int64_t now = kStart;
  for (auto _ : state) {
    benchmark::DoNotOptimize(rotator.due(svid, now++));
  }
}
BENCHMARK(BM_RotationDue);

}  // namespace

BENCHMARK_MAIN();
