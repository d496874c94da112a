// Loading YAML into typed resources: positions, multi-document files, directories, limits.
#include "meshsim/config/loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "meshsim/config/store.h"
#include "meshsim/config/validate.h"
#include "support/paths.h"

namespace meshsim::config {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> errorLines(const LoadResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics.items()) {
    if (d.severity == Severity::kError) out.push_back(d.toString());
  }
  return out;
}

// A directory removed when the test ends.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("meshsim-loader-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path write(const std::string& rel, const std::string& text) const {
    fs::path p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(Loader, ParsesMultipleDocumentsAndRemembersWhereEachStarts) {
  auto r = loadString(
      "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: a}\n---\n# comment\n"
      "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: b}\n",
      "t.yaml");
  ASSERT_TRUE(errorLines(r).empty());
  ASSERT_EQ(r.resources.size(), 2u);
  EXPECT_EQ(model::metaOf(r.resources[0]).source.toString(), "t.yaml:1:1");
  EXPECT_EQ(model::metaOf(r.resources[1]).source.toString(), "t.yaml:6:1");
  EXPECT_EQ(model::metaOf(r.resources[1]).name, "b");
}

TEST(Loader, ReportsErrorsInEveryDocumentNotJustTheFirst) {
  auto r = loadString(
      "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: a, colour: red}\n---\n"
      "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: b\n---\n"
      "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: c}\n",
      "t.yaml");
  auto errors = errorLines(r);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "t.yaml:3:21: error: metadata.colour: unknown field \"colour\"");
  EXPECT_NE(errors[1].find("t.yaml:8:1: error: invalid YAML"), std::string::npos) << errors[1];
  // The good third document is still loaded; the broken ones are not.
  ASSERT_EQ(r.resources.size(), 1u);
  EXPECT_EQ(model::metaOf(r.resources[0]).name, "c");
}

TEST(Loader, AcceptsEveryIstioApiVersionIstioServes) {
  for (const char* v : {"v1", "v1beta1", "v1alpha3"}) {
    auto r = loadString(std::string("apiVersion: networking.istio.io/") + v +
                            "\nkind: DestinationRule\nmetadata: {name: d}\nspec: {host: reviews}\n",
                        "d.yaml");
    EXPECT_TRUE(errorLines(r).empty()) << v;
  }
  auto bad = loadString(
      "apiVersion: security.istio.io/v1alpha3\nkind: PeerAuthentication\nmetadata: {name: p}\n",
      "p.yaml");
  ASSERT_EQ(errorLines(bad).size(), 1u);
  EXPECT_EQ(errorLines(bad)[0],
            "p.yaml:1:13: error: apiVersion: \"security.istio.io/v1alpha3\" does not serve kind "
            "PeerAuthentication; expected security.istio.io/v1, security.istio.io/v1beta1");
}

TEST(Loader, IstioResourcesDefaultToTheDefaultNamespace) {
  auto r = loadString("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
                      "metadata: {name: p}\nspec: {mtls: {mode: STRICT}}\n",
                      "p.yaml");
  ASSERT_EQ(r.resources.size(), 1u);
  const auto& pa = std::get<model::PeerAuthentication>(r.resources[0]);
  EXPECT_EQ(pa.meta.namespace_, "default");
  EXPECT_EQ(pa.mode, model::MtlsMode::kStrict);
}

