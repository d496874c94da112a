// Istio kinds with the validation rules of istio/istio pkg/config/validation (as summarised in
// shared/reference/istio-semantics.md sections 2-6).
#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "config/parsers.h"

namespace meshsim::config {

using model::MtlsMode;

bool isIpOrCidr(const std::string& text) {
  std::string addr = text;
  int max_prefix = -1;
  auto slash = text.find('/');
  if (slash != std::string::npos) {
    addr = text.substr(0, slash);
    std::string bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 ||
        !std::all_of(bits.begin(), bits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return false;
    }
    max_prefix = std::stoi(bits);
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) return max_prefix <= 32;
  if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) return max_prefix <= 128;
  return false;
}

bool isValidName(const std::string& text) {
  if (text.empty() || text.size() > 253) return false;
  if (!std::isalnum(static_cast<unsigned char>(text.front())) ||
      !std::isalnum(static_cast<unsigned char>(text.back()))) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (std::islower(static_cast<unsigned char>(c)) != 0) ||
           (std::isdigit(static_cast<unsigned char>(c)) != 0) || c == '-' || c == '.';
  });
}

void readSelector(MapReader& parent, const char* key, model::LabelSelector& out) {
  if (!parent.has(key)) {
    parent.allow({key});
    return;
  }
  MapReader sel = parent.map(key);
  out.present = true;
  sel.strMap("matchLabels", out.match_labels);
  sel.finish();
}

namespace {

bool parseMtlsMode(MapReader& m, const char* key, MtlsMode& out) {
  std::string mode;
  if (!m.oneOf(key, mode, {"UNSET", "DISABLE", "PERMISSIVE", "STRICT"})) return false;
  if (mode == "UNSET") out = MtlsMode::kUnset;
  else if (mode == "DISABLE") out = MtlsMode::kDisable;
  else if (mode == "PERMISSIVE") out = MtlsMode::kPermissive;
  else out = MtlsMode::kStrict;
  return true;
}

// targetRef / targetRefs: accepted, remembered, but never used by sidecars.
bool readTargetRefs(MapReader& spec) {
  bool present = spec.has("targetRef") || spec.has("targetRefs");
  spec.allow({"targetRef", "targetRefs"});
  return present;
}

void checkNoEmptyValues(MapReader& m, const char* key, const std::vector<std::string>& values) {
  for (const auto& v : values) {
    if (v.empty()) {
      m.error(key, "empty value is not allowed");
      return;
    }
  }
}

void checkCidrs(MapReader& m, const char* key, const std::vector<std::string>& values) {
  for (const auto& v : values) {
    if (!isIpOrCidr(v)) {
      m.error(key, "invalid IP address or CIDR block \"" + v + "\"");
    }
  }
}

bool isPort(const std::string& text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return false;
  }
  int v = std::stoi(text);
  return v >= 1 && v <= 65535;
}

void checkPorts(MapReader& m, const char* key, const std::vector<std::string>& values) {
  for (const auto& v : values) {
    if (!isPort(v)) m.error(key, "invalid port \"" + v + "\" (must be 1..65535)");
  }
}

// Path templates: `{*}` matches one segment, `{**}` zero or more and must be the last operator;
// any other use of braces, or templates mixed with `*` wildcards, is invalid.
std::string checkPathTemplate(const std::string& path) {
  if (path.find('{') == std::string::npos && path.find('}') == std::string::npos) return "";
  if (path.empty() || path.front() != '/') return "a path template must start with \"/\"";
  if (path.find('*') != std::string::npos &&
      (path.find("{*}") == std::string::npos && path.find("{**}") == std::string::npos)) {
    return "invalid path template";
  }
  bool seen_double = false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(start, end - start);
    if (seg == "{**}") {
      if (seen_double) return "\"{**}\" may appear only once, as the last operator";
      seen_double = true;
    } else if (seg == "{*}") {
      if (seen_double) return "\"{*}\" may not follow \"{**}\"";
    } else if (seg.find_first_of("{}*") != std::string::npos) {
      return "segment \"" + seg + "\" is not a valid template: use \"{*}\" or \"{**}\" as a whole segment";
    }
    start = end + 1;
  }
  return "";
}

void checkPaths(MapReader& m, const char* key, const std::vector<std::string>& values) {
  for (const auto& v : values) {
    std::string problem = checkPathTemplate(v);
    if (!problem.empty()) m.error(key, "\"" + v + "\": " + problem);
  }
}

