// String patterns and CIDR ranges of AuthorizationPolicy (istio-semantics.md 4.4, 4.5).

#include "meshsim/policy/match.h"

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

// ---------------------------------------------------------------- StringPattern

struct PatternCase {
  const char* name;
  std::string pattern;
  bool ignore_case;
  std::string value;
  bool expected;
};

class StringPatternTable : public ::testing::TestWithParam<PatternCase> {};

TEST_P(StringPatternTable, Matches) {
  const auto& c = GetParam();
  EXPECT_EQ(StringPattern::parse(c.pattern, c.ignore_case).matches(c.value), c.expected)
      << "pattern \"" << c.pattern << "\" value \"" << c.value << "\"";
}

// 4.4: "abc exact, abc* prefix, *abc suffix, * = present and non-empty. No infix/regex
// wildcards. Case-sensitive except hosts."
INSTANTIATE_TEST_SUITE_P(
    StringMatch, StringPatternTable,
    ::testing::Values(
        PatternCase{"ExactEqual", "GET", false, "GET", true},
        PatternCase{"ExactIsCaseSensitive", "GET", false, "get", false},
        PatternCase{"ExactLongerValue", "/admin", false, "/admin/x", false},
        PatternCase{"PrefixMatches", "/api/*", false, "/api/v1", true},
        PatternCase{"PrefixNeedsFullPrefix", "/api/*", false, "/api", false},
        PatternCase{"PrefixMatchesEmptyRemainder", "/api/*", false, "/api/", true},
        PatternCase{"SuffixMatches", "*.png", false, "/img/a.png", true},
        PatternCase{"SuffixMismatch", "*.png", false, "/img/a.jpg", false},
        PatternCase{"StarMatchesNonEmpty", "*", false, "x", true},
        PatternCase{"StarRejectsEmpty", "*", false, "", false},
        PatternCase{"InfixStarIsLiteral", "/a*b/c", false, "/aXb/c", false},
        PatternCase{"InfixStarLiteralEqual", "/a*b/c", false, "/a*b/c", true},
        PatternCase{"IgnoreCaseExact", "HTTPBIN.foo", true, "httpbin.FOO", true},
        PatternCase{"IgnoreCasePrefix", "Example.*", true, "example.com", true},
        PatternCase{"IgnoreCaseSuffix", "*.Example.COM", true, "api.example.com", true},
        PatternCase{"HostWithPortIsNotHost", "httpbin.foo", true, "httpbin.foo:8000", false},
        PatternCase{"HostPortWildcard", "httpbin.foo:*", true, "httpbin.foo:8000", true}),
    CaseName());

TEST(StringMatch, ParseKeepsKindAndText) {
  const auto p = StringPattern::parse("*", false);
  EXPECT_EQ(p.kind(), StringMatchKind::kPresent);
  const auto s = StringPattern::parse("*abc", false);
  EXPECT_EQ(s.kind(), StringMatchKind::kSuffix);
  EXPECT_EQ(s.text(), "abc");
  const auto h = StringPattern::parse("ABC*", true);
  EXPECT_EQ(h.kind(), StringMatchKind::kPrefix);
  EXPECT_EQ(h.text(), "abc");
  EXPECT_EQ(h.pattern(), "ABC*");
  EXPECT_STREQ(stringMatchKindName(StringMatchKind::kSuffix), "suffix");
}

// ---------------------------------------------------------------- StringMatchList

TEST(StringMatch, ListIsAnOrOfPatterns) {
  const std::vector<std::string> patterns = {"GET", "/api/*", "*.png"};
  const auto list = StringMatchList::compile(patterns);
  EXPECT_EQ(list.size(), 3u);
  EXPECT_TRUE(list.matches("GET"));
  EXPECT_TRUE(list.matches("/api/x"));
  EXPECT_TRUE(list.matches("a.png"));
  EXPECT_FALSE(list.matches("POST"));
  EXPECT_FALSE(StringMatchList().matches("anything"));
}

TEST(StringMatch, LargeExactSetUsesHashAndStaysExact) {
  std::vector<std::string> patterns;
  for (int i = 0; i < 100; ++i)
    patterns.push_back("cluster.local/ns/ns" + std::to_string(i) + "/sa/app");
  const auto list = StringMatchList::compile(patterns);
  for (int i = 0; i < 100; ++i) {
    const std::string v = "cluster.local/ns/ns" + std::to_string(i) + "/sa/app";
    EXPECT_TRUE(list.matches(v)) << v;
    EXPECT_TRUE(list.matchesHashed(v, hashString(v))) << v;
  }
  EXPECT_FALSE(list.matches("cluster.local/ns/ns100/sa/app"));
  EXPECT_FALSE(list.matches("cluster.local/ns/ns1/sa/ap"));
}

