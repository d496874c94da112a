#include "panels/resource_tree_view.h"

#include "panels/placeholder.h"

namespace meshsim::gui {

ResourceTreeView::ResourceTreeView(QWidget* parent) : QTreeView(parent) {}

void ResourceTreeView::setPlaceholderText(const QString& text) {
  placeholder_ = text;
  viewport()->update();
}

void ResourceTreeView::paintEvent(QPaintEvent* event) {
  QTreeView::paintEvent(event);
  drawPlaceholder(this, placeholder_);
}

}  // namespace meshsim::gui
