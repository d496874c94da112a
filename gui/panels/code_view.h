#pragma once
/// A read-only, monospace view of YAML lines with file line numbers in a gutter.

#include <QPlainTextEdit>
#include <QStringList>

namespace meshsim::gui {

/// Shows a range of a file's lines, numbered as in the file, and can mark one line (the target
/// of a diagnostic). Read-only; YAML keys, comments and strings are coloured. GUI thread only.
class CodeView : public QPlainTextEdit {
  Q_OBJECT

 public:
  /// An empty view.
  explicit CodeView(QWidget* parent = nullptr);

  /// Shows `lines`, numbering the first one `first_line` (>= 1). Clears the marked line and puts
  /// the cursor at the top.
  void setLines(const QStringList& lines, int first_line = 1);
  /// Shows nothing but `message` (in the placeholder colour).
  void showMessage(const QString& message);
  /// Marks file line `line` (as numbered by setLines()), puts the cursor at 1-based `column` of it
  /// and scrolls it to the middle of the view. Ignored when the line is not shown.
  void markLine(int line, int column = 1);

  /// Number of the first line shown.
  int firstLineNumber() const { return first_line_; }
  /// The marked line; 0 when none.
  int markedLine() const { return marked_line_; }
  /// The file line number of the line holding the cursor.
  int cursorLineNumber() const;
  /// Width the line-number gutter needs for the current line numbers.
  int gutterWidth() const;

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  friend class LineNumberGutter;
  void paintGutter(QPaintEvent* event);
  void updateGutterWidth();
  void updateGutter(const QRect& rect, int dy);
  void scrollToMark();

  QWidget* gutter_;
  int first_line_ = 1;
  int marked_line_ = 0;
  bool center_pending_ = false;  ///< the mark was set before the view had its real size
};

}  // namespace meshsim::gui
