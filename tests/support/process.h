#pragma once
// Runs the `meshsim` binary built alongside the tests, as a user would from a shell.
#include <string>
#include <vector>

namespace meshsim::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Path of the meshsim binary (env MESHSIM_BIN, set by CTest).
std::string meshsimBinary();

/// Runs meshsim with `args`, feeding `stdin_text` on standard input. Bounded by a 120 s timeout.
ProcessResult runMeshsim(const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace meshsim::testing
