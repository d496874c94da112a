#include "panels/editor_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QTextBlock>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace meshsim::gui {

namespace {

QTextCharFormat charFormat(QRgb colour, bool bold = false) {
  QTextCharFormat f;
  f.setForeground(QColor(colour));
  if (bold) f.setFontWeight(QFont::Bold);
  return f;
}

}  // namespace

YamlHighlighter::YamlHighlighter(QTextDocument* document) : QSyntaxHighlighter(document) {}

void YamlHighlighter::highlightBlock(const QString& text) {
  static const QRegularExpression key(QStringLiteral("^(\\s*(?:-\\s+)?)([\\w.\\-/]+)(\\s*:)(?=\\s|$)"));
  static const QRegularExpression inline_key(QStringLiteral("[{,]\\s*([\\w.\\-/]+)\\s*:"));
  static const QRegularExpression quoted(QStringLiteral("\"[^\"]*\"|'[^']*'"));
  static const QRegularExpression dash(QStringLiteral("^\\s*-\\s"));
  if (text.startsWith(QStringLiteral("---")) || text.startsWith(QStringLiteral("..."))) {
    setFormat(0, static_cast<int>(text.size()), charFormat(0xff6a1b9a, true));
    return;
  }
  if (auto m = dash.match(text); m.hasMatch()) {
    setFormat(static_cast<int>(m.capturedEnd() - 2), 1, charFormat(0xffef6c00, true));
  }
  if (auto m = key.match(text); m.hasMatch()) {
    setFormat(static_cast<int>(m.capturedStart(2)), static_cast<int>(m.capturedLength(2)),
              charFormat(0xff1565c0, true));
  }
  for (auto it = inline_key.globalMatch(text); it.hasNext();) {
    auto m = it.next();
    setFormat(static_cast<int>(m.capturedStart(1)), static_cast<int>(m.capturedLength(1)),
              charFormat(0xff1565c0));
  }
  for (auto it = quoted.globalMatch(text); it.hasNext();) {
    auto m = it.next();
    setFormat(static_cast<int>(m.capturedStart()), static_cast<int>(m.capturedLength()),
              charFormat(0xff2e7d32));
  }
  // A comment starts at '#' at the line start or after whitespace, outside quotes (good enough
  // for highlighting).
  for (qsizetype i = 0; i < text.size(); ++i) {
    if (text[i] == QLatin1Char('#') && (i == 0 || text[i - 1].isSpace()) &&
        format(static_cast<int>(i)).foreground().color() != QColor(0xff2e7d32)) {
      setFormat(static_cast<int>(i), static_cast<int>(text.size() - i), charFormat(0xff78909c));
      break;
    }
  }
}

EditorPanel::EditorPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* bar = new QHBoxLayout();
  bar->addWidget(new QLabel(QStringLiteral("Act as"), this));
  user_ = new QComboBox(this);
  user_->setMinimumWidth(110);
  bar->addWidget(user_);
  dry_run_ = new QCheckBox(QStringLiteral("Dry run"), this);
  dry_run_->setToolTip(QStringLiteral("Show what would change without committing"));
  bar->addWidget(dry_run_);
  bar->addStretch(1);
  apply_ = new QPushButton(QStringLiteral("Apply"), this);
  apply_->setDefault(true);
  bar->addWidget(apply_);
  layout->addLayout(bar);

  auto* split = new QSplitter(Qt::Vertical, this);
  editor_ = new QPlainTextEdit(split);
  editor_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  editor_->setLineWrapMode(QPlainTextEdit::NoWrap);
  editor_->setPlaceholderText(QStringLiteral("Paste or write meshsim / Istio YAML, then Apply."));
  new YamlHighlighter(editor_->document());
  result_ = new QTextBrowser(split);
  result_->setPlaceholderText(QStringLiteral("Outcomes appear here."));
  split->addWidget(editor_);
  split->addWidget(result_);
  split->setSizes({300, 140});
  layout->addWidget(split, 1);

  connect(apply_, &QPushButton::clicked, this, [this] {
    emit applyRequested(editor_->toPlainText(), user_->currentText(), dry_run_->isChecked());
  });
}

void EditorPanel::setUsers(const QStringList& users) {
  const QString current = user_->currentText();
  user_->clear();
  user_->addItems(users);
  const int index = user_->findText(current);
  user_->setCurrentIndex(index >= 0 ? index : 0);
}

void EditorPanel::showReport(const ApplyReport& report) {
  error_lines_.clear();
  QList<QTextEdit::ExtraSelection> marks;
  QStringList html;
  for (const DiagnosticInfo& d : report.diagnostics) {
    const bool error = d.severity == DiagnosticSeverity::kError;
    html.append(QStringLiteral("<p style='color:%1'><b>line %2:</b> %3%4</p>")
                    .arg(error ? QStringLiteral("#c62828") : QStringLiteral("#ef6c00"))
                    .arg(d.where.line)
                    .arg(d.field.isEmpty() ? QString() : d.field.toHtmlEscaped() + QStringLiteral(": "),
                         d.message.toHtmlEscaped()));
    if (!d.where.known()) continue;
    if (error) error_lines_.append(d.where.line);
    QTextEdit::ExtraSelection mark;
    mark.cursor = QTextCursor(editor_->document()->findBlockByNumber(d.where.line - 1));
    mark.format.setBackground(error ? QColor(0xffffcdd2) : QColor(0xffffe0b2));
    mark.format.setProperty(QTextFormat::FullWidthSelection, true);
    mark.format.setToolTip(d.message);
    marks.append(mark);
  }
  editor_->setExtraSelections(marks);
  if (!report.error.isEmpty()) {
    html.append(QStringLiteral("<p style='color:#c62828'>%1</p>").arg(report.error.toHtmlEscaped()));
  }
  for (const ChangeView& c : report.changes) {
    html.append(c.accepted
                    ? QStringLiteral("<p style='color:#2e7d32'>%1%2 %3</p>")
                          .arg(report.dry_run ? QStringLiteral("would be ") : QString(),
                               c.result.toHtmlEscaped(), c.resource.toHtmlEscaped())
                    : QStringLiteral("<p style='color:#c62828'><b>%1 refused</b> (%2): %3</p>")
                          .arg(c.resource.toHtmlEscaped(), c.code, c.message.toHtmlEscaped()));
    if (!c.diff.isEmpty()) {
      html.append(QStringLiteral("<pre style='color:#455a64'>%1</pre>").arg(c.diff.toHtmlEscaped()));
    }
  }
  if (!report.topology_changes.isEmpty()) {
    html.append(QStringLiteral("<p><b>Topology %1:</b></p><pre>%2</pre>")
                    .arg(report.dry_run ? QStringLiteral("would change") : QStringLiteral("changed"),
                         report.topology_changes.join(QLatin1Char('\n')).toHtmlEscaped()));
  } else if (!report.changes.isEmpty()) {
    html.append(QStringLiteral("<p>No topology edge %1.</p>")
                    .arg(report.dry_run ? QStringLiteral("would change") : QStringLiteral("changed")));
  }
  result_->setHtml(html.join(QString()));
  if (!error_lines_.isEmpty()) {
    QTextCursor cursor(editor_->document()->findBlockByNumber(error_lines_.first() - 1));
    editor_->setTextCursor(cursor);
  }
}

}  // namespace meshsim::gui
