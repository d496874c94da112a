#include "panels/empty_state.h"

#include <QPainter>

namespace meshsim::gui {

void drawEmptyState(QAbstractItemView* view, const QString& text) {
  if (text.isEmpty() || (view->model() != nullptr && view->model()->rowCount() > 0)) return;
  QPainter painter(view->viewport());
  painter.setPen(view->palette().color(QPalette::PlaceholderText));
  painter.drawText(view->viewport()->rect().adjusted(12, 12, -12, -12),
                   Qt::AlignCenter | Qt::TextWordWrap, text);
}

}  // namespace meshsim::gui
