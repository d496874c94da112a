#pragma once
/// The config store: the set of current resources with a monotonically increasing revision.
/// Readers take immutable snapshots; the store is used from the engine's single thread.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/model/resource.h"

namespace meshsim::config {

/// An immutable view of the configuration at one revision, with typed indexes.
/// Safe to share between threads (everything is const after construction).
struct Snapshot {
  uint64_t revision = 0;
  /// All resources in deterministic order (by kind order, then scope, then name).
  std::vector<model::Resource> resources;

  std::vector<const model::PeerAuthentication*> peer_authentications;
  std::vector<const model::RequestAuthentication*> request_authentications;
  std::vector<const model::AuthorizationPolicy*> authorization_policies;
  std::vector<const model::VirtualService*> virtual_services;
  std::vector<const model::DestinationRule*> destination_rules;
  std::vector<const model::ServiceEntry*> service_entries;
  const model::Organization* organization = nullptr;  ///< the first Organization, if any
  std::vector<const model::Cluster*> clusters;
  std::vector<const model::Tenant*> tenants;
  std::vector<const model::Workspace*> workspaces;
  std::vector<const model::Group*> groups;
  std::vector<const model::Service*> services;
  std::vector<const model::Workload*> workloads;
  std::vector<const model::User*> users;
  std::vector<const model::Team*> teams;
  std::vector<const model::Role*> roles;
  std::vector<const model::AccessBinding*> access_bindings;
  std::vector<const model::HierarchySetting*> organization_settings;
  std::vector<const model::HierarchySetting*> tenant_settings;
  std::vector<const model::HierarchySetting*> workspace_settings;
  std::vector<const model::SecuritySetting*> security_settings;
  std::vector<const model::TrafficSetting*> traffic_settings;
  std::vector<const model::ServiceRoute*> service_routes;
  std::vector<const model::EgressGateway*> egress_gateways;
  std::vector<const model::IdentityProvider*> identity_providers;
  std::vector<const model::Scenario*> scenarios;

  /// The mesh trust domain (Organization.spec.trustDomain, default "cluster.local").
  std::string trustDomain() const;
  /// The root namespace (Organization.spec.rootNamespace, default "istio-system").
  std::string rootNamespace() const;
  /// Count of resources per kind, in kind order; kinds with none are left out.
  std::vector<std::pair<std::string, size_t>> countsByKind() const;

  /// Finders; nullptr when absent.
  const model::Workload* findWorkload(const std::string& ns, const std::string& name) const;
  const model::Service* findService(const std::string& ns, const std::string& name) const;
};

/// The mutable store. Not thread-safe: owned by the engine's thread (ARCHITECTURE.md R6).
class ConfigStore {
 public:
  /// Creates or replaces a resource (by key). Returns the new revision.
  uint64_t apply(model::Resource resource);
  /// Removes a resource. NotFound when absent.
  Result<uint64_t> remove(const model::ResourceKey& key);
  /// The resource stored under `key`, if any.
  const model::Resource* find(const model::ResourceKey& key) const;

  uint64_t revision() const { return revision_; }
  size_t size() const { return resources_.size(); }

  /// An immutable snapshot of the current state (cached until the next change).
  std::shared_ptr<const Snapshot> snapshot() const;

 private:
  std::map<model::ResourceKey, model::Resource> resources_;
  uint64_t revision_ = 0;
  int64_t next_creation_index_ = 1;
  mutable std::shared_ptr<const Snapshot> cached_;
};

/// Builds a snapshot from resources directly (used by one-shot commands and tests).
std::shared_ptr<const Snapshot> makeSnapshot(std::vector<model::Resource> resources,
                                             uint64_t revision = 0);

}  // namespace meshsim::config
