#pragma once
/// Permissions from AccessBindings along the hierarchy (tsb-model.md 1.6): a binding on a node
/// applies to it and everything below it. Pure; thread-safe.

#include <string>

#include "meshsim/config/store.h"
#include "meshsim/model/mesh.h"

namespace meshsim::mgmt {

/// The built-in bootstrap administrator: organization admin without a binding (like TSB's
/// initial admin). Model files are loaded as this user.
inline constexpr const char* kBootstrapAdmin = "admin";

struct AccessRequest {
  std::string user;
  model::Permission permission = model::Permission::kRead;
  std::string kind;  ///< the kind of resource being read/created/changed/deleted
  std::string fqn;   ///< the node where the permission is needed
};

struct AccessDecision {
  bool allowed = false;
  std::string via;     ///< "AccessBinding <name>: role <role> on <target>" when allowed
  std::string reason;  ///< when refused: the missing permission and where a grant would fix it
};

/// Decides whether `request.user` holds `request.permission` on `request.kind` at `request.fqn`.
AccessDecision checkAccess(const config::Snapshot& snap, const AccessRequest& request);

/// Permissions of a predefined role ("admin", "editor", "creator", "writer", "reader");
/// empty for unknown names.
std::vector<model::Permission> predefinedRolePermissions(const std::string& role);

}  // namespace meshsim::mgmt
