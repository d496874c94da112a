#pragma once
/// Effective TSB-style settings along the hierarchy: REPLACE and STRICTER propagation
/// (tsb-model.md 1.2-1.3), with the provenance of every value and the ancestor that locks it.

#include <optional>
#include <string>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/mgmt/hierarchy.h"
#include "meshsim/model/mesh.h"

namespace meshsim::mgmt {

/// Where a value came from.
struct Provenance {
  std::string fqn;    ///< resource that set it; "" = built-in default
  std::string level;  ///< "organization", "tenant", "workspace", "group" or "default"
  std::string locked_by;  ///< FQN of the STRICTER setting that locks it ("" = not locked)
};

/// The security setting that applies to one namespace, property by property.
struct EffectiveSecurity {
  model::TrafficMode traffic_mode = model::TrafficMode::kOptional;  ///< TSB default
  Provenance traffic_mode_from;
  model::AuthzMode authz_mode = model::AuthzMode::kDisabled;  ///< TSB default
  Provenance authz_mode_from;
  std::vector<std::string> service_accounts;  ///< CUSTOM, after narrowing
  std::vector<model::AuthzRulePair> allow;    ///< RULES, after refinement
  std::vector<model::AuthzRulePair> deny;     ///< RULES, accumulated
  bool deny_all = false;
  std::vector<model::LocalAuthzRule> local_rules;
  std::vector<model::JwtSettings> jwt;
  Provenance jwt_from;
  /// Notes about values that were ignored because an ancestor locks them.
  std::vector<std::string> notes;
};

/// The traffic setting that applies to one namespace.
struct EffectiveTraffic {
  model::TrafficSettingSpec spec;
  Provenance from;
};

/// One level of the chain that was consulted.
struct SettingLevel {
  std::string level;  ///< organization, tenant, workspace, group
  std::string fqn;
  const model::SecuritySettingSpec* security = nullptr;
  const model::TrafficSettingSpec* traffic = nullptr;
};

/// The settings chain for a placement, top (organization) first.
std::vector<SettingLevel> settingsChain(const config::Snapshot& snap, const Placement& placement);

/// The levels strictly above a setting resource (OrganizationSetting, TenantSetting,
/// WorkspaceSetting or SecuritySetting/TrafficSetting): where STRICTER locks can come from.
std::vector<SettingLevel> ancestorChain(const config::Snapshot& snap, const model::Resource& setting);

/// Folds the chain with REPLACE/STRICTER semantics.
EffectiveSecurity effectiveSecurity(const std::vector<SettingLevel>& chain);
EffectiveTraffic effectiveTraffic(const std::vector<SettingLevel>& chain);

/// A change would weaken a locked value: the apply must be refused.
struct Weakening {
  std::string field;      ///< e.g. "authenticationSettings.trafficMode"
  std::string attempted;  ///< e.g. "OPTIONAL"
  std::string locked;     ///< e.g. "REQUIRED"
  std::string locked_by;  ///< FQN of the locking ancestor
};

/// Checks `candidate`, to be set at chain level `index` (the levels above are ancestors), against
/// STRICTER ancestors. Returns the first weakening, if any.
std::optional<Weakening> findWeakening(const std::vector<SettingLevel>& ancestors,
                                       const model::SecuritySettingSpec& candidate);

/// CUSTOM narrowing: child service accounts kept only if equal to or narrower than a parent
/// entry ("ns/*" ⊇ "ns/sa"; "./*" only matches "./..."); if none qualify the parent list is used.
std::vector<std::string> narrowServiceAccounts(const std::vector<std::string>& parent,
                                               const std::vector<std::string>& child);

}  // namespace meshsim::mgmt
