// The management plane end to end on a real state directory: the bookinfo story, RBAC inheritance,
// custom roles, refusals, audit records, translation and export.
#include "meshsim/mgmt/plane.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/mgmt/hierarchy.h"
#include "meshsim/mgmt/rbac.h"
#include "meshsim/mgmt/translate.h"
#include "support/paths.h"

namespace meshsim::mgmt {
namespace {

namespace fs = std::filesystem;

class PlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("meshsim-plane-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto plane = ManagementPlane::open(dir_.string(), [this] { return now(); });
    ASSERT_TRUE(plane.ok()) << plane.status().toString();
    plane_ = std::move(plane).value();
  }
  void TearDown() override {
    plane_.reset();
    fs::remove_all(dir_);
  }
  std::string now() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-01-01T00:%02d:00Z", minute_++ % 60);
    return buf;
  }
  std::vector<ChangeOutcome> applyFile(const std::string& rel, const std::string& user) {
    auto r = config::loadPaths({testing::sourceRoot(rel)});
    EXPECT_FALSE(r.diagnostics.hasErrors());
    return plane_->apply(r.resources, user);
  }
  std::vector<ChangeOutcome> applyText(const std::string& yaml, const std::string& user) {
    auto r = config::loadString(yaml, "inline.yaml");
    EXPECT_FALSE(r.diagnostics.hasErrors()) << r.diagnostics.items()[0].toString();
    return plane_->apply(r.resources, user);
  }
  void bootstrapBookinfo() {
    for (const auto& o : applyFile("scenarios/bookinfo/mesh", kBootstrapAdmin)) {
      ASSERT_TRUE(o.accepted) << o.resource << ": " << o.message;
    }
  }

  fs::path dir_;
  int minute_ = 0;
  std::unique_ptr<ManagementPlane> plane_;
};

TEST_F(PlaneTest, BookinfoStoryAcceptsTheCanaryAndRefusesTheWeakening) {
  bootstrapBookinfo();
  auto strict = applyFile("scenarios/bookinfo/changes/tenant-strict.yaml", "alice");
  ASSERT_EQ(strict.size(), 1u);
  EXPECT_TRUE(strict[0].accepted) << strict[0].message;

  auto canary = applyFile("scenarios/bookinfo/changes/ratings-canary.yaml", "zack");
  ASSERT_TRUE(canary[0].accepted) << canary[0].message;
  EXPECT_EQ(canary[0].result, "created");
  EXPECT_EQ(canary[0].resource,
            "organizations/acme/tenants/retail/workspaces/bookinfo/trafficgroups/bookinfo-traffic/"
            "serviceroutes/ratings-canary");

  auto relax = applyFile("scenarios/bookinfo/changes/zack-relax-mtls.yaml", "zack");
  ASSERT_FALSE(relax[0].accepted);
  EXPECT_EQ(relax[0].code, StatusCode::kFailedPrecondition);
  EXPECT_EQ(relax[0].message,
            "authenticationSettings.trafficMode OPTIONAL would weaken REQUIRED locked by "
            "organizations/acme/tenants/retail/settings/default (propagationStrategy STRICTER)");

  auto other = applyFile("scenarios/bookinfo/changes/zack-payments.yaml", "zack");
  ASSERT_FALSE(other[0].accepted);
  EXPECT_EQ(other[0].code, StatusCode::kPermissionDenied);
  EXPECT_NE(other[0].message.find("user zack lacks CREATE on SecuritySetting at "
                                  "organizations/acme/tenants/retail/workspaces/payments/securitygroups/payments-sec"),
            std::string::npos)
      << other[0].message;

  // Every attempt is audited, refused ones too, and the chain verifies.
  auto zack = plane_->state().audit({"zack", "", ""});
  ASSERT_TRUE(zack.ok());
  ASSERT_EQ(zack->size(), 3u);
  EXPECT_EQ((*zack)[0].outcome, "accepted");
  EXPECT_EQ((*zack)[1].outcome, "refused");
  EXPECT_EQ((*zack)[2].outcome, "refused");
  EXPECT_NE((*zack)[0].diff.find("+    - {name: v2, labels: {version: v2}, weight: 10}"), std::string::npos)
      << (*zack)[0].diff;
  auto verify = plane_->state().verify();
  ASSERT_TRUE(verify.ok());
  EXPECT_TRUE(verify->ok);
}

