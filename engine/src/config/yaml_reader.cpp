#include "config/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace meshsim::config {

SourceLocation ReadContext::at(const YAML::Mark& mark) const {
  SourceLocation loc;
  loc.file = file;
  if (mark.line >= 0 && mark.column >= 0) {
    loc.line = static_cast<uint32_t>(mark.line) + 1 + line_offset;
    loc.column = static_cast<uint32_t>(mark.column) + 1;
  }
  return loc;
}

SourceLocation ReadContext::at(const YAML::Node& node) const {
  if (!node.IsDefined()) return at(YAML::Mark::null_mark());
  return at(node.Mark());
}

namespace {

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const char ca = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i - 1])));
      const char cb = static_cast<char>(std::tolower(static_cast<unsigned char>(b[j - 1])));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca == cb ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool parseUnsigned(const std::string& text, uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool parseSigned(const std::string& text, int64_t& out) {
  if (text.empty() || text.size() > 21) return false;
  const char* begin = text.data();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string closestMatch(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (auto c : candidates) {
    size_t d = editDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a sequence";
  return "a string";
}

std::optional<model::Duration> parseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  if (text == "0") return model::Duration{0};
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (start == i) return std::nullopt;
    std::string number(text.substr(start, i - start));
    if (std::count(number.begin(), number.end(), '.') > 1) return std::nullopt;
    char* end = nullptr;
    double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return std::nullopt;
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ns") scale = 1e-6;
    else if (unit == "us") scale = 1e-3;
    else if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else return std::nullopt;
    total_ms += value * scale;
  }
  if (!std::isfinite(total_ms) || total_ms > 9.2e15) return std::nullopt;
  return model::Duration{static_cast<int64_t>(std::llround(total_ms))};
}

MapReader::MapReader(ReadContext& ctx, const YAML::Node& node, std::string path)
    : ctx_(ctx), node_(node), path_(std::move(path)) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    ctx_.diags->error(ctx_.at(node), path_, "expected a mapping, got " + describe(node));
    return;
  }
  valid_ = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    Entry e;
    e.key_node = it->first;
    e.value = it->second;
    if (!it->first.IsScalar()) {
      ctx_.diags->error(ctx_.at(it->first), path_, "mapping keys must be strings");
      continue;
    }
    e.key = it->first.Scalar();
    bool duplicate = std::any_of(entries_.begin(), entries_.end(),
                                 [&](const Entry& other) { return other.key == e.key; });
    if (duplicate) {
      ctx_.diags->error(ctx_.at(it->first), fieldPath(e.key), "duplicate key");
      continue;
    }
    entries_.push_back(std::move(e));
  }
}

std::string MapReader::fieldPath(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

MapReader::Entry* MapReader::find(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  for (auto& e : entries_) {
    if (e.key == key) {
      e.used = true;
      return &e;
    }
  }
  return nullptr;
}

const MapReader::Entry* MapReader::find(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

bool MapReader::has(std::string_view key) const {
  const Entry* e = find(key);
  return e != nullptr && e->value.IsDefined() && !e->value.IsNull();
}

SourceLocation MapReader::location(std::string_view key) const {
  const Entry* e = find(key);
  if (e == nullptr) return location();
  if (e->value.IsNull()) return ctx_.at(e->key_node);
  return ctx_.at(e->value);
}

YAML::Node MapReader::raw(std::string_view key) {
  Entry* e = find(key);
  return e != nullptr ? e->value : YAML::Node(YAML::NodeType::Undefined);
}

void MapReader::allow(std::initializer_list<std::string_view> keys) {
  for (auto k : keys) find(k);
}

void MapReader::error(std::string_view key, const std::string& message) {
  ctx_.diags->error(location(key), fieldPath(key), message);
}

void MapReader::warning(std::string_view key, const std::string& message) {
  ctx_.diags->warning(location(key), fieldPath(key), message);
}

void MapReader::errorHere(const std::string& message) {
  ctx_.diags->error(location(), path_, message);
}

bool MapReader::scalar(std::string_view key, std::string& out, const char* what) {
  Entry* e = find(key);
  if (e == nullptr || e->value.IsNull()) return false;
  if (!e->value.IsScalar()) {
    error(key, std::string("expected ") + what + ", got " + describe(e->value));
    return false;
  }
  out = e->value.Scalar();
  return true;
}

bool MapReader::str(std::string_view key, std::string& out, bool required) {
  std::string value;
  if (!scalar(key, value, "a string")) {
    if (required && !has(key) && valid_) error(key, "required field is missing");
    return false;
  }
  if (required && value.empty()) {
    error(key, "must not be empty");
    return false;
  }
  out = std::move(value);
  return true;
}

bool MapReader::boolean(std::string_view key, bool& out) {
  std::string value;
  if (!scalar(key, value, "true or false")) return false;
  if (value == "true" || value == "True" || value == "TRUE") {
    out = true;
    return true;
  }
  if (value == "false" || value == "False" || value == "FALSE") {
    out = false;
    return true;
  }
  error(key, "expected true or false, got \"" + value + "\"");
  return false;
}

bool MapReader::i64(std::string_view key, int64_t& out, int64_t min, int64_t max) {
  std::string value;
  if (!scalar(key, value, "an integer")) return false;
  int64_t v = 0;
  if (!parseSigned(value, v)) {
    error(key, "expected an integer, got \"" + value + "\"");
    return false;
  }
  if (v < min || v > max) {
    error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   ", got " + value);
    return false;
  }
  out = v;
  return true;
}

bool MapReader::u32(std::string_view key, uint32_t& out, uint32_t min, uint32_t max) {
  std::string value;
  if (!scalar(key, value, "an integer")) return false;
  uint64_t v = 0;
  if (!parseUnsigned(value, v)) {
    int64_t neg = 0;
    if (parseSigned(value, neg) && neg < 0) {
      error(key, "must not be negative, got " + value);
    } else {
      error(key, "expected a non-negative integer, got \"" + value + "\"");
    }
    return false;
  }
  if (v < min || v > max) {
    error(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   ", got " + value);
    return false;
  }
  out = static_cast<uint32_t>(v);
  return true;
}

bool MapReader::i32(std::string_view key, int32_t& out, int32_t min, int32_t max) {
  int64_t v = 0;
  if (!i64(key, v, min, max)) return false;
  out = static_cast<int32_t>(v);
  return true;
}

bool MapReader::number(std::string_view key, double& out, double min, double max) {
  std::string value;
  if (!scalar(key, value, "a number")) return false;
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(v)) {
    error(key, "expected a number, got \"" + value + "\"");
    return false;
  }
  if (v < min || v > max) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "must be between %g and %g, got %s", min, max, value.c_str());
    error(key, buf);
    return false;
  }
  out = v;
  return true;
}

