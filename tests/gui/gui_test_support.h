#pragma once
// Shared by the meshsim-gui tests: one QApplication for the whole binary, on the offscreen
// platform, and small helpers for temporary configuration folders.
#include <gtest/gtest.h>

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QString>
#include <ostream>

/// Lets GoogleTest print QString values (found by argument-dependent lookup: QString is global).
inline void PrintTo(const QString& s, std::ostream* os) { *os << '"' << s.toStdString() << '"'; }

namespace meshsim::gui::testing {

/// The test binary's QApplication, created on first use (offscreen unless QT_QPA_PLATFORM says
/// otherwise). Never destroyed: it lives until the process exits.
inline QApplication* ensureApplication() {
  if (auto* existing = qobject_cast<QApplication*>(QCoreApplication::instance())) return existing;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static int argc = 1;
  static char name[] = "meshsim_gui_tests";
  static char* argv[] = {name, nullptr};
  static QApplication* app = new QApplication(argc, argv);
  return app;
}

/// Writes `text` to `path`, replacing it; fails the current test when it cannot.
inline void writeFile(const QString& path, const QByteArray& text) {
  QFile f(path);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly | QIODevice::Truncate)) << path.toStdString();
  ASSERT_EQ(f.write(text), text.size());
}

/// Writes `dir`/scenario.yaml: the bookinfo scenario folder `bookinfo`'s mesh, the tenant's
/// STRICTER mTLS setting, then zack's relaxation of mTLS, which that setting refuses (even to the
/// administrator), and one step. Its files cannot all be applied, so it cannot be played.
/// Returns the file's path.
inline QString writeRefusedScenario(const QDir& dir, const QString& bookinfo) {
  const QString path = dir.filePath("scenario.yaml");
  writeFile(path,
            QStringLiteral("apiVersion: meshsim/v1\nkind: Scenario\nmetadata: {name: t}\nspec:\n"
                           "  files: [%1/mesh, %1/changes/tenant-strict.yaml, "
                           "%1/changes/zack-relax-mtls.yaml]\n"
                           "  steps:\n  - note: never played\n")
                .arg(bookinfo)
                .toUtf8());
  return path;
}

/// A fixture whose tests have a QApplication.
class GuiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ensureApplication(); }
};

}  // namespace meshsim::gui::testing
