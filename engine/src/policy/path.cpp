#include "meshsim/policy/path.h"

namespace meshsim::policy {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char upperHex(char c) { return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c; }

bool isUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Envoy's uri_template literal characters (RFC 3986 pchar without "*" and "/").
bool isTemplateChar(char c) {
  if (isUnreserved(c)) return true;
  switch (c) {
    case '%':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '+':
    case ',':
    case ';':
    case ':':
    case '@':
    case '=': return true;
    default: return false;
  }
}

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

/// RFC 3986 section 5.2.4 on an absolute path.
std::string removeDotSegments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto dropLastSegment = [&out] {
    const size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  std::string buffer(in);
  std::string_view input = buffer;
  while (!input.empty()) {
    if (input.substr(0, 3) == "../") {
      input.remove_prefix(3);
    } else if (input.substr(0, 2) == "./") {
      input.remove_prefix(2);
    } else if (input.substr(0, 3) == "/./") {
      input.remove_prefix(2);
    } else if (input == "/.") {
      out.push_back('/');
      input = {};
    } else if (input.substr(0, 4) == "/../") {
      input.remove_prefix(3);
      dropLastSegment();
    } else if (input == "/..") {
      dropLastSegment();
      out.push_back('/');
      input = {};
    } else if (input == "." || input == "..") {
      input = {};
    } else {
      const size_t next = input.find('/', 1);
      const size_t len = next == std::string_view::npos ? input.size() : next;
      out.append(input.substr(0, len));
      input.remove_prefix(len);
    }
  }
  return out;
}

std::string mergeSlashes(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

const char* pathNormalizationName(PathNormalization mode) {
  switch (mode) {
    case PathNormalization::kNone: return "NONE";
    case PathNormalization::kBase: return "BASE";
    case PathNormalization::kMergeSlashes: return "MERGE_SLASHES";
    case PathNormalization::kDecodeAndMergeSlashes: return "DECODE_AND_MERGE_SLASHES";
  }
  return "BASE";
}

Result<NormalizedPath> normalizePath(std::string_view target, PathNormalization mode) {
  NormalizedPath result;
  const size_t query_at = target.find_first_of("?#");
  std::string_view path = target.substr(0, query_at);
  if (query_at != std::string_view::npos && target[query_at] == '?') {
    std::string_view query = target.substr(query_at + 1);
    query = query.substr(0, query.find('#'));
    result.query = std::string(query);
  }
  if (path.empty() || path.front() != '/') {
    return invalidArgument("request path \"" + std::string(path) + "\" does not start with \"/\"");
  }
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\0') return invalidArgument("request path contains a NUL byte");
    if (path[i] == '%' && i + 2 < path.size() && path[i + 1] == '0' && path[i + 2] == '0') {
      return invalidArgument("request path contains \"%00\"");
    }
  }
  if (mode == PathNormalization::kNone) {
    result.path = std::string(path);
    return result;
  }

  std::string decoded;
  decoded.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%' && i + 2 < path.size()) {
      const int hi = hexValue(path[i + 1]);
      const int lo = hexValue(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        const char value = static_cast<char>(hi * 16 + lo);
        const bool slash = value == '/' || value == '\\';
        if (isUnreserved(value) || (slash && mode == PathNormalization::kDecodeAndMergeSlashes)) {
          decoded.push_back(value);
        } else {
          decoded.push_back('%');
          decoded.push_back(upperHex(path[i + 1]));
          decoded.push_back(upperHex(path[i + 2]));
        }
        i += 2;
        continue;
      }
    }
    decoded.push_back(c);
  }
  for (char& c : decoded) {
    if (c == '\\') c = '/';
  }
  std::string normalized = removeDotSegments(decoded);
  if (normalized.empty()) normalized = "/";
  if (mode == PathNormalization::kMergeSlashes ||
      mode == PathNormalization::kDecodeAndMergeSlashes) {
    normalized = mergeSlashes(normalized);
  }
  result.path = std::move(normalized);
  return result;
}

