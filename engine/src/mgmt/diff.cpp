// unifiedDiff(): a line diff (Myers' O((N+M)D) algorithm in linear space) printed in the unified
// format of GNU diff -u: 3 lines of context, "@@ -a,b +c,d @@" hunks, and the
// "\ No newline at end of file" marker after a last line that has no newline.
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "meshsim/mgmt/state.h"

namespace meshsim::mgmt {

namespace {

constexpr size_t kContext = 3;
// Above this many line pairs (after the common head and tail are removed) the middle is reported
// as one replacement instead of being diffed, so a huge input cannot take quadratic time.
constexpr uint64_t kMaxDiffCells = 5000ull * 5000ull;

// One line with its terminator, so "x" (last line, no newline) and "x\n" compare different.
std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    const size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

// Finds which lines of `a` and `b` belong to a longest common subsequence and marks them.
class LineMatcher {
 public:
  LineMatcher(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b)
      : a_(a), b_(b), matched_a_(a.size(), false), matched_b_(b.size(), false) {}

  void run() { compare(0, a_.size(), 0, b_.size()); }
  const std::vector<bool>& matchedA() const { return matched_a_; }
  const std::vector<bool>& matchedB() const { return matched_b_; }

 private:
  struct Snake {
    size_t x_begin, y_begin, x_end, y_end;
  };

  void compare(size_t a0, size_t a1, size_t b0, size_t b1) {
    while (a0 < a1 && b0 < b1 && a_[a0] == b_[b0]) {
      matched_a_[a0++] = true;
      matched_b_[b0++] = true;
    }
    while (a0 < a1 && b0 < b1 && a_[a1 - 1] == b_[b1 - 1]) {
      matched_a_[--a1] = true;
      matched_b_[--b1] = true;
    }
    if (a0 == a1 || b0 == b1) return;  // only deletions or only insertions remain
    const uint64_t cells = static_cast<uint64_t>(a1 - a0) * static_cast<uint64_t>(b1 - b0);
    if (top_level_ && cells > kMaxDiffCells) return;  // degraded: whole middle replaced
    top_level_ = false;
    const Snake s = middleSnake(a0, a1, b0, b1);
    compare(a0, s.x_begin, b0, s.y_begin);
    for (size_t x = s.x_begin, y = s.y_begin; x < s.x_end; ++x, ++y) {
      matched_a_[x] = true;
      matched_b_[y] = true;
    }
    compare(s.x_end, a1, s.y_end, b1);
  }

  // Myers' middle snake. Forward paths live on diagonals k = x - y from (a0, b0); backward paths
  // are kept in reversed coordinates (x' = n - x, y' = m - y) on diagonals c = x' - y' = delta - k.
  // Precondition: both ranges non-empty, their first lines differ and their last lines differ.
  Snake middleSnake(size_t a0, size_t a1, size_t b0, size_t b1) {
    const int64_t n = static_cast<int64_t>(a1 - a0);
    const int64_t m = static_cast<int64_t>(b1 - b0);
    const int64_t delta = n - m;
    const bool odd = (delta & 1) != 0;
    const int64_t max_d = (n + m + 1) / 2;
    const int64_t offset = max_d + 1;
    std::vector<int64_t> vf(static_cast<size_t>(2 * max_d + 3), 0);
    std::vector<int64_t> vb(static_cast<size_t>(2 * max_d + 3), 0);
    auto at = [offset](std::vector<int64_t>& v, int64_t k) -> int64_t& {
      return v[static_cast<size_t>(k + offset)];
    };
    auto fa = [&](int64_t x) { return a_[a0 + static_cast<size_t>(x)]; };
    auto fb = [&](int64_t y) { return b_[b0 + static_cast<size_t>(y)]; };
    auto ra = [&](int64_t xr) { return a_[a1 - 1 - static_cast<size_t>(xr)]; };
    auto rb = [&](int64_t yr) { return b_[b1 - 1 - static_cast<size_t>(yr)]; };
    auto snake = [&](int64_t x0, int64_t y0, int64_t x1, int64_t y1) {
      return Snake{a0 + static_cast<size_t>(x0), b0 + static_cast<size_t>(y0),
                   a0 + static_cast<size_t>(x1), b0 + static_cast<size_t>(y1)};
    };
    for (int64_t d = 0; d <= max_d; ++d) {
      for (int64_t k = -d; k <= d; k += 2) {
        int64_t x = (k == -d || (k != d && at(vf, k - 1) < at(vf, k + 1))) ? at(vf, k + 1)
                                                                           : at(vf, k - 1) + 1;
        int64_t y = x - k;
        const int64_t x_start = x;
        const int64_t y_start = y;
        while (x < n && y < m && fa(x) == fb(y)) {
          ++x;
          ++y;
        }
        at(vf, k) = x;
        const int64_t c = delta - k;
        if (odd && c >= -(d - 1) && c <= d - 1 && x + at(vb, c) >= n) {
          return snake(x_start, y_start, x, y);
        }
      }
      for (int64_t c = -d; c <= d; c += 2) {
        int64_t xr = (c == -d || (c != d && at(vb, c - 1) < at(vb, c + 1))) ? at(vb, c + 1)
                                                                            : at(vb, c - 1) + 1;
        int64_t yr = xr - c;
        const int64_t xr_start = xr;
        const int64_t yr_start = yr;
        while (xr < n && yr < m && ra(xr) == rb(yr)) {
          ++xr;
          ++yr;
        }
        at(vb, c) = xr;
        const int64_t k = delta - c;
        if (!odd && k >= -d && k <= d && at(vf, k) + xr >= n) {
          return snake(n - xr, m - yr, n - xr_start, m - yr_start);
        }
      }
    }
    // Unreachable: the paths always meet by d = ceil((n + m) / 2). Should it happen, an empty snake
    // at (n, 0) still terminates: the old range becomes deletions, the new one insertions.
    assert(false && "middle snake not found");
    return snake(n, 0, n, 0);
  }

