// Cross-resource validation: duplicates and references between resources.
#include "meshsim/config/validate.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <type_traits>

#include "config/yaml_reader.h"

namespace meshsim::config {

namespace {

using model::Resource;

struct Index {
  std::map<model::ResourceKey, const Resource*> by_key;
  std::set<std::string> clusters, tenants, users, teams, roles, idps;
  std::set<std::pair<std::string, std::string>> workspaces;  // tenant, name
  std::map<std::tuple<std::string, std::string, std::string>, model::GroupType> groups;
  std::set<std::pair<std::string, std::string>> services;  // ns, name
  std::vector<const model::Workload*> workloads;
  std::vector<const model::Workspace*> workspace_list;
  std::string organization;
  std::string root_namespace = "istio-system";
};

std::string suggestion(const std::string& word, const std::set<std::string>& names) {
  std::vector<std::string_view> candidates(names.begin(), names.end());
  std::string s = closestMatch(word, candidates);
  return s.empty() ? "" : " (did you mean \"" + s + "\"?)";
}

// Splits "ns/name" (or bare "name" relative to `ns`).
std::pair<std::string, std::string> splitRef(const std::string& ref, const std::string& ns) {
  auto slash = ref.find('/');
  if (slash == std::string::npos) return {ns, ref};
  return {ref.substr(0, slash), ref.substr(slash + 1)};
}

// "reviews", "reviews.bookinfo", "reviews.bookinfo.svc.cluster.local" -> (ns, name).
std::pair<std::string, std::string> serviceOfHost(const std::string& host, const std::string& ns) {
  auto dot = host.find('.');
  if (dot == std::string::npos) return {ns, host};
  std::string name = host.substr(0, dot);
  std::string rest = host.substr(dot + 1);
  auto dot2 = rest.find('.');
  std::string svc_ns = dot2 == std::string::npos ? rest : rest.substr(0, dot2);
  if (dot2 != std::string::npos && rest.substr(dot2 + 1).rfind("svc.", 0) != 0) return {"", ""};
  return {svc_ns, name};
}

class Checker {
 public:
  Checker(const std::vector<Resource>& resources, Diagnostics& out) : resources_(resources), out_(out) {}

  void run() {
    buildIndex();
    for (const auto& r : resources_) {
      std::visit([&](const auto& x) { check(x); }, r);
    }
    checkNamespaceOwnership();
  }

 private:
  void err(const model::ObjectMeta& m, const std::string& field, const std::string& message) {
    out_.error(m.source, field, message);
  }
  void warn(const model::ObjectMeta& m, const std::string& field, const std::string& message) {
    out_.warning(m.source, field, message);
  }

