// The live mesh from the desktop program, on the real data plane (proxy::LoopbackDataPlane, the
// one gui/main.cpp injects): start the mesh from the traffic panel, send traffic, watch the
// metrics model, the Qt Charts series and the topology edges fill; stop the mesh and leave no
// thread behind. The scenario player runs steps with the engine's ScenarioRunner (pass/fail next
// to each step, replay on step back), the editor applies to the player's state, and "Verify
// live" attacks a predicted blast radius for real. Every wait is bounded (signals with a timeout,
// never sleeps); no assertion is about timing.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QMap>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QXYSeries>
#include <memory>

#include "app/mesh_session.h"
#include "graph/topology_scene.h"
#include "gui_test_support.h"
#include "live_support.h"
#include "models/metrics_model.h"
#include "panels/main_window.h"
#include "panels/mesh_panels.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;
using meshsim::gui::testing::stepAndWait;
using meshsim::gui::testing::threadCount;
using meshsim::gui::testing::useLoopback;
using meshsim::gui::testing::waitForThreads;
using meshsim::gui::testing::waitIdle;

QString bookinfo() {
  return QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"));
}

// A story of our own on the bookinfo mesh (bookinfo's own scenario grows as the story does):
// STRICT mTLS as alice, the 90/10 canary as zack, 400 requests, the split checked, a refused
// change that was expected, and an expectation that fails (ratings-viewer answers 403).
QString writeScenario(const QTemporaryDir& dir) {
  const QByteArray text =
      QStringLiteral(
          "apiVersion: meshsim/v1\nkind: Scenario\nmetadata: {name: live}\nspec:\n"
          "  description: the canary on the live mesh\n  files: [%1/mesh]\n  steps:\n"
          "  - note: alice from infosec requires mutual TLS\n"
          "  - apply: {files: [%1/changes/tenant-strict.yaml]}\n    as: alice\n"
          "  - expect:\n"
          "    - effective: {workload: bookinfo/ratings-v1, trafficMode: REQUIRED}\n"
          "  - apply: {files: [%1/changes/ratings-canary.yaml]}\n    as: zack\n"
          "  - traffic: {from: bookinfo/productpage-v1, to: bookinfo/reviews, path: /reviews/0, "
          "requests: 400, concurrency: 4}\n"
          "  - expect:\n"
          "    - statuses: {200: 400}\n"
          "    - split: {service: bookinfo/ratings, shares: {v1: 90, v2: 10}, tolerance: 5}\n"
          "    - mtls: {edges: all}\n"
          "  - apply: {files: [%1/changes/zack-relax-mtls.yaml]}\n    as: zack\n"
          "    expectError: FailedPrecondition\n"
          "  - expect:\n"
          "    - request: {from: bookinfo/productpage-v1, to: bookinfo/ratings, path: /ratings/0, "
          "status: 200}\n")
          .arg(bookinfo())
          .toUtf8();
  meshsim::gui::testing::writeFile(dir.filePath("scenario.yaml"), text);
  return dir.filePath("scenario.yaml");
}

const char* kCanaryAsZack = R"(apiVersion: meshsim/v1
kind: ServiceRoute
metadata: {tenant: retail, workspace: bookinfo, group: bookinfo-traffic, name: ratings-canary}
spec:
  service: bookinfo/ratings
  subsets:
  - {name: v1, labels: {version: v1}, weight: 50}
  - {name: v2, labels: {version: v2}, weight: 50}
)";

// The metrics table's rows as "service version" -> column value.
QMap<QString, QString> column(const MetricsModel& model, int column) {
  QMap<QString, QString> out;
  for (int r = 0; r < model.rowCount(); ++r) {
    out.insert(model.index(r, MetricsModel::kServiceColumn).data().toString() + " " +
                   model.index(r, MetricsModel::kVersionColumn).data().toString(),
               model.index(r, column).data().toString());
  }
  return out;
}

// Points of the chart series named `name` ("reviews v1"); -1 when there is no such series.
int seriesPoints(QChartView* view, const QString& name) {
  for (QAbstractSeries* s : view->chart()->series()) {
    if (s->name() == name) return static_cast<int>(static_cast<QXYSeries*>(s)->count());
  }
  return -1;
}

class LiveMeshTest : public GuiTest {};

