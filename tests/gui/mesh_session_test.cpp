// MeshSession, the engine bridge: opening a scenario, topology, blast radius, editor applies as a
// user (refusals, errors at their line, dry runs), the audit log, and what the session says when
// it has no data plane. live_mesh_test.cpp runs the live mesh and the scenario player.
#include "app/mesh_session.h"

#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QTemporaryDir>

#include "gui_test_support.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;

QString bookinfo() {
  return QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"));
}

const char* kCanary = R"(apiVersion: meshsim/v1
kind: ServiceRoute
metadata: {tenant: retail, workspace: bookinfo, group: bookinfo-traffic, name: ratings-canary}
spec:
  service: bookinfo/ratings
  subsets:
  - {name: v1, labels: {version: v1}, weight: 90}
  - {name: v2, labels: {version: v2}, weight: 10}
)";

// A scenario of our own (bookinfo's grows as the story does): the bookinfo mesh, two notes, two
// applies and a traffic step.
QString writeScenario(const QTemporaryDir& dir) {
  const QString root = bookinfo();
  const QByteArray text =
      QStringLiteral(
          "apiVersion: meshsim/v1\nkind: Scenario\nmetadata: {name: t}\nspec:\n"
          "  description: test story\n  files: [%1/mesh]\n  steps:\n"
          "  - note: alice from infosec requires mutual TLS\n"
          "  - apply: {files: [%1/changes/tenant-strict.yaml]}\n    as: alice\n"
          "  - note: zack sends 10%% to v2\n"
          "  - apply: {files: [%1/changes/ratings-canary.yaml]}\n    as: zack\n"
          "  - traffic: {from: bookinfo/productpage-v1, to: bookinfo/reviews, requests: 10}\n")
          .arg(root)
          .toUtf8();
  meshsim::gui::testing::writeFile(dir.filePath("scenario.yaml"), text);
  return dir.filePath("scenario.yaml");
}

class MeshSessionTest : public GuiTest {};

TEST_F(MeshSessionTest, OpensAScenarioAsItsMeshAndSteps) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  MeshSession session;
  QSignalSpy topology(&session, &MeshSession::topologyChanged);
  session.open({writeScenario(dir)});
  EXPECT_EQ(session.openError(), "");
  EXPECT_EQ(topology.count(), 1);
  const TopologyView& t = session.topology();
  EXPECT_EQ(t.error, "");
  for (const char* id : {"bookinfo/productpage-v1", "bookinfo/details-v1", "bookinfo/reviews-v1",
                         "bookinfo/reviews-v2", "bookinfo/reviews-v3", "bookinfo/ratings-v1",
                         "bookinfo/ratings-v2"}) {
    EXPECT_NE(t.findNode(id), nullptr) << id;
  }
  const EdgeView* details = t.findEdge("bookinfo/productpage-v1 -> bookinfo/details-v1");
  ASSERT_NE(details, nullptr);
  EXPECT_TRUE(details->allowed);
  EXPECT_FALSE(details->has_traffic);
  ASSERT_EQ(session.steps().size(), 5);
  EXPECT_EQ(session.steps()[0].kind, "note");
  EXPECT_EQ(session.steps()[0].title, "note: alice from infosec requires mutual TLS");
  EXPECT_EQ(session.steps()[0].note, "alice from infosec requires mutual TLS");
  EXPECT_EQ(session.steps()[3].kind, "apply");
  EXPECT_EQ(session.steps()[3].title,
            "apply " + bookinfo() + "/changes/ratings-canary.yaml as zack");
  EXPECT_EQ(session.steps()[4].kind, "traffic");
  EXPECT_EQ(session.steps()[4].title,
            "traffic bookinfo/productpage-v1 -> bookinfo/reviews GET / x10");
  for (const StepView& step : session.steps())
    EXPECT_FALSE(step.played) << step.title.toStdString();
  EXPECT_EQ(session.stepsDone(), 0);
  EXPECT_EQ(session.scenarioDescription(), "test story");
  EXPECT_EQ(session.users(), (QStringList{"admin", "alice", "zack"}));
  EXPECT_TRUE(session.workloads().contains("bookinfo/ratings-v2"));
  EXPECT_TRUE(session.services().contains("bookinfo/ratings"));
  EXPECT_FALSE(session.canStartMesh());
  // The mesh files were applied by the built-in administrator, each one audited.
  const QList<AuditEntry> audit = session.audit();
  ASSERT_FALSE(audit.isEmpty());
  EXPECT_EQ(audit.first().user, "admin");
  EXPECT_EQ(audit.first().outcome, "accepted");
}

