#include "meshsim/mgmt/translate.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "meshsim/mgmt/hierarchy.h"
#include "meshsim/mgmt/settings.h"

namespace meshsim::mgmt {

namespace {

using model::Resource;

model::ObjectMeta generatedMeta(const std::string& kind, const std::string& api, const std::string& ns,
                                const std::string& name, const std::string& source_fqn,
                                const SourceLocation& where) {
  model::ObjectMeta m;
  m.kind = kind;
  m.api_version = api;
  m.namespace_ = ns;
  m.name = name;
  m.labels["app.kubernetes.io/managed-by"] = "meshsim";
  m.annotations[kSourceAnnotation] = source_fqn;
  m.source = where;
  return m;
}

std::string serviceHost(const std::string& ns, const std::string& name) {
  return name + "." + ns + ".svc.cluster.local";
}

bool within(const std::string& fqn, const std::string& ancestor) {
  return fqn == ancestor || (fqn.size() > ancestor.size() &&
                             fqn.compare(0, ancestor.size(), ancestor) == 0 && fqn[ancestor.size()] == '/');
}

class Translator {
 public:
  Translator(const config::Snapshot& snap, std::string cluster) : snap_(snap), cluster_(std::move(cluster)) {
    for (const auto* w : snap_.workloads) {
      if (cluster_ == "*" || w->cluster == cluster_) {
        namespaces_.insert(w->meta.namespace_);
        ns_clusters_[w->meta.namespace_].insert(w->cluster);
      }
    }
  }

  Translation run() {
    for (const auto& ns : namespaces_) security(ns);
    for (const auto* sr : snap_.service_routes) serviceRoute(*sr);
    for (const auto& ns : namespaces_) traffic(ns);
    return std::move(out_);
  }

 private:
  // Namespaces (with workloads) that a hierarchy node owns.
  std::vector<std::string> namespacesUnder(const std::string& fqn) {
    std::vector<std::string> out;
    for (const auto& ns : namespaces_) {
      Placement p = placeNamespace(snap_, cluster_, ns);
      if (p.workspace == nullptr) continue;
      std::vector<std::string> nodes = {workspaceFqn(snap_, p.workspace->meta.tenant, p.workspace->meta.name),
                                        tenantFqn(snap_, p.workspace->meta.tenant)};
      for (const auto* g : {p.security_group, p.traffic_group, p.gateway_group}) {
        if (g != nullptr) nodes.push_back(groupFqn(snap_, g->meta.tenant, g->meta.workspace, g->meta.name));
      }
      if (std::any_of(nodes.begin(), nodes.end(), [&](const std::string& n) { return within(n, fqn); })) {
        out.push_back(ns);
      }
    }
    return out;
  }

  std::vector<std::string> namespacesInSameClusters(const std::string& ns) {
    std::vector<std::string> out;
    for (const auto& other : namespaces_) {
      const auto& a = ns_clusters_[ns];
      const auto& b = ns_clusters_[other];
      if (std::any_of(a.begin(), a.end(), [&](const std::string& c) { return b.count(c) != 0; })) {
        out.push_back(other);
      }
    }
    return out;
  }

  std::string principalFor(const std::string& sa_ref, const std::string& ns) {
    auto slash = sa_ref.find('/');
    std::string sa_ns = sa_ref.substr(0, slash);
    std::string sa = sa_ref.substr(slash + 1);
    if (sa_ns == ".") sa_ns = ns;
    return snap_.trustDomain() + "/ns/" + sa_ns + "/sa/" + sa;
  }

