#pragma once
// Registration of the CLI verbs. Each verb lives in its own file and sets the exit code.
#include <CLI/CLI.hpp>

namespace meshsim::cli {

/// Documented exit codes (PRODUCT.md section 5, kubectl conventions).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFinding = 1;  ///< invalid configuration, refused request, failed check
inline constexpr int kExitUsage = 2;    ///< bad command line or unreadable input

/// Adds every verb to `app`.
void registerAll(CLI::App& app);

/// The exit code chosen by the verb that ran.
int exitCode();
void setExitCode(int code);

/// Registration hooks, one per verb file.
void registerValidate(CLI::App& app);
void registerApply(CLI::App& app);
void registerDelete(CLI::App& app);
void registerGet(CLI::App& app);
void registerAudit(CLI::App& app);
void registerExplain(CLI::App& app);
void registerExport(CLI::App& app);
void registerCheck(CLI::App& app);
void registerServe(CLI::App& app);
void registerBlastRadius(CLI::App& app);  ///< blast-radius and suggest-authz
void registerTopology(CLI::App& app);
void registerRun(CLI::App& app);  ///< run SCENARIO... (reports: JUnit, JSON, HTML)

}  // namespace meshsim::cli