TEST_F(MeshSessionTest, UnreadableOrInvalidInputHasNoMesh) {
  MeshSession session;
  session.open({"/nonexistent/meshsim-gui-test"});
  EXPECT_TRUE(session.openError().startsWith("cannot read /nonexistent/meshsim-gui-test"))
      << session.openError().toStdString();
  EXPECT_TRUE(session.topology().nodes.isEmpty());
  const ApplyReport report = session.apply(kCanary, "admin", false);
  EXPECT_EQ(report.error, session.openError());
  EXPECT_EQ(session.blastRadius("bookinfo/productpage-v1").error, "nothing is loaded");
}

TEST_F(MeshSessionTest, ApplyAsZackChangesTheSplitAndIsAudited) {
  MeshSession session;
  session.open({bookinfo() + "/mesh"});
  const int before = static_cast<int>(session.audit().size());
  QSignalSpy audit_changed(&session, &MeshSession::auditChanged);
  const ApplyReport report = session.apply(kCanary, "zack", false);
  ASSERT_EQ(report.changes.size(), 1);
  EXPECT_TRUE(report.changes[0].accepted) << report.changes[0].message.toStdString();
  EXPECT_EQ(report.changes[0].result, "created");
  EXPECT_TRUE(report.allAccepted());
  EXPECT_EQ(audit_changed.count(), 1);
  const QList<AuditEntry> audit = session.audit();
  ASSERT_EQ(audit.size(), before + 1);
  EXPECT_EQ(audit.last().user, "zack");
  EXPECT_EQ(audit.last().outcome, "accepted");
  EXPECT_TRUE(audit.last().diff.contains("+  service: bookinfo/ratings"))
      << audit.last().diff.toStdString();
  const EdgeView* v2 = session.topology().findEdge("bookinfo/reviews-v2 -> bookinfo/ratings-v2");
  ASSERT_NE(v2, nullptr);
  EXPECT_NEAR(v2->share, 0.10, 1e-9);
  EXPECT_TRUE(report.topology_changes.contains(
      "~ bookinfo/reviews-v2 -> bookinfo/ratings-v2: share 33% -> 10%"))
      << report.topology_changes.join("\n").toStdString();
}

TEST_F(MeshSessionTest, RefusalShowsTheMissingPermission) {
  MeshSession session;
  session.open({bookinfo() + "/mesh"});
  const ApplyReport report = session.apply(R"(apiVersion: meshsim/v1
kind: SecuritySetting
metadata: {tenant: retail, workspace: payments, group: payments-sec, name: open-up}
spec:
  authorization: {mode: DISABLED}
)",
                                           "zack", false);
  ASSERT_EQ(report.changes.size(), 1);
  EXPECT_FALSE(report.changes[0].accepted);
  EXPECT_EQ(report.changes[0].code, "PermissionDenied");
  EXPECT_TRUE(report.changes[0].message.contains("zack"))
      << report.changes[0].message.toStdString();
  EXPECT_TRUE(report.changes[0].message.contains("CREATE"))
      << report.changes[0].message.toStdString();
  EXPECT_FALSE(report.allAccepted());
  EXPECT_EQ(session.audit().last().outcome, "refused");
}

TEST_F(MeshSessionTest, ParseErrorsComeBackAtTheirLine) {
  MeshSession session;
  session.open({bookinfo() + "/mesh"});
  const int audit_before = static_cast<int>(session.audit().size());
  const ApplyReport report = session.apply(R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: bookinfo, name: bad}
spec:
  action: ALOW
)",
                                           "admin", false);
  ASSERT_FALSE(report.diagnostics.isEmpty());
  EXPECT_EQ(report.diagnostics[0].severity, DiagnosticSeverity::kError);
  EXPECT_EQ(report.diagnostics[0].where.line, 5);
  EXPECT_EQ(report.diagnostics[0].field, "spec.action");
  EXPECT_TRUE(report.changes.isEmpty());
  EXPECT_EQ(session.audit().size(), audit_before);  // nothing reached the management plane
  const ApplyReport empty = session.apply("# only a comment\n", "admin", false);
  EXPECT_EQ(empty.error, "the editor holds no resource");
}

