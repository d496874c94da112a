// meshsim/v1 kinds: topology, people and TSB-style settings (PRODUCT.md section 7, tsb-model.md).
#include <algorithm>
#include <set>

#include "config/parsers.h"

namespace meshsim::config {

namespace {

void readNamespaceSelector(MapReader& parent, const char* key, model::NamespaceSelector& out,
                           bool required) {
  if (!parent.has(key)) {
    parent.allow({key});
    if (required && parent.valid()) parent.error(key, "required field is missing");
    return;
  }
  MapReader sel = parent.map(key);
  std::vector<std::string> names;
  bool present = false;
  sel.strList("names", names, &present);
  sel.finish();
  if (required && sel.valid() && names.empty()) sel.error("names", "must list at least one cluster/namespace");
  for (const auto& n : names) {
    auto slash = n.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == n.size() ||
        n.find('/', slash + 1) != std::string::npos) {
      sel.error("names", "\"" + n + "\" is not of the form cluster/namespace (use \"*/ns\" for any cluster)");
      continue;
    }
    out.names.push_back({n.substr(0, slash), n.substr(slash + 1)});
  }
}

model::Protocol parseProtocol(const std::string& p) {
  if (p == "HTTP2") return model::Protocol::kHttp2;
  if (p == "GRPC") return model::Protocol::kGrpc;
  if (p == "TCP") return model::Protocol::kTcp;
  return model::Protocol::kHttp;
}

void readJwtSettings(MapReader& j, model::JwtSettings& out) {
  j.str("issuer", out.issuer, /*required=*/true);
  j.str("jwksUri", out.jwks_uri);
  j.str("jwks", out.jwks);
  j.str("identityProvider", out.identity_provider);
  j.strList("audiences", out.audiences);
  readJwtHeaders(j, out.from_headers);
  j.strList("fromCookies", out.from_cookies);
  j.str("outputPayloadToHeader", out.output_payload_to_header);
  j.allow({"outputClaimToHeaders"});
  j.finish();
  int sources = (out.jwks_uri.empty() ? 0 : 1) + (out.jwks.empty() ? 0 : 1) +
                (out.identity_provider.empty() ? 0 : 1);
  if (sources > 1) j.errorHere("only one of jwksUri, jwks or identityProvider may be set");
}

void readRulePairs(MapReader& parent, const char* key, std::vector<model::AuthzRulePair>& out) {
  parent.list(key, [&](MapReader& r, size_t) {
    model::AuthzRulePair pair;
    for (const char* side : {"from", "to"}) {
      MapReader s = r.map(side);
      std::string fqn;
      if (s.valid()) {
        s.str("fqn", fqn, /*required=*/true);
        s.finish();
      } else if (r.valid()) {
        r.error(side, "required field is missing");
      }
      (std::string(side) == "from" ? pair.from : pair.to).fqn = fqn;
    }
    r.finish();
    out.push_back(std::move(pair));
  });
}

void readSecuritySpec(MapReader& s, model::SecuritySettingSpec& out) {
  out.source = s.location();
  if (s.has("authenticationSettings")) {
    MapReader a = s.map("authenticationSettings");
    model::AuthenticationSettings authn;
    std::string mode;
    if (a.oneOf("trafficMode", mode, {"UNSET", "OPTIONAL", "REQUIRED"})) {
      authn.traffic_mode = mode == "REQUIRED"   ? model::TrafficMode::kRequired
                           : mode == "OPTIONAL" ? model::TrafficMode::kOptional
                                                : model::TrafficMode::kUnset;
    }
    if (a.has("http")) {
      MapReader http = a.map("http");
      if (http.has("jwt")) {
        MapReader j = http.map("jwt");
        model::JwtSettings jwt;
        readJwtSettings(j, jwt);
        authn.jwt.push_back(std::move(jwt));
      } else {
        http.allow({"jwt"});
      }
      if (http.has("rules")) {
        MapReader rules = http.map("rules");
        rules.list("jwt", [&](MapReader& j, size_t) {
          model::JwtSettings jwt;
          readJwtSettings(j, jwt);
          authn.jwt.push_back(std::move(jwt));
        });
        rules.finish();
      } else {
        http.allow({"rules"});
      }
      http.boolean("requireJwt", authn.require_jwt);
      http.allow({"oidc"});
      http.finish();
    } else {
      a.allow({"http"});
    }
    a.finish();
    out.authentication = authn;
  } else {
    s.allow({"authenticationSettings"});
  }
  if (s.has("authorization")) {
    MapReader a = s.map("authorization");
    model::AuthorizationSettings authz;
    std::string mode;
    if (a.oneOf("mode", mode, {"UNSET", "DISABLED", "CLUSTER", "WORKSPACE", "NAMESPACE", "GROUP", "RULES", "CUSTOM"})) {
      static const std::vector<std::pair<std::string, model::AuthzMode>> kModes = {
          {"UNSET", model::AuthzMode::kUnset},         {"DISABLED", model::AuthzMode::kDisabled},
          {"CLUSTER", model::AuthzMode::kCluster},     {"WORKSPACE", model::AuthzMode::kWorkspace},
          {"NAMESPACE", model::AuthzMode::kNamespace}, {"GROUP", model::AuthzMode::kGroup},
          {"RULES", model::AuthzMode::kRules},         {"CUSTOM", model::AuthzMode::kCustom}};
      for (const auto& [name, value] : kModes) {
        if (name == mode) authz.mode = value;
      }
    }
    a.strList("serviceAccounts", authz.service_accounts);
    if (a.has("rules")) {
      MapReader rules = a.map("rules");
      readRulePairs(rules, "allow", authz.allow);
      readRulePairs(rules, "deny", authz.deny);
      rules.boolean("denyAll", authz.deny_all);
      rules.finish();
    } else {
      a.allow({"rules"});
    }
    if (a.has("http")) {
      MapReader http = a.map("http");
      if (http.has("local")) {
        MapReader local = http.map("local");
        local.list("rules", [&](MapReader& r, size_t) {
          model::LocalAuthzRule rule;
          r.str("name", rule.name);
          r.list("from", [&](MapReader& f, size_t) {
            MapReader jwt = f.map("jwt");
            model::LocalJwtMatch m;
            jwt.str("iss", m.iss);
            jwt.str("sub", m.sub);
            jwt.strMap("other", m.other);
            jwt.finish();
            f.finish();
            rule.from.push_back(std::move(m));
          });
          r.list("to", [&](MapReader& t, size_t) {
            model::LocalAuthzRule::To to;
            t.strList("methods", to.methods);
            t.strList("paths", to.paths);
            t.finish();
            rule.to.push_back(std::move(to));
          });
          r.finish();
          authz.local_rules.push_back(std::move(rule));
        });
        local.finish();
      } else {
        http.allow({"local"});
      }
      http.allow({"external"});
      http.finish();
    } else {
      a.allow({"http"});
    }
    a.allow({"identityMatch"});
    a.finish();
    if (authz.mode == model::AuthzMode::kCustom && authz.service_accounts.empty() && a.valid()) {
      a.error("serviceAccounts", "mode CUSTOM needs at least one service account");
    }
    if (!authz.service_accounts.empty() && authz.mode != model::AuthzMode::kCustom) {
      a.error("serviceAccounts", "serviceAccounts may only be set with mode CUSTOM");
    }
    for (const auto& sa : authz.service_accounts) {
      if (sa.find('/') == std::string::npos) {
        a.error("serviceAccounts", "\"" + sa + "\" is not of the form namespace/serviceaccount (\"./*\" for the own namespace)");
      }
    }
    out.authorization = authz;
  } else {
    s.allow({"authorization"});
  }
  std::string strategy;
  if (s.oneOf("propagationStrategy", strategy, {"REPLACE", "STRICTER"})) {
    out.propagation = strategy == "STRICTER" ? model::PropagationStrategy::kStricter
                                             : model::PropagationStrategy::kReplace;
  }
  s.allow({"waf", "extension", "configGenerationMetadata", "displayName"});
}

void readTrafficSpec(MapReader& t, model::TrafficSettingSpec& out) {
  out.source = t.location();
  if (t.has("reachability")) {
    MapReader r = t.map("reachability");
    r.oneOf("mode", out.reachability_mode, {"UNSET", "NAMESPACE", "GROUP", "WORKSPACE", "CLUSTER", "CUSTOM"});
    r.strList("hosts", out.reachability_hosts);
    r.finish();
  } else {
    t.allow({"reachability"});
  }
  if (t.has("egress")) {
    MapReader e = t.map("egress");
    e.str("host", out.egress_host, /*required=*/true);
    e.finish();
  } else {
    t.allow({"egress"});
  }
  if (t.has("resilience")) {
    MapReader r = t.map("resilience");
    r.duration("httpRequestTimeout", out.http_request_timeout);
    if (r.has("httpRetries")) {
      MapReader h = r.map("httpRetries");
      int32_t attempts = 0;
      if (h.i32("attempts", attempts, 0, 1000)) out.http_retries_attempts = attempts;
      h.duration("perTryTimeout", out.http_retries_per_try_timeout);
      h.str("retryOn", out.http_retries_retry_on);
      h.allow({"retryBackOff"});
      h.finish();
    } else {
      r.allow({"httpRetries"});
    }
    r.allow({"keepAlive", "circuitBreakerSensitivity", "tcpKeepalive"});
    r.finish();
  } else {
    t.allow({"resilience"});
  }
  if (t.has("rateLimiting")) {
    MapReader rl = t.map("rateLimiting");
    if (rl.has("local")) {
      MapReader local = rl.map("local");
      local.list("rules", [&](MapReader& r, size_t) {
        MapReader tb = r.map("tokenBucket");
        model::TokenBucket bucket;
        if (!tb.valid()) {
          r.error("tokenBucket", "required field is missing");
        } else {
          tb.u32("maxTokens", bucket.max_tokens, 1);
          tb.u32("tokensPerFill", bucket.tokens_per_fill, 1);
          std::optional<model::Duration> interval;
          tb.duration("fillInterval", interval);
          if (interval) bucket.fill_interval = *interval;
          if (!tb.has("maxTokens")) tb.error("maxTokens", "required field is missing");
          if (!tb.has("fillInterval")) tb.error("fillInterval", "required field is missing");
          if (bucket.tokens_per_fill == 0) bucket.tokens_per_fill = bucket.max_tokens;
          tb.finish();
        }
        r.allow({"dimensions"});
        r.finish();
        if (!out.local_rate_limit) out.local_rate_limit = bucket;
      });
      local.finish();
    } else {
      rl.allow({"local"});
    }
    rl.allow({"settings", "externalService"});
    rl.finish();
  } else {
    t.allow({"rateLimiting"});
  }
  t.allow({"upstreamTrafficSettings", "inbound", "outbound", "displayName"});
}

}  // namespace

