#include "panels/resource_tree_view.h"

#include "panels/empty_state.h"

namespace meshsim::gui {

ResourceTreeView::ResourceTreeView(QWidget* parent) : QTreeView(parent) {}

void ResourceTreeView::setPlaceholderText(const QString& text) {
  placeholder_ = text;
  viewport()->update();
}

void ResourceTreeView::paintEvent(QPaintEvent* event) {
  QTreeView::paintEvent(event);
  drawEmptyState(this, placeholder_);
}

}  // namespace meshsim::gui
