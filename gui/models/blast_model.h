#pragma once
/// The workloads a compromised workload reaches, as a table: hops, path and allowing policies.

#include <QAbstractTableModel>

#include "app/mesh_view.h"

namespace meshsim::gui {

/// One row per reached workload, nearest first. Read-only. GUI thread only.
class BlastModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  /// Columns.
  enum Column { kWorkloadColumn = 0, kHopsColumn, kPathColumn, kViaColumn, kColumnCount };
  /// Extra data roles.
  enum Role { kHopsRole = Qt::UserRole + 1 };

  /// An empty model.
  explicit BlastModel(QObject* parent = nullptr);

  /// Replaces the rows (a model reset).
  void setBlast(const BlastView& blast);
  const BlastView& blast() const { return blast_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  BlastView blast_;
};

}  // namespace meshsim::gui