bool knownConditionKey(const std::string& key, std::string& problem) {
  static const std::set<std::string> kPlain = {
      "source.ip",           "remote.ip",          "source.namespace",    "source.principal",
      "source.serviceAccount", "source.trustDomain", "request.auth.principal",
      "request.auth.audiences", "request.auth.presenter", "destination.ip", "destination.port",
      "connection.sni"};
  if (kPlain.count(key) != 0) return true;
  auto bracketed = [&](const std::string& prefix, bool nested) {
    if (key.rfind(prefix + "[", 0) != 0) return false;
    std::string rest = key.substr(prefix.size());
    // rest = "[a]" or "[a][b]..."
    size_t i = 0;
    int groups = 0;
    while (i < rest.size()) {
      if (rest[i] != '[') return false;
      size_t close = rest.find(']', i);
      if (close == std::string::npos || close == i + 1) return false;
      ++groups;
      i = close + 1;
    }
    return groups == 1 || (nested && groups >= 1);
  };
  if (bracketed("request.headers", false)) return true;
  if (bracketed("request.auth.claims", true)) return true;
  if (key.rfind("experimental.envoy.filters.", 0) == 0) return true;
  if (key.rfind("request.headers", 0) == 0 || key.rfind("request.auth.claims", 0) == 0) {
    problem = "expected the form " +
              std::string(key.rfind("request.headers", 0) == 0 ? "request.headers[<name>]"
                                                                : "request.auth.claims[<claim>]");
    return false;
  }
  problem = "unknown condition key \"" + key + "\"";
  std::vector<std::string_view> cands(kPlain.begin(), kPlain.end());
  cands.push_back("request.headers[]");
  cands.push_back("request.auth.claims[]");
  std::string suggestion = closestMatch(key, cands);
  if (!suggestion.empty()) problem += " (did you mean \"" + suggestion + "\"?)";
  return false;
}

void readSource(MapReader& s, model::AuthzSource& out) {
  out.source = s.location();
  s.strList("principals", out.principals);
  s.strList("notPrincipals", out.not_principals);
  s.strList("requestPrincipals", out.request_principals);
  s.strList("notRequestPrincipals", out.not_request_principals);
  s.strList("namespaces", out.namespaces);
  s.strList("notNamespaces", out.not_namespaces);
  s.strList("serviceAccounts", out.service_accounts);
  s.strList("notServiceAccounts", out.not_service_accounts);
  s.strList("ipBlocks", out.ip_blocks);
  s.strList("notIpBlocks", out.not_ip_blocks);
  s.strList("remoteIpBlocks", out.remote_ip_blocks);
  s.strList("notRemoteIpBlocks", out.not_remote_ip_blocks);
  s.strList("trustDomains", out.trust_domains);
  s.strList("notTrustDomains", out.not_trust_domains);
  s.finish();
  for (const char* key : {"principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals",
                          "namespaces", "notNamespaces"}) {
    std::vector<std::string> values;
    if (std::string(key) == "principals") values = out.principals;
    else if (std::string(key) == "notPrincipals") values = out.not_principals;
    else if (std::string(key) == "requestPrincipals") values = out.request_principals;
    else if (std::string(key) == "notRequestPrincipals") values = out.not_request_principals;
    else if (std::string(key) == "namespaces") values = out.namespaces;
    else values = out.not_namespaces;
    checkNoEmptyValues(s, key, values);
  }
  checkCidrs(s, "ipBlocks", out.ip_blocks);
  checkCidrs(s, "notIpBlocks", out.not_ip_blocks);
  checkCidrs(s, "remoteIpBlocks", out.remote_ip_blocks);
  checkCidrs(s, "notRemoteIpBlocks", out.not_remote_ip_blocks);
  bool has_sa = !out.service_accounts.empty() || !out.not_service_accounts.empty();
  if (has_sa && (!out.principals.empty() || !out.not_principals.empty() ||
                 !out.namespaces.empty() || !out.not_namespaces.empty())) {
    s.error(out.service_accounts.empty() ? "notServiceAccounts" : "serviceAccounts",
            "cannot be combined with principals or namespaces");
  }
  for (const auto& sa : out.service_accounts) {
    if (sa.find('*') != std::string::npos) s.error("serviceAccounts", "wildcards are not allowed in \"" + sa + "\"");
  }
  if (s.empty()) s.errorHere("source must not be empty");
}

void readOperation(MapReader& o, model::AuthzOperation& out) {
  out.source = o.location();
  o.strList("hosts", out.hosts);
  o.strList("notHosts", out.not_hosts);
  o.strList("ports", out.ports);
  o.strList("notPorts", out.not_ports);
  o.strList("methods", out.methods);
  o.strList("notMethods", out.not_methods);
  o.strList("paths", out.paths);
  o.strList("notPaths", out.not_paths);
  o.finish();
  checkNoEmptyValues(o, "hosts", out.hosts);
  checkNoEmptyValues(o, "methods", out.methods);
  checkNoEmptyValues(o, "paths", out.paths);
  checkPorts(o, "ports", out.ports);
  checkPorts(o, "notPorts", out.not_ports);
  checkPaths(o, "paths", out.paths);
  checkPaths(o, "notPaths", out.not_paths);
  if (o.empty()) o.errorHere("operation must not be empty");
}

