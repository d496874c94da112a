// Istio standard metrics in the Prometheus text format 0.0.4, the latency histogram and its
// quantiles (Prometheus histogram_quantile), and Istio's default Envoy access log line. Expected
// values are computed by hand from the Prometheus and Envoy documentation.

#include "meshsim/observe/telemetry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace meshsim::observe {
namespace {

/// Names each table row after its `name` field.
struct CaseName {
  template <typename T>
  std::string operator()(const ::testing::TestParamInfo<T>& row) const {
    return row.param.name;
  }
};

constexpr size_t kInfBucket = kDurationBucketsMs.size();

// ---------------------------------------------------------------- RequestStats::add

struct AddCase {
  std::string name;
  double duration_ms;
  size_t bucket;     // index into RequestStats::buckets
  double sum_after;  // duration_sum_ms after the single add
};

class RequestStatsAdd : public ::testing::TestWithParam<AddCase> {};

TEST_P(RequestStatsAdd, LandsInTheFirstBoundAtOrAboveTheValue) {
  const AddCase& c = GetParam();
  RequestStats stats;
  stats.add(c.duration_ms);
  EXPECT_EQ(stats.count, 1u);
  for (size_t i = 0; i < stats.buckets.size(); ++i) {
    EXPECT_EQ(stats.buckets[i], i == c.bucket ? 1u : 0u) << "bucket " << i;
  }
  EXPECT_EQ(stats.duration_sum_ms, c.sum_after);
}

INSTANTIATE_TEST_SUITE_P(
    Telemetry, RequestStatsAdd,
    ::testing::Values(AddCase{"Zero", 0, 0, 0}, AddCase{"EqualToFirstBound", 0.5, 0, 0.5},
                      AddCase{"JustAboveFirstBound", 0.50001, 1, 0.50001},
                      AddCase{"EqualToOne", 1, 1, 1}, AddCase{"Seven", 7, 3, 7},
                      AddCase{"EqualToTen", 10, 3, 10}, AddCase{"TwoHundred", 200, 7, 200},
                      AddCase{"EqualToLastBound", 3600000, 18, 3600000},
                      AddCase{"AboveLastBound", 3600000.5, kInfBucket, 3600000.5},
                      // Error paths: impossible durations count as a 0 ms request.
                      AddCase{"NegativeCountsAsZero", -3, 0, 0},
                      AddCase{"NaNCountsAsZero", std::numeric_limits<double>::quiet_NaN(), 0, 0}),
    CaseName());

TEST(Telemetry, AddInfinityGoesToTheInfBucket) {
  RequestStats stats;
  stats.add(std::numeric_limits<double>::infinity());
  EXPECT_EQ(stats.count, 1u);
  EXPECT_EQ(stats.buckets[kInfBucket], 1u);
  EXPECT_TRUE(std::isinf(stats.duration_sum_ms));
}

TEST(Telemetry, AddAccumulatesCountAndSum) {
  RequestStats stats;
  stats.add(1.5);
  stats.add(2.5);
  stats.add(2.5);
  EXPECT_EQ(stats.count, 3u);
  EXPECT_EQ(stats.duration_sum_ms, 6.5);
  EXPECT_EQ(stats.buckets[2], 3u);  // (1, 5]
}

TEST(Telemetry, MergeAddsEveryBucketCountAndSum) {
  RequestStats a;
  a.add(0.2);
  a.add(700);
  RequestStats b;
  b.add(0.3);
  b.add(9999999);
  a.merge(b);
  EXPECT_EQ(a.count, 4u);
  EXPECT_EQ(a.duration_sum_ms, 0.2 + 700 + 0.3 + 9999999);
  EXPECT_EQ(a.buckets[0], 2u);           // le 0.5
  EXPECT_EQ(a.buckets[9], 1u);           // le 1000
  EXPECT_EQ(a.buckets[kInfBucket], 1u);  // +Inf
  RequestStats empty;
  a.merge(empty);
  EXPECT_EQ(a.count, 4u);
}

TEST(Telemetry, SumOfSnapshotMergesMatchingSeries) {
  TelemetrySnapshot snapshot;
  RequestLabels ok;
  ok.response_code = 200;
  RequestLabels denied;
  denied.response_code = 403;
  RequestStats two;
  two.add(1);
  two.add(2);
  RequestStats one;
  one.add(3);
  snapshot.requests = {{ok, two}, {denied, one}};
  const RequestStats all = snapshot.sum([](const RequestLabels&) { return true; });
  EXPECT_EQ(all.count, 3u);
  const RequestStats errors =
      snapshot.sum([](const RequestLabels& l) { return l.response_code >= 400; });
  EXPECT_EQ(errors.count, 1u);
  EXPECT_EQ(errors.duration_sum_ms, 3);
}

// ---------------------------------------------------------------- quantileMs

/// 4 requests in (0.5, 1], 4 in (1, 5], 2 in (5, 10]: 10 in all.
RequestStats mixedStats() {
  RequestStats stats;
  for (int i = 0; i < 4; ++i) stats.add(0.8);
  for (int i = 0; i < 4; ++i) stats.add(3);
  for (int i = 0; i < 2; ++i) stats.add(8);
  return stats;
}

struct QuantileCase {
  std::string name;
  double q;
  double expected;
};

class Quantile : public ::testing::TestWithParam<QuantileCase> {};

TEST_P(Quantile, InterpolatesLinearlyInsideTheBucket) {
  EXPECT_DOUBLE_EQ(mixedStats().quantileMs(GetParam().q), GetParam().expected);
}

// rank = q * 10; bucket b is the first whose cumulative count reaches the rank;
// result = lower + (upper - lower) * (rank - count below) / count in bucket.
INSTANTIATE_TEST_SUITE_P(
    Telemetry, Quantile,
    ::testing::Values(
        // rank 0: first bucket (0, 0.5] is empty, its lower bound 0.
        QuantileCase{"Zero", 0, 0},
        // rank 2.5 in (0.5, 1] holding 4: 0.5 + 0.5 * 2.5 / 4.
        QuantileCase{"Quarter", 0.25, 0.8125},
        // rank 4 reaches exactly the top of (0.5, 1]: 0.5 + 0.5 * 4 / 4.
        QuantileCase{"AtBucketEdge", 0.4, 1},
        // rank 5 in (1, 5] holding 4, 4 below: 1 + 4 * 1 / 4.
        QuantileCase{"Median", 0.5, 2},
        // rank 9 in (5, 10] holding 2, 8 below: 5 + 5 * 1 / 2.
        QuantileCase{"P90", 0.9, 7.5},
        // rank 10: top of (5, 10].
        QuantileCase{"One", 1, 10},
        // Error paths: q outside [0, 1] is clamped, NaN reads as 0.
        QuantileCase{"NegativeClampsToZero", -0.5, 0}, QuantileCase{"AboveOneClampsToOne", 2, 10},
        QuantileCase{"NaNReadsAsZero", std::numeric_limits<double>::quiet_NaN(), 0}),
    CaseName());

TEST(Telemetry, QuantileOfEmptyStatsIsZero) {
  const RequestStats empty;
  EXPECT_EQ(empty.quantileMs(0.5), 0);
  EXPECT_EQ(empty.quantileMs(0.99), 0);
}

TEST(Telemetry, QuantileInFirstBucketStartsAtZero) {
  RequestStats stats;
  stats.add(0.2);
  stats.add(0.4);
  // rank 1 in (0, 0.5] holding 2: 0 + 0.5 * 1 / 2.
  EXPECT_DOUBLE_EQ(stats.quantileMs(0.5), 0.25);
}

TEST(Telemetry, QuantileInInfBucketIsHighestFiniteBound) {
  RequestStats stats;
  stats.add(5000000);
  EXPECT_DOUBLE_EQ(stats.quantileMs(0.5), 3600000);
  stats.add(7);
  // rank 1 of 2 reaches (5, 10] holding 1: 5 + 5 * 1 / 1.
  EXPECT_DOUBLE_EQ(stats.quantileMs(0.5), 10);
  // rank 1.98 is past every finite bucket.
  EXPECT_DOUBLE_EQ(stats.quantileMs(0.99), 3600000);
}

TEST(Telemetry, QuantileSkipsEmptyBucketsInBetween) {
  RequestStats stats;
  stats.add(0.3);
  stats.add(400);
  // rank 1.5: cumulative 1 up to le 250, 2 at le 500; (250, 500] holds 1, 1 below:
  // 250 + 250 * 0.5 / 1.
  EXPECT_DOUBLE_EQ(stats.quantileMs(0.75), 375);
}

// ---------------------------------------------------------------- toPrometheus: exact output

RequestLabels productpageToReviews() {
  RequestLabels l;
  l.reporter = "destination";
  l.source_workload = "productpage-v1";
  l.source_workload_namespace = "bookinfo";
  l.source_principal = "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage";
  l.source_app = "productpage";
  l.source_version = "v1";
  l.source_cluster = "Kubernetes";
  l.destination_workload = "reviews-v2";
  l.destination_workload_namespace = "bookinfo";
  l.destination_principal = "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews";
  l.destination_service = "reviews.bookinfo.svc.cluster.local";
  l.destination_service_name = "reviews";
  l.destination_service_namespace = "bookinfo";
  l.destination_app = "reviews";
  l.destination_version = "v2";
  l.destination_cluster = "Kubernetes";
  l.request_protocol = "http";
  l.response_code = 200;
  l.response_flags = "-";
  l.connection_security_policy = "mutual_tls";
  return l;
}

const std::string kReviewsLabels =
    "reporter=\"destination\",source_workload=\"productpage-v1\","
    "source_workload_namespace=\"bookinfo\","
    "source_principal=\"spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage\","
    "source_app=\"productpage\",source_version=\"v1\",source_cluster=\"Kubernetes\","
    "destination_workload=\"reviews-v2\",destination_workload_namespace=\"bookinfo\","
    "destination_principal=\"spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews\","
    "destination_service=\"reviews.bookinfo.svc.cluster.local\","
    "destination_service_name=\"reviews\",destination_service_namespace=\"bookinfo\","
    "destination_app=\"reviews\",destination_version=\"v2\",destination_cluster=\"Kubernetes\","
    "request_protocol=\"http\"";

TEST(Telemetry, PrometheusExactOutputForOneHttpAndOneTcpSeries) {
  TelemetrySnapshot snapshot;
  RequestStats stats;
  stats.add(0.5);   // le 0.5
  stats.add(3);     // le 5
  stats.add(3);     // le 5
  stats.add(4000);  // le 5000
  snapshot.requests.push_back({productpageToReviews(), stats});
  RequestLabels tcp = productpageToReviews();
  tcp.request_protocol = "tcp";
  tcp.response_code = 0;
  snapshot.tcp.push_back({tcp, TcpStats{5, 3}});

  const std::string http = kReviewsLabels +
                           ",response_code=\"200\",response_flags=\"-\","
                           "connection_security_policy=\"mutual_tls\"";
  const std::string bucket = "istio_request_duration_milliseconds_bucket{" + http + ",le=";
  std::string tcp_labels =
      kReviewsLabels + ",response_flags=\"-\",connection_security_policy=\"mutual_tls\"";
  tcp_labels.replace(tcp_labels.find("request_protocol=\"http\""), 23, "request_protocol=\"tcp\"");

  const std::string expected =
      "# HELP istio_requests_total Total number of requests handled by an Istio proxy.\n"
      "# TYPE istio_requests_total counter\n"
      "istio_requests_total{" +
      http +
      "} 4\n"
      "# HELP istio_request_duration_milliseconds Duration of requests handled by an Istio "
      "proxy, in ms.\n"
      "# TYPE istio_request_duration_milliseconds histogram\n" +
      bucket + "\"0.5\"} 1\n" + bucket + "\"1\"} 1\n" + bucket + "\"5\"} 3\n" + bucket +
      "\"10\"} 3\n" + bucket + "\"25\"} 3\n" + bucket + "\"50\"} 3\n" + bucket + "\"100\"} 3\n" +
      bucket + "\"250\"} 3\n" + bucket + "\"500\"} 3\n" + bucket + "\"1000\"} 3\n" + bucket +
      "\"2500\"} 3\n" + bucket + "\"5000\"} 4\n" + bucket + "\"10000\"} 4\n" + bucket +
      "\"30000\"} 4\n" + bucket + "\"60000\"} 4\n" + bucket + "\"300000\"} 4\n" + bucket +
      "\"600000\"} 4\n" + bucket + "\"1800000\"} 4\n" + bucket + "\"3600000\"} 4\n" + bucket +
      "\"+Inf\"} 4\n"
      "istio_request_duration_milliseconds_sum{" +
      http +
      "} 4006.5\n"
      "istio_request_duration_milliseconds_count{" +
      http +
      "} 4\n"
      "# HELP istio_tcp_connections_opened_total Total number of TCP connections opened.\n"
      "# TYPE istio_tcp_connections_opened_total counter\n"
      "istio_tcp_connections_opened_total{" +
      tcp_labels +
      "} 5\n"
      "# HELP istio_tcp_connections_closed_total Total number of TCP connections closed.\n"
      "# TYPE istio_tcp_connections_closed_total counter\n"
      "istio_tcp_connections_closed_total{" +
      tcp_labels + "} 3\n";
  EXPECT_EQ(toPrometheus(snapshot), expected);
}

TEST(Telemetry, PrometheusEmptySnapshotEmitsNothing) {
  // Like Envoy's /stats/prometheus: a family without series is left out, HELP and TYPE included.
  EXPECT_EQ(toPrometheus(TelemetrySnapshot{}), "");
}

TEST(Telemetry, PrometheusTcpOnlySnapshotHasOnlyTcpFamilies) {
  TelemetrySnapshot snapshot;
  RequestLabels l;
  l.request_protocol = "tcp";
  snapshot.tcp.push_back({l, TcpStats{1, 0}});
  const std::string out = toPrometheus(snapshot);
  EXPECT_EQ(out.find("istio_requests_total"), std::string::npos);
  EXPECT_EQ(out.find("istio_request_duration_milliseconds"), std::string::npos);
  EXPECT_NE(out.find("# TYPE istio_tcp_connections_opened_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("# TYPE istio_tcp_connections_closed_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("} 0\n"), std::string::npos);  // closed is printed even at zero
}

TEST(Telemetry, PrometheusHttpOnlySnapshotHasNoTcpFamilies) {
  TelemetrySnapshot snapshot;
  RequestStats stats;
  stats.add(1);
  snapshot.requests.push_back({RequestLabels{}, stats});
  const std::string out = toPrometheus(snapshot);
  EXPECT_NE(out.find("# TYPE istio_requests_total counter\n"), std::string::npos);
  EXPECT_EQ(out.find("istio_tcp_"), std::string::npos);
}

TEST(Telemetry, PrometheusTcpSeriesOmitResponseCodeButKeepResponseFlags) {
  TelemetrySnapshot snapshot;
  RequestLabels l;
  l.request_protocol = "tcp";
  l.response_code = 0;
  l.response_flags = "UF";
  snapshot.tcp.push_back({l, TcpStats{2, 2}});
  const std::string out = toPrometheus(snapshot);
  EXPECT_EQ(out.find("response_code"), std::string::npos);
  EXPECT_NE(out.find("request_protocol=\"tcp\",response_flags=\"UF\","
                     "connection_security_policy=\"none\"} 2\n"),
            std::string::npos);
}

TEST(Telemetry, PrometheusMergesRepeatedSeries) {
  TelemetrySnapshot snapshot;
  RequestStats one;
  one.add(2);
  snapshot.requests = {{RequestLabels{}, one}, {RequestLabels{}, one}};
  RequestLabels a;
  a.request_protocol = "tcp";
  a.response_code = 0;
  RequestLabels b = a;
  b.response_code = 200;  // not printed for TCP, so the same series as `a`
  snapshot.tcp = {{a, TcpStats{1, 1}}, {b, TcpStats{2, 0}}};
  const std::string out = toPrometheus(snapshot);

  const std::string labels =
      "reporter=\"\",source_workload=\"\",source_workload_namespace=\"\",source_principal=\"\","
      "source_app=\"\",source_version=\"\",source_cluster=\"\",destination_workload=\"\","
      "destination_workload_namespace=\"\",destination_principal=\"\",destination_service=\"\","
      "destination_service_name=\"\",destination_service_namespace=\"\",destination_app=\"\","
      "destination_version=\"\",destination_cluster=\"\",";
  EXPECT_NE(out.find("istio_requests_total{" + labels +
                     "request_protocol=\"http\",response_code=\"0\",response_flags=\"-\","
                     "connection_security_policy=\"none\"} 2\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("istio_request_duration_milliseconds_sum{" + labels +
                     "request_protocol=\"http\",response_code=\"0\",response_flags=\"-\","
                     "connection_security_policy=\"none\"} 4\n"),
            std::string::npos);
  EXPECT_NE(out.find("istio_tcp_connections_opened_total{" + labels +
                     "request_protocol=\"tcp\",response_flags=\"-\","
                     "connection_security_policy=\"none\"} 3\n"),
            std::string::npos);
  EXPECT_NE(out.find("istio_tcp_connections_closed_total{" + labels +
                     "request_protocol=\"tcp\",response_flags=\"-\","
                     "connection_security_policy=\"none\"} 1\n"),
            std::string::npos);
  // One sample per series: the two opened lines became one.
  EXPECT_EQ(out.find("istio_tcp_connections_opened_total{", out.find("} 3\n")), std::string::npos);
}

TEST(Telemetry, PrometheusEscapesLabelValues) {
  TelemetrySnapshot snapshot;
  RequestLabels l;
  l.source_workload = "a\\b";
  l.source_app = "say \"hi\"";
  l.source_version = "line1\nline2";
  l.destination_app = "tab\tstays";
  RequestStats stats;
  stats.add(1);
  snapshot.requests.push_back({l, stats});
  const std::string out = toPrometheus(snapshot);
  EXPECT_NE(out.find("source_workload=\"a\\\\b\""), std::string::npos) << out;
  EXPECT_NE(out.find("source_app=\"say \\\"hi\\\"\""), std::string::npos);
  EXPECT_NE(out.find("source_version=\"line1\\nline2\""), std::string::npos);
  EXPECT_NE(out.find("destination_app=\"tab\tstays\""), std::string::npos);
  EXPECT_EQ(out.find("line1\nline2"), std::string::npos);
}

struct SumCase {
  std::string name;
  std::vector<double> durations;
  std::string sum;  // as printed after "_sum{...} "
};

class PrometheusSum : public ::testing::TestWithParam<SumCase> {};

TEST_P(PrometheusSum, PrintsShortestRoundTripOrInteger) {
  TelemetrySnapshot snapshot;
  RequestStats stats;
  for (const double d : GetParam().durations) stats.add(d);
  snapshot.requests.push_back({RequestLabels{}, stats});
  const std::string out = toPrometheus(snapshot);
  const size_t at = out.find("istio_request_duration_milliseconds_sum{");
  ASSERT_NE(at, std::string::npos);
  const size_t value = out.find("} ", at) + 2;
  EXPECT_EQ(out.substr(value, out.find('\n', value) - value), GetParam().sum);
}

INSTANTIATE_TEST_SUITE_P(
    Telemetry, PrometheusSum,
    ::testing::Values(SumCase{"Integer", {1, 2}, "3"}, SumCase{"Half", {1234.5}, "1234.5"},
                      SumCase{"LargeIntegerNoExponent", {3600000, 3600000}, "7200000"},
                      SumCase{"ShortestRoundTrip", {0.1, 0.2}, "0.30000000000000004"},
                      SumCase{"Tiny", {0.000001}, "1e-06"},
                      SumCase{"Infinite", {std::numeric_limits<double>::infinity()}, "+Inf"}),
    CaseName());

// ---------------------------------------------------------------- toPrometheus: structure

/// One parsed sample line.
struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // unescaped values
  std::string value;
};

bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

/// Parses `name{label="value",...} value` following the 0.0.4 grammar; adds a failure and returns
/// false on anything else (unknown escapes, unterminated quotes, a timestamp-less extra field).
bool parseSample(const std::string& line, Sample& out) {
  size_t i = 0;
  if (i >= line.size() || !isNameStart(line[i])) return false;
  while (i < line.size() && (isNameChar(line[i]) || line[i] == ':')) out.name += line[i++];
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      std::string label;
      if (!isNameStart(line[i])) return false;
      while (i < line.size() && isNameChar(line[i])) label += line[i++];
      if (line.compare(i, 2, "=\"") != 0) return false;
      i += 2;
      std::string value;
      while (true) {
        if (i >= line.size()) return false;
        const char c = line[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= line.size()) return false;
          const char e = line[i++];
          if (e == '\\') {
            value += '\\';
          } else if (e == '"') {
            value += '"';
          } else if (e == 'n') {
            value += '\n';
          } else {
            return false;
          }
        } else {
          value += c;
        }
      }
      out.labels.emplace_back(label, value);
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') return false;
  out.value = line.substr(i + 1);
  return !out.value.empty() && out.value.find(' ') == std::string::npos;
}

double parseValue(const std::string& v) {
  if (v == "+Inf") return std::numeric_limits<double>::infinity();
  if (v == "-Inf") return -std::numeric_limits<double>::infinity();
  if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
  return std::stod(v);
}

std::string labelKey(const std::vector<std::pair<std::string, std::string>>& labels, bool drop_le) {
  std::string key;
  for (const auto& [name, value] : labels) {
    if (drop_le && name == "le") continue;
    key += name + "=" + value + "\x1f";
  }
  return key;
}

/// Checks the rules `promtool check metrics` enforces on the exposition; returns the problems.
std::vector<std::string> structuralProblems(const std::string& text) {
  std::vector<std::string> problems;
  if (!text.empty() && text.back() != '\n') problems.push_back("output does not end in a newline");
  std::map<std::string, std::string> type_of;  // family -> type
  std::set<std::string> helped;
  std::set<std::string> finished;  // families whose block has ended
  std::set<std::string> seen_series;
  std::string current;  // family of the current block
  struct Histogram {
    std::vector<std::pair<double, double>> buckets;  // le, cumulative
    bool has_sum = false;
    double count = -1;
  };
  std::map<std::string, Histogram> histograms;  // family + labels without le

  auto familyOf = [&](const std::string& name) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        const std::string base = name.substr(0, name.size() - s.size());
        if (type_of.count(base) && type_of[base] == "histogram") return base;
      }
    }
    return name;
  };
  auto enter = [&](const std::string& family) {
    if (family == current) return;
    if (finished.count(family)) problems.push_back("family split in two blocks: " + family);
    if (!current.empty()) finished.insert(current);
    current = family;
  };

  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      problems.push_back("empty line");
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const bool help = line[2] == 'H';
      const size_t space = line.find(' ', 7);
      const std::string name = line.substr(7, space - 7);
      const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
      enter(name);
      if (help) {
        if (!helped.insert(name).second) problems.push_back("second HELP for " + name);
        if (type_of.count(name)) problems.push_back("HELP after TYPE for " + name);
        if (rest.empty()) problems.push_back("empty HELP for " + name);
      } else {
        if (type_of.count(name)) problems.push_back("second TYPE for " + name);
        if (rest != "counter" && rest != "histogram" && rest != "gauge") {
          problems.push_back("unknown TYPE " + rest);
        }
        type_of[name] = rest;
      }
      continue;
    }
    if (line[0] == '#') {
      problems.push_back("unexpected comment: " + line);
      continue;
    }
    Sample sample;
    if (!parseSample(line, sample)) {
      problems.push_back("unparsable sample: " + line);
      continue;
    }
    const std::string family = familyOf(sample.name);
    enter(family);
    if (!type_of.count(family)) problems.push_back("sample before TYPE: " + sample.name);
    if (!helped.count(family)) problems.push_back("sample before HELP: " + sample.name);
    if (!seen_series.insert(sample.name + "{" + labelKey(sample.labels, false)).second) {
      problems.push_back("duplicate series: " + line);
    }
    std::set<std::string> names;
    for (const auto& [name, value] : sample.labels) {
      if (!names.insert(name).second) problems.push_back("duplicate label " + name);
    }
    const double value = parseValue(sample.value);
    const std::string type = type_of[family];
    if (type == "counter") {
      if (family.size() < 6 || family.compare(family.size() - 6, 6, "_total") != 0) {
        problems.push_back("counter without _total: " + family);
      }
      if (!(value >= 0)) problems.push_back("negative counter: " + line);
    } else if (type == "histogram") {
      Histogram& h = histograms[family + "{" + labelKey(sample.labels, true)];
      if (sample.name == family + "_bucket") {
        std::string le;
        for (const auto& [name, v] : sample.labels) {
          if (name == "le") le = v;
        }
        if (le.empty()) {
          problems.push_back("bucket without le: " + line);
          continue;
        }
        h.buckets.emplace_back(parseValue(le), value);
      } else if (sample.name == family + "_sum") {
        h.has_sum = true;
      } else if (sample.name == family + "_count") {
        h.count = value;
      } else {
        problems.push_back("histogram sample of unknown kind: " + line);
      }
    }
  }
  for (const auto& [series, h] : histograms) {
    if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
      problems.push_back("histogram without +Inf bucket last: " + series);
      continue;
    }
    for (size_t i = 1; i < h.buckets.size(); ++i) {
      if (!(h.buckets[i].first > h.buckets[i - 1].first)) {
        problems.push_back("le not increasing: " + series);
      }
      if (h.buckets[i].second < h.buckets[i - 1].second) {
        problems.push_back("buckets not cumulative: " + series);
      }
    }
    if (!h.has_sum) problems.push_back("histogram without _sum: " + series);
    if (h.count != h.buckets.back().second) {
      problems.push_back("+Inf bucket differs from _count: " + series);
    }
  }
  return problems;
}