  void security(const std::string& ns) {
    Placement p = placeNamespace(snap_, cluster_, ns);
    if (p.workspace == nullptr) return;
    auto chain = settingsChain(snap_, p);
    if (p.security_group != nullptr && p.security_group->config_mode == model::ConfigMode::kDirect) {
      // DIRECT groups carry raw Istio objects; their own SecuritySettings are not translated.
      chain.erase(std::remove_if(chain.begin(), chain.end(), [](const SettingLevel& l) {
                    return l.level == "group" && l.security != nullptr;
                  }),
                  chain.end());
    }
    if (std::none_of(chain.begin(), chain.end(), [](const SettingLevel& l) { return l.security != nullptr; })) {
      return;
    }
    EffectiveSecurity eff = effectiveSecurity(chain);
    SourceLocation where = p.workspace->meta.source;

    if (!eff.traffic_mode_from.fqn.empty()) {
      model::PeerAuthentication pa;
      pa.meta = generatedMeta("PeerAuthentication", "security.istio.io/v1", ns, "meshsim-security",
                              eff.traffic_mode_from.fqn, where);
      pa.mtls_present = true;
      pa.mode = eff.traffic_mode == model::TrafficMode::kRequired ? model::MtlsMode::kStrict
                                                                  : model::MtlsMode::kPermissive;
      out_.resources.push_back(pa);
    }

    std::vector<model::AuthzRule> allow_rules;
    bool allow_policy = false;
    auto fromNamespaces = [&](std::vector<std::string> nss) {
      model::AuthzRule rule;
      model::AuthzSource src;
      std::sort(nss.begin(), nss.end());
      src.namespaces = nss;
      rule.from = std::vector<model::AuthzSource>{src};
      return rule;
    };
    switch (eff.authz_mode) {
      case model::AuthzMode::kUnset:
      case model::AuthzMode::kDisabled:
        break;
      case model::AuthzMode::kNamespace:
        allow_policy = true;
        allow_rules.push_back(fromNamespaces({ns}));
        break;
      case model::AuthzMode::kWorkspace:
        allow_policy = true;
        allow_rules.push_back(fromNamespaces(
            namespacesUnder(workspaceFqn(snap_, p.workspace->meta.tenant, p.workspace->meta.name))));
        break;
      case model::AuthzMode::kGroup: {
        allow_policy = true;
        std::string node = p.security_group != nullptr
                               ? groupFqn(snap_, p.security_group->meta.tenant, p.security_group->meta.workspace,
                                          p.security_group->meta.name)
                               : workspaceFqn(snap_, p.workspace->meta.tenant, p.workspace->meta.name);
        allow_rules.push_back(fromNamespaces(namespacesUnder(node)));
        break;
      }
      case model::AuthzMode::kCluster:
        allow_policy = true;
        allow_rules.push_back(fromNamespaces(namespacesInSameClusters(ns)));
        break;
      case model::AuthzMode::kCustom: {
        allow_policy = true;
        model::AuthzRule rule;
        model::AuthzSource src;
        for (const auto& sa : eff.service_accounts) src.principals.push_back(principalFor(sa, ns));
        rule.from = std::vector<model::AuthzSource>{src};
        allow_rules.push_back(rule);
        break;
      }
      case model::AuthzMode::kRules: {
        std::string here = workspaceFqn(snap_, p.workspace->meta.tenant, p.workspace->meta.name);
        for (const auto& r : eff.allow) {
          allow_policy = true;  // allow rules exist: only matching callers may reach their targets
          bool targets_us = within(here, r.to.fqn) ||
                            (p.security_group != nullptr &&
                             within(groupFqn(snap_, p.security_group->meta.tenant, p.security_group->meta.workspace,
                                             p.security_group->meta.name),
                                    r.to.fqn));
          if (targets_us) allow_rules.push_back(fromNamespaces(namespacesUnder(r.from.fqn)));
        }
        std::vector<model::AuthzRule> deny_rules;
        for (const auto& r : eff.deny) {
          if (within(here, r.to.fqn)) deny_rules.push_back(fromNamespaces(namespacesUnder(r.from.fqn)));
        }
        if (eff.deny_all) deny_rules.push_back(model::AuthzRule{});
        if (!deny_rules.empty()) {
          model::AuthorizationPolicy deny;
          deny.meta = generatedMeta("AuthorizationPolicy", "security.istio.io/v1", ns, "meshsim-authz-deny",
                                    eff.authz_mode_from.fqn, where);
          deny.action = model::AuthzAction::kDeny;
          deny.rules = deny_rules;
          deny.rules_present = true;
          out_.resources.push_back(deny);
        }
        break;
      }
    }
    for (const auto& local : eff.local_rules) {
      allow_policy = true;
      model::AuthzRule rule;
      std::vector<model::AuthzSource> from;
      for (const auto& jwt : local.from) {
        model::AuthzSource src;
        src.request_principals.push_back((jwt.iss.empty() ? "*" : jwt.iss) + "/" + (jwt.sub.empty() ? "*" : jwt.sub));
        if (jwt.iss.empty() && jwt.sub.empty()) src.request_principals = {"*"};
        from.push_back(src);
        for (const auto& [claim, value] : jwt.other) {
          rule.when.push_back({"request.auth.claims[" + claim + "]", {value}, {}, {}});
        }
      }
      if (!from.empty()) rule.from = from;
      std::vector<model::AuthzOperation> to;
      for (const auto& t : local.to) {
        model::AuthzOperation op;
        op.methods = t.methods;
        op.paths = t.paths;
        to.push_back(op);
      }
      if (!to.empty()) rule.to = to;
      allow_rules.push_back(rule);
    }
    if (allow_policy) {
      model::AuthorizationPolicy allow;
      allow.meta = generatedMeta("AuthorizationPolicy", "security.istio.io/v1", ns, "meshsim-authz",
                                 eff.authz_mode_from.fqn, where);
      allow.action = model::AuthzAction::kAllow;
      allow.rules = allow_rules;
      allow.rules_present = !allow_rules.empty();
      out_.resources.push_back(allow);
    }

    if (!eff.jwt.empty()) {
      model::RequestAuthentication ra;
      ra.meta = generatedMeta("RequestAuthentication", "security.istio.io/v1", ns, "meshsim-jwt",
                              eff.jwt_from.fqn, where);
      for (const auto& j : eff.jwt) {
        model::JwtRule rule;
        rule.issuer = j.issuer;
        rule.audiences = j.audiences;
        rule.jwks = j.jwks;
        rule.jwks_uri = j.identity_provider.empty() ? j.jwks_uri : "meshsim://idp/" + j.identity_provider;
        rule.from_headers = j.from_headers;
        rule.from_cookies = j.from_cookies;
        rule.output_payload_to_header = j.output_payload_to_header;
        ra.jwt_rules.push_back(rule);
      }
      out_.resources.push_back(ra);
    }
  }

