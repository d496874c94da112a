#include "panels/code_view.h"

#include <QFontDatabase>
#include <QPaintEvent>
#include <QPainter>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSyntaxHighlighter>
#include <QTextBlock>
#include <QTextCharFormat>

namespace meshsim::gui {

/// The gutter left of a CodeView; it only forwards painting to its view.
class LineNumberGutter : public QWidget {
 public:
  explicit LineNumberGutter(CodeView* view) : QWidget(view), view_(view) {}
  QSize sizeHint() const override { return {view_->gutterWidth(), 0}; }

 protected:
  void paintEvent(QPaintEvent* event) override { view_->paintGutter(event); }

 private:
  CodeView* view_;
};

namespace {

// Enough YAML colouring to read resources at a glance: keys, comments, quoted strings and
// document markers. Block-local: multi-line scalars are left uncoloured.
class YamlHighlighter : public QSyntaxHighlighter {
 public:
  explicit YamlHighlighter(QTextDocument* document)
      : QSyntaxHighlighter(document),
        key_(QStringLiteral(R"((?:^|[{,\s])([A-Za-z0-9_.\-/]+)(?=:(?:\s|$)))")),
        string_(QStringLiteral(R"("(?:[^"\\]|\\.)*"|'[^']*')")),
        comment_(QStringLiteral(R"((?:^|\s)(#.*)$)")),
        marker_(QStringLiteral(R"(^(?:---|\.\.\.)(?:\s|$))")) {
    key_format_.setForeground(QColor(0x1a, 0x4f, 0x9c));
    string_format_.setForeground(QColor(0x2e, 0x7d, 0x32));
    comment_format_.setForeground(QColor(0x75, 0x75, 0x75));
    comment_format_.setFontItalic(true);
    marker_format_.setForeground(QColor(0x8e, 0x24, 0xaa));
    marker_format_.setFontWeight(QFont::Bold);
  }

 protected:
  void highlightBlock(const QString& text) override {
    qsizetype comment_start = text.size();
    const QRegularExpressionMatch comment = comment_.match(text);
    if (comment.hasMatch()) comment_start = comment.capturedStart(1);

    for (auto it = key_.globalMatch(text); it.hasNext();) {
      const QRegularExpressionMatch m = it.next();
      if (m.capturedStart(1) >= comment_start) break;
      setFormat(static_cast<int>(m.capturedStart(1)), static_cast<int>(m.capturedLength(1)),
                key_format_);
    }
    for (auto it = string_.globalMatch(text); it.hasNext();) {
      const QRegularExpressionMatch m = it.next();
      if (m.capturedStart() >= comment_start) break;
      // A '#' inside a quoted string does not start a comment.
      if (m.capturedEnd() > comment_start) {
        const QRegularExpressionMatch after = comment_.match(text, m.capturedEnd());
        comment_start = after.hasMatch() ? after.capturedStart(1) : text.size();
      }
      setFormat(static_cast<int>(m.capturedStart()), static_cast<int>(m.capturedLength()),
                string_format_);
    }
    if (comment_start < text.size()) {
      setFormat(static_cast<int>(comment_start), static_cast<int>(text.size() - comment_start),
                comment_format_);
    }
    const QRegularExpressionMatch marker = marker_.match(text);
    if (marker.hasMatch()) setFormat(0, 3, marker_format_);
  }

 private:
  QRegularExpression key_;
  QRegularExpression string_;
  QRegularExpression comment_;
  QRegularExpression marker_;
  QTextCharFormat key_format_;
  QTextCharFormat string_format_;
  QTextCharFormat comment_format_;
  QTextCharFormat marker_format_;
};

}  // namespace

CodeView::CodeView(QWidget* parent) : QPlainTextEdit(parent), gutter_(new LineNumberGutter(this)) {
  setReadOnly(true);
  // Read-only still lets the user select and copy, and shows where the cursor is.
  setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  setLineWrapMode(QPlainTextEdit::NoWrap);
  setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  new YamlHighlighter(document());
  connect(this, &QPlainTextEdit::blockCountChanged, this, [this] { updateGutterWidth(); });
  connect(this, &QPlainTextEdit::updateRequest, this, &CodeView::updateGutter);
  updateGutterWidth();
}

void CodeView::setLines(const QStringList& lines, int first_line) {
  first_line_ = first_line < 1 ? 1 : first_line;
  marked_line_ = 0;
  center_pending_ = false;
  setExtraSelections({});
  setPlaceholderText({});
  setPlainText(lines.join(QLatin1Char('\n')));
  moveCursor(QTextCursor::Start);
  updateGutterWidth();
  gutter_->update();
}

void CodeView::showMessage(const QString& message) {
  setLines({});
  setPlaceholderText(message);
}

void CodeView::markLine(int line, int column) {
  const QTextBlock block = document()->findBlockByNumber(line - first_line_);
  if (!block.isValid() || line < first_line_) return;
  marked_line_ = line;

  QTextCursor cursor(block);
  const int offset = qBound(0, column - 1, block.length() - 1);
  cursor.movePosition(QTextCursor::Right, QTextCursor::MoveAnchor, offset);
  setTextCursor(cursor);

  QTextEdit::ExtraSelection mark;
  mark.format.setBackground(QColor(0xff, 0xeb, 0xb0));
  mark.format.setProperty(QTextFormat::FullWidthSelection, true);
  mark.cursor = QTextCursor(block);
  setExtraSelections({mark});
  scrollToMark();
  gutter_->update();
}

void CodeView::scrollToMark() {
  // Start from the left edge: centerCursor() scrolls sideways only if the column is out of view.
  horizontalScrollBar()->setValue(0);
  centerCursor();
  center_pending_ = !isVisible();
}

int CodeView::cursorLineNumber() const { return first_line_ + textCursor().blockNumber(); }

int CodeView::gutterWidth() const {
  const int last = first_line_ + qMax(1, blockCount()) - 1;
  const int digits = qMax(3, static_cast<int>(QString::number(last).size()));
  return 12 + fontMetrics().horizontalAdvance(QLatin1Char('9')) * digits;
}

void CodeView::resizeEvent(QResizeEvent* event) {
  QPlainTextEdit::resizeEvent(event);
  const QRect area = contentsRect();
  gutter_->setGeometry(QRect(area.left(), area.top(), gutterWidth(), area.height()));
  if (center_pending_ && marked_line_ > 0) scrollToMark();
}

void CodeView::updateGutterWidth() { setViewportMargins(gutterWidth(), 0, 0, 0); }

void CodeView::updateGutter(const QRect& rect, int dy) {
  if (dy != 0) {
    gutter_->scroll(0, dy);
  } else {
    gutter_->update(0, rect.y(), gutter_->width(), rect.height());
  }
  if (rect.contains(viewport()->rect())) updateGutterWidth();
}

void CodeView::paintGutter(QPaintEvent* event) {
  QPainter painter(gutter_);
  const QPalette& pal = palette();
  painter.fillRect(event->rect(), pal.color(QPalette::AlternateBase));
  painter.setFont(font());

  QTextBlock block = firstVisibleBlock();
  int top = qRound(blockBoundingGeometry(block).translated(contentOffset()).top());
  int bottom = top + qRound(blockBoundingRect(block).height());
  const int right_margin = 6;
  while (block.isValid() && top <= event->rect().bottom()) {
    if (block.isVisible() && bottom >= event->rect().top()) {
      const int number = first_line_ + block.blockNumber();
      QFont f = font();
      f.setBold(number == marked_line_);
      painter.setFont(f);
      painter.setPen(number == marked_line_ ? pal.color(QPalette::Text)
                                            : pal.color(QPalette::PlaceholderText));
      painter.drawText(0, top, gutter_->width() - right_margin, fontMetrics().height(),
                       Qt::AlignRight | Qt::AlignVCenter, QString::number(number));
    }
    block = block.next();
    top = bottom;
    bottom = top + qRound(blockBoundingRect(block).height());
  }
}

}  // namespace meshsim::gui
