// Host names, DestinationRule lookup, subsets, effective traffic policy and endpoints
// (istio-semantics.md section 6).

#include "meshsim/routing/destination.h"

#include <gtest/gtest.h>

#include "routing_fixtures.h"

namespace meshsim::routing {
namespace {

using namespace meshsim::routing::testing;  // NOLINT(build/namespaces): test builders

// ---------------------------------------------------------------- host names

struct HostCase {
  const char* name;
  std::string host;
  std::string context_ns;
  std::string canonical;
  bool is_service;
};

class ResolveHostTable : public ::testing::TestWithParam<HostCase> {};

TEST_P(ResolveHostTable, Resolves) {
  const auto& c = GetParam();
  auto snap = config::makeSnapshot(bookinfo());
  const HostTarget t = resolveHost(*snap, c.host, c.context_ns);
  EXPECT_EQ(t.canonical, c.canonical);
  EXPECT_EQ(t.service.has_value(), c.is_service);
}

INSTANTIATE_TEST_SUITE_P(
    ShortNamesRelativeToNamespace, ResolveHostTable,
    ::testing::Values(
        HostCase{"ShortName", "reviews", "bookinfo", "reviews.bookinfo.svc.cluster.local", true},
        HostCase{"ShortNameOtherNamespace", "reviews", "foo", "reviews.foo.svc.cluster.local",
                 true},
        HostCase{"NameDotNamespace", "reviews.bookinfo", "foo",
                 "reviews.bookinfo.svc.cluster.local", true},
        HostCase{"NameDotNamespaceDotSvc", "reviews.bookinfo.svc", "foo",
                 "reviews.bookinfo.svc.cluster.local", true},
        HostCase{"Fqdn", "reviews.bookinfo.svc.cluster.local", "foo",
                 "reviews.bookinfo.svc.cluster.local", true},
        HostCase{"FqdnWithPortAndCase", "Reviews.Bookinfo.svc.cluster.local:9080", "foo",
                 "reviews.bookinfo.svc.cluster.local", true},
        HostCase{"TwoLabelsNotAServiceIsExternal", "example.com", "bookinfo", "example.com", false},
        HostCase{"ExternalName", "api.example.com", "bookinfo", "api.example.com", false},
        HostCase{"Wildcard", "*.bookinfo.svc.cluster.local", "bookinfo",
                 "*.bookinfo.svc.cluster.local", false}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(Hosts, WithoutPort) {
  EXPECT_EQ(hostWithoutPort("reviews:9080"), "reviews");
  EXPECT_EQ(hostWithoutPort("reviews"), "reviews");
  EXPECT_EQ(hostWithoutPort("[::1]:80"), "::1");
  EXPECT_EQ(hostWithoutPort("::1"), "::1");
}

TEST(Hosts, WildcardMatching) {
  EXPECT_TRUE(hostMatches("*", "a.b"));
  EXPECT_TRUE(hostMatches("*.bookinfo.svc.cluster.local", "reviews.bookinfo.svc.cluster.local"));
  EXPECT_FALSE(hostMatches("*.bookinfo.svc.cluster.local", "bookinfo.svc.cluster.local"));
  EXPECT_FALSE(
      hostMatches("reviews.bookinfo.svc.cluster.local", "ratings.bookinfo.svc.cluster.local"));
}

TEST(Hosts, ExportToVisibility) {
  EXPECT_TRUE(isVisibleFrom({}, "a", "b"));
  EXPECT_TRUE(isVisibleFrom({"*"}, "a", "b"));
  EXPECT_TRUE(isVisibleFrom({"."}, "a", "a"));
  EXPECT_FALSE(isVisibleFrom({"."}, "a", "b"));
  EXPECT_TRUE(isVisibleFrom({".", "b"}, "a", "b"));
  EXPECT_FALSE(isVisibleFrom({"~"}, "a", "a"));
}

// ---------------------------------------------------------------- DestinationRule lookup

struct LookupCase {
  const char* name;
  std::vector<model::Resource> extra;
  std::string client_ns;
  std::string expected;  // "ns/name" of the first source, or "" for none
};

class DestinationRuleLookupTable : public ::testing::TestWithParam<LookupCase> {};

TEST_P(DestinationRuleLookupTable, FindsFirstVisible) {
  const auto& c = GetParam();
  auto resources = c.extra;
  resources.push_back(service("bookinfo", "reviews"));
  auto snap = config::makeSnapshot(resources);
  const auto found = findDestinationRule(*snap, c.client_ns, {"bookinfo", "reviews"});
  EXPECT_EQ(found ? found->sources.front() : std::string(), c.expected);
}

model::DestinationRule exported(model::DestinationRule d, std::vector<std::string> to) {
  d.export_to = std::move(to);
  return d;
}

// "DR in the client's namespace -> DR in the service's namespace -> root namespace (first
// found; exportTo restricts visibility)".
INSTANTIATE_TEST_SUITE_P(
    Section6, DestinationRuleLookupTable,
    ::testing::Values(
        LookupCase{"NoneAnywhere", {}, "foo", ""},
        LookupCase{"ServiceNamespace",
                   {destinationRule("bookinfo", "svc-ns", "reviews")},
                   "foo",
                   "bookinfo/svc-ns"},
        LookupCase{"ClientNamespaceBeatsServiceNamespace",
                   {destinationRule("bookinfo", "svc-ns", "reviews"),
                    destinationRule("foo", "client-ns", "reviews.bookinfo.svc.cluster.local")},
                   "foo",
                   "foo/client-ns"},
        LookupCase{"ClientShortHostMeansItsOwnNamespace",
                   {destinationRule("bookinfo", "svc-ns", "reviews"),
                    destinationRule("foo", "client-ns", "reviews")},
                   "foo",
                   "bookinfo/svc-ns"},
        LookupCase{"RootNamespaceLast",
                   {destinationRule("istio-system", "mesh-default", "*.svc.cluster.local")},
                   "foo",
                   "istio-system/mesh-default"},
        LookupCase{"ServiceNamespaceBeatsRoot",
                   {destinationRule("istio-system", "mesh-default", "*.svc.cluster.local"),
                    destinationRule("bookinfo", "svc-ns", "reviews")},
                   "foo",
                   "bookinfo/svc-ns"},
        LookupCase{"ExportToDotHidesFromOtherNamespaces",
                   {exported(destinationRule("bookinfo", "private", "reviews"), {"."}),
                    destinationRule("istio-system", "mesh-default", "*.svc.cluster.local")},
                   "foo",
                   "istio-system/mesh-default"},
        LookupCase{"ExportToDotVisibleInOwnNamespace",
                   {exported(destinationRule("bookinfo", "private", "reviews"), {"."})},
                   "bookinfo",
                   "bookinfo/private"},
        LookupCase{"ExportToNamedNamespace",
                   {exported(destinationRule("bookinfo", "to-foo", "reviews"), {"foo"})},
                   "foo",
                   "bookinfo/to-foo"},
        LookupCase{"ExactHostBeatsWildcardInSameNamespace",
                   {destinationRule("bookinfo", "a-wild", "*.bookinfo.svc.cluster.local"),
                    destinationRule("bookinfo", "z-exact", "reviews")},
                   "foo",
                   "bookinfo/z-exact"},
        LookupCase{"OtherHostIgnored",
                   {destinationRule("bookinfo", "ratings", "ratings")},
                   "bookinfo",
                   ""}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(DestinationRuleLookup, SameNamespaceRulesMergeOldestFirst) {
  auto older =
      destinationRule("bookinfo", "b-old", "reviews", {subset("v1", {{"version", "v1"}})}, 1);
  auto newer =
      destinationRule("bookinfo", "a-new", "reviews",
                      {subset("v1", {{"version", "other"}}), subset("v2", {{"version", "v2"}})}, 2);
  newer.traffic_policy = model::TrafficPolicy{};
  newer.traffic_policy->tls = tls(model::TlsMode::kDisable);
  auto snap = config::makeSnapshot({older, newer, service("bookinfo", "reviews")});
  const auto found = findDestinationRule(*snap, "bookinfo", {"bookinfo", "reviews"});
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->sources, (std::vector<std::string>{"bookinfo/b-old", "bookinfo/a-new"}));
  ASSERT_EQ(found->rule.subsets.size(), 2u);
  EXPECT_EQ(found->rule.subsets[0].labels.at("version"), "v1");  // the older definition wins
  EXPECT_EQ(found->rule.subsets[1].name, "v2");
  ASSERT_TRUE(found->rule.traffic_policy.has_value());  // taken from the newer: older had none
  EXPECT_EQ(found->rule.traffic_policy->tls->mode, model::TlsMode::kDisable);
}

TEST(DestinationRuleLookup, WorkloadSelectorAppliesToMatchingClientsOnly) {
  auto selected = destinationRule("foo", "for-sleep", "reviews.bookinfo.svc.cluster.local");
  selected.workload_selector.present = true;
  selected.workload_selector.match_labels = {{"app", "sleep"}};
  auto snap = config::makeSnapshot(
      {selected, destinationRule("bookinfo", "svc-ns", "reviews"), service("bookinfo", "reviews")});
  const model::StringMap sleep = {{"app", "sleep"}};
  const model::StringMap curl = {{"app", "curl"}};
  EXPECT_EQ(findDestinationRule(*snap, "foo", {"bookinfo", "reviews"}, &sleep)->sources.front(),
            "foo/for-sleep");
  EXPECT_EQ(findDestinationRule(*snap, "foo", {"bookinfo", "reviews"}, &curl)->sources.front(),
            "bookinfo/svc-ns");
  EXPECT_EQ(findDestinationRule(*snap, "foo", {"bookinfo", "reviews"})->sources.front(),
            "bookinfo/svc-ns");
}

// ---------------------------------------------------------------- effective traffic policy

model::ConnectionPool pool(uint32_t max) {
  model::ConnectionPool p;
  p.max_connections = max;
  return p;
}

model::DestinationRule layered() {
  auto d = destinationRule("bookinfo", "reviews", "reviews");
  model::TrafficPolicy top;
  top.tls = tls(model::TlsMode::kIstioMutual);
  top.connection_pool = pool(100);
  top.load_balancer = model::LbPolicy::kRoundRobin;
  model::TrafficPolicy::PortSettings top_port;
  top_port.port = 9443;
  top_port.connection_pool = pool(5);  // no tls: port level replaces the level wholesale
  top.port_level_settings.push_back(top_port);
  d.traffic_policy = top;

  auto v1 = subset("v1", {{"version", "v1"}});
  model::TrafficPolicy v1p;
  v1p.tls = tls(model::TlsMode::kDisable);  // only tls: other fields inherited
  v1.traffic_policy = v1p;

  auto v2 = subset("v2", {{"version", "v2"}});
  model::TrafficPolicy v2p;
  v2p.outlier_detection = model::OutlierDetection{};
  model::TrafficPolicy::PortSettings v2_port;
  v2_port.port = 9080;
  v2_port.tls = tls(model::TlsMode::kSimple);
  v2p.port_level_settings.push_back(v2_port);
  v2.traffic_policy = v2p;

  d.subsets = {v1, v2, subset("v3", {{"version", "v3"}})};
  return d;
}

TEST(EffectiveTrafficPolicy, NoRuleIsAllUnset) {
  const auto p = effectiveTrafficPolicy(nullptr, "", 9080);
  EXPECT_FALSE(p.tls.has_value());
  EXPECT_FALSE(p.connection_pool.has_value());
  EXPECT_TRUE(p.destination_rule.empty());
}

TEST(EffectiveTrafficPolicy, TopLevel) {
  const auto d = layered();
  const auto p = effectiveTrafficPolicy(&d, "", 9080, "bookinfo/reviews");
  EXPECT_EQ(p.tls->mode, model::TlsMode::kIstioMutual);
  EXPECT_EQ(p.tls_source, "top-level");
  EXPECT_EQ(*p.connection_pool->max_connections, 100u);
  EXPECT_EQ(p.load_balancer, model::LbPolicy::kRoundRobin);
  EXPECT_EQ(p.destination_rule, "bookinfo/reviews");
}

TEST(EffectiveTrafficPolicy, PortLevelReplacesItsLevelWholesale) {
  const auto d = layered();
  const auto p = effectiveTrafficPolicy(&d, "", 9443);
  EXPECT_FALSE(p.tls.has_value());  // not inherited from top level: auto mTLS applies
  EXPECT_EQ(*p.connection_pool->max_connections, 5u);
  EXPECT_EQ(p.load_balancer, model::LbPolicy::kUnset);
}

TEST(EffectiveTrafficPolicy, SubsetOverridesFieldByField) {
  const auto d = layered();
  const auto p = effectiveTrafficPolicy(&d, "v1", 9080);
  EXPECT_EQ(p.tls->mode, model::TlsMode::kDisable);
  EXPECT_EQ(p.tls_source, "subset");
  EXPECT_EQ(*p.connection_pool->max_connections, 100u);  // inherited
  EXPECT_EQ(p.load_balancer, model::LbPolicy::kRoundRobin);
}

TEST(EffectiveTrafficPolicy, SubsetTlsBeatsTopLevelPortLevel) {
  const auto d = layered();
  const auto p = effectiveTrafficPolicy(&d, "v1", 9443);
  EXPECT_EQ(p.tls->mode, model::TlsMode::kDisable);
  EXPECT_EQ(*p.connection_pool->max_connections, 5u);
}

TEST(EffectiveTrafficPolicy, SubsetPortLevelReplacesEverything) {
  const auto d = layered();
  const auto p = effectiveTrafficPolicy(&d, "v2", 9080);
  EXPECT_EQ(p.tls->mode, model::TlsMode::kSimple);
  EXPECT_EQ(p.tls_source, "subset port 9080");
  EXPECT_FALSE(p.connection_pool.has_value());
  EXPECT_FALSE(p.outlier_detection.has_value());
  const auto other_port = effectiveTrafficPolicy(&d, "v2", 9090);
  EXPECT_EQ(other_port.tls->mode, model::TlsMode::kIstioMutual);  // top level, inherited
  EXPECT_TRUE(other_port.outlier_detection.has_value());
}

TEST(EffectiveTrafficPolicy, SubsetWithoutPolicyInheritsTopLevel) {
  const auto d = layered();
  const auto p = effectiveTrafficPolicy(&d, "v3", 9080);
  EXPECT_EQ(p.tls->mode, model::TlsMode::kIstioMutual);
  EXPECT_EQ(p.tls_source, "top-level");
}

// ---------------------------------------------------------------- endpoints

TEST(Endpoints, SubsetLabelsAndReplicas) {
  auto resources = bookinfo();
  resources.push_back(
      workload("bookinfo", "reviews-v9", "reviews", {{"app", "reviews"}, {"version", "v9"}}, 0));
  resources.push_back(workload("other", "reviews-remote", "bookinfo/reviews",
                               {{"app", "reviews"}, {"version", "v2"}}, 3));
  auto snap = config::makeSnapshot(resources);
  const ServiceRef reviews{"bookinfo", "reviews"};
  EXPECT_EQ(endpointsOf(*snap, reviews).replicas, 2u + 1 + 1 + 3);
  const model::StringMap v2 = {{"version", "v2"}};
  const auto e2 = endpointsOf(*snap, reviews, &v2);
  EXPECT_EQ(e2.workloads.size(), 2u);
  EXPECT_EQ(e2.replicas, 4u);
  const model::StringMap v9 = {{"version", "v9"}};
  EXPECT_EQ(endpointsOf(*snap, reviews, &v9).replicas, 0u);  // zero replicas: no endpoint
}

}  // namespace
}  // namespace meshsim::routing
