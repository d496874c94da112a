// Composition root of `meshsim`: registers every verb and dispatches to it.
#include <CLI/CLI.hpp>

#include "commands/commands.h"
#include "commands/common.h"
#include "meshsim/proxy/loopback_data_plane.h"

int main(int argc, char** argv) {
  CLI::App app{"meshsim: a zero-trust service-mesh testbed on loopback", "meshsim"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "meshsim 0.1.0");
  meshsim::cli::setDataPlaneFactory([](const meshsim::dataplane::DataPlaneOptions& o) {
    meshsim::proxy::LoopbackOptions options;
    options.threads = o.threads;
    options.ingress = o.ingress;
    options.ingress_port = o.ingress_port;
    if (!o.access_log) options.access_log_capacity = 0;
    return std::unique_ptr<meshsim::dataplane::DataPlane>(
        std::make_unique<meshsim::proxy::LoopbackDataPlane>(options));
  });
  meshsim::cli::registerAll(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 uses exit code 0 for --help; every real usage error maps to our documented 2.
    int rc = app.exit(e);
    return rc == 0 ? 0 : meshsim::cli::kExitUsage;
  }
  return meshsim::cli::exitCode();
}
