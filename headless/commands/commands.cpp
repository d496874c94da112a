#include "commands/commands.h"

namespace meshsim::cli {
namespace {
int g_exit_code = kExitOk;
}

void registerAll(CLI::App& app) {
  registerValidate(app);
  registerCheck(app);
  registerServe(app);
  registerBlastRadius(app);
  registerApply(app);
  registerDelete(app);
  registerGet(app);
  registerAudit(app);
  registerExplain(app);
  registerExport(app);
  registerTopology(app);
  registerRun(app);
}

int exitCode() { return g_exit_code; }
void setExitCode(int code) { g_exit_code = code; }

}  // namespace meshsim::cli