TEST(Loader, ReadsAuthorizationPolicyFieldsAsWritten) {
  auto r = loadString(R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: p
  namespace: foo
  annotations: {istio.io/dry-run: "true"}
spec:
  selector: {matchLabels: {app: ratings}}
  action: DENY
  rules:
  - from:
    - source: {notPrincipals: ["*"], ipBlocks: [10.0.0.0/8]}
    to:
    - operation: {methods: [POST], paths: ["/admin/{**}"], ports: ["9080"]}
    when:
    - key: request.auth.claims[groups][0]
      notValues: [admins]
)",
                      "p.yaml");
  ASSERT_TRUE(errorLines(r).empty()) << errorLines(r)[0];
  const auto& p = std::get<model::AuthorizationPolicy>(r.resources.at(0));
  EXPECT_EQ(p.action, model::AuthzAction::kDeny);
  EXPECT_TRUE(p.dry_run);
  EXPECT_EQ(p.selector.match_labels.at("app"), "ratings");
  ASSERT_EQ(p.rules.size(), 1u);
  ASSERT_TRUE(p.rules[0].from.has_value());
  EXPECT_EQ((*p.rules[0].from)[0].not_principals, std::vector<std::string>{"*"});
  EXPECT_EQ((*p.rules[0].to)[0].paths, std::vector<std::string>{"/admin/{**}"});
  EXPECT_EQ(p.rules[0].when[0].key, "request.auth.claims[groups][0]");
  EXPECT_EQ(p.rules[0].when[0].not_values, std::vector<std::string>{"admins"});
}

TEST(Loader, DistinguishesAllowNothingFromAllowAll) {
  auto nothing = loadString("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
                            "metadata: {name: a}\nspec: {}\n",
                            "a.yaml");
  auto all = loadString("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
                        "metadata: {name: a}\nspec: {rules: [{}]}\n",
                        "a.yaml");
  const auto& n = std::get<model::AuthorizationPolicy>(nothing.resources.at(0));
  const auto& a = std::get<model::AuthorizationPolicy>(all.resources.at(0));
  EXPECT_TRUE(n.rules.empty());
  ASSERT_EQ(a.rules.size(), 1u);
  EXPECT_FALSE(a.rules[0].from.has_value());
  EXPECT_FALSE(a.rules[0].to.has_value());
}

TEST(Loader, AnchorsAndAliasesAreResolvedWithinADocument) {
  auto r = loadString(R"(apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: shop, name: cart}
spec:
  selector: {matchLabels: &labels {app: cart, version: v1}}
  rules:
  - from: [{source: {principals: &who [cluster.local/ns/shop/sa/web]}}]
  - from: [{source: {principals: *who }}]
    when: [{key: "request.headers[x-app]", values: [cart]}]
)",
                      "a.yaml");
  ASSERT_TRUE(errorLines(r).empty()) << errorLines(r)[0];
  const auto& p = std::get<model::AuthorizationPolicy>(r.resources.at(0));
  EXPECT_EQ((*p.rules[1].from)[0].principals,
            std::vector<std::string>{"cluster.local/ns/shop/sa/web"});
}

TEST(Loader, AnchorsDoNotCrossDocuments) {
  // YAML anchors are scoped to their document; an alias to another document's anchor is an
  // error at the alias, and the other documents still load.
  auto r = loadString(
      "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: a, labels: &l {x: y}}\n---\n"
      "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: b, labels: *l}\n",
      "a.yaml");
  ASSERT_EQ(errorLines(r).size(), 1u);
  EXPECT_EQ(errorLines(r)[0], "a.yaml:7:29: error: invalid YAML: the referenced anchor is not defined");
  EXPECT_EQ(r.resources.size(), 1u);
}

TEST(Loader, EmptyAndCommentOnlyFilesHoldNoResources) {
  EXPECT_TRUE(loadString("", "e.yaml").resources.empty());
  EXPECT_TRUE(errorLines(loadString("", "e.yaml")).empty());
  EXPECT_TRUE(errorLines(loadString("# nothing\n---\n---\n", "e.yaml")).empty());
}

TEST(Loader, RefusesFilesOverTheSizeLimitWithoutReadingThem) {
  LoadLimits limits;
  limits.max_file_bytes = 100;
  auto r = loadString(std::string(200, '#'), "big.yaml", limits);
  ASSERT_EQ(errorLines(r).size(), 1u);
  EXPECT_EQ(errorLines(r)[0], "big.yaml:1:1: error: file is 200 bytes; the limit is 100");
}