  void serviceRoute(const model::ServiceRoute& sr) {
    auto slash = sr.service.find('/');
    if (slash == std::string::npos) return;
    std::string ns = sr.service.substr(0, slash);
    std::string name = sr.service.substr(slash + 1);
    name = name.substr(0, name.find('.'));
    if (namespaces_.count(ns) == 0) return;
    std::string fqn = groupFqn(snap_, sr.meta.tenant, sr.meta.workspace, sr.meta.group) + "/serviceroutes/" + sr.meta.name;
    for (const auto* g : snap_.groups) {
      if (g->meta.tenant == sr.meta.tenant && g->meta.workspace == sr.meta.workspace &&
          g->meta.name == sr.meta.group && g->config_mode == model::ConfigMode::kDirect) {
        out_.notes.push_back(fqn + ": not translated, group " + sr.meta.group + " is DIRECT");
        return;
      }
    }
    std::string host = serviceHost(ns, name);
    model::VirtualService vs;
    vs.meta = generatedMeta("VirtualService", "networking.istio.io/v1", ns, sr.meta.name, fqn, sr.meta.source);
    vs.hosts = {host};
    model::DestinationRule dr;
    dr.meta = generatedMeta("DestinationRule", "networking.istio.io/v1", ns, sr.meta.name, fqn, sr.meta.source);
    dr.host = host;
    for (const auto& s : sr.subsets) {
      model::Subset subset;
      subset.name = s.name;
      subset.labels = s.labels;
      dr.subsets.push_back(subset);
    }
    for (const auto& r : sr.http_routes) {
      model::HttpRoute route;
      route.name = r.name;
      route.match = r.match;
      route.fault = r.fault;
      for (const auto& d : r.destination) {
        model::HttpRouteDestination dest;
        dest.destination.host = d.host.empty() ? host : d.host;
        dest.destination.subset = d.subset;
        dest.destination.port = d.port;
        dest.weight = d.weight;
        route.route.push_back(dest);
      }
      vs.http.push_back(route);
    }
    if (!sr.subsets.empty()) {
      model::HttpRoute route;
      route.name = "default";
      for (const auto& s : sr.subsets) {
        model::HttpRouteDestination dest;
        dest.destination.host = host;
        dest.destination.subset = s.name;
        dest.weight = s.weight.value_or(sr.subsets.size() == 1 ? 100 : 0);
        route.route.push_back(dest);
      }
      vs.http.push_back(route);
    }
    routed_.insert(host);
    out_.resources.push_back(vs);
    out_.resources.push_back(dr);
  }