TEST(StringMatch, LargeCaseInsensitiveSetMatchesAnyCase) {
  std::vector<std::string> hosts;
  for (int i = 0; i < 20; ++i) hosts.push_back("Svc" + std::to_string(i) + ".Example.com");
  const auto list = StringMatchList::compile(hosts, true);
  EXPECT_TRUE(list.matches("svc7.example.COM"));
  EXPECT_TRUE(list.matchesHashed("SVC7.EXAMPLE.COM", hashStringLower("SVC7.EXAMPLE.COM")));
  EXPECT_FALSE(list.matches("svc20.example.com"));
  EXPECT_EQ(hashStringLower("AbC"), hashString("abc"));
  EXPECT_TRUE(equalsIgnoreCase("AbC", "aBc"));
  EXPECT_FALSE(equalsIgnoreCase("AbC", "aBcd"));
}

// ---------------------------------------------------------------- CIDR

struct CidrCase {
  const char* name;
  std::string range;
  std::string ip;
  bool expected;
};

class CidrTable : public ::testing::TestWithParam<CidrCase> {};

TEST_P(CidrTable, Contains) {
  const auto& c = GetParam();
  auto range = CidrRange::parse(c.range);
  ASSERT_TRUE(range.ok()) << range.status().toString();
  auto ip = IpAddress::parse(c.ip);
  ASSERT_TRUE(ip.has_value()) << c.ip;
  EXPECT_EQ(range->contains(*ip), c.expected) << c.range << " vs " << c.ip;
}

// ipBlocks: "IP/CIDR"; a bare IP is /32 (IPv4) or /128 (IPv6).
INSTANTIATE_TEST_SUITE_P(
    CidrMatch, CidrTable,
    ::testing::Values(CidrCase{"V4Inside", "10.0.0.0/8", "10.1.2.3", true},
                      CidrCase{"V4Outside", "10.0.0.0/8", "11.0.0.1", false},
                      CidrCase{"V4BareIsSlash32", "10.1.2.3", "10.1.2.3", true},
                      CidrCase{"V4BareRejectsNeighbour", "10.1.2.3", "10.1.2.4", false},
                      CidrCase{"V4HostBitsIgnored", "10.1.2.3/24", "10.1.2.200", true},
                      CidrCase{"V4SlashZeroMatchesAll", "0.0.0.0/0", "203.0.113.9", true},
                      CidrCase{"V6Inside", "2001:db8::/32", "2001:db8:1::5", true},
                      CidrCase{"V6Outside", "2001:db8::/32", "2001:db9::1", false},
                      CidrCase{"V6BareIsSlash128", "fd00::1", "fd00::1", true},
                      CidrCase{"V6PrefixAbove64", "fd00::/96", "fd00::ffff:1", true},
                      CidrCase{"V6PrefixAbove64Outside", "fd00::/96", "fd00::1:0:0:1", false},
                      CidrCase{"FamilyMismatchV4RangeV6Ip", "0.0.0.0/0", "::1", false},
                      CidrCase{"FamilyMismatchV6RangeV4Ip", "::/0", "10.0.0.1", false}),
    CaseName());

struct CidrErrorCase {
  const char* name;
  std::string text;
};

class CidrErrorTable : public ::testing::TestWithParam<CidrErrorCase> {};

TEST_P(CidrErrorTable, IsInvalidArgument) {
  auto r = CidrRange::parse(GetParam().text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(CidrMatch, CidrErrorTable,
                         ::testing::Values(CidrErrorCase{"Empty", ""},
                                           CidrErrorCase{"NotAnAddress", "example.com"},
                                           CidrErrorCase{"OctetOutOfRange", "300.0.0.1"},
                                           CidrErrorCase{"V4PrefixTooLong", "10.0.0.0/33"},
                                           CidrErrorCase{"V6PrefixTooLong", "fd00::/129"},
                                           CidrErrorCase{"EmptyPrefix", "10.0.0.0/"},
                                           CidrErrorCase{"NonNumericPrefix", "10.0.0.0/x"}),
                         CaseName());

TEST(CidrMatch, ToStringClearsHostBits) {
  EXPECT_EQ(CidrRange::parse("10.1.2.3/8")->toString(), "10.0.0.0/8");
  EXPECT_EQ(CidrRange::parse("10.1.2.3")->toString(), "10.1.2.3/32");
  EXPECT_EQ(CidrRange::parse("2001:db8::1/32")->toString(), "2001:db8::/32");
  EXPECT_EQ(IpAddress::parse("fd00::1")->toString(), "fd00::1");
  EXPECT_FALSE(IpAddress::parse("").has_value());
  EXPECT_FALSE(IpAddress::parse("fe80::1%eth0").has_value());
}

TEST(CidrMatch, ListFailsOnFirstBadEntryAndOrsTheRest) {
  const std::vector<std::string> bad = {"10.0.0.0/8", "nope"};
  EXPECT_EQ(CidrList::compile(bad).status().code(), StatusCode::kInvalidArgument);
  const std::vector<std::string> good = {"10.0.0.0/8", "192.168.0.0/16"};
  auto list = CidrList::compile(good);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->contains(*IpAddress::parse("192.168.1.1")));
  EXPECT_FALSE(list->contains(*IpAddress::parse("172.16.0.1")));
}

}  // namespace
}  // namespace meshsim::policy
