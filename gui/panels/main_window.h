#pragma once
/// The main window: the topology page (Graphviz layout of the live mesh) and the configuration
/// page (resource tree, details, diagnostics); docks for the scenario player, traffic, blast
/// radius and the YAML editor (right), metrics and the audit log (bottom); a status bar.

#include <QImage>
#include <QMainWindow>
#include <QSize>
#include <QStringList>

class QAction;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTabWidget;

namespace meshsim::gui {

class AuditPanel;
class BlastPanel;
class ConfigSession;
class EditorPanel;
class MeshSession;
class MetricsPanel;
class PlayerPanel;
class TopologyPanel;
class TopologyScene;
class TrafficPanel;
class DetailsPanel;
class DiagnosticsModel;
class DiagnosticsView;
class ResourceTreeModel;
class ResourceTreeView;

/// Size of the window that --screenshot renders.
inline constexpr QSize kScreenshotSize{1400, 900};

/// The desktop program's window. Owns its sessions, models and panels. GUI thread only.
class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  /// An empty window; nothing is loaded until openPaths().
  explicit MainWindow(QWidget* parent = nullptr);

  /// Loads `paths` (files and directories) and shows the outcome; the previous configuration is
  /// replaced. Unreadable paths show up as diagnostics.
  void openPaths(const QStringList& paths);
  /// Loads the current paths again (File > Reload, F5), keeping the selected resource selected
  /// when it still exists.
  void reload();
  /// Plays the next `steps` steps of the opened scenario on the live mesh, waiting (in a local
  /// event loop, never sleeping) for each to finish. Returns the number of steps played, which
  /// is smaller when the scenario has fewer steps or the player cannot run (no data plane, a
  /// mesh that does not start: the player's message says why).
  int playSteps(int steps);
  /// Shows the blast radius of `workload` ("ns/name") on the topology. False when it is not a
  /// workload of the mesh.
  bool compromise(const QString& workload);
  /// Runs "Verify live" on the blast radius shown (see compromise()) and waits for it. The
  /// blast panel shows the outcome.
  void verifyLive();
  /// Waits (local event loop) until the live mesh has no outstanding work.
  void waitForMesh();
  /// Starts the live mesh with the current state and waits until it runs (or failed). Returns
  /// whether it runs; the status bar says why not.
  bool startMesh();
  /// The mesh line of the status bar ("mesh running: 24 listeners", "mesh stopped" ...).
  QString meshStatusText() const;

  /// Renders the window at kScreenshotSize (showing it first, off screen when it is not visible
  /// yet) and returns the picture.
  QImage renderScreenshot();
  /// renderScreenshot() written as PNG to `file`. False, with the reason in `*error` (may be
  /// null), when the file could not be written.
  bool saveScreenshot(const QString& file, QString* error);

  /// The parts, for inspection (owned by the window).
  ConfigSession* session() const { return session_; }
  MeshSession* meshSession() const { return mesh_; }
  QTabWidget* pages() const { return pages_; }
  TopologyPanel* topologyPanel() const { return topology_panel_; }
  TopologyScene* topologyScene() const;
  EditorPanel* editorPanel() const { return editor_; }
  TrafficPanel* trafficPanel() const { return traffic_panel_; }
  BlastPanel* blastPanel() const { return blast_panel_; }
  MetricsPanel* metricsPanel() const { return metrics_panel_; }
  AuditPanel* auditPanel() const { return audit_panel_; }
  PlayerPanel* playerPanel() const { return player_panel_; }
  ResourceTreeModel* resourceModel() const { return resource_model_; }
  DiagnosticsModel* diagnosticsModel() const { return diagnostics_model_; }
  ResourceTreeView* resourceTree() const { return tree_; }
  QLineEdit* filterEdit() const { return filter_; }
  DiagnosticsView* diagnosticsView() const { return diagnostics_view_; }
  DetailsPanel* detailsPanel() const { return details_; }
  QAction* reloadAction() const { return reload_action_; }
  /// The status bar summary, "N resources, E errors, W warnings".
  QString statusText() const;

 private:
  void createMenus();
  void openFileDialog();
  void openFolderDialog();
  void showAbout();
  void onLoaded();
  void onTopologyChanged();
  void createDocks();
  void onResourceCurrentChanged(const QModelIndex& current);
  void onDiagnosticActivated(const QModelIndex& index);
  void onFilterChanged(const QString& text);
  QString currentResourceKey() const;
  bool selectResource(const QString& key);
  bool selectFirstResource();

  ConfigSession* session_;
  MeshSession* mesh_;
  QTabWidget* pages_ = nullptr;
  TopologyPanel* topology_panel_ = nullptr;
  EditorPanel* editor_ = nullptr;
  TrafficPanel* traffic_panel_ = nullptr;
  BlastPanel* blast_panel_ = nullptr;
  MetricsPanel* metrics_panel_ = nullptr;
  AuditPanel* audit_panel_ = nullptr;
  PlayerPanel* player_panel_ = nullptr;
  QLabel* status_mesh_ = nullptr;
  ResourceTreeModel* resource_model_;
  QSortFilterProxyModel* resource_proxy_;
  DiagnosticsModel* diagnostics_model_;
  QLineEdit* filter_;
  ResourceTreeView* tree_;
  DetailsPanel* details_;
  QLabel* diagnostics_caption_;
  DiagnosticsView* diagnostics_view_;
  QLabel* status_summary_;
  QLabel* status_files_;
  QAction* reload_action_ = nullptr;
};

}  // namespace meshsim::gui