  void buildIndex() {
    for (const auto& r : resources_) {
      const auto& m = model::metaOf(r);
      auto key = model::keyOf(r);
      auto [it, inserted] = idx_.by_key.emplace(key, &r);
      if (!inserted) {
        err(m, "metadata.name",
            "duplicate " + key.toString() + "; first defined at " + model::metaOf(*it->second).source.toString());
        continue;
      }
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, model::Organization>) {
              if (!idx_.organization.empty()) {
                err(m, "metadata.name", "only one Organization may be defined; \"" + idx_.organization + "\" already is");
              } else {
                idx_.organization = m.name;
                idx_.root_namespace = x.root_namespace;
              }
            } else if constexpr (std::is_same_v<T, model::Cluster>) {
              idx_.clusters.insert(m.name);
            } else if constexpr (std::is_same_v<T, model::Tenant>) {
              idx_.tenants.insert(m.name);
            } else if constexpr (std::is_same_v<T, model::Workspace>) {
              idx_.workspaces.insert({m.tenant, m.name});
              idx_.workspace_list.push_back(&x);
            } else if constexpr (std::is_same_v<T, model::Group>) {
              idx_.groups[{m.tenant, m.workspace, m.name}] = x.type;
            } else if constexpr (std::is_same_v<T, model::Service>) {
              idx_.services.insert({m.namespace_, m.name});
            } else if constexpr (std::is_same_v<T, model::Workload>) {
              idx_.workloads.push_back(&x);
            } else if constexpr (std::is_same_v<T, model::User>) {
              idx_.users.insert(m.name);
            } else if constexpr (std::is_same_v<T, model::Team>) {
              idx_.teams.insert(m.name);
            } else if constexpr (std::is_same_v<T, model::Role>) {
              idx_.roles.insert(m.name);
            } else if constexpr (std::is_same_v<T, model::IdentityProvider>) {
              idx_.idps.insert(m.name);
            }
          },
          r);
    }
  }

  void checkOrganization(const model::ObjectMeta& m) {
    if (!m.organization.empty() && !idx_.organization.empty() && m.organization != idx_.organization) {
      err(m, "metadata.organization", "unknown organization \"" + m.organization + "\"; the configuration defines \"" + idx_.organization + "\"");
    }
  }

  bool checkTenant(const model::ObjectMeta& m) {
    if (idx_.tenants.count(m.tenant) == 0) {
      err(m, "metadata.tenant", "unknown tenant \"" + m.tenant + "\"" + suggestion(m.tenant, idx_.tenants));
      return false;
    }
    return true;
  }

  bool checkWorkspace(const model::ObjectMeta& m) {
    if (!checkTenant(m)) return false;
    if (idx_.workspaces.count({m.tenant, m.workspace}) == 0) {
      std::set<std::string> names;
      for (const auto& [t, w] : idx_.workspaces) {
        if (t == m.tenant) names.insert(w);
      }
      err(m, "metadata.workspace", "unknown workspace \"" + m.workspace + "\" in tenant \"" + m.tenant + "\"" + suggestion(m.workspace, names));
      return false;
    }
    return true;
  }

  void checkGroup(const model::ObjectMeta& m, std::optional<model::GroupType> expected) {
    if (!checkWorkspace(m)) return;
    auto it = idx_.groups.find({m.tenant, m.workspace, m.group});
    if (it == idx_.groups.end()) {
      std::set<std::string> names;
      for (const auto& [k, t] : idx_.groups) {
        if (std::get<0>(k) == m.tenant && std::get<1>(k) == m.workspace) names.insert(std::get<2>(k));
      }
      err(m, "metadata.group", "unknown group \"" + m.group + "\" in workspace \"" + m.workspace + "\"" + suggestion(m.group, names));
      return;
    }
    if (expected && it->second != *expected) {
      err(m, "metadata.group", m.kind + " belongs in a " + model::groupTypeName(*expected) +
                                   " group; \"" + m.group + "\" is a " + model::groupTypeName(it->second) + " group");
    }
  }

  void checkService(const model::ObjectMeta& m, const std::string& field, const std::string& ref) {
    auto [ns, name] = splitRef(ref, m.namespace_);
    if (idx_.services.count({ns, name}) == 0) {
      std::set<std::string> names;
      for (const auto& [sns, sname] : idx_.services) {
        if (sns == ns) names.insert(sname);
      }
      err(m, field, "unknown service \"" + ns + "/" + name + "\"" + suggestion(name, names));
    }
  }

  template <typename T>
  void check(const T& x) {
    checkOrganization(x.meta);
  }

  void check(const model::PeerAuthentication& x) {
    checkOrganization(x.meta);
    if (x.meta.namespace_ == idx_.root_namespace && x.selector.present && !x.selector.match_labels.empty()) {
      warn(x.meta, "spec.selector", "a PeerAuthentication with a selector in the root namespace \"" +
                                        idx_.root_namespace + "\" is ignored by Istio");
    }
  }

  void check(const model::AuthorizationPolicy& x) {
    checkOrganization(x.meta);
    if (x.has_target_ref) {
      warn(x.meta, "spec.targetRef", "policies with targetRef(s) apply to gateways and waypoints only; sidecars ignore this policy");
    }
  }

  void check(const model::VirtualService& x) {
    for (size_t i = 0; i < x.http.size(); ++i) {
      if (x.http[i].match.empty() && i + 1 < x.http.size()) {
        out_.warning(x.http[i + 1].source, "spec.http[" + std::to_string(i + 1) + "]",
                     "unreachable: http[" + std::to_string(i) + "] has no match and catches every request first");
        break;
      }
    }
  }

  void check(const model::Workspace& x) {
    checkOrganization(x.meta);
    checkTenant(x.meta);
  }

  void check(const model::Group& x) {
    checkOrganization(x.meta);
    checkWorkspace(x.meta);
  }

  void check(const model::TenantSettingRes& x) { checkTenant(x.meta); }
  void check(const model::WorkspaceSettingRes& x) { checkWorkspace(x.meta); }

  void checkJwtRefs(const model::ObjectMeta& m, const model::SecuritySettingSpec& s, const std::string& path) {
    if (!s.authentication) return;
    for (size_t i = 0; i < s.authentication->jwt.size(); ++i) {
      const auto& idp = s.authentication->jwt[i].identity_provider;
      if (!idp.empty() && idx_.idps.count(idp) == 0) {
        err(m, path + ".authenticationSettings.http.jwt.identityProvider",
            "unknown IdentityProvider \"" + idp + "\"" + suggestion(idp, idx_.idps));
      }
    }
  }

  void check(const model::OrganizationSettingRes& x) {
    if (x.default_security) checkJwtRefs(x.meta, *x.default_security, "spec.defaultSecuritySetting");
  }

  void check(const model::SecuritySetting& x) {
    checkGroup(x.meta, model::GroupType::kSecurity);
    checkJwtRefs(x.meta, x.spec, "spec");
  }
  void check(const model::TrafficSetting& x) { checkGroup(x.meta, model::GroupType::kTraffic); }
  void check(const model::EgressGateway& x) { checkGroup(x.meta, model::GroupType::kGateway); }

  void check(const model::ServiceRoute& x) {
    checkGroup(x.meta, model::GroupType::kTraffic);
    auto slash = x.service.find('/');
    if (slash == std::string::npos) return;
    std::string ns = x.service.substr(0, slash);
    std::string host = x.service.substr(slash + 1);
    auto [svc_ns, name] = serviceOfHost(host, ns);
    if (idx_.services.count({svc_ns, name}) == 0) {
      err(x.meta, "spec.service", "unknown service \"" + x.service + "\"");
      return;
    }
    for (size_t i = 0; i < x.subsets.size(); ++i) {
      const auto& subset = x.subsets[i];
      bool any = std::any_of(idx_.workloads.begin(), idx_.workloads.end(), [&](const model::Workload* w) {
        if (w->meta.namespace_ != svc_ns || w->service != name) return false;
        return std::all_of(subset.labels.begin(), subset.labels.end(), [&](const auto& kv) {
          auto it = w->labels.find(kv.first);
          return it != w->labels.end() && it->second == kv.second;
        });
      });
      if (!any) {
        out_.warning(subset.source, "spec.subsets[" + std::to_string(i) + "]",
                     "no workload of " + svc_ns + "/" + name + " has these labels: requests routed here get 503 no healthy upstream");
      }
    }
  }

  void check(const model::Service& x) {
    for (size_t i = 0; i < x.behaviour.calls.size(); ++i) {
      checkService(x.meta, "spec.behaviour.calls[" + std::to_string(i) + "].service", x.behaviour.calls[i].service);
    }
  }

  void check(const model::Workload& x) {
    if (idx_.clusters.count(x.cluster) == 0) {
      err(x.meta, "spec.cluster", "unknown cluster \"" + x.cluster + "\"" + suggestion(x.cluster, idx_.clusters));
    }
    if (!x.service.empty()) checkService(x.meta, "spec.service", x.service);
  }

  void check(const model::User& x) {
    for (const auto& t : x.teams) {
      if (idx_.teams.count(t) == 0) err(x.meta, "spec.teams", "unknown team \"" + t + "\"" + suggestion(t, idx_.teams));
    }
  }

  void check(const model::Team& x) {
    for (const auto& u : x.members) {
      if (idx_.users.count(u) == 0) err(x.meta, "spec.members", "unknown user \"" + u + "\"" + suggestion(u, idx_.users));
    }
  }

  void check(const model::AccessBinding& x) {
    static const std::set<std::string> kPredefined = {"admin", "editor", "creator", "writer", "reader"};
    for (size_t i = 0; i < x.allow.size(); ++i) {
      const auto& g = x.allow[i];
      std::string path = "spec.allow[" + std::to_string(i) + "]";
      if (kPredefined.count(g.role) == 0 && idx_.roles.count(g.role) == 0) {
        std::set<std::string> all = idx_.roles;
        all.insert(kPredefined.begin(), kPredefined.end());
        out_.error(g.source, path + ".role", "unknown role \"" + g.role + "\"" + suggestion(g.role, all));
      }
      for (const auto& s : g.subjects) {
        if (!s.user.empty() && idx_.users.count(s.user) == 0) {
          out_.error(g.source, path + ".subjects", "unknown user \"" + s.user + "\"" + suggestion(s.user, idx_.users));
        }
        if (!s.team.empty() && idx_.teams.count(s.team) == 0) {
          out_.error(g.source, path + ".subjects", "unknown team \"" + s.team + "\"" + suggestion(s.team, idx_.teams));
        }
      }
    }
    checkTarget(x);
  }

  // organizations/<org>[/tenants/<t>[/workspaces/<w>[/<kind>groups/<g>]]]
  void checkTarget(const model::AccessBinding& x) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= x.target.size()) {
      size_t end = x.target.find('/', start);
      if (end == std::string::npos) end = x.target.size();
      parts.push_back(x.target.substr(start, end - start));
      start = end + 1;
    }
    auto bad = [&](const std::string& why) { err(x.meta, "spec.target", "\"" + x.target + "\": " + why); };
    if (parts.size() < 2 || parts[0] != "organizations" || parts.size() % 2 != 0) return bad("not a valid FQN");
    if (!idx_.organization.empty() && parts[1] != idx_.organization) return bad("unknown organization \"" + parts[1] + "\"");
    if (parts.size() == 2) return;
    if (parts[2] != "tenants") return bad("expected tenants/<name> after the organization");
    if (idx_.tenants.count(parts[3]) == 0) return bad("unknown tenant \"" + parts[3] + "\"");
    if (parts.size() == 4) return;
    if (parts[4] != "workspaces") return bad("expected workspaces/<name> after the tenant");
    if (idx_.workspaces.count({parts[3], parts[5]}) == 0) return bad("unknown workspace \"" + parts[5] + "\"");
    if (parts.size() == 6) return;
    static const std::map<std::string, model::GroupType> kGroupKinds = {
        {"trafficgroups", model::GroupType::kTraffic},
        {"securitygroups", model::GroupType::kSecurity},
        {"gatewaygroups", model::GroupType::kGateway}};
    auto kind = kGroupKinds.find(parts[6]);
    if (kind == kGroupKinds.end() || parts.size() != 8) return bad("expected trafficgroups|securitygroups|gatewaygroups/<name> after the workspace");
    auto g = idx_.groups.find({parts[3], parts[5], parts[7]});
    if (g == idx_.groups.end()) return bad("unknown group \"" + parts[7] + "\"");
    if (g->second != kind->second) return bad("group \"" + parts[7] + "\" is a " + model::groupTypeName(g->second) + " group");
  }

  void check(const model::Scenario& x) {
    namespace fs = std::filesystem;
    fs::path base = fs::path(x.meta.source.file).parent_path();
    for (const auto& f : x.files) {
      std::error_code ec;
      if (!fs::exists(base / f, ec)) err(x.meta, "spec.files", "\"" + f + "\" does not exist (relative to " + (base.empty() ? "." : base.string()) + ")");
    }
  }

  // A workspace owns its namespaces exclusively (TSB): two workspaces may not claim the same
  // cluster/namespace of a workload.
  void checkNamespaceOwnership() {
    std::set<std::pair<std::string, std::string>> reported;
    for (const auto* w : idx_.workloads) {
      std::vector<const model::Workspace*> owners;
      for (const auto* ws : idx_.workspace_list) {
        if (ws->namespace_selector.matches(w->cluster, w->meta.namespace_)) owners.push_back(ws);
      }
      if (owners.size() > 1 && reported.insert({w->cluster, w->meta.namespace_}).second) {
        err(owners[1]->meta, "spec.namespaceSelector",
            "namespace " + w->cluster + "/" + w->meta.namespace_ + " is already owned by workspace " +
                owners[0]->meta.tenant + "/" + owners[0]->meta.name + "; a namespace belongs to one workspace");
      }
    }
  }

  const std::vector<Resource>& resources_;
  Diagnostics& out_;
  Index idx_;
};

}  // namespace

void validateReferences(const std::vector<model::Resource>& resources, Diagnostics& out) {
  Checker(resources, out).run();
}

LoadResult loadConfiguration(const std::vector<std::string>& paths, const LoadLimits& limits) {
  LoadResult result = loadPaths(paths, limits);
  if (result.unreadable.empty()) validateReferences(result.resources, result.diagnostics);
  result.diagnostics.sort();
  return result;
}

}  // namespace meshsim::config
