#pragma once
/// A hint drawn in the middle of an empty item view.

#include <QAbstractItemView>
#include <QString>

namespace meshsim::gui {

/// Draws `text` centred in `view`'s viewport, in the placeholder colour, when `view`'s model is
/// absent or has no rows and `text` is not empty. Call from the view's paintEvent() after the
/// base class has painted.
void drawPlaceholder(QAbstractItemView* view, const QString& text);

}  // namespace meshsim::gui
