#pragma once
/// The right-hand panel: what is selected (a resource, a kind or a diagnostic) and its YAML.

#include <QWidget>

#include "app/config_view.h"

class QFormLayout;
class QLabel;

namespace meshsim::gui {

class CodeView;

/// Shows a resource's metadata, where it was written and the YAML of its document, or a
/// diagnostic with the whole file scrolled to the line it names. Reads files from disk each time
/// something is shown, so the text is what is on disk now. GUI thread only.
class DetailsPanel : public QWidget {
  Q_OBJECT

 public:
  /// An empty panel showing a hint.
  explicit DetailsPanel(QWidget* parent = nullptr);

  /// Shows `resource`: metadata, source location and the lines of its YAML document.
  void showResource(const ResourceInfo& resource);
  /// Shows a kind row: its name and how many resources it has.
  void showKind(const QString& kind, int count);
  /// Shows `diagnostic` and the whole file it names, marking and scrolling to its line.
  void showDiagnostic(const DiagnosticInfo& diagnostic);
  /// Shows a heading and a hint, with no text.
  void showHint(const QString& title, const QString& hint);

  /// The heading, e.g. "Workload bookinfo/details-v1".
  QString title() const;
  /// The text view (for inspection; owned by the panel).
  CodeView* codeView() const { return code_; }
  /// The value shown for a metadata or diagnostic row, by its label without the colon
  /// (e.g. "Source", "Labels", "Message"); empty when the row is hidden or unknown.
  QString fieldValue(const QString& label) const;

 private:
  /// Replaces the metadata rows with `rows` (label, value), leaving out empty values.
  void setRows(const QList<QPair<QString, QString>>& rows);

  QLabel* title_;
  QWidget* fields_;
  QFormLayout* form_;
  QLabel* text_caption_;
  CodeView* code_;
};

}  // namespace meshsim::gui
