#include "meshsim/mgmt/rbac.h"

#include <algorithm>
#include <set>

#include "meshsim/mgmt/hierarchy.h"

namespace meshsim::mgmt {

namespace {

using model::Permission;

std::set<std::string> teamsOf(const config::Snapshot& snap, const std::string& user) {
  std::set<std::string> teams;
  for (const auto* u : snap.users) {
    if (u->meta.name == user) teams.insert(u->teams.begin(), u->teams.end());
  }
  for (const auto* t : snap.teams) {
    if (std::find(t->members.begin(), t->members.end(), user) != t->members.end()) {
      teams.insert(t->meta.name);
    }
  }
  return teams;
}

bool roleGrants(const config::Snapshot& snap, const std::string& role, const AccessRequest& req,
                const std::string& target_level) {
  auto predefined = predefinedRolePermissions(role);
  if (!predefined.empty()) {
    return std::find(predefined.begin(), predefined.end(), req.permission) != predefined.end();
  }
  for (const auto* r : snap.roles) {
    if (r->meta.name != role) continue;
    for (const auto& rule : r->rules) {
      bool kind_ok = rule.kinds.empty() ||
                     std::find(rule.kinds.begin(), rule.kinds.end(), req.kind) != rule.kinds.end() ||
                     std::find(rule.kinds.begin(), rule.kinds.end(), "*") != rule.kinds.end();
      bool scope_ok = rule.scoped_at.empty() ||
                      std::find(rule.scoped_at.begin(), rule.scoped_at.end(), target_level) != rule.scoped_at.end();
      bool perm_ok = std::find(rule.permissions.begin(), rule.permissions.end(), req.permission) !=
                     rule.permissions.end();
      if (kind_ok && scope_ok && perm_ok) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<Permission> predefinedRolePermissions(const std::string& role) {
  if (role == "admin") {
    return {Permission::kRead, Permission::kWrite, Permission::kCreate, Permission::kDelete,
            Permission::kSetPolicy, Permission::kGetPolicy};
  }
  if (role == "editor") return {Permission::kRead, Permission::kWrite, Permission::kCreate};
  if (role == "creator") return {Permission::kRead, Permission::kCreate};
  if (role == "writer") return {Permission::kRead, Permission::kWrite};
  if (role == "reader") return {Permission::kRead};
  return {};
}

AccessDecision checkAccess(const config::Snapshot& snap, const AccessRequest& req) {
  AccessDecision d;
  if (req.user == kBootstrapAdmin) {
    d.allowed = true;
    d.via = "built-in organization administrator";
    return d;
  }
  bool known = std::any_of(snap.users.begin(), snap.users.end(),
                           [&](const auto* u) { return u->meta.name == req.user; });
  if (!known) {
    d.reason = "unknown user \"" + req.user + "\" (define a User resource, or act as " +
               kBootstrapAdmin + ")";
    return d;
  }
  auto teams = teamsOf(snap, req.user);
  auto ancestors = fqnAncestors(req.fqn);
  for (const auto* b : snap.access_bindings) {
    if (std::find(ancestors.begin(), ancestors.end(), b->target) == ancestors.end()) continue;
    for (const auto& grant : b->allow) {
      bool subject = std::any_of(grant.subjects.begin(), grant.subjects.end(), [&](const model::Subject& s) {
        return s.user == req.user || (!s.team.empty() && teams.count(s.team) != 0);
      });
      if (!subject) continue;
      if (roleGrants(snap, grant.role, req, fqnLevel(b->target))) {
        d.allowed = true;
        d.via = "AccessBinding " + b->meta.name + ": role " + grant.role + " on " + b->target;
        return d;
      }
    }
  }
  std::string where;
  for (auto it = ancestors.rbegin(); it != ancestors.rend(); ++it) {
    if (!where.empty()) where += ", ";
    where += *it;
    if (where.size() > 300) break;
  }
  d.reason = "user " + req.user + " lacks " + model::permissionName(req.permission) + " on " +
             req.kind + " at " + req.fqn + "; an AccessBinding granting a role with " +
             model::permissionName(req.permission) + " on " + req.kind +
             " for this user or one of their teams at one of [" + where + "] would allow it";
  return d;
}

}  // namespace meshsim::mgmt
