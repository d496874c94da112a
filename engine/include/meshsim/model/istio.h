#pragma once
/// Typed Istio resources (security.istio.io, networking.istio.io) with the fields that
/// shared/reference/istio-semantics.md describes. Values are as written in YAML; compiled
/// forms (matchers) live in policy/ and routing/.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "meshsim/model/meta.h"

namespace meshsim::model {

// ---------------------------------------------------------------- PeerAuthentication
enum class MtlsMode { kUnset, kDisable, kPermissive, kStrict };
const char* mtlsModeName(MtlsMode m);

struct PeerAuthentication {
  ObjectMeta meta;
  LabelSelector selector;                     ///< spec.selector.matchLabels
  MtlsMode mode = MtlsMode::kUnset;           ///< spec.mtls.mode (absent = UNSET)
  bool mtls_present = false;                  ///< spec.mtls was written
  std::map<uint32_t, MtlsMode> port_level;    ///< spec.portLevelMtls, keyed by workload port
  bool port_level_present = false;            ///< spec.portLevelMtls was written (even if empty)
};

// ---------------------------------------------------------------- RequestAuthentication
struct JwtHeader {
  std::string name;
  std::string prefix;
};
struct ClaimToHeader {
  std::string header;
  std::string claim;
};
struct JwtRule {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks_uri;
  std::string jwks;  ///< inline JWKS JSON
  std::vector<JwtHeader> from_headers;
  std::vector<std::string> from_params;
  std::vector<std::string> from_cookies;
  std::string output_payload_to_header;
  std::vector<ClaimToHeader> output_claim_to_headers;
  bool forward_original_token = false;
  std::vector<std::string> space_delimited_claims;
  std::optional<Duration> timeout;
  SourceLocation source;
};

struct RequestAuthentication {
  ObjectMeta meta;
  LabelSelector selector;
  bool has_target_ref = false;  ///< targetRef/targetRefs present: ignored by sidecars
  std::vector<JwtRule> jwt_rules;
};

// ---------------------------------------------------------------- AuthorizationPolicy
enum class AuthzAction { kAllow, kDeny, kAudit, kCustom };
const char* authzActionName(AuthzAction a);

/// `from[].source`. Every list is OR inside, AND across fields; `not_*` = none may match.
struct AuthzSource {
  std::vector<std::string> principals, not_principals;
  std::vector<std::string> request_principals, not_request_principals;
  std::vector<std::string> namespaces, not_namespaces;
  std::vector<std::string> service_accounts, not_service_accounts;
  std::vector<std::string> ip_blocks, not_ip_blocks;
  std::vector<std::string> remote_ip_blocks, not_remote_ip_blocks;
  std::vector<std::string> trust_domains, not_trust_domains;
  SourceLocation source;
};

/// `to[].operation`.
struct AuthzOperation {
  std::vector<std::string> hosts, not_hosts;
  std::vector<std::string> ports, not_ports;  ///< as strings, validated as 1..65535
  std::vector<std::string> methods, not_methods;
  std::vector<std::string> paths, not_paths;
  SourceLocation source;
};

/// `when[]`.
struct AuthzCondition {
  std::string key;  ///< e.g. "request.auth.claims[scope]"
  std::vector<std::string> values, not_values;
  SourceLocation source;
};

struct AuthzRule {
  std::optional<std::vector<AuthzSource>> from;    ///< nullopt = field absent
  std::optional<std::vector<AuthzOperation>> to;   ///< nullopt = field absent
  std::vector<AuthzCondition> when;
  SourceLocation source;
};

struct AuthorizationPolicy {
  ObjectMeta meta;
  LabelSelector selector;
  bool has_target_ref = false;  ///< targetRef/targetRefs present: ignored by sidecars
  AuthzAction action = AuthzAction::kAllow;
  std::string provider;            ///< spec.provider.name (CUSTOM)
  std::vector<AuthzRule> rules;    ///< empty with ALLOW = allow-nothing
  bool rules_present = false;      ///< spec.rules was written
  bool dry_run = false;            ///< annotation istio.io/dry-run: "true"
};

// ---------------------------------------------------------------- VirtualService
enum class MatchKind { kExact, kPrefix, kRegex };

/// `{exact|prefix|regex: value}`; an empty object (`{}`) means "present".
struct StringMatch {
  MatchKind kind = MatchKind::kExact;
  std::string value;
  bool presence_only = false;
};

struct HttpMatchRequest {
  std::string name;
  std::optional<StringMatch> uri, scheme, method, authority;
  std::map<std::string, StringMatch> headers;          ///< keys lower-case
  std::map<std::string, StringMatch> without_headers;
  std::map<std::string, StringMatch> query_params;
  bool ignore_uri_case = false;
  std::optional<uint32_t> port;
  StringMap source_labels;
  std::string source_namespace;
  std::vector<std::string> gateways;
  SourceLocation source;
};

struct Destination {
  std::string host;
  std::string subset;
  std::optional<uint32_t> port;
};

struct HttpRouteDestination {
  Destination destination;
  std::optional<int64_t> weight;  ///< absent = unspecified (100 for a lone destination)
  SourceLocation source;
};

struct HttpRetry {
  int32_t attempts = 2;
  std::optional<Duration> per_try_timeout;
  std::string retry_on;  ///< comma-separated Envoy policies and codes
  bool present = false;
};

struct Percent {
  double value = 0;  ///< 0..100; absent percentage means 0 (Istio)
};

struct HttpFaultInjection {
  std::optional<Duration> delay;
  Percent delay_percentage;
  std::optional<int32_t> abort_http_status;
  std::optional<int32_t> abort_grpc_status;
  Percent abort_percentage;
};

struct HttpRedirect {
  std::string uri;
  std::string authority;
  int32_t redirect_code = 301;
};

struct HttpDirectResponse {
  int32_t status = 200;
  std::string body;
};

struct HttpRoute {
  std::string name;
  std::vector<HttpMatchRequest> match;  ///< empty = matches everything
  std::vector<HttpRouteDestination> route;
  std::optional<HttpRedirect> redirect;
  std::optional<HttpDirectResponse> direct_response;
  std::optional<Duration> timeout;
  HttpRetry retries;
  std::optional<HttpFaultInjection> fault;
  std::optional<Destination> mirror;
  std::string rewrite_uri;
  SourceLocation source;
};

struct TcpRoute {
  std::vector<uint32_t> match_ports;
  std::vector<HttpRouteDestination> route;
  SourceLocation source;
};

struct VirtualService {
  ObjectMeta meta;
  std::vector<std::string> hosts;
  std::vector<std::string> gateways;  ///< empty = {"mesh"}
  std::vector<std::string> export_to;
  std::vector<HttpRoute> http;
  std::vector<TcpRoute> tcp;
};

// ---------------------------------------------------------------- DestinationRule
enum class TlsMode { kUnset, kDisable, kSimple, kMutual, kIstioMutual };
const char* tlsModeName(TlsMode m);

enum class LbPolicy { kUnset, kRoundRobin, kLeastRequest, kRandom, kPassthrough };

struct ConnectionPool {
  std::optional<uint32_t> max_connections;
  std::optional<Duration> connect_timeout;
  std::optional<uint32_t> http1_max_pending_requests;
  std::optional<uint32_t> http2_max_requests;
  std::optional<uint32_t> max_requests_per_connection;
  std::optional<uint32_t> max_retries;
};

struct OutlierDetection {
  std::optional<uint32_t> consecutive_5xx_errors;
  std::optional<uint32_t> consecutive_gateway_errors;
  std::optional<Duration> interval;
  std::optional<Duration> base_ejection_time;
  std::optional<uint32_t> max_ejection_percent;
  std::optional<uint32_t> min_health_percent;
};

struct ClientTls {
  TlsMode mode = TlsMode::kUnset;
  std::string sni;
  std::vector<std::string> subject_alt_names;
  std::string ca_certificates;
};

/// A traffic policy; optional members are unset when not written (subset values override
/// top-level values field by field).
struct TrafficPolicy {
  std::optional<ClientTls> tls;
  std::optional<ConnectionPool> connection_pool;
  std::optional<OutlierDetection> outlier_detection;
  LbPolicy load_balancer = LbPolicy::kUnset;
  struct PortSettings {
    uint32_t port = 0;
    std::optional<ClientTls> tls;
    std::optional<ConnectionPool> connection_pool;
    std::optional<OutlierDetection> outlier_detection;
    LbPolicy load_balancer = LbPolicy::kUnset;
  };
  std::vector<PortSettings> port_level_settings;
};

struct Subset {
  std::string name;
  StringMap labels;
  std::optional<TrafficPolicy> traffic_policy;
  SourceLocation source;
};

struct DestinationRule {
  ObjectMeta meta;
  std::string host;
  std::optional<TrafficPolicy> traffic_policy;
  std::vector<Subset> subsets;
  std::vector<std::string> export_to;
  LabelSelector workload_selector;
};

// ---------------------------------------------------------------- ServiceEntry
struct ServicePortSpec {
  uint32_t number = 0;
  std::string protocol;  ///< HTTP, HTTP2, GRPC, TCP, TLS, HTTPS, MONGO ...
  std::string name;
  std::optional<uint32_t> target_port;
};

struct ServiceEntry {
  ObjectMeta meta;
  std::vector<std::string> hosts;
  std::vector<std::string> addresses;  ///< IPs or CIDRs
  std::vector<ServicePortSpec> ports;
  std::string location;    ///< MESH_EXTERNAL (default) | MESH_INTERNAL
  std::string resolution;  ///< NONE | STATIC | DNS | DNS_ROUND_ROBIN
  struct Endpoint {
    std::string address;
    std::map<std::string, uint32_t> ports;
    StringMap labels;
  };
  std::vector<Endpoint> endpoints;
  std::vector<std::string> export_to;
};

}  // namespace meshsim::model