Status checkMethod(std::string_view method) {
  if (method.empty()) return invalidArgument("empty request method");
  for (char c : method) {
    if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) {
      return invalidArgument("request method \"" + std::string(method) + "\" is not upper-case");
    }
  }
  return okStatus();
}

Status checkHeaderName(std::string_view name) {
  if (name.empty()) return invalidArgument("empty header name");
  for (char c : name) {
    if (!isTokenChar(c)) {
      return invalidArgument("header name \"" + std::string(name) +
                             "\" contains a character that is not allowed (whitespace, ':' or "
                             "a control character)");
    }
  }
  return okStatus();
}

Decision badRequestDecision(const Status& why) {
  Decision d;
  d.status = 400;
  d.stage = Stage::kRequest;
  d.reason = "the server sidecar rejected the request as malformed (400): " + why.message();
  d.trace.push_back("request: " + why.message() + " -> 400");
  return d;
}

// ---------------------------------------------------------------- PathTemplate

bool PathTemplate::isTemplate(std::string_view pattern) {
  return pattern.find("{*}") != std::string_view::npos ||
         pattern.find("{**}") != std::string_view::npos;
}

Result<PathTemplate> PathTemplate::compile(std::string_view pattern) {
  const std::string quoted = "path template \"" + std::string(pattern) + "\"";
  if (pattern.empty() || pattern.front() != '/') {
    return invalidArgument(quoted + " does not start with \"/\"");
  }
  PathTemplate t;
  t.pattern_ = std::string(pattern);
  std::string literal;
  auto flushLiteral = [&] {
    if (literal.empty()) return;
    if (t.has_any_) {
      t.tail_ += literal;
    } else {
      t.head_.push_back(Token{Kind::kLiteral, literal});
    }
    literal.clear();
  };
  // Segments are the text between "/" separators; a trailing "/" ends the last one.
  size_t pos = 1;
  literal = "/";
  while (pos <= pattern.size()) {
    const size_t slash = pattern.find('/', pos);
    const size_t end = slash == std::string_view::npos ? pattern.size() : slash;
    const std::string_view segment = pattern.substr(pos, end - pos);
    const bool last = slash == std::string_view::npos;
    if (segment.empty()) {
      if (!last || pos != pattern.size()) {
        return invalidArgument(quoted + " has an empty path segment");
      }
    } else if (segment == "{*}" || segment == "{**}") {
      if (t.has_any_) return invalidArgument(quoted + ": {**} is not the last operator");
      flushLiteral();
      if (segment == "{*}") {
        t.head_.push_back(Token{Kind::kOneSegment, {}});
      } else {
        t.has_any_ = true;
      }
    } else {
      for (char c : segment) {
        if (c == '{' || c == '}') {
          return invalidArgument(quoted + " contains '{' or '}' beyond a supported template");
        }
        if (!isTemplateChar(c)) {
          return invalidArgument(quoted + " contains segment \"" + std::string(segment) +
                                 "\" with an invalid literal character");
        }
      }
      literal.append(segment);
    }
    if (last) break;
    literal.push_back('/');
    pos = slash + 1;
  }
  flushLiteral();
  return t;
}

std::string_view PathTemplate::literalPrefix() const {
  if (!head_.empty() && head_.front().kind == Kind::kLiteral) return head_.front().text;
  return {};
}

bool PathTemplate::matches(std::string_view path) const {
  size_t pos = 0;
  for (const auto& token : head_) {
    if (token.kind == Kind::kLiteral) {
      if (path.compare(pos, token.text.size(), token.text) != 0) return false;
      pos += token.text.size();
    } else {
      const size_t start = pos;
      while (pos < path.size() && isTemplateChar(path[pos])) ++pos;
      if (pos == start) return false;
    }
  }
  if (!has_any_) return pos == path.size();
  if (path.size() < pos + tail_.size()) return false;
  const size_t tail_at = path.size() - tail_.size();
  if (path.compare(tail_at, tail_.size(), tail_) != 0) return false;
  for (size_t i = pos; i < tail_at; ++i) {
    if (path[i] != '/' && !isTemplateChar(path[i])) return false;
  }
  return true;
}

}  // namespace meshsim::policy
