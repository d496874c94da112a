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
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>

#include "app/config_session.h"
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
  setCentralWidget(vertical);

  status_summary_ = new QLabel(this);
  status_files_ = new QLabel(this);
  statusBar()->addWidget(status_summary_, 1);
  statusBar()->addPermanentWidget(status_files_);

  createMenus();

  connect(session_, &ConfigSession::loaded, this, &MainWindow::onLoaded);
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

void MainWindow::openPaths(const QStringList& paths) { session_->open(paths); }

void MainWindow::reload() { session_->reload(); }

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
