// Assertion evaluation against hand-written observations.
#include <gtest/gtest.h>

#include "meshsim/config/loader.h"
#include "meshsim/scenario/assertions.h"

namespace meshsim::scenario {
namespace {

observe::RequestLabels dest(const std::string& src, const std::string& dst_wl, const std::string& version,
                            bool mtls, int code = 200) {
  observe::RequestLabels l;
  l.reporter = "destination";
  l.source_workload_namespace = src == "unknown" ? "unknown" : "ns";
  l.source_workload = src;
  l.destination_workload_namespace = "ns";
  l.destination_workload = dst_wl;
  l.destination_service_namespace = "ns";
  l.destination_service_name = "ratings";
  l.destination_version = version;
  l.connection_security_policy = mtls ? "mutual_tls" : "none";
  l.response_code = code;
  return l;
}

observe::RequestStats n(uint64_t count) {
  observe::RequestStats s;
  for (uint64_t i = 0; i < count; ++i) s.add(1);
  return s;
}

std::shared_ptr<const config::Snapshot> snap(const std::string& yaml) {
  auto loaded = config::loadString(yaml, "t.yaml");
  EXPECT_FALSE(loaded.diagnostics.hasErrors());
  return config::makeSnapshot(loaded.resources);
}

TEST(ScenarioAssertions, TelemetryDeltaSubtractsEarlierCounts) {
  observe::TelemetrySnapshot before, after;
  before.requests.push_back({dest("a", "r1", "v1", true), n(5)});
  after.requests.push_back({dest("a", "r1", "v1", true), n(8)});
  after.requests.push_back({dest("a", "r2", "v2", true), n(2)});
  auto d = telemetryDelta(before, after);
  ASSERT_EQ(d.requests.size(), 2u);
  EXPECT_EQ(d.requests[0].second.count, 3u);
  EXPECT_EQ(d.requests[1].second.count, 2u);
  auto none = telemetryDelta(after, after);
  EXPECT_TRUE(none.requests.empty());
}

TEST(ScenarioAssertions, SplitByVersionWithTolerance) {
  auto config = snap("apiVersion: meshsim/v1\nkind: Cluster\nmetadata: {name: c}\n");
  observe::TelemetrySnapshot d;
  d.requests.push_back({dest("reviews", "r1", "v1", true), n(88)});
  d.requests.push_back({dest("reviews", "r2", "v2", true), n(12)});
  Assertion a;
  a.kind = AssertionKind::kSplit;
  a.service = "ns/ratings";
  a.shares = {{"v1", 90}, {"v2", 10}};
  a.tolerance = 3;
  auto ok = checkSplit(a, d, *config);
  EXPECT_TRUE(ok.passed) << ok.message();
  EXPECT_EQ(ok.observed, "v1 88%, v2 12% of 100 requests");
  a.tolerance = 1;
  auto bad = checkSplit(a, d, *config);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.message(), "split ns/ratings v1=90% v2=10% (±1): expected v1 90%, v2 10% (±1), observed v1 88%, v2 12% of 100 requests");
  a.service = "ns/other";
  auto empty = checkSplit(a, d, *config);
  EXPECT_FALSE(empty.passed);
  EXPECT_EQ(empty.observed, "no request answered by ns/other during the last traffic step");
}

TEST(ScenarioAssertions, SplitBySubsetLabels) {
  auto config = snap(R"(apiVersion: meshsim/v1
kind: Cluster
metadata: {name: c}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: ns, name: ratings}
spec: {ports: [{name: http, port: 80, targetPort: 80}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: ns, name: r1}
spec: {service: ratings, serviceAccount: r, cluster: c, labels: {app: ratings, track: stable}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: ns, name: r2}
spec: {service: ratings, serviceAccount: r, cluster: c, labels: {app: ratings, track: canary}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {namespace: ns, name: ratings}
spec:
  host: ratings
  subsets: [{name: stable, labels: {track: stable}}, {name: canary, labels: {track: canary}}]
)");
  observe::TelemetrySnapshot d;
  d.requests.push_back({dest("reviews", "r1", "", true), n(75)});
  d.requests.push_back({dest("reviews", "r2", "", true), n(25)});
  Assertion a;
  a.kind = AssertionKind::kSplit;
  a.service = "ns/ratings";
  a.shares = {{"stable", 75}, {"canary", 25}};
  a.tolerance = 0;
  auto r = checkSplit(a, d, *config);
  EXPECT_TRUE(r.passed) << r.message();
}

TEST(ScenarioAssertions, MtlsAllAndNamedEdges) {
  observe::TelemetrySnapshot d;
  d.requests.push_back({dest("reviews", "r1", "v1", true), n(10)});
  d.requests.push_back({dest("unknown", "r1", "v1", false), n(4)});  // outsiders do not count
  Assertion a;
  a.kind = AssertionKind::kMtls;
  EXPECT_TRUE(checkMtls(a, d).passed);
  d.requests.push_back({dest("productpage", "r2", "v2", false), n(3)});
  auto bad = checkMtls(a, d);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.observed, "ns/productpage -> ns/r2 plaintext for 3 requests");
  a.edges = {"ns/reviews -> ns/ratings"};
  EXPECT_TRUE(checkMtls(a, d).passed);
  a.edges = {"ns/details -> ns/ratings"};
  auto none = checkMtls(a, d);
  EXPECT_FALSE(none.passed);
  EXPECT_EQ(none.observed, "ns/details -> ns/ratings carried no traffic");
}

TEST(ScenarioAssertions, StatusesIncludingUnexpectedCodes) {
  dataplane::TrafficResult t;
  t.by_status = {{200, 95}, {429, 5}};
  Assertion a;
  a.kind = AssertionKind::kStatuses;
  a.statuses = {{200, 95}, {429, 5}};
  EXPECT_TRUE(checkStatuses(a, t).passed);
  a.statuses = {{200, 100}};
  auto bad = checkStatuses(a, t);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.message(), "statuses of the last traffic step: expected 200: 100, observed 200: 95, 429: 5");
  a.tolerance_count = 5;
  EXPECT_TRUE(checkStatuses(a, t).passed);
  t.by_status = {{0, 3}};
  a.statuses = {{0, 3}};
  a.tolerance_count = 0;
  EXPECT_EQ(checkStatuses(a, t).observed, "reset: 3");
}