/// Two series of productpage -> reviews (mTLS) and sleep -> httpbin (plaintext), several
/// statuses, reports from both sides, TCP series, and hostile label values.
TelemetrySnapshot realisticSnapshot() {
  TelemetrySnapshot snapshot;
  const RequestLabels mtls = productpageToReviews();
  RequestLabels plain;
  plain.reporter = "source";
  plain.source_workload = "sleep";
  plain.source_workload_namespace = "default";
  plain.source_principal = "unknown";
  plain.source_app = "sleep";
  plain.source_version = "unknown";
  plain.source_cluster = "Kubernetes";
  plain.destination_workload = "httpbin";
  plain.destination_workload_namespace = "legacy";
  plain.destination_principal = "unknown";
  plain.destination_service = "httpbin.legacy.svc.cluster.local";
  plain.destination_service_name = "httpbin";
  plain.destination_service_namespace = "legacy";
  plain.destination_app = "httpbin";
  plain.destination_version = "v1";
  plain.destination_cluster = "Kubernetes";
  plain.connection_security_policy = "unknown";

  for (const int code : {200, 403, 503}) {
    for (const RequestLabels& base : {mtls, plain}) {
      RequestLabels l = base;
      l.response_code = code;
      l.response_flags = code == 503 ? "UF,URX" : "-";
      RequestStats stats;
      for (int i = 0; i < code / 50; ++i) stats.add(0.3 * i * i + code / 100.0);
      snapshot.requests.push_back({l, stats});
    }
  }
  RequestLabels hostile = plain;
  hostile.source_workload = "we\"ird\\name\nhere";
  RequestStats slow;
  slow.add(4000000);
  snapshot.requests.push_back({hostile, slow});

  RequestLabels db = mtls;
  db.request_protocol = "tcp";
  db.response_code = 0;
  db.destination_service = "mysql.bookinfo.svc.cluster.local";
  snapshot.tcp.push_back({db, TcpStats{7, 6}});
  RequestLabels db_plain = plain;
  db_plain.request_protocol = "tcp";
  db_plain.response_flags = "UF";
  snapshot.tcp.push_back({db_plain, TcpStats{1, 1}});
  return snapshot;
}

