#include "meshsim/observe/telemetry.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>
#include <system_error>

namespace meshsim::observe {

// ---------------------------------------------------------------- RequestStats

void RequestStats::add(double duration_ms) {
  // A duration cannot be negative or NaN; such a value (a clock step, a bug upstream) still counts
  // as one request, observed as 0 ms so that it neither vanishes from istio_requests_total nor
  // poisons the sum.
  if (std::isnan(duration_ms) || duration_ms < 0) duration_ms = 0;
  // Prometheus `le` semantics: the first bound that is >= the value owns it.
  const auto bound =
      std::lower_bound(kDurationBucketsMs.begin(), kDurationBucketsMs.end(), duration_ms);
  buckets[static_cast<size_t>(bound - kDurationBucketsMs.begin())] += 1;
  count += 1;
  duration_sum_ms += duration_ms;
}

void RequestStats::merge(const RequestStats& other) {
  count += other.count;
  duration_sum_ms += other.duration_sum_ms;
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
}

double RequestStats::quantileMs(double q) const {
  // Prometheus' histogram_quantile answers -Inf/+Inf outside [0, 1]; views want a number, so q is
  // clamped (NaN reads as 0).
  if (std::isnan(q) || q < 0) q = 0;
  if (q > 1) q = 1;

  uint64_t observations = 0;
  for (const uint64_t n : buckets) observations += n;
  if (observations == 0) return 0;

  const double rank = q * static_cast<double>(observations);
  // The first finite bucket whose cumulative count reaches the rank; none: the +Inf bucket.
  uint64_t cumulative = 0;
  uint64_t below = 0;
  size_t b = 0;
  for (; b < kDurationBucketsMs.size(); ++b) {
    below = cumulative;
    cumulative += buckets[b];
    if (static_cast<double>(cumulative) >= rank) break;
  }
  if (b == kDurationBucketsMs.size()) return kDurationBucketsMs.back();

  const double start = b == 0 ? 0.0 : kDurationBucketsMs[b - 1];
  const double end = kDurationBucketsMs[b];
  const uint64_t in_bucket = cumulative - below;
  // Only q == 0 in front of an empty first bucket reaches here with an empty bucket (Prometheus
  // would divide 0 by 0); the lower bound is the answer.
  if (in_bucket == 0) return start;
  return start +
         (end - start) * ((rank - static_cast<double>(below)) / static_cast<double>(in_bucket));
}

// ---------------------------------------------------------------- Prometheus text format

namespace {

/// A sample value: integral values without exponent, others in the shortest form that reads back
/// to the same double; NaN and the infinities as the format spells them.
std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // 2^53: beyond it not every integer is a double, and to_chars is exact anyway.
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";  // 64 bytes always hold a shortest double
  return std::string(buf, end);
}

/// Appends `value` escaped as a label value: backslash, double quote and line feed.
void appendEscaped(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void appendLabel(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out += ',';
  out += name;
  out += "=\"";
  appendEscaped(out, value);
  out += '"';
}

/// The labels of one series, without braces, in RequestLabels' member order. TCP series carry no
/// response_code: Istio documents it as "present only on HTTP metrics" and its TCP metrics keep
/// response_flags (istio/proxy testdata/metric/tcp_server_connection_open.yaml.tmpl).
std::string labelSet(const RequestLabels& l, bool tcp) {
  std::string out;
  appendLabel(out, "reporter", l.reporter);
  appendLabel(out, "source_workload", l.source_workload);
  appendLabel(out, "source_workload_namespace", l.source_workload_namespace);
  appendLabel(out, "source_principal", l.source_principal);
  appendLabel(out, "source_app", l.source_app);
  appendLabel(out, "source_version", l.source_version);
  appendLabel(out, "source_cluster", l.source_cluster);
  appendLabel(out, "destination_workload", l.destination_workload);
  appendLabel(out, "destination_workload_namespace", l.destination_workload_namespace);
  appendLabel(out, "destination_principal", l.destination_principal);
  appendLabel(out, "destination_service", l.destination_service);
  appendLabel(out, "destination_service_name", l.destination_service_name);
  appendLabel(out, "destination_service_namespace", l.destination_service_namespace);
  appendLabel(out, "destination_app", l.destination_app);
  appendLabel(out, "destination_version", l.destination_version);
  appendLabel(out, "destination_cluster", l.destination_cluster);
  appendLabel(out, "request_protocol", l.request_protocol);
  if (!tcp) appendLabel(out, "response_code", std::to_string(l.response_code));
  appendLabel(out, "response_flags", l.response_flags);
  appendLabel(out, "connection_security_policy", l.connection_security_policy);
  return out;
}

void appendFamilyHeader(std::string& out, std::string_view name, std::string_view help,
                        std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void appendSample(std::string& out, std::string_view name, std::string_view labels,
                  std::string_view value) {
  out += name;
  out += '{';
  out += labels;
  out += "} ";
  out += value;
  out += '\n';
}

}  // namespace

std::string toPrometheus(const TelemetrySnapshot& snapshot) {
  // Series are merged by their printed label set: the text format forbids a series appearing
  // twice, and TCP series that differ only in the unprinted response_code are one series.
  std::map<RequestLabels, RequestStats> requests;
  for (const auto& [labels, stats] : snapshot.requests) requests[labels].merge(stats);
  std::map<RequestLabels, TcpStats> tcp;
  for (const auto& [labels, stats] : snapshot.tcp) {
    RequestLabels key = labels;
    key.response_code = 0;
    TcpStats& sum = tcp[key];
    sum.opened += stats.opened;
    sum.closed += stats.closed;
  }

  // Like Envoy's /stats/prometheus, a family with no series is left out entirely.
  std::string out;
  if (!requests.empty()) {
    std::vector<std::string> label_sets;
    label_sets.reserve(requests.size());
    for (const auto& entry : requests) label_sets.push_back(labelSet(entry.first, false));

    constexpr std::string_view kTotal = "istio_requests_total";
    appendFamilyHeader(out, kTotal, "Total number of requests handled by an Istio proxy.",
                       "counter");
    size_t i = 0;
    for (const auto& entry : requests) {
      appendSample(out, kTotal, label_sets[i++], std::to_string(entry.second.count));
    }

    constexpr std::string_view kDuration = "istio_request_duration_milliseconds";
    appendFamilyHeader(out, kDuration, "Duration of requests handled by an Istio proxy, in ms.",
                       "histogram");
    const std::string bucket_name = std::string(kDuration) + "_bucket";
    const std::string sum_name = std::string(kDuration) + "_sum";
    const std::string count_name = std::string(kDuration) + "_count";
    i = 0;
    for (const auto& entry : requests) {
      const std::string& labels = label_sets[i++];
      const RequestStats& stats = entry.second;
      uint64_t cumulative = 0;
      for (size_t b = 0; b < kDurationBucketsMs.size(); ++b) {
        cumulative += stats.buckets[b];
        appendSample(out, bucket_name, labels + ",le=\"" + formatValue(kDurationBucketsMs[b]) + '"',
                     std::to_string(cumulative));
      }
      cumulative += stats.buckets.back();
      appendSample(out, bucket_name, labels + ",le=\"+Inf\"", std::to_string(cumulative));
      appendSample(out, sum_name, labels, formatValue(stats.duration_sum_ms));
      // _count must equal the +Inf bucket; the buckets are the observations.
      appendSample(out, count_name, labels, std::to_string(cumulative));
    }
  }

  if (!tcp.empty()) {
    std::vector<std::string> label_sets;
    label_sets.reserve(tcp.size());
    for (const auto& entry : tcp) label_sets.push_back(labelSet(entry.first, true));

    constexpr std::string_view kOpened = "istio_tcp_connections_opened_total";
    appendFamilyHeader(out, kOpened, "Total number of TCP connections opened.", "counter");
    size_t i = 0;
    for (const auto& entry : tcp) {
      appendSample(out, kOpened, label_sets[i++], std::to_string(entry.second.opened));
    }
    constexpr std::string_view kClosed = "istio_tcp_connections_closed_total";
    appendFamilyHeader(out, kClosed, "Total number of TCP connections closed.", "counter");
    i = 0;
    for (const auto& entry : tcp) {
      appendSample(out, kClosed, label_sets[i++], std::to_string(entry.second.closed));
    }
  }
  return out;
}

// ---------------------------------------------------------------- access log

namespace {

constexpr std::string_view kClusterDomain = "svc.cluster.local";

bool isControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

/// An unquoted field: "-" when empty; whitespace and control characters become '_'.
std::string token(std::string_view value) {
  if (value.empty()) return "-";
  std::string out(value);
  for (char& c : out) {
    if (c == ' ' || isControl(c)) c = '_';
  }
  return out;
}

/// A field printed between double quotes: "-" when empty; control characters become '_'.
std::string quoted(std::string_view value) {
  std::string out = "\"";
  if (value.empty()) {
    out += '-';
  } else {
    for (const char c : value) out += isControl(c) ? '_' : c;
  }
  out += '"';
  return out;
}

/// Splits "host:port", "[v6]:port", "host" or "[v6]" into host and port (either may be empty).
std::pair<std::string_view, std::string_view> splitHostPort(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) return {address, {}};
    const std::string_view host = address.substr(0, close + 1);
    const std::string_view rest = address.substr(close + 1);
    if (rest.size() > 1 && rest.front() == ':') return {host, rest.substr(1)};
    return {host, {}};
  }
  const size_t colon = address.rfind(':');
  // More than one colon without brackets is a bare IPv6 address, not host:port.
  if (colon == std::string_view::npos || address.find(':') != colon) return {address, {}};
  return {address.substr(0, colon), address.substr(colon + 1)};
}

bool isPort(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string upstreamCluster(const AccessLogEntry& entry) {
  if (!entry.upstream_cluster.empty()) return token(entry.upstream_cluster);
  const std::string_view upstream_port = splitHostPort(entry.upstream_host).second;
  if (entry.direction == "inbound") {
    if (!isPort(upstream_port)) return "-";
    return "inbound|" + std::string(upstream_port) + "||";
  }
  if (entry.direction == "outbound") {
    auto [host, port] = splitHostPort(entry.authority);
    if (host.empty()) return "-";
    if (!isPort(port)) port = upstream_port;
    if (!isPort(port)) return "-";
    std::string fqdn(host);
    const size_t slash = entry.workload.find('/');
    if (host.find('.') == std::string_view::npos && host.front() != '[' &&
        slash != std::string::npos && slash > 0) {
      // A short name resolves in the client's namespace, as Kubernetes DNS search paths do.
      fqdn += '.';
      fqdn += std::string_view(entry.workload).substr(0, slash);
      fqdn += '.';
      fqdn += kClusterDomain;
    }
    return token("outbound|" + std::string(port) + "||" + fqdn);
  }
  return "-";
}

/// RFC 3339 UTC with milliseconds; clamped to the four-digit years RFC 3339 can write.
std::string formatStartTime(int64_t unix_ms) {
  using std::chrono::days;
  using std::chrono::milliseconds;
  constexpr int64_t kMinMs = -62167219200000;  // 0000-01-01T00:00:00.000Z
  constexpr int64_t kMaxMs = 253402300799999;  // 9999-12-31T23:59:59.999Z
  unix_ms = std::clamp(unix_ms, kMinMs, kMaxMs);
  const std::chrono::sys_time<milliseconds> time{milliseconds{unix_ms}};
  const auto day = std::chrono::floor<days>(time);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<milliseconds> clock{time - day};
  char buf[40];
  std::snprintf(
      buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return buf;
}

}  // namespace

std::string formatAccessLog(const AccessLogEntry& entry) {
  const bool tcp = entry.method.empty();
  std::string line;
  line.reserve(256);
  line += '[';
  line += formatStartTime(entry.start_unix_ms);
  line += "] \"";
  line +=
      tcp ? "- - -" : token(entry.method) + ' ' + token(entry.path) + ' ' + token(entry.protocol);
  line += "\" ";
  line += std::to_string(entry.status);
  line += ' ';
  line += token(entry.response_flags);
  line += ' ';
  line += token(entry.response_details);
  line += " - ";       // %CONNECTION_TERMINATION_DETAILS%
  line += quoted({});  // %UPSTREAM_TRANSPORT_FAILURE_REASON%
  line += ' ';
  line += std::to_string(entry.bytes_received);
  line += ' ';
  line += std::to_string(entry.bytes_sent);
  line += ' ';
  line += std::to_string(entry.duration_us / 1000);
  line += " - ";                 // %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
  line += "\"-\" \"-\" \"-\" ";  // X-FORWARDED-FOR, USER-AGENT, X-REQUEST-ID
  // Envoy fills %REQ(...)% only for HTTP; the authority of a TCP entry serves UPSTREAM_CLUSTER.
  line += quoted(tcp ? std::string_view() : std::string_view(entry.authority));
  line += ' ';
  line += quoted(entry.upstream_host);
  line += ' ';
  line += upstreamCluster(entry);
  line += " - - ";  // %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
  line += token(entry.downstream_peer);
  line += ' ';
  line += token(entry.requested_server_name);
  line += ' ';
  line += token(entry.route_name);
  return line;
}

}  // namespace meshsim::observe
