// apply / delete / get / audit / explain / export as a user runs them against a state directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/paths.h"
#include "support/process.h"

namespace meshsim::testing {
namespace {

namespace fs = std::filesystem;

class MgmtCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("meshsim-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    state_ = (dir_ / "state").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  ProcessResult run(std::vector<std::string> args) {
    args.push_back("--state");
    args.push_back(state_);
    return runMeshsim(args);
  }
  void bootstrap() {
    auto r = run({"apply", "-f", sourceRoot("scenarios/bookinfo/mesh"), "--as", "admin"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string change(const std::string& name) { return sourceRoot("scenarios/bookinfo/changes/" + name); }

  fs::path dir_;
  std::string state_;
};

TEST_F(MgmtCli, TheBookinfoStoryFromTheCommandLine) {
  bootstrap();
  auto strict = run({"apply", "-f", change("tenant-strict.yaml"), "--as", "alice"});
  EXPECT_EQ(strict.exit_code, 0) << strict.err;
  EXPECT_NE(strict.out.find("TenantSetting organizations/acme/tenants/retail/settings/default created"),
            std::string::npos)
      << strict.out;
  auto canary = run({"apply", "-f", change("ratings-canary.yaml"), "--as", "zack"});
  EXPECT_EQ(canary.exit_code, 0) << canary.err;
  auto relax = run({"apply", "-f", change("zack-relax-mtls.yaml"), "--as", "zack"});
  EXPECT_EQ(relax.exit_code, 1);
  EXPECT_NE(relax.err.find("FailedPrecondition: authenticationSettings.trafficMode OPTIONAL would weaken "
                           "REQUIRED locked by organizations/acme/tenants/retail/settings/default"),
            std::string::npos)
      << relax.err;
  auto other = run({"apply", "-f", change("zack-payments.yaml"), "--as", "zack"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("PermissionDenied: user zack lacks CREATE on SecuritySetting"), std::string::npos);

  auto log = run({"audit", "log", "--user", "zack", "-o", "json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  auto records = nlohmann::json::parse(log.out);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0]["outcome"], "accepted");
  EXPECT_EQ(records[1]["outcome"], "refused");
  EXPECT_EQ(records[2]["outcome"], "refused");

  auto show = run({"audit", "show", std::to_string(records[0]["seq"].get<int>())});
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("+    - {name: v1, labels: {version: v1}, weight: 90}"), std::string::npos) << show.out;

  auto verify = run({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

TEST_F(MgmtCli, TamperingWithTheAuditLogIsDetected) {
  bootstrap();
  run({"apply", "-f", change("ratings-canary.yaml"), "--as", "zack"});
  std::string db = state_ + "/meshsim.db";
  std::string cmd = "sqlite3 '" + db + "' \"UPDATE audit SET user='alice' WHERE seq=5\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto verify = run({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.out.find("record 5"), std::string::npos) << verify.out;
}

TEST_F(MgmtCli, GetListsWhatIsInTheState) {
  bootstrap();
  auto table = run({"get", "Workload"});
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("reviews-v3"), std::string::npos);
  auto json = run({"get", "Cluster", "eks-eu-west", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["spec"]["network"], "net2");
  EXPECT_EQ(run({"get", "ServiceRoute"}).exit_code, 1);  // nothing matched
  EXPECT_EQ(run({"get", "Gizmo"}).exit_code, 2);
}

TEST_F(MgmtCli, DeleteByKindAndName) {
  bootstrap();
  run({"apply", "-f", change("ratings-canary.yaml"), "--as", "zack"});
  auto del = run({"delete", "ServiceRoute", "ratings-canary", "--tenant", "retail", "--workspace", "bookinfo",
                  "--group", "bookinfo-traffic", "--as", "zack"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_NE(del.out.find("deleted"), std::string::npos);
  EXPECT_EQ(run({"get", "ServiceRoute"}).exit_code, 1);
}

TEST_F(MgmtCli, MalformedInputAppliesNothing) {
  bootstrap();
  fs::path bad = dir_ / "bad.yaml";
  std::ofstream(bad) << "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: ok}\n---\n"
                        "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: Not_Valid}\n";
  auto r = run({"apply", "-f", bad.string(), "--as", "admin"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:7:18: error: metadata.name"), std::string::npos) << r.err;
  EXPECT_EQ(run({"get", "Tenant", "ok"}).exit_code, 1);
}

TEST_F(MgmtCli, ApplyNeedsAUser) {
  EXPECT_EQ(run({"apply", "-f", change("ratings-canary.yaml")}).exit_code, 2);
}

TEST_F(MgmtCli, ExplainShowsTheLockingAncestor) {
  bootstrap();
  run({"apply", "-f", change("tenant-strict.yaml"), "--as", "alice"});
  auto r = run({"explain", "--workload", "bookinfo/ratings-v2", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["security"]["trafficMode"], "REQUIRED");
  EXPECT_EQ(doc["security"]["trafficModeFrom"]["from"], "organizations/acme/tenants/retail/settings/default");
  EXPECT_EQ(doc["security"]["trafficModeFrom"]["lockedBy"], "organizations/acme/tenants/retail/settings/default");
  EXPECT_EQ(doc["placement"]["securityGroup"],
            "organizations/acme/tenants/retail/workspaces/bookinfo/securitygroups/bookinfo-sec");
  EXPECT_EQ(run({"explain", "--workload", "bookinfo/nope"}).exit_code, 2);
}

TEST_F(MgmtCli, ExportWritesOneValidIstioFilePerCluster) {
  bootstrap();
  run({"apply", "-f", change("tenant-strict.yaml"), "--as", "alice"});
  run({"apply", "-f", change("ratings-canary.yaml"), "--as", "zack"});
  fs::path out = dir_ / "istio";
  auto r = run({"export", "--istio", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* cluster : {"gke-us-east", "eks-eu-west"}) {
    fs::path file = out / (std::string(cluster) + ".yaml");
    ASSERT_TRUE(fs::exists(file)) << file;
    auto valid = runMeshsim({"validate", "-f", file.string()});
    EXPECT_EQ(valid.exit_code, 0) << valid.err;
    EXPECT_NE(valid.out.find("PeerAuthentication"), std::string::npos) << valid.out;
    EXPECT_NE(valid.out.find("VirtualService"), std::string::npos) << valid.out;
  }
}

TEST_F(MgmtCli, ExportFromFilesWithoutAState) {
  fs::path out = dir_ / "istio";
  auto r = runMeshsim({"export", "--istio", "-f", sourceRoot("scenarios/bookinfo/mesh"), "--cluster",
                       "gke-us-east", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / "gke-us-east.yaml"));
  EXPECT_FALSE(fs::exists(out / "eks-eu-west.yaml"));
}

}  // namespace
}  // namespace meshsim::testing
