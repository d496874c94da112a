// Composition root of `meshsim-gui`: parses the command line, gives the mesh session its data
// plane (proxy::LoopbackDataPlane: the only place gui/ names proxy/, ARCHITECTURE.md R4), opens
// the paths it names, and either shows the main window or renders it to a PNG (--screenshot,
// after --live, --after-step N scenario steps and --compromise) and exits.
#include <QApplication>
#include <QTextStream>
#include <cstdio>
#include <memory>

#include "app/command_line.h"
#include "app/config_session.h"
#include "app/data_plane_hookup.h"
#include "app/mesh_session.h"
#include "meshsim/proxy/loopback_data_plane.h"
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
  setDataPlaneFactory(*window.meshSession(), [](const meshsim::dataplane::DataPlaneOptions& o) {
    meshsim::proxy::LoopbackOptions options;
    options.threads = o.threads;
    options.ingress = o.ingress;
    options.ingress_port = o.ingress_port;
    return std::make_unique<meshsim::proxy::LoopbackDataPlane>(options);
  });
  if (!parsed.options.paths.isEmpty()) window.openPaths(parsed.options.paths);

  if (parsed.options.after_step > 0) {
    const int available = static_cast<int>(window.meshSession()->steps().size());
    if (parsed.options.after_step > available) {
      QTextStream(stderr) << "meshsim-gui: --after-step " << parsed.options.after_step
                          << ": the scenario has " << available << " steps" << Qt::endl;
      return kExitUsage;
    }
  }
  // A player's first step starts the scenario's own mesh; otherwise --live starts one here.
  if (parsed.options.live && parsed.options.after_step == 0 && !window.startMesh()) {
    QTextStream(stderr) << "meshsim-gui: --live: " << window.meshStatusText() << Qt::endl;
    return kExitFailure;
  }
  if (parsed.options.after_step > 0) {
    const int played = window.playSteps(parsed.options.after_step);
    if (played < parsed.options.after_step) {
      QTextStream(stderr) << "meshsim-gui: --after-step " << parsed.options.after_step
                          << ": stopped after " << played
                          << " steps: " << window.meshSession()->stepMessage() << Qt::endl;
      return kExitFailure;
    }
  }
  if (!parsed.options.compromise.isEmpty() && !window.compromise(parsed.options.compromise)) {
    QTextStream(stderr) << "meshsim-gui: --compromise: no workload " << parsed.options.compromise
                        << Qt::endl;
    return kExitUsage;
  }
  // On the live mesh the blast radius is also attacked for real (the panel's "Verify live").
  if (parsed.options.live && !parsed.options.compromise.isEmpty()) window.verifyLive();

  if (!parsed.options.screenshot.isEmpty()) {
    const QStringList& unreadable = window.session()->view().unreadable;
    if (!unreadable.isEmpty()) {
      QTextStream(stderr) << "meshsim-gui: cannot read " << unreadable.join(QStringLiteral(", "))
                          << Qt::endl;
      return kExitUsage;
    }
    window.waitForMesh();
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
