#pragma once
/// The tenancy hierarchy (Organization → Tenant → Workspace → Group): FQNs of resources, and
/// where a namespace sits. Pure functions over a Snapshot; thread-safe.

#include <string>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/model/resource.h"

namespace meshsim::mgmt {

/// Where a cluster/namespace sits. Members are null when no resource claims the namespace.
struct Placement {
  std::string organization;  ///< the organization's name ("" when none is defined)
  const model::Tenant* tenant = nullptr;
  const model::Workspace* workspace = nullptr;
  const model::Group* security_group = nullptr;
  const model::Group* traffic_group = nullptr;
  const model::Group* gateway_group = nullptr;
};

/// Places `cluster`/`ns`. A cluster of "*" means "any cluster" (namespace-wide resources such
/// as Istio policies, which apply to the namespace in every cluster).
Placement placeNamespace(const config::Snapshot& snap, const std::string& cluster,
                         const std::string& ns);

/// FQNs of the hierarchy nodes.
std::string organizationFqn(const config::Snapshot& snap);
std::string tenantFqn(const config::Snapshot& snap, const std::string& tenant);
std::string workspaceFqn(const config::Snapshot& snap, const std::string& tenant,
                         const std::string& workspace);
/// ".../workspaces/<w>/{traffic,security,gateway}groups/<g>"; "" when the group is unknown.
std::string groupFqn(const config::Snapshot& snap, const std::string& tenant,
                     const std::string& workspace, const std::string& group);

/// The FQN of any resource, e.g.
/// organizations/acme/tenants/retail/workspaces/bookinfo/trafficgroups/t/serviceroutes/canary.
/// Namespaced kinds hang below the group (or workspace) that owns their namespace.
std::string fqnOf(const config::Snapshot& snap, const model::Resource& resource);

/// The hierarchy node a resource belongs to (its FQN without the last two segments, or the
/// organization for organization-level kinds). Permissions to create it are checked there.
std::string parentFqn(const config::Snapshot& snap, const model::Resource& resource);

/// "a/b/c/d" → {"a/b", "a/b/c/d"}: every prefix made of whole name/value pairs, shortest first.
std::vector<std::string> fqnAncestors(const std::string& fqn);

/// The hierarchy level named by an FQN: "Organization", "Tenant", "Workspace", "Group" or the
/// resource kind's plural for leaves.
std::string fqnLevel(const std::string& fqn);

}  // namespace meshsim::mgmt