void readCondition(MapReader& c, model::AuthzCondition& out) {
  out.source = c.location();
  c.str("key", out.key, /*required=*/true);
  bool has_values = false;
  bool has_not_values = false;
  c.strList("values", out.values, &has_values);
  c.strList("notValues", out.not_values, &has_not_values);
  c.finish();
  if (!out.key.empty()) {
    std::string problem;
    if (!knownConditionKey(out.key, problem)) c.error("key", problem);
  }
  if (c.valid() && out.values.empty() && out.not_values.empty()) {
    c.errorHere("condition needs values or notValues");
  }
  if (out.key == "source.ip" || out.key == "remote.ip" || out.key == "destination.ip") {
    checkCidrs(c, "values", out.values);
    checkCidrs(c, "notValues", out.not_values);
  }
  if (out.key == "destination.port") {
    checkPorts(c, "values", out.values);
    checkPorts(c, "notValues", out.not_values);
  }
}

}  // namespace

// ---------------------------------------------------------------- PeerAuthentication
void parsePeerAuthentication(MapReader& spec, model::PeerAuthentication& out) {
  readSelector(spec, "selector", out.selector);
  if (spec.has("mtls")) {
    MapReader mtls = spec.map("mtls");
    out.mtls_present = true;
    parseMtlsMode(mtls, "mode", out.mode);
    mtls.finish();
  } else {
    spec.allow({"mtls"});
  }
  YAML::Node plm = spec.raw("portLevelMtls");
  if (plm.IsDefined()) {
    out.port_level_present = true;
    if (plm.IsNull() || (plm.IsMap() && plm.size() == 0)) {
      spec.error("portLevelMtls", "port level mTLS, if defined, must have at least one element");
    } else if (!plm.IsMap()) {
      spec.error("portLevelMtls", "expected a mapping of port to {mode}, got " + describe(plm));
    } else {
      MapReader ports(spec.context(), plm, spec.fieldPath("portLevelMtls"));
      for (auto it = plm.begin(); it != plm.end(); ++it) {
        std::string port = it->first.IsScalar() ? it->first.Scalar() : "";
        if (!isPort(port)) {
          spec.context().diags->error(spec.context().at(it->first),
                                      spec.fieldPath("portLevelMtls"),
                                      "invalid port \"" + port + "\" (must be 1..65535)");
          ports.allow({port});
          continue;
        }
        MapReader pm = ports.map(port);
        MtlsMode mode = MtlsMode::kUnset;
        parseMtlsMode(pm, "mode", mode);
        pm.finish();
        out.port_level[static_cast<uint32_t>(std::stoul(port))] = mode;
      }
    }
    if (!out.selector.present || out.selector.match_labels.empty()) {
      spec.error("portLevelMtls", "mesh/namespace peer authentication cannot have port level mTLS "
                                  "(portLevelMtls needs a non-empty selector)");
    }
  }
}

// ---------------------------------------------------------------- RequestAuthentication
void readJwtHeaders(MapReader& rule, std::vector<model::JwtHeader>& out) {
  rule.list("fromHeaders", [&](MapReader& h, size_t) {
    model::JwtHeader header;
    h.str("name", header.name, /*required=*/true);
    h.str("prefix", header.prefix);
    h.finish();
    out.push_back(std::move(header));
  });
}

void parseRequestAuthentication(MapReader& spec, model::RequestAuthentication& out) {
  readSelector(spec, "selector", out.selector);
  out.has_target_ref = readTargetRefs(spec);
  if (out.has_target_ref && out.selector.present) {
    spec.error("targetRef", "only one of selector or targetRef(s) may be set");
  }
  spec.list("jwtRules", [&](MapReader& r, size_t) {
    model::JwtRule rule;
    rule.source = r.location();
    r.str("issuer", rule.issuer, /*required=*/true);
    r.strList("audiences", rule.audiences);
    r.str("jwksUri", rule.jwks_uri);
    r.str("jwks", rule.jwks);
    readJwtHeaders(r, rule.from_headers);
    r.strList("fromParams", rule.from_params);
    r.strList("fromCookies", rule.from_cookies);
    r.str("outputPayloadToHeader", rule.output_payload_to_header);
    r.list("outputClaimToHeaders", [&](MapReader& h, size_t) {
      model::ClaimToHeader c;
      h.str("header", c.header, /*required=*/true);
      h.str("claim", c.claim, /*required=*/true);
      h.finish();
      rule.output_claim_to_headers.push_back(std::move(c));
    });
    r.boolean("forwardOriginalToken", rule.forward_original_token);
    r.strList("spaceDelimitedClaims", rule.space_delimited_claims);
    r.duration("timeout", rule.timeout);
    r.finish();
    if (!rule.jwks.empty() && !rule.jwks_uri.empty()) {
      r.error("jwks", "only one of jwks or jwksUri may be set");
    }
    if (!rule.jwks.empty() && !nlohmann::json::accept(rule.jwks)) {
      r.error("jwks", "not valid JSON (expected a JWKS document {\"keys\": [...]})");
    }
    if (!rule.jwks_uri.empty() && rule.jwks_uri.rfind("https://", 0) != 0 &&
        rule.jwks_uri.rfind("http://", 0) != 0 && rule.jwks_uri.rfind("meshsim://", 0) != 0) {
      r.error("jwksUri", "must be an http(s):// or meshsim:// URI, got \"" + rule.jwks_uri + "\"");
    }
    out.jwt_rules.push_back(std::move(rule));
  });
}

