#pragma once
/// The main window: resource tree (left), details (right), diagnostics (bottom), status bar.

#include <QImage>
#include <QMainWindow>
#include <QSize>
#include <QStringList>

class QAction;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;

namespace meshsim::gui {

class ConfigSession;
class DetailsPanel;
class DiagnosticsModel;
class DiagnosticsView;
class ResourceTreeModel;
class ResourceTreeView;

/// Size of the window that --screenshot renders.
inline constexpr QSize kScreenshotSize{1280, 800};

/// The configuration browser. Owns its session, models and panels. GUI thread only.
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

  /// Renders the window at kScreenshotSize (showing it first, off screen when it is not visible
  /// yet) and returns the picture.
  QImage renderScreenshot();
  /// renderScreenshot() written as PNG to `file`. False, with the reason in `*error` (may be
  /// null), when the file could not be written.
  bool saveScreenshot(const QString& file, QString* error);

  /// The parts, for inspection (owned by the window).
  ConfigSession* session() const { return session_; }
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
  void onResourceCurrentChanged(const QModelIndex& current);
  void onDiagnosticActivated(const QModelIndex& index);
  void onFilterChanged(const QString& text);
  QString currentResourceKey() const;
  bool selectResource(const QString& key);
  bool selectFirstResource();

  ConfigSession* session_;
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
