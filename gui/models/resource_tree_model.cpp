#include "models/resource_tree_model.h"

#include <QFont>

namespace meshsim::gui {

namespace {

QString scopeToolTip(const ResourceInfo& r) {
  QStringList parts;
  if (!r.namespace_.isEmpty()) parts << QStringLiteral("namespace %1").arg(r.namespace_);
  if (!r.organization.isEmpty()) parts << QStringLiteral("organization %1").arg(r.organization);
  if (!r.tenant.isEmpty()) parts << QStringLiteral("tenant %1").arg(r.tenant);
  if (!r.workspace.isEmpty()) parts << QStringLiteral("workspace %1").arg(r.workspace);
  if (!r.group.isEmpty()) parts << QStringLiteral("group %1").arg(r.group);
  if (parts.isEmpty()) return QStringLiteral("cluster-wide");
  return parts.join(QStringLiteral(", "));
}

}  // namespace

ResourceTreeModel::ResourceTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void ResourceTreeModel::setKinds(const QList<KindGroup>& kinds) {
  beginResetModel();
  kinds_ = kinds;
  endResetModel();
}

const ResourceInfo* ResourceTreeModel::resourceAt(const QModelIndex& index) const {
  if (!index.isValid() || index.model() != this || index.internalId() == 0) return nullptr;
  const auto kind_row = static_cast<qsizetype>(index.internalId() - 1);
  if (kind_row >= kinds_.size()) return nullptr;
  const auto& resources = kinds_[kind_row].resources;
  if (index.row() < 0 || index.row() >= resources.size()) return nullptr;
  return &resources[index.row()];
}

QModelIndex ResourceTreeModel::indexOfKey(const QString& key) const {
  for (qsizetype k = 0; k < kinds_.size(); ++k) {
    const auto& resources = kinds_[k].resources;
    for (qsizetype r = 0; r < resources.size(); ++r) {
      if (resources[r].key() == key) {
        return createIndex(static_cast<int>(r), 0, static_cast<quintptr>(k + 1));
      }
    }
  }
  return {};
}

QModelIndex ResourceTreeModel::indexOfKind(const QString& kind) const {
  for (qsizetype k = 0; k < kinds_.size(); ++k) {
    if (kinds_[k].kind == kind) return createIndex(static_cast<int>(k), 0, quintptr{0});
  }
  return {};
}

QModelIndex ResourceTreeModel::index(int row, int column, const QModelIndex& parent) const {
  if (!hasIndex(row, column, parent)) return {};
  if (!parent.isValid()) return createIndex(row, column, quintptr{0});
  return createIndex(row, column, static_cast<quintptr>(parent.row() + 1));
}

QModelIndex ResourceTreeModel::parent(const QModelIndex& child) const {
  if (!child.isValid() || child.internalId() == 0) return {};
  return createIndex(static_cast<int>(child.internalId() - 1), 0, quintptr{0});
}

int ResourceTreeModel::rowCount(const QModelIndex& parent) const {
  if (!parent.isValid()) return static_cast<int>(kinds_.size());
  // Only column 0 has children, and resources have none.
  if (parent.column() != 0 || parent.internalId() != 0) return 0;
  if (parent.row() < 0 || parent.row() >= kinds_.size()) return 0;
  return static_cast<int>(kinds_[parent.row()].resources.size());
}

int ResourceTreeModel::columnCount(const QModelIndex& /*parent*/) const { return kColumnCount; }

QVariant ResourceTreeModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
  if (index.internalId() == 0) return kindData(index.row(), index.column(), role);
  const ResourceInfo* resource = resourceAt(index);
  if (resource == nullptr) return {};
  return resourceData(*resource, index.column(), role);
}

QVariant ResourceTreeModel::kindData(int kind_row, int column, int role) const {
  const KindGroup& group = kinds_[kind_row];
  const int count = static_cast<int>(group.resources.size());
  switch (role) {
    case Qt::DisplayRole:
      if (column == kNameColumn) return group.kind;
      if (column == kCountColumn) return count;
      return {};
    case Qt::ToolTipRole:
      return QStringLiteral("%1: %2 %3")
          .arg(group.kind)
          .arg(count)
          .arg(count == 1 ? QStringLiteral("resource") : QStringLiteral("resources"));
    case Qt::FontRole: {
      QFont font;
      font.setBold(true);
      return font;
    }
    case Qt::TextAlignmentRole:
      if (column == kCountColumn) return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
      return {};
    case kKindRole:
      return group.kind;
    case kCountRole:
      return count;
    default:
      return {};
  }
}

QVariant ResourceTreeModel::resourceData(const ResourceInfo& resource, int column, int role) const {
  switch (role) {
    case Qt::DisplayRole:
      if (column == kNameColumn) return resource.name;
      if (column == kScopeColumn) return resource.scope;
      return {};
    case Qt::ToolTipRole:
      return QStringLiteral("%1\n%2\n%3")
          .arg(resource.key(), scopeToolTip(resource), resource.source.toString());
    case kKindRole:
      return resource.kind;
    case kKeyRole:
      return resource.key();
    default:
      return {};
  }
}

QVariant ResourceTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kNameColumn:
      return QStringLiteral("Name");
    case kScopeColumn:
      return QStringLiteral("Scope");
    case kCountColumn:
      return QStringLiteral("Count");
    default:
      return {};
  }
}

Qt::ItemFlags ResourceTreeModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;
  Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
  if (index.internalId() != 0) f |= Qt::ItemNeverHasChildren;
  return f;
}

}  // namespace meshsim::gui
