#pragma once
/// The command line of meshsim-gui:
/// `meshsim-gui [--screenshot OUT.png] [--after-step N] [--live] [--compromise NS/WORKLOAD]
/// [PATH...]`.

#include <QString>
#include <QStringList>

namespace meshsim::gui {

/// Exit codes of meshsim-gui, shared with the meshsim CLI where they overlap.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< e.g. the screenshot could not be written
inline constexpr int kExitUsage = 2;    ///< bad arguments or unreadable paths

/// What the user asked for.
struct CommandLine {
  QStringList paths;   ///< files and directories to open
  QString screenshot;  ///< when set: render the window to this PNG and exit
  int after_step = 0;  ///< play this many scenario steps first
  bool live = false;   ///< start the live mesh first (traffic steps then fill the charts)
  QString compromise;  ///< when set: show this workload's blast radius ("ns/name")
};

/// The outcome of parsing: either options to run with, or an exit code with a message
/// (help and version text go to standard output with exit 0, errors to standard error).
struct ParsedCommandLine {
  bool run = false;  ///< true when `options` is valid and the program should continue
  CommandLine options;
  int exit_code = kExitOk;
  QString message;
};

/// Parses `arguments` (including the program name, as QCoreApplication::arguments() returns it).
/// Handles --help and --version. Never exits the process and never throws.
ParsedCommandLine parseCommandLine(const QStringList& arguments);

/// True when argv asks for something that needs no display (--screenshot, --help, --help-all,
/// --version), so that main() can pick the offscreen platform before the application object is
/// created.
bool runsWithoutDisplay(int argc, const char* const* argv);

}  // namespace meshsim::gui