  void traffic(const std::string& ns) {
    Placement p = placeNamespace(snap_, cluster_, ns);
    if (p.workspace == nullptr) return;
    EffectiveTraffic eff = effectiveTraffic(settingsChain(snap_, p));
    if (eff.from.fqn.empty()) return;
    const auto& t = eff.spec;
    for (const auto* svc : snap_.services) {
      if (svc->meta.namespace_ != ns) continue;
      if (t.local_rate_limit) {
        out_.rate_limits.push_back({ns, svc->meta.name, cluster_, *t.local_rate_limit, eff.from.fqn});
      }
      if (!t.http_request_timeout && !t.http_retries_attempts) continue;
      std::string host = serviceHost(ns, svc->meta.name);
      bool raw = std::any_of(snap_.virtual_services.begin(), snap_.virtual_services.end(), [&](const auto* vs) {
        return std::any_of(vs->hosts.begin(), vs->hosts.end(), [&](const std::string& h) {
          return h == host || h == svc->meta.name || h == svc->meta.name + "." + ns;
        });
      });
      if (raw) {
        out_.notes.push_back(eff.from.fqn + ": timeouts/retries not applied to " + host +
                             ", a VirtualService for it is managed directly");
        continue;
      }
      auto apply = [&](model::HttpRoute& route) {
        if (t.http_request_timeout) route.timeout = t.http_request_timeout;
        if (t.http_retries_attempts) {
          route.retries.present = true;
          route.retries.attempts = *t.http_retries_attempts;
          route.retries.per_try_timeout = t.http_retries_per_try_timeout;
          route.retries.retry_on = t.http_retries_retry_on;
        }
      };
      if (routed_.count(host) != 0) {
        for (auto& r : out_.resources) {
          if (auto* vs = std::get_if<model::VirtualService>(&r); vs != nullptr && vs->hosts[0] == host) {
            for (auto& route : vs->http) apply(route);
          }
        }
        continue;
      }
      model::VirtualService vs;
      vs.meta = generatedMeta("VirtualService", "networking.istio.io/v1", ns, "meshsim-traffic-" + svc->meta.name,
                              eff.from.fqn, p.workspace->meta.source);
      vs.hosts = {host};
      model::HttpRoute route;
      model::HttpRouteDestination dest;
      dest.destination.host = host;
      route.route.push_back(dest);
      apply(route);
      vs.http.push_back(route);
      out_.resources.push_back(vs);
    }
  }

