// SPIFFE identities, trust-domain aliasing and the identity matchers (istio-semantics.md 1, 4.4).

#include "meshsim/policy/identity.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meshsim::policy {
namespace {

/// Names each table row after its `name` field.
struct CaseName {
  template <typename T>
  std::string operator()(const ::testing::TestParamInfo<T>& row) const {
    return row.param.name;
  }
};

TEST(SpiffeIdentity, ParsesIstioUri) {
  auto id = parseSpiffeUri("spiffe://cluster.local/ns/foo/sa/sleep");
  ASSERT_TRUE(id.ok()) << id.status().toString();
  EXPECT_EQ(id->principal, "cluster.local/ns/foo/sa/sleep");
  EXPECT_EQ(id->trust_domain, "cluster.local");
  EXPECT_EQ(id->namespace_, "foo");
  EXPECT_EQ(id->service_account, "sleep");
}

struct BadUriCase {
  const char* name;
  std::string uri;
};

class SpiffeBadUri : public ::testing::TestWithParam<BadUriCase> {};

TEST_P(SpiffeBadUri, IsInvalidArgument) {
  auto id = parseSpiffeUri(GetParam().uri);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    SpiffeIdentity, SpiffeBadUri,
    ::testing::Values(BadUriCase{"NoScheme", "cluster.local/ns/foo/sa/sleep"},
                      BadUriCase{"WrongScheme", "https://cluster.local/ns/foo/sa/sleep"},
                      BadUriCase{"TooFewParts", "spiffe://cluster.local/ns/foo"},
                      BadUriCase{"TooManyParts", "spiffe://cluster.local/ns/foo/sa/sleep/x"},
                      BadUriCase{"NsKeywordMissing", "spiffe://cluster.local/n/foo/sa/sleep"},
                      BadUriCase{"SaKeywordMissing", "spiffe://cluster.local/ns/foo/s/sleep"},
                      BadUriCase{"EmptyTrustDomain", "spiffe:///ns/foo/sa/sleep"},
                      BadUriCase{"EmptyNamespace", "spiffe://td/ns//sa/sleep"},
                      BadUriCase{"EmptyAccount", "spiffe://td/ns/foo/sa/"}),
    CaseName());

TEST(SpiffeIdentity, SplitsCanonicalPrincipalsOnly) {
  const PrincipalParts p = splitPrincipal("cluster.local/ns/foo/sa/sleep");
  EXPECT_TRUE(p.canonical);
  EXPECT_EQ(p.trust_domain, "cluster.local");
  EXPECT_EQ(p.namespace_, "foo");
  EXPECT_EQ(p.service_account, "sleep");
  EXPECT_FALSE(splitPrincipal("cluster.local/ns/foo/sa/sleep/x").canonical);
  EXPECT_FALSE(splitPrincipal("cluster.local/ns/foo").canonical);
  EXPECT_FALSE(splitPrincipal("cluster.local/x/foo/sa/sleep").canonical);
}

TEST(SpiffeIdentity, BuildsPrincipalAndUri) {
  EXPECT_EQ(principalFor("cluster.local", "foo", "sleep"), "cluster.local/ns/foo/sa/sleep");
  EXPECT_EQ(spiffeUriFor("td1", "bar", "db"), "spiffe://td1/ns/bar/sa/db");
  const PeerIdentity id = peerIdentityFor("td1", "bar", "db");
  EXPECT_EQ(id.principal, "td1/ns/bar/sa/db");
  EXPECT_EQ(id.namespace_, "bar");
  EXPECT_EQ(id.service_account, "db");
  EXPECT_EQ(id.trust_domain, "td1");
  EXPECT_TRUE(parsePrincipal("td1/ns/bar/sa/db").ok());
  model::Workload w;
  w.meta.namespace_ = "bookinfo";
  w.service_account = "bookinfo-reviews";
  EXPECT_EQ(workloadIdentity(w, "cluster.local").principal,
            "cluster.local/ns/bookinfo/sa/bookinfo-reviews");
}

// ---------------------------------------------------------------- trust-domain aliasing

TEST(TrustDomainAlias, ClusterLocalStandsForLocalDomainAndAliases) {
  // section 1: "cluster.local/ns/foo/sa/x still matches when the mesh trust domain is td1".
  const TrustDomainBundle bundle("td1", {"td2"});
  EXPECT_EQ(bundle.expandPrincipal("cluster.local/ns/foo/sa/x"),
            (std::vector<std::string>{"td1/ns/foo/sa/x", "td2/ns/foo/sa/x"}));
  EXPECT_EQ(bundle.expandPrincipal("td2/ns/foo/sa/x"),
            (std::vector<std::string>{"td1/ns/foo/sa/x", "td2/ns/foo/sa/x"}));
}

TEST(TrustDomainAlias, OtherTrustDomainsAndNonSpiffeFormsAreKeptLiterally) {
  const TrustDomainBundle bundle("td1", {"td2"});
  EXPECT_EQ(bundle.expandPrincipal("other.td/ns/foo/sa/x"),
            (std::vector<std::string>{"other.td/ns/foo/sa/x"}));
  EXPECT_EQ(bundle.expandPrincipal("*"), (std::vector<std::string>{"*"}));
  EXPECT_EQ(bundle.expandPrincipal("*/ns/foo/sa/x"), (std::vector<std::string>{"*/ns/foo/sa/x"}));
  EXPECT_EQ(bundle.expandPrincipal("*/sa/x"), (std::vector<std::string>{"*/sa/x"}));
}

TEST(TrustDomainAlias, DefaultBundleIsClusterLocal) {
  const TrustDomainBundle bundle;
  EXPECT_EQ(bundle.local(), "cluster.local");
  EXPECT_TRUE(bundle.contains("cluster.local"));
  EXPECT_EQ(bundle.expandTrustDomain("cluster.local"), (std::vector<std::string>{"cluster.local"}));
  const TrustDomainBundle aliased("td1", {"td2", "td1"});
  EXPECT_EQ(aliased.domains(), (std::vector<std::string>{"td1", "td2"}));
  EXPECT_EQ(aliased.expandTrustDomain("td2"), (std::vector<std::string>{"td1", "td2"}));
  EXPECT_EQ(aliased.expandTrustDomain("x"), (std::vector<std::string>{"x"}));
}

struct PrincipalCase {
  const char* name;
  std::string pattern;
  std::string principal;
  bool expected;
};

class PrincipalTable : public ::testing::TestWithParam<PrincipalCase> {};

TEST_P(PrincipalTable, Matches) {
  const auto& c = GetParam();
  const TrustDomainBundle bundle("td1", {"td2"});
  EXPECT_EQ(principalMatches(c.pattern, c.principal, bundle), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    TrustDomainAlias, PrincipalTable,
    ::testing::Values(
        PrincipalCase{"ClusterLocalMatchesLocal", "cluster.local/ns/foo/sa/x", "td1/ns/foo/sa/x",
                      true},
        PrincipalCase{"ClusterLocalMatchesAlias", "cluster.local/ns/foo/sa/x", "td2/ns/foo/sa/x",
                      true},
        PrincipalCase{"ClusterLocalNotForeign", "cluster.local/ns/foo/sa/x", "td3/ns/foo/sa/x",
                      false},
        PrincipalCase{"ForeignKeptLiteral", "td3/ns/foo/sa/x", "td3/ns/foo/sa/x", true},
        // Only five-part principals are rewritten; a prefix pattern is kept as written.
        PrincipalCase{"PrefixPatternNotAliased", "cluster.local/ns/foo/*", "td2/ns/foo/sa/y",
                      false},
        PrincipalCase{"FivePartPrefixAliased", "cluster.local/ns/foo/sa/*", "td2/ns/foo/sa/y",
                      true},
        PrincipalCase{"SuffixAnyDomain", "*/sa/x", "td9/ns/foo/sa/x", true},
        PrincipalCase{"StarAnyPrincipal", "*", "td9/ns/foo/sa/x", true}),
    CaseName());

// ---------------------------------------------------------------- namespaces

struct NamespaceCase {
  const char* name;
  std::string value;
  std::string principal;
  bool expected;
};

class NamespaceTable : public ::testing::TestWithParam<NamespaceCase> {};

TEST_P(NamespaceTable, Matches) {
  const auto& c = GetParam();
  const NamespaceMatcher m = NamespaceMatcher::compile(c.value);
  EXPECT_EQ(m.matches(c.principal), c.expected);
  // The fast path over the split principal agrees with the expression.
  EXPECT_EQ(m.matches(c.principal, splitPrincipal(c.principal)), c.expected);
}

// section 1: namespaces are matched against the principal with ".*/ns/<ns>/.*".
INSTANTIATE_TEST_SUITE_P(
    SpiffeIdentity, NamespaceTable,
    ::testing::Values(
        NamespaceCase{"Exact", "foo", "cluster.local/ns/foo/sa/sleep", true},
        NamespaceCase{"ExactNotPrefixOfLonger", "foo", "cluster.local/ns/foobar/sa/sleep", false},
        NamespaceCase{"Prefix", "prod-*", "cluster.local/ns/prod-eu/sa/api", true},
        NamespaceCase{"PrefixMismatch", "prod-*", "cluster.local/ns/dev-eu/sa/api", false},
        NamespaceCase{"Suffix", "*-prod", "td/ns/eu-prod/sa/api", true},
        NamespaceCase{"StarAnyNamespace", "*", "td/ns/anything/sa/api", true},
        NamespaceCase{"InfixWildcard", "a*z", "td/ns/abcz/sa/api", true},
        NamespaceCase{"OtherTrustDomainSameNs", "foo", "td2/ns/foo/sa/x", true},
        NamespaceCase{"PrefixNoMatch", "n*", "td/ns/foo/sa/x", false},
        // The expression runs over "spiffe://<principal>": odd but exact consequences.
        NamespaceCase{"TrustDomainNamedNs", "ns", "ns/ns/foo/sa/x", true},
        NamespaceCase{"TrustDomainNamedNsPrefix", "n*", "ns/ns/foo/sa/x", true},
        NamespaceCase{"NamespaceNamedNsMatchesSa", "sa", "td/ns/ns/sa/x", true},
        NamespaceCase{"NonCanonicalPrincipal", "foo", "td/x/ns/foo/sa/y", true}),
    CaseName());

// ---------------------------------------------------------------- service accounts

struct AccountCase {
  const char* name;
  std::string value;
  std::string policy_namespace;
  std::string principal;
  bool expected;
};

class AccountTable : public ::testing::TestWithParam<AccountCase> {};

TEST_P(AccountTable, Matches) {
  const auto& c = GetParam();
  EXPECT_EQ(ServiceAccountMatcher::compile(c.value, c.policy_namespace).matches(c.principal),
            c.expected);
}

// section 1: "ns/sa" or bare "sa" = policy's namespace.
INSTANTIATE_TEST_SUITE_P(SpiffeIdentity, AccountTable,
                         ::testing::Values(AccountCase{"NamespaceAndAccount", "foo/sleep", "bar",
                                                       "cluster.local/ns/foo/sa/sleep", true},
                                           AccountCase{"BareUsesPolicyNamespace", "sleep", "foo",
                                                       "cluster.local/ns/foo/sa/sleep", true},
                                           AccountCase{"BareOtherNamespace", "sleep", "bar",
                                                       "cluster.local/ns/foo/sa/sleep", false},
                                           AccountCase{"AccountIsNotAPrefix", "foo/sleep", "",
                                                       "cluster.local/ns/foo/sa/sleeper", false},
                                           AccountCase{"WrongNamespace", "foo/sleep", "",
                                                       "cluster.local/ns/foox/sa/sleep", false},
                                           AccountCase{"AnyTrustDomain", "foo/sleep", "",
                                                       "td2/ns/foo/sa/sleep", true}),
                         CaseName());

// ---------------------------------------------------------------- request principals

RequestAuth token(std::string iss, std::optional<std::string> sub) {
  RequestAuth a;
  a.issuer = std::move(iss);
  if (sub) {
    a.subject = *sub;
    a.has_subject = true;
  }
  return a;
}

struct RequestPrincipalCase {
  const char* name;
  std::string value;
  RequestAuth auth;
  bool expected;
};

class RequestPrincipalTable : public ::testing::TestWithParam<RequestPrincipalCase> {};

TEST_P(RequestPrincipalTable, Matches) {
  const auto& c = GetParam();
  EXPECT_EQ(RequestPrincipalMatcher::compile(c.value).matches(c.auth), c.expected);
}

// section 1: split at the last "/"; "*" = iss and sub present and non-empty.
INSTANTIATE_TEST_SUITE_P(
    SpiffeIdentity, RequestPrincipalTable,
    ::testing::Values(
        RequestPrincipalCase{"Exact", "issuer.example/alice", token("issuer.example", "alice"),
                             true},
        RequestPrincipalCase{"ExactOtherSubject", "issuer.example/alice",
                             token("issuer.example", "bob"), false},
        RequestPrincipalCase{"UrlIssuerSplitAtLastSlash", "https://accounts.example.com/u1",
                             token("https://accounts.example.com", "u1"), true},
        RequestPrincipalCase{"StarNeedsSubject", "*", token("issuer.example", std::nullopt), false},
        RequestPrincipalCase{"StarWithSubject", "*", token("issuer.example", "alice"), true},
        RequestPrincipalCase{"SubjectWithSlashCannotMatchExactly", "iss/a/b", token("iss", "a/b"),
                             false},
        RequestPrincipalCase{"IssuerAnySubject", "issuer.example/*",
                             token("issuer.example", "carol"), true},
        RequestPrincipalCase{"IssuerPrefixNoSlash", "accounts.example*",
                             token("accounts.example.com", "x"), true},
        // The last "/" splits even inside "https://": iss "https:/", sub prefix "accounts".
        RequestPrincipalCase{"UrlPrefixSplitsInsideScheme", "https://accounts*",
                             token("https://accounts.example.com", "x"), false},
        RequestPrincipalCase{"SubjectSuffix", "*@example.com", token("iss", "dev@example.com"),
                             true}),
    CaseName());

}  // namespace
}  // namespace meshsim::policy
