#pragma once
/// The management plane: every change is an apply or delete by a named user, checked against
/// the configuration's validity, the user's permissions (AccessBindings along the hierarchy) and
/// STRICTER locks, then committed together with its audit record. Single-threaded.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/mgmt/state.h"
#include "meshsim/model/resource.h"

namespace meshsim::mgmt {

/// The outcome of one attempted change.
struct ChangeOutcome {
  bool accepted = false;
  StatusCode code = StatusCode::kOk;  ///< PermissionDenied, FailedPrecondition, InvalidArgument ...
  std::string verb;                   ///< apply | delete
  std::string kind;
  std::string resource;               ///< FQN
  std::string result;                 ///< created | updated | unchanged | deleted (when accepted)
  std::string message;                ///< why refused
  std::string diff;
  int64_t audit_seq = 0;
};

/// Returns the current time as RFC 3339 UTC; injected so tests and scenarios control time.
using Clock = std::function<std::string()>;

/// The wall clock in RFC 3339 UTC (seconds).
std::string wallClockRfc3339();

class ManagementPlane {
 public:
  /// Opens the state in `state_dir` (created when missing) and loads its resources.
  static Result<std::unique_ptr<ManagementPlane>> open(
      const std::string& state_dir, Clock clock, Durability durability = Durability::kDurable);

  /// Applies resources in order, each as its own audited change, as `user`.
  std::vector<ChangeOutcome> apply(const std::vector<model::Resource>& resources, const std::string& user);

  /// Deletes the resources with these keys, as `user`.
  std::vector<ChangeOutcome> remove(const std::vector<model::ResourceKey>& keys, const std::string& user);

  /// The current configuration.
  std::shared_ptr<const config::Snapshot> snapshot() const { return store_.snapshot(); }

  StateStore& state() { return *state_; }

 private:
  ManagementPlane(std::unique_ptr<StateStore> state, Clock clock);
  ChangeOutcome refuse(ChangeOutcome outcome, StatusCode code, std::string message, const std::string& user);

  std::unique_ptr<StateStore> state_;
  Clock clock_;
  config::ConfigStore store_;
};

}  // namespace meshsim::mgmt
