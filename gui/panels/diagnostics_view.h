#pragma once
/// The table of diagnostics at the bottom of the main window.

#include <QTableView>

namespace meshsim::gui {

/// A QTableView that says so when there is nothing to show, and elides long locations on the
/// left so that the file name and line stay visible. GUI thread only.
class DiagnosticsView : public QTableView {
  Q_OBJECT

 public:
  /// An empty view; set a DiagnosticsModel (or any table model) with setModel().
  explicit DiagnosticsView(QWidget* parent = nullptr);

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
