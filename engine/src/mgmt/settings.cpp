#include "meshsim/mgmt/settings.h"

#include <algorithm>

namespace meshsim::mgmt {

namespace {

std::string settingFqn(const std::string& parent, const std::string& leaf, const std::string& name) {
  return parent + "/" + leaf + "/" + name;
}

void addHierarchyLevel(std::vector<SettingLevel>& chain, const std::string& level,
                       const std::string& parent_fqn, const model::HierarchySetting& s) {
  SettingLevel l;
  l.level = level;
  l.fqn = settingFqn(parent_fqn, "settings", s.meta.name);
  l.security = s.default_security ? &*s.default_security : nullptr;
  l.traffic = s.default_traffic ? &*s.default_traffic : nullptr;
  chain.push_back(l);
}

std::vector<SettingLevel> chainFor(const config::Snapshot& snap, const std::string& tenant,
                                   const std::string& workspace, const std::string& security_group,
                                   const std::string& traffic_group, int depth) {
  // depth: 0 organization only, 1 + tenant, 2 + workspace, 3 + groups.
  std::vector<SettingLevel> chain;
  for (const auto* s : snap.organization_settings) {
    addHierarchyLevel(chain, "organization", organizationFqn(snap), *s);
  }
  if (depth >= 1 && !tenant.empty()) {
    for (const auto* s : snap.tenant_settings) {
      if (s->meta.tenant == tenant) addHierarchyLevel(chain, "tenant", tenantFqn(snap, tenant), *s);
    }
  }
  if (depth >= 2 && !workspace.empty()) {
    for (const auto* s : snap.workspace_settings) {
      if (s->meta.tenant == tenant && s->meta.workspace == workspace) {
        addHierarchyLevel(chain, "workspace", workspaceFqn(snap, tenant, workspace), *s);
      }
    }
  }
  if (depth >= 3) {
    std::vector<const model::SecuritySetting*> sec;
    for (const auto* s : snap.security_settings) {
      if (s->meta.tenant == tenant && s->meta.workspace == workspace && s->meta.group == security_group) {
        sec.push_back(s);
      }
    }
    // Several settings in one group apply in creation order.
    std::stable_sort(sec.begin(), sec.end(), [](const auto* a, const auto* b) {
      return a->meta.creation_index < b->meta.creation_index;
    });
    for (const auto* s : sec) {
      SettingLevel l;
      l.level = "group";
      l.fqn = settingFqn(groupFqn(snap, tenant, workspace, security_group), "securitysettings", s->meta.name);
      l.security = &s->spec;
      chain.push_back(l);
    }
    for (const auto* s : snap.traffic_settings) {
      if (s->meta.tenant == tenant && s->meta.workspace == workspace && s->meta.group == traffic_group) {
        SettingLevel l;
        l.level = "group";
        l.fqn = settingFqn(groupFqn(snap, tenant, workspace, traffic_group), "trafficsettings", s->meta.name);
        l.traffic = &s->spec;
        chain.push_back(l);
      }
    }
  }
  return chain;
}

bool fqnWithin(const std::string& fqn, const std::string& ancestor) {
  return fqn == ancestor || (fqn.size() > ancestor.size() && fqn.compare(0, ancestor.size(), ancestor) == 0 &&
                             fqn[ancestor.size()] == '/');
}

// Result of folding, with the lock that later levels must respect.
struct Fold {
  EffectiveSecurity eff;
  model::TrafficMode traffic = model::TrafficMode::kUnset;
  model::AuthzMode authz = model::AuthzMode::kUnset;
  std::string stricter_fqn;
};

Fold fold(const std::vector<SettingLevel>& chain) {
  Fold f;
  for (const auto& lvl : chain) {
    const model::SecuritySettingSpec* s = lvl.security;
    if (s == nullptr) continue;
    const bool locked = !f.stricter_fqn.empty();
    Provenance here{lvl.fqn, lvl.level, f.stricter_fqn};
    if (s->authentication && s->authentication->traffic_mode != model::TrafficMode::kUnset) {
      auto v = s->authentication->traffic_mode;
      if (locked && v < f.traffic) {
        f.eff.notes.push_back(lvl.fqn + ": trafficMode " + model::trafficModeName(v) +
                              " ignored, weaker than " + model::trafficModeName(f.traffic) +
                              " locked by " + f.stricter_fqn);
      } else {
        f.traffic = v;
        f.eff.traffic_mode_from = here;
      }
    }
    if (s->authentication && !s->authentication->jwt.empty()) {
      f.eff.jwt = s->authentication->jwt;
      f.eff.jwt_from = here;
    }
    if (s->authorization && s->authorization->mode != model::AuthzMode::kUnset) {
      const auto& a = *s->authorization;
      if (locked && a.mode < f.authz) {
        f.eff.notes.push_back(lvl.fqn + ": authorization mode " + model::authzModeName(a.mode) +
                              " ignored, weaker than " + model::authzModeName(f.authz) +
                              " locked by " + f.stricter_fqn);
      } else if (locked && a.mode == model::AuthzMode::kCustom && f.authz == model::AuthzMode::kCustom) {
        f.eff.service_accounts = narrowServiceAccounts(f.eff.service_accounts, a.service_accounts);
        f.eff.authz_mode_from = here;
      } else if (locked && a.mode == model::AuthzMode::kRules && f.authz == model::AuthzMode::kRules) {
        // Allow rules may only be refined to the same or descendant resources; deny rules add up.
        std::vector<model::AuthzRulePair> refined;
        for (const auto& rule : a.allow) {
          bool within = f.eff.allow.empty() ||
                        std::any_of(f.eff.allow.begin(), f.eff.allow.end(), [&](const auto& p) {
                          return fqnWithin(rule.from.fqn, p.from.fqn) && fqnWithin(rule.to.fqn, p.to.fqn);
                        });
          if (within) refined.push_back(rule);
          else f.eff.notes.push_back(lvl.fqn + ": allow rule " + rule.from.fqn + " -> " + rule.to.fqn + " ignored, wider than the locked rules");
        }
        if (!refined.empty()) f.eff.allow = refined;
        f.eff.deny.insert(f.eff.deny.end(), a.deny.begin(), a.deny.end());
        f.eff.deny_all = f.eff.deny_all || a.deny_all;
        f.eff.local_rules.insert(f.eff.local_rules.end(), a.local_rules.begin(), a.local_rules.end());
        f.eff.authz_mode_from = here;
      } else {
        f.authz = a.mode;
        f.eff.service_accounts = a.service_accounts;
        f.eff.allow = a.allow;
        f.eff.deny = locked ? f.eff.deny : std::vector<model::AuthzRulePair>{};
        f.eff.deny.insert(f.eff.deny.end(), a.deny.begin(), a.deny.end());
        f.eff.deny_all = (locked && f.eff.deny_all) || a.deny_all;
        f.eff.local_rules = a.local_rules;
        f.eff.authz_mode_from = here;
      }
    }
    if (s->propagation == model::PropagationStrategy::kStricter && f.stricter_fqn.empty()) {
      f.stricter_fqn = lvl.fqn;
    }
  }
  return f;
}

bool saCovers(const std::string& parent, const std::string& child) {
  if (parent == child) return true;
  auto ps = parent.find('/');
  auto cs = child.find('/');
  if (ps == std::string::npos || cs == std::string::npos) return false;
  std::string pns = parent.substr(0, ps), psa = parent.substr(ps + 1);
  std::string cns = child.substr(0, cs), csa = child.substr(cs + 1);
  if (pns != cns) return false;
  return psa == "*";
}

}  // namespace

std::vector<SettingLevel> settingsChain(const config::Snapshot& snap, const Placement& p) {
  std::string tenant = p.tenant != nullptr ? p.tenant->meta.name : "";
  std::string workspace = p.workspace != nullptr ? p.workspace->meta.name : "";
  std::string sec = p.security_group != nullptr ? p.security_group->meta.name : "";
  std::string traffic = p.traffic_group != nullptr ? p.traffic_group->meta.name : "";
  if (tenant.empty() && p.workspace != nullptr) tenant = p.workspace->meta.tenant;
  return chainFor(snap, tenant, workspace, sec, traffic, 3);
}

std::vector<SettingLevel> ancestorChain(const config::Snapshot& snap, const model::Resource& setting) {
  const auto& m = model::metaOf(setting);
  if (m.kind == "OrganizationSetting") return {};
  if (m.kind == "TenantSetting") return chainFor(snap, m.tenant, "", "", "", 0);
  if (m.kind == "WorkspaceSetting") return chainFor(snap, m.tenant, "", "", "", 1);
  return chainFor(snap, m.tenant, m.workspace, "", "", 2);
}

EffectiveSecurity effectiveSecurity(const std::vector<SettingLevel>& chain) {
  Fold f = fold(chain);
  EffectiveSecurity eff = f.eff;
  eff.traffic_mode = f.traffic == model::TrafficMode::kUnset ? model::TrafficMode::kOptional : f.traffic;
  if (f.traffic == model::TrafficMode::kUnset) eff.traffic_mode_from = {"", "default", f.stricter_fqn};
  eff.authz_mode = f.authz == model::AuthzMode::kUnset ? model::AuthzMode::kDisabled : f.authz;
  if (f.authz == model::AuthzMode::kUnset) eff.authz_mode_from = {"", "default", f.stricter_fqn};
  eff.traffic_mode_from.locked_by = f.stricter_fqn;
  eff.authz_mode_from.locked_by = f.stricter_fqn;
  if (!eff.jwt.empty()) eff.jwt_from.locked_by = f.stricter_fqn;
  return eff;
}

EffectiveTraffic effectiveTraffic(const std::vector<SettingLevel>& chain) {
  EffectiveTraffic out;
  out.from = {"", "default", ""};
  for (const auto& lvl : chain) {
    if (lvl.traffic == nullptr) continue;
    out.spec = *lvl.traffic;
    out.from = {lvl.fqn, lvl.level, ""};
  }
  return out;
}

std::optional<Weakening> findWeakening(const std::vector<SettingLevel>& ancestors,
                                       const model::SecuritySettingSpec& candidate) {
  Fold f = fold(ancestors);
  if (f.stricter_fqn.empty()) return std::nullopt;
  if (candidate.authentication && candidate.authentication->traffic_mode != model::TrafficMode::kUnset &&
      candidate.authentication->traffic_mode < f.traffic) {
    return Weakening{"authenticationSettings.trafficMode",
                     model::trafficModeName(candidate.authentication->traffic_mode),
                     model::trafficModeName(f.traffic), f.stricter_fqn};
  }
  if (candidate.authorization && candidate.authorization->mode != model::AuthzMode::kUnset &&
      candidate.authorization->mode < f.authz) {
    return Weakening{"authorization.mode", model::authzModeName(candidate.authorization->mode),
                     model::authzModeName(f.authz), f.stricter_fqn};
  }
  return std::nullopt;
}

std::vector<std::string> narrowServiceAccounts(const std::vector<std::string>& parent,
                                               const std::vector<std::string>& child) {
  std::vector<std::string> kept;
  for (const auto& c : child) {
    if (std::any_of(parent.begin(), parent.end(), [&](const std::string& p) { return saCovers(p, c); })) {
      kept.push_back(c);
    }
  }
  return kept.empty() ? parent : kept;
}

}  // namespace meshsim::mgmt
