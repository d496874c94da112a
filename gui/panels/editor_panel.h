#pragma once
/// The YAML editor: syntax highlighting, the acting user, a dry-run switch and Apply. Parse and
/// validation errors are marked at their line; refusals show the management plane's message
/// (e.g. the missing permission); a dry run lists the topology edges that would change.

#include <QList>
#include <QSyntaxHighlighter>
#include <QWidget>

#include "app/mesh_view.h"

class QCheckBox;
class QComboBox;
class QPlainTextEdit;
class QPushButton;
class QTextBrowser;

namespace meshsim::gui {

/// Highlights YAML: keys, comments, quoted strings, document markers and list dashes.
class YamlHighlighter : public QSyntaxHighlighter {
  Q_OBJECT

 public:
  explicit YamlHighlighter(QTextDocument* document);

 protected:
  void highlightBlock(const QString& text) override;
};

/// The editor page. GUI thread only.
class EditorPanel : public QWidget {
  Q_OBJECT

 public:
  explicit EditorPanel(QWidget* parent = nullptr);

  /// The users offered in the "Act as" box (the first is selected when the current one is gone).
  void setUsers(const QStringList& users);
  /// Shows the outcome of an Apply: marks error lines, lists changes and refusals.
  void showReport(const ApplyReport& report);

  QPlainTextEdit* editor() const { return editor_; }
  QComboBox* userBox() const { return user_; }
  QCheckBox* dryRunBox() const { return dry_run_; }
  QPushButton* applyButton() const { return apply_; }
  QTextBrowser* resultView() const { return result_; }
  /// 1-based lines currently marked as errors.
  const QList<int>& errorLines() const { return error_lines_; }

 signals:
  /// The user pressed Apply.
  void applyRequested(const QString& text, const QString& user, bool dry_run);

 private:
  QPlainTextEdit* editor_;
  QComboBox* user_;
  QCheckBox* dry_run_;
  QPushButton* apply_;
  QTextBrowser* result_;
  QList<int> error_lines_;
};

}  // namespace meshsim::gui