TEST_F(LiveMeshTest, TrafficPanelStartsTheMeshAndTheNumbersMove) {
  MainWindow window;
  MeshSession* session = window.meshSession();
  useLoopback(*session);
  window.openPaths({bookinfo() + "/mesh"});
  ASSERT_EQ(session->openError(), "");
  QAbstractItemModelTester tester(window.metricsPanel()->model(),
                                  QAbstractItemModelTester::FailureReportingMode::Fatal);
  TrafficPanel* traffic = window.trafficPanel();
  const int threads_before = threadCount();

  EXPECT_EQ(traffic->startButton()->text(), "Start mesh");
  traffic->startButton()->click();
  ASSERT_TRUE(waitIdle(*session));
  ASSERT_TRUE(session->meshRunning()) << window.meshStatusText().toStdString();
  EXPECT_TRUE(window.meshStatusText().startsWith("mesh running: "))
      << window.meshStatusText().toStdString();
  EXPECT_EQ(traffic->startButton()->text(), "Stop mesh");
  EXPECT_GT(threadCount(), threads_before);  // the data plane's event loops

  // A burst of 300 requests from productpage to reviews.
  traffic->fromBox()->setCurrentText("bookinfo/productpage-v1");
  traffic->toBox()->setCurrentText("bookinfo/reviews");
  traffic->rateBox()->setValue(300);
  QSignalSpy done(session, &MeshSession::trafficDone);
  traffic->burstButton()->click();
  ASSERT_TRUE(waitIdle(*session));
  ASSERT_EQ(done.count(), 1);
  const TrafficReport report = done.at(0).at(0).value<TrafficReport>();
  EXPECT_EQ(report.error, "");
  EXPECT_EQ(report.sent, 300u);
  EXPECT_EQ(report.ok, 300u);
  EXPECT_TRUE(traffic->statusLabel()->text().startsWith(
      "bookinfo/productpage-v1 → bookinfo/reviews: 300 sent, 300 OK"))
      << traffic->statusLabel()->text().toStdString();

  // Every reviews version served some of them, and every reviews call went on to ratings.
  const MetricsModel& model = *window.metricsPanel()->model();
  const QMap<QString, QString> requests = column(model, MetricsModel::kRequestsColumn);
  const QMap<QString, QString> rps = column(model, MetricsModel::kRpsColumn);
  quint64 reviews = 0;
  for (const char* key : {"bookinfo/reviews v1", "bookinfo/reviews v2", "bookinfo/reviews v3"}) {
    ASSERT_TRUE(requests.contains(key)) << key;
    EXPECT_GT(rps.value(key).toDouble(), 0) << key;
    reviews += requests.value(key).toULongLong();
  }
  EXPECT_EQ(reviews, 300u);
  EXPECT_EQ(requests.value("bookinfo/ratings v1").toULongLong() +
                requests.value("bookinfo/ratings v2").toULongLong(),
            300u);
  EXPECT_GT(rps.value("bookinfo/ratings v2").toDouble(), 0);
  EXPECT_EQ(column(model, MetricsModel::kErrorRateColumn).value("bookinfo/reviews v1"), "0.0");

  // The charts hold the sample: one point per version in each chart.
  MetricsPanel* metrics = window.metricsPanel();
  ASSERT_EQ(session->metricsHistory().size(), 1);
  for (const char* name : {"reviews v1", "reviews v2", "reviews v3", "ratings v1", "ratings v2"}) {
    EXPECT_EQ(seriesPoints(metrics->rateChart(), name), 1) << name;
    EXPECT_EQ(seriesPoints(metrics->errorChart(), name), 1) << name;
    EXPECT_EQ(seriesPoints(metrics->latencyChart(), name), 1) << name;
  }

  // The topology's edges carry the measured rate and split.
  double shares = 0;
  for (const char* to : {"bookinfo/reviews-v1", "bookinfo/reviews-v2", "bookinfo/reviews-v3"}) {
    const QString key = QStringLiteral("bookinfo/productpage-v1 -> %1").arg(to);
    const EdgeView* edge = session->topology().findEdge(key);
    ASSERT_NE(edge, nullptr) << to;
    EXPECT_TRUE(edge->has_traffic) << to;
    EXPECT_GT(edge->rps, 0) << to;
    EXPECT_GT(edge->live_share, 0) << to;
    EXPECT_LT(edge->live_share, 1) << to;
    shares += edge->live_share;
    const QString label = window.topologyScene()->edgeLabel(key);
    EXPECT_TRUE(label.startsWith("33% · ")) << label.toStdString();
    EXPECT_TRUE(label.contains("% live · ")) << label.toStdString();
    EXPECT_TRUE(label.endsWith(" rps")) << label.toStdString();
  }
  EXPECT_NEAR(shares, 1.0, 1e-9);

  // Continuous traffic: a burst every second until the button is released.
  QSignalSpy sampled(session, &MeshSession::metricsSampled);
  traffic->rateBox()->setValue(100);
  traffic->runButton()->click();
  EXPECT_TRUE(session->trafficRunning());
  while (sampled.count() < 2) ASSERT_TRUE(sampled.wait(meshsim::gui::testing::kLiveTimeoutMs));
  traffic->runButton()->click();
  EXPECT_FALSE(session->trafficRunning());
  ASSERT_TRUE(waitIdle(*session));
  const int samples = static_cast<int>(session->metricsHistory().size());
  EXPECT_GE(samples, 3);
  EXPECT_EQ(seriesPoints(metrics->rateChart(), "reviews v1"), samples);

  // Stop: the data plane's threads are joined, the live figures leave the edges.
  traffic->startButton()->click();
  ASSERT_TRUE(waitIdle(*session));
  EXPECT_FALSE(session->meshRunning());
  EXPECT_EQ(window.meshStatusText(), "mesh stopped");
  EXPECT_EQ(traffic->startButton()->text(), "Start mesh");
  EXPECT_TRUE(waitForThreads(threads_before)) << meshsim::gui::testing::threadNames();
  EXPECT_FALSE(
      session->topology().findEdge("bookinfo/productpage-v1 -> bookinfo/reviews-v1")->has_traffic);
  EXPECT_EQ(window.topologyScene()->edgeLabel("bookinfo/productpage-v1 -> bookinfo/reviews-v1"),
            "33%");
}

