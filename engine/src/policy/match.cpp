#include "meshsim/policy/match.h"

#include <arpa/inet.h>

#include <cstring>

namespace meshsim::policy {

namespace {

constexpr size_t kLinearExactLimit = 8;

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lowerAscii(c);
  return out;
}

bool startsWith(std::string_view value, std::string_view prefix, bool ignore_case) {
  if (value.size() < prefix.size()) return false;
  if (!ignore_case) return value.compare(0, prefix.size(), prefix) == 0;
  return equalsIgnoreCase(value.substr(0, prefix.size()), prefix);
}

bool endsWith(std::string_view value, std::string_view suffix, bool ignore_case) {
  if (value.size() < suffix.size()) return false;
  const std::string_view tail = value.substr(value.size() - suffix.size());
  return ignore_case ? equalsIgnoreCase(tail, suffix) : tail == suffix;
}

uint64_t finalize(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t combine(uint64_t h, uint64_t word) {
  h ^= word;
  h *= 0x9ddfea08eb382d69ULL;
  h ^= h >> 29;
  return h;
}

template <bool kLower>
uint64_t hashImpl(std::string_view s) {
  uint64_t h = 0x243f6a8885a308d3ULL ^ (static_cast<uint64_t>(s.size()) * 0x9e3779b97f4a7c15ULL);
  size_t i = 0;
  const char* p = s.data();
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w = 0;
    if constexpr (kLower) {
      for (size_t k = 0; k < 8; ++k) {
        w |= static_cast<uint64_t>(static_cast<uint8_t>(lowerAscii(p[i + k]))) << (8 * k);
      }
    } else {
      std::memcpy(&w, p + i, 8);
    }
    h = combine(h, w);
  }
  if (i < s.size()) {
    uint64_t w = 0;
    for (size_t k = 0; i + k < s.size(); ++k) {
      const char c = kLower ? lowerAscii(p[i + k]) : p[i + k];
      w |= static_cast<uint64_t>(static_cast<uint8_t>(c)) << (8 * k);
    }
    h = combine(h, w);
  }
  return finalize(h);
}

uint64_t loadBigEndian(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

const char* stringMatchKindName(StringMatchKind kind) {
  switch (kind) {
    case StringMatchKind::kExact: return "exact";
    case StringMatchKind::kPrefix: return "prefix";
    case StringMatchKind::kSuffix: return "suffix";
    case StringMatchKind::kPresent: return "present";
  }
  return "exact";
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

uint64_t hashString(std::string_view s) { return hashImpl<false>(s); }
uint64_t hashStringLower(std::string_view s) { return hashImpl<true>(s); }

// ---------------------------------------------------------------- StringPattern

StringPattern StringPattern::parse(std::string_view pattern, bool ignore_case) {
  StringPattern p;
  p.pattern_ = std::string(pattern);
  p.ignore_case_ = ignore_case;
  std::string_view text = pattern;
  // "*" first, so that it is never read as an empty prefix or suffix (as Istio does).
  if (pattern == "*") {
    p.kind_ = StringMatchKind::kPresent;
    text = {};
  } else if (!pattern.empty() && pattern.front() == '*') {
    p.kind_ = StringMatchKind::kSuffix;
    text.remove_prefix(1);
  } else if (!pattern.empty() && pattern.back() == '*') {
    p.kind_ = StringMatchKind::kPrefix;
    text.remove_suffix(1);
  }
  p.text_ = ignore_case ? lowerCopy(text) : std::string(text);
  return p;
}

bool StringPattern::matches(std::string_view value) const {
  switch (kind_) {
    case StringMatchKind::kExact:
      return ignore_case_ ? equalsIgnoreCase(value, text_) : value == text_;
    case StringMatchKind::kPrefix: return startsWith(value, text_, ignore_case_);
    case StringMatchKind::kSuffix: return endsWith(value, text_, ignore_case_);
    case StringMatchKind::kPresent: return !value.empty();
  }
  return false;
}

// ---------------------------------------------------------------- StringMatchList

StringMatchList StringMatchList::compile(std::span<const std::string> patterns, bool ignore_case) {
  StringMatchList list;
  list.ignore_case_ = ignore_case;
  list.size_ = patterns.size();
  list.patterns_.assign(patterns.begin(), patterns.end());
  for (const auto& raw : patterns) {
    const StringPattern p = StringPattern::parse(raw, ignore_case);
    switch (p.kind()) {
      case StringMatchKind::kExact: {
        bool seen = false;
        for (const auto& e : list.exact_) seen = seen || e == p.text();
        if (!seen) {
          list.exact_.push_back(p.text());
          list.exact_hashes_.push_back(hashString(p.text()));
        }
        break;
      }
      case StringMatchKind::kPrefix: list.prefixes_.push_back(p.text()); break;
      case StringMatchKind::kSuffix: list.suffixes_.push_back(p.text()); break;
      case StringMatchKind::kPresent: list.present_ = true; break;
    }
  }
  if (list.exact_.size() > kLinearExactLimit) {
    size_t capacity = 16;
    while (capacity < list.exact_.size() * 2) capacity *= 2;
    list.slots_.assign(capacity, 0);
    const size_t mask = capacity - 1;
    for (size_t i = 0; i < list.exact_.size(); ++i) {
      size_t slot = list.exact_hashes_[i] & mask;
      while (list.slots_[slot] != 0) slot = (slot + 1) & mask;
      list.slots_[slot] = static_cast<uint32_t>(i + 1);
    }
  }
  return list;
}

bool StringMatchList::matchesExact(std::string_view value, uint64_t hash) const {
  if (slots_.empty()) {
    for (const auto& e : exact_) {
      if (e.size() == value.size() &&
          (ignore_case_ ? equalsIgnoreCase(value, e) : value == std::string_view(e))) {
        return true;
      }
    }
    return false;
  }
  const size_t mask = slots_.size() - 1;
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const uint32_t entry = slots_[slot];
    if (entry == 0) return false;
    const size_t i = entry - 1;
    if (exact_hashes_[i] == hash && (ignore_case_ ? equalsIgnoreCase(value, exact_[i])
                                                  : value == std::string_view(exact_[i]))) {
      return true;
    }
  }
}

bool StringMatchList::matchesAffixes(std::string_view value) const {
  if (present_ && !value.empty()) return true;
  if (!ignore_case_) {
    // The common, case-sensitive path: length test first, then one memcmp.
    for (const auto& p : prefixes_) {
      if (value.size() >= p.size() && std::memcmp(value.data(), p.data(), p.size()) == 0) {
        return true;
      }
    }
    for (const auto& s : suffixes_) {
      if (value.size() >= s.size() &&
          std::memcmp(value.data() + value.size() - s.size(), s.data(), s.size()) == 0) {
        return true;
      }
    }
    return false;
  }
  for (const auto& p : prefixes_) {
    if (startsWith(value, p, true)) return true;
  }
  for (const auto& s : suffixes_) {
    if (endsWith(value, s, true)) return true;
  }
  return false;
}

bool StringMatchList::matches(std::string_view value) const {
  if (matchesAffixes(value)) return true;
  if (exact_.empty()) return false;
  const uint64_t hash =
      slots_.empty() ? 0 : (ignore_case_ ? hashStringLower(value) : hashString(value));
  return matchesExact(value, hash);
}

bool StringMatchList::matchesHashed(std::string_view value, uint64_t hash) const {
  if (matchesAffixes(value)) return true;
  return !exact_.empty() && matchesExact(value, hash);
}

// ---------------------------------------------------------------- IP addresses

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  ip.v6 = text.find(':') != std::string_view::npos;
  if (inet_pton(ip.v6 ? AF_INET6 : AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
  return ip;
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf)) == nullptr) return {};
  return buf;
}

