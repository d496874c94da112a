#pragma once
// `--state DIR` and `--as USER`, shared by the verbs that work on a management-plane state.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <string>

#include "meshsim/mgmt/plane.h"

namespace meshsim::cli {

struct StateOptions {
  std::string dir;
};

/// Adds `--state DIR` (default: $MESHSIM_STATE, else ./.meshsim).
inline void addStateOption(CLI::App& cmd, StateOptions& opts) {
  const char* env = std::getenv("MESHSIM_STATE");
  opts.dir = env != nullptr ? env : ".meshsim";
  cmd.add_option("--state", opts.dir, "State directory (default: $MESHSIM_STATE or ./.meshsim)");
}

/// Opens the management plane, printing the error and setting exit code 2 on failure.
std::unique_ptr<mgmt::ManagementPlane> openPlane(const StateOptions& opts);

struct InputOptions;
/// The configuration to inspect: from `-f` inputs when given (validated), else from the state.
/// nullptr (exit code set, errors printed) when it cannot be loaded.
std::shared_ptr<const config::Snapshot> snapshotFromInputsOrState(const InputOptions& inputs,
                                                                  const StateOptions& state);

}  // namespace meshsim::cli
