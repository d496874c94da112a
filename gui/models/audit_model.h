#pragma once
/// The management plane's audit log as a table: who changed what, when, accepted or refused.

#include <QAbstractTableModel>
#include <QList>

#include "app/mesh_view.h"

namespace meshsim::gui {

/// One row per audit record, oldest first. Read-only. GUI thread only.
class AuditModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  /// Columns.
  enum Column {
    kSeqColumn = 0,
    kTimeColumn,
    kUserColumn,
    kVerbColumn,
    kResourceColumn,
    kOutcomeColumn,
    kReasonColumn,
    kColumnCount,
  };
  /// Extra data roles.
  enum Role {
    kDiffRole = Qt::UserRole + 1,  ///< QString: the unified diff of the record
    kAcceptedRole,                 ///< bool: the change was accepted
  };

  /// An empty model.
  explicit AuditModel(QObject* parent = nullptr);

  /// Replaces the rows: appends when `entries` extends the current rows (same sequence numbers
  /// first), otherwise resets.
  void setEntries(const QList<AuditEntry>& entries);
  /// The record of `index`'s row, or nullptr.
  const AuditEntry* entryAt(const QModelIndex& index) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  QList<AuditEntry> entries_;
};

}  // namespace meshsim::gui
