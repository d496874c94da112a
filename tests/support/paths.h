#pragma once
// Locations of test data and of the source tree, fixed at configure time.
#include <string>

namespace meshsim::testing {
inline std::string testData(const std::string& rel) { return std::string(MESHSIM_TEST_DATA) + "/" + rel; }
inline std::string sourceRoot(const std::string& rel) {
  return std::string(MESHSIM_SOURCE_ROOT) + "/" + rel;
}
}  // namespace meshsim::testing
