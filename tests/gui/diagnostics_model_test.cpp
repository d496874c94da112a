// DiagnosticsModel: checked by QAbstractItemModelTester (fatal on any violation) and by the
// exact diagnostic it shows for a malformed file.
#include "models/diagnostics_model.h"

#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QBrush>

#include "app/config_view.h"
#include "gui_test_support.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;
using Tester = QAbstractItemModelTester;

QString testData(const char* rel) {
  return QString::fromStdString(meshsim::testing::testData(rel));
}

class DiagnosticsModelTest : public GuiTest {};

TEST_F(DiagnosticsModelTest, PassesModelTesterThroughLoadAndReset) {
  DiagnosticsModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  EXPECT_EQ(model.rowCount(), 0);
  EXPECT_EQ(model.columnCount(), 4);
  model.setDiagnostics(loadConfigView({testData("invalid/17-authz-bad-action.yaml")}).diagnostics);
  EXPECT_EQ(model.rowCount(), 1);
  model.setDiagnostics(
      loadConfigView({QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"))})
          .diagnostics);
  EXPECT_EQ(model.rowCount(), 0);
}

TEST_F(DiagnosticsModelTest, ShowsTheExactErrorForAMalformedFile) {
  // The file's first line: 17-authz-bad-action.yaml:6:11: error: spec.action: unknown value
  // "ALOW" (did you mean "ALLOW"?); expected one of ALLOW, DENY, AUDIT, CUSTOM
  const QString file = testData("invalid/17-authz-bad-action.yaml");
  DiagnosticsModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  model.setDiagnostics(loadConfigView({file}).diagnostics);
  ASSERT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.index(0, DiagnosticsModel::kSeverityColumn).data().toString(), "error");
  EXPECT_EQ(model.index(0, DiagnosticsModel::kLocationColumn).data().toString(), file + ":6:11");
  EXPECT_EQ(model.index(0, DiagnosticsModel::kFieldColumn).data().toString(), "spec.action");
  EXPECT_EQ(model.index(0, DiagnosticsModel::kMessageColumn).data().toString(),
            "unknown value \"ALOW\" (did you mean \"ALLOW\"?); expected one of ALLOW, DENY, AUDIT, "
            "CUSTOM");
  EXPECT_EQ(model.index(0, DiagnosticsModel::kMessageColumn).data(Qt::ToolTipRole).toString(),
            file +
                ":6:11: error: spec.action: unknown value \"ALOW\" (did you mean \"ALLOW\"?); "
                "expected one of ALLOW, DENY, AUDIT, CUSTOM");
  EXPECT_EQ(model.index(0, 0).data(DiagnosticsModel::kFileRole).toString(), file);
  EXPECT_EQ(model.index(0, 0).data(DiagnosticsModel::kLineRole).toInt(), 6);
  EXPECT_EQ(model.index(0, 0).data(DiagnosticsModel::kColumnRole).toInt(), 11);
  EXPECT_EQ(model.index(0, 0).data(DiagnosticsModel::kSeverityRole).toInt(),
            static_cast<int>(DiagnosticSeverity::kError));
  EXPECT_TRUE(model.index(0, DiagnosticsModel::kSeverityColumn).data(Qt::ForegroundRole).isValid());
  EXPECT_FALSE(model.index(0, DiagnosticsModel::kMessageColumn).data(Qt::ForegroundRole).isValid());
  ASSERT_NE(model.diagnosticAt(model.index(0, 3)), nullptr);
  EXPECT_EQ(model.diagnosticAt(model.index(0, 3))->field, "spec.action");
}

TEST_F(DiagnosticsModelTest, ErrorsAndWarningsInEngineOrder) {
  // Rows keep the order they are given in (the engine sorts by file, line, column).
  const QList<DiagnosticInfo> diagnostics = {
      {DiagnosticSeverity::kError, {"a.yaml", 3, 5}, "spec.x", "bad x", "a.yaml:3:5: error: ..."},
      {DiagnosticSeverity::kWarning, {"b.yaml", 0, 0}, "", "odd file", "b.yaml: warning: ..."},
  };
  DiagnosticsModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  model.setDiagnostics(diagnostics);
  ASSERT_EQ(model.rowCount(), 2);
  EXPECT_EQ(model.index(0, 0).data().toString(), "error");
  EXPECT_EQ(model.index(0, 1).data().toString(), "a.yaml:3:5");
  EXPECT_EQ(model.index(1, 0).data().toString(), "warning");
  EXPECT_EQ(model.index(1, 1).data().toString(), "b.yaml");
  EXPECT_EQ(model.index(1, 2).data().toString(), "");
  EXPECT_EQ(model.index(1, 0).data(DiagnosticsModel::kSeverityRole).toInt(),
            static_cast<int>(DiagnosticSeverity::kWarning));
  EXPECT_NE(model.index(0, 0).data(Qt::ForegroundRole).value<QBrush>().color(),
            model.index(1, 0).data(Qt::ForegroundRole).value<QBrush>().color());
}

TEST_F(DiagnosticsModelTest, HeadersAndInvalidIndexes) {
  DiagnosticsModel model;
  EXPECT_EQ(model.headerData(0, Qt::Horizontal).toString(), "Severity");
  EXPECT_EQ(model.headerData(1, Qt::Horizontal).toString(), "Location");
  EXPECT_EQ(model.headerData(2, Qt::Horizontal).toString(), "Field");
  EXPECT_EQ(model.headerData(3, Qt::Horizontal).toString(), "Message");
  EXPECT_FALSE(model.headerData(4, Qt::Horizontal).isValid());
  EXPECT_EQ(model.headerData(0, Qt::Vertical).toInt(), 1);
  EXPECT_EQ(model.diagnosticAt({}), nullptr);
  EXPECT_FALSE(model.index(0, 0).isValid());
}

}  // namespace
}  // namespace meshsim::gui