TEST_F(MeshSessionTest, DryRunShowsTheChangeWithoutCommitting) {
  MeshSession session;
  session.open({bookinfo() + "/mesh"});
  const QList<AuditEntry> audit_before = session.audit();
  const ApplyReport report = session.apply(kCanary, "zack", true);
  EXPECT_TRUE(report.dry_run);
  ASSERT_EQ(report.changes.size(), 1);
  EXPECT_TRUE(report.changes[0].accepted);
  EXPECT_TRUE(report.topology_changes.contains(
      "~ bookinfo/reviews-v2 -> bookinfo/ratings-v2: share 33% -> 10%"))
      << report.topology_changes.join("\n").toStdString();
  EXPECT_EQ(session.audit().size(), audit_before.size());
  EXPECT_NEAR(session.topology().findEdge("bookinfo/reviews-v2 -> bookinfo/ratings-v2")->share,
              1.0 / 3, 1e-9);  // round robin over ratings-v1 x2 and ratings-v2 x1
  // A refused dry run says so too.
  const ApplyReport refused = session.apply(kCanary, "nobody", true);
  ASSERT_EQ(refused.changes.size(), 1);
  EXPECT_FALSE(refused.changes[0].accepted);
  EXPECT_EQ(refused.changes[0].code, "PermissionDenied");
}

TEST_F(MeshSessionTest, BlastRadiusNamesHopsPoliciesAndTheCredentialWindow) {
  MeshSession session;
  session.open({bookinfo() + "/mesh"});
  const BlastView blast = session.blastRadius("bookinfo/productpage-v1");
  ASSERT_EQ(blast.error, "");
  EXPECT_EQ(blast.compromised, "bookinfo/productpage-v1");
  EXPECT_TRUE(blast.identity.startsWith("spiffe://") || blast.identity.contains("/ns/bookinfo/sa/"))
      << blast.identity.toStdString();
  ASSERT_FALSE(blast.reached.isEmpty());
  EXPECT_EQ(blast.reached.first().hops, 1);
  for (const BlastTarget& t : blast.reached) {
    ASSERT_EQ(t.path.size(), t.hops) << t.workload.toStdString();
    EXPECT_EQ(t.path.first().from, "bookinfo/productpage-v1");
    EXPECT_EQ(t.path.last().to, t.workload);
    for (const BlastHop& h : t.path) EXPECT_FALSE(h.via.isEmpty());
  }
  EXPECT_EQ(blast.credential_window_seconds, 86400);  // pki::kDefaultSvidTtlSeconds, 24 h
  EXPECT_EQ(blast.rotation_after_seconds, 43200);     // rotation at half the lifetime
  EXPECT_EQ(session.blastRadius("bookinfo/nope").error.isEmpty(), false);
  EXPECT_EQ(session.blastRadius("nope").error, "not a workload: nope");
}

