#pragma once
/// The loaded configuration as a two-level tree: kinds, then the resources of each kind.

#include <QAbstractItemModel>
#include <QList>

#include "app/config_view.h"

namespace meshsim::gui {

/// Top-level rows are kinds (in the engine's kind order) with their resource count; their
/// children are the resources of that kind with name and scope. Read-only. GUI thread only.
class ResourceTreeModel : public QAbstractItemModel {
  Q_OBJECT

 public:
  /// Columns of both levels.
  enum Column { kNameColumn = 0, kScopeColumn = 1, kCountColumn = 2, kColumnCount = 3 };
  /// Extra data roles.
  enum Role {
    kKindRole = Qt::UserRole + 1,  ///< QString: the kind of the row (kind rows and resources)
    kKeyRole,                      ///< QString: ResourceInfo::key() of a resource; null for kinds
    kCountRole,                    ///< int: number of resources of a kind row; null for resources
  };

  /// An empty model.
  explicit ResourceTreeModel(QObject* parent = nullptr);

  /// Replaces the contents (a model reset).
  void setKinds(const QList<KindGroup>& kinds);

  /// The resource at `index` (any column), or nullptr for kind rows and invalid indexes. The
  /// pointer is valid until the next setKinds().
  const ResourceInfo* resourceAt(const QModelIndex& index) const;
  /// Index (column 0) of the resource with ResourceInfo::key() == `key`; invalid when absent.
  QModelIndex indexOfKey(const QString& key) const;
  /// Index (column 0) of the kind row named `kind`; invalid when absent.
  QModelIndex indexOfKind(const QString& kind) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

 private:
  // Internal ids: 0 for kind rows; kind row + 1 for resources (naming their parent).
  QVariant kindData(int kind_row, int column, int role) const;
  QVariant resourceData(const ResourceInfo& resource, int column, int role) const;

  QList<KindGroup> kinds_;
};

}  // namespace meshsim::gui
