#pragma once
/// The latest per-version figures of the running mesh as a table.

#include <QAbstractTableModel>

#include "app/mesh_view.h"

namespace meshsim::gui {

/// One row per (Service, version) of the latest sample, sorted by key. Read-only. GUI thread
/// only.
class MetricsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  /// Columns.
  enum Column {
    kServiceColumn = 0,
    kVersionColumn,
    kRequestsColumn,
    kRpsColumn,
    kErrorRateColumn,  ///< percent of errors
    kP50Column,
    kP90Column,
    kColumnCount,
  };

  /// An empty model.
  explicit MetricsModel(QObject* parent = nullptr);

  /// Shows `sample`: rows whose key is unchanged are updated in place (dataChanged), new keys
  /// are inserted, and a sample with different keys resets the model.
  void setSample(const MetricsSample& sample);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  QList<VersionMetrics> rows_;
};

}  // namespace meshsim::gui
