#include "app/command_line.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <cstring>

namespace meshsim::gui {

ParsedCommandLine parseCommandLine(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "meshsim-gui: the desktop view of a meshsim mesh: its topology with live traffic, blast "
      "radius, a YAML editor acting as a chosen user, the audit log, per-version metrics, a "
      "scenario player, and the configuration with every diagnostic."));
  const QCommandLineOption help_option = parser.addHelpOption();
  const QCommandLineOption version_option = parser.addVersionOption();
  const QCommandLineOption screenshot_option(
      QStringList{QStringLiteral("screenshot")},
      QStringLiteral("Load PATHs, render the main window (1400x900) to the PNG file OUT and exit."),
      QStringLiteral("OUT"));
  parser.addOption(screenshot_option);
  const QCommandLineOption after_step_option(
      QStringList{QStringLiteral("after-step")},
      QStringLiteral("Play the first N steps of the opened scenario first, with the engine's "
                     "scenario runner on the live mesh (traffic steps send real requests)."),
      QStringLiteral("N"));
  parser.addOption(after_step_option);
  const QCommandLineOption live_option(
      QStringList{QStringLiteral("live")},
      QStringLiteral("Start the live mesh before anything else (also for a plain configuration "
                     "or --after-step 0) and show its figures: edge rates, the measured split "
                     "and the metrics charts. With --compromise, also verify the blast radius "
                     "live."));
  parser.addOption(live_option);
  const QCommandLineOption compromise_option(
      QStringList{QStringLiteral("compromise")},
      QStringLiteral("Show the blast radius of workload NS/NAME on the topology."),
      QStringLiteral("NS/NAME"));
  parser.addOption(compromise_option);
  parser.addPositionalArgument(
      QStringLiteral("PATH"),
      QStringLiteral("Configuration files or directories (*.yaml, *.yml, searched recursively)."),
      QStringLiteral("[PATH...]"));

  ParsedCommandLine out;
  if (!parser.parse(arguments)) {
    out.exit_code = kExitUsage;
    out.message =
        QStringLiteral("meshsim-gui: %1\nTry 'meshsim-gui --help'.").arg(parser.errorText());
    return out;
  }
  // addHelpOption() also registers --help-all (Qt's own options too); both print our help.
  if (parser.isSet(help_option) || parser.isSet(QStringLiteral("help-all"))) {
    out.message = parser.helpText();
    return out;
  }
  if (parser.isSet(version_option)) {
    out.message = QStringLiteral("meshsim-gui %1").arg(QLatin1String(MESHSIM_VERSION));
    return out;
  }
  if (parser.isSet(screenshot_option)) {
    out.options.screenshot = parser.value(screenshot_option);
    if (out.options.screenshot.isEmpty()) {
      out.exit_code = kExitUsage;
      out.message = QStringLiteral("meshsim-gui: --screenshot needs a file name");
      return out;
    }
  }
  if (parser.isSet(after_step_option)) {
    bool ok = false;
    out.options.after_step = parser.value(after_step_option).toInt(&ok);
    if (!ok || out.options.after_step < 0) {
      out.exit_code = kExitUsage;
      out.message = QStringLiteral(
                        "meshsim-gui: --after-step needs a number of steps (0 or more), "
                        "not \"%1\"")
                        .arg(parser.value(after_step_option));
      return out;
    }
  }
  if (parser.isSet(compromise_option)) {
    out.options.compromise = parser.value(compromise_option);
    if (!out.options.compromise.contains(QLatin1Char('/'))) {
      out.exit_code = kExitUsage;
      out.message =
          QStringLiteral("meshsim-gui: --compromise needs a workload as NS/NAME, not \"%1\"")
              .arg(out.options.compromise);
      return out;
    }
  }
  out.options.live = parser.isSet(live_option);
  out.options.paths = parser.positionalArguments();
  out.run = true;
  return out;
}

bool runsWithoutDisplay(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--") == 0) return false;  // the rest are paths
    if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0 ||
        std::strcmp(a, "--help-all") == 0 || std::strcmp(a, "-?") == 0 ||
        std::strcmp(a, "--version") == 0 || std::strcmp(a, "-v") == 0 ||
        std::strcmp(a, "--screenshot") == 0 || std::strncmp(a, "--screenshot=", 13) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace meshsim::gui
