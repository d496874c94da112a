#include "app/source_text.h"

#include <QFile>

namespace meshsim::gui {

namespace {

// The same rule the engine's loader uses to split a stream into documents.
bool isDocumentMarker(const QString& line) {
  if (!line.startsWith(QLatin1String("---")) && !line.startsWith(QLatin1String("..."))) {
    return false;
  }
  if (line.size() == 3) return true;
  const QChar next = line.at(3);
  return next == QLatin1Char(' ') || next == QLatin1Char('\t') || next == QLatin1Char('\r');
}

}  // namespace

SourceText readSourceText(const QString& file) {
  SourceText out;
  if (file.isEmpty() || file == QLatin1String("<stdin>")) {
    out.error = QStringLiteral("the text of %1 is not kept after loading")
                    .arg(file.isEmpty() ? QStringLiteral("this input") : file);
    return out;
  }
  QFile f(file);
  if (!f.open(QIODevice::ReadOnly)) {
    out.error = QStringLiteral("cannot read %1: %2").arg(file, f.errorString());
    return out;
  }
  QString text = QString::fromUtf8(f.readAll());
  text.replace(QLatin1String("\r\n"), QLatin1String("\n"));
  out.lines = text.split(QLatin1Char('\n'));
  // A final newline ends the last line; it does not start another one.
  if (!out.lines.isEmpty() && out.lines.last().isEmpty()) out.lines.removeLast();
  return out;
}

QStringList documentLines(const QStringList& lines, int line) {
  QStringList out;
  if (line < 1 || line > lines.size()) return out;
  for (qsizetype i = line - 1; i < lines.size(); ++i) {
    // The first line is the document's content even if it were to look like a marker
    // ("--- {a: 1}" starts a document on the marker line).
    if (i > line - 1 && isDocumentMarker(lines[i])) break;
    out.append(lines[i]);
  }
  while (!out.isEmpty() && out.last().trimmed().isEmpty()) out.removeLast();
  return out;
}

}  // namespace meshsim::gui