bool MapReader::duration(std::string_view key, std::optional<model::Duration>& out) {
  std::string value;
  if (!scalar(key, value, "a duration")) return false;
  auto d = parseDuration(value);
  if (!d) {
    error(key, "invalid duration \"" + value + "\" (expected e.g. 250ms, 1.5s, 1h30m)");
    return false;
  }
  out = *d;
  return true;
}

bool MapReader::oneOf(std::string_view key, std::string& out,
                      const std::vector<std::string_view>& allowed) {
  std::string value;
  if (!scalar(key, value, "a string")) return false;
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) {
    out = value;
    return true;
  }
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  std::string message = "unknown value \"" + value + "\"";
  std::string suggestion = closestMatch(value, allowed);
  if (!suggestion.empty()) message += " (did you mean \"" + suggestion + "\"?)";
  message += "; expected one of " + list;
  error(key, message);
  return false;
}

bool MapReader::strList(std::string_view key, std::vector<std::string>& out, bool* present) {
  Entry* e = find(key);
  if (present != nullptr) *present = e != nullptr && !e->value.IsNull();
  if (e == nullptr || e->value.IsNull()) return false;
  if (!e->value.IsSequence()) {
    error(key, "expected a list of strings, got " + describe(e->value));
    return false;
  }
  out.clear();
  size_t i = 0;
  bool ok = true;
  for (const auto& item : e->value) {
    if (!item.IsScalar()) {
      ctx_.diags->error(ctx_.at(item), fieldPath(key) + "[" + std::to_string(i) + "]",
                        "expected a string, got " + describe(item));
      ok = false;
    } else {
      out.push_back(item.Scalar());
    }
    ++i;
  }
  return ok;
}

bool MapReader::strMap(std::string_view key, model::StringMap& out) {
  Entry* e = find(key);
  if (e == nullptr || e->value.IsNull()) return false;
  if (!e->value.IsMap()) {
    error(key, "expected a mapping of strings, got " + describe(e->value));
    return false;
  }
  bool ok = true;
  for (auto it = e->value.begin(); it != e->value.end(); ++it) {
    if (!it->first.IsScalar() || !(it->second.IsScalar() || it->second.IsNull())) {
      ctx_.diags->error(ctx_.at(it->second.IsDefined() ? it->second : it->first),
                        fieldPath(key) + (it->first.IsScalar() ? "." + it->first.Scalar() : ""),
                        "expected a string value, got " + describe(it->second));
      ok = false;
      continue;
    }
    out[it->first.Scalar()] = it->second.IsNull() ? std::string() : it->second.Scalar();
  }
  return ok;
}

MapReader MapReader::map(std::string_view key) {
  Entry* e = find(key);
  if (e == nullptr) return MapReader(ctx_, YAML::Node(YAML::NodeType::Undefined), fieldPath(key));
  return MapReader(ctx_, e->value, fieldPath(key));
}

bool MapReader::list(std::string_view key, const std::function<void(MapReader&, size_t)>& fn,
                     bool* present, size_t* count) {
  Entry* e = find(key);
  if (present != nullptr) *present = e != nullptr && !e->value.IsNull();
  if (count != nullptr) *count = 0;
  if (e == nullptr || e->value.IsNull()) return false;
  if (!e->value.IsSequence()) {
    error(key, "expected a list, got " + describe(e->value));
    return false;
  }
  size_t i = 0;
  for (const auto& item : e->value) {
    std::string item_path = fieldPath(key) + "[" + std::to_string(i) + "]";
    if (!item.IsMap()) {
      ctx_.diags->error(ctx_.at(item), item_path, "expected a mapping, got " + describe(item));
    } else {
      MapReader reader(ctx_, item, item_path);
      fn(reader, i);
    }
    ++i;
  }
  if (count != nullptr) *count = i;
  return true;
}

void MapReader::finish() {
  if (!valid_) return;
  std::vector<std::string_view> candidates(known_.begin(), known_.end());
  for (const auto& e : entries_) {
    if (e.used) continue;
    std::string message = "unknown field \"" + e.key + "\"";
    std::string suggestion = closestMatch(e.key, candidates);
    if (!suggestion.empty()) message += " (did you mean \"" + suggestion + "\"?)";
    ctx_.diags->error(ctx_.at(e.key_node), fieldPath(e.key), message);
  }
}

}  // namespace meshsim::config
