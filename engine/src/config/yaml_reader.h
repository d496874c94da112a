#pragma once
// Typed, position-aware reading of yaml-cpp nodes. Every getter records the key as known so
// that finish() can report unknown fields with a "did you mean" suggestion; every problem goes
// to Diagnostics with file:line:col and the field path. Nothing here throws.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/common/source.h"
#include "meshsim/model/meta.h"

namespace meshsim::config {

/// Shared state of one document's conversion.
struct ReadContext {
  std::string file;
  uint32_t line_offset = 0;  ///< lines before this document's chunk
  Diagnostics* diags = nullptr;

  SourceLocation at(const YAML::Node& node) const;
  SourceLocation at(const YAML::Mark& mark) const;
};

/// Returns the closest candidate to `word` (edit distance), or "" when none is close enough.
std::string closestMatch(std::string_view word, const std::vector<std::string_view>& candidates);

/// Describes a node's type for messages: "a mapping", "a sequence", "a string", "null".
std::string describe(const YAML::Node& node);

/// Parses a Go/Istio duration ("250ms", "1.5s", "1h30m", "25h").
std::optional<model::Duration> parseDuration(std::string_view text);

/// A reader over one YAML mapping.
class MapReader {
 public:
  /// `node` may be undefined/null: the reader is then empty and getters see nothing.
  /// When `node` is defined but not a mapping an error is reported once.
  MapReader(ReadContext& ctx, const YAML::Node& node, std::string path);

  bool valid() const { return valid_; }
  /// True when the mapping was written with no keys at all (`{}`).
  bool empty() const { return valid_ && entries_.empty(); }
  const std::string& path() const { return path_; }
  SourceLocation location() const { return ctx_.at(node_); }
  /// Location of `key`'s value, or of this mapping when the key is absent.
  SourceLocation location(std::string_view key) const;
  /// Field path of `key` under this mapping.
  std::string fieldPath(std::string_view key) const;

  bool has(std::string_view key) const;
  /// The raw node of `key` (undefined when absent); marks the key as known.
  YAML::Node raw(std::string_view key);

  /// Scalars. Return false (and leave `out`) when absent or invalid; invalid values are reported.
  bool str(std::string_view key, std::string& out, bool required = false);
  bool boolean(std::string_view key, bool& out);
  bool u32(std::string_view key, uint32_t& out, uint32_t min = 0, uint32_t max = UINT32_MAX);
  bool i64(std::string_view key, int64_t& out, int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  bool i32(std::string_view key, int32_t& out, int32_t min = INT32_MIN, int32_t max = INT32_MAX);
  bool number(std::string_view key, double& out, double min, double max);
  bool duration(std::string_view key, std::optional<model::Duration>& out);
  /// One of `allowed` (exact, case-sensitive); reports the allowed set otherwise.
  bool oneOf(std::string_view key, std::string& out, const std::vector<std::string_view>& allowed);

  /// Sequence of strings. `present` (when given) tells whether the key was written at all.
  bool strList(std::string_view key, std::vector<std::string>& out, bool* present = nullptr);
  /// Mapping of string to string (labels, annotations).
  bool strMap(std::string_view key, model::StringMap& out);

  /// Child mapping; an invalid reader when absent.
  MapReader map(std::string_view key);
  /// Calls `fn(item, index)` for every mapping in the sequence at `key`. Returns false when the
  /// key is absent or not a sequence. `present` tells whether the key was written.
  bool list(std::string_view key, const std::function<void(MapReader&, size_t)>& fn,
            bool* present = nullptr, size_t* count = nullptr);

  /// Marks keys as known without reading them.
  void allow(std::initializer_list<std::string_view> keys);

  /// Reports every key that no getter asked for, with a suggestion among the known keys.
  void finish();

  /// Reports an error about `key` (location of its value) / about this mapping.
  void error(std::string_view key, const std::string& message);
  void errorHere(const std::string& message);
  void warning(std::string_view key, const std::string& message);

  ReadContext& context() { return ctx_; }

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    bool used = false;
  };
  Entry* find(std::string_view key);
  const Entry* find(std::string_view key) const;
  bool scalar(std::string_view key, std::string& out, const char* what);

  ReadContext& ctx_;
  YAML::Node node_;
  std::string path_;
  bool valid_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string> known_;
};

}  // namespace meshsim::config
