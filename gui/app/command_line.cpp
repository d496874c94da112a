#include "app/command_line.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <cstring>

namespace meshsim::gui {

ParsedCommandLine parseCommandLine(const QStringList& arguments) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "meshsim-gui: browse a meshsim configuration (resources by kind, their YAML, and every "
      "diagnostic of loading and validating it)."));
  const QCommandLineOption help_option = parser.addHelpOption();
  const QCommandLineOption version_option = parser.addVersionOption();
  const QCommandLineOption screenshot_option(
      QStringList{QStringLiteral("screenshot")},
      QStringLiteral("Load PATHs, render the main window (1280x800) to the PNG file OUT and exit."),
      QStringLiteral("OUT"));
  parser.addOption(screenshot_option);
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
