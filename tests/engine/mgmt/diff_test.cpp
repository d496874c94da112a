// unifiedDiff(): the unified format of GNU diff -u (3 lines of context). Expected texts are written
// out literally; they match what GNU diff 3.8 prints for the same inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "meshsim/mgmt/state.h"

namespace meshsim::mgmt {
namespace {

const char kHeader[] = "--- a/Kind ns/x\n+++ b/Kind ns/x\n";

// "line 1\n" ... "line n\n", with the lines named in `changed` upper-cased ("LINE 10\n").
std::string numberedLines(int n, const std::vector<int>& changed = {}) {
  std::string out;
  for (int i = 1; i <= n; ++i) {
    const bool upper = std::find(changed.begin(), changed.end(), i) != changed.end();
    out += (upper ? "LINE " : "line ") + std::to_string(i) + "\n";
  }
  return out;
}

int countLinesStartingWith(const std::string& text, const std::string& prefix) {
  int count = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl == std::string::npos ? nl : nl - pos);
    if (line.rfind(prefix, 0) == 0) ++count;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return count;
}

struct DiffCase {
  std::string name;
  std::string before;
  std::string after;
  std::string expected;  // without the two header lines; "" means no diff at all
};

class UnifiedDiffCase : public ::testing::TestWithParam<DiffCase> {};

TEST_P(UnifiedDiffCase, PrintsTheExpectedText) {
  const DiffCase& c = GetParam();
  const std::string expected = c.expected.empty() ? "" : kHeader + c.expected;
  EXPECT_EQ(unifiedDiff(c.before, c.after, "Kind ns/x"), expected);
}

INSTANTIATE_TEST_SUITE_P(
    UnifiedDiff, UnifiedDiffCase,
    ::testing::Values(
        DiffCase{"Identical", "a: 1\nb: 2\n", "a: 1\nb: 2\n", ""},
        DiffCase{"BothEmpty", "", "", ""},
        DiffCase{"Creation", "", "a: 1\nb: 2\n", "@@ -0,0 +1,2 @@\n+a: 1\n+b: 2\n"},
        DiffCase{"Deletion", "a: 1\nb: 2\n", "", "@@ -1,2 +0,0 @@\n-a: 1\n-b: 2\n"},
        DiffCase{"OneLineEachSide", "x\n", "y\n", "@@ -1 +1 @@\n-x\n+y\n"},
        DiffCase{"OneChangedLineInTheMiddleOfTwenty", numberedLines(20), numberedLines(20, {10}),
                 "@@ -7,7 +7,7 @@\n"
                 " line 7\n"
                 " line 8\n"
                 " line 9\n"
                 "-line 10\n"
                 "+LINE 10\n"
                 " line 11\n"
                 " line 12\n"
                 " line 13\n"},
        DiffCase{"TwoDistantChangesMakeTwoHunks", numberedLines(20), numberedLines(20, {3, 18}),
                 "@@ -1,6 +1,6 @@\n"
                 " line 1\n"
                 " line 2\n"
                 "-line 3\n"
                 "+LINE 3\n"
                 " line 4\n"
                 " line 5\n"
                 " line 6\n"
                 "@@ -15,6 +15,6 @@\n"
                 " line 15\n"
                 " line 16\n"
                 " line 17\n"
                 "-line 18\n"
                 "+LINE 18\n"
                 " line 19\n"
                 " line 20\n"},
        DiffCase{"SixUnchangedLinesBetweenChangesMergeIntoOneHunk", numberedLines(20),
                 numberedLines(20, {3, 10}),
                 "@@ -1,13 +1,13 @@\n"
                 " line 1\n"
                 " line 2\n"
                 "-line 3\n"
                 "+LINE 3\n"
                 " line 4\n"
                 " line 5\n"
                 " line 6\n"
                 " line 7\n"
                 " line 8\n"
                 " line 9\n"
                 "-line 10\n"
                 "+LINE 10\n"
                 " line 11\n"
                 " line 12\n"
                 " line 13\n"},
        DiffCase{"SevenUnchangedLinesBetweenChangesSplitTheHunks", numberedLines(20),
                 numberedLines(20, {3, 11}),
                 "@@ -1,6 +1,6 @@\n"
                 " line 1\n"
                 " line 2\n"
                 "-line 3\n"
                 "+LINE 3\n"
                 " line 4\n"
                 " line 5\n"
                 " line 6\n"
                 "@@ -8,7 +8,7 @@\n"
                 " line 8\n"
                 " line 9\n"
                 " line 10\n"
                 "-line 11\n"
                 "+LINE 11\n"
                 " line 12\n"
                 " line 13\n"
                 " line 14\n"},
        DiffCase{"PureInsertion", numberedLines(10),
                 "line 1\nline 2\nline 3\nline 4\nline 5\nnew\nline 6\nline 7\nline 8\nline 9\n"
                 "line 10\n",
                 "@@ -3,6 +3,7 @@\n line 3\n line 4\n line 5\n+new\n line 6\n line 7\n line 8\n"},
        DiffCase{"DeletionsComeBeforeInsertions", "a\nb\nc\n", "a\nx\ny\nc\n",
                 "@@ -1,3 +1,4 @@\n a\n-b\n+x\n+y\n c\n"},
        DiffCase{"NewFileLacksFinalNewline", "a\nb\n", "a\nb",
                 "@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n"},
        DiffCase{"OldFileLacksFinalNewline", "a", "a\nb\n",
                 "@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n"},
        DiffCase{"NeitherHasFinalNewline", "a\nb", "a\nc",
                 "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end "
                 "of file\n"},
        DiffCase{"UnchangedLastLineWithoutNewlineInContext", "a\nb\nc", "x\nb\nc",
                 "@@ -1,3 +1,3 @@\n-a\n+x\n b\n c\n\\ No newline at end of file\n"},
        DiffCase{"CreationWithoutFinalNewline", "", "a",
                 "@@ -0,0 +1 @@\n+a\n\\ No newline at end of file\n"}),
    [](const ::testing::TestParamInfo<DiffCase>& param_info) { return param_info.param.name; });

TEST(UnifiedDiff, UsesTheLabelInBothHeaders) {
  EXPECT_EQ(unifiedDiff("a\n", "b\n", "Tenant org/t1"),
            "--- a/Tenant org/t1\n+++ b/Tenant org/t1\n@@ -1 +1 @@\n-a\n+b\n");
}

TEST(UnifiedDiff, OneChangeInAHugeFileStaysOneSmallHunk) {
  // The common head and tail are removed before the size guard applies.
  const std::string diff = unifiedDiff(numberedLines(20000), numberedLines(20000, {10000}), "x");
  EXPECT_EQ(diff,
            "--- a/x\n+++ b/x\n"
            "@@ -9997,7 +9997,7 @@\n"
            " line 9997\n"
            " line 9998\n"
            " line 9999\n"
            "-line 10000\n"
            "+LINE 10000\n"
            " line 10001\n"
            " line 10002\n"
            " line 10003\n");
}

TEST(UnifiedDiff, HugeDifferingMiddleFallsBackToOneReplacementHunk) {
  // Every 10th line of 6000 changes: lines 1..5991 differ somewhere (5991 x 5991 line pairs, over
  // the 5000 x 5000 guard), so the middle is replaced whole instead of being diffed into 600 hunks.
  std::vector<int> changed;
  for (int i = 1; i <= 5991; i += 10) changed.push_back(i);
  const std::string diff = unifiedDiff(numberedLines(6000), numberedLines(6000, changed), "x");
  EXPECT_EQ(countLinesStartingWith(diff, "@@"), 1);
  EXPECT_EQ(diff.rfind("--- a/x\n+++ b/x\n@@ -1,5994 +1,5994 @@\n-line 1\n-line 2\n", 0), 0u);
  EXPECT_EQ(countLinesStartingWith(diff, "-line "), 5991);
  EXPECT_EQ(countLinesStartingWith(diff, "+line "), 5991 - 600);
  EXPECT_EQ(countLinesStartingWith(diff, "+LINE "), 600);
  EXPECT_EQ(countLinesStartingWith(diff, " line "), 3);
}

TEST(UnifiedDiff, BelowTheGuardEachChangeGetsItsOwnHunk) {
  std::vector<int> changed;
  for (int i = 1; i <= 991; i += 10) changed.push_back(i);
  const std::string diff = unifiedDiff(numberedLines(1000), numberedLines(1000, changed), "x");
  EXPECT_EQ(countLinesStartingWith(diff, "@@"), 100);
  EXPECT_EQ(countLinesStartingWith(diff, "-line "), 100);
}

// ---- property checks: the diff applies and is minimal ---------------------------------------

std::vector<std::string> splitKeepingNewlines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const size_t end = nl == std::string::npos ? text.size() : nl + 1;
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// Applies a unified diff to `before` (the test's own patch reader). Returns false on any mismatch.
bool applyDiff(const std::string& before, const std::string& diff, std::string* after) {
  const std::vector<std::string> old_lines = splitKeepingNewlines(before);
  const std::vector<std::string> lines = splitKeepingNewlines(diff);
  std::string out;
  size_t old_pos = 0;  // 0-based next old line to copy
  size_t i = 2;        // skip the headers
  while (i < lines.size()) {
    int a = 0, b = 0, c = 0, d = 0;
    const std::string& h = lines[i];
    // A range without ",count" has one line.
    const bool parsed = std::sscanf(h.c_str(), "@@ -%d,%d +%d,%d @@", &a, &b, &c, &d) == 4 ||
                        (d = 1, std::sscanf(h.c_str(), "@@ -%d,%d +%d @@", &a, &b, &c) == 3) ||
                        (b = 1, std::sscanf(h.c_str(), "@@ -%d +%d,%d @@", &a, &c, &d) == 3) ||
                        (b = 1, d = 1, std::sscanf(h.c_str(), "@@ -%d +%d @@", &a, &c) == 2);
    if (!parsed) return false;
    const size_t hunk_old_start = b == 0 ? static_cast<size_t>(a) : static_cast<size_t>(a - 1);
    if (hunk_old_start < old_pos || hunk_old_start > old_lines.size()) return false;
    while (old_pos < hunk_old_start) out += old_lines[old_pos++];
    ++i;
    int seen_old = 0, seen_new = 0;
    while (i < lines.size() && lines[i].rfind("@@", 0) != 0) {
      std::string body = lines[i].substr(1);
      const char kind = lines[i][0];
      ++i;
      if (i < lines.size() && lines[i] == "\\ No newline at end of file\n") {
        body.pop_back();
        ++i;
      }
      if (kind == ' ' || kind == '-') {
        if (old_pos >= old_lines.size() || old_lines[old_pos] != body) return false;
        ++old_pos;
        ++seen_old;
      }
      if (kind == ' ' || kind == '+') {
        out += body;
        ++seen_new;
      }
      if (kind != ' ' && kind != '-' && kind != '+') return false;
    }
    if (seen_old != b || seen_new != d) return false;
  }
  while (old_pos < old_lines.size()) out += old_lines[old_pos++];
  *after = out;
  return true;
}

// Length of a longest common subsequence of lines, by the textbook dynamic programme.
size_t lcsLength(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void expectAppliesAndIsMinimal(const std::string& before, const std::string& after) {
  const std::string diff = unifiedDiff(before, after, "x");
  if (before == after) {
    EXPECT_EQ(diff, "");
    return;
  }
  std::string rebuilt;
  ASSERT_TRUE(applyDiff(before, diff, &rebuilt)) << "before:\n" << before << "diff:\n" << diff;
  EXPECT_EQ(rebuilt, after) << "diff:\n" << diff;
  const auto a = splitKeepingNewlines(before);
  const auto b = splitKeepingNewlines(after);
  const size_t lcs = lcsLength(a, b);
  EXPECT_EQ(static_cast<size_t>(countLinesStartingWith(diff, "-") - 1), a.size() - lcs) << "diff:\n"
                                                                                        << diff;
  EXPECT_EQ(static_cast<size_t>(countLinesStartingWith(diff, "+") - 1), b.size() - lcs) << "diff:\n"
                                                                                        << diff;
}

TEST(UnifiedDiff, MyersPaperExampleIsMinimal) {
  // The example of Myers (1986): ABCABBA -> CBABAC has 5 edits (LCS of 4).
  expectAppliesAndIsMinimal("A\nB\nC\nA\nB\nB\nA\n", "C\nB\nA\nB\nA\nC\n");
}

TEST(UnifiedDiff, RandomEditsApplyAndAreMinimal) {
  std::mt19937 rng(20261122);  // fixed seed: the same inputs on every run
  for (int round = 0; round < 300; ++round) {
    std::uniform_int_distribution<int> length(0, 40);
    std::uniform_int_distribution<int> alphabet(0, round % 2 == 0 ? 3 : 12);
    auto make = [&](int n) {
      std::string s;
      for (int i = 0; i < n; ++i) s += "v" + std::to_string(alphabet(rng)) + "\n";
      if (!s.empty() && rng() % 4 == 0) s.pop_back();  // sometimes no final newline
      return s;
    };
    // Every third pair is lopsided: one side has at most 3 lines.
    std::uniform_int_distribution<int> short_length(0, 3);
    const std::string before = make(round % 3 == 1 ? short_length(rng) : length(rng));
    const std::string after = make(round % 3 == 2 ? short_length(rng) : length(rng));
    SCOPED_TRACE("round " + std::to_string(round));
    expectAppliesAndIsMinimal(before, after);
  }
}

}  // namespace
}  // namespace meshsim::mgmt
