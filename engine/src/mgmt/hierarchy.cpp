#include "meshsim/mgmt/hierarchy.h"

#include <algorithm>
#include <cctype>
#include <type_traits>

namespace meshsim::mgmt {

namespace {

// Does the selector claim ns in `cluster`? For "*" (namespace-wide questions) any cluster counts.
bool claims(const model::NamespaceSelector& sel, const config::Snapshot& snap,
            const std::string& cluster, const std::string& ns) {
  if (cluster != "*") return sel.matches(cluster, ns);
  for (const auto& p : sel.names) {
    if (p.cluster == "*") {
      if (p.matches("*", ns)) return true;
      continue;
    }
    for (const auto* c : snap.clusters) {
      if (p.matches(c->meta.name, ns)) return true;
    }
    if (p.matches(p.cluster, ns)) return true;
  }
  return false;
}

std::string lowerPlural(const std::string& kind) {
  std::string out;
  for (char c : kind) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == 'y') return out.substr(0, out.size() - 1) + "ies";
  if (!out.empty() && out.back() == 's') return out + "es";
  return out + "s";
}

}  // namespace

Placement placeNamespace(const config::Snapshot& snap, const std::string& cluster,
                         const std::string& ns) {
  Placement p;
  p.organization = snap.organization != nullptr ? snap.organization->meta.name : "";
  for (const auto* ws : snap.workspaces) {
    if (!claims(ws->namespace_selector, snap, cluster, ns)) continue;
    p.workspace = ws;
    for (const auto* t : snap.tenants) {
      if (t->meta.name == ws->meta.tenant) p.tenant = t;
    }
    break;
  }
  if (p.workspace == nullptr) return p;
  for (const auto* g : snap.groups) {
    if (g->meta.tenant != p.workspace->meta.tenant || g->meta.workspace != p.workspace->meta.name) {
      continue;
    }
    // A group without its own selector covers the whole workspace.
    bool covers = g->namespace_selector.names.empty() ||
                  claims(g->namespace_selector, snap, cluster, ns);
    if (!covers) continue;
    const model::Group** slot = g->type == model::GroupType::kSecurity  ? &p.security_group
                                : g->type == model::GroupType::kTraffic ? &p.traffic_group
                                                                        : &p.gateway_group;
    if (*slot == nullptr) *slot = g;
  }
  return p;
}

std::string organizationFqn(const config::Snapshot& snap) {
  return "organizations/" + (snap.organization != nullptr ? snap.organization->meta.name : std::string("default"));
}

std::string tenantFqn(const config::Snapshot& snap, const std::string& tenant) {
  return organizationFqn(snap) + "/tenants/" + tenant;
}

std::string workspaceFqn(const config::Snapshot& snap, const std::string& tenant,
                         const std::string& workspace) {
  return tenantFqn(snap, tenant) + "/workspaces/" + workspace;
}

std::string groupFqn(const config::Snapshot& snap, const std::string& tenant,
                     const std::string& workspace, const std::string& group) {
  for (const auto* g : snap.groups) {
    if (g->meta.tenant == tenant && g->meta.workspace == workspace && g->meta.name == group) {
      return workspaceFqn(snap, tenant, workspace) + "/" + model::groupTypeName(g->type) +
             "groups/" + group;
    }
  }
  return "";
}

std::string parentFqn(const config::Snapshot& snap, const model::Resource& resource) {
  const model::ObjectMeta& m = model::metaOf(resource);
  const model::KindInfo* info = model::findKind(m.kind);
  using S = model::KindInfo::Scope;
  if (info == nullptr) return organizationFqn(snap);
  switch (info->scope) {
    case S::kCluster:
      return organizationFqn(snap);
    case S::kTenant:
      return tenantFqn(snap, m.tenant);
    case S::kWorkspace:
      return workspaceFqn(snap, m.tenant, m.workspace);
    case S::kGroup: {
      std::string g = groupFqn(snap, m.tenant, m.workspace, m.group);
      return g.empty() ? workspaceFqn(snap, m.tenant, m.workspace) + "/groups/" + m.group : g;
    }
    case S::kNamespaced: {
      Placement p = placeNamespace(snap, "*", m.namespace_);
      if (p.workspace == nullptr) return organizationFqn(snap);
      const model::Group* g = nullptr;
      if (m.kind == "PeerAuthentication" || m.kind == "AuthorizationPolicy" ||
          m.kind == "RequestAuthentication") {
        g = p.security_group;
      } else if (m.kind == "VirtualService" || m.kind == "DestinationRule" ||
                 m.kind == "ServiceEntry") {
        g = p.traffic_group;
      }
      if (g != nullptr) return groupFqn(snap, g->meta.tenant, g->meta.workspace, g->meta.name);
      return workspaceFqn(snap, p.workspace->meta.tenant, p.workspace->meta.name);
    }
  }
  return organizationFqn(snap);
}

std::string fqnOf(const config::Snapshot& snap, const model::Resource& resource) {
  const model::ObjectMeta& m = model::metaOf(resource);
  if (m.kind == "Organization") return "organizations/" + m.name;
  if (m.kind == "Tenant") return tenantFqn(snap, m.name);
  if (m.kind == "Workspace") return workspaceFqn(snap, m.tenant, m.name);
  if (m.kind == "Group") {
    const auto& g = std::get<model::Group>(resource);
    return workspaceFqn(snap, m.tenant, m.workspace) + "/" + model::groupTypeName(g.type) +
           "groups/" + m.name;
  }
  if (m.kind == "Role") return "rbac/" + m.name;
  std::string parent = parentFqn(snap, resource);
  std::string leaf = lowerPlural(m.kind);
  if (m.kind == "OrganizationSetting" || m.kind == "TenantSetting" || m.kind == "WorkspaceSetting") {
    leaf = "settings";
  }
  const model::KindInfo* info = model::findKind(m.kind);
  if (info != nullptr && info->scope == model::KindInfo::Scope::kNamespaced) {
    return parent + "/" + leaf + "/" + m.namespace_ + "/" + m.name;
  }
  return parent + "/" + leaf + "/" + m.name;
}

std::vector<std::string> fqnAncestors(const std::string& fqn) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= fqn.size()) {
    size_t end = fqn.find('/', start);
    if (end == std::string::npos) end = fqn.size();
    parts.push_back(fqn.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    cur += (cur.empty() ? "" : "/") + parts[i] + "/" + parts[i + 1];
    out.push_back(cur);
  }
  return out;
}

std::string fqnLevel(const std::string& fqn) {
  auto ancestors = fqnAncestors(fqn);
  if (ancestors.empty()) return "";
  const std::string& last = ancestors.back();
  size_t value_slash = last.rfind('/');
  size_t key_slash = value_slash == 0 ? std::string::npos : last.rfind('/', value_slash - 1);
  size_t key_start = key_slash == std::string::npos ? 0 : key_slash + 1;
  std::string key = last.substr(key_start, value_slash - key_start);
  if (key == "organizations") return "Organization";
  if (key == "tenants") return "Tenant";
  if (key == "workspaces") return "Workspace";
  if (key.size() > 6 && key.compare(key.size() - 6, 6, "groups") == 0) return "Group";
  return key;
}

}  // namespace meshsim::mgmt
