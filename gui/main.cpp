// Composition root of `meshsim-gui`: parses the command line, opens the paths it names, and
// either shows the main window or renders it to a PNG (--screenshot) and exits.
#include <QApplication>
#include <QTextStream>
#include <cstdio>

#include "app/command_line.h"
#include "app/config_session.h"
#include "panels/main_window.h"

int main(int argc, char** argv) {
  using namespace meshsim::gui;
  // --screenshot, --help and --version need no display: pick the offscreen platform unless the
  // user chose one, so that they work over SSH and in CI.
  if (runsWithoutDisplay(argc, argv) && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
  }
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("meshsim-gui"));
  QApplication::setApplicationVersion(QStringLiteral(MESHSIM_VERSION));

  const ParsedCommandLine parsed = parseCommandLine(QApplication::arguments());
  if (!parsed.run) {
    QTextStream(parsed.exit_code == kExitOk ? stdout : stderr) << parsed.message << Qt::endl;
    return parsed.exit_code;
  }

  MainWindow window;
  if (!parsed.options.paths.isEmpty()) window.openPaths(parsed.options.paths);

  if (!parsed.options.screenshot.isEmpty()) {
    const QStringList& unreadable = window.session()->view().unreadable;
    if (!unreadable.isEmpty()) {
      QTextStream(stderr) << "meshsim-gui: cannot read " << unreadable.join(QStringLiteral(", "))
                          << Qt::endl;
      return kExitUsage;
    }
    QString error;
    if (!window.saveScreenshot(parsed.options.screenshot, &error)) {
      QTextStream(stderr) << "meshsim-gui: " << error << Qt::endl;
      return kExitFailure;
    }
    return kExitOk;
  }

  window.show();
  return QApplication::exec();
}
