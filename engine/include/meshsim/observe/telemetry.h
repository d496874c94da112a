#pragma once
/// Telemetry of the data plane with Istio's standard metric names and labels
/// (istio_requests_total, istio_request_duration_milliseconds, istio_tcp_connections_opened_total,
/// istio_tcp_connections_closed_total), and Envoy-style access log entries. The proxies fill these
/// values; reports, `meshsim serve`'s /metrics and the GUI read them.

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace meshsim::observe {

/// Istio's default buckets of istio_request_duration_milliseconds (upper bounds, ms).
inline constexpr std::array<double, 19> kDurationBucketsMs = {
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000,
    600000, 1800000, 3600000};

/// The labels of one request series, as Istio's standard metrics name them.
struct RequestLabels {
  std::string reporter;  ///< "source" (client sidecar) or "destination" (server sidecar)
  std::string source_workload;            ///< workload name, "unknown" for outsiders
  std::string source_workload_namespace;  ///< "unknown" for outsiders
  std::string source_principal;           ///< "spiffe://..." or "unknown"
  std::string source_app;
  std::string source_version;
  std::string source_cluster;
  std::string destination_workload;
  std::string destination_workload_namespace;
  std::string destination_principal;
  std::string destination_service;       ///< "name.ns.svc.cluster.local"
  std::string destination_service_name;
  std::string destination_service_namespace;
  std::string destination_app;
  std::string destination_version;
  std::string destination_cluster;
  std::string request_protocol = "http";  ///< "http" or "tcp"
  int response_code = 0;                   ///< 0: reset before a response
  std::string response_flags = "-";        ///< Envoy flags, "-" when none
  std::string connection_security_policy = "none";  ///< "mutual_tls" or "none"

  friend bool operator==(const RequestLabels&, const RequestLabels&) = default;
  friend auto operator<=>(const RequestLabels&, const RequestLabels&) = default;
};

/// Counters and the latency histogram of one series.
struct RequestStats {
  uint64_t count = 0;
  double duration_sum_ms = 0;
  /// Non-cumulative counts per bucket of kDurationBucketsMs, plus the +Inf bucket last.
  std::array<uint64_t, kDurationBucketsMs.size() + 1> buckets{};

  /// Adds one request of `duration_ms`.
  void add(double duration_ms);
  /// Adds every observation of `other`.
  void merge(const RequestStats& other);
  /// The `q` quantile (0..1) estimated from the buckets by linear interpolation, as Prometheus'
  /// histogram_quantile does; 0 when empty.
  double quantileMs(double q) const;
};

/// TCP connection counters of one series (labels as for requests; response fields unused).
struct TcpStats {
  uint64_t opened = 0;
  uint64_t closed = 0;
};

/// Everything recorded so far. Series are sorted by labels.
struct TelemetrySnapshot {
  std::vector<std::pair<RequestLabels, RequestStats>> requests;
  std::vector<std::pair<RequestLabels, TcpStats>> tcp;

  /// Sum of the request series for which `pred(labels)` holds.
  template <typename Pred>
  RequestStats sum(Pred pred) const {
    RequestStats out;
    for (const auto& [labels, stats] : requests) {
      if (pred(labels)) out.merge(stats);
    }
    return out;
  }
};

/// The Prometheus text exposition format (version 0.0.4) of `snapshot`: HELP and TYPE lines,
/// istio_requests_total (counter), istio_request_duration_milliseconds (histogram with
/// cumulative _bucket{le=...}, _sum, _count), istio_tcp_connections_opened_total and
/// istio_tcp_connections_closed_total (counters). Label values are escaped. Pure.
std::string toPrometheus(const TelemetrySnapshot& snapshot);

/// One line of the access log: what one sidecar did with one request (or TCP connection).
struct AccessLogEntry {
  int64_t start_unix_ms = 0;   ///< wall-clock start, for people
  std::string workload;        ///< "ns/name" of the reporting sidecar, or "ingress"
  std::string direction;       ///< "inbound" or "outbound"
  std::string method;          ///< empty for TCP
  std::string authority;
  std::string path;
  std::string protocol = "HTTP/1.1";
  int status = 0;              ///< 0 when reset before a response
  std::string response_flags = "-";
  std::string response_details;  ///< "via_upstream", "rbac_access_denied_matched_policy[...]", ...
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t duration_us = 0;
  std::string upstream_host;     ///< "127.1.0.3:9080" or "-"
  std::string downstream_peer;   ///< the client address "127.1.0.2:41234"
  std::string peer_principal;    ///< verified peer SPIFFE ID, "-" for plaintext
  std::string route_name;        ///< "ns/vs" or "default"
  /// Envoy cluster name for %UPSTREAM_CLUSTER%, e.g.
  /// "outbound|9080|v1|ratings.bookinfo.svc.cluster.local"; empty: derived from `direction`,
  /// `authority`, `upstream_host` and `workload` (see formatAccessLog).
  std::string upstream_cluster;
  /// SNI of the downstream TLS connection for %REQUESTED_SERVER_NAME%; empty: "-".
  std::string requested_server_name;
};

/// Envoy's default access log format for `entry`:
/// [2024-01-01T00:00:00.000Z] "GET /path HTTP/1.1" 200 - via_upstream - "-" 0 123 4 - "-" "-"
/// "-" "authority" "upstream_host" ... (one line, no newline). Pure.
///
/// The format is Istio's default text format (meshConfig.accessLogFormat unset):
///   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
///   %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
///   "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
///   %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
///   "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER%
///   %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
///   %REQUESTED_SERVER_NAME% %ROUTE_NAME%
/// Mapping: START_TIME is `start_unix_ms` as RFC 3339 UTC with milliseconds (clamped to years
/// 0000..9999); an entry with an empty `method` is a TCP connection and prints "- - -" for method,
/// path and protocol; DURATION is `duration_us` / 1000, truncated; RESPONSE_CODE is `status` (0
/// for TCP and for resets). Fields meshsim does not track (connection termination details,
/// transport failure reason, upstream service time, X-Forwarded-For, User-Agent, X-Request-Id,
/// upstream and downstream local addresses) print "-", as does every empty value.
/// UPSTREAM_CLUSTER is `upstream_cluster` when set; otherwise, as Istio names its clusters,
/// "inbound|<port of upstream_host>||" for inbound entries and
/// "outbound|<port>||<host>" for outbound ones, where host and port come from `authority` (port
/// falling back to upstream_host's) and a dotless host is expanded to
/// "<host>.<namespace of workload>.svc.cluster.local"; "-" when this cannot be derived. The
/// direction and workload themselves are not fields of the line (Envoy prints the log of one
/// sidecar). `peer_principal` is not part of the default format and is not printed. Unquoted
/// fields have whitespace and control characters replaced by '_' (as Envoy does for
/// RESPONSE_CODE_DETAILS), quoted fields have control characters replaced by '_', so the line
/// never contains a line break.
std::string formatAccessLog(const AccessLogEntry& entry);

}  // namespace meshsim::observe
