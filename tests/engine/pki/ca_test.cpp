// The mesh CA (PRODUCT.md section 3 "Identity"): root, per-cluster intermediates and SPIFFE SVID
// issuance. Certificate contents are checked with OpenSSL directly, not with the code under test.

#include "meshsim/pki/ca.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "meshsim/pki/trust.h"

namespace meshsim::pki {
namespace {

constexpr int64_t kStart = 1700000000;  // 2023-11-14T22:13:20Z

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

X509Ptr parsePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(cert);
}

PkeyPtr parseKeyPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return PkeyPtr(key);
}

std::string oneLine(const X509_NAME* name) {
  char buf[256];
  X509_NAME_oneline(name, buf, sizeof buf);
  return buf;
}

bool extensionCritical(X509* cert, int nid) {
  const int index = X509_get_ext_by_NID(cert, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

std::string curveOf(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, name, sizeof name, &len) != 1) return "";
  return name;
}

class MeshCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<SimClock>(kStart);
    CaOptions options;
    options.clock = clock_;
    auto ca = MeshCa::create(options);
    ASSERT_TRUE(ca.ok()) << ca.status().toString();
    ca_ = std::make_unique<MeshCa>(std::move(ca).value());
  }

  Svid issue(const std::string& ns, const std::string& sa, const std::string& cluster = "east") {
    SvidRequest request;
    request.namespace_ = ns;
    request.service_account = sa;
    request.cluster = cluster;
    auto svid = ca_->issue(request);
    EXPECT_TRUE(svid.ok()) << svid.status().toString();
    return svid.ok() ? std::move(svid).value() : Svid{};
  }

  std::shared_ptr<SimClock> clock_;
  std::unique_ptr<MeshCa> ca_;
};

