// The picture --screenshot writes and the README shows, checked for what it must show: bookinfo
// during the canary on the live mesh, each workload drawn where the scene puts it, the edges
// labelled with the split and the measured rate, and the metrics charts' lines drawn in their
// series colours; and a compromised workload with its blast radius verified live.
#include <gtest/gtest.h>

#include <QChart>
#include <QChartView>
#include <QGraphicsItem>
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QSet>
#include <QSignalSpy>
#include <cstdlib>

#include "app/mesh_session.h"
#include "graph/topology_scene.h"
#include "gui_test_support.h"
#include "live_support.h"
#include "panels/main_window.h"
#include "panels/mesh_panels.h"
#include "panels/topology_panel.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;
using meshsim::gui::testing::useLoopback;
using meshsim::gui::testing::waitIdle;

QString bookinfo() {
  return QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"));
}

const char* const kWorkloads[] = {
    "bookinfo/productpage-v1", "bookinfo/details-v1", "bookinfo/reviews-v1", "bookinfo/reviews-v2",
    "bookinfo/reviews-v3",     "bookinfo/ratings-v1", "bookinfo/ratings-v2"};

// Steps to play to get through the first step of `kind` whose title contains `text`, searching
// after the first `from` steps; 0 when there is none.
int stepsThrough(const MeshSession& session, const QString& kind, const QString& text,
                 int from = 0) {
  const QList<StepView>& steps = session.steps();
  for (int i = from; i < steps.size(); ++i) {
    if (steps[i].kind == kind && steps[i].title.contains(text)) return i + 1;
  }
  return 0;
}

// Where `scene_rect` of `view`'s scene lands in the window's screenshot.
QRect inWindow(const MainWindow& window, const QGraphicsView& view, const QRectF& scene_rect) {
  QRect r = view.mapFromScene(scene_rect).boundingRect();
  r.translate(view.viewport()->mapTo(&window, QPoint(0, 0)));
  return r;
}

int distinctColours(const QImage& image) {
  QSet<QRgb> colours;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) colours.insert(image.pixel(x, y));
  }
  return static_cast<int>(colours.size());
}

int pixelsLike(const QImage& image, QRgb colour) {
  const QColor want = QColor::fromRgb(colour);
  int n = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      const QColor c = image.pixelColor(x, y);
      if (std::abs(c.red() - want.red()) + std::abs(c.green() - want.green()) +
              std::abs(c.blue() - want.blue()) <
          40) {
        ++n;
      }
    }
  }
  return n;
}

class ScreenshotTest : public GuiTest {};

TEST_F(ScreenshotTest, CanaryOnTheLiveMeshShowsTheNodesAndTheCharts) {
  MainWindow window;
  MeshSession* session = window.meshSession();
  useLoopback(*session);
  window.openPaths({bookinfo()});
  const int canary = stepsThrough(*session, "apply", "changes/ratings-canary.yaml");
  ASSERT_GT(canary, 0);
  const int traffic = stepsThrough(*session, "traffic", "", canary);
  ASSERT_GT(traffic, canary);
  ASSERT_EQ(window.playSteps(traffic), traffic) << session->stepMessage().toStdString();
  ASSERT_TRUE(session->steps()[traffic - 1].passed)
      << session->steps()[traffic - 1].error.toStdString();

  TopologyScene* scene = window.topologyScene();
  const QString canary_edge = "bookinfo/reviews-v2 -> bookinfo/ratings-v2";
  EXPECT_TRUE(scene->edgeLabel(canary_edge).startsWith("10% · "))
      << scene->edgeLabel(canary_edge).toStdString();
  EXPECT_TRUE(scene->edgeLabel(canary_edge).endsWith(" rps"))
      << scene->edgeLabel(canary_edge).toStdString();
  EXPECT_TRUE(scene->edgeLabel("bookinfo/reviews-v2 -> bookinfo/ratings-v1").startsWith("90% · "));

  const QImage shot = window.renderScreenshot();
  ASSERT_EQ(shot.size(), kScreenshotSize);
  // Every workload is drawn inside the picture where the scene put it: a box with its name.
  const QGraphicsView& view = *window.topologyPanel()->view();
  for (const char* id : kWorkloads) {
    QGraphicsItem* node = scene->nodeItem(id);
    ASSERT_NE(node, nullptr) << id;
    const QRect rect = inWindow(window, view, node->sceneBoundingRect());
    ASSERT_TRUE(shot.rect().contains(rect)) << id;
    ASSERT_GT(rect.width(), 20) << id;
    EXPECT_GT(distinctColours(shot.copy(rect)), 12) << id;
  }
  // Each chart's plot area shows lines in their series' colours (the i-th series of a chart is
  // drawn in kSeriesColours[i]). Lines may cover each other (the three reviews versions serve
  // about the same rate; no version has errors, so every error line lies on zero): the rate and
  // latency charts must show at least three distinct series, the error chart at least one.
  MetricsPanel* metrics = window.metricsPanel();
  for (QChartView* chart : {metrics->rateChart(), metrics->errorChart(), metrics->latencyChart()}) {
    const std::string title = chart->chart()->title().toStdString();
    const QRect plot = inWindow(window, *chart, chart->chart()->plotArea());
    ASSERT_TRUE(shot.rect().contains(plot)) << title;
    ASSERT_GT(plot.height(), 40) << title;
    ASSERT_GT(plot.width(), 100) << title;
    const QImage area = shot.copy(plot);
    const int lines = static_cast<int>(chart->chart()->series().size());
    EXPECT_GE(lines, 5) << title;
    int visible = 0;
    for (int i = 0; i < lines; ++i) visible += pixelsLike(area, kSeriesColours[i]) > 15 ? 1 : 0;
    EXPECT_GE(visible, chart == metrics->errorChart() ? 1 : 3) << title;
  }
  session->stopMesh();
  ASSERT_TRUE(waitIdle(*session));
}