// ---------------------------------------------------------------- AuthorizationPolicy
void parseAuthorizationPolicy(MapReader& spec, model::AuthorizationPolicy& out) {
  readSelector(spec, "selector", out.selector);
  out.has_target_ref = readTargetRefs(spec);
  if (out.has_target_ref && out.selector.present) {
    spec.error("targetRef", "only one of selector or targetRef(s) may be set");
  }
  std::string action = "ALLOW";
  spec.oneOf("action", action, {"ALLOW", "DENY", "AUDIT", "CUSTOM"});
  if (action == "DENY") out.action = model::AuthzAction::kDeny;
  else if (action == "AUDIT") out.action = model::AuthzAction::kAudit;
  else if (action == "CUSTOM") out.action = model::AuthzAction::kCustom;
  if (spec.has("provider")) {
    MapReader p = spec.map("provider");
    p.str("name", out.provider, /*required=*/true);
    p.finish();
  } else {
    spec.allow({"provider"});
  }
  size_t rule_count = 0;
  spec.list(
      "rules",
      [&](MapReader& r, size_t) {
        model::AuthzRule rule;
        rule.source = r.location();
        bool from_present = false;
        size_t from_count = 0;
        std::vector<model::AuthzSource> from;
        r.list("from", [&](MapReader& f, size_t) {
          MapReader s = f.map("source");
          model::AuthzSource src;
          if (!s.valid()) {
            f.errorHere("each from entry needs a source");
          } else {
            readSource(s, src);
          }
          f.finish();
          from.push_back(std::move(src));
        }, &from_present, &from_count);
        if (from_present) {
          if (from_count == 0) r.error("from", "must not be empty (omit the field to match any source)");
          rule.from = std::move(from);
        }
        bool to_present = false;
        size_t to_count = 0;
        std::vector<model::AuthzOperation> to;
        r.list("to", [&](MapReader& t, size_t) {
          MapReader o = t.map("operation");
          model::AuthzOperation op;
          if (!o.valid()) {
            t.errorHere("each to entry needs an operation");
          } else {
            readOperation(o, op);
          }
          t.finish();
          to.push_back(std::move(op));
        }, &to_present, &to_count);
        if (to_present) {
          if (to_count == 0) r.error("to", "must not be empty (omit the field to match any operation)");
          rule.to = std::move(to);
        }
        r.list("when", [&](MapReader& c, size_t) {
          model::AuthzCondition cond;
          readCondition(c, cond);
          rule.when.push_back(std::move(cond));
        });
        r.finish();
        out.rules.push_back(std::move(rule));
      },
      &out.rules_present, &rule_count);
  auto dry = out.meta.annotations.find("istio.io/dry-run");
  if (dry != out.meta.annotations.end()) {
    if (dry->second == "true") {
      out.dry_run = true;
    } else if (dry->second != "false") {
      spec.context().diags->error(out.meta.source, "metadata.annotations.istio.io/dry-run",
                                  "must be \"true\" or \"false\", got \"" + dry->second + "\"");
    }
  }
  if (out.action == model::AuthzAction::kDeny && rule_count == 0) {
    spec.error("rules", "a DENY policy needs at least one rule (DENY without rules is meaningless)");
  }
  if (out.action == model::AuthzAction::kCustom) {
    if (out.provider.empty()) spec.error("provider", "a CUSTOM policy needs provider.name");
    if (rule_count == 0) spec.error("rules", "a CUSTOM policy needs at least one rule");
  } else if (!out.provider.empty()) {
    spec.error("provider", "provider may only be set with action CUSTOM");
  }
}

// ---------------------------------------------------------------- VirtualService
std::optional<model::StringMatch> readStringMatch(MapReader& m, bool allow_empty) {
  model::StringMatch match;
  int set = 0;
  std::string value;
  if (m.str("exact", value)) {
    match.kind = model::MatchKind::kExact;
    match.value = value;
    ++set;
  }
  if (m.str("prefix", value)) {
    match.kind = model::MatchKind::kPrefix;
    match.value = value;
    ++set;
  }
  if (m.str("regex", value)) {
    match.kind = model::MatchKind::kRegex;
    match.value = value;
    ++set;
    RE2 re(value, RE2::Quiet);
    if (!re.ok()) m.error("regex", "invalid RE2 regular expression: " + re.error());
  }
  m.finish();
  if (set > 1) {
    m.errorHere("only one of exact, prefix or regex may be set");
  } else if (set == 0) {
    if (!allow_empty) {
      m.errorHere("one of exact, prefix or regex is required");
      return std::nullopt;
    }
    match.presence_only = true;
  }
  return match;
}

