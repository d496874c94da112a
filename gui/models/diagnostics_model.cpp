#include "models/diagnostics_model.h"

#include <QBrush>
#include <QColor>

namespace meshsim::gui {

DiagnosticsModel::DiagnosticsModel(QObject* parent) : QAbstractTableModel(parent) {}

void DiagnosticsModel::setDiagnostics(const QList<DiagnosticInfo>& diagnostics) {
  beginResetModel();
  diagnostics_ = diagnostics;
  endResetModel();
}

const DiagnosticInfo* DiagnosticsModel::diagnosticAt(const QModelIndex& index) const {
  if (!index.isValid() || index.model() != this || index.row() < 0 ||
      index.row() >= diagnostics_.size()) {
    return nullptr;
  }
  return &diagnostics_[index.row()];
}

int DiagnosticsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(diagnostics_.size());
}

int DiagnosticsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant DiagnosticsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const DiagnosticInfo& d = diagnostics_[index.row()];
  const bool is_error = d.severity == DiagnosticSeverity::kError;
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kSeverityColumn:
          return is_error ? QStringLiteral("error") : QStringLiteral("warning");
        case kLocationColumn:
          return d.where.toString();
        case kFieldColumn:
          return d.field;
        case kMessageColumn:
          return d.message;
        default:
          return {};
      }
    case Qt::ToolTipRole:
      return d.text;
    case Qt::ForegroundRole:
      if (index.column() != kSeverityColumn) return {};
      return QBrush(is_error ? QColor(0xc6, 0x28, 0x28) : QColor(0xb2, 0x6a, 0x00));
    case kFileRole:
      return d.where.file;
    case kLineRole:
      return d.where.line;
    case kColumnRole:
      return d.where.column;
    case kSeverityRole:
      return static_cast<int>(d.severity);
    default:
      return {};
  }
}

QVariant DiagnosticsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return section + 1;
  switch (section) {
    case kSeverityColumn:
      return QStringLiteral("Severity");
    case kLocationColumn:
      return QStringLiteral("Location");
    case kFieldColumn:
      return QStringLiteral("Field");
    case kMessageColumn:
      return QStringLiteral("Message");
    default:
      return {};
  }
}

}  // namespace meshsim::gui
