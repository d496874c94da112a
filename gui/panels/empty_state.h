#pragma once
/// The hint drawn in the middle of an empty item view ("Nothing loaded.", "No resources.").

#include <QAbstractItemView>
#include <QString>

namespace meshsim::gui {

/// Draws `text` centred in `view`'s viewport, in the palette's placeholder-text colour, when
/// `view`'s model is absent or has no rows and `text` is not empty. Call from the view's
/// paintEvent() after the base class has painted. GUI thread only.
void drawEmptyState(QAbstractItemView* view, const QString& text);

}  // namespace meshsim::gui