namespace {
void readMatchMap(MapReader& parent, const char* key, std::map<std::string, model::StringMatch>& out,
                  bool lower_case_keys) {
  YAML::Node node = parent.raw(key);
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    parent.error(key, "expected a mapping of name to {exact|prefix|regex}, got " + describe(node));
    return;
  }
  MapReader entries(parent.context(), node, parent.fieldPath(key));
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    std::string name = it->first.Scalar();
    if (lower_case_keys && std::any_of(name.begin(), name.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)); })) {
      entries.error(name, "header names must be lower-case");
    }
    MapReader m = entries.map(name);
    if (!m.valid()) {
      if (it->second.IsNull()) {
        model::StringMatch presence;
        presence.presence_only = true;
        out[name] = presence;
      }
      continue;
    }
    auto match = readStringMatch(m, /*allow_empty=*/true);
    if (match) out[name] = *match;
  }
}
}  // namespace

void readHttpMatch(MapReader& m, model::HttpMatchRequest& out) {
  out.source = m.location();
  m.str("name", out.name);
  for (const char* key : {"uri", "scheme", "method", "authority"}) {
    if (!m.has(key)) {
      m.allow({key});
      continue;
    }
    MapReader sm = m.map(key);
    auto match = readStringMatch(sm, /*allow_empty=*/false);
    std::string k = key;
    if (k == "uri") out.uri = match;
    else if (k == "scheme") out.scheme = match;
    else if (k == "method") out.method = match;
    else out.authority = match;
  }
  readMatchMap(m, "headers", out.headers, true);
  readMatchMap(m, "withoutHeaders", out.without_headers, true);
  readMatchMap(m, "queryParams", out.query_params, false);
  m.boolean("ignoreUriCase", out.ignore_uri_case);
  uint32_t port = 0;
  if (m.u32("port", port, 1, 65535)) out.port = port;
  m.strMap("sourceLabels", out.source_labels);
  m.str("sourceNamespace", out.source_namespace);
  m.strList("gateways", out.gateways);
  m.finish();
}

void readFault(MapReader& f, model::HttpFaultInjection& out) {
  auto readPercent = [](MapReader& parent, model::Percent& pct) {
    if (!parent.has("percentage")) {
      parent.allow({"percentage"});
      return;
    }
    MapReader p = parent.map("percentage");
    p.number("value", pct.value, 0, 100);
    p.finish();
  };
  bool any = false;
  if (f.has("delay")) {
    any = true;
    MapReader d = f.map("delay");
    std::optional<model::Duration> fixed;
    d.duration("fixedDelay", fixed);
    if (!fixed && d.valid() && !d.has("fixedDelay")) d.error("fixedDelay", "required field is missing");
    out.delay = fixed;
    readPercent(d, out.delay_percentage);
    d.finish();
  } else {
    f.allow({"delay"});
  }
  if (f.has("abort")) {
    any = true;
    MapReader a = f.map("abort");
    int32_t status = 0;
    if (a.i32("httpStatus", status, 200, 599)) out.abort_http_status = status;
    if (a.i32("grpcStatus", status, 0, 16)) out.abort_grpc_status = status;
    if (a.valid() && !out.abort_http_status && !out.abort_grpc_status &&
        !a.has("httpStatus") && !a.has("grpcStatus")) {
      a.errorHere("abort needs httpStatus or grpcStatus");
    }
    readPercent(a, out.abort_percentage);
    a.finish();
  } else {
    f.allow({"abort"});
  }
  f.finish();
  if (!any && f.valid()) f.errorHere("fault needs delay or abort");
}

namespace {

void readDestination(MapReader& d, model::Destination& out) {
  d.str("host", out.host, /*required=*/true);
  d.str("subset", out.subset);
  if (d.has("port")) {
    MapReader p = d.map("port");
    uint32_t n = 0;
    if (p.u32("number", n, 1, 65535)) out.port = n;
    p.finish();
  } else {
    d.allow({"port"});
  }
  d.finish();
}

void readRouteDestinations(MapReader& r, const char* key,
                           std::vector<model::HttpRouteDestination>& out) {
  r.list(key, [&](MapReader& rd, size_t) {
    model::HttpRouteDestination dest;
    dest.source = rd.location();
    MapReader d = rd.map("destination");
    if (!d.valid()) {
      if (!rd.has("destination")) rd.error("destination", "required field is missing");
    } else {
      readDestination(d, dest.destination);
    }
    int64_t w = 0;
    YAML::Node wn = rd.raw("weight");
    if (wn.IsDefined() && wn.IsScalar() && !wn.Scalar().empty() && wn.Scalar()[0] == '-') {
      rd.error("weight", "weight must not be negative, got " + wn.Scalar());
    } else if (rd.i64("weight", w, 0, INT32_MAX)) {
      dest.weight = w;
    }
    rd.allow({"headers"});
    rd.finish();
    out.push_back(std::move(dest));
  });
  if (out.size() > 1) {
    bool all_zero = std::all_of(out.begin(), out.end(), [](const model::HttpRouteDestination& d) {
      return d.weight.has_value() && *d.weight == 0;
    });
    if (all_zero) r.error(key, "with more than one destination, weights must not all be 0");
  }
}

}  // namespace

