#pragma once
/// The engine bridge of the desktop program. Every engine object — the management plane (in a
/// private temporary state directory), the live mesh (MeshRuntime on the injected data plane)
/// and the scenario player (scenario::ScenarioRunner) — lives on one worker thread, the engine
/// thread of ARCHITECTURE.md R6. The GUI thread keeps only what it shows: the latest
/// configuration snapshot (immutable, shared), the topology and blast radius computed from it,
/// the audit records, the scenario's steps with their outcomes and the metrics history.
/// Everything it hands out is a Qt value type (app/mesh_view.h); engine types stay inside
/// gui/app/.

#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>

#include "app/mesh_view.h"

class QTimer;

namespace meshsim::gui {

namespace detail {
struct Mirror;   ///< what the engine thread hands over after a change (mesh_session.cpp)
struct Figures;  ///< live figures derived from telemetry (mesh_session.cpp)
}  // namespace detail

/// Owns the engine thread behind the window. Lives on the GUI thread; its methods are not
/// thread-safe and must be called there. Calls that return a value (open, apply) wait for the
/// engine thread; the live mesh (start, stop, traffic, scenario steps, verification) is
/// asynchronous: those calls return at once and their results arrive as signals.
class MeshSession : public QObject {
  Q_OBJECT

 public:
  /// An empty session: no configuration, no mesh. Starts the engine thread.
  explicit MeshSession(QObject* parent = nullptr);
  /// Stops traffic, the live mesh and the player, and joins the engine thread.
  ~MeshSession() override;

  /// Opens files and directories. When they hold a Scenario, its `files` are the mesh and its
  /// steps become playable; otherwise every loaded resource is the mesh. The mesh is applied
  /// as the built-in administrator to a fresh management plane. Stops a running mesh and the
  /// player. Emits topologyChanged(), auditChanged(), scenarioChanged() and stepped().
  void open(const QStringList& paths);

  /// Why the last open() could not build a mesh (unreadable input, validation errors, a
  /// scenario that does not parse, a state that cannot be opened); empty when it could.
  const QString& openError() const;
  /// The topology of the latest snapshot, with the latest live figures on its edges.
  const TopologyView& topology() const;
  /// The blast radius of workload `workload` ("ns/name") in the latest snapshot.
  BlastView blastRadius(const QString& workload) const;
  /// Parses `yaml` and applies its resources as `user` to the current state (the player's,
  /// once it has played a step). A running mesh is reconfigured. With `dry_run` the change is
  /// tried on a copy of the state and nothing is committed; the report then says what would
  /// happen, including the topology edges that would change.
  ApplyReport apply(const QString& yaml, const QString& user, bool dry_run);
  /// Every audit record of the current state, oldest first.
  const QList<AuditEntry>& audit() const;
  /// "admin" followed by the User resources of the configuration.
  QStringList users() const;
  /// Workload ids ("ns/name") and Service ids ("ns/name") of the latest snapshot.
  QStringList workloads() const;
  QStringList services() const;

  /// The scenario's description and steps (empty without a scenario).
  const QString& scenarioDescription() const;
  const QList<StepView>& steps() const;
  /// Number of steps already played.
  int stepsDone() const;
  /// True while a step (or the replay of step back) runs on the engine thread.
  bool stepping() const;
  /// Runs the next step with the engine's ScenarioRunner on the live mesh: the first step
  /// starts the runner (a fresh state with the scenario's files, its own mesh), replacing the
  /// session's state and mesh. Asynchronous: stepped() reports the outcome. False when there is
  /// no scenario, no step is left, a step is already running, or there is no data plane (then
  /// stepMessage() says so).
  bool stepForward();
  /// Goes back one step: a fresh runner replays every earlier step from the start (state
  /// cannot be undone in place). Asynchronous, as stepForward(). False at the start or while a
  /// step runs.
  bool stepBack();
  /// The last step's outcome, for people ("apply ...: 1 accepted, 0 refused").
  const QString& stepMessage() const;

  /// True when a data plane factory was provided (the real program; see data_plane_hookup.h).
  bool canStartMesh() const;
  /// True when the mesh runs (or is starting).
  bool meshRunning() const;
  /// Starts the mesh with the current state (asynchronous; meshStateChanged() reports).
  void startMesh();
  /// Stops the mesh and the traffic (asynchronous). A player's state is kept: editing goes on
  /// against it, and the next step replays the scenario from the start.
  void stopMesh();
  /// Sends `requests` requests from workload `from` ("ns/name") to Service `to` ("ns/name")
  /// with `concurrency` parallel clients. Rates are measured over the burst.
  void sendTraffic(const QString& from, const QString& to, int requests, int concurrency);
  /// Sends `rps` requests each second until stopTraffic() (0 stops); starts the mesh if needed.
  void startTraffic(const QString& from, const QString& to, int rps);
  void stopTraffic();
  /// True while continuous traffic runs.
  bool trafficRunning() const;
  /// Attacks the predicted blast radius of `workload` for real on the running mesh
  /// (meshsim::verifyBlastRadius on the engine thread) and reads the certificate it holds now.
  /// Asynchronous: blastVerified() reports.
  void verifyBlastRadius(const QString& workload);
  /// True while engine-thread jobs are outstanding.
  bool busy() const;
  /// Every metrics sample received since the mesh started, oldest first.
  const QList<MetricsSample>& metricsHistory() const;

 signals:
  /// The snapshot or the live figures changed: topology() is new.
  void topologyChanged();
  /// The configuration changed (open, apply, a scenario step): workloads(), services(),
  /// users() and blastRadius() may answer differently. Emitted after topologyChanged().
  void configurationChanged();
  /// The audit records changed.
  void auditChanged();
  /// open() replaced the scenario.
  void scenarioChanged();
  /// A step was played or undone (or open() reset the player).
  void stepped();
  /// A running step made progress (traffic steps: "step 8: 200 of 400 requests").
  void stepProgress(const QString& what);
  /// The mesh started, stopped or failed; `message` says which.
  void meshStateChanged(const QString& message);
  /// A burst finished.
  void trafficDone(const meshsim::gui::TrafficReport& report);
  /// New telemetry arrived.
  void metricsSampled(const meshsim::gui::MetricsSample& sample);
  /// verifyBlastRadius() finished.
  void blastVerified(const meshsim::gui::BlastVerifyReport& report);
  /// The last outstanding engine-thread job finished.
  void idle();

 private:
  friend struct MeshSessionAccess;
  struct Impl;
  void post(std::function<void()> job);
  void call(const std::function<void()>& job);
  void finished();
  void tick();
  void rebuildTopology();
  void takeMirror(const detail::Mirror& mirror);
  void takeFigures(const detail::Figures& figures);
  void runStep(bool back);

  std::unique_ptr<Impl> impl_;
  QTimer* traffic_timer_;
};

}  // namespace meshsim::gui
