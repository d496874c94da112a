// Request normalization (istio-semantics.md 4.7) and `paths` templates (4.5).

#include "meshsim/policy/path.h"

#include <gtest/gtest.h>

#include <string>

namespace meshsim::policy {
namespace {

/// Names each table row after its `name` field.
struct CaseName {
  template <typename T>
  std::string operator()(const ::testing::TestParamInfo<T>& row) const {
    return row.param.name;
  }
};

struct NormalizeCase {
  const char* name;
  PathNormalization mode;
  std::string target;
  std::string path;
  std::string query;
};

class NormalizeTable : public ::testing::TestWithParam<NormalizeCase> {};

TEST_P(NormalizeTable, Normalizes) {
  const auto& c = GetParam();
  auto r = normalizePath(c.target, c.mode);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->path, c.path);
  EXPECT_EQ(r->query, c.query);
}

using PN = PathNormalization;

INSTANTIATE_TEST_SUITE_P(
    PathNormalize, NormalizeTable,
    ::testing::Values(
        // gotcha 9: "/public/../private evaluates as /private".
        NormalizeCase{"DotDotRemoved", PN::kBase, "/public/../private", "/private", ""},
        NormalizeCase{"DotRemoved", PN::kBase, "/a/./b", "/a/b", ""},
        NormalizeCase{"DotDotAboveRootStaysAtRoot", PN::kBase, "/../../etc", "/etc", ""},
        NormalizeCase{"TrailingDotDotKeepsSlash", PN::kBase, "/a/b/..", "/a/", ""},
        NormalizeCase{"BackslashBecomesSlash", PN::kBase, "/a\\b", "/a/b", ""},
        NormalizeCase{"EncodedDotsDecodedThenRemoved", PN::kBase, "/a/%2E%2e/b", "/b", ""},
        NormalizeCase{"UnreservedDecoded", PN::kBase, "/%61dmin%7E%2D", "/admin~-", ""},
        // "%2F/%5C are not decoded" under BASE.
        NormalizeCase{"EncodedSlashKept", PN::kBase, "/a%2fb", "/a%2Fb", ""},
        NormalizeCase{"EncodedBackslashKept", PN::kBase, "/a%5Cb", "/a%5Cb", ""},
        NormalizeCase{"ReservedEscapeKept", PN::kBase, "/a%3Fb", "/a%3Fb", ""},
        // "// is not merged under BASE".
        NormalizeCase{"DoubleSlashKeptUnderBase", PN::kBase, "//admin", "//admin", ""},
        NormalizeCase{"DoubleSlashMerged", PN::kMergeSlashes, "//admin", "/admin", ""},
        NormalizeCase{"MergeKeepsEncodedSlash", PN::kMergeSlashes, "/a%2F%2Fb", "/a%2F%2Fb", ""},
        NormalizeCase{"DecodeAndMerge", PN::kDecodeAndMergeSlashes, "/a%2F%2Fb", "/a/b", ""},
        NormalizeCase{"DecodeBackslashThenSlash", PN::kDecodeAndMergeSlashes, "/a%5Cb", "/a/b", ""},
        NormalizeCase{"DecodedSlashDotDot", PN::kDecodeAndMergeSlashes, "/x/..%2Fadmin", "/admin",
                      ""},
        // "paths ... matched against the normalized path without query string (and fragment)".
        NormalizeCase{"QueryStripped", PN::kBase, "/admin?x=1&y=2", "/admin", "x=1&y=2"},
        NormalizeCase{"FragmentDropped", PN::kBase, "/admin#frag", "/admin", ""},
        NormalizeCase{"QueryThenFragment", PN::kBase, "/a?q=1#f", "/a", "q=1"},
        NormalizeCase{"NoneOnlySplits", PN::kNone, "/a/../b?q", "/a/../b", "q"}),
    CaseName());

struct BadPathCase {
  const char* name;
  std::string target;
};

class BadPathTable : public ::testing::TestWithParam<BadPathCase> {};

TEST_P(BadPathTable, IsBadRequest) {
  auto r = normalizePath(GetParam().target, PathNormalization::kBase);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // 4.7: "%00 -> 400": the caller turns the error into a 400 decision.
  const Decision d = badRequestDecision(r.status());
  EXPECT_EQ(d.status, 400);
  EXPECT_EQ(d.stage, Stage::kRequest);
  EXPECT_FALSE(d.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(PathNormalize, BadPathTable,
                         ::testing::Values(BadPathCase{"EncodedNul", "/a%00b"},
                                           BadPathCase{"RawNul", std::string("/a\0b", 4)},
                                           BadPathCase{"NoLeadingSlash", "admin"},
                                           BadPathCase{"Empty", ""},
                                           BadPathCase{"OnlyQuery", "?a=1"}),
                         CaseName());

TEST(PathNormalize, NulIsRejectedUnderEveryMode) {
  EXPECT_FALSE(normalizePath("/a%00", PathNormalization::kNone).ok());
  EXPECT_FALSE(normalizePath("/a%00", PathNormalization::kMergeSlashes).ok());
  EXPECT_FALSE(normalizePath("/a%00", PathNormalization::kDecodeAndMergeSlashes).ok());
  EXPECT_STREQ(pathNormalizationName(PathNormalization::kDecodeAndMergeSlashes),
               "DECODE_AND_MERGE_SLASHES");
}

struct MethodCase {
  const char* name;
  std::string method;
  bool ok;
};

class MethodTable : public ::testing::TestWithParam<MethodCase> {};

TEST_P(MethodTable, Checks) {
  const Status s = checkMethod(GetParam().method);
  EXPECT_EQ(s.ok(), GetParam().ok) << GetParam().method;
  if (!s.ok()) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  }
}

// 4.7: "Lower-case or otherwise non-upper-case method -> 400".
INSTANTIATE_TEST_SUITE_P(
    PathNormalize, MethodTable,
    ::testing::Values(MethodCase{"Get", "GET", true}, MethodCase{"Delete", "DELETE", true},
                      MethodCase{"MSearch", "M-SEARCH", true},
                      MethodCase{"LowerCase", "get", false}, MethodCase{"MixedCase", "Get", false},
                      MethodCase{"Digits", "G3T", false}, MethodCase{"Empty", "", false}),
    CaseName());

TEST(PathNormalize, HeaderNamesWithWhitespaceAreBadRequests) {
  EXPECT_TRUE(checkHeaderName("x-user").ok());
  EXPECT_TRUE(checkHeaderName("X-Forwarded-For").ok());
  EXPECT_EQ(checkHeaderName("x user").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(checkHeaderName("x-user ").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(checkHeaderName("x:user").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(checkHeaderName("").code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- templates

struct TemplateCase {
  const char* name;
  std::string pattern;
  std::string path;
  bool expected;
};

class TemplateTable : public ::testing::TestWithParam<TemplateCase> {};

TEST_P(TemplateTable, Matches) {
  const auto& c = GetParam();
  ASSERT_TRUE(PathTemplate::isTemplate(c.pattern));
  auto t = PathTemplate::compile(c.pattern);
  ASSERT_TRUE(t.ok()) << t.status().toString();
  EXPECT_EQ(t->matches(c.path), c.expected) << c.pattern << " vs " << c.path;
}

// 4.5: "{*} (one segment) and {**} (zero+ segments, must be last operator)".
INSTANTIATE_TEST_SUITE_P(
    PathTemplateMatch, TemplateTable,
    ::testing::Values(
        TemplateCase{"OneSegment", "/store/{*}/items", "/store/a1/items", true},
        TemplateCase{"OneSegmentNotTwo", "/store/{*}/items", "/store/a/b/items", false},
        TemplateCase{"OneSegmentNotEmpty", "/store/{*}/items", "/store//items", false},
        TemplateCase{"OneSegmentAtEnd", "/users/{*}", "/users/42", true},
        TemplateCase{"OneSegmentAtEndNoTrailing", "/users/{*}", "/users/42/x", false},
        TemplateCase{"AnyManySegments", "/api/{**}", "/api/v1/users/7", true},
        TemplateCase{"AnyZeroSegments", "/api/{**}", "/api/", true},
        TemplateCase{"AnyNeedsSeparator", "/api/{**}", "/api", false},
        TemplateCase{"AnyThenLiteral", "/files/{**}/edit", "/files/a/b/edit", true},
        TemplateCase{"AnyThenLiteralMismatch", "/files/{**}/edit", "/files/a/b/view", false},
        TemplateCase{"OneThenAny", "/{*}/logs/{**}", "/svc/logs/2024/01", true},
        TemplateCase{"OneThenAnyMissingOne", "/{*}/logs/{**}", "//logs/x", false}),
    CaseName());

struct BadTemplateCase {
  const char* name;
  std::string pattern;
};

class BadTemplateTable : public ::testing::TestWithParam<BadTemplateCase> {};

TEST_P(BadTemplateTable, IsInvalidArgument) {
  auto t = PathTemplate::compile(GetParam().pattern);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(PathTemplateMatch, BadTemplateTable,
                         ::testing::Values(BadTemplateCase{"AnyNotLast", "/{**}/{*}"},
                                           BadTemplateCase{"TwoAny", "/{**}/x/{**}"},
                                           BadTemplateCase{"PartialSegment", "/a{*}"},
                                           BadTemplateCase{"UnknownOperator", "/{id}/{*}"},
                                           BadTemplateCase{"NoLeadingSlash", "api/{*}"},
                                           BadTemplateCase{"EmptySegment", "/a//{*}"},
                                           BadTemplateCase{"InvalidLiteral", "/a b/{*}"}),
                         CaseName());

}  // namespace
}  // namespace meshsim::policy
