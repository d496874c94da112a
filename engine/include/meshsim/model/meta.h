#pragma once
/// Metadata shared by every resource kind.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "meshsim/common/source.h"

namespace meshsim::model {

/// Resources without `metadata.creationTimestamp` count as created after every timestamped one:
/// their creation index is this base plus their load/apply order.
inline constexpr int64_t kUntimestampedCreationBase = 4'000'000'000;

/// Labels and annotations: sorted for deterministic output.
using StringMap = std::map<std::string, std::string>;

/// `metadata` of any resource. Istio kinds use namespace/name; meshsim hierarchy kinds use
/// organization/tenant/workspace/group/name (empty when not applicable).
struct ObjectMeta {
  std::string kind;         ///< e.g. "AuthorizationPolicy"
  std::string api_version;  ///< as written, e.g. "security.istio.io/v1"
  std::string name;
  std::string namespace_;  ///< Istio kinds, Service, Workload (defaults to "default" for Istio)
  std::string organization;
  std::string tenant;
  std::string workspace;
  std::string group;
  StringMap labels;
  StringMap annotations;
  /// Order of creation: Istio's "oldest wins" rules compare this (smaller = older). Seconds since
  /// the epoch of `metadata.creationTimestamp` when given (RFC 3339), else
  /// kUntimestampedCreationBase plus the load order; 0 means "not yet assigned".
  int64_t creation_index = 0;
  std::optional<std::string> creation_timestamp;  ///< as written
  SourceLocation source;                          ///< where the document starts
  /// The whole document re-emitted as YAML (comments dropped): what the management plane
  /// stores, diffs and shows. Empty for resources built in code.
  std::string document;
};

/// Key that identifies a resource within a store: kind plus scope plus name.
struct ResourceKey {
  std::string kind;
  std::string scope;  ///< "ns" for namespaced kinds, "tenant/workspace/group" for hierarchy kinds
  std::string name;

  std::string toString() const;  ///< "Kind scope/name" or "Kind name"
  friend auto operator<=>(const ResourceKey&, const ResourceKey&) = default;
};

/// A `selector.matchLabels` / `workloadSelector.labels`; empty means "no selector".
struct LabelSelector {
  StringMap match_labels;
  bool present = false;  ///< the field was written (even if empty)

  /// True when every selector label is among `labels` (an empty selector matches all).
  bool matches(const StringMap& labels) const;
};

/// A duration parsed from Istio/Go notation ("1.5s", "250ms", "25h", "1h30m").
struct Duration {
  int64_t millis = 0;
  friend auto operator<=>(const Duration&, const Duration&) = default;
};

}  // namespace meshsim::model
