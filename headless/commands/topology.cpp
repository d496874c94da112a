// `meshsim topology`: the mesh as a picture: clusters, tenants, workspaces and namespaces as
// boxes, workloads as nodes, calls as edges with their split, mutual TLS and refusals.
#include <fstream>
#include <iostream>

#include "commands/commands.h"
#include "commands/common.h"
#include "meshsim/analysis/topology.h"
#include "meshsim/mgmt/translate.h"
#include "report/graphviz.h"

namespace meshsim::cli {

void registerTopology(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "topology", "Draw the mesh: nested clusters/tenants/workspaces/namespaces, calls, mTLS, refusals");
  cmd->footer(
      "Edges are decided exactly as `meshsim check` decides the call: red dashed edges are refused\n"
      "(the tooltip names the deciding policy), a padlock marks mutual TLS.\n"
      "Exit status: 0 written, 2 bad input.");
  auto inputs = std::make_shared<InputOptions>();
  addInputOptions(*cmd, *inputs);
  struct Opts {
    std::string output = "dot";
    std::string out_file;
    bool outside = false;
    std::vector<std::string> entries;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("-o,--output", o->output, "dot (default), svg or json")
      ->check(CLI::IsMember({"dot", "svg", "json"}));
  cmd->add_option("--out", o->out_file, "Write to FILE instead of standard output");
  cmd->add_flag("--outside", o->outside, "Add the outside client and its calls to the entry services");
  cmd->add_option("--entry", o->entries,
                  "NS/SERVICE the outside client calls (repeatable; default: services nothing calls)");
  cmd->callback([inputs, o] {
    auto loaded = loadInputs(*inputs);
    if (int rc = requireValid(*loaded, std::cerr); rc != kExitOk) {
      setExitCode(kExitUsage);
      return;
    }
    // The picture shows what the data plane does: Istio objects plus the ones translated from
    // BRIDGED settings and ServiceRoutes, as `meshsim check` sees them.
    auto snapshot = mgmt::withTranslation(*loaded->snapshot);
    analysis::TopologyOptions options;
    options.include_outside = o->outside || !o->entries.empty();
    options.entry_services = o->entries;
    auto topology = analysis::buildTopology(snapshot, options);
    if (!topology.ok()) {
      std::cerr << "meshsim topology: " << topology.status().toString() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    std::string text;
    if (o->output == "json") {
      text = analysis::toJson(*topology);
    } else if (o->output == "svg") {
      auto svg = report::renderSvg(analysis::toDot(*topology));
      if (!svg.ok()) {
        std::cerr << "meshsim topology: " << svg.status().toString() << "\n";
        setExitCode(kExitUsage);
        return;
      }
      text = *svg;
    } else {
      text = analysis::toDot(*topology);
    }
    if (!text.empty() && text.back() != '\n') text += '\n';
    if (o->out_file.empty()) {
      std::cout << text;
    } else {
      std::ofstream out(o->out_file, std::ios::binary);
      out << text;
      out.close();
      if (!out) {
        std::cerr << "meshsim topology: cannot write " << o->out_file << "\n";
        setExitCode(kExitUsage);
        return;
      }
    }
    setExitCode(kExitOk);
  });
}

}  // namespace meshsim::cli
