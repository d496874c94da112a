// ResourceTreeModel: checked by QAbstractItemModelTester (fatal on any violation) and by what it
// shows for the bookinfo scenario.
#include "models/resource_tree_model.h"

#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QFont>
#include <QSignalSpy>

#include "app/config_view.h"
#include "gui_test_support.h"
#include "support/paths.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;
using Tester = QAbstractItemModelTester;

QString bookinfo() {
  return QString::fromStdString(meshsim::testing::sourceRoot("scenarios/bookinfo"));
}

class ResourceTreeModelTest : public GuiTest {};

TEST_F(ResourceTreeModelTest, PassesModelTesterThroughLoadAndReset) {
  ResourceTreeModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  EXPECT_EQ(model.rowCount(), 0);
  model.setKinds(loadConfigView({bookinfo()}).kinds);
  EXPECT_EQ(model.rowCount(), 16);
  model.setKinds({});
  EXPECT_EQ(model.rowCount(), 0);
  model.setKinds(loadConfigView({bookinfo()}).kinds);
  EXPECT_EQ(model.rowCount(), 16);
}

TEST_F(ResourceTreeModelTest, ShowsSevenWorkloadsUnderWorkload) {
  ResourceTreeModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  model.setKinds(loadConfigView({bookinfo()}).kinds);

  const QModelIndex workloads = model.indexOfKind("Workload");
  ASSERT_TRUE(workloads.isValid());
  EXPECT_EQ(workloads.data().toString(), "Workload");
  EXPECT_EQ(workloads.siblingAtColumn(ResourceTreeModel::kCountColumn).data().toInt(), 7);
  EXPECT_EQ(workloads.data(ResourceTreeModel::kCountRole).toInt(), 7);
  EXPECT_TRUE(workloads.data(Qt::FontRole).value<QFont>().bold());
  EXPECT_EQ(model.resourceAt(workloads), nullptr);

  const QStringList expected = {"details-v1", "productpage-v1", "ratings-v1", "ratings-v2",
                                "reviews-v1", "reviews-v2",     "reviews-v3"};
  ASSERT_EQ(model.rowCount(workloads), 7);
  for (int row = 0; row < 7; ++row) {
    SCOPED_TRACE(row);
    const QModelIndex name = model.index(row, ResourceTreeModel::kNameColumn, workloads);
    const QModelIndex scope = model.index(row, ResourceTreeModel::kScopeColumn, workloads);
    const QModelIndex count = model.index(row, ResourceTreeModel::kCountColumn, workloads);
    EXPECT_EQ(name.data().toString(), expected[row]);
    EXPECT_EQ(scope.data().toString(), "bookinfo");
    EXPECT_FALSE(count.data().isValid());
    EXPECT_EQ(name.parent(), workloads);
    EXPECT_EQ(model.rowCount(name), 0);
    EXPECT_EQ(name.data(ResourceTreeModel::kKindRole).toString(), "Workload");
    EXPECT_EQ(name.data(ResourceTreeModel::kKeyRole).toString(),
              "Workload bookinfo/" + expected[row]);
    const ResourceInfo* resource = model.resourceAt(scope);
    ASSERT_NE(resource, nullptr);
    EXPECT_EQ(resource->name, expected[row]);
  }
}

TEST_F(ResourceTreeModelTest, KindRowsInEngineOrderWithCounts) {
  ResourceTreeModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  model.setKinds(loadConfigView({bookinfo()}).kinds);
  const QStringList kinds = {"AuthorizationPolicy",
                             "Organization",
                             "Cluster",
                             "Tenant",
                             "Workspace",
                             "Group",
                             "Service",
                             "Workload",
                             "User",
                             "Team",
                             "Role",
                             "AccessBinding",
                             "TenantSetting",
                             "SecuritySetting",
                             "ServiceRoute",
                             "Scenario"};
  const QList<int> counts = {1, 1, 2, 1, 2, 3, 4, 7, 2, 2, 1, 2, 1, 2, 1, 1};
  ASSERT_EQ(model.rowCount(), kinds.size());
  for (int row = 0; row < model.rowCount(); ++row) {
    SCOPED_TRACE(kinds[row].toStdString());
    EXPECT_EQ(model.index(row, 0).data().toString(), kinds[row]);
    EXPECT_EQ(model.index(row, ResourceTreeModel::kCountColumn).data().toInt(), counts[row]);
    EXPECT_EQ(model.rowCount(model.index(row, 0)), counts[row]);
    EXPECT_FALSE(model.index(row, 0).parent().isValid());
    // Only column 0 has children.
    EXPECT_EQ(model.rowCount(model.index(row, ResourceTreeModel::kScopeColumn)), 0);
  }
}