TEST(Loader, LoadsATenMegabyteFile) {
  std::string doc =
      "apiVersion: meshsim/v1\nkind: User\nmetadata: {name: user-NAME}\n"
      "spec: {displayName: \"A user with a reasonably long display name to fill the file up\"}\n";
  std::string text;
  int n = 0;
  while (text.size() < 10u << 20) {
    std::string d = doc;
    d.replace(d.find("NAME"), 4, std::to_string(n++));
    text += "---\n" + d;
  }
  auto r = loadString(text, "big.yaml");
  EXPECT_TRUE(errorLines(r).empty());
  EXPECT_EQ(r.resources.size(), static_cast<size_t>(n));
}

TEST(Loader, ReadsDirectoriesRecursivelyInPathOrder) {
  TempDir dir;
  dir.write("b/two.yaml", "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: two}\n");
  dir.write("a.yml", "apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: one}\n");
  dir.write("notes.txt", "not yaml at all: [");
  auto r = loadPaths({dir.path().string()});
  ASSERT_TRUE(errorLines(r).empty());
  ASSERT_EQ(r.resources.size(), 2u);
  EXPECT_EQ(model::metaOf(r.resources[0]).name, "one");
  EXPECT_EQ(model::metaOf(r.resources[1]).name, "two");
  EXPECT_EQ(r.files.size(), 2u);
}

TEST(Loader, MissingPathsAreReportedAsUnreadable) {
  auto r = loadPaths({"/nonexistent/meshsim/config.yaml"});
  ASSERT_EQ(r.unreadable.size(), 1u);
  EXPECT_EQ(errorLines(r)[0], "/nonexistent/meshsim/config.yaml: error: no such file or directory");
}

TEST(Loader, CreationTimestampsDecideAgeAndUntimestampedResourcesAreNewest) {
  auto r = loadString(
      "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
      "metadata: {name: newer, creationTimestamp: \"2024-05-02T00:00:00Z\"}\n---\n"
      "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
      "metadata: {name: older, creationTimestamp: \"2024-05-01T00:00:00+02:00\"}\n---\n"
      "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: untimed}\n",
      "p.yaml");
  ASSERT_TRUE(errorLines(r).empty());
  int64_t newer = model::metaOf(r.resources[0]).creation_index;
  int64_t older = model::metaOf(r.resources[1]).creation_index;
  int64_t untimed = model::metaOf(r.resources[2]).creation_index;
  EXPECT_LT(older, newer);
  EXPECT_LT(newer, untimed);
  EXPECT_EQ(newer - older, 24 * 3600 + 2 * 3600);
}

TEST(Loader, ParsesDurationsInIstioNotation) {
  auto r = loadString(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec:
  hosts: [ratings]
  http:
  - timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 250ms}
    fault: {delay: {fixedDelay: 1h30m, percentage: {value: 10}}}
    route: [{destination: {host: ratings}}]
)",
                      "v.yaml");
  ASSERT_TRUE(errorLines(r).empty()) << errorLines(r)[0];
  const auto& vs = std::get<model::VirtualService>(r.resources.at(0));
  EXPECT_EQ(vs.http[0].timeout->millis, 1500);
  EXPECT_EQ(vs.http[0].retries.attempts, 3);
  EXPECT_EQ(vs.http[0].retries.per_try_timeout->millis, 250);
  EXPECT_EQ(vs.http[0].fault->delay->millis, 90 * 60 * 1000);
  EXPECT_DOUBLE_EQ(vs.http[0].fault->delay_percentage.value, 10);
}

TEST(Loader, FaultWithoutPercentageFaultsNoRequests) {
  auto r = loadString(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec:
  hosts: [ratings]
  http:
  - fault: {abort: {httpStatus: 503}}
    route: [{destination: {host: ratings}}]
)",
                      "v.yaml");
  ASSERT_TRUE(errorLines(r).empty());
  const auto& vs = std::get<model::VirtualService>(r.resources.at(0));
  EXPECT_EQ(*vs.http[0].fault->abort_http_status, 503);
  EXPECT_DOUBLE_EQ(vs.http[0].fault->abort_percentage.value, 0);
}