  const config::Snapshot& snap_;
  std::string cluster_;
  std::set<std::string> namespaces_;
  std::map<std::string, std::set<std::string>> ns_clusters_;
  std::set<std::string> routed_;
  Translation out_;
};

// ---------------------------------------------------------------- YAML emission
void emitMeta(YAML::Emitter& e, const model::ObjectMeta& m) {
  e << YAML::Key << "apiVersion" << YAML::Value << m.api_version;
  e << YAML::Key << "kind" << YAML::Value << m.kind;
  e << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << m.name;
  e << YAML::Key << "namespace" << YAML::Value << m.namespace_;
  if (!m.labels.empty()) e << YAML::Key << "labels" << YAML::Value << m.labels;
  if (!m.annotations.empty()) e << YAML::Key << "annotations" << YAML::Value << m.annotations;
  e << YAML::EndMap;
}

void emitList(YAML::Emitter& e, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) e << YAML::Key << key << YAML::Value << YAML::Flow << values;
}

void emitDuration(YAML::Emitter& e, const char* key, const std::optional<model::Duration>& d) {
  if (!d) return;
  e << YAML::Key << key << YAML::Value << (std::to_string(d->millis) + "ms");
}

void emitAuthz(YAML::Emitter& e, const model::AuthorizationPolicy& p) {
  if (p.selector.present) {
    e << YAML::Key << "selector" << YAML::Value << YAML::BeginMap << YAML::Key << "matchLabels"
      << YAML::Value << p.selector.match_labels << YAML::EndMap;
  }
  e << YAML::Key << "action" << YAML::Value << model::authzActionName(p.action);
  if (!p.provider.empty()) {
    e << YAML::Key << "provider" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value
      << p.provider << YAML::EndMap;
  }
  if (!p.rules_present) return;
  e << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
  for (const auto& r : p.rules) {
    e << YAML::BeginMap;
    if (r.from) {
      e << YAML::Key << "from" << YAML::Value << YAML::BeginSeq;
      for (const auto& s : *r.from) {
        e << YAML::BeginMap << YAML::Key << "source" << YAML::Value << YAML::BeginMap;
        emitList(e, "principals", s.principals);
        emitList(e, "notPrincipals", s.not_principals);
        emitList(e, "requestPrincipals", s.request_principals);
        emitList(e, "notRequestPrincipals", s.not_request_principals);
        emitList(e, "namespaces", s.namespaces);
        emitList(e, "notNamespaces", s.not_namespaces);
        emitList(e, "ipBlocks", s.ip_blocks);
        e << YAML::EndMap << YAML::EndMap;
      }
      e << YAML::EndSeq;
    }
    if (r.to) {
      e << YAML::Key << "to" << YAML::Value << YAML::BeginSeq;
      for (const auto& o : *r.to) {
        e << YAML::BeginMap << YAML::Key << "operation" << YAML::Value << YAML::BeginMap;
        emitList(e, "hosts", o.hosts);
        emitList(e, "ports", o.ports);
        emitList(e, "methods", o.methods);
        emitList(e, "paths", o.paths);
        e << YAML::EndMap << YAML::EndMap;
      }
      e << YAML::EndSeq;
    }
    if (!r.when.empty()) {
      e << YAML::Key << "when" << YAML::Value << YAML::BeginSeq;
      for (const auto& c : r.when) {
        e << YAML::BeginMap << YAML::Key << "key" << YAML::Value << c.key;
        emitList(e, "values", c.values);
        emitList(e, "notValues", c.not_values);
        e << YAML::EndMap;
      }
      e << YAML::EndSeq;
    }
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

void emitVirtualService(YAML::Emitter& e, const model::VirtualService& vs) {
  e << YAML::Key << "hosts" << YAML::Value << YAML::Flow << vs.hosts;
  e << YAML::Key << "http" << YAML::Value << YAML::BeginSeq;
  for (const auto& r : vs.http) {
    e << YAML::BeginMap;
    if (!r.name.empty()) e << YAML::Key << "name" << YAML::Value << r.name;
    if (!r.match.empty()) {
      e << YAML::Key << "match" << YAML::Value << YAML::BeginSeq;
      for (const auto& m : r.match) {
        e << YAML::BeginMap;
        auto sm = [&](const char* key, const std::optional<model::StringMatch>& s) {
          if (!s) return;
          const char* k = s->kind == model::MatchKind::kExact ? "exact" : s->kind == model::MatchKind::kPrefix ? "prefix" : "regex";
          e << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << k << YAML::Value
            << s->value << YAML::EndMap;
        };
        sm("uri", m.uri);
        sm("method", m.method);
        sm("authority", m.authority);
        if (!m.headers.empty()) {
          e << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
          for (const auto& [h, s] : m.headers) {
            e << YAML::Key << h << YAML::Value << YAML::Flow << YAML::BeginMap;
            if (!s.presence_only) {
              const char* k = s.kind == model::MatchKind::kExact ? "exact" : s.kind == model::MatchKind::kPrefix ? "prefix" : "regex";
              e << YAML::Key << k << YAML::Value << s.value;
            }
            e << YAML::EndMap;
          }
          e << YAML::EndMap;
        }
        e << YAML::EndMap;
      }
      e << YAML::EndSeq;
    }
    e << YAML::Key << "route" << YAML::Value << YAML::BeginSeq;
    for (const auto& d : r.route) {
      e << YAML::BeginMap << YAML::Key << "destination" << YAML::Value << YAML::BeginMap;
      e << YAML::Key << "host" << YAML::Value << d.destination.host;
      if (!d.destination.subset.empty()) e << YAML::Key << "subset" << YAML::Value << d.destination.subset;
      if (d.destination.port) {
        e << YAML::Key << "port" << YAML::Value << YAML::BeginMap << YAML::Key << "number" << YAML::Value
          << *d.destination.port << YAML::EndMap;
      }
      e << YAML::EndMap;
      if (d.weight) e << YAML::Key << "weight" << YAML::Value << *d.weight;
      e << YAML::EndMap;
    }
    e << YAML::EndSeq;
    emitDuration(e, "timeout", r.timeout);
    if (r.retries.present) {
      e << YAML::Key << "retries" << YAML::Value << YAML::BeginMap << YAML::Key << "attempts" << YAML::Value
        << r.retries.attempts;
      emitDuration(e, "perTryTimeout", r.retries.per_try_timeout);
      if (!r.retries.retry_on.empty()) e << YAML::Key << "retryOn" << YAML::Value << r.retries.retry_on;
      e << YAML::EndMap;
    }
    if (r.fault) {
      e << YAML::Key << "fault" << YAML::Value << YAML::BeginMap;
      if (r.fault->delay) {
        e << YAML::Key << "delay" << YAML::Value << YAML::BeginMap;
        emitDuration(e, "fixedDelay", r.fault->delay);
        e << YAML::Key << "percentage" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "value"
          << YAML::Value << r.fault->delay_percentage.value << YAML::EndMap << YAML::EndMap;
      }
      if (r.fault->abort_http_status) {
        e << YAML::Key << "abort" << YAML::Value << YAML::BeginMap << YAML::Key << "httpStatus" << YAML::Value
          << *r.fault->abort_http_status;
        e << YAML::Key << "percentage" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "value"
          << YAML::Value << r.fault->abort_percentage.value << YAML::EndMap << YAML::EndMap;
      }
      e << YAML::EndMap;
    }
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

// Protobuf JSON duration text: "1s", "0.250s".
std::string durationSeconds(const model::Duration& d) {
  char buf[32];
  if (d.millis % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(d.millis / 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%.3fs", static_cast<double>(d.millis) / 1000.0);
  }
  return buf;
}

}  // namespace

Translation translate(const config::Snapshot& snap, const std::string& cluster) {
  return Translator(snap, cluster).run();
}

std::shared_ptr<const config::Snapshot> withTranslation(const config::Snapshot& snap) {
  Translation t = translate(snap, "*");
  std::vector<model::Resource> all = snap.resources;
  int64_t index = 0;
  for (auto& r : t.resources) {
    model::metaOf(r).creation_index = model::kUntimestampedCreationBase / 2 + ++index;
    all.push_back(std::move(r));
  }
  return config::makeSnapshot(std::move(all), snap.revision);
}

std::string toIstioYaml(const model::Resource& resource) {
  const model::ObjectMeta& m = model::metaOf(resource);
  if (!m.document.empty()) return m.document;
  YAML::Emitter e;
  e << YAML::BeginMap;
  emitMeta(e, m);
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, model::PeerAuthentication>) {
          e << YAML::Key << "mtls" << YAML::Value << YAML::BeginMap << YAML::Key << "mode" << YAML::Value
            << model::mtlsModeName(x.mode) << YAML::EndMap;
        } else if constexpr (std::is_same_v<T, model::AuthorizationPolicy>) {
          emitAuthz(e, x);
        } else if constexpr (std::is_same_v<T, model::RequestAuthentication>) {
          e << YAML::Key << "jwtRules" << YAML::Value << YAML::BeginSeq;
          for (const auto& r : x.jwt_rules) {
            e << YAML::BeginMap << YAML::Key << "issuer" << YAML::Value << r.issuer;
            emitList(e, "audiences", r.audiences);
            if (!r.jwks_uri.empty()) e << YAML::Key << "jwksUri" << YAML::Value << r.jwks_uri;
            if (!r.jwks.empty()) e << YAML::Key << "jwks" << YAML::Value << r.jwks;
            if (!r.output_payload_to_header.empty()) {
              e << YAML::Key << "outputPayloadToHeader" << YAML::Value << r.output_payload_to_header;
            }
            e << YAML::EndMap;
          }
          e << YAML::EndSeq;
        } else if constexpr (std::is_same_v<T, model::VirtualService>) {
          emitVirtualService(e, x);
        } else if constexpr (std::is_same_v<T, model::DestinationRule>) {
          e << YAML::Key << "host" << YAML::Value << x.host;
          if (!x.subsets.empty()) {
            e << YAML::Key << "subsets" << YAML::Value << YAML::BeginSeq;
            for (const auto& s : x.subsets) {
              e << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << s.name << YAML::Key
                << "labels" << YAML::Value << s.labels << YAML::EndMap;
            }
            e << YAML::EndSeq;
          }
        }
      },
      resource);
  e << YAML::EndMap << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string rateLimitYaml(const LocalRateLimit& limit) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "apiVersion" << YAML::Value << "networking.istio.io/v1alpha3";
  e << YAML::Key << "kind" << YAML::Value << "EnvoyFilter";
  e << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value
    << ("meshsim-ratelimit-" + limit.service) << YAML::Key << "namespace" << YAML::Value << limit.namespace_
    << YAML::Key << "annotations" << YAML::Value << YAML::BeginMap << YAML::Key << kSourceAnnotation
    << YAML::Value << limit.source_fqn << YAML::EndMap << YAML::EndMap;
  e << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "workloadSelector" << YAML::Value << YAML::BeginMap << YAML::Key << "labels" << YAML::Value
    << YAML::BeginMap << YAML::Key << "app" << YAML::Value << limit.service << YAML::EndMap << YAML::EndMap;
  e << YAML::Key << "configPatches" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  e << YAML::Key << "applyTo" << YAML::Value << "HTTP_FILTER";
  e << YAML::Key << "match" << YAML::Value << YAML::BeginMap << YAML::Key << "context" << YAML::Value
    << "SIDECAR_INBOUND" << YAML::Key << "listener" << YAML::Value << YAML::BeginMap << YAML::Key
    << "filterChain" << YAML::Value << YAML::BeginMap << YAML::Key << "filter" << YAML::Value << YAML::BeginMap
    << YAML::Key << "name" << YAML::Value << "envoy.filters.network.http_connection_manager" << YAML::EndMap
    << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  e << YAML::Key << "patch" << YAML::Value << YAML::BeginMap << YAML::Key << "operation" << YAML::Value
    << "INSERT_BEFORE" << YAML::Key << "value" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << "envoy.filters.http.local_ratelimit";
  e << YAML::Key << "typed_config" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "@type" << YAML::Value << "type.googleapis.com/udpa.type.v1.TypedStruct";
  e << YAML::Key << "type_url" << YAML::Value
    << "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
  e << YAML::Key << "value" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "stat_prefix" << YAML::Value << "http_local_rate_limiter";
  e << YAML::Key << "token_bucket" << YAML::Value << YAML::BeginMap << YAML::Key << "max_tokens" << YAML::Value
    << limit.bucket.max_tokens << YAML::Key << "tokens_per_fill" << YAML::Value << limit.bucket.tokens_per_fill
    << YAML::Key << "fill_interval" << YAML::Value
    << durationSeconds(limit.bucket.fill_interval) << YAML::EndMap;
  e << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  e << YAML::EndMap << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace meshsim::mgmt