TEST_F(ResourceTreeModelTest, ScopesOfHierarchyKinds) {
  ResourceTreeModel model;
  model.setKinds(loadConfigView({bookinfo()}).kinds);
  struct Case {
    QString key;
    QString name;
    QString scope;
  };
  const std::vector<Case> cases = {
      {"Organization acme", "acme", ""},
      {"Workspace retail/payments", "payments", "retail"},
      {"Group retail/bookinfo/bookinfo-sec", "bookinfo-sec", "retail/bookinfo"},
      {"SecuritySetting retail/bookinfo/bookinfo-sec/ratings", "ratings",
       "retail/bookinfo/bookinfo-sec"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key.toStdString());
    const QModelIndex index = model.indexOfKey(c.key);
    ASSERT_TRUE(index.isValid());
    EXPECT_EQ(index.data().toString(), c.name);
    EXPECT_EQ(index.siblingAtColumn(ResourceTreeModel::kScopeColumn).data().toString(), c.scope);
  }
  EXPECT_FALSE(model.indexOfKey("Workload bookinfo/absent").isValid());
  EXPECT_FALSE(model.indexOfKind("VirtualService").isValid());
}

TEST_F(ResourceTreeModelTest, HeadersAndToolTips) {
  ResourceTreeModel model;
  model.setKinds(loadConfigView({bookinfo()}).kinds);
  EXPECT_EQ(model.headerData(0, Qt::Horizontal).toString(), "Name");
  EXPECT_EQ(model.headerData(1, Qt::Horizontal).toString(), "Scope");
  EXPECT_EQ(model.headerData(2, Qt::Horizontal).toString(), "Count");
  EXPECT_FALSE(model.headerData(3, Qt::Horizontal).isValid());
  EXPECT_FALSE(model.headerData(0, Qt::Vertical).isValid());

  EXPECT_EQ(model.indexOfKind("Group").data(Qt::ToolTipRole).toString(), "Group: 3 resources");
  EXPECT_EQ(model.indexOfKind("Role").data(Qt::ToolTipRole).toString(), "Role: 1 resource");
  EXPECT_EQ(model.indexOfKey("ServiceRoute retail/bookinfo/bookinfo-traffic/ratings-canary")
                .data(Qt::ToolTipRole)
                .toString(),
            "ServiceRoute retail/bookinfo/bookinfo-traffic/ratings-canary\n"
            "tenant retail, workspace bookinfo, group bookinfo-traffic\n" +
                bookinfo() + "/changes/ratings-canary.yaml:2:1");
}

TEST_F(ResourceTreeModelTest, InvalidAndForeignIndexesGiveNothing) {
  ResourceTreeModel model;
  ResourceTreeModel other;
  model.setKinds(loadConfigView({bookinfo()}).kinds);
  other.setKinds(loadConfigView({bookinfo()}).kinds);
  EXPECT_EQ(model.resourceAt({}), nullptr);
  const QModelIndex foreign = other.indexOfKey("Workload bookinfo/details-v1");
  ASSERT_TRUE(foreign.isValid());
  EXPECT_EQ(model.resourceAt(foreign), nullptr);
  EXPECT_FALSE(model.index(99, 0).isValid());
  EXPECT_FALSE(model.index(0, 3).isValid());
  EXPECT_EQ(model.flags({}), Qt::NoItemFlags);
  EXPECT_TRUE(model.flags(model.indexOfKey("Workload bookinfo/details-v1"))
                  .testFlag(Qt::ItemNeverHasChildren));
  EXPECT_FALSE(model.flags(model.indexOfKind("Workload")).testFlag(Qt::ItemNeverHasChildren));
}

TEST_F(ResourceTreeModelTest, SetKindsIsOneReset) {
  ResourceTreeModel model;
  QSignalSpy about(&model, &QAbstractItemModel::modelAboutToBeReset);
  QSignalSpy done(&model, &QAbstractItemModel::modelReset);
  model.setKinds(loadConfigView({bookinfo()}).kinds);
  EXPECT_EQ(about.count(), 1);
  EXPECT_EQ(done.count(), 1);
}

}  // namespace
}  // namespace meshsim::gui
