#pragma once
/// Request normalization applied by the server sidecar before authorization
/// (istio-semantics.md 4.7), request sanity checks that answer 400, and the `{*}` / `{**}` path
/// templates of AuthorizationPolicy `paths` (4.5).

#include <string>
#include <string_view>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/policy/decision.h"

namespace meshsim::policy {

/// MeshConfig `pathNormalization.normalization`.
enum class PathNormalization {
  kNone,                   ///< NONE: the path is only split from its query
  kBase,                   ///< BASE (default): RFC 3986 normalization, "\\" -> "/", unreserved %XX
  kMergeSlashes,           ///< BASE, then "//" -> "/"
  kDecodeAndMergeSlashes,  ///< %2F/%5C decoded first, then BASE, then "//" -> "/"
};

/// "NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES". Thread-safe.
const char* pathNormalizationName(PathNormalization mode);

/// A request target split and normalized.
struct NormalizedPath {
  std::string path;   ///< what authorization matches and what the app receives
  std::string query;  ///< after "?", without it; empty when none (the fragment is dropped)
};

/// Normalizes a request target (":path") under `mode`:
/// the query ("?...") and fragment ("#...") are split off first; under BASE percent-encoded
/// unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~") are decoded, other escapes are kept
/// (hex digits upper-cased) so "%2F" and "%5C" stay encoded, "\\" becomes "/", and dot segments
/// are removed (RFC 3986 5.2.4) — but "//" is kept. InvalidArgument (the server answers 400) when
/// the path contains "%00" or a NUL byte, or does not start with "/". Pure; thread-safe.
Result<NormalizedPath> normalizePath(std::string_view target,
                                     PathNormalization mode = PathNormalization::kBase);

/// A request method must be upper-case letters (also "-" and "_", e.g. "M-SEARCH").
/// InvalidArgument (400) for "get", "Get", "" and the like.
Status checkMethod(std::string_view method);

/// A header name must be a non-empty RFC 7230 token: whitespace, ":" or control characters
/// in it give InvalidArgument (400).
Status checkHeaderName(std::string_view name);

/// The Decision for a request the server refuses as malformed: status 400, stage kRequest,
/// reason taken from `why`.
Decision badRequestDecision(const Status& why);

/// A compiled `paths` template: "{*}" matches exactly one non-empty path segment, "{**}" zero or
/// more characters across segments (it must be the last operator; literal text may follow).
/// Literal segments must be RFC 3986 pchars. Matching never allocates. Immutable; thread-safe.
class PathTemplate {
 public:
  /// True when `pattern` contains "{*}" or "{**}" (Istio then treats it as a template).
  static bool isTemplate(std::string_view pattern);
  /// Compiles a template. InvalidArgument when it does not start with "/", has an empty segment,
  /// an operator that is not a whole segment, "{**}" followed by another operator, or a literal
  /// segment with characters outside the pchar set.
  static Result<PathTemplate> compile(std::string_view pattern);

  /// True when the whole (normalized, query-less) `path` matches.
  bool matches(std::string_view path) const;
  /// The literal text every matching path starts with (at least "/").
  std::string_view literalPrefix() const;
  const std::string& pattern() const { return pattern_; }

 private:
  enum class Kind : uint8_t { kLiteral, kOneSegment };
  struct Token {
    Kind kind = Kind::kLiteral;
    std::string text;
  };
  std::string pattern_;
  std::vector<Token> head_;  ///< tokens before "{**}" (or all of them)
  bool has_any_ = false;     ///< "{**}" present
  std::string tail_;         ///< literal text after "{**}"
};

}  // namespace meshsim::policy