TEST_F(LiveMeshTest, TrafficErrorsAreReported) {
  MeshSession session;
  useLoopback(session);
  session.open({bookinfo() + "/mesh"});
  session.startMesh();
  ASSERT_TRUE(waitIdle(session));
  ASSERT_TRUE(session.meshRunning());
  QSignalSpy done(&session, &MeshSession::trafficDone);
  session.sendTraffic("bookinfo/productpage-v1", "bookinfo/nothing", 5, 1);
  ASSERT_TRUE(waitIdle(session));
  ASSERT_EQ(done.count(), 1);
  const TrafficReport report = done.at(0).at(0).value<TrafficReport>();
  EXPECT_EQ(report.sent, 0u);
  EXPECT_TRUE(report.error.contains("bookinfo/nothing")) << report.error.toStdString();
  EXPECT_TRUE(session.metricsHistory().isEmpty());
  // Starting twice is one mesh.
  QSignalSpy state(&session, &MeshSession::meshStateChanged);
  session.startMesh();
  EXPECT_FALSE(session.busy());
  EXPECT_EQ(state.count(), 0);
  session.stopMesh();
  ASSERT_TRUE(waitIdle(session));
  ASSERT_EQ(state.count(), 1);
  EXPECT_EQ(state.at(0).at(0).toString(), "mesh stopped");
}

TEST_F(LiveMeshTest, AMeshThatCannotBeCreatedSaysWhy) {
  MeshSession session;
  setDataPlaneFactory(session, [](const dataplane::DataPlaneOptions&) {
    return std::unique_ptr<dataplane::DataPlane>();
  });
  session.open({bookinfo() + "/mesh"});
  QSignalSpy state(&session, &MeshSession::meshStateChanged);
  session.startMesh();
  EXPECT_TRUE(session.meshRunning());  // starting
  ASSERT_TRUE(waitIdle(session));
  EXPECT_FALSE(session.meshRunning());
  ASSERT_EQ(state.count(), 1);
  EXPECT_EQ(state.at(0).at(0).toString(), "cannot create the mesh: no data plane");

  // The player cannot start its runner either, and says so.
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  session.open({writeScenario(dir)});
  ASSERT_TRUE(stepAndWait(session));
  EXPECT_EQ(session.stepsDone(), 0);
  EXPECT_FALSE(session.meshRunning());
  EXPECT_EQ(session.stepMessage(),
            "the scenario cannot run: Unavailable: the data plane factory made no data plane");
  // The state stays visible and editable.
  EXPECT_NE(session.topology().findNode("bookinfo/ratings-v2"), nullptr);
}

