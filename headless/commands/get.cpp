// `meshsim get KIND [NAME]`: read resources from a state.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "commands/state_options.h"
#include "meshsim/config/loader.h"
#include "meshsim/mgmt/hierarchy.h"

namespace meshsim::cli {

void registerGet(CLI::App& app) {
  auto* cmd = app.add_subcommand("get", "List resources of a kind in a state");
  cmd->footer("KIND may be \"all\". Exit status: 0 found, 1 nothing matched, 2 usage error.");
  auto state = std::make_shared<StateOptions>();
  auto kind = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>("table");
  cmd->add_option("kind", *kind, "Kind, e.g. ServiceRoute, or all")->required();
  cmd->add_option("name", *name, "Only the resource with this name");
  addStateOption(*cmd, *state);
  cmd->add_option("-o,--output", *output, "table, yaml or json")->check(CLI::IsMember({"table", "yaml", "json"}));
  cmd->callback([=] {
    if (*kind != "all" && model::findKind(*kind) == nullptr) {
      std::cerr << "meshsim get: unknown kind \"" << *kind << "\"\n";
      setExitCode(kExitUsage);
      return;
    }
    auto plane = openPlane(*state);
    if (!plane) return;
    auto snap = plane->snapshot();
    std::vector<const model::Resource*> hits;
    for (const auto& r : snap->resources) {
      const auto& m = model::metaOf(r);
      if ((*kind == "all" || m.kind == *kind) && (name->empty() || m.name == *name)) hits.push_back(&r);
    }
    if (*output == "yaml") {
      for (size_t i = 0; i < hits.size(); ++i) {
        std::cout << (i == 0 ? "" : "---\n") << model::metaOf(*hits[i]).document;
      }
    } else if (*output == "json") {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto* r : hits) {
        auto doc = config::yamlToJson(model::metaOf(*r).document);
        arr.push_back(doc.ok() ? nlohmann::json::parse(*doc) : nlohmann::json(nullptr));
      }
      std::cout << arr.dump(2) << "\n";
    } else {
      std::cout << std::left << std::setw(22) << "KIND" << std::setw(28) << "NAME" << "FQN\n";
      for (const auto* r : hits) {
        const auto& m = model::metaOf(*r);
        std::cout << std::setw(22) << m.kind << std::setw(28) << m.name << mgmt::fqnOf(*snap, *r) << "\n";
      }
    }
    setExitCode(hits.empty() ? kExitFinding : kExitOk);
  });
}

}  // namespace meshsim::cli
