#pragma once
// What every verb that reads configuration shares: `-f` inputs, loading with full validation,
// and printing diagnostics in text or JSON.
#include <CLI/CLI.hpp>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "meshsim/config/loader.h"
#include "meshsim/config/store.h"
#include "meshsim/dataplane/dataplane.h"

namespace meshsim::cli {

struct InputOptions {
  std::vector<std::string> paths;
};

/// Adds the repeatable `-f,--filename PATH` option (files, directories, or - for stdin).
void addInputOptions(CLI::App& cmd, InputOptions& opts);

/// Everything loaded from the inputs, validated as one configuration.
struct Loaded {
  config::LoadResult load;
  Diagnostics& diagnostics;  ///< == load.diagnostics (parse + reference findings, sorted)
  std::shared_ptr<const config::Snapshot> snapshot;  ///< only when there are no errors

  explicit Loaded(config::LoadResult l) : load(std::move(l)), diagnostics(load.diagnostics) {}
  Loaded(const Loaded&) = delete;
  Loaded& operator=(const Loaded&) = delete;
};

/// Loads and validates the inputs.
std::unique_ptr<Loaded> loadInputs(const InputOptions& opts);

/// For verbs other than validate: prints diagnostics to `err` and returns the exit code to use
/// when the configuration cannot be used (2), or 0 when it can.
int requireValid(const Loaded& loaded, std::ostream& err);

/// Prints `validate` output: diagnostics and a summary (text), or one JSON document.
void printDiagnostics(const Loaded& loaded, const std::string& format, std::ostream& out,
                      std::ostream& err);

/// The data plane factory main.cpp injects (the only place that names proxy/).
void setDataPlaneFactory(dataplane::DataPlaneFactory factory);
/// The injected factory; empty when none was set.
const dataplane::DataPlaneFactory& dataPlaneFactory();

}  // namespace meshsim::cli
