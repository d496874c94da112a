// The main window in-process: loading, selection, details, diagnostics double-click, filter,
// reload and the screenshot rendering path.
#include "panels/main_window.h"

#include <gtest/gtest.h>

#include <QAction>
#include <QHeaderView>
#include <QImage>
#include <QLineEdit>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTreeView>

#include "app/config_session.h"
#include "gui_test_support.h"
#include "models/diagnostics_model.h"
#include "models/resource_tree_model.h"
#include "panels/code_view.h"
#include "panels/details_panel.h"
#include "panels/diagnostics_view.h"
#include "panels/resource_tree_view.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;
using meshsim::gui::testing::writeFile;

QString bookinfo() {
  return QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"));
}
QString badAction() {
  return QString::fromStdString(meshsim::testing::testData("invalid/17-authz-bad-action.yaml"));
}

int distinctColours(const QImage& image) {
  QSet<QRgb> colours;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) colours.insert(image.pixel(x, y));
  }
  return static_cast<int>(colours.size());
}

// Selects the resource with `key` in the window's tree, as a user would by clicking it.
void select(MainWindow& window, const QString& key) {
  QTreeView* tree = window.resourceTree();
  const auto* proxy = tree->model();
  for (int k = 0; k < proxy->rowCount(); ++k) {
    const QModelIndex kind = proxy->index(k, 0);
    for (int r = 0; r < proxy->rowCount(kind); ++r) {
      const QModelIndex index = proxy->index(r, 0, kind);
      if (index.data(ResourceTreeModel::kKeyRole).toString() == key) {
        tree->setCurrentIndex(index);
        return;
      }
    }
  }
  ADD_FAILURE() << "no resource " << key.toStdString();
}

class MainWindowTest : public GuiTest {};

TEST_F(MainWindowTest, StartsEmptyWithAHint) {
  MainWindow window;
  EXPECT_EQ(window.statusText(), "0 resources, 0 errors, 0 warnings");
  EXPECT_EQ(window.detailsPanel()->title(), "No configuration loaded");
  EXPECT_FALSE(window.reloadAction()->isEnabled());
  EXPECT_EQ(window.diagnosticsView()->placeholderText(), "Nothing loaded.");
  EXPECT_EQ(window.resourceTree()->placeholderText(), "Nothing loaded.");
  EXPECT_EQ(window.reloadAction()->shortcut(), QKeySequence(Qt::Key_F5));
}

TEST_F(MainWindowTest, LoadsBookinfoAndShowsTheFirstResource) {
  MainWindow window;
  window.openPaths({bookinfo()});
  EXPECT_EQ(window.statusText(), "33 resources, 0 errors, 0 warnings");
  EXPECT_TRUE(window.reloadAction()->isEnabled());
  EXPECT_EQ(window.diagnosticsModel()->rowCount(), 0);
  EXPECT_EQ(window.diagnosticsView()->placeholderText(), "No problems found in 8 files.");
  EXPECT_EQ(window.resourceTree()->model()->rowCount(), 16);

  // The first resource in kind order is selected and shown.
  DetailsPanel* details = window.detailsPanel();
  EXPECT_EQ(details->title(), "AuthorizationPolicy bookinfo/ratings-viewer");
  EXPECT_EQ(details->fieldValue("Source"), bookinfo() + "/mesh/bookinfo.yaml:105:1");
  EXPECT_EQ(details->codeView()->firstLineNumber(), 105);
  const QStringList lines = details->codeView()->toPlainText().split('\n');
  ASSERT_EQ(lines.size(), 9);  // lines 105-113, the end of the file
  EXPECT_EQ(lines.first(), "apiVersion: security.istio.io/v1");
  EXPECT_EQ(lines.last(), "    to: [{operation: {methods: [\"GET\"], paths: [\"/ratings/*\"]}}]");
}

