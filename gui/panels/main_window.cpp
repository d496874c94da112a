#include "panels/main_window.h"

#include <QAction>
#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QImageWriter>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>

#include <QComboBox>
#include <QDockWidget>
#include <QEventLoop>
#include <QTabWidget>

#include "app/config_session.h"
#include "app/mesh_session.h"
#include "graph/topology_scene.h"
#include "panels/editor_panel.h"
#include "panels/mesh_panels.h"
#include "panels/topology_panel.h"
#include "models/diagnostics_model.h"
#include "models/resource_tree_model.h"
#include "panels/details_panel.h"
#include "panels/diagnostics_view.h"
#include "panels/resource_tree_view.h"

namespace meshsim::gui {

namespace {

QLabel* makeCaption(const QString& text, QWidget* parent) {
  auto* label = new QLabel(text, parent);
  QFont font = label->font();
  font.setBold(true);
  label->setFont(font);
  return label;
}

QString plural(int n, const char* singular, const char* many) {
  return QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? singular : many));
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      session_(new ConfigSession(this)),
      mesh_(new MeshSession(this)),
      resource_model_(new ResourceTreeModel(this)),
      resource_proxy_(new QSortFilterProxyModel(this)),
      diagnostics_model_(new DiagnosticsModel(this)) {
  setWindowTitle(QStringLiteral("meshsim-gui"));
  resource_proxy_->setSourceModel(resource_model_);
  resource_proxy_->setRecursiveFilteringEnabled(true);
  resource_proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  resource_proxy_->setFilterKeyColumn(-1);

  // Left: filter and resource tree.
  auto* left = new QWidget(this);
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(6, 6, 0, 0);
  left_layout->addWidget(makeCaption(QStringLiteral("Resources"), left));
  filter_ = new QLineEdit(left);
  filter_->setPlaceholderText(QStringLiteral("Filter by kind, name or scope"));
  filter_->setClearButtonEnabled(true);
  left_layout->addWidget(filter_);
  tree_ = new ResourceTreeView(left);
  tree_->setModel(resource_proxy_);
  tree_->setUniformRowHeights(true);
  tree_->setAlternatingRowColors(true);
  tree_->setSelectionMode(QAbstractItemView::SingleSelection);
  tree_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  tree_->header()->setStretchLastSection(false);
  tree_->header()->setSectionResizeMode(ResourceTreeModel::kNameColumn, QHeaderView::Stretch);
  tree_->header()->setSectionResizeMode(ResourceTreeModel::kScopeColumn,
                                        QHeaderView::ResizeToContents);
  tree_->header()->setSectionResizeMode(ResourceTreeModel::kCountColumn,
                                        QHeaderView::ResizeToContents);
  left_layout->addWidget(tree_, 1);

  // Right: details.
  details_ = new DetailsPanel(this);

  auto* top = new QSplitter(Qt::Horizontal, this);
  top->addWidget(left);
  top->addWidget(details_);
  top->setStretchFactor(0, 0);
  top->setStretchFactor(1, 1);
  top->setSizes({440, 840});

  // Bottom: diagnostics.
  auto* bottom = new QWidget(this);
  auto* bottom_layout = new QVBoxLayout(bottom);
  bottom_layout->setContentsMargins(6, 0, 6, 0);
  diagnostics_caption_ = makeCaption(QStringLiteral("Diagnostics"), bottom);
  bottom_layout->addWidget(diagnostics_caption_);
  diagnostics_view_ = new DiagnosticsView(bottom);
  diagnostics_view_->setModel(diagnostics_model_);
  diagnostics_view_->setPlaceholderText(QStringLiteral("Nothing loaded."));
  QHeaderView* columns = diagnostics_view_->horizontalHeader();
  columns->resizeSection(DiagnosticsModel::kSeverityColumn, 80);
  columns->resizeSection(DiagnosticsModel::kLocationColumn, 360);
  columns->resizeSection(DiagnosticsModel::kFieldColumn, 200);
  bottom_layout->addWidget(diagnostics_view_, 1);

  auto* vertical = new QSplitter(Qt::Vertical, this);
  vertical->addWidget(top);
  vertical->addWidget(bottom);
  vertical->setStretchFactor(0, 1);
  vertical->setStretchFactor(1, 0);
  vertical->setSizes({620, 160});

  pages_ = new QTabWidget(this);
  pages_->setDocumentMode(true);
  topology_panel_ = new TopologyPanel(pages_);
  pages_->addTab(topology_panel_, QStringLiteral("Topology"));
  pages_->addTab(vertical, QStringLiteral("Configuration"));
  setCentralWidget(pages_);
  createDocks();

  status_summary_ = new QLabel(this);
  status_files_ = new QLabel(this);
  status_mesh_ = new QLabel(this);
  statusBar()->addWidget(status_summary_, 1);
  statusBar()->addPermanentWidget(status_mesh_);
  statusBar()->addPermanentWidget(status_files_);

  createMenus();

  connect(session_, &ConfigSession::loaded, this, &MainWindow::onLoaded);
  connect(mesh_, &MeshSession::topologyChanged, this, &MainWindow::onTopologyChanged);
  // Live figures arrive several times a second; the lists and the blast radius follow only
  // changes of the configuration.
  connect(mesh_, &MeshSession::configurationChanged, this, [this] {
    blast_panel_->refresh();
    traffic_panel_->refresh();
    editor_->setUsers(mesh_->users());
  });
  connect(mesh_, &MeshSession::meshStateChanged, status_mesh_, &QLabel::setText);
  connect(tree_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& current) { onResourceCurrentChanged(current); });
  connect(diagnostics_view_, &QAbstractItemView::activated, this,
          &MainWindow::onDiagnosticActivated);
  connect(filter_, &QLineEdit::textChanged, this, &MainWindow::onFilterChanged);