void parseVirtualService(MapReader& spec, model::VirtualService& out) {
  bool hosts_present = false;
  spec.strList("hosts", out.hosts, &hosts_present);
  if (!hosts_present) {
    spec.error("hosts", "required field is missing");
  } else if (out.hosts.empty()) {
    spec.error("hosts", "must name at least one host");
  }
  checkNoEmptyValues(spec, "hosts", out.hosts);
  spec.strList("gateways", out.gateways);
  spec.strList("exportTo", out.export_to);
  spec.list("http", [&](MapReader& r, size_t) {
    model::HttpRoute route;
    route.source = r.location();
    r.str("name", route.name);
    r.list("match", [&](MapReader& m, size_t) {
      model::HttpMatchRequest match;
      readHttpMatch(m, match);
      route.match.push_back(std::move(match));
    });
    readRouteDestinations(r, "route", route.route);
    if (r.has("redirect")) {
      MapReader rd = r.map("redirect");
      model::HttpRedirect redirect;
      rd.str("uri", redirect.uri);
      rd.str("authority", redirect.authority);
      rd.i32("redirectCode", redirect.redirect_code, 300, 399);
      rd.allow({"scheme", "port", "derivePort"});
      rd.finish();
      route.redirect = redirect;
    } else {
      r.allow({"redirect"});
    }
    if (r.has("directResponse")) {
      MapReader dr = r.map("directResponse");
      model::HttpDirectResponse resp;
      if (!dr.has("status")) dr.error("status", "required field is missing");
      dr.i32("status", resp.status, 200, 599);
      if (dr.has("body")) {
        MapReader b = dr.map("body");
        b.str("string", resp.body);
        b.allow({"bytes"});
        b.finish();
      } else {
        dr.allow({"body"});
      }
      dr.finish();
      route.direct_response = resp;
    } else {
      r.allow({"directResponse"});
    }
    r.duration("timeout", route.timeout);
    if (r.has("retries")) {
      MapReader rt = r.map("retries");
      route.retries.present = true;
      rt.i32("attempts", route.retries.attempts, 0, 1000);
      rt.duration("perTryTimeout", route.retries.per_try_timeout);
      rt.str("retryOn", route.retries.retry_on);
      rt.allow({"retryRemoteLocalities"});
      rt.finish();
    } else {
      r.allow({"retries"});
    }
    if (r.has("fault")) {
      MapReader f = r.map("fault");
      model::HttpFaultInjection fault;
      readFault(f, fault);
      route.fault = fault;
    } else {
      r.allow({"fault"});
    }
    if (r.has("mirror")) {
      MapReader m = r.map("mirror");
      model::Destination d;
      readDestination(m, d);
      route.mirror = d;
    } else {
      r.allow({"mirror"});
    }
    if (r.has("rewrite")) {
      MapReader rw = r.map("rewrite");
      rw.str("uri", route.rewrite_uri);
      rw.allow({"authority", "uriRegexRewrite"});
      rw.finish();
    } else {
      r.allow({"rewrite"});
    }
    r.allow({"headers", "corsPolicy", "mirrorPercentage", "mirrors", "delegate"});
    r.finish();
    int kinds = (route.route.empty() ? 0 : 1) + (route.redirect ? 1 : 0) +
                (route.direct_response ? 1 : 0);
    if (r.valid() && kinds == 0) {
      r.errorHere("an http route needs route, redirect or directResponse");
    } else if (kinds > 1) {
      r.errorHere("only one of route, redirect or directResponse may be set");
    }
    out.http.push_back(std::move(route));
  });
  spec.list("tcp", [&](MapReader& r, size_t) {
    model::TcpRoute route;
    route.source = r.location();
    r.list("match", [&](MapReader& m, size_t) {
      uint32_t port = 0;
      if (m.u32("port", port, 1, 65535)) route.match_ports.push_back(port);
      m.allow({"destinationSubnets", "sourceLabels", "sourceNamespace", "gateways"});
      m.finish();
    });
    readRouteDestinations(r, "route", route.route);
    r.finish();
    if (r.valid() && route.route.empty()) r.error("route", "a tcp route needs at least one destination");
    out.tcp.push_back(std::move(route));
  });
  spec.allow({"tls"});
}