TEST_F(MainWindowTest, SelectingAWorkloadShowsItsMetadataAndDocument) {
  MainWindow window;
  window.openPaths({bookinfo()});
  select(window, "Workload bookinfo/details-v1");
  DetailsPanel* details = window.detailsPanel();
  EXPECT_EQ(details->title(), "Workload bookinfo/details-v1");
  EXPECT_EQ(details->fieldValue("API version"), "meshsim/v1");
  EXPECT_EQ(details->fieldValue("Namespace"), "bookinfo");
  EXPECT_EQ(details->fieldValue("Tenant"), "");  // hidden: not set
  EXPECT_EQ(details->fieldValue("Source"), bookinfo() + "/mesh/bookinfo.yaml:44:1");
  EXPECT_EQ(details->codeView()->firstLineNumber(), 44);
  EXPECT_EQ(details->codeView()->toPlainText(),
            "apiVersion: meshsim/v1\n"
            "kind: Workload\n"
            "metadata: {namespace: bookinfo, name: details-v1}\n"
            "spec:\n"
            "  service: details\n"
            "  serviceAccount: bookinfo-details\n"
            "  cluster: gke-us-east\n"
            "  replicas: 1\n"
            "  labels: {app: details, version: v1}");

  select(window, "Group retail/bookinfo/bookinfo-sec");
  EXPECT_EQ(details->fieldValue("Tenant"), "retail");
  EXPECT_EQ(details->fieldValue("Workspace"), "bookinfo");
  EXPECT_EQ(details->fieldValue("Namespace"), "");
}

TEST_F(MainWindowTest, SelectingAKindShowsItsCount) {
  MainWindow window;
  window.openPaths({bookinfo()});
  QTreeView* tree = window.resourceTree();
  for (int k = 0; k < tree->model()->rowCount(); ++k) {
    const QModelIndex kind = tree->model()->index(k, 0);
    if (kind.data().toString() == "Workload") tree->setCurrentIndex(kind);
  }
  EXPECT_EQ(window.detailsPanel()->title(), "Workload");
  EXPECT_EQ(window.detailsPanel()->codeView()->placeholderText(),
            "7 resources of kind Workload. Select one to see its metadata and YAML.");
  EXPECT_TRUE(window.detailsPanel()->codeView()->toPlainText().isEmpty());
}

TEST_F(MainWindowTest, DoubleClickingADiagnosticShowsTheFileAtItsLine) {
  // A good resource next to the bad file, so that the tree has a selection to give up.
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  writeFile(dir.filePath("tenant.yaml"),
            "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: retail}\n");
  MainWindow window;
  window.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&window));
  window.openPaths({dir.filePath("tenant.yaml"), badAction()});
  EXPECT_EQ(window.statusText(), "1 resource, 1 error, 0 warnings");
  EXPECT_TRUE(window.resourceTree()->currentIndex().isValid());

  DiagnosticsView* view = window.diagnosticsView();
  ASSERT_EQ(view->model()->rowCount(), 1);
  const QRect cell = view->visualRect(view->model()->index(0, DiagnosticsModel::kMessageColumn));
  ASSERT_FALSE(cell.isEmpty());
  QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, cell.center());
  QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, cell.center());

  DetailsPanel* details = window.detailsPanel();
  EXPECT_EQ(details->title(), "Error at 17-authz-bad-action.yaml:6:11");
  EXPECT_EQ(details->fieldValue("Location"), badAction() + ":6:11");
  EXPECT_EQ(details->fieldValue("Field"), "spec.action");
  EXPECT_EQ(details->fieldValue("Message"),
            "unknown value \"ALOW\" (did you mean \"ALLOW\"?); expected one of ALLOW, DENY, AUDIT, "
            "CUSTOM");
  CodeView* code = details->codeView();
  EXPECT_EQ(code->firstLineNumber(), 1);
  EXPECT_EQ(code->blockCount(), 6);  // the whole file
  EXPECT_EQ(code->markedLine(), 6);
  EXPECT_EQ(code->cursorLineNumber(), 6);
  EXPECT_EQ(code->textCursor().positionInBlock(), 10);  // column 11
  EXPECT_EQ(code->textCursor().block().text(), "  action: ALOW");
  EXPECT_FALSE(window.resourceTree()->currentIndex().isValid());

  // A resource click afterwards shows that resource again.
  select(window, "Tenant retail");
  EXPECT_EQ(details->title(), "Tenant retail");
}

TEST_F(MainWindowTest, OnlyErrorsShowsTheFirstDiagnostic) {
  MainWindow window;
  window.openPaths({badAction()});
  EXPECT_EQ(window.statusText(), "0 resources, 1 error, 0 warnings");
  EXPECT_EQ(window.detailsPanel()->title(), "Error at 17-authz-bad-action.yaml:6:11");
  EXPECT_EQ(window.detailsPanel()->codeView()->markedLine(), 6);
  EXPECT_EQ(window.diagnosticsView()->currentIndex().row(), 0);
}

