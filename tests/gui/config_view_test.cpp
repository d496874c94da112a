// The engine bridge (gui/app): loading a configuration into Qt value types, the summary line,
// source text extraction and the session's reload.
#include "app/config_view.h"

#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QTemporaryDir>

#include "app/config_session.h"
#include "app/source_text.h"
#include "gui_test_support.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;
using meshsim::gui::testing::writeFile;

QString bookinfo() {
  return QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"));
}

TEST(ConfigView, BookinfoLoadsEveryKindInKindOrder) {
  const ConfigView view = loadConfigView({bookinfo()});
  EXPECT_TRUE(view.diagnostics.isEmpty());
  EXPECT_TRUE(view.unreadable.isEmpty());
  EXPECT_EQ(view.files.size(), 8);
  EXPECT_EQ(view.resourceCount(), 33);
  EXPECT_EQ(view.errorCount(), 0);
  EXPECT_EQ(view.warningCount(), 0);

  // As `meshsim validate` reports it for the same folder.
  const std::vector<std::pair<QString, int>> expected = {
      {"AuthorizationPolicy", 1},
      {"Organization", 1},
      {"Cluster", 2},
      {"Tenant", 1},
      {"Workspace", 2},
      {"Group", 3},
      {"Service", 4},
      {"Workload", 7},
      {"User", 2},
      {"Team", 2},
      {"Role", 1},
      {"AccessBinding", 2},
      {"TenantSetting", 1},
      {"SecuritySetting", 2},
      {"ServiceRoute", 1},
      {"Scenario", 1},
  };
  ASSERT_EQ(view.kinds.size(), static_cast<qsizetype>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].first.toStdString());
    EXPECT_EQ(view.kinds[static_cast<qsizetype>(i)].kind, expected[i].first);
    EXPECT_EQ(view.kinds[static_cast<qsizetype>(i)].resources.size(), expected[i].second);
  }
}

TEST(ConfigView, ResourceMetadataAndSource) {
  const ConfigView view = loadConfigView({bookinfo()});
  const KindGroup& workloads = view.kinds[7];
  ASSERT_EQ(workloads.kind, "Workload");
  const ResourceInfo& details = workloads.resources[0];
  EXPECT_EQ(details.name, "details-v1");
  EXPECT_EQ(details.namespace_, "bookinfo");
  EXPECT_EQ(details.scope, "bookinfo");
  EXPECT_EQ(details.api_version, "meshsim/v1");
  EXPECT_EQ(details.key(), "Workload bookinfo/details-v1");
  EXPECT_EQ(details.source.file, bookinfo() + "/mesh/bookinfo.yaml");
  EXPECT_EQ(details.source.line, 44);
  EXPECT_EQ(details.source.column, 1);

  // A group-scoped kind: the scope is tenant/workspace/group.
  const KindGroup& routes = view.kinds[14];
  ASSERT_EQ(routes.kind, "ServiceRoute");
  EXPECT_EQ(routes.resources[0].scope, "retail/bookinfo/bookinfo-traffic");
  EXPECT_EQ(routes.resources[0].key(),
            "ServiceRoute retail/bookinfo/bookinfo-traffic/ratings-canary");
  // A cluster-wide kind has no scope.
  EXPECT_EQ(view.kinds[1].resources[0].key(), "Organization acme");
}

TEST(ConfigView, MalformedFileGivesTheExactDiagnostic) {
  const QString file =
      QString::fromStdString(meshsim::testing::testData("invalid/17-authz-bad-action.yaml"));
  const ConfigView view = loadConfigView({file});
  EXPECT_EQ(view.resourceCount(), 0);
  ASSERT_EQ(view.diagnostics.size(), 1);
  const DiagnosticInfo& d = view.diagnostics[0];
  EXPECT_EQ(d.severity, DiagnosticSeverity::kError);
  EXPECT_EQ(d.where.file, file);
  EXPECT_EQ(d.where.line, 6);
  EXPECT_EQ(d.where.column, 11);
  EXPECT_EQ(d.field, "spec.action");
  EXPECT_EQ(d.message,
            "unknown value \"ALOW\" (did you mean \"ALLOW\"?); expected one of ALLOW, DENY, AUDIT, "
            "CUSTOM");
  EXPECT_EQ(d.text, file +
                        ":6:11: error: spec.action: unknown value \"ALOW\" (did you mean "
                        "\"ALLOW\"?); expected one of ALLOW, DENY, AUDIT, CUSTOM");
  EXPECT_EQ(summaryText(view), "0 resources, 1 error, 0 warnings");
}

TEST(ConfigView, UnreadablePathIsReportedNotThrown) {
  const QString missing = bookinfo() + "/no-such-file.yaml";
  const ConfigView view = loadConfigView({missing});
  EXPECT_EQ(view.unreadable, QStringList{missing});
  EXPECT_EQ(view.resourceCount(), 0);
  ASSERT_EQ(view.errorCount(), 1);
  EXPECT_EQ(view.diagnostics[0].where.file, missing);
}

