// `meshsim validate`: load configuration, report every problem, summarise what was loaded.
#include <iostream>

#include "commands/commands.h"
#include "commands/common.h"

namespace meshsim::cli {

void registerValidate(CLI::App& app) {
  auto* cmd = app.add_subcommand("validate", "Check configuration files and report every error");
  cmd->footer(
      "Exit status: 0 valid, 1 the configuration has errors, 2 usage error or unreadable input.\n"
      "Errors read file:line:col: error: <field path>: <message>.");
  auto opts = std::make_shared<InputOptions>();
  addInputOptions(*cmd, *opts);
  auto output = std::make_shared<std::string>("text");
  cmd->add_option("-o,--output", *output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->callback([opts, output] {
    auto loaded = loadInputs(*opts);
    printDiagnostics(*loaded, *output, std::cout, std::cerr);
    if (!loaded->load.unreadable.empty()) {
      setExitCode(kExitUsage);
    } else {
      setExitCode(loaded->diagnostics.hasErrors() ? kExitFinding : kExitOk);
    }
  });
}

}  // namespace meshsim::cli