Result<CidrRange> CidrRange::parse(std::string_view text) {
  if (text.empty()) return invalidArgument("empty IP address or CIDR range");
  const size_t slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  const auto ip = IpAddress::parse(address);
  if (!ip) {
    return invalidArgument("\"" + std::string(text) + "\" is not a valid IP address or CIDR range");
  }
  const uint32_t max_len = ip->v6 ? 128 : 32;
  uint32_t len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) {
      return invalidArgument("\"" + std::string(text) + "\" has an invalid prefix length");
    }
    len = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') {
        return invalidArgument("\"" + std::string(text) + "\" has an invalid prefix length");
      }
      len = len * 10 + static_cast<uint32_t>(c - '0');
    }
    if (len > max_len) {
      return invalidArgument("\"" + std::string(text) + "\": prefix length " + std::to_string(len) +
                             " exceeds " + std::to_string(max_len));
    }
  }
  CidrRange r;
  r.v6_ = ip->v6;
  r.prefix_len_ = len;
  if (ip->v6) {
    r.mask_hi_ = len == 0 ? 0 : (len >= 64 ? ~0ULL : ~0ULL << (64 - len));
    r.mask_lo_ = len <= 64 ? 0 : (len == 128 ? ~0ULL : ~0ULL << (128 - len));
    r.hi_ = loadBigEndian(ip->bytes.data(), 8) & r.mask_hi_;
    r.lo_ = loadBigEndian(ip->bytes.data() + 8, 8) & r.mask_lo_;
  } else {
    r.mask_lo_ = len == 0 ? 0 : (0xffffffffULL << (32 - len)) & 0xffffffffULL;
    r.lo_ = loadBigEndian(ip->bytes.data(), 4) & r.mask_lo_;
  }
  return r;
}

bool CidrRange::contains(const IpAddress& ip) const {
  if (ip.v6 != v6_) return false;
  if (v6_) {
    return (loadBigEndian(ip.bytes.data(), 8) & mask_hi_) == hi_ &&
           (loadBigEndian(ip.bytes.data() + 8, 8) & mask_lo_) == lo_;
  }
  return (loadBigEndian(ip.bytes.data(), 4) & mask_lo_) == lo_;
}

std::string CidrRange::toString() const {
  IpAddress ip;
  ip.v6 = v6_;
  if (v6_) {
    for (int i = 0; i < 8; ++i) {
      ip.bytes[i] = static_cast<uint8_t>(hi_ >> (56 - 8 * i));
      ip.bytes[8 + i] = static_cast<uint8_t>(lo_ >> (56 - 8 * i));
    }
  } else {
    for (int i = 0; i < 4; ++i) ip.bytes[i] = static_cast<uint8_t>(lo_ >> (24 - 8 * i));
  }
  return ip.toString() + "/" + std::to_string(prefix_len_);
}

Result<CidrList> CidrList::compile(std::span<const std::string> texts) {
  CidrList list;
  list.ranges_.reserve(texts.size());
  for (const auto& t : texts) {
    auto r = CidrRange::parse(t);
    if (!r.ok()) return r.status();
    list.ranges_.push_back(*r);
  }
  return list;
}

bool CidrList::contains(const IpAddress& ip) const {
  for (const auto& r : ranges_) {
    if (r.contains(ip)) return true;
  }
  return false;
}

}  // namespace meshsim::policy