TEST_F(MeshSessionTest, WithoutADataPlaneNothingLiveRuns) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  MeshSession session;
  session.open({writeScenario(dir)});
  EXPECT_FALSE(session.canStartMesh());
  // The player runs steps with the engine's ScenarioRunner, which needs the data plane.
  QSignalSpy stepped(&session, &MeshSession::stepped);
  EXPECT_FALSE(session.stepForward());
  EXPECT_EQ(session.stepMessage(),
            "the scenario player runs steps on the live mesh; this build has no data plane");
  EXPECT_EQ(stepped.count(), 1);
  EXPECT_EQ(session.stepsDone(), 0);
  EXPECT_FALSE(session.stepBack());
  EXPECT_FALSE(session.stepping());

  QSignalSpy state(&session, &MeshSession::meshStateChanged);
  session.startMesh();
  ASSERT_EQ(state.count(), 1);
  EXPECT_EQ(state.at(0).at(0).toString(), "this build has no data plane");
  EXPECT_FALSE(session.meshRunning());
  EXPECT_FALSE(session.busy());

  QSignalSpy traffic(&session, &MeshSession::trafficDone);
  session.sendTraffic("bookinfo/productpage-v1", "bookinfo/reviews", 10, 1);
  ASSERT_EQ(traffic.count(), 1);
  EXPECT_EQ(traffic.at(0).at(0).value<TrafficReport>().error, "the mesh is not running");
  session.sendTraffic("productpage", "bookinfo/reviews", 10, 1);
  ASSERT_EQ(traffic.count(), 2);
  EXPECT_EQ(traffic.at(1).at(0).value<TrafficReport>().error,
            "traffic needs a workload and a service as ns/name");

  QSignalSpy verified(&session, &MeshSession::blastVerified);
  session.verifyBlastRadius("bookinfo/productpage-v1");
  ASSERT_EQ(verified.count(), 1);
  const BlastVerifyReport report = verified.at(0).at(0).value<BlastVerifyReport>();
  EXPECT_EQ(report.compromised, "bookinfo/productpage-v1");
  EXPECT_EQ(report.error, "start the mesh first");
  EXPECT_EQ(report.summary(), "start the mesh first");
  EXPECT_TRUE(session.metricsHistory().isEmpty());
}

TEST_F(MeshSessionTest, AScenarioThatDoesNotParseHasNoMeshAndNoSteps) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  meshsim::gui::testing::writeFile(
      dir.filePath("scenario.yaml"),
      QStringLiteral("apiVersion: meshsim/v1\nkind: Scenario\nmetadata: {name: t}\nspec:\n"
                     "  files: [%1/mesh]\n  steps:\n  - advanceTime: soon\n")
          .arg(bookinfo())
          .toUtf8());
  MeshSession session;
  session.open({dir.filePath("scenario.yaml")});
  EXPECT_TRUE(session.openError().startsWith(
      "the scenario has errors: " + dir.filePath("scenario.yaml") + ":7:"))
      << session.openError().toStdString();
  EXPECT_TRUE(session.steps().isEmpty());
  EXPECT_TRUE(session.topology().nodes.isEmpty());
  EXPECT_EQ(session.topology().error, session.openError());
  EXPECT_FALSE(session.stepForward());
}

TEST_F(MeshSessionTest, AScenarioWhoseFilesAreRefusedCannotBePlayed) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  // The tenant's STRICTER mTLS setting forbids the later relaxation, even to the administrator.
  const QString scenario =
      meshsim::gui::testing::writeRefusedScenario(QDir(dir.path()), bookinfo());
  MeshSession session;
  session.open({scenario});
  EXPECT_EQ(session.openError(),
            "organizations/acme/tenants/retail/workspaces/bookinfo/securitygroups/bookinfo-sec/"
            "securitysettings/ratings refused: authenticationSettings.trafficMode OPTIONAL would "
            "weaken REQUIRED locked by organizations/acme/tenants/retail/settings/default "
            "(propagationStrategy STRICTER)");
  ASSERT_EQ(session.steps().size(), 1);
  EXPECT_TRUE(session.topology().nodes.isEmpty());
  QSignalSpy stepped(&session, &MeshSession::stepped);
  EXPECT_FALSE(session.stepForward());
  EXPECT_EQ(session.stepMessage(), session.openError());
  EXPECT_EQ(stepped.count(), 1);
}

TEST_F(MeshSessionTest, BlastVerifyReportSummaries) {
  BlastVerifyReport report;
  report.probes.resize(3);
  report.agree = true;
  EXPECT_EQ(report.summary(), "3 probes, all agree");
  report.agree = false;
  EXPECT_EQ(report.summary(), "3 probes agree, but the reached workloads differ");
  report.disagreements = 2;
  EXPECT_EQ(report.summary(), "3 probes, 2 disagree");
  report.error = "start the mesh first";
  EXPECT_EQ(report.summary(), "start the mesh first");
  CredentialView credential;
  credential.now = 100;
  credential.not_after = 86500;
  EXPECT_EQ(credential.remainingSeconds(), 86400);
  credential.now = 90000;
  EXPECT_EQ(credential.remainingSeconds(), 0);
}

}  // namespace
}  // namespace meshsim::gui
