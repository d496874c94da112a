#include "commands/common.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "meshsim/config/validate.h"

namespace meshsim::cli {

void addInputOptions(CLI::App& cmd, InputOptions& opts) {
  cmd.add_option("-f,--filename", opts.paths,
                 "Configuration: a YAML file, a directory (read recursively), or - for stdin")
      ->required()
      ->take_all();
}

std::unique_ptr<Loaded> loadInputs(const InputOptions& opts) {
  auto loaded = std::make_unique<Loaded>(config::loadConfiguration(opts.paths));
  if (!loaded->diagnostics.hasErrors()) {
    loaded->snapshot = config::makeSnapshot(loaded->load.resources);
  }
  return loaded;
}

int requireValid(const Loaded& loaded, std::ostream& err) {
  for (const auto& d : loaded.diagnostics.items()) err << d.toString() << "\n";
  if (loaded.diagnostics.hasErrors()) {
    err << "meshsim: the configuration has " << loaded.diagnostics.errorCount()
        << " error(s); run `meshsim validate` for details\n";
    return kExitUsage;
  }
  return kExitOk;
}

namespace {

std::string summary(const Loaded& loaded) {
  auto snap = config::makeSnapshot(loaded.load.resources);
  std::string kinds;
  for (const auto& [kind, n] : snap->countsByKind()) {
    if (!kinds.empty()) kinds += ", ";
    kinds += std::to_string(n) + " " + kind;
  }
  std::string out = "loaded " + std::to_string(loaded.load.resources.size()) + " resources from " +
                    std::to_string(loaded.load.files.size()) + " file(s)";
  if (!kinds.empty()) out += ": " + kinds;
  return out;
}

}  // namespace

void printDiagnostics(const Loaded& loaded, const std::string& format, std::ostream& out,
                      std::ostream& err) {
  const auto& diags = loaded.diagnostics;
  if (format == "json") {
    nlohmann::json doc;
    doc["valid"] = !diags.hasErrors();
    doc["errors"] = diags.errorCount();
    doc["warnings"] = diags.warningCount();
    doc["files"] = loaded.load.files;
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& [kind, n] : config::makeSnapshot(loaded.load.resources)->countsByKind()) {
      counts[kind] = n;
    }
    doc["resources"] = counts;
    doc["diagnostics"] = nlohmann::json::array();
    for (const auto& d : diags.items()) {
      doc["diagnostics"].push_back({{"severity", d.severity == Severity::kError ? "error" : "warning"},
                                    {"file", d.where.file},
                                    {"line", d.where.line},
                                    {"column", d.where.column},
                                    {"field", d.field},
                                    {"message", d.message}});
    }
    out << doc.dump(2) << "\n";
    return;
  }
  for (const auto& d : diags.items()) err << d.toString() << "\n";
  out << summary(loaded) << "\n";
  if (diags.hasErrors()) {
    out << "invalid: " << diags.errorCount() << " error(s), " << diags.warningCount()
        << " warning(s)\n";
  } else {
    out << "valid";
    if (diags.warningCount() > 0) out << " (" << diags.warningCount() << " warning(s))";
    out << "\n";
  }
}

namespace {
dataplane::DataPlaneFactory& factoryStorage() {
  static dataplane::DataPlaneFactory factory;
  return factory;
}
}  // namespace

void setDataPlaneFactory(dataplane::DataPlaneFactory factory) { factoryStorage() = std::move(factory); }

const dataplane::DataPlaneFactory& dataPlaneFactory() { return factoryStorage(); }

}  // namespace meshsim::cli
