#include "models/audit_model.h"

#include <QBrush>
#include <QColor>

namespace meshsim::gui {

AuditModel::AuditModel(QObject* parent) : QAbstractTableModel(parent) {}

void AuditModel::setEntries(const QList<AuditEntry>& entries) {
  bool extends = entries.size() >= entries_.size();
  for (int i = 0; extends && i < entries_.size(); ++i) extends = entries[i].seq == entries_[i].seq;
  if (!extends) {
    beginResetModel();
    entries_ = entries;
    endResetModel();
    return;
  }
  if (entries.size() == entries_.size()) return;
  beginInsertRows({}, static_cast<int>(entries_.size()), static_cast<int>(entries.size()) - 1);
  for (qsizetype i = entries_.size(); i < entries.size(); ++i) entries_.append(entries[i]);
  endInsertRows();
}

const AuditEntry* AuditModel::entryAt(const QModelIndex& index) const {
  if (!index.isValid() || index.model() != this || index.row() >= entries_.size()) return nullptr;
  return &entries_[index.row()];
}

int AuditModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(entries_.size());
}

int AuditModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant AuditModel::data(const QModelIndex& index, int role) const {
  const AuditEntry* e = entryAt(index);
  if (e == nullptr) return {};
  const bool accepted = e->outcome == QLatin1String("accepted");
  switch (role) {
    case Qt::DisplayRole:
    case Qt::ToolTipRole:
      switch (index.column()) {
        case kSeqColumn: return e->seq;
        case kTimeColumn: return e->time;
        case kUserColumn: return e->user;
        case kVerbColumn: return e->verb;
        case kResourceColumn: return e->resource;
        case kOutcomeColumn: return e->outcome;
        case kReasonColumn: return e->reason;
        default: return {};
      }
    case Qt::ForegroundRole:
      if (index.column() == kOutcomeColumn) {
        return QBrush(accepted ? QColor(0xff2e7d32) : QColor(0xffc62828));
      }
      return {};
    case kDiffRole: return e->diff;
    case kAcceptedRole: return accepted;
    default: return {};
  }
}

QVariant AuditModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kSeqColumn: return QStringLiteral("#");
    case kTimeColumn: return QStringLiteral("Time");
    case kUserColumn: return QStringLiteral("User");
    case kVerbColumn: return QStringLiteral("Verb");
    case kResourceColumn: return QStringLiteral("Resource");
    case kOutcomeColumn: return QStringLiteral("Outcome");
    case kReasonColumn: return QStringLiteral("Reason");
    default: return {};
  }
}

}  // namespace meshsim::gui
