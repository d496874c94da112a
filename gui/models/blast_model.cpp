#include "models/blast_model.h"

namespace meshsim::gui {

BlastModel::BlastModel(QObject* parent) : QAbstractTableModel(parent) {}

void BlastModel::setBlast(const BlastView& blast) {
  beginResetModel();
  blast_ = blast;
  endResetModel();
}

int BlastModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(blast_.reached.size());
}

int BlastModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant BlastModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.model() != this || index.row() >= blast_.reached.size()) return {};
  const BlastTarget& t = blast_.reached[index.row()];
  if (role == kHopsRole) return t.hops;
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  switch (index.column()) {
    case kWorkloadColumn: return t.workload;
    case kHopsColumn: return t.hops;
    case kPathColumn: {
      QStringList path{blast_.compromised};
      for (const BlastHop& h : t.path) path.append(h.to);
      return path.join(QStringLiteral(" → "));
    }
    case kViaColumn: {
      QStringList via;
      for (const BlastHop& h : t.path) via.append(h.via);
      return via.join(QStringLiteral("; "));
    }
    default: return {};
  }
}

QVariant BlastModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kWorkloadColumn: return QStringLiteral("Reached workload");
    case kHopsColumn: return QStringLiteral("Hops");
    case kPathColumn: return QStringLiteral("Path");
    case kViaColumn: return QStringLiteral("Allowed by");
    default: return {};
  }
}

}  // namespace meshsim::gui
