#include "meshsim/model/resource.h"

namespace meshsim::model {

const ObjectMeta& metaOf(const Resource& r) {
  return std::visit([](const auto& x) -> const ObjectMeta& { return x.meta; }, r);
}

ObjectMeta& metaOf(Resource& r) {
  return std::visit([](auto& x) -> ObjectMeta& { return x.meta; }, r);
}

const std::vector<KindInfo>& allKinds() {
  using S = KindInfo::Scope;
  static const std::vector<KindInfo> kinds = {
      {"PeerAuthentication", "security.istio.io", {"v1", "v1beta1"}, S::kNamespaced},
      {"RequestAuthentication", "security.istio.io", {"v1", "v1beta1"}, S::kNamespaced},
      {"AuthorizationPolicy", "security.istio.io", {"v1", "v1beta1"}, S::kNamespaced},
      {"VirtualService", "networking.istio.io", {"v1", "v1beta1", "v1alpha3"}, S::kNamespaced},
      {"DestinationRule", "networking.istio.io", {"v1", "v1beta1", "v1alpha3"}, S::kNamespaced},
      {"ServiceEntry", "networking.istio.io", {"v1", "v1beta1", "v1alpha3"}, S::kNamespaced},
      {"Organization", "meshsim", {"v1"}, S::kCluster},
      {"Cluster", "meshsim", {"v1"}, S::kCluster},
      {"Tenant", "meshsim", {"v1"}, S::kCluster},
      {"Workspace", "meshsim", {"v1"}, S::kTenant},
      {"Group", "meshsim", {"v1"}, S::kWorkspace},
      {"Service", "meshsim", {"v1"}, S::kNamespaced},
      {"Workload", "meshsim", {"v1"}, S::kNamespaced},
      {"User", "meshsim", {"v1"}, S::kCluster},
      {"Team", "meshsim", {"v1"}, S::kCluster},
      {"Role", "meshsim", {"v1"}, S::kCluster},
      {"AccessBinding", "meshsim", {"v1"}, S::kCluster},
      {"OrganizationSetting", "meshsim", {"v1"}, S::kCluster},
      {"TenantSetting", "meshsim", {"v1"}, S::kTenant},
      {"WorkspaceSetting", "meshsim", {"v1"}, S::kWorkspace},
      {"SecuritySetting", "meshsim", {"v1"}, S::kGroup},
      {"TrafficSetting", "meshsim", {"v1"}, S::kGroup},
      {"ServiceRoute", "meshsim", {"v1"}, S::kGroup},
      {"EgressGateway", "meshsim", {"v1"}, S::kGroup},
      {"IdentityProvider", "meshsim", {"v1"}, S::kCluster},
      {"Scenario", "meshsim", {"v1"}, S::kCluster},
  };
  return kinds;
}

const KindInfo* findKind(std::string_view kind) {
  for (const auto& k : allKinds()) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

ResourceKey keyOf(const Resource& r) {
  const ObjectMeta& m = metaOf(r);
  const KindInfo* info = findKind(m.kind);
  std::string scope;
  if (info != nullptr) {
    switch (info->scope) {
      case KindInfo::Scope::kNamespaced: scope = m.namespace_; break;
      case KindInfo::Scope::kCluster: break;
      case KindInfo::Scope::kTenant: scope = m.tenant; break;
      case KindInfo::Scope::kWorkspace: scope = m.tenant + "/" + m.workspace; break;
      case KindInfo::Scope::kGroup: scope = m.tenant + "/" + m.workspace + "/" + m.group; break;
    }
  }
  return {m.kind, scope, m.name};
}

}  // namespace meshsim::model
