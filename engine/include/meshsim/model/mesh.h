#pragma once
/// Typed meshsim/v1 resources: topology, people and TSB-style settings (tsb-model.md).
/// Field names follow PRODUCT.md section 7 and Tetrate Service Bridge.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "meshsim/model/istio.h"
#include "meshsim/model/meta.h"

namespace meshsim::model {

// ---------------------------------------------------------------- topology
struct Organization {
  ObjectMeta meta;
  std::string trust_domain = "cluster.local";
  std::vector<std::string> trust_domain_aliases;
  std::string root_namespace = "istio-system";
};

enum class ClusterKind { kKubernetes, kVm };

struct Cluster {
  ObjectMeta meta;
  std::string network;
  std::string region;
  std::string zone;
  ClusterKind kind = ClusterKind::kKubernetes;
};

struct Tenant {
  ObjectMeta meta;
  std::string display_name;
  std::string security_domain;
};

/// A `cluster/namespace` pattern: "*" matches any cluster; a trailing "*" on the namespace is a
/// prefix ("c1/ns*"); "*/*" everything.
struct NamespacePattern {
  std::string cluster;
  std::string namespace_;
  bool matches(const std::string& cluster_name, const std::string& ns) const;
  std::string toString() const { return cluster + "/" + namespace_; }
};

struct NamespaceSelector {
  std::vector<NamespacePattern> names;
  bool matches(const std::string& cluster_name, const std::string& ns) const;
};

struct Workspace {
  ObjectMeta meta;
  NamespaceSelector namespace_selector;
  bool privileged = false;
  std::string security_domain;
};

enum class GroupType { kTraffic, kSecurity, kGateway };
enum class ConfigMode { kBridged, kDirect };
const char* groupTypeName(GroupType t);

struct Group {
  ObjectMeta meta;
  GroupType type = GroupType::kTraffic;
  ConfigMode config_mode = ConfigMode::kBridged;
  NamespaceSelector namespace_selector;  ///< empty = the workspace's namespaces
};

enum class Protocol { kHttp, kHttp2, kGrpc, kTcp };
const char* protocolName(Protocol p);
/// True for the L7 protocols on which HTTP attributes exist.
inline bool isHttp(Protocol p) { return p != Protocol::kTcp; }

struct ServicePort {
  std::string name;
  uint32_t port = 0;         ///< the Service port clients dial
  uint32_t target_port = 0;  ///< the workload (container) port; defaults to `port`
  Protocol protocol = Protocol::kHttp;
};

/// One upstream call the app makes for each request it serves.
struct UpstreamCall {
  std::string service;  ///< "name" (same namespace) or "ns/name"
  std::string path = "/";
  std::string method = "GET";
  std::optional<uint32_t> port;
  bool forward_jwt = false;  ///< pass the caller's Authorization header on
};

struct ServiceBehaviour {
  std::vector<UpstreamCall> calls;
  double latency_ms = 0;
  double error_rate = 0;  ///< 0..1: fraction answered with `error_status`
  int32_t error_status = 500;
  uint32_t payload_bytes = 0;
};

struct Service {
  ObjectMeta meta;
  std::vector<ServicePort> ports;
  ServiceBehaviour behaviour;
};

/// A workload's own overrides of its Service's behaviour (Workload spec.behaviour): a version
/// that fails or is slow while the others are healthy. Unset fields keep the Service's values.
struct BehaviourOverride {
  std::optional<double> latency_ms;
  std::optional<double> error_rate;  ///< 0..1
  std::optional<int32_t> error_status;
};

struct Attestation {
  std::string image_digest;  ///< sha256:...
  bool signed_ = false;
  std::string signer;
};

struct Workload {
  ObjectMeta meta;
  std::string service;  ///< empty = a pure client
  std::string service_account = "default";
  std::string cluster;
  uint32_t replicas = 1;
  StringMap labels;  ///< includes `version` when given
  bool sidecar = true;
  Attestation attestation;
  BehaviourOverride behaviour;  ///< overrides of the Service's behaviour for this workload
  /// Sensitivity used by blast-radius scoring (label `sensitivity` or spec field); 1 by default.
  double sensitivity = 1;

