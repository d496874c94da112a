// The topology scene: items by id mirror the TopologyView, live figures update labels without
// a new layout, refused edges are red (sampled from a rendering), collapse, search and the blast
// overlay; and the editor in the main window (screenshot_test.cpp shows bookinfo after scenario
// steps on the live mesh).
#include "graph/topology_scene.h"

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QGraphicsItem>
#include <QImage>
#include <QPainter>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextBrowser>

#include "app/mesh_session.h"
#include "gui_test_support.h"
#include "panels/editor_panel.h"
#include "panels/main_window.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;

TopologyView smallTopology() {
  TopologyView t;
  t.groups = {{"cluster/c1", "cluster", "c1", ""},
              {"cluster/c1/ns/shop", "namespace", "shop", "cluster/c1"}};
  NodeView web{"shop/web-v1", "workload",           "web-v1", "shop", "shop/web",
               "v1",          "cluster/c1/ns/shop", 1,        true};
  NodeView db{"shop/db-v1", "workload",           "db-v1", "shop", "shop/db",
              "v1",         "cluster/c1/ns/shop", 1,       true};
  NodeView cart{"shop/cart-v1", "workload",           "cart-v1", "shop", "shop/cart",
                "v1",           "cluster/c1/ns/shop", 1,         true};
  t.nodes = {web, db, cart};
  EdgeView ok;
  ok.from = "shop/web-v1";
  ok.to = "shop/cart-v1";
  ok.service = "shop/cart";
  ok.share = 1;
  ok.allowed = true;
  ok.mtls = true;
  EdgeView refused;
  refused.from = "shop/web-v1";
  refused.to = "shop/db-v1";
  refused.service = "shop/db";
  refused.share = 1;
  refused.allowed = false;
  refused.status = 403;
  refused.policy = "shop/db-deny";
  refused.reason = "DENY policy shop/db-deny rule 0 matched";
  t.edges = {ok, refused};
  return t;
}

QImage render(QGraphicsScene& scene) {
  QImage image(scene.sceneRect().size().toSize(), QImage::Format_ARGB32);
  image.fill(Qt::white);
  QPainter painter(&image);
  scene.render(&painter, QRectF(), scene.sceneRect());
  return image;
}

// Counts pixels near `colour` within `rect` (scene coordinates) of a rendering.
int pixelsLike(const QImage& image, const QGraphicsScene& scene, const QRectF& rect, QRgb colour) {
  const QPointF origin = scene.sceneRect().topLeft();
  int n = 0;
  const QColor want(colour);
  for (int y = int(rect.top() - origin.y()); y < int(rect.bottom() - origin.y()); ++y) {
    for (int x = int(rect.left() - origin.x()); x < int(rect.right() - origin.x()); ++x) {
      if (!image.valid(x, y)) continue;
      const QColor got(image.pixel(x, y));
      if (std::abs(got.red() - want.red()) < 30 && std::abs(got.green() - want.green()) < 30 &&
          std::abs(got.blue() - want.blue()) < 30) {
        ++n;
      }
    }
  }
  return n;
}

class TopologySceneTest : public GuiTest {};

TEST_F(TopologySceneTest, ItemsMirrorTheTopologyById) {
  TopologyScene scene;
  scene.setTopology(smallTopology());
  ASSERT_EQ(scene.layoutError(), "");
  EXPECT_EQ(scene.nodeIds().size(), 3);
  for (const char* id : {"shop/web-v1", "shop/db-v1", "shop/cart-v1"}) {
    QGraphicsItem* item = scene.nodeItem(id);
    ASSERT_NE(item, nullptr) << id;
    EXPECT_EQ(item->data(kItemIdData).toString(), id);
    EXPECT_EQ(item->data(kItemKindData).toString(), "node");
  }
  ASSERT_NE(scene.groupItem("cluster/c1/ns/shop"), nullptr);
  EXPECT_TRUE(scene.groupItem("cluster/c1/ns/shop")
                  ->boundingRect()
                  .contains(scene.nodeItem("shop/web-v1")->boundingRect()));
  QGraphicsItem* refused = scene.edgeItem("shop/web-v1 -> shop/db-v1");
  ASSERT_NE(refused, nullptr);
  EXPECT_TRUE(refused->toolTip().startsWith("REFUSED by shop/db-deny\n"));
  EXPECT_EQ(scene.edgeLabel("shop/web-v1 -> shop/db-v1"), "403");
  EXPECT_EQ(scene.edgeLabel("shop/web-v1 -> shop/cart-v1"), "");  // 100%, padlock only
}

TEST_F(TopologySceneTest, RefusedEdgesAreRedInTheRendering) {
  TopologyScene scene;
  scene.setTopology(smallTopology());
  const QImage image = render(scene);
  const QRectF refused = scene.edgeItem("shop/web-v1 -> shop/db-v1")->sceneBoundingRect();
  const QRectF allowed = scene.edgeItem("shop/web-v1 -> shop/cart-v1")->sceneBoundingRect();
  EXPECT_GT(pixelsLike(image, scene, refused, kRefusedEdgeColour), 20);
  EXPECT_EQ(pixelsLike(image, scene, allowed, kRefusedEdgeColour), 0);
  EXPECT_GT(pixelsLike(image, scene, allowed, kAllowedEdgeColour), 20);
}