TEST_F(ScreenshotTest, VerifyLiveConfirmsTheBlastRadiusAndShowsTheCredentialWindow) {
  MainWindow window;
  MeshSession* session = window.meshSession();
  useLoopback(*session);
  window.openPaths({bookinfo() + "/mesh"});
  BlastPanel* blast = window.blastPanel();
  // Not running yet: the button says what to do.
  ASSERT_TRUE(window.compromise("bookinfo/productpage-v1"));
  blast->verifyButton()->click();
  EXPECT_EQ(blast->verifyLabel()->text(), "Verify live: start the mesh first");
  EXPECT_TRUE(blast->verifyButton()->isEnabled());

  ASSERT_TRUE(window.startMesh()) << window.meshStatusText().toStdString();
  QSignalSpy verified(session, &MeshSession::blastVerified);
  blast->verifyButton()->click();
  EXPECT_FALSE(blast->verifyButton()->isEnabled());
  ASSERT_TRUE(waitIdle(*session));
  ASSERT_EQ(verified.count(), 1);
  const BlastVerifyReport report = verified.at(0).at(0).value<BlastVerifyReport>();
  ASSERT_EQ(report.error, "");
  EXPECT_EQ(report.compromised, "bookinfo/productpage-v1");
  EXPECT_GT(report.probes.size(), 0);
  EXPECT_EQ(report.disagreements, 0);
  EXPECT_TRUE(report.agree);
  EXPECT_EQ(report.summary(), QStringLiteral("%1 probes, all agree").arg(report.probes.size()));
  // PERMISSIVE bookinfo: productpage's certificate opens every workload but ratings directly,
  // and ratings through reviews.
  const QStringList everything{"bookinfo/details-v1", "bookinfo/productpage-v1",
                               "bookinfo/ratings-v1", "bookinfo/ratings-v2",
                               "bookinfo/reviews-v1", "bookinfo/reviews-v2",
                               "bookinfo/reviews-v3"};
  EXPECT_EQ(report.observed_reached, everything);
  EXPECT_EQ(report.predicted_reached, everything);
  // The certificate stolen now: a 24 h lifetime (back-dated 60 s), renewed at half of it.
  const CredentialView& c = report.credential;
  EXPECT_TRUE(c.spiffe_id.endsWith("/ns/bookinfo/sa/bookinfo-productpage"))
      << c.spiffe_id.toStdString();
  EXPECT_FALSE(c.serial.isEmpty());
  EXPECT_EQ(c.not_after - c.not_before, 86400 + 60);
  EXPECT_EQ(c.rotation_at, c.not_after - 43200);
  EXPECT_GE(c.now, c.not_before);
  EXPECT_GT(c.remainingSeconds(), 0);
  const QString text = blast->verifyLabel()->text();
  EXPECT_TRUE(text.startsWith(QStringLiteral("<b>%1 probes, all agree</b> attacking from "
                                             "bookinfo/productpage-v1: the mesh refused and "
                                             "allowed exactly what the analysis predicted")
                                  .arg(report.probes.size())))
      << text.toStdString();
  EXPECT_TRUE(text.contains("Stolen certificate (serial ")) << text.toStdString();
  EXPECT_TRUE(text.contains("the agent renews it at ")) << text.toStdString();
  EXPECT_TRUE(blast->verifyButton()->isEnabled());

  // A workload that is not in the mesh.
  session->verifyBlastRadius("bookinfo/nobody");
  ASSERT_TRUE(waitIdle(*session));
  ASSERT_EQ(verified.count(), 2);
  EXPECT_FALSE(verified.at(1).at(0).value<BlastVerifyReport>().error.isEmpty());
  session->verifyBlastRadius("nobody");
  ASSERT_TRUE(waitIdle(*session));
  EXPECT_EQ(verified.at(2).at(0).value<BlastVerifyReport>().error, "not a workload: nobody");

  const QImage shot = window.renderScreenshot();
  EXPECT_EQ(shot.size(), kScreenshotSize);
  session->stopMesh();
  ASSERT_TRUE(waitIdle(*session));
}

}  // namespace
}  // namespace meshsim::gui