TEST_F(PlaneTest, StateSurvivesReopening) {
  bootstrapBookinfo();
  applyFile("scenarios/bookinfo/changes/ratings-canary.yaml", "zack");
  uint64_t revision = plane_->snapshot()->revision;
  plane_.reset();
  auto reopened = ManagementPlane::open(dir_.string(), [this] { return now(); });
  ASSERT_TRUE(reopened.ok());
  auto snap = (*reopened)->snapshot();
  EXPECT_EQ(snap->service_routes.size(), 1u);
  EXPECT_EQ(snap->workloads.size(), 7u);
  EXPECT_EQ(snap->revision, revision);
}

TEST_F(PlaneTest, BindingsAreInheritedDownwardsNotUpwards) {
  bootstrapBookinfo();
  // zack's binding is on the bookinfo workspace: it reaches the groups below...
  auto snap = plane_->snapshot();
  auto below = checkAccess(*snap, {"zack", model::Permission::kCreate, "ServiceRoute",
                                   "organizations/acme/tenants/retail/workspaces/bookinfo/trafficgroups/bookinfo-traffic"});
  EXPECT_TRUE(below.allowed) << below.reason;
  EXPECT_EQ(below.via, "AccessBinding bookinfo-devs-traffic: role app-developer on "
                       "organizations/acme/tenants/retail/workspaces/bookinfo");
  // ...but not the tenant above it.
  auto above = checkAccess(*snap, {"zack", model::Permission::kCreate, "ServiceRoute",
                                   "organizations/acme/tenants/retail"});
  EXPECT_FALSE(above.allowed);
  // alice is in team infosec, admin of the tenant: everything below it.
  auto alice = checkAccess(*snap, {"alice", model::Permission::kDelete, "Workspace",
                                   "organizations/acme/tenants/retail/workspaces/payments"});
  EXPECT_TRUE(alice.allowed);
}

TEST_F(PlaneTest, CustomRolesAreScopedToTheirKinds) {
  bootstrapBookinfo();
  auto snap = plane_->snapshot();
  std::string ws = "organizations/acme/tenants/retail/workspaces/bookinfo";
  EXPECT_TRUE(checkAccess(*snap, {"zack", model::Permission::kWrite, "AuthorizationPolicy", ws}).allowed);
  // app-developer grants only READ on every other kind.
  EXPECT_TRUE(checkAccess(*snap, {"zack", model::Permission::kRead, "Workload", ws}).allowed);
  EXPECT_FALSE(checkAccess(*snap, {"zack", model::Permission::kWrite, "Workload", ws}).allowed);
  EXPECT_FALSE(checkAccess(*snap, {"zack", model::Permission::kCreate, "Group", ws}).allowed);
}

TEST_F(PlaneTest, PredefinedRolesHaveTsbPermissions) {
  EXPECT_EQ(predefinedRolePermissions("creator"),
            (std::vector<model::Permission>{model::Permission::kRead, model::Permission::kCreate}));
  EXPECT_EQ(predefinedRolePermissions("writer"),
            (std::vector<model::Permission>{model::Permission::kRead, model::Permission::kWrite}));
  EXPECT_EQ(predefinedRolePermissions("reader"), (std::vector<model::Permission>{model::Permission::kRead}));
  EXPECT_EQ(predefinedRolePermissions("editor").size(), 3u);
  EXPECT_EQ(predefinedRolePermissions("admin").size(), 6u);
  EXPECT_TRUE(predefinedRolePermissions("owner").empty());
}

TEST_F(PlaneTest, UnknownUsersAreRefusedAndAudited) {
  bootstrapBookinfo();
  auto out = applyFile("scenarios/bookinfo/changes/ratings-canary.yaml", "mallory");
  ASSERT_FALSE(out[0].accepted);
  EXPECT_EQ(out[0].code, StatusCode::kPermissionDenied);
  EXPECT_NE(out[0].message.find("unknown user \"mallory\""), std::string::npos);
  EXPECT_GT(out[0].audit_seq, 0);
}

TEST_F(PlaneTest, BrokenReferencesAreRefusedWithTheField) {
  bootstrapBookinfo();
  auto out = applyText("apiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: bookinfo, name: x}\n"
                       "spec: {service: ratings, cluster: aks-nowhere}\n",
                       kBootstrapAdmin);
  ASSERT_FALSE(out[0].accepted);
  EXPECT_EQ(out[0].code, StatusCode::kInvalidArgument);
  EXPECT_EQ(out[0].message, "spec.cluster: unknown cluster \"aks-nowhere\"");
}