TEST_F(MeshCaTest, RootIsASelfSignedP256CaNamedAfterTheTrustDomain) {
  const CertificateInfo& root = ca_->root();
  EXPECT_EQ(root.subject, "O=meshsim, CN=meshsim root CA cluster.local");
  EXPECT_EQ(root.issuer, "O=meshsim, CN=meshsim root CA cluster.local");
  EXPECT_TRUE(root.is_ca);
  EXPECT_EQ(root.not_before, kStart - 60);
  EXPECT_EQ(root.not_after, kStart + 10 * 365 * 86400);
  EXPECT_TRUE(root.uri_sans.empty());

  X509Ptr cert = parsePem(root.pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(oneLine(X509_get_subject_name(cert.get())),
            "/O=meshsim/CN=meshsim root CA cluster.local");
  EXPECT_EQ(X509_check_issued(cert.get(), cert.get()), X509_V_OK);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_TRUE(extensionCritical(cert.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(curveOf(cert.get()), "prime256v1");
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(ca_->trustDomain(), "cluster.local");
  EXPECT_EQ(ca_->trustBundle().size(), 1u);
  EXPECT_EQ(ca_->trustBundle().pem(), root.pem);
}

TEST_F(MeshCaTest, RootKeyExportMatchesTheRootCertificate) {
  auto pem = ca_->rootKeyPem();
  ASSERT_TRUE(pem.ok()) << pem.status().toString();
  EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  PkeyPtr key = parseKeyPem(*pem);
  X509Ptr cert = parsePem(ca_->root().pem);
  ASSERT_TRUE(key && cert);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST_F(MeshCaTest, IntermediateIsAPathLenZeroCaSignedByTheRoot) {
  auto east = ca_->intermediateFor("east");
  ASSERT_TRUE(east.ok()) << east.status().toString();
  EXPECT_EQ(east->subject, "O=meshsim, CN=meshsim intermediate CA east");
  EXPECT_EQ(east->issuer, "O=meshsim, CN=meshsim root CA cluster.local");
  EXPECT_TRUE(east->is_ca);
  EXPECT_EQ(east->not_before, kStart - 60);
  EXPECT_EQ(east->not_after, kStart + 365 * 86400);

  X509Ptr cert = parsePem(east->pem);
  X509Ptr root = parsePem(ca_->root().pem);
  ASSERT_TRUE(cert && root);
  EXPECT_EQ(X509_check_issued(root.get(), cert.get()), X509_V_OK);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(root.get())), 1);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(X509_get_pathlen(cert.get()), 0);
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(curveOf(cert.get()), "prime256v1");
}

TEST_F(MeshCaTest, IntermediatesAreCachedAndDifferPerCluster) {
  auto east1 = ca_->intermediateFor("east");
  ASSERT_TRUE(clock_->advance(3600).ok());
  auto east2 = ca_->intermediateFor("east");
  auto west = ca_->intermediateFor("west");
  ASSERT_TRUE(east1.ok() && east2.ok() && west.ok());
  EXPECT_EQ(east1->pem, east2->pem);
  EXPECT_EQ(east1->serial_hex, east2->serial_hex);
  EXPECT_NE(east1->serial_hex, west->serial_hex);
  EXPECT_NE(east1->pem, west->pem);
  EXPECT_EQ(west->subject, "O=meshsim, CN=meshsim intermediate CA west");
  EXPECT_EQ(west->not_before, kStart + 3600 - 60);  // made on first use
  EXPECT_EQ(west->issuer, east1->issuer);
}

TEST_F(MeshCaTest, IntermediateNeverOutlivesTheRoot) {
  CaOptions options;
  options.clock = clock_;
  options.root_ttl_seconds = 30 * 86400;
  options.intermediate_ttl_seconds = 365 * 86400;
  auto ca = MeshCa::create(options);
  ASSERT_TRUE(ca.ok());
  auto east = ca->intermediateFor("east");
  ASSERT_TRUE(east.ok());
  EXPECT_EQ(east->not_after, kStart + 30 * 86400);
}

TEST_F(MeshCaTest, SvidCarriesExactlyTheSpiffeUriSanAndLeafUsages) {
  const Svid svid = issue("foo", "bar");
  EXPECT_EQ(svid.spiffe_id, "spiffe://cluster.local/ns/foo/sa/bar");
  X509Ptr leaf = parsePem(svid.leaf_pem);
  ASSERT_TRUE(leaf);

  int crit = 0;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf.get(), NID_subject_alt_name, &crit, nullptr));
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(crit, 1);  // critical: the subject is empty
  ASSERT_EQ(sk_GENERAL_NAME_num(names), 1);
  const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, 0);
  ASSERT_EQ(name->type, GEN_URI);
  const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                        static_cast<size_t>(ASN1_STRING_length(uri))),
            "spiffe://cluster.local/ns/foo/sa/bar");
  GENERAL_NAMES_free(names);

  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(leaf.get())), 0);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_TRUE(extensionCritical(leaf.get(), NID_basic_constraints));
  EXPECT_TRUE(extensionCritical(leaf.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_NE(X509_get0_subject_key_id(leaf.get()), nullptr);
  EXPECT_NE(X509_get0_authority_key_id(leaf.get()), nullptr);
  EXPECT_EQ(curveOf(leaf.get()), "prime256v1");
  EXPECT_EQ(X509_get_signature_nid(leaf.get()), NID_ecdsa_with_SHA256);
}

TEST_F(MeshCaTest, SvidIsDatedByTheSimulatedClockWithSkew) {
  const Svid svid = issue("foo", "bar");
  EXPECT_EQ(svid.issued_at, kStart);
  EXPECT_EQ(svid.not_before, kStart - 60);
  EXPECT_EQ(svid.not_after, kStart + 86400);  // default TTL: 24 h
  X509Ptr leaf = parsePem(svid.leaf_pem);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf.get()), kStart - 60), 0);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_get0_notAfter(leaf.get()), kStart + 86400), 0);

  ASSERT_TRUE(clock_->advance(7200).ok());
  SvidRequest request{"", "foo", "bar", "east", 3600};
  auto later = ca_->issue(request);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->not_before, kStart + 7200 - 60);
  EXPECT_EQ(later->not_after, kStart + 7200 + 3600);
}

