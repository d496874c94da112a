#pragma once
/// The tree of resources on the left of the main window.

#include <QTreeView>

namespace meshsim::gui {

/// A QTreeView that says so when there is nothing to show. GUI thread only.
class ResourceTreeView : public QTreeView {
  Q_OBJECT

 public:
  /// An empty view; set a model with setModel().
  explicit ResourceTreeView(QWidget* parent = nullptr);

  /// Text drawn in the middle of the view while the model has no rows.
  void setPlaceholderText(const QString& text);
  /// The current placeholder text.
  QString placeholderText() const { return placeholder_; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QString placeholder_;
};

}  // namespace meshsim::gui
