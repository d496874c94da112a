// Chain verification against trust bundles at a simulated time (PRODUCT.md section 3: a stolen
// certificate expires; a forged one never verifies). The expected reasons are OpenSSL's own
// verification messages, written literally.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "meshsim/pki/ca.h"
#include "meshsim/pki/trust.h"

namespace meshsim::pki {
namespace {

constexpr int64_t kStart = 1700000000;  // 2023-11-14T22:13:20Z

// ---------------------------------------------------------------- an independent test CA
// Certificates the mesh CA would never make (no SAN, two URI SANs, an https URI), built here with
// OpenSSL directly and anchored at a root of their own.

struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  TestCert() = default;
  TestCert(const TestCert&) = delete;
  TestCert& operator=(const TestCert&) = delete;
  ~TestCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::string pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(bio, &mem);
    std::string out(mem->data, mem->length);
    BIO_free(bio);
    return out;
  }
};

void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A CA certificate (issuer null: self-signed) or a leaf with the given SAN string ("" for none).
void makeCert(TestCert& out, const TestCert* issuer, bool ca, const char* cn, const char* san) {
  out.key = EVP_EC_gen("P-256");
  out.cert = X509_new();
  X509_set_version(out.cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(out.cert), ca ? 1 : 2);
  X509_NAME* name = X509_get_subject_name(out.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(out.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
  ASN1_TIME_set(X509_getm_notBefore(out.cert), kStart - 3600);
  ASN1_TIME_set(X509_getm_notAfter(out.cert), kStart + 86400);
  X509_set_pubkey(out.cert, out.key);
  X509* issuer_cert = issuer ? issuer->cert : out.cert;
  addExt(out.cert, issuer_cert, NID_basic_constraints,
         ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  addExt(out.cert, issuer_cert, NID_key_usage,
         ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  addExt(out.cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) addExt(out.cert, issuer_cert, NID_authority_key_identifier, "keyid");
  // "a|b": two separate subjectAltName extensions.
  const std::string sans = san;
  const size_t bar = sans.find('|');
  if (bar != std::string::npos) {
    addExt(out.cert, issuer_cert, NID_subject_alt_name, sans.substr(0, bar).c_str());
    addExt(out.cert, issuer_cert, NID_subject_alt_name, sans.substr(bar + 1).c_str());
  } else if (!sans.empty()) {
    addExt(out.cert, issuer_cert, NID_subject_alt_name, sans.c_str());
  }
  X509_sign(out.cert, issuer ? issuer->key : out.key, EVP_sha256());
}

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<SimClock>(kStart);
    CaOptions options;
    options.clock = clock_;
    auto ca = MeshCa::create(options);
    ASSERT_TRUE(ca.ok()) << ca.status().toString();
    ca_ = std::make_unique<MeshCa>(std::move(ca).value());
  }

  Svid issue(MeshCa& ca, const std::string& cluster = "east", int64_t ttl = 86400) {
    auto svid = ca.issue(SvidRequest{"", "foo", "bar", cluster, ttl});
    EXPECT_TRUE(svid.ok()) << svid.status().toString();
    return svid.ok() ? std::move(svid).value() : Svid{};
  }

  static void expectRejected(const Result<PeerCertInfo>& result, StatusCode code,
                             const std::string& reason) {
    ASSERT_FALSE(result.ok()) << "verified " << result->spiffe_id;
    EXPECT_EQ(result.status().code(), code);
    EXPECT_NE(result.status().message().find(reason), std::string::npos)
        << result.status().message();
  }

  std::shared_ptr<SimClock> clock_;
  std::unique_ptr<MeshCa> ca_;
};

TEST_F(VerifyTest, ChainVerifiesAtNowAndYieldsTheSpiffeId) {
  const Svid svid = issue(*ca_);
  auto peer = verifyChain(ca_->trustBundle(), svid.chainPem(), clock_->now());
  ASSERT_TRUE(peer.ok()) << peer.status().toString();
  EXPECT_EQ(peer->spiffe_id, "spiffe://cluster.local/ns/foo/sa/bar");
  ASSERT_TRUE(peer->identity.has_value());
  EXPECT_EQ(peer->identity->principal, "cluster.local/ns/foo/sa/bar");
  EXPECT_EQ(peer->identity->trust_domain, "cluster.local");
  EXPECT_EQ(peer->identity->namespace_, "foo");
  EXPECT_EQ(peer->identity->service_account, "bar");
  EXPECT_EQ(peer->serial_hex, svid.serial_hex);
  EXPECT_EQ(peer->issuer, "O=meshsim, CN=meshsim intermediate CA east");
  EXPECT_EQ(peer->not_before, kStart - 60);
  EXPECT_EQ(peer->not_after, kStart + 86400);
  EXPECT_EQ(peer->chain_length, 3u);  // leaf, intermediate, root
}

TEST_F(VerifyTest, DerChainVerifiesToo) {
  const Svid svid = issue(*ca_);
  auto der = chainDer(svid);
  ASSERT_TRUE(der.ok());
  auto peer = verifyChain(ca_->trustBundle(), *der, kStart);
  ASSERT_TRUE(peer.ok()) << peer.status().toString();
  EXPECT_EQ(peer->spiffe_id, "spiffe://cluster.local/ns/foo/sa/bar");
}

TEST_F(VerifyTest, ParsedSvidVerifiesWithoutDecoding) {
  const Svid svid = issue(*ca_);
  auto peer = verifySvid(ca_->trustBundle(), svid, kStart);
  ASSERT_TRUE(peer.ok()) << peer.status().toString();
  EXPECT_EQ(peer->spiffe_id, "spiffe://cluster.local/ns/foo/sa/bar");
  expectRejected(verifySvid(ca_->trustBundle(), Svid{}, kStart), StatusCode::kInvalidArgument,
                 "no certificate material");
}

TEST_F(VerifyTest, StolenCertificateExpiresAfterItsTtl) {
  const Svid svid = issue(*ca_, "east", 3600);
  ASSERT_TRUE(clock_->advance(3599).ok());
  EXPECT_TRUE(verifyChain(ca_->trustBundle(), svid.chainPem(), clock_->now()).ok());
  ASSERT_TRUE(clock_->advance(2).ok());
  auto late = verifyChain(ca_->trustBundle(), svid.chainPem(), clock_->now());
  expectRejected(late, StatusCode::kPermissionDenied, "certificate has expired");
  EXPECT_NE(late.status().message().find(
                "at depth 0 (spiffe://cluster.local/ns/foo/sa/bar): certificate has expired; "
                "valid 2023-11-14T22:12:20Z..2023-11-14T23:13:20Z, checked at "
                "2023-11-14T23:13:21Z"),
            std::string::npos)
      << late.status().message();
  expectRejected(verifySvid(ca_->trustBundle(), svid, clock_->now()), StatusCode::kPermissionDenied,
                 "certificate has expired");
}

TEST_F(VerifyTest, NotYetValidBeforeNotBefore) {
  const Svid svid = issue(*ca_);
  // notBefore is back-dated by the 60 s skew allowance: a minute early is fine, 61 s is not.
  EXPECT_TRUE(verifyChain(ca_->trustBundle(), svid.chainPem(), kStart - 60).ok());
  expectRejected(verifyChain(ca_->trustBundle(), svid.chainPem(), kStart - 61),
                 StatusCode::kPermissionDenied, "certificate is not yet valid");
}

TEST_F(VerifyTest, ForgedSelfSignedCertificateWithTheSameIdIsRejected) {
  const Svid real = issue(*ca_);
  auto forged = forgeSelfSigned(real.spiffe_id, *clock_);
  ASSERT_TRUE(forged.ok()) << forged.status().toString();
  EXPECT_EQ(forged->spiffe_id, real.spiffe_id);
  EXPECT_TRUE(forged->intermediate_pem.empty());
  EXPECT_EQ(forged->not_after, kStart + 86400);
  auto info = inspectCertificates(forged->leaf_pem);
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->size(), 1u);
  EXPECT_EQ((*info)[0].uri_sans, std::vector<std::string>{"spiffe://cluster.local/ns/foo/sa/bar"});
  EXPECT_EQ((*info)[0].subject, (*info)[0].issuer);

  expectRejected(verifyChain(ca_->trustBundle(), forged->chainPem(), kStart),
                 StatusCode::kPermissionDenied, "self-signed certificate");
  expectRejected(verifySvid(ca_->trustBundle(), *forged, kStart), StatusCode::kPermissionDenied,
                 "self-signed certificate");
  // Even with the real intermediate appended, the forged leaf is not signed by it.
  expectRejected(verifyChain(ca_->trustBundle(), forged->leaf_pem + real.intermediate_pem, kStart),
                 StatusCode::kPermissionDenied, "self-signed certificate");
}

TEST_F(VerifyTest, ForgeRejectsBadInput) {
  const Status bad_id = forgeSelfSigned("https://evil.example/x", *clock_).status();
  EXPECT_EQ(bad_id.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_id.message().find("does not start with \"spiffe://\""), std::string::npos)
      << bad_id.message();
  EXPECT_EQ(forgeSelfSigned("spiffe://cluster.local/ns/foo/sa/bar", *clock_, 0).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(VerifyTest, LeafFromAnotherMeshIsRejected) {
  CaOptions options;
  options.clock = clock_;  // same trust domain, same names: only the keys differ
  auto other = MeshCa::create(options);
  ASSERT_TRUE(other.ok());
  const Svid foreign = issue(*other);
  EXPECT_EQ(foreign.spiffe_id, "spiffe://cluster.local/ns/foo/sa/bar");
  expectRejected(verifyChain(ca_->trustBundle(), foreign.chainPem(), kStart),
                 StatusCode::kPermissionDenied, "unable to get local issuer certificate");
  EXPECT_TRUE(verifyChain(other->trustBundle(), foreign.chainPem(), kStart).ok());
}

TEST_F(VerifyTest, LeafWithoutItsIntermediateIsRejectedWhereTheIntermediateIsUnknown) {
  const Svid svid = issue(*ca_);
  // The same root, loaded from PEM: it knows no intermediate.
  auto root_only = TrustBundle::fromPem(ca_->root().pem);
  ASSERT_TRUE(root_only.ok());
  expectRejected(verifyChain(*root_only, svid.leaf_pem, kStart), StatusCode::kPermissionDenied,
                 "unable to get local issuer certificate");
}

TEST_F(VerifyTest, LeafAloneVerifiesWithTheBundleOfTheCaThatMadeItsIntermediate) {
  // What sidecars of one mesh do: the CA registered each intermediate with its bundle, so the
  // leaf travels alone and the path is still leaf, intermediate, root.
  const Svid east = issue(*ca_, "east");
  const Svid west = issue(*ca_, "west");
  for (const Svid* svid : {&east, &west}) {
    auto peer = verifyChain(ca_->trustBundle(), svid->leaf_pem, kStart);
    ASSERT_TRUE(peer.ok()) << peer.status().toString();
    EXPECT_EQ(peer->spiffe_id, "spiffe://cluster.local/ns/foo/sa/bar");
    EXPECT_EQ(peer->chain_length, 3u);
  }
  // Dates still count: the leaf has expired a second after its notAfter.
  expectRejected(verifyChain(ca_->trustBundle(), east.leaf_pem, kStart + 86400 + 1),
                 StatusCode::kPermissionDenied, "certificate has expired");
  // Another CA's leaf alone does not find an issuer here, nor ours there.
  CaOptions options;
  options.clock = clock_;
  auto other = MeshCa::create(options);
  ASSERT_TRUE(other.ok());
  const Svid foreign = issue(*other, "east");  // same subject names, other keys
  expectRejected(verifyChain(ca_->trustBundle(), foreign.leaf_pem, kStart),
                 StatusCode::kPermissionDenied, "unable to get local issuer certificate");
  expectRejected(verifyChain(TrustBundle(), east.leaf_pem, kStart), StatusCode::kPermissionDenied,
                 "unable to get local issuer certificate");
  // A federated bundle knows both CAs' intermediates made before the merge.
  const TrustBundle federated = ca_->trustBundle().merged(other->trustBundle());
  EXPECT_TRUE(verifyChain(federated, foreign.leaf_pem, kStart).ok());
  EXPECT_TRUE(verifyChain(federated, east.leaf_pem, kStart).ok());
}

TEST_F(VerifyTest, IntermediatesOfBothClustersVerifyUnderOneRoot) {
  const Svid east = issue(*ca_, "east");
  const Svid west = issue(*ca_, "west");
  EXPECT_NE(east.intermediate_pem, west.intermediate_pem);
  auto e = verifyChain(ca_->trustBundle(), east.chainPem(), kStart);
  auto w = verifyChain(ca_->trustBundle(), west.chainPem(), kStart);
  ASSERT_TRUE(e.ok()) << e.status().toString();
  ASSERT_TRUE(w.ok()) << w.status().toString();
  EXPECT_EQ(e->issuer, "O=meshsim, CN=meshsim intermediate CA east");
  EXPECT_EQ(w->issuer, "O=meshsim, CN=meshsim intermediate CA west");
  // The wrong cluster's intermediate does not complete the chain.
  expectRejected(verifyChain(ca_->trustBundle(), east.leaf_pem + west.intermediate_pem, kStart),
                 StatusCode::kPermissionDenied, "unable to get local issuer certificate");
}

TEST_F(VerifyTest, EmptyBundleTrustsNothing) {
  const Svid svid = issue(*ca_);
  expectRejected(verifyChain(TrustBundle(), svid.chainPem(), kStart), StatusCode::kPermissionDenied,
                 "unable to get local issuer certificate");
}

TEST_F(VerifyTest, FederatedBundleTrustsBothMeshes) {
  CaOptions options;
  options.clock = clock_;
  options.trust_domain = "other.mesh";
  auto other = MeshCa::create(options);
  ASSERT_TRUE(other.ok());
  const TrustBundle federated = ca_->trustBundle().merged(other->trustBundle());
  EXPECT_EQ(federated.size(), 2u);
  EXPECT_EQ(federated.pem(), ca_->root().pem + other->root().pem);
  auto roots = federated.roots();
  ASSERT_EQ(roots.size(), 2u);
  EXPECT_EQ(roots[1].subject, "O=meshsim, CN=meshsim root CA other.mesh");
  auto peer = verifyChain(federated, issue(*other).chainPem(), kStart);
  ASSERT_TRUE(peer.ok()) << peer.status().toString();
  EXPECT_EQ(peer->spiffe_id, "spiffe://other.mesh/ns/foo/sa/bar");
  EXPECT_TRUE(verifyChain(federated, issue(*ca_).chainPem(), kStart).ok());
  // Merging a bundle with itself keeps one copy of each root.
  EXPECT_EQ(federated.merged(ca_->trustBundle()).size(), 2u);
}

TEST_F(VerifyTest, BundleFromPemRoundTrips) {
  auto bundle = TrustBundle::fromPem(ca_->trustBundle().pem());
  ASSERT_TRUE(bundle.ok()) << bundle.status().toString();
  EXPECT_EQ(bundle->size(), 1u);
  EXPECT_TRUE(verifyChain(*bundle, issue(*ca_).chainPem(), kStart).ok());
  auto twice = TrustBundle::fromPem(ca_->root().pem + ca_->root().pem);
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->size(), 1u);
}

TEST_F(VerifyTest, BundleRejectsANonCaCertificate) {
  auto bundle = TrustBundle::fromPem(issue(*ca_).leaf_pem);
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bundle.status().message().find("certificate #1 () is not a CA certificate"),
            std::string::npos)
      << bundle.status().message();
}

TEST_F(VerifyTest, CaPresentedAsLeafIsRejected) {
  expectRejected(verifyChain(ca_->trustBundle(), ca_->root().pem, kStart),
                 StatusCode::kPermissionDenied, "is a CA; an SVID must not be one");
  const Svid svid = issue(*ca_);
  expectRejected(verifyChain(ca_->trustBundle(), svid.intermediate_pem + svid.leaf_pem, kStart),
                 StatusCode::kPermissionDenied, "is a CA; an SVID must not be one");
}

struct SanCase {
  const char* name;
  const char* san;
  const char* reason;
};

class VerifySan : public ::testing::TestWithParam<SanCase> {};

TEST_P(VerifySan, LeafMustCarryExactlyOneSpiffeUri) {
  TestCert root;
  makeCert(root, nullptr, true, "test root", "");
  TestCert leaf;
  makeCert(leaf, &root, false, "test leaf", GetParam().san);
  auto bundle = TrustBundle::fromPem(root.pem());
  ASSERT_TRUE(bundle.ok()) << bundle.status().toString();
  auto peer = verifyChain(*bundle, leaf.pem(), kStart);
  ASSERT_FALSE(peer.ok());
  EXPECT_EQ(peer.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(peer.status().message().find(GetParam().reason), std::string::npos)
      << peer.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Sans, VerifySan,
    ::testing::Values(
        SanCase{"NoSanAtAll", "", "the leaf has no URI SAN, so no SPIFFE ID"},
        SanCase{"DnsOnly", "DNS:foo.example", "the leaf has no URI SAN, so no SPIFFE ID"},
        SanCase{"TwoUris",
                "URI:spiffe://cluster.local/ns/a/sa/b,URI:spiffe://cluster.local/ns/c/sa/d",
                "the leaf has 2 URI SANs; an SVID carries exactly one"},
        // OpenSSL marks a certificate with a repeated extension invalid, so it issues nothing.
        SanCase{"TwoSanExtensions",
                "URI:spiffe://cluster.local/ns/a/sa/b|URI:spiffe://cluster.local/ns/c/sa/d",
                "unable to get local issuer certificate"},
        SanCase{"HttpsUri", "URI:https://foo.example/ns/a/sa/b",
                "the leaf's URI SAN is not a SPIFFE ID"},
        SanCase{"UpperCaseTrustDomain", "URI:spiffe://Cluster.Local/ns/a/sa/b",
                "the leaf's URI SAN is not a SPIFFE ID"}),
    [](const ::testing::TestParamInfo<SanCase>& row) { return std::string(row.param.name); });

TEST(VerifySpiffeShape, NonIstioSpiffeIdVerifiesWithoutAnIstioIdentity) {
  TestCert root;
  makeCert(root, nullptr, true, "test root", "");
  TestCert leaf;
  makeCert(leaf, &root, false, "test leaf", "URI:spiffe://example.org/workload/db");
  auto bundle = TrustBundle::fromPem(root.pem());
  ASSERT_TRUE(bundle.ok());
  auto peer = verifyChain(*bundle, leaf.pem(), kStart);
  ASSERT_TRUE(peer.ok()) << peer.status().toString();
  EXPECT_EQ(peer->spiffe_id, "spiffe://example.org/workload/db");
  EXPECT_FALSE(peer->identity.has_value());
  EXPECT_EQ(peer->chain_length, 2u);
}

// ---------------------------------------------------------------- garbage input

struct GarbageCase {
  const char* name;
  std::string input;
  const char* message;
};

std::string validDer() {
  auto clock = std::make_shared<SimClock>(kStart);
  CaOptions options;
  options.clock = clock;
  auto ca = MeshCa::create(options);
  auto svid = ca->issue(SvidRequest{"", "foo", "bar", "east"});
  return chainDer(*svid).value();
}

std::vector<GarbageCase> garbageCases() {
  const std::string der = validDer();
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(255 - i));
  std::string junk_der = "\x30\x82\x7f\xff";
  junk_der += std::string(40, '\x01');
  const std::string pem_open = "-----BEGIN CERTIFICATE-----\n";
  const std::string pem_close = "-----END CERTIFICATE-----\n";
  std::string many;
  for (int i = 0; i < 9; ++i) many += der.substr(0, der.size());
  return {
      {"Empty", "", "the input is empty"},
      {"PlainText", "hello world", "neither PEM"},
      {"AllBytes", all_bytes, "neither PEM"},
      {"BadBase64", pem_open + "!!!!not base64!!!!\n" + pem_close, "malformed PEM certificate #1"},
      {"Base64OfNonsense", pem_open + "aGVsbG8gd29ybGQ=\n" + pem_close,
       "malformed PEM certificate #1"},
      {"UnterminatedPem", pem_open + "MIIB\n", "malformed PEM certificate #1"},
      {"OnlyAKeyBlock",
       "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
       "-----END PRIVATE KEY-----\n",
       "no \"-----BEGIN CERTIFICATE-----\" block"},
      {"EncryptedPemHeader",
       pem_open +
           "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
           "aGVsbG8gd29ybGQ=\n" +
           pem_close,
       "malformed PEM certificate #1"},
      {"JunkDer", junk_der, "malformed DER certificate at byte offset 0"},
      {"TruncatedDer", der.substr(0, 100), "malformed DER certificate at byte offset 0"},
      {"TrailingJunkAfterDer", der + "\x30\x01", "malformed DER certificate at byte offset"},
      {"TooLarge", std::string(70000, '\x30'), "exceeds the limit of 65536"},
      {"TooManyCertificates", many, "more than 8 certificates"},
  };
}

class Garbage : public ::testing::TestWithParam<GarbageCase> {};

TEST_P(Garbage, IsAnInvalidArgumentEverywhere) {
  auto clock = std::make_shared<SimClock>(kStart);
  CaOptions options;
  options.clock = clock;
  auto ca = MeshCa::create(options);
  ASSERT_TRUE(ca.ok());
  for (const Status& status : {verifyChain(ca->trustBundle(), GetParam().input, kStart).status(),
                               inspectCertificates(GetParam().input).status(),
                               TrustBundle::fromPem(GetParam().input).status()}) {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.toString();
    EXPECT_NE(status.message().find(GetParam().message), std::string::npos) << status.message();
  }
}

INSTANTIATE_TEST_SUITE_P(Inputs, Garbage, ::testing::ValuesIn(garbageCases()),
                         [](const ::testing::TestParamInfo<GarbageCase>& row) {
                           return std::string(row.param.name);
                         });

TEST(GarbageChains, BitFlippedChainsAreRejectedWithoutCrashing) {
  auto clock = std::make_shared<SimClock>(kStart);
  CaOptions options;
  options.clock = clock;
  auto ca = MeshCa::create(options);
  ASSERT_TRUE(ca.ok());
  auto svid = ca->issue(SvidRequest{"", "foo", "bar", "east"});
  ASSERT_TRUE(svid.ok());
  const std::string der = chainDer(*svid).value();
  // Every byte of the leaf (the first certificate) in turn, XOR 0x01 and XOR 0x80.
  // The leaf is a SEQUENCE with a two-byte length (30 82 hi lo): 4 header bytes + the length.
  ASSERT_EQ(der.substr(0, 2), "\x30\x82");
  const size_t leaf_size = 4 + (static_cast<size_t>(static_cast<unsigned char>(der[2])) << 8) +
                           static_cast<unsigned char>(der[3]);
  ASSERT_LT(leaf_size, der.size());
  size_t rejected = 0;
  for (size_t i = 0; i < leaf_size; ++i) {
    for (unsigned char mask : {0x01, 0x80}) {
      std::string mutated = der;
      mutated[i] = static_cast<char>(static_cast<unsigned char>(mutated[i]) ^ mask);
      auto peer = verifyChain(ca->trustBundle(), mutated, kStart);
      if (peer.ok()) continue;
      ++rejected;
      EXPECT_TRUE(peer.status().code() == StatusCode::kInvalidArgument ||
                  peer.status().code() == StatusCode::kPermissionDenied)
          << i << ": " << peer.status().toString();
    }
  }
  EXPECT_EQ(rejected, 2 * leaf_size);
}

TEST(InspectCertificates, DescribesEachCertificateOfAChain) {
  auto clock = std::make_shared<SimClock>(kStart);
  CaOptions options;
  options.clock = clock;
  auto ca = MeshCa::create(options);
  ASSERT_TRUE(ca.ok());
  auto svid = ca->issue(SvidRequest{"", "foo", "bar", "east"});
  ASSERT_TRUE(svid.ok());
  auto info = inspectCertificates("some text before\n" + svid->chainPem() + "and after\n");
  ASSERT_TRUE(info.ok()) << info.status().toString();
  ASSERT_EQ(info->size(), 2u);
  EXPECT_EQ((*info)[0].subject, "");
  EXPECT_EQ((*info)[0].issuer, "O=meshsim, CN=meshsim intermediate CA east");
  EXPECT_EQ((*info)[0].uri_sans, std::vector<std::string>{"spiffe://cluster.local/ns/foo/sa/bar"});
  EXPECT_FALSE((*info)[0].is_ca);
  EXPECT_EQ((*info)[0].pem, svid->leaf_pem);
  EXPECT_EQ((*info)[1].subject, "O=meshsim, CN=meshsim intermediate CA east");
  EXPECT_TRUE((*info)[1].is_ca);
  EXPECT_EQ((*info)[1].not_after, kStart + 365 * 86400);
}

// ---------------------------------------------------------------- SPIFFE ID syntax

struct IdCase {
  const char* id;
  bool valid;
};

class SpiffeId : public ::testing::TestWithParam<IdCase> {};

TEST_P(SpiffeId, FollowsTheSpiffeSpecification) {
  const Status status = validateSpiffeId(GetParam().id);
  EXPECT_EQ(status.ok(), GetParam().valid) << GetParam().id << ": " << status.message();
  if (!GetParam().valid) {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  }
}

INSTANTIATE_TEST_SUITE_P(Ids, SpiffeId,
                         ::testing::Values(IdCase{"spiffe://cluster.local/ns/foo/sa/bar", true},
                                           IdCase{"spiffe://cluster.local", true},
                                           IdCase{"spiffe://example.org/a_b/c-d/E.f", true},
                                           IdCase{"spiffe://", false},
                                           IdCase{"spiffe:///ns/foo", false},
                                           IdCase{"SPIFFE://cluster.local/ns/foo", false},
                                           IdCase{"https://cluster.local/ns/foo", false},
                                           IdCase{"spiffe://cluster.local/", false},
                                           IdCase{"spiffe://cluster.local//x", false},
                                           IdCase{"spiffe://cluster.local/ns/../sa", false},
                                           IdCase{"spiffe://cluster.local/./x", false},
                                           IdCase{"spiffe://cluster.local:8080/x", false},
                                           IdCase{"spiffe://user@cluster.local/x", false},
                                           IdCase{"spiffe://cluster.local/x?y=1", false},
                                           IdCase{"spiffe://cluster.local/x#frag", false},
                                           IdCase{"spiffe://cluster.local/ns/f%20o", false}));

TEST(SpiffeIdLength, AtMost2048Bytes) {
  const std::string prefix = "spiffe://td/";
  EXPECT_TRUE(validateSpiffeId(prefix + std::string(2048 - prefix.size(), 'a')).ok());
  const Status status = validateSpiffeId(prefix + std::string(2049 - prefix.size(), 'a'));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("at most 2048 bytes"), std::string::npos);
}

}  // namespace
}  // namespace meshsim::pki