TEST_F(TopologySceneTest, LiveFiguresUpdateLabelsWithoutANewLayout) {
  TopologyScene scene;
  TopologyView t = smallTopology();
  scene.setTopology(t);
  QGraphicsItem* before = scene.nodeItem("shop/web-v1");
  t.edges[0].has_traffic = true;
  t.edges[0].rps = 12.34;
  t.edges[0].share = 0.9;
  scene.setTopology(t);
  EXPECT_EQ(scene.nodeItem("shop/web-v1"), before);  // same items: no relayout
  EXPECT_EQ(scene.edgeLabel("shop/web-v1 -> shop/cart-v1"), "90% · 12.3 rps");
  // The measured split joins the configured one; large rates drop the decimals.
  t.edges[0].live_share = 0.874;
  t.edges[0].rps = 1234.56;
  scene.setTopology(t);
  EXPECT_EQ(scene.edgeLabel("shop/web-v1 -> shop/cart-v1"), "90% · 87% live · 1235 rps");
  EXPECT_TRUE(scene.edgeItem("shop/web-v1 -> shop/cart-v1")
                  ->toolTip()
                  .contains("\nmeasured: 87% of the calls\n"));
  // An unsplit call shows its measured share only when it is not all of the calls.
  t.edges[0].share = 1.0;
  t.edges[0].live_share = 1.0;
  scene.setTopology(t);
  EXPECT_EQ(scene.edgeLabel("shop/web-v1 -> shop/cart-v1"), "1235 rps");
  EXPECT_EQ(scene.nodeItem("shop/web-v1"), before);
}

TEST_F(TopologySceneTest, CollapseSearchAndBlast) {
  TopologyScene scene;
  scene.setTopology(smallTopology());
  scene.setCollapsed("cluster/c1/ns/shop", true);
  EXPECT_TRUE(scene.isCollapsed("cluster/c1/ns/shop"));
  EXPECT_EQ(scene.nodeIds(), QStringList{"group:cluster/c1/ns/shop"});
  EXPECT_EQ(scene.nodeItem("shop/web-v1"), nullptr);
  EXPECT_EQ(scene.groupItem("cluster/c1/ns/shop"), nullptr);
  EXPECT_NE(scene.groupItem("cluster/c1"), nullptr);
  scene.setCollapsed("cluster/c1/ns/shop", false);
  EXPECT_EQ(scene.nodeIds().size(), 3);

  EXPECT_EQ(scene.setSearch("DB"), 1);
  EXPECT_TRUE(scene.isHighlighted("shop/db-v1"));
  EXPECT_FALSE(scene.isHighlighted("shop/web-v1"));
  EXPECT_EQ(scene.setSearch(""), 0);
  EXPECT_FALSE(scene.isHighlighted("shop/db-v1"));

  BlastView blast;
  blast.compromised = "shop/web-v1";
  BlastHop hop{"shop/web-v1", "shop/cart-v1", "shop/cart:80", "no ALLOW policy", true, 1};
  blast.reached = {{"shop/cart-v1", 1, 1.0, {hop}}};
  blast.edges = {hop, {"shop/cart-v1", "shop/db-v1", "shop/db:5432", "x", true, 2}};
  scene.setBlast(blast, 0);
  EXPECT_TRUE(scene.isHighlighted("shop/web-v1"));
  EXPECT_FALSE(scene.isHighlighted("shop/cart-v1"));  // hop 1 not shown yet
  scene.setBlast(blast, 1);
  EXPECT_TRUE(scene.isHighlighted("shop/cart-v1"));
  int blast_edges = 0;
  for (QGraphicsItem* item : scene.items()) {
    if (item->data(kItemKindData).toString() == "blast-edge") {
      ++blast_edges;
      EXPECT_TRUE(item->toolTip().contains("allowed by no ALLOW policy"));
    }
  }
  EXPECT_EQ(blast_edges, 1);
  scene.setBlast({});
  EXPECT_FALSE(scene.isHighlighted("shop/cart-v1"));
}

TEST_F(TopologySceneTest, EditorMarksErrorsAtTheirLine) {
  MainWindow window;
  window.openPaths({QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"))});
  EditorPanel* editor = window.editorPanel();
  EXPECT_EQ(editor->userBox()->count(), 3);
  editor->editor()->setPlainText(
      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
      "metadata: {namespace: bookinfo, name: bad}\nspec:\n  action: ALOW\n");
  editor->applyButton()->click();
  EXPECT_EQ(editor->errorLines(), QList<int>{5});
  EXPECT_EQ(editor->editor()->extraSelections().size(), 1);
  EXPECT_TRUE(editor->resultView()->toPlainText().contains("line 5: spec.action"))
      << editor->resultView()->toPlainText().toStdString();
  // A refusal shows the missing permission; nothing is marked.
  editor->userBox()->setCurrentText("zack");
  editor->editor()->setPlainText(
      "apiVersion: meshsim/v1\nkind: SecuritySetting\n"
      "metadata: {tenant: retail, workspace: payments, group: payments-sec, name: open-up}\n"
      "spec:\n  authorization: {mode: DISABLED}\n");
  editor->applyButton()->click();
  EXPECT_TRUE(editor->errorLines().isEmpty());
  EXPECT_TRUE(editor->resultView()->toPlainText().contains("refused (PermissionDenied)"))
      << editor->resultView()->toPlainText().toStdString();
}

}  // namespace
}  // namespace meshsim::gui
