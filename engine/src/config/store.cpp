#include "meshsim/config/store.h"

#include <algorithm>
#include <type_traits>

namespace meshsim::config {

namespace {

size_t kindIndex(const std::string& kind) {
  const auto& kinds = model::allKinds();
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i].kind == kind) return i;
  }
  return kinds.size();
}

template <typename T>
bool sameKind(const model::Resource& r) {
  return std::holds_alternative<T>(r);
}

}  // namespace

std::shared_ptr<const Snapshot> makeSnapshot(std::vector<model::Resource> resources,
                                             uint64_t revision) {
  auto snap = std::make_shared<Snapshot>();
  snap->revision = revision;
  std::stable_sort(resources.begin(), resources.end(),
                   [](const model::Resource& a, const model::Resource& b) {
                     const auto ka = model::keyOf(a);
                     const auto kb = model::keyOf(b);
                     const size_t ia = kindIndex(ka.kind);
                     const size_t ib = kindIndex(kb.kind);
                     if (ia != ib) return ia < ib;
                     if (ka.scope != kb.scope) return ka.scope < kb.scope;
                     return ka.name < kb.name;
                   });
  snap->resources = std::move(resources);
  for (const auto& r : snap->resources) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, model::PeerAuthentication>) {
            snap->peer_authentications.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::RequestAuthentication>) {
            snap->request_authentications.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::AuthorizationPolicy>) {
            snap->authorization_policies.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::VirtualService>) {
            snap->virtual_services.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::DestinationRule>) {
            snap->destination_rules.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::ServiceEntry>) {
            snap->service_entries.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Organization>) {
            if (snap->organization == nullptr) snap->organization = &x;
          } else if constexpr (std::is_same_v<T, model::Cluster>) {
            snap->clusters.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Tenant>) {
            snap->tenants.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Workspace>) {
            snap->workspaces.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Group>) {
            snap->groups.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Service>) {
            snap->services.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Workload>) {
            snap->workloads.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::User>) {
            snap->users.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Team>) {
            snap->teams.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Role>) {
            snap->roles.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::AccessBinding>) {
            snap->access_bindings.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::OrganizationSettingRes>) {
            snap->organization_settings.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::TenantSettingRes>) {
            snap->tenant_settings.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::WorkspaceSettingRes>) {
            snap->workspace_settings.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::SecuritySetting>) {
            snap->security_settings.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::TrafficSetting>) {
            snap->traffic_settings.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::ServiceRoute>) {
            snap->service_routes.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::EgressGateway>) {
            snap->egress_gateways.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::IdentityProvider>) {
            snap->identity_providers.push_back(&x);
          } else if constexpr (std::is_same_v<T, model::Scenario>) {
            snap->scenarios.push_back(&x);
          } else {
            static_assert(sizeof(T) == 0, "every kind must be indexed");
          }
        },
        r);
  }
  return snap;
}

std::string Snapshot::trustDomain() const {
  return organization != nullptr ? organization->trust_domain : std::string("cluster.local");
}

std::string Snapshot::rootNamespace() const {
  return organization != nullptr ? organization->root_namespace : std::string("istio-system");
}

std::vector<std::pair<std::string, size_t>> Snapshot::countsByKind() const {
  std::vector<std::pair<std::string, size_t>> out;
  for (const auto& r : resources) {
    const std::string& kind = model::metaOf(r).kind;
    if (out.empty() || out.back().first != kind) {
      out.emplace_back(kind, 0);
    }
    ++out.back().second;
  }
  return out;
}

const model::Workload* Snapshot::findWorkload(const std::string& ns,
                                              const std::string& name) const {
  for (const auto* w : workloads) {
    if (w->meta.namespace_ == ns && w->meta.name == name) return w;
  }
  return nullptr;
}

const model::Service* Snapshot::findService(const std::string& ns, const std::string& name) const {
  for (const auto* s : services) {
    if (s->meta.namespace_ == ns && s->meta.name == name) return s;
  }
  return nullptr;
}

uint64_t ConfigStore::apply(model::Resource resource) {
  auto key = model::keyOf(resource);
  auto it = resources_.find(key);
  auto& meta = model::metaOf(resource);
  if (it != resources_.end()) {
    // An update keeps the original creation order (Istio's "oldest wins" looks at creation).
    meta.creation_index = model::metaOf(it->second).creation_index;
    it->second = std::move(resource);
  } else {
    if (meta.creation_index == 0) {
      meta.creation_index = model::kUntimestampedCreationBase + next_creation_index_;
    }
    ++next_creation_index_;
    resources_.emplace(std::move(key), std::move(resource));
  }
  cached_.reset();
  return ++revision_;
}

Result<uint64_t> ConfigStore::remove(const model::ResourceKey& key) {
  auto it = resources_.find(key);
  if (it == resources_.end()) return notFound(key.toString() + " does not exist");
  resources_.erase(it);
  cached_.reset();
  return ++revision_;
}

const model::Resource* ConfigStore::find(const model::ResourceKey& key) const {
  auto it = resources_.find(key);
  return it == resources_.end() ? nullptr : &it->second;
}

std::shared_ptr<const Snapshot> ConfigStore::snapshot() const {
  if (!cached_) {
    std::vector<model::Resource> all;
    all.reserve(resources_.size());
    for (const auto& [key, r] : resources_) all.push_back(r);
    cached_ = makeSnapshot(std::move(all), revision_);
  }
  return cached_;
}

}  // namespace meshsim::config