  /// labels["version"], or "" when absent.
  std::string version() const;
};

// ---------------------------------------------------------------- people
struct User {
  ObjectMeta meta;
  std::string display_name;
  std::string email;
  std::vector<std::string> teams;
};

struct Team {
  ObjectMeta meta;
  std::string display_name;
  std::vector<std::string> members;  ///< user names
};

enum class Permission { kRead, kWrite, kCreate, kDelete, kSetPolicy, kGetPolicy };
const char* permissionName(Permission p);

struct RoleRule {
  std::vector<std::string> kinds;      ///< empty = all kinds
  std::vector<std::string> scoped_at;  ///< kinds of the hierarchy level; empty = any level
  std::vector<Permission> permissions;
  SourceLocation source;
};

struct Role {
  ObjectMeta meta;
  std::vector<RoleRule> rules;
};

struct Subject {
  std::string user;
  std::string team;
  std::string service_account;
};

struct RoleGrant {
  std::string role;  ///< predefined (admin, editor, creator, writer, reader) or a Role's name
  std::vector<Subject> subjects;
  SourceLocation source;
};

struct AccessBinding {
  ObjectMeta meta;
  std::string target;  ///< FQN: organizations/acme/tenants/retail/workspaces/bookinfo
  std::vector<RoleGrant> allow;
};

// ---------------------------------------------------------------- settings
enum class TrafficMode { kUnset, kOptional, kRequired };
const char* trafficModeName(TrafficMode m);

/// TSB's STRICTER order: UNSET < DISABLED < CLUSTER < WORKSPACE < NAMESPACE < GROUP < RULES < CUSTOM.
enum class AuthzMode { kUnset, kDisabled, kCluster, kWorkspace, kNamespace, kGroup, kRules, kCustom };
const char* authzModeName(AuthzMode m);

enum class PropagationStrategy { kUnset, kReplace, kStricter };

struct JwtSettings {
  std::string issuer;
  std::string jwks_uri;
  std::string jwks;
  std::string identity_provider;  ///< meshsim: name of an IdentityProvider resource
  std::vector<std::string> audiences;
  std::vector<JwtHeader> from_headers;
  std::vector<std::string> from_cookies;
  std::string output_payload_to_header;
};

/// Reference to a TSB resource in authorization rules: an FQN.
struct RuleTarget {
  std::string fqn;
};
struct AuthzRulePair {
  RuleTarget from;
  RuleTarget to;
};

struct LocalJwtMatch {
  std::string iss;
  std::string sub;
  StringMap other;  ///< claim: value
};
struct LocalAuthzRule {
  std::string name;
  std::vector<LocalJwtMatch> from;
  struct To {
    std::vector<std::string> methods;
    std::vector<std::string> paths;
  };
  std::vector<To> to;
};

struct AuthenticationSettings {
  TrafficMode traffic_mode = TrafficMode::kUnset;
  std::vector<JwtSettings> jwt;  ///< http.jwt plus http.rules.jwt[]
  bool require_jwt = false;
};

struct AuthorizationSettings {
  AuthzMode mode = AuthzMode::kUnset;
  std::vector<std::string> service_accounts;  ///< mode CUSTOM
  std::vector<AuthzRulePair> allow;           ///< mode RULES
  std::vector<AuthzRulePair> deny;
  bool deny_all = false;
  std::vector<LocalAuthzRule> local_rules;  ///< http.local.rules
};

/// The body shared by SecuritySetting and `defaultSecuritySetting`.
struct SecuritySettingSpec {
  std::optional<AuthenticationSettings> authentication;
  std::optional<AuthorizationSettings> authorization;
  PropagationStrategy propagation = PropagationStrategy::kUnset;
  SourceLocation source;
};

struct TokenBucket {
  uint32_t max_tokens = 0;
  uint32_t tokens_per_fill = 0;
  Duration fill_interval;
};

struct TrafficSettingSpec {
  std::optional<Duration> http_request_timeout;
  std::optional<int32_t> http_retries_attempts;
  std::optional<Duration> http_retries_per_try_timeout;
  std::string http_retries_retry_on;
  std::optional<TokenBucket> local_rate_limit;
  std::string reachability_mode;  ///< UNSET|NAMESPACE|GROUP|WORKSPACE|CLUSTER|CUSTOM
  std::vector<std::string> reachability_hosts;
  std::string egress_host;
  SourceLocation source;
};

/// OrganizationSetting, TenantSetting and WorkspaceSetting share this shape.
struct HierarchySetting {
  ObjectMeta meta;
  std::optional<SecuritySettingSpec> default_security;
  std::optional<TrafficSettingSpec> default_traffic;
};
using OrganizationSetting = HierarchySetting;
using TenantSetting = HierarchySetting;
using WorkspaceSetting = HierarchySetting;

struct SecuritySetting {
  ObjectMeta meta;
  SecuritySettingSpec spec;
};

struct TrafficSetting {
  ObjectMeta meta;
  TrafficSettingSpec spec;
};

struct RouteSubset {
  std::string name;
  StringMap labels;
  std::optional<int64_t> weight;
  SourceLocation source;
};

struct ServiceRouteHttpRoute {
  std::string name;
  std::vector<HttpMatchRequest> match;
  struct Dest {
    std::string host;
    std::string subset;
    std::optional<int64_t> weight;
    std::optional<uint32_t> port;
  };
  std::vector<Dest> destination;
  std::optional<HttpFaultInjection> fault;
  SourceLocation source;
};

struct ServiceRoute {
  ObjectMeta meta;
  std::string service;  ///< "ns/name" (also accepts "ns/name.ns.svc.cluster.local")
  std::vector<RouteSubset> subsets;
  std::vector<ServiceRouteHttpRoute> http_routes;
};

struct EgressRule {
  std::vector<std::string> service_accounts;  ///< from; empty = any in the group
  std::vector<std::string> hosts;             ///< to; "*" = any
};

struct EgressGateway {
  ObjectMeta meta;
  std::string workload;  ///< NS/NAME of the gateway workload
  std::vector<EgressRule> authorization;  ///< empty = deny all
};

struct IdentityProviderUser {
  std::string subject;
  StringMap claims;  ///< extra claims; "scope" is space-delimited
};

struct IdentityProvider {
  ObjectMeta meta;
  std::string issuer;
  std::string algorithm = "RS256";  ///< RS256 | ES256
  std::vector<std::string> audiences;
  Duration token_ttl{3600 * 1000};
  std::vector<IdentityProviderUser> users;
};

// ---------------------------------------------------------------- scenario
/// A scenario step, kept close to its YAML: `kind` names the step type and `fields` holds its
/// scalar arguments; the runner interprets them. Structured parts are kept as YAML text.
struct ScenarioStep {
  std::string kind;  ///< apply, delete, traffic, advanceTime, attack, expect, note
  StringMap fields;
  std::vector<std::string> files;
  std::string body_yaml;  ///< the step's whole mapping re-emitted as YAML
  SourceLocation source;
};

struct Scenario {
  ObjectMeta meta;
  std::string description;
  std::vector<std::string> files;  ///< relative to the scenario file
  std::vector<ScenarioStep> steps;
};

}  // namespace meshsim::model
