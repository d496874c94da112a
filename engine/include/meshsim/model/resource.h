#pragma once
/// The closed set of resource kinds, as one variant, and helpers to reach their metadata.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"

namespace meshsim::model {

/// The three hierarchy settings share one C++ type; these tags keep them apart in the variant.
struct OrganizationSettingRes : HierarchySetting {};
struct TenantSettingRes : HierarchySetting {};
struct WorkspaceSettingRes : HierarchySetting {};

/// Any resource meshsim understands.
using Resource =
    std::variant<PeerAuthentication, RequestAuthentication, AuthorizationPolicy, VirtualService,
                 DestinationRule, ServiceEntry, Organization, Cluster, Tenant, Workspace, Group,
                 Service, Workload, User, Team, Role, AccessBinding, OrganizationSettingRes,
                 TenantSettingRes, WorkspaceSettingRes, SecuritySetting, TrafficSetting,
                 ServiceRoute, EgressGateway, IdentityProvider, Scenario>;

/// Metadata of any resource.
const ObjectMeta& metaOf(const Resource& r);
ObjectMeta& metaOf(Resource& r);

/// The key a store files the resource under (kind + scope + name).
ResourceKey keyOf(const Resource& r);

/// Static facts about a kind.
struct KindInfo {
  std::string_view kind;
  std::string_view group;  ///< "security.istio.io", "networking.istio.io" or "meshsim"
  std::vector<std::string_view> versions;  ///< accepted apiVersion suffixes
  enum class Scope { kNamespaced, kCluster, kTenant, kWorkspace, kGroup } scope;
};

/// Every kind, in a stable order (the variant's order).
const std::vector<KindInfo>& allKinds();
/// Looks up a kind by its exact name; nullptr when unknown.
const KindInfo* findKind(std::string_view kind);

}  // namespace meshsim::model
