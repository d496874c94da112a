#include "panels/details_panel.h"

#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "app/source_text.h"
#include "panels/code_view.h"

namespace meshsim::gui {

namespace {

QString joinPairs(const KeyValueList& pairs) {
  QStringList parts;
  parts.reserve(pairs.size());
  for (const auto& [key, value] : pairs) parts << key + QLatin1Char('=') + value;
  return parts.join(QStringLiteral(", "));
}

}  // namespace

DetailsPanel::DetailsPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);

  title_ = new QLabel(this);
  QFont title_font = title_->font();
  title_font.setBold(true);
  title_font.setPointSizeF(title_font.pointSizeF() * 1.25);
  title_->setFont(title_font);
  title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  title_->setWordWrap(true);
  layout->addWidget(title_);

  fields_ = new QWidget(this);
  form_ = new QFormLayout(fields_);
  form_->setContentsMargins(0, 0, 0, 0);
  form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  form_->setLabelAlignment(Qt::AlignLeft);
  form_->setRowWrapPolicy(QFormLayout::DontWrapRows);
  form_->setVerticalSpacing(2);
  layout->addWidget(fields_);

  text_caption_ = new QLabel(this);
  QFont caption_font = text_caption_->font();
  caption_font.setBold(true);
  text_caption_->setFont(caption_font);
  text_caption_->setContentsMargins(0, 6, 0, 0);
  layout->addWidget(text_caption_);

  code_ = new CodeView(this);
  layout->addWidget(code_, 1);

  showHint(QStringLiteral("No configuration loaded"),
           QStringLiteral("Open a file or a folder of meshsim YAML (File menu), or pass paths on "
                          "the command line."));
}

void DetailsPanel::setRows(const QList<QPair<QString, QString>>& rows) {
  // Rows are rebuilt rather than hidden: with rows hidden by setRowVisible(), Qt 6.4.2's
  // QFormLayout::setGeometry() wrote out of bounds (seen under valgrind).
  while (form_->rowCount() > 0) form_->removeRow(0);
  for (const auto& [label, value] : rows) {
    if (value.isEmpty()) continue;
    auto* caption = new QLabel(label + QLatin1Char(':'), fields_);
    QPalette pal = caption->palette();
    pal.setColor(QPalette::WindowText, pal.color(QPalette::PlaceholderText));
    caption->setPalette(pal);
    auto* field = new QLabel(value, fields_);
    field->setTextFormat(Qt::PlainText);
    field->setTextInteractionFlags(Qt::TextSelectableByMouse);
    field->setWordWrap(true);
    form_->addRow(caption, field);
  }
  fields_->setVisible(form_->rowCount() > 0);
}

void DetailsPanel::showResource(const ResourceInfo& resource) {
  title_->setText(resource.key());
  setRows({
      {QStringLiteral("API version"), resource.api_version},
      {QStringLiteral("Namespace"), resource.namespace_},
      {QStringLiteral("Organization"), resource.organization},
      {QStringLiteral("Tenant"), resource.tenant},
      {QStringLiteral("Workspace"), resource.workspace},
      {QStringLiteral("Group"), resource.group},
      {QStringLiteral("Labels"), joinPairs(resource.labels)},
      {QStringLiteral("Annotations"), joinPairs(resource.annotations)},
      {QStringLiteral("Created"), resource.creation_timestamp},
      {QStringLiteral("Source"), resource.source.toString()},
  });

  const SourceText text = readSourceText(resource.source.file);
  if (!text.ok()) {
    text_caption_->setText(QStringLiteral("YAML"));
    code_->showMessage(text.error);
    return;
  }
  const QStringList lines = documentLines(text.lines, resource.source.line);
  if (lines.isEmpty()) {
    text_caption_->setText(QStringLiteral("YAML"));
    code_->showMessage(QStringLiteral("%1 has no line %2 any more; reload (F5) to catch up with "
                                      "the file on disk.")
                           .arg(resource.source.file)
                           .arg(resource.source.line));
    return;
  }
  const int last = resource.source.line + static_cast<int>(lines.size()) - 1;
  text_caption_->setText(QStringLiteral("YAML: %1, lines %2-%3")
                             .arg(resource.source.file)
                             .arg(resource.source.line)
                             .arg(last));
  code_->setLines(lines, resource.source.line);
}

void DetailsPanel::showKind(const QString& kind, int count) {
  showHint(kind, QStringLiteral("%1 %2 of kind %3. Select one to see its metadata and YAML.")
                     .arg(count)
                     .arg(count == 1 ? QStringLiteral("resource") : QStringLiteral("resources"))
                     .arg(kind));
}

void DetailsPanel::showDiagnostic(const DiagnosticInfo& diagnostic) {
  const bool is_error = diagnostic.severity == DiagnosticSeverity::kError;
  SourceRef short_where = diagnostic.where;
  short_where.file = QFileInfo(short_where.file).fileName();
  const QString what = is_error ? QStringLiteral("Error") : QStringLiteral("Warning");
  title_->setText(short_where.file.isEmpty()
                      ? what
                      : QStringLiteral("%1 at %2").arg(what, short_where.toString()));
  setRows({
      {QStringLiteral("Severity"), is_error ? QStringLiteral("error") : QStringLiteral("warning")},
      {QStringLiteral("Location"), diagnostic.where.toString()},
      {QStringLiteral("Field"), diagnostic.field},
      {QStringLiteral("Message"), diagnostic.message},
  });

  text_caption_->setText(diagnostic.where.file);
  const SourceText text = readSourceText(diagnostic.where.file);
  if (!text.ok()) {
    code_->showMessage(text.error);
    return;
  }
  code_->setLines(text.lines, 1);
  if (diagnostic.where.known()) code_->markLine(diagnostic.where.line, diagnostic.where.column);
}

void DetailsPanel::showHint(const QString& title, const QString& hint) {
  title_->setText(title);
  setRows({});
  text_caption_->clear();
  code_->showMessage(hint);
}

QString DetailsPanel::title() const { return title_->text(); }

QString DetailsPanel::fieldValue(const QString& label) const {
  const QString caption_text = label + QLatin1Char(':');
  for (int row = 0; row < form_->rowCount(); ++row) {
    auto* caption = qobject_cast<QLabel*>(form_->itemAt(row, QFormLayout::LabelRole)->widget());
    auto* field = qobject_cast<QLabel*>(form_->itemAt(row, QFormLayout::FieldRole)->widget());
    if (caption != nullptr && field != nullptr && caption->text() == caption_text) {
      return field->text();
    }
  }
  return {};
}

}  // namespace meshsim::gui