// ---------------------------------------------------------------- DestinationRule
namespace {

void readTls(MapReader& t, model::ClientTls& out) {
  std::string mode;
  if (t.oneOf("mode", mode, {"DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"})) {
    if (mode == "DISABLE") out.mode = model::TlsMode::kDisable;
    else if (mode == "SIMPLE") out.mode = model::TlsMode::kSimple;
    else if (mode == "MUTUAL") out.mode = model::TlsMode::kMutual;
    else out.mode = model::TlsMode::kIstioMutual;
  } else if (!t.has("mode") && t.valid()) {
    t.error("mode", "required field is missing");
  }
  t.str("sni", out.sni);
  t.strList("subjectAltNames", out.subject_alt_names);
  t.str("caCertificates", out.ca_certificates);
  std::string cert, key, credential;
  t.str("clientCertificate", cert);
  t.str("privateKey", key);
  t.str("credentialName", credential);
  t.allow({"insecureSkipVerify", "caCrl"});
  t.finish();
  if (out.mode == model::TlsMode::kMutual && credential.empty() && (cert.empty() || key.empty())) {
    t.errorHere("MUTUAL needs clientCertificate and privateKey (or credentialName)");
  }
}

void readConnectionPool(MapReader& c, model::ConnectionPool& out) {
  if (c.has("tcp")) {
    MapReader tcp = c.map("tcp");
    uint32_t n = 0;
    if (tcp.u32("maxConnections", n, 0)) out.max_connections = n;
    tcp.duration("connectTimeout", out.connect_timeout);
    tcp.allow({"tcpKeepalive", "maxConnectionDuration", "idleTimeout"});
    tcp.finish();
  } else {
    c.allow({"tcp"});
  }
  if (c.has("http")) {
    MapReader http = c.map("http");
    uint32_t n = 0;
    if (http.u32("http1MaxPendingRequests", n, 0)) out.http1_max_pending_requests = n;
    if (http.u32("http2MaxRequests", n, 0)) out.http2_max_requests = n;
    if (http.u32("maxRequestsPerConnection", n, 0)) out.max_requests_per_connection = n;
    if (http.u32("maxRetries", n, 0)) out.max_retries = n;
    http.allow({"idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams"});
    http.finish();
  } else {
    c.allow({"http"});
  }
  c.finish();
}

void readOutlier(MapReader& o, model::OutlierDetection& out) {
  uint32_t n = 0;
  if (o.u32("consecutive5xxErrors", n, 0)) out.consecutive_5xx_errors = n;
  if (o.u32("consecutiveGatewayErrors", n, 0)) out.consecutive_gateway_errors = n;
  o.duration("interval", out.interval);
  o.duration("baseEjectionTime", out.base_ejection_time);
  if (o.u32("maxEjectionPercent", n, 0, 100)) out.max_ejection_percent = n;
  if (o.u32("minHealthPercent", n, 0, 100)) out.min_health_percent = n;
  o.allow({"consecutiveErrors", "consecutiveLocalOriginFailures", "splitExternalLocalOriginErrors"});
  o.finish();
}

model::LbPolicy readLb(MapReader& parent) {
  if (!parent.has("loadBalancer")) {
    parent.allow({"loadBalancer"});
    return model::LbPolicy::kUnset;
  }
  MapReader lb = parent.map("loadBalancer");
  std::string simple;
  model::LbPolicy out = model::LbPolicy::kUnset;
  if (lb.oneOf("simple", simple, {"UNSPECIFIED", "ROUND_ROBIN", "LEAST_REQUEST", "LEAST_CONN", "RANDOM", "PASSTHROUGH"})) {
    if (simple == "ROUND_ROBIN") out = model::LbPolicy::kRoundRobin;
    else if (simple == "RANDOM") out = model::LbPolicy::kRandom;
    else if (simple == "PASSTHROUGH") out = model::LbPolicy::kPassthrough;
    else if (simple != "UNSPECIFIED") out = model::LbPolicy::kLeastRequest;
  }
  lb.allow({"consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup"});
  lb.finish();
  return out;
}

template <typename T>
void readPolicyParts(MapReader& p, T& out) {
  if (p.has("tls")) {
    MapReader t = p.map("tls");
    model::ClientTls tls;
    readTls(t, tls);
    out.tls = tls;
  } else {
    p.allow({"tls"});
  }
  if (p.has("connectionPool")) {
    MapReader c = p.map("connectionPool");
    model::ConnectionPool pool;
    readConnectionPool(c, pool);
    out.connection_pool = pool;
  } else {
    p.allow({"connectionPool"});
  }
  if (p.has("outlierDetection")) {
    MapReader o = p.map("outlierDetection");
    model::OutlierDetection od;
    readOutlier(o, od);
    out.outlier_detection = od;
  } else {
    p.allow({"outlierDetection"});
  }
  out.load_balancer = readLb(p);
}

void readTrafficPolicy(MapReader& p, model::TrafficPolicy& out) {
  readPolicyParts(p, out);
  std::set<uint32_t> seen;
  p.list("portLevelSettings", [&](MapReader& s, size_t) {
    model::TrafficPolicy::PortSettings ps;
    MapReader port = s.map("port");
    if (!port.valid()) {
      s.error("port", "required field is missing");
    } else {
      port.u32("number", ps.port, 1, 65535);
      port.finish();
    }
    if (ps.port != 0 && !seen.insert(ps.port).second) {
      s.error("port", "duplicate port " + std::to_string(ps.port) + " in portLevelSettings");
    }
    readPolicyParts(s, ps);
    s.finish();
    out.port_level_settings.push_back(std::move(ps));
  });
  p.allow({"tunnel", "proxyProtocol"});
  p.finish();
}

}  // namespace