void parseOrganization(MapReader& spec, model::Organization& out) {
  spec.str("trustDomain", out.trust_domain);
  spec.strList("trustDomainAliases", out.trust_domain_aliases);
  spec.str("rootNamespace", out.root_namespace);
  spec.allow({"displayName", "description"});
}

void parseCluster(MapReader& spec, model::Cluster& out) {
  spec.str("network", out.network);
  spec.str("region", out.region);
  spec.str("zone", out.zone);
  std::string kind;
  if (spec.oneOf("kind", kind, {"kubernetes", "vm"})) {
    out.kind = kind == "vm" ? model::ClusterKind::kVm : model::ClusterKind::kKubernetes;
  }
  spec.allow({"displayName", "description", "tier1Cluster"});
}

void parseTenant(MapReader& spec, model::Tenant& out) {
  spec.str("displayName", out.display_name);
  spec.str("securityDomain", out.security_domain);
  spec.allow({"description"});
}

void parseWorkspace(MapReader& spec, model::Workspace& out) {
  readNamespaceSelector(spec, "namespaceSelector", out.namespace_selector, /*required=*/true);
  spec.boolean("privileged", out.privileged);
  spec.str("securityDomain", out.security_domain);
  spec.allow({"displayName", "description"});
}

void parseGroup(MapReader& spec, model::Group& out) {
  std::string type;
  if (spec.oneOf("type", type, {"traffic", "security", "gateway"})) {
    out.type = type == "security"  ? model::GroupType::kSecurity
               : type == "gateway" ? model::GroupType::kGateway
                                   : model::GroupType::kTraffic;
  } else if (!spec.has("type") && spec.valid()) {
    spec.error("type", "required field is missing (traffic, security or gateway)");
  }
  std::string mode;
  if (spec.oneOf("configMode", mode, {"BRIDGED", "DIRECT"})) {
    out.config_mode = mode == "DIRECT" ? model::ConfigMode::kDirect : model::ConfigMode::kBridged;
  }
  readNamespaceSelector(spec, "namespaceSelector", out.namespace_selector, /*required=*/false);
  spec.allow({"displayName", "description"});
}