TEST_F(PlaneTest, DeletesAreCheckedAuditedAndProtectReferences) {
  bootstrapBookinfo();
  applyFile("scenarios/bookinfo/changes/ratings-canary.yaml", "zack");
  // zack may delete his route (app-developer has DELETE on ServiceRoute)...
  auto del = plane_->remove({{"ServiceRoute", "retail/bookinfo/bookinfo-traffic", "ratings-canary"}}, "zack");
  ASSERT_TRUE(del[0].accepted) << del[0].message;
  EXPECT_TRUE(plane_->snapshot()->service_routes.empty());
  // ...but not a cluster, and nobody may delete a cluster that workloads still run on.
  auto cluster = plane_->remove({{"Cluster", "", "gke-us-east"}}, "zack");
  EXPECT_EQ(cluster[0].code, StatusCode::kPermissionDenied);
  auto in_use = plane_->remove({{"Cluster", "", "gke-us-east"}}, kBootstrapAdmin);
  EXPECT_EQ(in_use[0].code, StatusCode::kFailedPrecondition);
  auto missing = plane_->remove({{"Cluster", "", "nope"}}, kBootstrapAdmin);
  EXPECT_EQ(missing[0].code, StatusCode::kNotFound);
}

TEST_F(PlaneTest, AResourceGivenTwiceInOneBatchEndsWithItsLastDocument) {
  bootstrapBookinfo();
  const std::string first =
      "apiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: bookinfo, name: extra}\n"
      "spec: {service: ratings, cluster: gke-us-east, replicas: 1}\n";
  const std::string last =
      "apiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: bookinfo, name: extra}\n"
      "spec: {service: ratings, cluster: gke-us-east, replicas: 3}\n";
  auto out = applyText(first + "---\n" + last, kBootstrapAdmin);
  ASSERT_EQ(out.size(), 2u);
  ASSERT_TRUE(out[0].accepted) << out[0].message;
  ASSERT_TRUE(out[1].accepted) << out[1].message;
  EXPECT_EQ(out[0].result, "created");
  EXPECT_EQ(out[1].result, "updated");
  const auto* extra = plane_->snapshot()->findWorkload("bookinfo", "extra");
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(extra->replicas, 3u);
}

TEST_F(PlaneTest, UnchangedReapplyIsAuditedAsUnchanged) {
  bootstrapBookinfo();
  auto again = applyFile("scenarios/bookinfo/mesh/topology.yaml", kBootstrapAdmin);
  for (const auto& o : again) EXPECT_EQ(o.result, "unchanged") << o.resource;
}

TEST_F(PlaneTest, TranslationGeneratesStrictPeerAuthenticationAndTheCanaryRoute) {
  bootstrapBookinfo();
  applyFile("scenarios/bookinfo/changes/tenant-strict.yaml", "alice");
  applyFile("scenarios/bookinfo/changes/ratings-canary.yaml", "zack");
  auto t = translate(*plane_->snapshot(), "gke-us-east");
  const model::PeerAuthentication* pa = nullptr;
  const model::VirtualService* vs = nullptr;
  const model::DestinationRule* dr = nullptr;
  for (const auto& r : t.resources) {
    if (auto* p = std::get_if<model::PeerAuthentication>(&r)) pa = p;
    if (auto* v = std::get_if<model::VirtualService>(&r)) vs = v;
    if (auto* d = std::get_if<model::DestinationRule>(&r)) dr = d;
  }
  ASSERT_NE(pa, nullptr);
  EXPECT_EQ(pa->meta.namespace_, "bookinfo");
  EXPECT_EQ(pa->mode, model::MtlsMode::kStrict);
  EXPECT_FALSE(pa->selector.present);
  EXPECT_EQ(pa->meta.annotations.at(kSourceAnnotation), "organizations/acme/tenants/retail/settings/default");
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ(vs->hosts, std::vector<std::string>{"ratings.bookinfo.svc.cluster.local"});
  ASSERT_EQ(vs->http.size(), 1u);
  ASSERT_EQ(vs->http[0].route.size(), 2u);
  EXPECT_EQ(vs->http[0].route[0].destination.subset, "v1");
  EXPECT_EQ(*vs->http[0].route[0].weight, 90);
  EXPECT_EQ(*vs->http[0].route[1].weight, 10);
  ASSERT_NE(dr, nullptr);
  EXPECT_EQ(dr->subsets.size(), 2u);
  EXPECT_EQ(dr->subsets[1].labels.at("version"), "v2");
}