void parseDestinationRule(MapReader& spec, model::DestinationRule& out) {
  spec.str("host", out.host, /*required=*/true);
  if (spec.has("trafficPolicy")) {
    MapReader tp = spec.map("trafficPolicy");
    model::TrafficPolicy policy;
    readTrafficPolicy(tp, policy);
    out.traffic_policy = policy;
  } else {
    spec.allow({"trafficPolicy"});
  }
  std::set<std::string> names;
  spec.list("subsets", [&](MapReader& s, size_t) {
    model::Subset subset;
    subset.source = s.location();
    s.str("name", subset.name, /*required=*/true);
    if (!subset.name.empty() && !names.insert(subset.name).second) {
      s.error("name", "duplicate subset name \"" + subset.name + "\"");
    }
    s.strMap("labels", subset.labels);
    if (s.has("trafficPolicy")) {
      MapReader tp = s.map("trafficPolicy");
      model::TrafficPolicy policy;
      readTrafficPolicy(tp, policy);
      subset.traffic_policy = policy;
    } else {
      s.allow({"trafficPolicy"});
    }
    s.finish();
    out.subsets.push_back(std::move(subset));
  });
  spec.strList("exportTo", out.export_to);
  if (spec.has("workloadSelector")) {
    MapReader ws = spec.map("workloadSelector");
    out.workload_selector.present = true;
    ws.strMap("matchLabels", out.workload_selector.match_labels);
    ws.finish();
  } else {
    spec.allow({"workloadSelector"});
  }
}

// ---------------------------------------------------------------- ServiceEntry
void parseServiceEntry(MapReader& spec, model::ServiceEntry& out) {
  bool hosts_present = false;
  spec.strList("hosts", out.hosts, &hosts_present);
  if (!hosts_present || out.hosts.empty()) spec.error("hosts", "must name at least one host");
  checkNoEmptyValues(spec, "hosts", out.hosts);
  spec.strList("addresses", out.addresses);
  checkCidrs(spec, "addresses", out.addresses);
  std::set<uint32_t> numbers;
  std::set<std::string> port_names;
  spec.list("ports", [&](MapReader& p, size_t) {
    model::ServicePortSpec port;
    if (!p.has("number")) p.error("number", "required field is missing");
    p.u32("number", port.number, 1, 65535);
    p.oneOf("protocol", port.protocol,
            {"HTTP", "HTTPS", "HTTP2", "GRPC", "GRPC-WEB", "MONGO", "REDIS", "MYSQL", "TCP", "TLS", "UDP"});
    p.str("name", port.name, /*required=*/true);
    uint32_t target = 0;
    if (p.u32("targetPort", target, 1, 65535)) port.target_port = target;
    p.finish();
    if (port.number != 0 && !numbers.insert(port.number).second) {
      p.error("number", "duplicate port " + std::to_string(port.number));
    }
    if (!port.name.empty() && !port_names.insert(port.name).second) {
      p.error("name", "duplicate port name \"" + port.name + "\"");
    }
    out.ports.push_back(std::move(port));
  });
  out.location = "MESH_EXTERNAL";
  spec.oneOf("location", out.location, {"MESH_EXTERNAL", "MESH_INTERNAL"});
  out.resolution = "NONE";
  spec.oneOf("resolution", out.resolution, {"NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"});
  spec.list("endpoints", [&](MapReader& e, size_t) {
    model::ServiceEntry::Endpoint ep;
    e.str("address", ep.address);
    YAML::Node ports = e.raw("ports");
    if (ports.IsDefined() && ports.IsMap()) {
      MapReader pr(e.context(), ports, e.fieldPath("ports"));
      for (auto it = ports.begin(); it != ports.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        uint32_t n = 0;
        if (pr.u32(it->first.Scalar(), n, 1, 65535)) ep.ports[it->first.Scalar()] = n;
      }
    }
    e.strMap("labels", ep.labels);
    e.allow({"network", "locality", "weight", "serviceAccount"});
    e.finish();
    if (out.resolution == "STATIC" && ep.address.empty()) {
      e.error("address", "required with resolution STATIC");
    }
    out.endpoints.push_back(std::move(ep));
  });
  spec.strList("exportTo", out.export_to);
  spec.allow({"workloadSelector", "subjectAltNames"});
  if (out.resolution == "STATIC" && out.endpoints.empty() && spec.valid()) {
    spec.error("endpoints", "resolution STATIC needs at least one endpoint");
  }
}

}  // namespace meshsim::config