void parseService(MapReader& spec, model::Service& out) {
  std::set<uint32_t> numbers;
  std::set<std::string> names;
  bool present = false;
  spec.list("ports", [&](MapReader& p, size_t) {
    model::ServicePort port;
    p.str("name", port.name);
    if (!p.has("port")) p.error("port", "required field is missing");
    p.u32("port", port.port, 1, 65535);
    port.target_port = port.port;
    p.u32("targetPort", port.target_port, 1, 65535);
    std::string protocol = "HTTP";
    p.oneOf("protocol", protocol, {"HTTP", "HTTP2", "GRPC", "TCP"});
    port.protocol = parseProtocol(protocol);
    p.finish();
    if (port.port != 0 && !numbers.insert(port.port).second) {
      p.error("port", "duplicate port " + std::to_string(port.port));
    }
    if (!port.name.empty() && !names.insert(port.name).second) {
      p.error("name", "duplicate port name \"" + port.name + "\"");
    }
    out.ports.push_back(std::move(port));
  }, &present);
  if (!present && spec.valid()) spec.error("ports", "required field is missing");
  else if (present && out.ports.empty()) spec.error("ports", "a service needs at least one port");
  if (spec.has("behaviour")) {
    MapReader b = spec.map("behaviour");
    b.list("calls", [&](MapReader& c, size_t) {
      model::UpstreamCall call;
      c.str("service", call.service, /*required=*/true);
      c.str("path", call.path);
      c.str("method", call.method);
      uint32_t port = 0;
      if (c.u32("port", port, 1, 65535)) call.port = port;
      c.boolean("forwardJwt", call.forward_jwt);
      c.finish();
      if (!call.path.empty() && call.path.front() != '/') c.error("path", "must start with \"/\"");
      out.behaviour.calls.push_back(std::move(call));
    });
    b.number("latencyMs", out.behaviour.latency_ms, 0, 600000);
    b.number("errorRate", out.behaviour.error_rate, 0, 1);
    b.i32("errorStatus", out.behaviour.error_status, 400, 599);
    b.u32("payloadBytes", out.behaviour.payload_bytes, 0, 16u << 20);
    b.finish();
  } else {
    spec.allow({"behaviour"});
  }
  spec.allow({"displayName", "description"});
}