TEST_F(MeshCaTest, SvidIsSignedByTheClusterIntermediate) {
  const Svid svid = issue("foo", "bar", "west");
  auto west = ca_->intermediateFor("west");
  ASSERT_TRUE(west.ok());
  EXPECT_EQ(svid.issuer, "O=meshsim, CN=meshsim intermediate CA west");
  EXPECT_EQ(svid.intermediate_pem, west->pem);
  EXPECT_EQ(svid.chainPem(), svid.leaf_pem + west->pem);
  X509Ptr leaf = parsePem(svid.leaf_pem);
  X509Ptr inter = parsePem(west->pem);
  ASSERT_TRUE(leaf && inter);
  EXPECT_EQ(X509_verify(leaf.get(), X509_get0_pubkey(inter.get())), 1);
  EXPECT_EQ(svid.request.trust_domain, "cluster.local");
  EXPECT_EQ(svid.request.cluster, "west");
}

TEST_F(MeshCaTest, SerialIsAPositive128BitRandomNumberInHex) {
  const Svid svid = issue("foo", "bar");
  X509Ptr leaf = parsePem(svid.leaf_pem);
  ASSERT_TRUE(leaf);
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf.get()), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string expected(hex);
  for (char& c : expected) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(svid.serial_hex, expected);
  EXPECT_FALSE(BN_is_negative(bn));
  EXPECT_LE(BN_num_bits(bn), 128);
  OPENSSL_free(hex);
  BN_free(bn);
}

TEST_F(MeshCaTest, ThousandSvidsHaveUniqueSerials) {
  std::set<std::string> serials;
  for (int i = 0; i < 1000; ++i) {
    const Svid svid = issue("ns" + std::to_string(i % 10), "sa" + std::to_string(i),
                            i % 2 == 0 ? "east" : "west");
    ASSERT_FALSE(svid.serial_hex.empty());
    serials.insert(svid.serial_hex);
  }
  EXPECT_EQ(serials.size(), 1000u);
}

TEST_F(MeshCaTest, ConcurrentIssuanceIsSafe) {
  std::vector<Svid> a;
  std::vector<Svid> b;
  auto work = [this](std::vector<Svid>& out, const char* cluster) {
    for (int i = 0; i < 50; ++i) {
      auto svid = ca_->issue(SvidRequest{"", "foo", "sa" + std::to_string(i), cluster});
      if (svid.ok()) out.push_back(std::move(svid).value());
    }
  };
  std::thread ta(work, std::ref(a), "east");
  std::thread tb(work, std::ref(b), "east");
  ta.join();
  tb.join();
  ASSERT_EQ(a.size(), 50u);
  ASSERT_EQ(b.size(), 50u);
  std::set<std::string> serials;
  std::set<std::string> intermediates;
  for (const auto* list : {&a, &b}) {
    for (const Svid& svid : *list) {
      serials.insert(svid.serial_hex);
      intermediates.insert(svid.intermediate_pem);
      EXPECT_TRUE(verifySvid(ca_->trustBundle(), svid, kStart).ok());
    }
  }
  EXPECT_EQ(serials.size(), 100u);
  EXPECT_EQ(intermediates.size(), 1u);  // one intermediate for the cluster, made once
}

TEST_F(MeshCaTest, ExplicitTrustDomainIsHonoured) {
  auto svid = ca_->issue(SvidRequest{"new-td.example", "foo", "bar", "east"});
  ASSERT_TRUE(svid.ok()) << svid.status().toString();
  EXPECT_EQ(svid->spiffe_id, "spiffe://new-td.example/ns/foo/sa/bar");
}

