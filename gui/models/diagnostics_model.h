#pragma once
/// Diagnostics of the loaded configuration as a table: severity, location, field, message.

#include <QAbstractTableModel>
#include <QList>

#include "app/config_view.h"

namespace meshsim::gui {

/// One row per diagnostic, in the engine's order (file, line, column). Read-only. GUI thread only.
class DiagnosticsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  /// Columns.
  enum Column {
    kSeverityColumn = 0,
    kLocationColumn = 1,  ///< "file:line:col"
    kFieldColumn = 2,
    kMessageColumn = 3,
    kColumnCount = 4,
  };
  /// Extra data roles.
  enum Role {
    kFileRole = Qt::UserRole + 1,  ///< QString: the file
    kLineRole,                     ///< int: 1-based line, 0 when unknown
    kColumnRole,                   ///< int: 1-based column, 0 when unknown
    kSeverityRole,                 ///< int: the DiagnosticSeverity value
  };

  /// An empty model.
  explicit DiagnosticsModel(QObject* parent = nullptr);

  /// Replaces the contents (a model reset).
  void setDiagnostics(const QList<DiagnosticInfo>& diagnostics);
  /// The diagnostic of `index`'s row, or nullptr for an invalid index. Valid until the next
  /// setDiagnostics().
  const DiagnosticInfo* diagnosticAt(const QModelIndex& index) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  QList<DiagnosticInfo> diagnostics_;
};

}  // namespace meshsim::gui