void parseWorkload(MapReader& spec, model::Workload& out) {
  spec.str("service", out.service);
  spec.str("serviceAccount", out.service_account);
  spec.str("cluster", out.cluster, /*required=*/true);
  spec.u32("replicas", out.replicas, 0, 1000);
  spec.strMap("labels", out.labels);
  spec.boolean("sidecar", out.sidecar);
  spec.number("sensitivity", out.sensitivity, 0, 1000);
  if (spec.has("behaviour")) {
    // Overrides of the Service's behaviour for this workload only (a failing or slow version).
    MapReader b = spec.map("behaviour");
    double number = 0;
    if (b.number("latencyMs", number, 0, 600000)) out.behaviour.latency_ms = number;
    if (b.number("errorRate", number, 0, 1)) out.behaviour.error_rate = number;
    int32_t status = 0;
    if (b.i32("errorStatus", status, 400, 599)) out.behaviour.error_status = status;
    b.finish();
  } else {
    spec.allow({"behaviour"});
  }
  std::string version;
  if (spec.str("version", version)) {
    auto it = out.labels.find("version");
    if (it != out.labels.end() && it->second != version) {
      spec.error("version", "disagrees with labels.version \"" + it->second + "\"");
    }
    out.labels["version"] = version;
  }
  if (spec.has("attestation")) {
    MapReader a = spec.map("attestation");
    a.str("imageDigest", out.attestation.image_digest);
    a.boolean("signed", out.attestation.signed_);
    a.str("signer", out.attestation.signer);
    a.finish();
    const auto& d = out.attestation.image_digest;
    if (!d.empty() && (d.rfind("sha256:", 0) != 0 || d.size() != 71)) {
      a.error("imageDigest", "expected sha256: followed by 64 hex digits");
    }
  } else {
    spec.allow({"attestation"});
  }
  std::string image;
  spec.str("image", image);
  if (!out.service_account.empty() && !isValidName(out.service_account)) {
    spec.error("serviceAccount", "\"" + out.service_account + "\" is not a valid name (lower-case letters, digits, '-' and '.')");
  }
}

