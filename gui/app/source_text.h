#pragma once
/// Reading the text of configuration files, to show the YAML a resource or diagnostic points at.

#include <QString>
#include <QStringList>

namespace meshsim::gui {

/// A file's lines, or why they could not be read.
struct SourceText {
  QStringList lines;  ///< without line terminators; line N of the file is lines[N - 1]
  QString error;      ///< empty on success

  /// True when the file was read.
  bool ok() const { return error.isEmpty(); }
};

/// Reads `file` as UTF-8 text. "<stdin>" and unreadable files give an error naming the file.
/// Blocking I/O; never throws.
SourceText readSourceText(const QString& file);

/// The lines of the YAML document whose content starts on 1-based `line`: from that line up to
/// (not including) the next "---" or "..." document marker, or the end of the file, with trailing
/// blank lines dropped. Empty when `line` is not within `lines`.
QStringList documentLines(const QStringList& lines, int line);

}  // namespace meshsim::gui
