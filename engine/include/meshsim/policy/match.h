#pragma once
/// The value matchers of AuthorizationPolicy (istio-semantics.md 4.4 and 4.5): Istio's string
/// patterns ("abc" exact, "abc*" prefix, "*abc" suffix, "*" present and non-empty), with a
/// case-insensitive flavour for hosts, and CIDR ranges for ipBlocks / source.ip / destination.ip.
/// Everything is compiled once; matching never allocates.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/common/status.h"

namespace meshsim::policy {

/// How one Istio string pattern compares.
enum class StringMatchKind : uint8_t {
  kExact,    ///< "abc"
  kPrefix,   ///< "abc*"
  kSuffix,   ///< "*abc"
  kPresent,  ///< "*": the value is present and non-empty
};

/// Canonical name of a kind ("exact", "prefix", "suffix", "present"). Thread-safe.
const char* stringMatchKindName(StringMatchKind kind);

/// One Istio string pattern. Immutable after parse(); thread-safe to share.
class StringPattern {
 public:
  /// Parses `pattern` with Istio's rules ("*" is checked first, then a leading "*" means suffix,
  /// then a trailing "*" prefix). `ignore_case` folds ASCII letters (used for hosts).
  static StringPattern parse(std::string_view pattern, bool ignore_case = false);

  /// True when `value` matches. An absent attribute never matches: callers test presence first.
  bool matches(std::string_view value) const;

  StringMatchKind kind() const { return kind_; }
  /// The text compared: without the "*" (lower-cased when case is ignored).
  const std::string& text() const { return text_; }
  bool ignoreCase() const { return ignore_case_; }
  /// The pattern as it was written.
  const std::string& pattern() const { return pattern_; }

 private:
  StringMatchKind kind_ = StringMatchKind::kExact;
  bool ignore_case_ = false;
  std::string text_;
  std::string pattern_;
};

/// The hash StringMatchList uses for exact values. Pure; thread-safe.
uint64_t hashString(std::string_view s);
/// hashString of the ASCII-lower-cased `s`, without building it.
uint64_t hashStringLower(std::string_view s);

/// ASCII case-insensitive equality. Pure; thread-safe.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

/// A compiled OR of string patterns: exact values in a hash set, prefix and suffix lists, and a
/// presence flag. Immutable after compile(); matching does not allocate.
class StringMatchList {
 public:
  StringMatchList() = default;

  /// Compiles `patterns` (any may be exact/prefix/suffix/"*"). `ignore_case`: ASCII case folding.
  static StringMatchList compile(std::span<const std::string> patterns, bool ignore_case = false);

  /// True when at least one pattern matches `value`.
  bool matches(std::string_view value) const;
  /// Same as matches(), with `hash` precomputed by hashString(value) (or hashStringLower(value)
  /// for a case-insensitive list) so that one request hashes each attribute once.
  bool matchesHashed(std::string_view value, uint64_t hash) const;

  bool empty() const { return size_ == 0; }
  /// Number of patterns compiled in.
  size_t size() const { return size_; }
  bool ignoreCase() const { return ignore_case_; }
  /// The patterns as written, in order (for explanations).
  const std::vector<std::string>& patterns() const { return patterns_; }
  /// True when every pattern is an exact value (no prefix, suffix or "*").
  bool exactOnly() const { return prefixes_.empty() && suffixes_.empty() && !present_; }
  /// The distinct exact values (lower-cased for a case-insensitive list).
  const std::vector<std::string>& exactValues() const { return exact_; }

 private:
  bool matchesExact(std::string_view value, uint64_t hash) const;
  bool matchesAffixes(std::string_view value) const;

  std::vector<std::string> exact_;
  std::vector<uint64_t> exact_hashes_;
  std::vector<uint32_t> slots_;  ///< open addressing: index+1 into exact_, 0 = empty
  std::vector<std::string> prefixes_;
  std::vector<std::string> suffixes_;
  std::vector<std::string> patterns_;
  size_t size_ = 0;
  bool present_ = false;
  bool ignore_case_ = false;
};

/// An IPv4 or IPv6 address in binary form (IPv4 is never mapped into IPv6).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  ///< network order; IPv4 uses the first 4 bytes

  /// Parses a textual address ("10.1.2.3", "fd00::1"); nullopt when it is not one. No allocation.
  static std::optional<IpAddress> parse(std::string_view text);
  /// The canonical text form.
  std::string toString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

/// An address range. A bare address is a /32 (IPv4) or /128 (IPv6) range; host bits beyond
/// the prefix are ignored, as in Envoy's CidrRange.
class CidrRange {
 public:
  /// Parses "10.0.0.0/8", "10.1.2.3", "2001:db8::/32". InvalidArgument for anything else
  /// (bad address, prefix length out of range, empty text).
  static Result<CidrRange> parse(std::string_view text);

  /// True when `ip` is of the same family and inside the range.
  bool contains(const IpAddress& ip) const;

  bool v6() const { return v6_; }
  uint32_t prefixLength() const { return prefix_len_; }
  /// The first byte of the (masked) range address.
  uint8_t firstByte() const { return static_cast<uint8_t>(v6_ ? hi_ >> 56 : lo_ >> 24); }
  /// "address/len" with the host bits cleared.
  std::string toString() const;

 private:
  bool v6_ = false;
  uint32_t prefix_len_ = 0;
  uint64_t hi_ = 0, lo_ = 0;            ///< masked address (IPv4 in lo_)
  uint64_t mask_hi_ = 0, mask_lo_ = 0;  ///< prefix mask
};

/// A compiled OR of CIDR ranges.
class CidrList {
 public:
  CidrList() = default;
  /// Compiles `texts`; the first invalid entry fails the whole list (InvalidArgument).
  static Result<CidrList> compile(std::span<const std::string> texts);
  /// True when any range contains `ip`.
  bool contains(const IpAddress& ip) const;
  bool empty() const { return ranges_.empty(); }
  const std::vector<CidrRange>& ranges() const { return ranges_; }

 private:
  std::vector<CidrRange> ranges_;
};

}  // namespace meshsim::policy
