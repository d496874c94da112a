#include "report/junit.h"

#include <cstdio>
#include <ctime>
#include <sstream>

namespace meshsim::report {

namespace {

std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
  return buf;
}

std::string timestamp(int64_t s) {
  std::time_t t = static_cast<std::time_t>(s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

struct Case {
  std::string name;
  double ms = 0;
  std::string where;
  std::string failure;  // message; empty = passed
  std::string detail;
  bool error = false;   // could not run (<error>) rather than failed (<failure>)
};

std::vector<Case> casesOf(const scenario::ScenarioResult& r) {
  std::vector<Case> out;
  if (!r.error.empty()) out.push_back({"setup", 0, r.file, r.error, r.error, true});
  for (const auto& s : r.steps) {
    std::string prefix = "step " + std::to_string(s.index + 1) + ": ";
    if (s.kind == scenario::StepKind::kExpect) {
      for (const auto& a : s.assertions) {
        double ms = s.assertions.empty() ? 0 : s.duration_ms / static_cast<double>(s.assertions.size());
        out.push_back({prefix + a.name, ms, a.where.toString(), a.passed ? "" : a.message(),
                       a.passed ? "" : a.where.toString() + ": " + a.message(), false});
      }
      continue;
    }
    if (!s.expected_error.empty() || !s.passed) {
      std::string msg = s.passed ? "" : s.title + ": " + s.error;
      out.push_back({prefix + s.title, s.duration_ms, s.where.toString(), msg,
                     s.where.toString() + ": " + msg, !s.passed && s.changes.empty()});
    }
  }
  return out;
}

}  // namespace

std::string xmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n') break;
        out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string junitXml(const std::vector<scenario::ScenarioResult>& results) {
  std::ostringstream body;
  size_t tests = 0, failures = 0, errors = 0;
  double total_ms = 0;
  for (const auto& r : results) {
    auto cases = casesOf(r);
    size_t f = 0, e = 0;
    for (const auto& c : cases) {
      if (c.failure.empty()) continue;
      (c.error ? e : f)++;
    }
    tests += cases.size();
    failures += f;
    errors += e;
    total_ms += r.duration_ms;
    body << "  <testsuite name=\"" << xmlEscape(r.name) << "\" tests=\"" << cases.size() << "\" failures=\"" << f
         << "\" errors=\"" << e << "\" skipped=\"0\" time=\"" << seconds(r.duration_ms) << "\" timestamp=\""
         << timestamp(r.start_time_seconds) << "\" file=\"" << xmlEscape(r.file) << "\">\n";
    for (const auto& c : cases) {
      body << "    <testcase classname=\"scenario." << xmlEscape(r.name) << "\" name=\"" << xmlEscape(c.name)
           << "\" file=\"" << xmlEscape(r.file) << "\" time=\"" << seconds(c.ms) << "\"";
      if (c.failure.empty()) {
        body << "/>\n";
        continue;
      }
      const char* tag = c.error ? "error" : "failure";
      body << ">\n      <" << tag << " message=\"" << xmlEscape(c.failure) << "\" type=\""
           << (c.error ? "StepError" : "AssertionFailed") << "\">" << xmlEscape(c.detail) << "</" << tag
           << ">\n    </testcase>\n";
    }
    body << "  </testsuite>\n";
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"meshsim run\" tests=\"" << tests
      << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" time=\"" << seconds(total_ms) << "\">\n"
      << body.str() << "</testsuites>\n";
  return out.str();
}

}  // namespace meshsim::report