TEST(ConfigView, EmptyPathListLoadsNothing) {
  const ConfigView view = loadConfigView({});
  EXPECT_EQ(view.resourceCount(), 0);
  EXPECT_TRUE(view.kinds.isEmpty());
  EXPECT_TRUE(view.diagnostics.isEmpty());
  EXPECT_EQ(summaryText(view), "0 resources, 0 errors, 0 warnings");
}

TEST(ConfigView, SummaryUsesSingularForOne) {
  ConfigView view;
  view.kinds.append({"Tenant", {ResourceInfo{}}});
  view.diagnostics.append({DiagnosticSeverity::kWarning, {}, {}, "w", "w"});
  view.diagnostics.append({DiagnosticSeverity::kError, {}, {}, "e1", "e1"});
  view.diagnostics.append({DiagnosticSeverity::kError, {}, {}, "e2", "e2"});
  EXPECT_EQ(summaryText(view), "1 resource, 2 errors, 1 warning");
}

TEST(SourceRef, ToString) {
  struct Case {
    SourceRef ref;
    QString expected;
  };
  const std::vector<Case> cases = {
      {{"a.yaml", 3, 7}, "a.yaml:3:7"},
      {{"a.yaml", 3, 0}, "a.yaml:3"},
      {{"a.yaml", 0, 0}, "a.yaml"},
      {{"<stdin>", 1, 1}, "<stdin>:1:1"},
  };
  for (const auto& c : cases) EXPECT_EQ(c.ref.toString(), c.expected);
}

TEST(SourceText, DocumentLines) {
  const QStringList file = {
      "# comment",            // 1
      "apiVersion: v1",       // 2
      "kind: A",              // 3
      "",                     // 4
      "---",                  // 5
      "apiVersion: v1",       // 6
      "kind: B",              // 7
      "--- # next",           // 8
      "kind: C",              // 9
      "...",                  // 10
      "----not-a-marker: 1",  // 11
  };
  struct Case {
    int line;
    QStringList expected;
  };
  const std::vector<Case> cases = {
      {2, {"apiVersion: v1", "kind: A"}},  // trailing blank line dropped
      {6, {"apiVersion: v1", "kind: B"}},  // "--- # comment" is a marker
      {9, {"kind: C"}},                    // "..." ends a document too
      {11, {"----not-a-marker: 1"}},       // four dashes are content
      {0, {}},                             // unknown line
      {12, {}},                            // past the end
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    EXPECT_EQ(documentLines(file, c.line), c.expected);
  }
}

TEST(SourceText, ReadsFileLinesWithoutTerminators) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString path = dir.filePath("a.yaml");
  writeFile(path, "a: 1\r\nb: 2\n\nc: 3\n");
  const SourceText text = readSourceText(path);
  ASSERT_TRUE(text.ok()) << text.error.toStdString();
  EXPECT_EQ(text.lines, (QStringList{"a: 1", "b: 2", "", "c: 3"}));
}

TEST(SourceText, ErrorsNameTheFile) {
  const SourceText missing = readSourceText("/nonexistent/dir/x.yaml");
  EXPECT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error.startsWith("cannot read /nonexistent/dir/x.yaml: "))
      << missing.error.toStdString();
  EXPECT_TRUE(missing.lines.isEmpty());

  const SourceText stdin_text = readSourceText("<stdin>");
  EXPECT_FALSE(stdin_text.ok());
  EXPECT_EQ(stdin_text.error, "the text of <stdin> is not kept after loading");

  const SourceText unnamed = readSourceText("");
  EXPECT_EQ(unnamed.error, "the text of this input is not kept after loading");
}

class ConfigSessionTest : public GuiTest {};

TEST_F(ConfigSessionTest, ReloadWithoutPathsDoesNothing) {
  ConfigSession session;
  QSignalSpy spy(&session, &ConfigSession::loaded);
  session.reload();
  EXPECT_EQ(spy.count(), 0);
  EXPECT_TRUE(session.paths().isEmpty());
}

TEST_F(ConfigSessionTest, ReloadPicksUpEditsOnDisk) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString path = dir.filePath("tenants.yaml");
  writeFile(path, "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: retail}\n");

  ConfigSession session;
  QSignalSpy spy(&session, &ConfigSession::loaded);
  session.open({dir.path()});
  EXPECT_EQ(spy.count(), 1);
  EXPECT_EQ(session.paths(), QStringList{dir.path()});
  EXPECT_EQ(session.view().resourceCount(), 1);

  writeFile(path,
            "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: retail}\n---\n"
            "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: wholesale}\n");
  session.reload();
  EXPECT_EQ(spy.count(), 2);
  EXPECT_EQ(session.paths(), QStringList{dir.path()});
  ASSERT_EQ(session.view().kinds.size(), 1);
  ASSERT_EQ(session.view().kinds[0].resources.size(), 2);
  EXPECT_EQ(session.view().kinds[0].resources[1].name, "wholesale");
}

}  // namespace
}  // namespace meshsim::gui