TEST_F(MainWindowTest, UnreadablePathIsADiagnosticWithoutText) {
  MainWindow window;
  const QString missing = bookinfo() + "/absent.yaml";
  window.openPaths({missing});
  EXPECT_EQ(window.statusText(), "0 resources, 1 error, 0 warnings");
  EXPECT_EQ(window.session()->view().unreadable, QStringList{missing});
  CodeView* code = window.detailsPanel()->codeView();
  EXPECT_TRUE(code->toPlainText().isEmpty());
  EXPECT_TRUE(code->placeholderText().startsWith("cannot read " + missing + ": "))
      << code->placeholderText().toStdString();
}

TEST_F(MainWindowTest, FolderWithoutResourcesSaysSo) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  MainWindow window;
  window.openPaths({dir.path()});
  EXPECT_EQ(window.statusText(), "0 resources, 0 errors, 0 warnings");
  EXPECT_EQ(window.detailsPanel()->title(), "No resources");
  EXPECT_EQ(window.diagnosticsView()->placeholderText(), "No problems found in 0 files.");
  EXPECT_EQ(window.resourceTree()->placeholderText(), "No resources.");
}

TEST_F(MainWindowTest, FilterKeepsMatchingResourcesAndTheirKinds) {
  MainWindow window;
  window.openPaths({bookinfo()});
  window.filterEdit()->setText("REVIEWS");  // case-insensitive
  const auto* tree = window.resourceTree()->model();
  ASSERT_EQ(tree->rowCount(), 2);
  EXPECT_EQ(tree->index(0, 0).data().toString(), "Service");
  EXPECT_EQ(tree->rowCount(tree->index(0, 0)), 1);
  EXPECT_EQ(tree->index(1, 0).data().toString(), "Workload");
  EXPECT_EQ(tree->rowCount(tree->index(1, 0)), 3);
  EXPECT_TRUE(window.resourceTree()->isExpanded(tree->index(1, 0)));
  window.filterEdit()->clear();
  EXPECT_EQ(tree->rowCount(), 16);
}

TEST_F(MainWindowTest, ReloadKeepsTheSelectionAndPicksUpEdits) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString path = dir.filePath("tenants.yaml");
  writeFile(path,
            "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: a}\n---\n"
            "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: b}\n");
  MainWindow window;
  window.openPaths({dir.path()});
  select(window, "Tenant b");
  EXPECT_EQ(window.detailsPanel()->codeView()->firstLineNumber(), 5);

  // A new document above moves b down; reload follows it.
  writeFile(path,
            "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: a}\n---\n"
            "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: a2}\n---\n"
            "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: b}\nspec: {displayName: B}\n");
  window.reloadAction()->trigger();
  EXPECT_EQ(window.statusText(), "3 resources, 0 errors, 0 warnings");
  EXPECT_EQ(window.detailsPanel()->title(), "Tenant b");
  EXPECT_EQ(window.detailsPanel()->codeView()->firstLineNumber(), 9);
  EXPECT_TRUE(window.detailsPanel()->codeView()->toPlainText().endsWith("spec: {displayName: B}"));

  // When the selected resource is gone, the first one is selected.
  writeFile(path, "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: z}\n");
  window.reload();
  EXPECT_EQ(window.detailsPanel()->title(), "Tenant z");
}

TEST_F(MainWindowTest, ScreenshotIsFullSizeAndNotBlank) {
  MainWindow window;
  window.openPaths({bookinfo()});
  const QImage image = window.renderScreenshot();
  EXPECT_EQ(image.size(), kScreenshotSize);
  EXPECT_GT(distinctColours(image), 50);
}

TEST_F(MainWindowTest, ScreenshotToAnUnwritablePathFails) {
  MainWindow window;
  QString error;
  EXPECT_FALSE(window.saveScreenshot("/nonexistent-dir/shot.png", &error));
  EXPECT_TRUE(error.startsWith("cannot write /nonexistent-dir/shot.png: ")) << error.toStdString();
  EXPECT_FALSE(window.saveScreenshot("/nonexistent-dir/shot.png", nullptr));
}

TEST_F(MainWindowTest, ScreenshotIsWrittenAsPng) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  MainWindow window;
  window.openPaths({bookinfo()});
  const QString out = dir.filePath("shot.png");
  QString error;
  ASSERT_TRUE(window.saveScreenshot(out, &error)) << error.toStdString();
  QImage image;
  ASSERT_TRUE(image.load(out, "PNG"));
  EXPECT_EQ(image.size(), kScreenshotSize);
}

}  // namespace
}  // namespace meshsim::gui
