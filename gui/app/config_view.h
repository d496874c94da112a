#pragma once
/// The engine bridge: what the desktop program knows about a loaded configuration, as Qt value
/// types. Only gui/app/ calls the engine; models and panels read these values.

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace meshsim::gui {

/// A position in an input file. Lines and columns are 1-based; 0 means unknown.
struct SourceRef {
  QString file;  ///< path as the engine reported it (as given by the user), or "<stdin>"
  int line = 0;
  int column = 0;

  /// True when the line is known.
  bool known() const { return line > 0; }
  /// "file:line:col", "file:line" or just "file", whichever parts are known.
  QString toString() const;
};

/// Labels or annotations, sorted by key.
using KeyValueList = QList<QPair<QString, QString>>;

/// One resource of the configuration: its metadata and where it was written.
struct ResourceInfo {
  QString kind;         ///< e.g. "Workload"
  QString api_version;  ///< as written, e.g. "meshsim/v1"
  QString name;
  /// The scope the store files it under: the namespace for namespaced kinds,
  /// "tenant", "tenant/workspace" or "tenant/workspace/group" for hierarchy kinds, empty for
  /// cluster-wide kinds.
  QString scope;
  QString namespace_;
  QString organization;
  QString tenant;
  QString workspace;
  QString group;
  KeyValueList labels;
  KeyValueList annotations;
  QString creation_timestamp;  ///< as written; empty when absent
  SourceRef source;            ///< where the document's content starts

  /// "Kind scope/name" or "Kind name": the store key, unique within a configuration.
  QString key() const;
};

/// All resources of one kind, in the engine's deterministic order (scope, then name).
struct KindGroup {
  QString kind;
  QList<ResourceInfo> resources;
};

/// How serious a diagnostic is.
enum class DiagnosticSeverity { kError, kWarning };

/// One finding about the input.
struct DiagnosticInfo {
  DiagnosticSeverity severity = DiagnosticSeverity::kError;
  SourceRef where;
  QString field;    ///< dotted field path, e.g. "spec.action"; may be empty
  QString message;  ///< what is wrong
  QString text;     ///< the one-line form every meshsim command prints
};

/// Everything one load produced.
struct ConfigView {
  QStringList paths;       ///< what was asked for
  QStringList files;       ///< files read, in order
  QStringList unreadable;  ///< paths that did not exist or could not be read
  QList<KindGroup> kinds;  ///< kinds with at least one resource, in the engine's kind order
  QList<DiagnosticInfo> diagnostics;  ///< sorted by file, line and column

  /// Number of resources over all kinds.
  int resourceCount() const;
  /// Number of diagnostics of each severity.
  int errorCount() const;
  int warningCount() const;
};

/// Loads files and directories (recursively, *.yaml and *.yml) the way every meshsim command
/// does, validates them as one configuration and converts the outcome. Never throws; problems,
/// including unreadable paths, come back as diagnostics. Blocking file I/O; call from the GUI
/// thread only for configurations of moderate size.
ConfigView loadConfigView(const QStringList& paths);

/// "N resources, E errors, W warnings" (with singular forms for 1).
QString summaryText(const ConfigView& view);

}  // namespace meshsim::gui
