// YAML → JSON for `-o json` output of stored documents.
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "meshsim/config/loader.h"

namespace meshsim::config {

namespace {

nlohmann::json toJson(const YAML::Node& node, int depth) {
  if (depth > 256) return nullptr;
  if (node.IsMap()) {
    nlohmann::json obj = nlohmann::json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      obj[it->first.Scalar()] = toJson(it->second, depth + 1);
    }
    return obj;
  }
  if (node.IsSequence()) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& item : node) arr.push_back(toJson(item, depth + 1));
    return arr;
  }
  if (!node.IsDefined() || node.IsNull()) return nullptr;
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted in the source: keep it a string
  if (s == "true") return true;
  if (s == "false") return false;
  char* end = nullptr;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (!s.empty() && end == s.c_str() + s.size()) return i;
  double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && end == s.c_str() + s.size()) return d;
  return s;
}

}  // namespace

Result<std::string> yamlToJson(std::string_view yaml) {
  try {
    YAML::Node node = YAML::Load(std::string(yaml));
    return toJson(node, 0).dump(2);
  } catch (const std::exception& e) {
    return invalidArgument(std::string("invalid YAML: ") + e.what());
  }
}

}  // namespace meshsim::config
