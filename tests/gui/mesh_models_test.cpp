// AuditModel, BlastModel and MetricsModel under QAbstractItemModelTester.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QSignalSpy>

#include "gui_test_support.h"
#include "models/audit_model.h"
#include "models/blast_model.h"
#include "models/metrics_model.h"

namespace meshsim::gui {
namespace {

using meshsim::gui::testing::GuiTest;
using Tester = QAbstractItemModelTester;

class MeshModelsTest : public GuiTest {};

AuditEntry entry(qint64 seq, const char* user, const char* outcome) {
  AuditEntry e;
  e.seq = seq;
  e.time = QStringLiteral("2026-11-22T10:00:0%1Z").arg(seq);
  e.user = user;
  e.verb = "apply";
  e.kind = "ServiceRoute";
  e.resource = "organizations/acme/tenants/retail/workspaces/bookinfo/trafficgroups/t/x";
  e.outcome = outcome;
  e.reason = QString(outcome) == "accepted" ? "created" : "PermissionDenied: no";
  e.diff = QStringLiteral("--- a/x\n+++ b/x\n+line %1\n").arg(seq);
  return e;
}

TEST_F(MeshModelsTest, AuditModelShowsRecordsAndAppendsNewOnes) {
  AuditModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  EXPECT_EQ(model.rowCount(), 0);
  EXPECT_EQ(model.columnCount(), AuditModel::kColumnCount);
  model.setEntries({entry(1, "admin", "accepted")});
  QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
  QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
  model.setEntries({entry(1, "admin", "accepted"), entry(2, "zack", "refused")});
  EXPECT_EQ(inserted.count(), 1);
  EXPECT_EQ(reset.count(), 0);
  ASSERT_EQ(model.rowCount(), 2);
  EXPECT_EQ(model.index(1, AuditModel::kUserColumn).data().toString(), "zack");
  EXPECT_EQ(model.index(1, AuditModel::kOutcomeColumn).data().toString(), "refused");
  EXPECT_FALSE(model.index(1, 0).data(AuditModel::kAcceptedRole).toBool());
  EXPECT_TRUE(model.index(0, 0).data(AuditModel::kAcceptedRole).toBool());
  EXPECT_EQ(model.index(1, 0).data(AuditModel::kDiffRole).toString(), "--- a/x\n+++ b/x\n+line 2\n");
  EXPECT_EQ(model.headerData(AuditModel::kReasonColumn, Qt::Horizontal).toString(), "Reason");
  // Unchanged rows: nothing happens; a different history: a reset.
  model.setEntries({entry(1, "admin", "accepted"), entry(2, "zack", "refused")});
  EXPECT_EQ(inserted.count(), 1);
  model.setEntries({entry(7, "alice", "accepted")});
  EXPECT_EQ(reset.count(), 1);
  EXPECT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.entryAt(model.index(0, 0))->seq, 7);
  EXPECT_EQ(model.entryAt(QModelIndex()), nullptr);
}

TEST_F(MeshModelsTest, BlastModelListsReachedWorkloadsWithTheirPaths) {
  BlastModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  BlastView blast;
  blast.compromised = "bookinfo/productpage-v1";
  BlastTarget reviews{"bookinfo/reviews-v2", 1, 1.0,
                      {{"bookinfo/productpage-v1", "bookinfo/reviews-v2", "bookinfo/reviews:9080",
                        "no ALLOW policy", true, 1}}};
  BlastTarget ratings{"bookinfo/ratings-v1", 2, 0.5,
                      {reviews.path[0],
                       {"bookinfo/reviews-v2", "bookinfo/ratings-v1", "bookinfo/ratings:9080",
                        "bookinfo/ratings-viewer rule 0", true, 2}}};
  blast.reached = {reviews, ratings};
  model.setBlast(blast);
  ASSERT_EQ(model.rowCount(), 2);
  EXPECT_EQ(model.index(1, BlastModel::kWorkloadColumn).data().toString(), "bookinfo/ratings-v1");
  EXPECT_EQ(model.index(1, BlastModel::kHopsColumn).data().toInt(), 2);
  EXPECT_EQ(model.index(1, BlastModel::kPathColumn).data().toString(),
            "bookinfo/productpage-v1 → bookinfo/reviews-v2 → bookinfo/ratings-v1");
  EXPECT_EQ(model.index(1, BlastModel::kViaColumn).data().toString(),
            "no ALLOW policy; bookinfo/ratings-viewer rule 0");
  EXPECT_EQ(model.index(0, 0).data(BlastModel::kHopsRole).toInt(), 1);
  model.setBlast({});
  EXPECT_EQ(model.rowCount(), 0);
}

TEST_F(MeshModelsTest, MetricsModelUpdatesInPlaceAndResetsOnNewVersions) {
  MetricsModel model;
  Tester tester(&model, Tester::FailureReportingMode::Fatal);
  MetricsSample sample;
  sample.versions = {{"bookinfo/ratings", "v2", 10, 1, 5.0, 1.5, 3.0},
                     {"bookinfo/ratings", "v1", 90, 0, 45.0, 1.0, 2.0}};
  model.setSample(sample);
  ASSERT_EQ(model.rowCount(), 2);
  // Sorted by "service version".
  EXPECT_EQ(model.index(0, MetricsModel::kVersionColumn).data().toString(), "v1");
  EXPECT_EQ(model.index(1, MetricsModel::kRequestsColumn).data().toULongLong(), 10u);
  EXPECT_EQ(model.index(1, MetricsModel::kErrorRateColumn).data().toString(), "10.0");
  EXPECT_EQ(model.index(0, MetricsModel::kRpsColumn).data().toString(), "45.0");
  QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
  QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
  sample.versions[0].requests = 20;
  model.setSample(sample);
  EXPECT_EQ(changed.count(), 1);
  EXPECT_EQ(reset.count(), 0);
  EXPECT_EQ(model.index(1, MetricsModel::kRequestsColumn).data().toULongLong(), 20u);
  sample.versions.append({"bookinfo/reviews", "v3", 5, 0, 1, 1, 1});
  model.setSample(sample);
  EXPECT_EQ(reset.count(), 1);
  EXPECT_EQ(model.rowCount(), 3);
  model.setSample({});
  EXPECT_EQ(model.rowCount(), 0);
}

}  // namespace
}  // namespace meshsim::gui
