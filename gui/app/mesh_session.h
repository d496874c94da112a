#pragma once
/// The engine bridge of the desktop program: a management plane (in a private temporary state
/// directory) holding the opened configuration, the topology and blast radius computed from its
/// latest snapshot, editor applies as a chosen user (and their dry runs), the audit log, a
/// scenario's steps, and a live mesh whose engine calls run on one worker thread. Everything it
/// hands out is a Qt value type (app/mesh_view.h); engine types stay inside gui/app/.

#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>

#include "app/mesh_view.h"

class QTimer;

namespace meshsim::gui {

/// Owns the engine objects behind the window. Lives on the GUI thread; its methods are not
/// thread-safe. The live mesh (start, traffic, verify) runs on a worker thread: those calls
/// return at once and their results arrive as signals.
class MeshSession : public QObject {
  Q_OBJECT

 public:
  /// An empty session: no configuration, no mesh.
  explicit MeshSession(QObject* parent = nullptr);
  /// Stops the live mesh and joins the worker thread.
  ~MeshSession() override;

  /// Opens files and directories. When they hold a Scenario, its `files` are the mesh and its
  /// steps become playable; otherwise every loaded resource is the mesh. The mesh is applied
  /// as the built-in administrator to a fresh management plane. Stops a running mesh. Emits
  /// topologyChanged(), auditChanged() and scenarioChanged().
  void open(const QStringList& paths);

  /// Why the last open() could not build a mesh (unreadable input, validation errors, a state
  /// that cannot be opened); empty when it could.
  const QString& openError() const;
  /// The topology of the latest snapshot, with the latest live figures on its edges.
  const TopologyView& topology() const;
  /// The blast radius of workload `workload` ("ns/name") in the latest snapshot.
  BlastView blastRadius(const QString& workload) const;
  /// Parses `yaml` and applies its resources as `user`. With `dry_run` the change is tried on a
  /// copy of the state and nothing is committed; the report then says what would happen,
  /// including the topology edges that would change.
  ApplyReport apply(const QString& yaml, const QString& user, bool dry_run);
  /// Every audit record, oldest first.
  QList<AuditEntry> audit() const;
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
  /// Plays the next step; false when none is left. Traffic steps start the mesh if needed and
  /// finish asynchronously (see busy()).
  bool stepForward();
  /// Goes back one step: the state is rebuilt from the mesh files and every earlier step except
  /// traffic is played again (state changes cannot be undone in place). False at the start.
  bool stepBack();
  /// The last step's outcome, for people ("applied ...", "refused: ...").
  const QString& stepMessage() const;

  /// True when a data plane factory was provided (the real program; tests use a fake).
  bool canStartMesh() const;
  /// True when the mesh runs.
  bool meshRunning() const;
  /// Starts the mesh with the latest snapshot (asynchronous; meshStateChanged() reports).
  void startMesh();
  /// Stops the mesh (asynchronous).
  void stopMesh();
  /// Sends `requests` requests from workload `from` ("ns/name") to Service `to` ("ns/name").
  void sendTraffic(const QString& from, const QString& to, int requests, int concurrency);
  /// Sends `rps` requests each second until stopTraffic() (0 stops).
  void startTraffic(const QString& from, const QString& to, int rps);
  void stopTraffic();
  /// True while continuous traffic runs.
  bool trafficRunning() const;
  /// Presents `stolen`'s current certificate (as an attacker who compromised it) to workload
  /// `target` through the real sidecars and compares with the prediction.
  void verifyCredential(const QString& stolen, const QString& target);
  /// True while worker-thread jobs are outstanding.
  bool busy() const;
  /// Every metrics sample received since the mesh started, oldest first.
  const QList<MetricsSample>& metricsHistory() const;

 signals:
  /// The snapshot or the live figures changed: topology() is new.
  void topologyChanged();
  /// New audit records exist.
  void auditChanged();
  /// open() replaced the scenario.
  void scenarioChanged();
  /// A step was played or undone.
  void stepped();
  /// The mesh started, stopped or failed; `message` says which.
  void meshStateChanged(const QString& message);
  /// A burst finished.
  void trafficDone(const meshsim::gui::TrafficReport& report);
  /// New telemetry arrived.
  void metricsSampled(const meshsim::gui::MetricsSample& sample);
  /// verifyCredential() finished.
  void verified(const meshsim::gui::VerifyReport& report);
  /// The last outstanding worker job finished.
  void idle();

 private:
  friend struct MeshSessionAccess;
  struct Impl;
  void rebuildTopology();
  void playStep(int index, bool with_traffic);
  void resetState();
  void snapshotChanged();
  void post(std::function<void()> job);
  void finished();
  void tick();

  std::unique_ptr<Impl> impl_;
  QTimer* traffic_timer_;
};

}  // namespace meshsim::gui
