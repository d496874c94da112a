#include "models/metrics_model.h"

#include <algorithm>

namespace meshsim::gui {

MetricsModel::MetricsModel(QObject* parent) : QAbstractTableModel(parent) {}

void MetricsModel::setSample(const MetricsSample& sample) {
  QList<VersionMetrics> rows = sample.versions;
  std::sort(rows.begin(), rows.end(),
            [](const VersionMetrics& a, const VersionMetrics& b) { return a.key() < b.key(); });
  bool same_keys = rows.size() == rows_.size();
  for (int i = 0; same_keys && i < rows.size(); ++i) same_keys = rows[i].key() == rows_[i].key();
  if (same_keys) {
    rows_ = rows;
    if (!rows_.isEmpty()) emit dataChanged(index(0, 0), index(rowCount() - 1, kColumnCount - 1));
    return;
  }
  beginResetModel();
  rows_ = rows;
  endResetModel();
}

int MetricsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int MetricsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant MetricsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.model() != this || index.row() >= rows_.size()) return {};
  const VersionMetrics& m = rows_[index.row()];
  if (role == Qt::TextAlignmentRole) {
    return index.column() >= kRequestsColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                             : QVariant();
  }
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case kServiceColumn: return m.service;
    case kVersionColumn: return m.version;
    case kRequestsColumn: return m.requests;
    case kRpsColumn: return QString::number(m.rps, 'f', 1);
    case kErrorRateColumn:
      return QString::number(m.requests == 0 ? 0.0 : 100.0 * m.errors / m.requests, 'f', 1);
    case kP50Column: return QString::number(m.p50_ms, 'f', 2);
    case kP90Column: return QString::number(m.p90_ms, 'f', 2);
    default: return {};
  }
}

QVariant MetricsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kServiceColumn: return QStringLiteral("Service");
    case kVersionColumn: return QStringLiteral("Version");
    case kRequestsColumn: return QStringLiteral("Requests");
    case kRpsColumn: return QStringLiteral("req/s");
    case kErrorRateColumn: return QStringLiteral("Errors %");
    case kP50Column: return QStringLiteral("p50 ms");
    case kP90Column: return QStringLiteral("p90 ms");
    default: return {};
  }
}

}  // namespace meshsim::gui