TEST(Loader, PortLevelMtlsIsKeyedByPortNumber) {
  auto r = loadString(R"(apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: p, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin}}
  mtls: {mode: STRICT}
  portLevelMtls:
    80: {mode: DISABLE}
)",
                      "p.yaml");
  ASSERT_TRUE(errorLines(r).empty());
  const auto& pa = std::get<model::PeerAuthentication>(r.resources.at(0));
  EXPECT_EQ(pa.port_level.at(80), model::MtlsMode::kDisable);
}

TEST(Loader, WorkloadVersionFieldFillsTheVersionLabel) {
  auto r = loadString("apiVersion: meshsim/v1\nkind: Workload\nmetadata: {namespace: s, name: w}\n"
                      "spec: {cluster: c1, version: v2, labels: {app: w}, sidecar: false}\n",
                      "w.yaml");
  ASSERT_TRUE(errorLines(r).empty());
  const auto& w = std::get<model::Workload>(r.resources.at(0));
  EXPECT_EQ(w.version(), "v2");
  EXPECT_FALSE(w.sidecar);
  EXPECT_EQ(w.service_account, "default");
}

TEST(Loader, ServicePortsDefaultTargetPortToPort) {
  auto r = loadString("apiVersion: meshsim/v1\nkind: Service\nmetadata: {namespace: s, name: db}\n"
                      "spec: {ports: [{port: 5432, protocol: TCP}, {name: web, port: 8000, targetPort: 80}]}\n",
                      "s.yaml");
  ASSERT_TRUE(errorLines(r).empty());
  const auto& s = std::get<model::Service>(r.resources.at(0));
  EXPECT_EQ(s.ports[0].target_port, 5432u);
  EXPECT_EQ(s.ports[0].protocol, model::Protocol::kTcp);
  EXPECT_EQ(s.ports[1].target_port, 80u);
  EXPECT_EQ(s.ports[1].protocol, model::Protocol::kHttp);
}

TEST(Loader, NamespacePatternsMatchClusterAndNamespace) {
  model::NamespaceSelector sel;
  sel.names = {{"*", "bookinfo"}, {"c1", "team-*"}};
  EXPECT_TRUE(sel.matches("gke", "bookinfo"));
  EXPECT_TRUE(sel.matches("c1", "team-a"));
  EXPECT_FALSE(sel.matches("c2", "team-a"));
  EXPECT_FALSE(sel.matches("c1", "bookinfo2"));
}

TEST(BookinfoScenario, ValidatesCleanlyWithEveryPartOfTheStory) {
  auto r = loadConfiguration({testing::sourceRoot("scenarios/bookinfo")});
  ASSERT_FALSE(r.diagnostics.hasErrors()) << r.diagnostics.items()[0].toString();
  auto snap = makeSnapshot(r.resources);
  EXPECT_EQ(snap->workloads.size(), 7u);
  std::vector<std::string> names;
  for (const auto* w : snap->workloads) names.push_back(w->meta.name);
  EXPECT_EQ(names, (std::vector<std::string>{"details-v1", "productpage-v1", "ratings-v1",
                                             "ratings-v2", "reviews-v1", "reviews-v2", "reviews-v3"}));
  EXPECT_EQ(snap->clusters.size(), 2u);
  ASSERT_NE(snap->organization, nullptr);
  EXPECT_EQ(snap->organization->meta.name, "acme");
  ASSERT_EQ(snap->service_routes.size(), 1u);
  EXPECT_EQ(snap->service_routes[0]->subsets[0].weight, 90);
  EXPECT_EQ(snap->service_routes[0]->subsets[1].weight, 10);
  ASSERT_EQ(snap->tenant_settings.size(), 1u);
  EXPECT_EQ(snap->tenant_settings[0]->default_security->authentication->traffic_mode,
            model::TrafficMode::kRequired);
  EXPECT_EQ(snap->tenant_settings[0]->default_security->propagation,
            model::PropagationStrategy::kStricter);
  EXPECT_EQ(snap->users.size(), 2u);
  EXPECT_EQ(snap->authorization_policies.size(), 1u);
}

}  // namespace
}  // namespace meshsim::config