  onLoaded();
  resize(kScreenshotSize);
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
  QAction* open_file = file->addAction(QStringLiteral("&Open File..."));
  open_file->setShortcut(QKeySequence::Open);
  connect(open_file, &QAction::triggered, this, &MainWindow::openFileDialog);
  QAction* open_folder = file->addAction(QStringLiteral("Open &Folder..."));
  open_folder->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  connect(open_folder, &QAction::triggered, this, &MainWindow::openFolderDialog);
  reload_action_ = file->addAction(QStringLiteral("&Reload"));
  reload_action_->setShortcut(QKeySequence(Qt::Key_F5));
  connect(reload_action_, &QAction::triggered, this, &MainWindow::reload);
  file->addSeparator();
  QAction* quit = file->addAction(QStringLiteral("&Quit"));
  quit->setShortcut(QKeySequence::Quit);
  connect(quit, &QAction::triggered, this, &QWidget::close);

  QMenu* help = menuBar()->addMenu(QStringLiteral("&Help"));
  QAction* about = help->addAction(QStringLiteral("&About meshsim-gui"));
  connect(about, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::createDocks() {
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
  auto* side = new QTabWidget(this);
  player_panel_ = new PlayerPanel(mesh_, side);
  traffic_panel_ = new TrafficPanel(mesh_, side);
  blast_panel_ = new BlastPanel(mesh_, topology_panel_->scene(), side);
  editor_ = new EditorPanel(side);
  side->addTab(player_panel_, QStringLiteral("Scenario"));
  side->addTab(traffic_panel_, QStringLiteral("Traffic"));
  side->addTab(blast_panel_, QStringLiteral("Blast radius"));
  side->addTab(editor_, QStringLiteral("Editor"));
  auto* right = new QDockWidget(QStringLiteral("Mesh"), this);
  right->setObjectName(QStringLiteral("mesh-dock"));
  right->setWidget(side);
  addDockWidget(Qt::RightDockWidgetArea, right);

  auto* bottom_tabs = new QTabWidget(this);
  metrics_panel_ = new MetricsPanel(mesh_, bottom_tabs);
  audit_panel_ = new AuditPanel(mesh_, bottom_tabs);
  bottom_tabs->addTab(metrics_panel_, QStringLiteral("Metrics"));
  bottom_tabs->addTab(audit_panel_, QStringLiteral("Audit log"));
  auto* bottom = new QDockWidget(QStringLiteral("Observe"), this);
  bottom->setObjectName(QStringLiteral("observe-dock"));
  bottom->setWidget(bottom_tabs);
  addDockWidget(Qt::BottomDockWidgetArea, bottom);
  resizeDocks({right}, {420}, Qt::Horizontal);
  resizeDocks({bottom}, {270}, Qt::Vertical);

  connect(editor_, &EditorPanel::applyRequested, this,
          [this](const QString& text, const QString& user, bool dry_run) {
            editor_->showReport(mesh_->apply(text, user, dry_run));
          });
  connect(topology_panel_->scene(), &TopologyScene::nodeActivated, this, [this, side](const QString& id) {
    if (mesh_->workloads().contains(id)) {
      blast_panel_->workloadBox()->setCurrentText(id);
      traffic_panel_->fromBox()->setCurrentText(id);
    }
    (void)side;
  });
  connect(mesh_, &MeshSession::scenarioChanged, this, [this, side] {
    side->setCurrentWidget(mesh_->steps().isEmpty() ? static_cast<QWidget*>(traffic_panel_)
                                                    : player_panel_);
  });
}

void MainWindow::openPaths(const QStringList& paths) {
  session_->open(paths);
  mesh_->open(paths);
  traffic_panel_->refresh();
  blast_panel_->clear();
  blast_panel_->refresh();
  editor_->setUsers(mesh_->users());
  // A configuration that cannot become a mesh is best understood from its diagnostics.
  pages_->setCurrentWidget(mesh_->topology().nodes.isEmpty() ? pages_->widget(1)
                                                             : topology_panel_);
}

void MainWindow::reload() {
  session_->reload();
  if (!session_->paths().isEmpty()) openPaths(QStringList(session_->paths()));
}

TopologyScene* MainWindow::topologyScene() const { return topology_panel_->scene(); }

void MainWindow::onTopologyChanged() {
  TopologyScene* scene = topology_panel_->scene();
  const QRectF before = scene->sceneRect();
  const TopologyView& topology = mesh_->topology();
  scene->setTopology(topology);
  if (scene->sceneRect() != before) topology_panel_->view()->fitAll();
  int refused = 0;
  for (const EdgeView& e : topology.edges) refused += e.allowed ? 0 : 1;
  if (!topology.error.isEmpty()) {
    topology_panel_->setMessage(topology.error);
  } else if (!mesh_->openError().isEmpty()) {
    topology_panel_->setMessage(mesh_->openError());
  } else if (!topology.nodes.isEmpty()) {
    topology_panel_->setMessage(
        QStringLiteral("%1 workloads · %2 calls · %3 refused · double-click a box to collapse it")
            .arg(topology.nodes.size())
            .arg(topology.edges.size())
            .arg(refused));
  } else {
    topology_panel_->setMessage(QString());
  }
}

void MainWindow::waitForMesh() {
  if (!mesh_->busy()) return;
  QEventLoop loop;
  connect(mesh_, &MeshSession::idle, &loop, &QEventLoop::quit);
  loop.exec();
}

void MainWindow::verifyLive() {
  blast_panel_->verifyButton()->click();
  waitForMesh();
}

bool MainWindow::startMesh() {
  if (!mesh_->meshRunning()) mesh_->startMesh();
  waitForMesh();
  return mesh_->meshRunning();
}

QString MainWindow::meshStatusText() const { return status_mesh_->text(); }

int MainWindow::playSteps(int steps) {
  waitForMesh();
  const int start = mesh_->stepsDone();
  while (mesh_->stepsDone() - start < steps) {
    const int before = mesh_->stepsDone();
    if (!mesh_->stepForward()) break;
    waitForMesh();
    if (mesh_->stepsDone() <= before) break;  // the runner could not run it
  }
  return mesh_->stepsDone() - start;
}

bool MainWindow::compromise(const QString& workload) {
  if (!mesh_->workloads().contains(workload)) return false;
  blast_panel_->compromise(workload);
  if (auto* tabs = qobject_cast<QTabWidget*>(blast_panel_->parentWidget()->parentWidget())) {
    tabs->setCurrentWidget(blast_panel_);
  }
  return true;
}

void MainWindow::openFileDialog() {
  const QStringList files =
      QFileDialog::getOpenFileNames(this, QStringLiteral("Open configuration files"), QString(),
                                    QStringLiteral("YAML files (*.yaml *.yml);;All files (*)"));
  if (!files.isEmpty()) openPaths(files);
}

void MainWindow::openFolderDialog() {
  const QString dir =
      QFileDialog::getExistingDirectory(this, QStringLiteral("Open configuration folder"));
  if (!dir.isEmpty()) openPaths({dir});
}

void MainWindow::showAbout() {
  QMessageBox::about(this, QStringLiteral("About meshsim-gui"),
                     QStringLiteral("meshsim-gui: the desktop view of meshsim, a zero-trust "
                                    "service-mesh testbed."));
}

void MainWindow::onLoaded() {
  const QString previous_key = currentResourceKey();
  const ConfigView& view = session_->view();

  resource_model_->setKinds(view.kinds);
  diagnostics_model_->setDiagnostics(view.diagnostics);
  tree_->expandAll();

  status_summary_->setText(summaryText(view));
  status_files_->setText(view.paths.isEmpty()
                             ? QString()
                             : plural(static_cast<int>(view.files.size()), "file", "files"));
  reload_action_->setEnabled(!view.paths.isEmpty());
  setWindowTitle(
      view.paths.isEmpty()
          ? QStringLiteral("meshsim-gui")
          : QStringLiteral("%1 - meshsim-gui").arg(view.paths.join(QStringLiteral(", "))));

  tree_->setPlaceholderText(view.paths.isEmpty() ? QStringLiteral("Nothing loaded.")
                                                 : QStringLiteral("No resources."));
  if (view.paths.isEmpty()) {
    diagnostics_caption_->setText(QStringLiteral("Diagnostics"));
    diagnostics_view_->setPlaceholderText(QStringLiteral("Nothing loaded."));
  } else {
    diagnostics_caption_->setText(QStringLiteral("Diagnostics: %1, %2")
                                      .arg(plural(view.errorCount(), "error", "errors"),
                                           plural(view.warningCount(), "warning", "warnings")));
    diagnostics_view_->setPlaceholderText(
        QStringLiteral("No problems found in %1.")
            .arg(plural(static_cast<int>(view.files.size()), "file", "files")));
  }

  if (!previous_key.isEmpty() && selectResource(previous_key)) return;
  if (selectFirstResource()) return;
  if (!view.diagnostics.isEmpty()) {
    const QModelIndex first = diagnostics_model_->index(0, 0);
    diagnostics_view_->setCurrentIndex(first);
    onDiagnosticActivated(first);
    return;
  }
  if (view.paths.isEmpty()) {
    details_->showHint(QStringLiteral("No configuration loaded"),
                       QStringLiteral("Open a file or a folder of meshsim YAML (File menu), or "
                                      "pass paths on the command line."));
  } else {
    details_->showHint(QStringLiteral("No resources"),
                       QStringLiteral("%1 holds no meshsim or Istio resources.")
                           .arg(view.paths.join(QStringLiteral(", "))));
  }
}

void MainWindow::onResourceCurrentChanged(const QModelIndex& current) {
  const QModelIndex source = resource_proxy_->mapToSource(current);
  if (!source.isValid()) return;
  if (const ResourceInfo* resource = resource_model_->resourceAt(source)) {
    details_->showResource(*resource);
    return;
  }
  const QModelIndex kind = source.siblingAtColumn(0);
  details_->showKind(kind.data(ResourceTreeModel::kKindRole).toString(),
                     kind.data(ResourceTreeModel::kCountRole).toInt());
}

void MainWindow::onDiagnosticActivated(const QModelIndex& index) {
  const DiagnosticInfo* diagnostic = diagnostics_model_->diagnosticAt(index);
  if (diagnostic == nullptr) return;
  // Clearing the tree first means a later click on any resource is a change and shows it.
  tree_->selectionModel()->clear();
  details_->showDiagnostic(*diagnostic);
}

void MainWindow::onFilterChanged(const QString& text) {
  resource_proxy_->setFilterFixedString(text);
  tree_->expandAll();
}

QString MainWindow::currentResourceKey() const {
  const QModelIndex source = resource_proxy_->mapToSource(tree_->currentIndex());
  const ResourceInfo* resource = resource_model_->resourceAt(source);
  return resource != nullptr ? resource->key() : QString();
}

bool MainWindow::selectResource(const QString& key) {
  const QModelIndex proxy = resource_proxy_->mapFromSource(resource_model_->indexOfKey(key));
  if (!proxy.isValid()) return false;
  tree_->setCurrentIndex(proxy);
  tree_->scrollTo(proxy);
  return true;
}

bool MainWindow::selectFirstResource() {
  for (int k = 0; k < resource_proxy_->rowCount(); ++k) {
    const QModelIndex kind = resource_proxy_->index(k, 0);
    if (resource_proxy_->rowCount(kind) == 0) continue;
    const QModelIndex first = resource_proxy_->index(0, 0, kind);
    tree_->setCurrentIndex(first);
    // The first resource sits right under the first kind: show that kind too.
    tree_->scrollToTop();
    return true;
  }
  return false;
}

QString MainWindow::statusText() const { return status_summary_->text(); }

QImage MainWindow::renderScreenshot() {
  resize(kScreenshotSize);
  if (!isVisible()) {
    setAttribute(Qt::WA_DontShowOnScreen, true);
    show();
  }
  // Layout requests and resizes are posted events; run them before grabbing.
  QCoreApplication::processEvents();
  topology_panel_->view()->fitAll();
  QCoreApplication::processEvents();
  QImage image = grab().toImage();
  if (image.size() != kScreenshotSize) {
    // A high-DPI screen grabs at device pixels; the PNG has the documented size.
    image = image.scaled(kScreenshotSize, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  }
  return image;
}

bool MainWindow::saveScreenshot(const QString& file, QString* error) {
  const QImage image = renderScreenshot();
  QImageWriter writer(file, "png");
  if (writer.write(image)) return true;
  if (error != nullptr)
    *error = QStringLiteral("cannot write %1: %2").arg(file, writer.errorString());
  return false;
}

}  // namespace meshsim::gui