TEST(ScenarioAssertions, AuditCounts) {
  std::vector<mgmt::AuditRecord> recs(3);
  recs[0] = {1, "t", "zack", "apply", "ServiceRoute", "x/canary", "accepted", "created", "", "", ""};
  recs[1] = {2, "t", "zack", "apply", "SecuritySetting", "x/ratings", "refused", "locked", "", "", ""};
  recs[2] = {3, "t", "alice", "delete", "TenantSetting", "x/default", "accepted", "deleted", "", "", ""};
  Assertion a;
  a.kind = AssertionKind::kAudit;
  a.user = "zack";
  a.count = 2;
  EXPECT_TRUE(checkAudit(a, recs).passed);
  a.outcome = "refused";
  a.count = 2;
  auto bad = checkAudit(a, recs);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.message(),
            "audit user=zack outcome=refused: expected 2 matching record(s), observed 1 matching record(s) (#2 apply "
            "x/ratings refused)");
  a = Assertion{};
  a.kind = AssertionKind::kAudit;
  a.verb = "delete";
  EXPECT_TRUE(checkAudit(a, recs).passed);
  a.user = "bob";
  EXPECT_FALSE(checkAudit(a, recs).passed);
}

TEST(ScenarioAssertions, AttackReachedAndRefused) {
  std::vector<ProbeOutcome> probes(3);
  probes[0].to = "ns/details";
  probes[0].status = 200;
  probes[1].to = "ns/ratings";
  probes[1].status = 403;
  probes[2].to = "ns/db";
  probes[2].status = 0;
  Assertion a;
  a.kind = AssertionKind::kAttack;
  a.includes = {"ns/details"};
  a.excludes = {"ns/ratings", "ns/db"};
  EXPECT_TRUE(checkAttack(a, probes).passed);
  a.includes = {"ns/ratings"};
  a.excludes = {"ns/unprobed"};
  auto bad = checkAttack(a, probes);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.message(),
            "attack of the last attack step: expected ns/ratings reached, ns/unprobed refused, observed ns/ratings "
            "403, ns/unprobed not probed");
}

TEST(ScenarioAssertions, RequestComparesLiveAndPrediction) {
  LiveCheck live;
  live.observed.status = 403;
  live.observed.body = "RBAC: access denied";
  live.predicted.status = 403;
  live.predicted.stage = policy::Stage::kAuthz;
  live.predicted.policy = "ns/viewer";
  Assertion a;
  a.kind = AssertionKind::kRequest;
  a.request.from = "ns/a";
  a.request.to = "ns/b";
  a.status = 403;
  a.stage = "authz";
  a.policy = "ns/viewer";
  a.body = "RBAC: access denied";
  EXPECT_TRUE(checkRequest(a, live).passed);
  a.status = 200;
  auto bad = checkRequest(a, live);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.expected, "status 200, body \"RBAC: access denied\", stage authz, policy ns/viewer");
  EXPECT_EQ(bad.observed, "status 403, body \"RBAC: access denied\", stage authz, policy ns/viewer");
  a.status = 403;
  live.agree = false;
  live.differences = {"status: predicted 403, observed 200"};
  EXPECT_FALSE(checkRequest(a, live).passed);
}

TEST(ScenarioAssertions, EffectiveSettings) {
  auto config = snap(R"(apiVersion: meshsim/v1
kind: Organization
metadata: {name: acme}
spec: {trustDomain: cluster.local, rootNamespace: istio-system}
---
apiVersion: meshsim/v1
kind: Cluster
metadata: {name: c}
---
apiVersion: meshsim/v1
kind: Tenant
metadata: {name: t}
---
apiVersion: meshsim/v1
kind: Workspace
metadata: {tenant: t, name: w}
spec: {namespaceSelector: {names: ["*/ns"]}}
---
apiVersion: meshsim/v1
kind: TenantSetting
metadata: {tenant: t, name: default}
spec:
  defaultSecuritySetting:
    authenticationSettings: {trafficMode: REQUIRED}
    propagationStrategy: STRICTER
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: ns, name: a}
spec: {serviceAccount: a, cluster: c}
)");
  Assertion a;
  a.kind = AssertionKind::kEffective;
  a.workload = "ns/a";
  a.traffic_mode = "REQUIRED";
  auto r = checkEffective(a, *config);
  EXPECT_TRUE(r.passed) << r.message();
  a.traffic_mode = "OPTIONAL";
  EXPECT_EQ(checkEffective(a, *config).message(), "effective ns/a: expected trafficMode OPTIONAL, observed trafficMode REQUIRED");
  a.workload = "ns/zz";
  EXPECT_EQ(checkEffective(a, *config).observed, "no such workload");
}

}  // namespace
}  // namespace meshsim::scenario
