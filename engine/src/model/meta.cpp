#include "meshsim/model/meta.h"

#include "meshsim/model/mesh.h"

namespace meshsim::model {

std::string ResourceKey::toString() const {
  if (scope.empty()) return kind + " " + name;
  return kind + " " + scope + "/" + name;
}

bool LabelSelector::matches(const StringMap& labels) const {
  for (const auto& [key, value] : match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

namespace {
// Pattern segments: "*" any, "abc*" prefix, otherwise exact.
bool segmentMatches(const std::string& pattern, const std::string& value) {
  if (pattern == "*") return true;
  if (!pattern.empty() && pattern.back() == '*') {
    return value.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  }
  return pattern == value;
}
}  // namespace

bool NamespacePattern::matches(const std::string& cluster_name, const std::string& ns) const {
  return segmentMatches(cluster, cluster_name) && segmentMatches(namespace_, ns);
}

bool NamespaceSelector::matches(const std::string& cluster_name, const std::string& ns) const {
  for (const auto& p : names) {
    if (p.matches(cluster_name, ns)) return true;
  }
  return false;
}

std::string Workload::version() const {
  auto it = labels.find("version");
  return it == labels.end() ? std::string() : it->second;
}

}  // namespace meshsim::model