void parseUser(MapReader& spec, model::User& out) {
  spec.str("displayName", out.display_name);
  spec.str("email", out.email);
  spec.strList("teams", out.teams);
}

void parseTeam(MapReader& spec, model::Team& out) {
  spec.str("displayName", out.display_name);
  spec.strList("members", out.members);
  spec.allow({"description"});
}

void parseRole(MapReader& spec, model::Role& out) {
  bool present = false;
  spec.list("rules", [&](MapReader& r, size_t) {
    model::RoleRule rule;
    rule.source = r.location();
    r.list("types", [&](MapReader& t, size_t) {
      std::vector<std::string> kinds;
      t.strList("kinds", kinds);
      for (const auto& k : kinds) {
        if (model::findKind(k) == nullptr && k != "*") {
          std::vector<std::string_view> names;
          for (const auto& info : model::allKinds()) names.push_back(info.kind);
          std::string hint = closestMatch(k, names);
          t.error("kinds", "unknown kind \"" + k + "\"" + (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
        }
        rule.kinds.push_back(k);
      }
      t.list("scopedAt", [&](MapReader& s, size_t) {
        std::string kind;
        s.str("kind", kind, /*required=*/true);
        s.allow({"apiGroup"});
        s.finish();
        rule.scoped_at.push_back(kind);
      });
      t.allow({"apiGroup"});
      t.finish();
    });
    std::vector<std::string> perms;
    bool perms_present = false;
    r.strList("permissions", perms, &perms_present);
    if (!perms_present && r.valid()) r.error("permissions", "required field is missing");
    for (const auto& p : perms) {
      static const std::vector<std::pair<std::string, model::Permission>> kPerms = {
          {"READ", model::Permission::kRead},          {"WRITE", model::Permission::kWrite},
          {"CREATE", model::Permission::kCreate},      {"DELETE", model::Permission::kDelete},
          {"SET_POLICY", model::Permission::kSetPolicy}, {"GET_POLICY", model::Permission::kGetPolicy}};
      auto it = std::find_if(kPerms.begin(), kPerms.end(), [&](const auto& kp) { return kp.first == p; });
      if (it == kPerms.end()) {
        r.error("permissions", "unknown permission \"" + p + "\"; expected READ, WRITE, CREATE, DELETE, SET_POLICY or GET_POLICY");
      } else {
        rule.permissions.push_back(it->second);
      }
    }
    r.finish();
    out.rules.push_back(std::move(rule));
  }, &present);
  if (!present && spec.valid()) spec.error("rules", "required field is missing");
}

void parseAccessBinding(MapReader& spec, model::AccessBinding& out) {
  spec.str("target", out.target, /*required=*/true);
  if (!out.target.empty() && out.target.rfind("organizations/", 0) != 0) {
    spec.error("target", "must be an FQN starting with organizations/<org>");
  }
  bool present = false;
  spec.list("allow", [&](MapReader& a, size_t) {
    model::RoleGrant grant;
    grant.source = a.location();
    a.str("role", grant.role, /*required=*/true);
    if (grant.role.rfind("rbac/", 0) == 0) grant.role = grant.role.substr(5);
    bool subjects_present = false;
    a.list("subjects", [&](MapReader& s, size_t) {
      model::Subject subject;
      s.str("user", subject.user);
      s.str("team", subject.team);
      s.str("serviceAccount", subject.service_account);
      s.finish();
      int set = (subject.user.empty() ? 0 : 1) + (subject.team.empty() ? 0 : 1) +
                (subject.service_account.empty() ? 0 : 1);
      if (set != 1 && s.valid()) s.errorHere("a subject names exactly one of user, team or serviceAccount");
      grant.subjects.push_back(std::move(subject));
    }, &subjects_present);
    if (!subjects_present && a.valid()) a.error("subjects", "required field is missing");
    a.finish();
    out.allow.push_back(std::move(grant));
  }, &present);
  if (!present && spec.valid()) spec.error("allow", "required field is missing");
}

void parseHierarchySetting(MapReader& spec, model::HierarchySetting& out) {
  if (spec.has("defaultSecuritySetting")) {
    MapReader s = spec.map("defaultSecuritySetting");
    model::SecuritySettingSpec sec;
    readSecuritySpec(s, sec);
    s.finish();
    out.default_security = sec;
  } else {
    spec.allow({"defaultSecuritySetting"});
  }
  if (spec.has("defaultTrafficSetting")) {
    MapReader t = spec.map("defaultTrafficSetting");
    model::TrafficSettingSpec traffic;
    readTrafficSpec(t, traffic);
    t.finish();
    out.default_traffic = traffic;
  } else {
    spec.allow({"defaultTrafficSetting"});
  }
  spec.allow({"networkSettings", "failoverSettings", "regionalFailover", "displayName"});
}

void parseSecuritySetting(MapReader& spec, model::SecuritySetting& out) {
  readSecuritySpec(spec, out.spec);
}

void parseTrafficSetting(MapReader& spec, model::TrafficSetting& out) {
  readTrafficSpec(spec, out.spec);
}

void parseServiceRoute(MapReader& spec, model::ServiceRoute& out) {
  spec.str("service", out.service, /*required=*/true);
  if (!out.service.empty()) {
    auto slash = out.service.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == out.service.size() ||
        out.service.find('/', slash + 1) != std::string::npos) {
      spec.error("service", "\"" + out.service + "\" is not of the form namespace/service");
    }
  }
  std::set<std::string> names;
  bool weight_error = false;
  spec.list("subsets", [&](MapReader& s, size_t) {
    model::RouteSubset subset;
    subset.source = s.location();
    s.str("name", subset.name, /*required=*/true);
    if (!subset.name.empty() && !names.insert(subset.name).second) {
      s.error("name", "duplicate subset name \"" + subset.name + "\"");
    }
    s.strMap("labels", subset.labels);
    YAML::Node wn = s.raw("weight");
    int64_t w = 0;
    if (wn.IsDefined() && wn.IsScalar() && !wn.Scalar().empty() && wn.Scalar()[0] == '-') {
      s.error("weight", "weight must not be negative, got " + wn.Scalar());
      weight_error = true;
    } else if (s.i64("weight", w, 0, 100)) {
      subset.weight = w;
    } else if (s.has("weight")) {
      weight_error = true;
    }
    s.allow({"portLevelSettings"});
    s.finish();
    out.subsets.push_back(std::move(subset));
  });
  if (out.subsets.size() > 1 && !weight_error) {
    int64_t total = 0;
    for (const auto& s : out.subsets) total += s.weight.value_or(0);
    if (total == 0) spec.error("subsets", "with more than one subset, weights must not all be 0");
  }
  spec.list("httpRoutes", [&](MapReader& r, size_t) {
    model::ServiceRouteHttpRoute route;
    route.source = r.location();
    r.str("name", route.name);
    YAML::Node match = r.raw("match");
    if (match.IsDefined() && !match.IsNull() && !match.IsSequence()) {
      r.error("match", "expected a list, got " + describe(match));
    } else if (match.IsDefined() && match.IsSequence()) {
      size_t i = 0;
      for (const auto& m : match) {
        MapReader mr(r.context(), m, r.fieldPath("match") + "[" + std::to_string(i++) + "]");
        model::HttpMatchRequest req;
        if (mr.valid()) readHttpMatch(mr, req);
        route.match.push_back(std::move(req));
      }
    }
    r.list("destination", [&](MapReader& d, size_t) {
      model::ServiceRouteHttpRoute::Dest dest;
      d.str("destinationHost", dest.host);
      d.str("host", dest.host);
      d.str("subset", dest.subset);
      int64_t w = 0;
      if (d.i64("weight", w, 0, 100)) dest.weight = w;
      uint32_t port = 0;
      if (d.u32("port", port, 1, 65535)) dest.port = port;
      d.finish();
      route.destination.push_back(std::move(dest));
    });
    if (r.has("fault")) {
      MapReader f = r.map("fault");
      model::HttpFaultInjection fault;
      readFault(f, fault);
      route.fault = fault;
    } else {
      r.allow({"fault"});
    }
    r.allow({"mirrors", "flagger"});
    r.finish();
    if (route.destination.empty() && r.valid()) r.error("destination", "an http route needs at least one destination");
    out.http_routes.push_back(std::move(route));
  });
  if (out.subsets.empty() && out.http_routes.empty() && spec.valid()) {
    spec.error("subsets", "a ServiceRoute needs subsets or httpRoutes");
  }
  spec.allow({"portLevelSettings", "stickySession", "tcpRoutes", "argoRollout", "displayName"});
}

void parseEgressGateway(MapReader& spec, model::EgressGateway& out) {
  spec.str("workload", out.workload);
  spec.list("authorization", [&](MapReader& a, size_t) {
    model::EgressRule rule;
    if (a.has("from")) {
      MapReader from = a.map("from");
      from.strList("serviceAccounts", rule.service_accounts);
      from.allow({"mode"});
      from.finish();
    } else {
      a.allow({"from"});
    }
    bool to_present = false;
    a.strList("to", rule.hosts, &to_present);
    if (!to_present && a.valid()) a.error("to", "required field is missing (list of hosts, \"*\" for any)");
    a.finish();
    out.authorization.push_back(std::move(rule));
  });
  spec.allow({"workloadSelector", "displayName"});
}

void parseIdentityProvider(MapReader& spec, model::IdentityProvider& out) {
  spec.str("issuer", out.issuer, /*required=*/true);
  spec.oneOf("algorithm", out.algorithm, {"RS256", "ES256"});
  spec.strList("audiences", out.audiences);
  std::optional<model::Duration> ttl;
  if (spec.duration("tokenTTL", ttl) && ttl) out.token_ttl = *ttl;
  std::set<std::string> subjects;
  spec.list("users", [&](MapReader& u, size_t) {
    model::IdentityProviderUser user;
    u.str("subject", user.subject, /*required=*/true);
    if (!user.subject.empty() && !subjects.insert(user.subject).second) {
      u.error("subject", "duplicate subject \"" + user.subject + "\"");
    }
    u.strMap("claims", user.claims);
    u.finish();
    out.users.push_back(std::move(user));
  });
}

void parseScenario(MapReader& spec, model::Scenario& out) {
  spec.str("description", out.description);
  spec.strList("files", out.files);
  static const std::vector<std::string_view> kSteps = {"apply", "delete", "traffic", "advanceTime",
                                                        "attack", "expect", "note"};
  spec.list("steps", [&](MapReader& s, size_t) {
    model::ScenarioStep step;
    step.source = s.location();
    int kinds = 0;
    for (auto kind : kSteps) {
      if (s.has(kind)) {
        ++kinds;
        step.kind = std::string(kind);
      }
    }
    if (kinds == 0) {
      s.errorHere("a step needs one of apply, delete, traffic, advanceTime, attack, expect or note");
    } else if (kinds > 1 && !(kinds == 2 && s.has("note"))) {
      s.errorHere("a step may hold only one action (plus an optional note)");
    }
    // The runner interprets step bodies; keep them as YAML so nothing is lost.
    YAML::Emitter emitter;
    emitter << s.raw(step.kind);
    step.body_yaml = emitter.c_str();
    YAML::Node body = s.raw(step.kind);
    if (body.IsScalar()) step.fields[step.kind] = body.Scalar();
    if (body.IsMap()) {
      for (auto it = body.begin(); it != body.end(); ++it) {
        if (it->first.IsScalar() && it->second.IsScalar()) {
          step.fields[it->first.Scalar()] = it->second.Scalar();
        }
        if (it->first.IsScalar() && it->first.Scalar() == "files" && it->second.IsSequence()) {
          const YAML::Node files = it->second;  // the iterator's proxy is a temporary
          for (const auto& f : files) {
            if (f.IsScalar()) step.files.push_back(f.Scalar());
          }
        }
      }
    }
    std::string note;
    if (s.str("note", note) && step.kind != "note") step.fields["note"] = note;
    for (auto kind : kSteps) s.allow({kind});
    s.allow({"name", "as", "expectError"});
    std::string as;
    if (s.str("as", as)) step.fields["as"] = as;
    std::string expect_error;
    if (s.str("expectError", expect_error)) step.fields["expectError"] = expect_error;
    std::string name;
    if (s.str("name", name)) step.fields["name"] = name;
    s.finish();
    out.steps.push_back(std::move(step));
  });
}

}  // namespace meshsim::config