TEST(Telemetry, PrometheusRealisticSnapshotFollowsTheFormatRules) {
  const std::string text = toPrometheus(realisticSnapshot());
  const std::vector<std::string> problems = structuralProblems(text);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << text;
  // Families in order, each header once.
  const std::vector<std::string> families = {
      "istio_requests_total", "istio_request_duration_milliseconds",
      "istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total"};
  size_t last = 0;
  for (const std::string& family : families) {
    const std::string type = "# TYPE " + family + " ";
    const size_t at = text.find(type);
    ASSERT_NE(at, std::string::npos) << family;
    EXPECT_GT(at, last == 0 ? 0 : last) << family;
    EXPECT_EQ(text.find(type, at + 1), std::string::npos) << family;
    last = at;
  }
}

// The checker itself must reject what promtool rejects, or the test above proves nothing.
struct BrokenCase {
  std::string name;
  std::string text;
};

class StructuralCheckerRejects : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(StructuralCheckerRejects, BrokenExposition) {
  EXPECT_FALSE(structuralProblems(GetParam().text).empty());
}

INSTANTIATE_TEST_SUITE_P(
    Telemetry, StructuralCheckerRejects,
    ::testing::Values(
        BrokenCase{"SampleBeforeType", "a_total 1\n"},
        BrokenCase{"DoubleHelp", "# HELP a_total x\n# HELP a_total x\n# TYPE a_total counter\n"},
        BrokenCase{"CounterWithoutTotal", "# HELP a x\n# TYPE a counter\na 1\n"},
        BrokenCase{"BadEscape", "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"\\t\"} 1\n"},
        BrokenCase{"NotCumulative",
                   "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                   "h_sum 1\nh_count 1\n"},
        BrokenCase{"CountDiffersFromInf",
                   "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
                   "h_sum 1\nh_count 2\n"},
        BrokenCase{"NoInfBucket",
                   "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
        BrokenCase{"DuplicateSeries",
                   "# HELP a_total x\n# TYPE a_total counter\na_total{l=\"1\"} 1\n"
                   "a_total{l=\"1\"} 2\n"},
        BrokenCase{"NoTrailingNewline", "# HELP a_total x\n# TYPE a_total counter\na_total 1"}),
    CaseName());

// ---------------------------------------------------------------- formatAccessLog

AccessLogEntry inboundRatings() {
  AccessLogEntry e;
  e.start_unix_ms = 1704067200123;  // 2024-01-01T00:00:00.123Z
  e.workload = "bookinfo/ratings-v1";
  e.direction = "inbound";
  e.method = "GET";
  e.authority = "ratings:9080";
  e.path = "/ratings/0";
  e.protocol = "HTTP/1.1";
  e.status = 200;
  e.response_flags = "-";
  e.response_details = "via_upstream";
  e.bytes_received = 0;
  e.bytes_sent = 48;
  e.duration_us = 3999;
  e.upstream_host = "127.1.0.3:9080";
  e.downstream_peer = "127.1.0.2:41234";
  e.peer_principal = "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews";
  e.route_name = "default";
  return e;
}

struct LogCase {
  std::string name;
  AccessLogEntry entry;
  std::string line;
};

class AccessLog : public ::testing::TestWithParam<LogCase> {};

TEST_P(AccessLog, FormatsIstioDefaultTextLine) {
  EXPECT_EQ(formatAccessLog(GetParam().entry), GetParam().line);
}

std::vector<LogCase> accessLogCases() {
  std::vector<LogCase> cases;
  cases.push_back({"InboundHttp", inboundRatings(),
                   "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 200 - via_upstream - "
                   "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"ratings:9080\" \"127.1.0.3:9080\" "
                   "inbound|9080|| - - 127.1.0.2:41234 - default"});
  {
    AccessLogEntry e = inboundRatings();
    e.workload = "bookinfo/reviews-v2";
    e.direction = "outbound";
    e.start_unix_ms = 951827696789;  // 2000-02-29T12:34:56.789Z
    e.status = 403;
    e.response_details = "rbac_access_denied_matched_policy[ns[bookinfo]-policy[deny]-rule[0]]";
    e.bytes_sent = 19;
    e.duration_us = 12000;
    e.upstream_host = "127.1.0.3:9080";
    e.route_name = "bookinfo/ratings";
    cases.push_back({"OutboundShortNameExpandsInClientNamespace", e,
                     "[2000-02-29T12:34:56.789Z] \"GET /ratings/0 HTTP/1.1\" 403 - "
                     "rbac_access_denied_matched_policy[ns[bookinfo]-policy[deny]-rule[0]] - "
                     "\"-\" 0 19 12 - \"-\" \"-\" \"-\" \"ratings:9080\" \"127.1.0.3:9080\" "
                     "outbound|9080||ratings.bookinfo.svc.cluster.local - - 127.1.0.2:41234 - "
                     "bookinfo/ratings"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.direction = "outbound";
    e.authority = "details.bookinfo.svc.cluster.local";
    e.upstream_host = "127.1.0.7:9080";
    e.protocol = "HTTP/2";
    e.method = "POST";
    e.path = "/details";
    e.bytes_received = 17;
    cases.push_back({"OutboundFqdnWithoutPortTakesUpstreamPort", e,
                     "[2024-01-01T00:00:00.123Z] \"POST /details HTTP/2\" 200 - via_upstream - "
                     "\"-\" 17 48 3 - \"-\" \"-\" \"-\" \"details.bookinfo.svc.cluster.local\" "
                     "\"127.1.0.7:9080\" outbound|9080||details.bookinfo.svc.cluster.local - - "
                     "127.1.0.2:41234 - default"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.direction = "outbound";
    e.upstream_cluster = "outbound|9080|v1|ratings.bookinfo.svc.cluster.local";
    e.requested_server_name = "outbound_.9080_._.ratings.bookinfo.svc.cluster.local";
    cases.push_back({"ExplicitClusterAndServerName", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 200 - via_upstream - "
                     "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"ratings:9080\" \"127.1.0.3:9080\" "
                     "outbound|9080|v1|ratings.bookinfo.svc.cluster.local - - 127.1.0.2:41234 "
                     "outbound_.9080_._.ratings.bookinfo.svc.cluster.local default"});
  }
  {
    AccessLogEntry e;
    e.start_unix_ms = 1718000000000;  // 2024-06-10T06:13:20.000Z
    e.workload = "bookinfo/reviews-v2";
    e.direction = "outbound";
    e.authority = "mysql:3306";
    e.bytes_received = 1024;
    e.bytes_sent = 2048;
    e.duration_us = 1500000;
    e.upstream_host = "127.1.0.9:3306";
    e.downstream_peer = "127.1.0.4:50000";
    cases.push_back({"TcpConnection", e,
                     "[2024-06-10T06:13:20.000Z] \"- - -\" 0 - - - \"-\" 1024 2048 1500 - \"-\" "
                     "\"-\" \"-\" \"-\" \"127.1.0.9:3306\" "
                     "outbound|3306||mysql.bookinfo.svc.cluster.local - - 127.1.0.4:50000 - -"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.status = 0;
    e.response_flags = "UC";
    e.response_details = "upstream_reset_before_response_started{connection_termination}";
    e.bytes_sent = 0;
    cases.push_back({"ResetBeforeResponse", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 0 UC "
                     "upstream_reset_before_response_started{connection_termination} - \"-\" 0 0 "
                     "3 - \"-\" \"-\" \"-\" \"ratings:9080\" \"127.1.0.3:9080\" inbound|9080|| - - "
                     "127.1.0.2:41234 - default"});
  }
  cases.push_back({"DefaultEntryIsAllDashes", AccessLogEntry{},
                   "[1970-01-01T00:00:00.000Z] \"- - -\" 0 - - - \"-\" 0 0 0 - \"-\" \"-\" \"-\" "
                   "\"-\" \"-\" - - - - - -"});
  {
    AccessLogEntry e = inboundRatings();
    e.path = "/a b\nc";
    e.authority = "rat\r\nings";
    e.response_details = "ext_authz denied";
    cases.push_back({"SanitizesSpacesAndLineBreaks", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /a_b_c HTTP/1.1\" 200 - ext_authz_denied - "
                     "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"rat__ings\" \"127.1.0.3:9080\" "
                     "inbound|9080|| - - 127.1.0.2:41234 - default"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.upstream_host = "";
    cases.push_back({"InboundWithoutUpstreamHasNoCluster", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 200 - via_upstream - "
                     "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"ratings:9080\" \"-\" - - - "
                     "127.1.0.2:41234 - default"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.direction = "";
    cases.push_back({"UnknownDirectionHasNoCluster", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 200 - via_upstream - "
                     "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"ratings:9080\" \"127.1.0.3:9080\" - - - "
                     "127.1.0.2:41234 - default"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.direction = "outbound";
    e.authority = "";
    cases.push_back({"OutboundWithoutAuthorityHasNoCluster", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 200 - via_upstream - "
                     "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"-\" \"127.1.0.3:9080\" - - - "
                     "127.1.0.2:41234 - default"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.direction = "outbound";
    e.authority = "ratings";
    e.upstream_host = "-";
    cases.push_back({"OutboundWithoutAnyPortHasNoCluster", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 200 - via_upstream - "
                     "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"ratings\" \"-\" - - - "
                     "127.1.0.2:41234 - default"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.workload = "ingress";
    e.direction = "outbound";
    e.authority = "productpage:9080";
    e.upstream_host = "127.1.0.5:9080";
    cases.push_back({"IngressShortNameStaysShort", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 200 - via_upstream - "
                     "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"productpage:9080\" \"127.1.0.5:9080\" "
                     "outbound|9080||productpage - - 127.1.0.2:41234 - default"});
  }
  {
    AccessLogEntry e = inboundRatings();
    e.direction = "outbound";
    e.authority = "[::1]:8443";
    cases.push_back({"OutboundIpv6Authority", e,
                     "[2024-01-01T00:00:00.123Z] \"GET /ratings/0 HTTP/1.1\" 200 - via_upstream - "
                     "\"-\" 0 48 3 - \"-\" \"-\" \"-\" \"[::1]:8443\" \"127.1.0.3:9080\" "
                     "outbound|8443||[::1] - - 127.1.0.2:41234 - default"});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Telemetry, AccessLog, ::testing::ValuesIn(accessLogCases()), CaseName());

struct TimeCase {
  std::string name;
  int64_t unix_ms;
  std::string prefix;  // "[...]" at the start of the line
};

class AccessLogTime : public ::testing::TestWithParam<TimeCase> {};

TEST_P(AccessLogTime, IsRfc3339UtcWithMilliseconds) {
  AccessLogEntry e;
  e.start_unix_ms = GetParam().unix_ms;
  const std::string line = formatAccessLog(e);
  EXPECT_EQ(line.substr(0, line.find(']') + 1), GetParam().prefix);
}

INSTANTIATE_TEST_SUITE_P(
    Telemetry, AccessLogTime,
    ::testing::Values(
        TimeCase{"Epoch", 0, "[1970-01-01T00:00:00.000Z]"},
        TimeCase{"LeapDay", 951827696789, "[2000-02-29T12:34:56.789Z]"},
        TimeCase{"BeforeEpoch", -1, "[1969-12-31T23:59:59.999Z]"},
        // Error paths: out-of-range instants clamp to four-digit years.
        TimeCase{"ClampsLow", std::numeric_limits<int64_t>::min(), "[0000-01-01T00:00:00.000Z]"},
        TimeCase{"ClampsHigh", std::numeric_limits<int64_t>::max(), "[9999-12-31T23:59:59.999Z]"}),
    CaseName());

TEST(Telemetry, AccessLogIsOneLineWithTheDefaultFieldCount) {
  const std::string line = formatAccessLog(inboundRatings());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  // Istio's default format has 24 space-separated fields when no value holds a space (the
  // quoted "METHOD PATH PROTOCOL" counts as three).
  size_t fields = 1;
  for (const char c : line) fields += c == ' ' ? 1 : 0;
  EXPECT_EQ(fields, 24u);
}

}  // namespace
}  // namespace meshsim::observe
