// `meshsim apply` and `meshsim delete`: changes to a management-plane state, as a named user.
#include <iostream>

#include "commands/commands.h"
#include "commands/common.h"
#include "commands/state_options.h"
#include "meshsim/config/loader.h"

namespace meshsim::cli {

std::unique_ptr<mgmt::ManagementPlane> openPlane(const StateOptions& opts) {
  auto plane = mgmt::ManagementPlane::open(opts.dir, mgmt::wallClockRfc3339);
  if (!plane.ok()) {
    std::cerr << "meshsim: cannot open state " << opts.dir << ": " << plane.status().toString() << "\n";
    setExitCode(kExitUsage);
    return nullptr;
  }
  return std::move(plane).value();
}

std::shared_ptr<const config::Snapshot> snapshotFromInputsOrState(const InputOptions& inputs,
                                                                  const StateOptions& state) {
  if (!inputs.paths.empty()) {
    auto loaded = loadInputs(inputs);
    if (int rc = requireValid(*loaded, std::cerr); rc != kExitOk) {
      setExitCode(rc);
      return nullptr;
    }
    return loaded->snapshot;
  }
  auto plane = openPlane(state);
  return plane ? plane->snapshot() : nullptr;
}

namespace {

void printOutcomes(const std::vector<mgmt::ChangeOutcome>& outcomes) {
  bool refused = false;
  for (const auto& o : outcomes) {
    if (o.accepted) {
      std::cout << o.kind << " " << o.resource << " " << o.result << " (audit #" << o.audit_seq << ")\n";
    } else {
      refused = true;
      std::cerr << "error: " << o.kind << " " << o.resource << ": " << statusCodeName(o.code) << ": "
                << o.message;
      if (o.audit_seq != 0) std::cerr << " (audit #" << o.audit_seq << ")";
      std::cerr << "\n";
    }
  }
  setExitCode(refused ? kExitFinding : kExitOk);
}

// Parses the inputs; references are checked later against the state they are applied to.
std::unique_ptr<config::LoadResult> loadOrFail(const InputOptions& inputs) {
  auto loaded = std::make_unique<config::LoadResult>(config::loadPaths(inputs.paths));
  loaded->diagnostics.sort();
  if (loaded->diagnostics.hasErrors()) {
    for (const auto& d : loaded->diagnostics.items()) std::cerr << d.toString() << "\n";
    std::cerr << "meshsim: nothing applied: fix the input first\n";
    setExitCode(kExitUsage);
    return nullptr;
  }
  return loaded;
}

}  // namespace

void registerApply(CLI::App& app) {
  auto* cmd = app.add_subcommand("apply", "Create or update resources in a state, as a named user");
  cmd->footer("Every attempted change is audited. Exit status: 0 all applied, 1 some change was "
              "refused (PermissionDenied, FailedPrecondition, InvalidArgument), 2 usage error or "
              "unreadable/malformed input (then nothing is applied).");
  auto inputs = std::make_shared<InputOptions>();
  auto state = std::make_shared<StateOptions>();
  auto user = std::make_shared<std::string>();
  addInputOptions(*cmd, *inputs);
  addStateOption(*cmd, *state);
  cmd->add_option("--as", *user, "The user making the change (\"admin\" is the built-in administrator)")
      ->required();
  cmd->callback([inputs, state, user] {
    auto loaded = loadOrFail(*inputs);
    if (!loaded) return;
    auto plane = openPlane(*state);
    if (!plane) return;
    printOutcomes(plane->apply(loaded->resources, *user));
  });
}

void registerDelete(CLI::App& app) {
  auto* cmd = app.add_subcommand("delete", "Delete resources from a state, as a named user");
  cmd->footer("Either -f FILE (deletes the resources it names) or KIND NAME with the scope options.\n"
              "Exit status: 0 deleted, 1 refused or not found, 2 usage error.");
  auto inputs = std::make_shared<InputOptions>();
  auto state = std::make_shared<StateOptions>();
  auto user = std::make_shared<std::string>();
  auto kind = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto ns = std::make_shared<std::string>();
  auto tenant = std::make_shared<std::string>();
  auto workspace = std::make_shared<std::string>();
  auto group = std::make_shared<std::string>();
  cmd->add_option("-f,--filename", inputs->paths, "Files naming the resources to delete");
  cmd->add_option("kind", *kind, "Kind of the resource, e.g. ServiceRoute");
  cmd->add_option("name", *name, "Name of the resource");
  cmd->add_option("-n,--namespace", *ns, "Namespace (namespaced kinds)");
  cmd->add_option("--tenant", *tenant, "Tenant (hierarchy kinds)");
  cmd->add_option("--workspace", *workspace, "Workspace (hierarchy kinds)");
  cmd->add_option("--group", *group, "Group (group kinds)");
  addStateOption(*cmd, *state);
  cmd->add_option("--as", *user, "The user making the change")->required();
  cmd->callback([=] {
    std::vector<model::ResourceKey> keys;
    if (!inputs->paths.empty()) {
      auto loaded = loadOrFail(*inputs);
      if (!loaded) return;
      for (const auto& r : loaded->resources) keys.push_back(model::keyOf(r));
    } else {
      const model::KindInfo* info = model::findKind(*kind);
      if (info == nullptr || name->empty()) {
        std::cerr << "meshsim delete: give -f FILE, or a known KIND and a NAME\n";
        setExitCode(kExitUsage);
        return;
      }
      using S = model::KindInfo::Scope;
      std::string scope;
      switch (info->scope) {
        case S::kNamespaced: scope = ns->empty() ? "default" : *ns; break;
        case S::kCluster: break;
        case S::kTenant: scope = *tenant; break;
        case S::kWorkspace: scope = *tenant + "/" + *workspace; break;
        case S::kGroup: scope = *tenant + "/" + *workspace + "/" + *group; break;
      }
      keys.push_back({*kind, scope, *name});
    }
    auto plane = openPlane(*state);
    if (!plane) return;
    printOutcomes(plane->remove(keys, *user));
  });
}

}  // namespace meshsim::cli