  const std::vector<uint32_t>& a_;
  const std::vector<uint32_t>& b_;
  std::vector<bool> matched_a_;
  std::vector<bool> matched_b_;
  bool top_level_ = true;
};

enum class OpType { kEqual, kDelete, kInsert };

struct Op {
  OpType type;
  size_t a;  // index into the old lines (the next old line, for an insertion)
  size_t b;  // index into the new lines (the next new line, for a deletion)
};

// "start,count" as GNU diff prints it: a single line is just its number; an empty range names the
// line before it.
std::string range(size_t first_index, size_t count) {
  if (count == 0) return std::to_string(first_index) + ",0";
  if (count == 1) return std::to_string(first_index + 1);
  return std::to_string(first_index + 1) + "," + std::to_string(count);
}

void appendLine(std::string& out, char prefix, std::string_view line) {
  out += prefix;
  out.append(line.data(), line.size());
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

std::string unifiedDiff(const std::string& before, const std::string& after,
                        const std::string& label) {
  if (before == after) return "";
  const std::vector<std::string_view> old_lines = splitLines(before);
  const std::vector<std::string_view> new_lines = splitLines(after);

  // Compare small integers instead of strings.
  std::unordered_map<std::string_view, uint32_t> ids;
  auto intern = [&ids](const std::vector<std::string_view>& lines) {
    std::vector<uint32_t> out;
    out.reserve(lines.size());
    for (const auto& line : lines) {
      out.push_back(ids.emplace(line, static_cast<uint32_t>(ids.size())).first->second);
    }
    return out;
  };
  const std::vector<uint32_t> a = intern(old_lines);
  const std::vector<uint32_t> b = intern(new_lines);
  LineMatcher matcher(a, b);
  matcher.run();
  const auto& ma = matcher.matchedA();
  const auto& mb = matcher.matchedB();

  // The edit script; within one change, deletions come before insertions (as in GNU diff).
  std::vector<Op> ops;
  ops.reserve(a.size() + b.size());
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && ma[i] && mb[j]) {
      ops.push_back({OpType::kEqual, i++, j++});
      continue;
    }
    const size_t before_change = ops.size();
    while (i < a.size() && !ma[i]) ops.push_back({OpType::kDelete, i++, j});
    while (j < b.size() && !mb[j]) ops.push_back({OpType::kInsert, i, j++});
    assert(ops.size() > before_change && "matched lines out of step");
    if (ops.size() == before_change) break;
  }

  std::string out = "--- a/" + label + "\n+++ b/" + label + "\n";
  size_t pos = 0;
  while (pos < ops.size()) {
    while (pos < ops.size() && ops[pos].type == OpType::kEqual) ++pos;
    if (pos == ops.size()) break;
    const size_t hunk_begin = pos >= kContext ? pos - kContext : 0;
    // Extend the hunk while the next change is at most 2 * context unchanged lines away.
    size_t change_end = pos;
    for (;;) {
      while (change_end < ops.size() && ops[change_end].type != OpType::kEqual) ++change_end;
      size_t next = change_end;
      while (next < ops.size() && ops[next].type == OpType::kEqual) ++next;
      if (next == ops.size() || next - change_end > 2 * kContext) break;
      change_end = next;
    }
    const size_t hunk_end = std::min(ops.size(), change_end + kContext);
    size_t old_count = 0;
    size_t new_count = 0;
    for (size_t k = hunk_begin; k < hunk_end; ++k) {
      if (ops[k].type != OpType::kInsert) ++old_count;
      if (ops[k].type != OpType::kDelete) ++new_count;
    }
    out += "@@ -" + range(ops[hunk_begin].a, old_count) + " +" +
           range(ops[hunk_begin].b, new_count) + " @@\n";
    for (size_t k = hunk_begin; k < hunk_end; ++k) {
      switch (ops[k].type) {
        case OpType::kEqual:
          appendLine(out, ' ', old_lines[ops[k].a]);
          break;
        case OpType::kDelete:
          appendLine(out, '-', old_lines[ops[k].a]);
          break;
        case OpType::kInsert:
          appendLine(out, '+', new_lines[ops[k].b]);
          break;
      }
    }
    pos = hunk_end;
  }
  return out;
}

}  // namespace meshsim::mgmt