TEST_F(LiveMeshTest, PlayerRunsStepsWithTheScenarioRunner) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const int threads_before = threadCount();
  {
    MeshSession session;
    useLoopback(session);
    session.open({writeScenario(dir)});
    ASSERT_EQ(session.openError(), "");
    ASSERT_EQ(session.steps().size(), 8);
    QSignalSpy progress(&session, &MeshSession::stepProgress);

    ASSERT_TRUE(stepAndWait(session));   // note
    EXPECT_TRUE(session.meshRunning());  // the runner runs its own mesh
    EXPECT_EQ(session.stepsDone(), 1);
    EXPECT_TRUE(session.steps()[0].played);
    EXPECT_TRUE(session.steps()[0].passed);

    ASSERT_TRUE(stepAndWait(session));  // apply tenant-strict as alice
    const StepView& strict = session.steps()[1];
    EXPECT_TRUE(strict.passed) << strict.error.toStdString();
    EXPECT_TRUE(strict.outcome.endsWith(": 1 accepted, 0 refused")) << strict.outcome.toStdString();
    ASSERT_EQ(strict.details.size(), 1);
    EXPECT_TRUE(strict.details[0].startsWith("✓ ")) << strict.details[0].toStdString();
    EXPECT_EQ(session.audit().last().user, "alice");
    EXPECT_EQ(session.audit().last().outcome, "accepted");

    ASSERT_TRUE(stepAndWait(session));  // expect REQUIRED
    EXPECT_TRUE(session.steps()[2].passed) << session.steps()[2].error.toStdString();
    ASSERT_EQ(session.steps()[2].details.size(), 1);
    EXPECT_TRUE(session.steps()[2].details[0].startsWith("✓ effective bookinfo/ratings-v1"))
        << session.steps()[2].details[0].toStdString();

    ASSERT_TRUE(stepAndWait(session));  // the canary as zack
    EXPECT_TRUE(session.steps()[3].passed);
    EXPECT_NEAR(session.topology().findEdge("bookinfo/reviews-v2 -> bookinfo/ratings-v2")->share,
                0.10, 1e-9);

    ASSERT_TRUE(stepAndWait(session));  // 400 requests through the real data plane
    const StepView& burst = session.steps()[4];
    EXPECT_TRUE(burst.passed) << burst.error.toStdString();
    EXPECT_TRUE(burst.outcome.endsWith(": 400 sent (200: 400)")) << burst.outcome.toStdString();
    EXPECT_TRUE(burst.details.value(0).startsWith("answered by "))
        << burst.details.value(0).toStdString();
    // The runner sends 400 requests in 8 chunks of 50; each chunk is a sample.
    EXPECT_EQ(session.metricsHistory().size(), 8);
    EXPECT_TRUE(progress.count() >= 8);
    quint64 ratings = 0;
    for (const VersionMetrics& m : session.metricsHistory().last().versions) {
      if (m.service == "bookinfo/ratings") ratings += m.requests;
    }
    EXPECT_EQ(ratings, 400u);
    const EdgeView* v2 = session.topology().findEdge("bookinfo/reviews-v2 -> bookinfo/ratings-v2");
    EXPECT_TRUE(v2->has_traffic);
    EXPECT_GE(v2->live_share, 0);

    ASSERT_TRUE(stepAndWait(session));  // statuses, split and mTLS hold
    EXPECT_TRUE(session.steps()[5].passed) << session.steps()[5].error.toStdString();
    ASSERT_EQ(session.steps()[5].details.size(), 3);
    for (const QString& line : session.steps()[5].details) {
      EXPECT_TRUE(line.startsWith("✓ ")) << line.toStdString();
    }

    ASSERT_TRUE(stepAndWait(session));  // refused, as expected
    const StepView& relax = session.steps()[6];
    EXPECT_TRUE(relax.passed) << relax.error.toStdString();
    EXPECT_TRUE(relax.details.value(0).startsWith("✗ ")) << relax.details.value(0).toStdString();
    EXPECT_TRUE(relax.details.value(0).contains("refused (FailedPrecondition)"))
        << relax.details.value(0).toStdString();
    EXPECT_EQ(session.audit().last().outcome, "refused");

    ASSERT_TRUE(stepAndWait(session));  // ratings-viewer answers 403, not 200
    const StepView& wrong = session.steps()[7];
    EXPECT_TRUE(wrong.played);
    EXPECT_FALSE(wrong.passed);
    EXPECT_TRUE(wrong.error.contains("expected")) << wrong.error.toStdString();
    EXPECT_TRUE(wrong.error.contains("403")) << wrong.error.toStdString();
    ASSERT_EQ(wrong.details.size(), 1);
    EXPECT_TRUE(wrong.details[0].startsWith("✗ request ")) << wrong.details[0].toStdString();
    EXPECT_TRUE(session.stepMessage().contains("\nFAILED: "))
        << session.stepMessage().toStdString();
    EXPECT_EQ(session.stepsDone(), 8);
    EXPECT_FALSE(session.stepForward());  // no step left

    // Back: a fresh runner replays the first 7 steps; the 8th is not played any more.
    ASSERT_TRUE(session.stepBack());
    EXPECT_TRUE(session.stepping());
    EXPECT_FALSE(session.stepForward());  // one at a time
    EXPECT_FALSE(session.stepBack());
    ASSERT_TRUE(waitIdle(session));
    EXPECT_FALSE(session.stepping());
    EXPECT_EQ(session.stepsDone(), 7);
    EXPECT_EQ(session.stepMessage(), "back after step 7");
    EXPECT_FALSE(session.steps()[7].played);
    EXPECT_TRUE(session.steps()[4].played);
    EXPECT_TRUE(session.steps()[4].passed);
    EXPECT_EQ(session.metricsHistory().size(), 8);  // the replayed traffic, on the new mesh
    EXPECT_TRUE(session.meshRunning());
  }
  EXPECT_TRUE(waitForThreads(threads_before)) << meshsim::gui::testing::threadNames();
}

