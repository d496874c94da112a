#include "panels/topology_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>

#include "graph/topology_scene.h"

namespace meshsim::gui {

TopologyGraphicsView::TopologyGraphicsView(TopologyScene* scene, QWidget* parent)
    : QGraphicsView(scene, parent) {
  setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
  setDragMode(QGraphicsView::ScrollHandDrag);
  setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
  setFrameShape(QFrame::NoFrame);
}

void TopologyGraphicsView::zoomBy(double factor) { scale(factor, factor); }

void TopologyGraphicsView::fitAll() {
  if (scene() == nullptr || scene()->sceneRect().isEmpty()) return;
  resetTransform();
  fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
  // Never blow small graphs up beyond their natural size.
  if (transform().m11() > 1.0) resetTransform();
}

void TopologyGraphicsView::wheelEvent(QWheelEvent* event) {
  zoomBy(event->angleDelta().y() > 0 ? 1.15 : 1 / 1.15);
  event->accept();
}

TopologyPanel::TopologyPanel(QWidget* parent)
    : QWidget(parent), scene_(new TopologyScene(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  auto* bar = new QHBoxLayout();
  bar->setContentsMargins(6, 4, 6, 0);
  search_ = new QLineEdit(this);
  search_->setPlaceholderText(QStringLiteral("Search workloads"));
  search_->setClearButtonEnabled(true);
  search_->setMaximumWidth(260);
  bar->addWidget(search_);
  auto button = [&](const QString& text, const QString& tip) {
    auto* b = new QToolButton(this);
    b->setText(text);
    b->setToolTip(tip);
    bar->addWidget(b);
    return b;
  };
  QToolButton* zoom_in = button(QStringLiteral("+"), QStringLiteral("Zoom in"));
  QToolButton* zoom_out = button(QStringLiteral("−"), QStringLiteral("Zoom out"));
  QToolButton* fit = button(QStringLiteral("Fit"), QStringLiteral("Fit the whole mesh"));
  message_ = new QLabel(this);
  message_->setStyleSheet(QStringLiteral("color: #546e7a;"));
  bar->addWidget(message_, 1);
  layout->addLayout(bar);
  view_ = new TopologyGraphicsView(scene_, this);
  layout->addWidget(view_, 1);
  connect(zoom_in, &QToolButton::clicked, this, [this] { view_->zoomBy(1.2); });
  connect(zoom_out, &QToolButton::clicked, this, [this] { view_->zoomBy(1 / 1.2); });
  connect(fit, &QToolButton::clicked, view_, &TopologyGraphicsView::fitAll);
  connect(search_, &QLineEdit::textChanged, this, [this](const QString& text) {
    const int n = scene_->setSearch(text);
    if (!text.trimmed().isEmpty()) setMessage(QStringLiteral("%1 matching").arg(n));
  });
}

void TopologyPanel::setMessage(const QString& text) { message_->setText(text); }

}  // namespace meshsim::gui