TEST_F(MeshCaTest, PrivateKeyExportMatchesTheLeaf) {
  const Svid svid = issue("foo", "bar");
  auto pem = privateKeyPem(svid);
  ASSERT_TRUE(pem.ok()) << pem.status().toString();
  EXPECT_EQ(pem->rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  PkeyPtr key = parseKeyPem(*pem);
  X509Ptr leaf = parsePem(svid.leaf_pem);
  ASSERT_TRUE(key && leaf);
  EXPECT_EQ(X509_check_private_key(leaf.get(), key.get()), 1);
  // Another SVID's key does not match.
  const Svid other = issue("foo", "baz");
  X509Ptr other_leaf = parsePem(other.leaf_pem);
  EXPECT_EQ(X509_check_private_key(other_leaf.get(), key.get()), 0);
  ERR_clear_error();
}

TEST_F(MeshCaTest, ChainDerIsLeafThenIntermediate) {
  const Svid svid = issue("foo", "bar");
  auto der = chainDer(svid);
  ASSERT_TRUE(der.ok()) << der.status().toString();
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  const unsigned char* end = p + der->size();
  X509Ptr leaf(d2i_X509(nullptr, &p, end - p));
  X509Ptr inter(d2i_X509(nullptr, &p, end - p));
  ASSERT_TRUE(leaf && inter);
  EXPECT_EQ(p, end);
  EXPECT_EQ(X509_cmp(leaf.get(), parsePem(svid.leaf_pem).get()), 0);
  EXPECT_EQ(X509_cmp(inter.get(), parsePem(svid.intermediate_pem).get()), 0);
}

TEST_F(MeshCaTest, ExportOfAnEmptySvidIsAnError) {
  const Svid empty;
  EXPECT_EQ(chainDer(empty).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(privateKeyPem(empty).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MeshCaTest, DescribeIsOneLineForPeople) {
  const Svid svid = issue("foo", "bar");
  EXPECT_EQ(describe(svid), "spiffe://cluster.local/ns/foo/sa/bar serial " + svid.serial_hex +
                                " issued by O=meshsim, CN=meshsim intermediate CA east (cluster "
                                "east) valid 2023-11-14T22:12:20Z..2023-11-15T22:13:20Z");
}

TEST_F(MeshCaTest, IssuingPastTheIntermediateIsAFailedPrecondition) {
  CaOptions options;
  options.clock = clock_;
  options.intermediate_ttl_seconds = 2 * 86400;
  auto ca = MeshCa::create(options);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(ca->issue(SvidRequest{"", "foo", "bar", "east"}).ok());
  ASSERT_TRUE(clock_->advance(36 * 3600).ok());
  auto late = ca->issue(SvidRequest{"", "foo", "bar", "east"});
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("would outlive it"), std::string::npos)
      << late.status().message();
  // A shorter TTL still fits.
  EXPECT_TRUE(ca->issue(SvidRequest{"", "foo", "bar", "east", 3600}).ok());
}

TEST_F(MeshCaTest, NoIntermediateAfterTheRootExpired) {
  CaOptions options;
  options.clock = clock_;
  options.root_ttl_seconds = 86400;
  auto ca = MeshCa::create(options);
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(clock_->advance(2 * 86400).ok());
  auto inter = ca->intermediateFor("east");
  EXPECT_EQ(inter.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(inter.status().message().find("the root CA expired at 2023-11-15T22:13:20Z"),
            std::string::npos)
      << inter.status().message();
}

struct BadRequest {
  const char* name;
  SvidRequest request;
  const char* message;
};

class SvidIssueRejects : public MeshCaTest, public ::testing::WithParamInterface<BadRequest> {};

TEST_P(SvidIssueRejects, WithInvalidArgument) {
  auto svid = ca_->issue(GetParam().request);
  ASSERT_FALSE(svid.ok());
  EXPECT_EQ(svid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(svid.status().message().find(GetParam().message), std::string::npos)
      << svid.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Requests, SvidIssueRejects,
    ::testing::Values(
        BadRequest{"EmptyNamespace", {"", "", "bar", "east"}, "namespace is empty"},
        BadRequest{"NamespaceWithSlash",
                   {"", "foo/x", "bar", "east"},
                   "namespace \"foo/x\" may contain only"},
        BadRequest{"EmptyServiceAccount", {"", "foo", "", "east"}, "service account is empty"},
        BadRequest{
            "DotDotServiceAccount", {"", "foo", "..", "east"}, "service account may not be \"..\""},
        BadRequest{"UpperCaseTrustDomain",
                   {"Cluster.Local", "foo", "bar", "east"},
                   "may contain only lower-case letters"},
        BadRequest{"EmptyCluster", {"", "foo", "bar", ""}, "the cluster name is empty"},
        BadRequest{"ClusterWithSpace", {"", "foo", "bar", "east 1"}, "may contain only letters"},
        BadRequest{"ClusterTooLong",
                   {"", "foo", "bar", std::string(41, 'c')},
                   "is longer than 40 characters"},
        BadRequest{"ZeroTtl", {"", "foo", "bar", "east", 0}, "TTL 0 s must be positive"},
        BadRequest{"NegativeTtl", {"", "foo", "bar", "east", -5}, "TTL -5 s must be positive"},
        BadRequest{"TtlOverMax",
                   {"", "foo", "bar", "east", 91 * 86400},
                   "requested TTL 7862400 s is greater than the max allowed TTL 7776000 s"}),
    [](const ::testing::TestParamInfo<BadRequest>& row) { return std::string(row.param.name); });

TEST_F(MeshCaTest, IntermediateForRejectsABadClusterName) {
  auto inter = ca_->intermediateFor("bad/cluster");
  EXPECT_EQ(inter.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(inter.status().message().find("may contain only letters"), std::string::npos);
}

struct BadOptions {
  const char* name;
  std::string trust_domain;
  std::string organization;
  int64_t root_ttl;
  bool with_clock;
  const char* message;
};

class MeshCaCreateRejects : public ::testing::TestWithParam<BadOptions> {};

TEST_P(MeshCaCreateRejects, WithInvalidArgument) {
  CaOptions options;
  options.trust_domain = GetParam().trust_domain;
  options.organization = GetParam().organization;
  options.root_ttl_seconds = GetParam().root_ttl;
  if (GetParam().with_clock) options.clock = std::make_shared<SimClock>(kStart);
  auto ca = MeshCa::create(options);
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ca.status().message().find(GetParam().message), std::string::npos)
      << ca.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Options, MeshCaCreateRejects,
    ::testing::Values(
        BadOptions{"NoClock", "cluster.local", "meshsim", 86400, false, "clock is required"},
        BadOptions{"EmptyTrustDomain", "", "meshsim", 86400, true, "the trust domain is empty"},
        BadOptions{"UpperCaseTrustDomain", "Mesh.Local", "meshsim", 86400, true,
                   "may contain only lower-case letters"},
        BadOptions{"TrustDomainTooLong", std::string(49, 'a'), "meshsim", 86400, true,
                   "is longer than 48 characters"},
        BadOptions{"EmptyOrganization", "cluster.local", "", 86400, true,
                   "organization must have 1 to 64 characters"},
        BadOptions{"ZeroRootTtl", "cluster.local", "meshsim", 0, true, "TTLs must be positive"}),
    [](const ::testing::TestParamInfo<BadOptions>& row) { return std::string(row.param.name); });

TEST(MeshCaCreate, LongestTrustDomainFits) {
  CaOptions options;
  options.clock = std::make_shared<SimClock>(kStart);
  options.trust_domain = std::string(48, 'a');
  auto ca = MeshCa::create(options);
  ASSERT_TRUE(ca.ok()) << ca.status().toString();
  EXPECT_EQ(ca->root().subject, "O=meshsim, CN=meshsim root CA " + std::string(48, 'a'));
}

TEST(MeshCaCreate, OverflowingRootValidityIsRejected) {
  CaOptions options;
  options.clock = std::make_shared<SimClock>(std::numeric_limits<int64_t>::max() - 10);
  auto ca = MeshCa::create(options);
  EXPECT_EQ(ca.status().code(), StatusCode::kInvalidArgument);
}

TEST(MeshCaCreate, UnrepresentableDatesAreAnErrorNotACrash) {
  // Year 10000 and later cannot be written as an ASN.1 GeneralizedTime.
  CaOptions options;
  options.clock = std::make_shared<SimClock>(253402300799);  // 9999-12-31T23:59:59Z
  auto ca = MeshCa::create(options);
  ASSERT_FALSE(ca.ok());
  EXPECT_EQ(ca.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ca.status().message().find("notAfter"), std::string::npos) << ca.status().message();
}

}  // namespace
}  // namespace meshsim::pki