TEST_F(LiveMeshTest, EditorAppliesToThePlayersStateAndMesh) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  MeshSession session;
  useLoopback(session);
  session.open({writeScenario(dir)});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(stepAndWait(session));  // up to the 90/10 canary

  const ApplyReport dry = session.apply(kCanaryAsZack, "zack", true);
  ASSERT_EQ(dry.changes.size(), 1);
  EXPECT_TRUE(dry.changes[0].accepted) << dry.changes[0].message.toStdString();
  EXPECT_EQ(dry.changes[0].result, "updated");
  EXPECT_TRUE(dry.topology_changes.contains(
      "~ bookinfo/reviews-v2 -> bookinfo/ratings-v2: share 10% -> 50%"))
      << dry.topology_changes.join("\n").toStdString();
  EXPECT_NEAR(session.topology().findEdge("bookinfo/reviews-v2 -> bookinfo/ratings-v2")->share,
              0.10, 1e-9);

  QSignalSpy state(&session, &MeshSession::meshStateChanged);
  const ApplyReport applied = session.apply(kCanaryAsZack, "zack", false);
  ASSERT_TRUE(applied.allAccepted());
  ASSERT_EQ(state.count(), 1);
  EXPECT_EQ(state.at(0).at(0).toString(), "mesh reconfigured");
  EXPECT_NEAR(session.topology().findEdge("bookinfo/reviews-v2 -> bookinfo/ratings-v2")->share,
              0.50, 1e-9);
  EXPECT_EQ(session.audit().last().user, "zack");

  // Traffic from the panel goes through the player's mesh, with the new split.
  QSignalSpy done(&session, &MeshSession::trafficDone);
  session.sendTraffic("bookinfo/productpage-v1", "bookinfo/reviews", 40, 2);
  ASSERT_TRUE(waitIdle(session));
  ASSERT_EQ(done.count(), 1);
  EXPECT_EQ(done.at(0).at(0).value<TrafficReport>().ok, 40u);
  quint64 v2 = 0;
  for (const VersionMetrics& m : session.metricsHistory().last().versions) {
    if (m.key() == "bookinfo/ratings v2") v2 = m.requests;
  }
  EXPECT_GT(v2, 0u);

  // Stopping keeps the player's state for editing; the next step replays from the start.
  session.stopMesh();
  ASSERT_TRUE(waitIdle(session));
  EXPECT_FALSE(session.meshRunning());
  EXPECT_EQ(session.audit().last().user, "zack");
  EXPECT_NEAR(session.topology().findEdge("bookinfo/reviews-v2 -> bookinfo/ratings-v2")->share,
              0.50, 1e-9);
  EXPECT_EQ(session.apply(kCanaryAsZack, "nobody", false).changes.value(0).code,
            "PermissionDenied");
  ASSERT_TRUE(stepAndWait(session));  // step 5, the traffic step, on a replayed state
  EXPECT_EQ(session.stepsDone(), 5);
  EXPECT_TRUE(session.meshRunning());
  EXPECT_NEAR(session.topology().findEdge("bookinfo/reviews-v2 -> bookinfo/ratings-v2")->share,
              0.10, 1e-9);
}

}  // namespace
}  // namespace meshsim::gui