TEST_F(PlaneTest, ExportedIstioYamlIsValidIstio) {
  bootstrapBookinfo();
  applyFile("scenarios/bookinfo/changes/tenant-strict.yaml", "alice");
  applyFile("scenarios/bookinfo/changes/ratings-canary.yaml", "zack");
  auto t = translate(*plane_->snapshot(), "gke-us-east");
  ASSERT_FALSE(t.resources.empty());
  std::string text;
  for (const auto& r : t.resources) text += "---\n" + toIstioYaml(r);
  auto reread = config::loadString(text, "gke-us-east.yaml");
  EXPECT_FALSE(reread.diagnostics.hasErrors())
      << (reread.diagnostics.items().empty() ? "" : reread.diagnostics.items()[0].toString()) << "\n" << text;
  EXPECT_EQ(reread.resources.size(), t.resources.size());
}

TEST_F(PlaneTest, AuthorizationModesTranslateToAllowPolicies) {
  bootstrapBookinfo();
  auto out = applyText(R"(apiVersion: meshsim/v1
kind: SecuritySetting
metadata: {tenant: retail, workspace: bookinfo, group: bookinfo-sec, name: custom}
spec:
  authorization:
    mode: CUSTOM
    serviceAccounts: [bookinfo/bookinfo-productpage, ./*]
)",
                       "alice");
  ASSERT_TRUE(out[0].accepted) << out[0].message;
  auto t = translate(*plane_->snapshot());
  const model::AuthorizationPolicy* ap = nullptr;
  for (const auto& r : t.resources) {
    if (auto* p = std::get_if<model::AuthorizationPolicy>(&r)) ap = p;
  }
  ASSERT_NE(ap, nullptr);
  EXPECT_EQ(ap->action, model::AuthzAction::kAllow);
  ASSERT_EQ(ap->rules.size(), 1u);
  EXPECT_EQ((*ap->rules[0].from)[0].principals,
            (std::vector<std::string>{"cluster.local/ns/bookinfo/sa/bookinfo-productpage",
                                      "cluster.local/ns/bookinfo/sa/*"}));
}

TEST_F(PlaneTest, TrafficSettingsBecomeRouteTimeoutsAndLocalRateLimits) {
  bootstrapBookinfo();
  auto out = applyText(R"(apiVersion: meshsim/v1
kind: TrafficSetting
metadata: {tenant: retail, workspace: bookinfo, group: bookinfo-traffic, name: resilience}
spec:
  resilience:
    httpRequestTimeout: 2s
    httpRetries: {attempts: 3, perTryTimeout: 500ms}
  rateLimiting:
    local:
      rules:
      - tokenBucket: {maxTokens: 100, tokensPerFill: 100, fillInterval: 1s}
)",
                       "zack");
  ASSERT_TRUE(out[0].accepted) << out[0].message;
  auto t = translate(*plane_->snapshot(), "gke-us-east");
  const model::VirtualService* details = nullptr;
  for (const auto& r : t.resources) {
    if (auto* v = std::get_if<model::VirtualService>(&r); v != nullptr && v->meta.name == "meshsim-traffic-details") {
      details = v;
    }
  }
  ASSERT_NE(details, nullptr);
  EXPECT_EQ(details->http[0].timeout->millis, 2000);
  EXPECT_EQ(details->http[0].retries.attempts, 3);
  EXPECT_EQ(details->http[0].retries.per_try_timeout->millis, 500);
  ASSERT_EQ(t.rate_limits.size(), 4u);  // one per bookinfo service
  EXPECT_EQ(t.rate_limits[0].bucket.max_tokens, 100u);
  std::string yaml = rateLimitYaml(t.rate_limits[0]);
  EXPECT_NE(yaml.find("kind: EnvoyFilter"), std::string::npos);
  EXPECT_NE(yaml.find("envoy.filters.http.local_ratelimit"), std::string::npos);
  EXPECT_NE(yaml.find("fill_interval: 1s"), std::string::npos) << yaml;
}

TEST(Hierarchy, FqnAncestorsAndLevels) {
  EXPECT_EQ(fqnAncestors("organizations/acme/tenants/retail/workspaces/w"),
            (std::vector<std::string>{"organizations/acme", "organizations/acme/tenants/retail",
                                      "organizations/acme/tenants/retail/workspaces/w"}));
  EXPECT_EQ(fqnLevel("organizations/acme"), "Organization");
  EXPECT_EQ(fqnLevel("organizations/acme/tenants/retail"), "Tenant");
  EXPECT_EQ(fqnLevel("organizations/acme/tenants/retail/workspaces/w"), "Workspace");
  EXPECT_EQ(fqnLevel("organizations/acme/tenants/retail/workspaces/w/securitygroups/g"), "Group");
}

}  // namespace
}  // namespace meshsim::mgmt
