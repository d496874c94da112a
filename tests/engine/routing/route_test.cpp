// VirtualService routing at the client sidecar (istio-semantics.md sections 5, 6, 7 and 8
// gotchas 12 and 13).

#include "meshsim/routing/route.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "routing_fixtures.h"

namespace meshsim::routing {
namespace {

using namespace meshsim::routing::testing;  // NOLINT(build/namespaces): test builders

const model::StringMap kProductpage = {{"app", "productpage"}, {"version", "v1"}};
constexpr const char* kReviews = "reviews.bookinfo.svc.cluster.local";
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string ns = "bookinfo";
  model::StringMap labels = kProductpage;
  std::string gateway = "mesh";
  std::string authority = "reviews:9080";
  uint32_t port = 9080;
  std::string method = "GET";
  std::string path = "/reviews/0";
  Headers headers;
  std::optional<double> latency;
  RouteDice dice;
};

struct Expect {
  RouteOutcome outcome = RouteOutcome::kForward;
  int status = 0;
  std::string flags;
  std::string body;
  std::string destination;  // RouteInfo.destination
  int32_t route_index = -1;
  std::string virtual_service;
};

struct RouteCase {
  const char* name;
  std::function<void(std::vector<model::Resource>&, Request&)> arrange;
  Expect expect;
};

RouteResult route(const CompiledRoutes& compiled, const Request& r, bool explain = true) {
  RouteRequest req;
  req.source_namespace = r.ns;
  req.source_labels = &r.labels;
  req.gateway = r.gateway;
  req.authority = r.authority;
  req.port = r.port;
  req.method = r.method;
  req.path = r.path;
  req.headers = r.headers;
  req.upstream_latency_ms = r.latency;
  req.explain = explain;
  return selectRoute(compiled, req, r.dice);
}

class RouteTable : public ::testing::TestWithParam<RouteCase> {};

TEST_P(RouteTable, Outcome) {
  const auto& c = GetParam();
  auto resources = bookinfo();
  Request req;
  c.arrange(resources, req);
  const CompiledRoutes compiled = compileRoutes(config::makeSnapshot(resources));
  const RouteResult r = route(compiled, req);
  EXPECT_EQ(routeOutcomeName(r.outcome), std::string(routeOutcomeName(c.expect.outcome)))
      << r.reason;
  EXPECT_EQ(r.status, c.expect.status) << r.reason;
  EXPECT_EQ(r.flags, c.expect.flags);
  EXPECT_EQ(r.body, c.expect.body);
  const policy::RouteInfo info = r.routeInfo();
  EXPECT_EQ(info.destination, c.expect.destination);
  EXPECT_EQ(info.route_index, c.expect.route_index);
  EXPECT_EQ(info.virtual_service, c.expect.virtual_service);
  EXPECT_FALSE(r.reason.empty());
}

// A VirtualService "reviews" in bookinfo with the given http routes.
void reviewsVs(std::vector<model::Resource>& res, std::vector<model::HttpRoute> http) {
  res.push_back(virtualService("bookinfo", "reviews", {"reviews"}, std::move(http)));
}

model::HttpRoute toSubset(std::vector<model::HttpMatchRequest> match, const char* subset_name) {
  return httpRoute(std::move(match), {to("reviews", subset_name)});
}

Expect forwardTo(std::string destination, int32_t index, std::string vs = "bookinfo/reviews") {
  return {RouteOutcome::kForward, 0, "", "", std::move(destination), index, std::move(vs)};
}

const std::string kV1 = std::string(kReviews) + ":v1";
const std::string kV2 = std::string(kReviews) + ":v2";
const std::string kV3 = std::string(kReviews) + ":v3";

INSTANTIATE_TEST_SUITE_P(
    Section5, RouteTable,
    ::testing::Values(
        // "no VS -> default route to the service (all endpoints)".
        RouteCase{"NoVirtualServiceDefaultRoute", [](auto&, auto&) {},
                  {RouteOutcome::kForward, 0, "", "", kReviews, -1, ""}},
        RouteCase{"HostWithNamespaceFromOtherNamespace",
                  [](auto&, Request& r) {
                    r.ns = "foo";
                    r.authority = "reviews.bookinfo:9080";
                  },
                  {RouteOutcome::kForward, 0, "", "", kReviews, -1, ""}},
        RouteCase{"FqdnHost",
                  [](auto&, Request& r) { r.authority = "reviews.bookinfo.svc.cluster.local"; },
                  {RouteOutcome::kForward, 0, "", "", kReviews, -1, ""}},
        RouteCase{"UnknownHostHasNoCluster",
                  [](auto&, Request& r) { r.authority = "nosuch:9080"; },
                  {RouteOutcome::kClusterNotFound, 503, "NC", "", "", -1, ""}},
        // "http routes: ordered; first match wins".
        RouteCase{"FirstMatchWins",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(prefix("/api"))}, "v2"),
                                    toSubset({uri(prefix("/"))}, "v1")});
                    r.path = "/api/x";
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"SecondRouteWhenFirstMisses",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(prefix("/api"))}, "v2"),
                                    toSubset({uri(prefix("/"))}, "v1")});
                    r.path = "/other";
                  },
                  forwardTo(kV1, 1)},
        // "A route with no match is a catch-all; anything after it is unreachable".
        RouteCase{"CatchAllShadowsLaterRoutes",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({}, "v1"), toSubset({uri(prefix("/api"))}, "v2")});
                    r.path = "/api";
                  },
                  forwardTo(kV1, 0)},
        // "uri.prefix is a plain string prefix (/foo also matches /foobar)".
        RouteCase{"PrefixFooMatchesFoobar",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(prefix("/foo"))}, "v2"), toSubset({}, "v1")});
                    r.path = "/foobar";
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"ExactDoesNotMatchLongerPath",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(exact("/foo"))}, "v2"), toSubset({}, "v1")});
                    r.path = "/foo/bar";
                  },
                  forwardTo(kV1, 1)},
        RouteCase{"UriMatchIgnoresQueryString",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(exact("/foo"))}, "v2")});
                    r.path = "/foo?x=1";
                  },
                  forwardTo(kV2, 0)},
        // "regex (RE2, full-string)".
        RouteCase{"RegexFullMatch",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(regex("/api/v[0-9]+"))}, "v2")});
                    r.path = "/api/v12";
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"RegexIsNotASubstringSearch",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(regex("/api/v[0-9]+"))}, "v2")});
                    r.path = "/api/v12/extra";
                  },
                  {RouteOutcome::kNoRoute, 404, "NR", "", "", -1, "bookinfo/reviews"}},
        RouteCase{"InvalidRegexNeverMatches",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(regex("(unclosed"))}, "v2"), toSubset({}, "v1")});
                    r.path = "(unclosed";
                  },
                  forwardTo(kV1, 1)},
        // "Case-sensitive except ignoreUriCase".
        RouteCase{"UriIsCaseSensitive",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(exact("/Login"))}, "v2"), toSubset({}, "v1")});
                    r.path = "/login";
                  },
                  forwardTo(kV1, 1)},
        RouteCase{"IgnoreUriCase",
                  [](auto& res, Request& r) {
                    auto m = uri(prefix("/Login"));
                    m.ignore_uri_case = true;
                    reviewsVs(res, {toSubset({m}, "v2"), toSubset({}, "v1")});
                    r.path = "/LOGIN/now";
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"HeaderExact",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({header("end-user", exact("jason"))}, "v2"),
                                    toSubset({}, "v1")});
                    r.headers = {{"end-user", "jason"}};
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"HeaderValueIsCaseSensitive",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({header("end-user", exact("jason"))}, "v2"),
                                    toSubset({}, "v1")});
                    r.headers = {{"end-user", "Jason"}};
                  },
                  forwardTo(kV1, 1)},
        // "a header entry with empty match {} = presence".
        RouteCase{"HeaderPresence",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({header("x-canary", present())}, "v3"),
                                    toSubset({}, "v1")});
                    r.headers = {{"x-canary", ""}};
                  },
                  forwardTo(kV3, 0)},
        RouteCase{"HeaderPresenceMissing",
                  [](auto& res, Request&) {
                    reviewsVs(res, {toSubset({header("x-canary", present())}, "v3"),
                                    toSubset({}, "v1")});
                  },
                  forwardTo(kV1, 1)},
        // "withoutHeaders = negation".
        RouteCase{"WithoutHeadersMatchesWhenAbsent",
                  [](auto& res, Request&) {
                    model::HttpMatchRequest m;
                    m.without_headers.emplace("end-user", exact("jason"));
                    reviewsVs(res, {toSubset({m}, "v2"), toSubset({}, "v1")});
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"WithoutHeadersFailsWhenPresent",
                  [](auto& res, Request& r) {
                    model::HttpMatchRequest m;
                    m.without_headers.emplace("end-user", exact("jason"));
                    reviewsVs(res, {toSubset({m}, "v2"), toSubset({}, "v1")});
                    r.headers = {{"end-user", "jason"}};
                  },
                  forwardTo(kV1, 1)},
        // "match list = OR; fields inside one match block = AND".
        RouteCase{"MatchBlockFieldsAreAnded",
                  [](auto& res, Request& r) {
                    auto m = uri(prefix("/api"));
                    m.headers.emplace("end-user", exact("jason"));
                    reviewsVs(res, {toSubset({m}, "v2"), toSubset({}, "v1")});
                    r.path = "/api";
                  },
                  forwardTo(kV1, 1)},
        RouteCase{"MatchListIsOred",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(prefix("/api")), header("end-user", exact("jason"))},
                                             "v2"),
                                    toSubset({}, "v1")});
                    r.headers = {{"end-user", "jason"}};
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"QueryParamExact",
                  [](auto& res, Request& r) {
                    model::HttpMatchRequest m;
                    m.query_params.emplace("beta", exact("1"));
                    reviewsVs(res, {toSubset({m}, "v3"), toSubset({}, "v1")});
                    r.path = "/reviews/0?x=2&beta=1";
                  },
                  forwardTo(kV3, 0)},
        RouteCase{"MethodAndAuthority",
                  [](auto& res, Request& r) {
                    model::HttpMatchRequest m;
                    m.method = exact("POST");
                    m.authority = prefix("reviews");
                    reviewsVs(res, {toSubset({m}, "v3"), toSubset({}, "v1")});
                    r.method = "POST";
                  },
                  forwardTo(kV3, 0)},
        RouteCase{"PortSelectsByListener",
                  [](auto& res, Request&) {
                    model::HttpMatchRequest m;
                    m.port = 9081;
                    reviewsVs(res, {toSubset({m}, "v3"), toSubset({}, "v1")});
                  },
                  forwardTo(kV1, 1)},
        RouteCase{"SourceLabels",
                  [](auto& res, Request&) {
                    model::HttpMatchRequest m;
                    m.source_labels = {{"app", "productpage"}};
                    reviewsVs(res, {toSubset({m}, "v2"), toSubset({}, "v1")});
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"SourceLabelsOfAnotherClient",
                  [](auto& res, Request& r) {
                    model::HttpMatchRequest m;
                    m.source_labels = {{"app", "productpage"}};
                    reviewsVs(res, {toSubset({m}, "v2"), toSubset({}, "v1")});
                    r.labels = {{"app", "sleep"}};
                  },
                  forwardTo(kV1, 1)},
        RouteCase{"SourceNamespace",
                  [](auto& res, Request& r) {
                    model::HttpMatchRequest m;
                    m.source_namespace = "foo";
                    reviewsVs(res, {toSubset({m}, "v2"), toSubset({}, "v1")});
                    r.ns = "foo";
                    r.authority = "reviews.bookinfo.svc.cluster.local:9080";
                  },
                  forwardTo(kV2, 0)},
        // "If no route matches -> Envoy 404, flag NR (no implicit default route)".
        RouteCase{"NoRouteMatchesIs404",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({uri(prefix("/api"))}, "v2")});
                    r.path = "/other";
                  },
                  {RouteOutcome::kNoRoute, 404, "NR", "", "", -1, "bookinfo/reviews"}},
        // Weights: "each destination gets weight / sum(weights)".
        RouteCase{"Weights90To10PickLow",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {httpRoute({}, {to("reviews", "v1", 90), to("reviews", "v2", 10)})});
                    r.dice.pick = 0.89;
                  },
                  forwardTo(kV1, 0)},
        RouteCase{"Weights90To10PickHigh",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {httpRoute({}, {to("reviews", "v1", 90), to("reviews", "v2", 10)})});
                    r.dice.pick = 0.91;
                  },
                  forwardTo(kV2, 0)},
        RouteCase{"Weights1To3NormalizedLow",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {httpRoute({}, {to("reviews", "v1", 1), to("reviews", "v2", 3)})});
                    r.dice.pick = 0.24;
                  },
                  forwardTo(kV1, 0)},
        RouteCase{"Weights1To3NormalizedHigh",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {httpRoute({}, {to("reviews", "v1", 1), to("reviews", "v2", 3)})});
                    r.dice.pick = 0.26;
                  },
                  forwardTo(kV2, 0)},
        // "weight 0 => none".
        RouteCase{"WeightZeroNeverPicked",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {httpRoute({}, {to("reviews", "v1", 0), to("reviews", "v2", 100)})});
                    r.dice.pick = 0.0;
                  },
                  forwardTo(kV2, 0)},
        // "one destination => 100% regardless of weight".
        RouteCase{"SingleDestinationIgnoresWeight",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {httpRoute({}, {to("reviews", "v3", 30)})});
                    r.dice.pick = 0.99;
                  },
                  forwardTo(kV3, 0)},
        // "Referenced subset not defined in any visible DR -> 503, flag NC".
        RouteCase{"UndefinedSubsetIs503NC",
                  [](auto& res, Request&) { reviewsVs(res, {toSubset({}, "v9")}); },
                  {RouteOutcome::kClusterNotFound, 503, "NC", "", std::string(kReviews) + ":v9", 0,
                   "bookinfo/reviews"}},
        // Gotcha 12: "VS subset without DR -> 503 NC".
        RouteCase{"SubsetWithoutAnyDestinationRule",
                  [](auto& res, Request& r) {
                    res.push_back(virtualService("bookinfo", "ratings", {"ratings"},
                                                 {httpRoute({}, {to("ratings", "v1")})}));
                    r.authority = "ratings:9080";
                  },
                  {RouteOutcome::kClusterNotFound, 503, "NC", "",
                   "ratings.bookinfo.svc.cluster.local:v1", 0, "bookinfo/ratings"}},
        // "Subset defined but no endpoint has the labels -> 503 no healthy upstream, UH".
        RouteCase{"SubsetWithoutEndpointsIs503UH",
                  [](auto& res, Request&) { reviewsVs(res, {toSubset({}, "v4")}); },
                  {RouteOutcome::kNoHealthyUpstream, 503, "UH", "no healthy upstream",
                   std::string(kReviews) + ":v4", 0, "bookinfo/reviews"}},
        RouteCase{"ServiceWithoutEndpointsIs503UH",
                  [](auto& res, Request& r) {
                    res.push_back(service("bookinfo", "empty"));
                    r.authority = "empty:9080";
                  },
                  {RouteOutcome::kNoHealthyUpstream, 503, "UH", "no healthy upstream",
                   "empty.bookinfo.svc.cluster.local", -1, ""}},
        RouteCase{"DestinationIsAnotherService",
                  [](auto& res, Request&) {
                    reviewsVs(res, {httpRoute({}, {to("ratings.bookinfo.svc.cluster.local")})});
                  },
                  forwardTo("ratings.bookinfo.svc.cluster.local", 0)},
        RouteCase{"DestinationPortNotOnService",
                  [](auto& res, Request&) {
                    auto d = to("details");
                    d.destination.port = 7000;
                    reviewsVs(res, {httpRoute({}, {d})});
                  },
                  {RouteOutcome::kClusterNotFound, 503, "NC", "",
                   "details.bookinfo.svc.cluster.local", 0, "bookinfo/reviews"}},
        // "fault: percentage absent => no requests faulted".
        RouteCase{"FaultAbortWithoutPercentageNeverAborts",
                  [](auto& res, Request&) {
                    auto rt = toSubset({}, "v1");
                    rt.fault = model::HttpFaultInjection{};
                    rt.fault->abort_http_status = 500;
                    reviewsVs(res, {rt});
                  },
                  forwardTo(kV1, 0)},
        RouteCase{"FaultAbortAll",
                  [](auto& res, Request& r) {
                    auto rt = toSubset({}, "v1");
                    rt.fault = model::HttpFaultInjection{};
                    rt.fault->abort_http_status = 500;
                    rt.fault->abort_percentage.value = 100;
                    reviewsVs(res, {rt});
                    r.dice.abort = 0.999;
                  },
                  {RouteOutcome::kFaultAbort, 500, "FI", "fault filter abort", "", 0,
                   "bookinfo/reviews"}},
        RouteCase{"FaultAbortHalfBelow",
                  [](auto& res, Request& r) {
                    auto rt = toSubset({}, "v1");
                    rt.fault = model::HttpFaultInjection{};
                    rt.fault->abort_http_status = 418;
                    rt.fault->abort_percentage.value = 50;
                    reviewsVs(res, {rt});
                    r.dice.abort = 0.49;
                  },
                  {RouteOutcome::kFaultAbort, 418, "FI", "fault filter abort", "", 0,
                   "bookinfo/reviews"}},
        RouteCase{"FaultAbortHalfAbove",
                  [](auto& res, Request& r) {
                    auto rt = toSubset({}, "v1");
                    rt.fault = model::HttpFaultInjection{};
                    rt.fault->abort_http_status = 418;
                    rt.fault->abort_percentage.value = 50;
                    reviewsVs(res, {rt});
                    r.dice.abort = 0.51;
                  },
                  forwardTo(kV1, 0)},
        RouteCase{"FaultDelayFlagsDI",
                  [](auto& res, Request& r) {
                    auto rt = toSubset({}, "v1");
                    rt.fault = model::HttpFaultInjection{};
                    rt.fault->delay = model::Duration{7000};
                    rt.fault->delay_percentage.value = 100;
                    reviewsVs(res, {rt});
                    r.dice.delay = 0.5;
                  },
                  {RouteOutcome::kForward, 0, "DI", "", kV1, 0, "bookinfo/reviews"}},
        // "timeout: expiry -> 504 upstream request timeout, flag UT".
        RouteCase{"TimeoutExceeded",
                  [](auto& res, Request& r) {
                    auto rt = toSubset({}, "v1");
                    rt.timeout = model::Duration{500};
                    reviewsVs(res, {rt});
                    r.latency = 2000;
                  },
                  {RouteOutcome::kTimeout, 504, "UT", "upstream request timeout", kV1, 0,
                   "bookinfo/reviews"}},
        RouteCase{"TimeoutNotReached",
                  [](auto& res, Request& r) {
                    auto rt = toSubset({}, "v1");
                    rt.timeout = model::Duration{500};
                    reviewsVs(res, {rt});
                    r.latency = 100;
                  },
                  forwardTo(kV1, 0)},
        // "timeout: default disabled".
        RouteCase{"NoTimeoutByDefault",
                  [](auto& res, Request& r) {
                    reviewsVs(res, {toSubset({}, "v1")});
                    r.latency = 600000;
                  },
                  forwardTo(kV1, 0)},
        RouteCase{"RedirectDefaults301",
                  [](auto& res, Request&) {
                    model::HttpRoute rt;
                    rt.redirect = model::HttpRedirect{};
                    rt.redirect->uri = "/v2/reviews";
                    reviewsVs(res, {rt});
                  },
                  {RouteOutcome::kRedirect, 301, "", "", "", 0, "bookinfo/reviews"}},
        RouteCase{"DirectResponse",
                  [](auto& res, Request&) {
                    model::HttpRoute rt;
                    rt.direct_response = model::HttpDirectResponse{503, "maintenance"};
                    reviewsVs(res, {rt});
                  },
                  {RouteOutcome::kDirectResponse, 503, "", "maintenance", "", 0,
                   "bookinfo/reviews"}},
        // "gateways absent => mesh only".
        RouteCase{"GatewayBoundVirtualServiceIgnoredByMesh",
                  [](auto& res, Request&) {
                    auto v = virtualService("bookinfo", "reviews-gw", {"reviews"}, {toSubset({}, "v3")});
                    v.gateways = {"bookinfo-gateway"};
                    res.push_back(v);
                  },
                  {RouteOutcome::kForward, 0, "", "", kReviews, -1, ""}},
        RouteCase{"GatewayTrafficUsesGatewayBoundVirtualService",
                  [](auto& res, Request& r) {
                    auto v = virtualService("bookinfo", "bookinfo-gw", {"bookinfo.example.com"},
                                            {httpRoute({uri(prefix("/reviews"))}, {to("reviews", "v3")})});
                    v.gateways = {"bookinfo-gateway"};
                    res.push_back(v);
                    r.ns = "istio-system";
                    r.labels = {{"istio", "ingressgateway"}};
                    r.gateway = "bookinfo/bookinfo-gateway";
                    r.authority = "bookinfo.example.com";
                    r.port = 80;
                  },
                  forwardTo(kV3, 0, "bookinfo/bookinfo-gw")},
        RouteCase{"ExportToDotHidesVirtualServiceFromOtherNamespaces",
                  [](auto& res, Request& r) {
                    auto v = virtualService("bookinfo", "reviews", {"reviews"}, {toSubset({}, "v3")});
                    v.export_to = {"."};
                    res.push_back(v);
                    r.ns = "foo";
                    r.labels = {{"app", "sleep"}};
                    r.authority = "reviews.bookinfo:9080";
                  },
                  {RouteOutcome::kForward, 0, "", "", kReviews, -1, ""}},
        RouteCase{"WildcardVirtualServiceHost",
                  [](auto& res, Request&) {
                    res.push_back(virtualService("bookinfo", "all", {"*.bookinfo.svc.cluster.local"},
                                                 {httpRoute({}, {to("reviews", "v2")})}));
                  },
                  forwardTo(kV2, 0, "bookinfo/all")},
        RouteCase{"ExactHostBeatsWildcardVirtualService",
                  [](auto& res, Request&) {
                    res.push_back(virtualService("bookinfo", "all", {"*.bookinfo.svc.cluster.local"},
                                                 {httpRoute({}, {to("reviews", "v2")})}));
                    reviewsVs(res, {toSubset({}, "v3")});
                  },
                  forwardTo(kV3, 0)}),
    [](const auto& p) { return std::string(p.param.name); });

// ---------------------------------------------------------------- details

CompiledRoutes compiled(std::vector<model::HttpRoute> http,
                        std::vector<model::Resource> extra = {}) {
  auto resources = bookinfo();
  reviewsVs(resources, std::move(http));
  for (auto& r : extra) resources.push_back(std::move(r));
  return compileRoutes(config::makeSnapshot(resources));
}

TEST(Route, ShareTableIsNormalized) {
  const auto c = compiled(
      {httpRoute({}, {to("reviews", "v1", 1), to("reviews", "v2", 3), to("reviews", "v3", 0)})});
  const auto r = route(c, Request{});
  ASSERT_NE(r.info, nullptr);
  ASSERT_EQ(r.info->shares.size(), 3u);
  EXPECT_DOUBLE_EQ(r.info->shares[0].share, 0.25);
  EXPECT_DOUBLE_EQ(r.info->shares[1].share, 0.75);
  EXPECT_DOUBLE_EQ(r.info->shares[2].share, 0.0);
  EXPECT_EQ(r.info->shares[1].host, kReviews);
  EXPECT_EQ(r.info->shares[1].subset, "v2");
}

TEST(Route, WeightedSplitFollowsTheDice) {
  const auto c = compiled({httpRoute({}, {to("reviews", "v1", 90), to("reviews", "v2", 10)})});
  int v2 = 0;
  Request req;
  for (int i = 0; i < 1000; ++i) {
    req.dice.pick = (i + 0.5) / 1000.0;
    if (route(c, req, false).subset == "v2") ++v2;
  }
  EXPECT_EQ(v2, 100);
}

TEST(Route, ForwardCarriesClusterData) {
  auto dr = destinationRule("bookinfo", "reviews", "reviews",
                            {subset("v1", {{"version", "v1"}}), subset("v2", {{"version", "v2"}})});
  dr.traffic_policy = model::TrafficPolicy{};
  dr.traffic_policy->tls = tls(model::TlsMode::kIstioMutual);
  dr.traffic_policy->connection_pool = model::ConnectionPool{};
  dr.traffic_policy->connection_pool->max_connections = 1;
  dr.traffic_policy->outlier_detection = model::OutlierDetection{};
  dr.traffic_policy->outlier_detection->consecutive_5xx_errors = 3;
  auto resources = bookinfo();
  resources.erase(resources.end() - 1);  // replace the plain DestinationRule
  resources.push_back(dr);
  auto rt = toSubset({}, "v1");
  rt.mirror = model::Destination{"reviews", "v2", std::nullopt};
  rt.rewrite_uri = "/v1";
  reviewsVs(resources, {rt});
  const auto c = compileRoutes(config::makeSnapshot(resources));
  const auto r = route(c, Request{});
  ASSERT_EQ(r.outcome, RouteOutcome::kForward);
  ASSERT_NE(r.service, nullptr);
  EXPECT_EQ(r.service->key(), "bookinfo/reviews");
  EXPECT_EQ(r.host, kReviews);
  EXPECT_EQ(r.subset, "v1");
  EXPECT_EQ(r.port, 9080u);
  ASSERT_NE(r.endpoints, nullptr);
  EXPECT_EQ(r.endpoints->replicas, 2u);
  ASSERT_NE(r.traffic_policy, nullptr);
  EXPECT_EQ(r.traffic_policy->tls->mode, model::TlsMode::kIstioMutual);
  EXPECT_EQ(*r.traffic_policy->connection_pool->max_connections, 1u);
  EXPECT_EQ(*r.traffic_policy->outlier_detection->consecutive_5xx_errors, 3u);
  EXPECT_EQ(r.traffic_policy->destination_rule, "bookinfo/reviews");
  ASSERT_NE(r.mirror, nullptr);
  EXPECT_EQ(r.mirror->subset, "v2");
  EXPECT_EQ(r.rewrite_uri, "/v1");
}

// The compiled table resolves one DestinationRule per client namespace, sharing one lookup among
// namespaces that hold no rule and that no exportTo names. Every client namespace must still see
// exactly what the lookup finds for it.
TEST(Route, EveryClientNamespaceSeesTheRuleTheLookupFinds) {
  auto resources = bookinfo();
  resources.erase(resources.end() - 1);  // the rules come below
  for (const char* ns : {"a", "b", "c", "d", "e"}) {
    resources.push_back(service(ns, "web"));
    resources.push_back(workload(ns, "web-v1", "web", {{"app", "web"}}));
  }
  auto own = destinationRule("bookinfo", "reviews-own", "reviews");
  own.export_to = {"."};
  auto in_a = destinationRule("a", "reviews-from-a", "reviews.bookinfo.svc.cluster.local");
  auto for_c = destinationRule("b", "reviews-for-c", "reviews.bookinfo.svc.cluster.local");
  for_c.export_to = {"c"};
  auto mesh_wide = destinationRule("istio-system", "reviews-default",
                                   "reviews.bookinfo.svc.cluster.local");
  for (const auto& dr : {own, in_a, for_c, mesh_wide}) resources.push_back(dr);
  const auto snap = config::makeSnapshot(resources);
  const auto compiled = compileRoutes(snap);
  std::map<std::string, std::string> seen;
  for (const char* ns : {"bookinfo", "a", "b", "c", "d", "e", "istio-system", "nowhere"}) {
    Request req;
    req.ns = ns;
    req.authority = "reviews.bookinfo.svc.cluster.local:9080";
    const auto r = route(compiled, req);
    ASSERT_EQ(r.outcome, RouteOutcome::kForward) << ns;
    const std::string got = r.traffic_policy != nullptr ? r.traffic_policy->destination_rule : "";
    const auto lookup = findDestinationRule(*snap, ns, {"bookinfo", "reviews"});
    EXPECT_EQ(got, lookup ? lookup->sources.front() : std::string()) << "client namespace " << ns;
    seen[ns] = got;
  }
  EXPECT_EQ(seen["bookinfo"], "bookinfo/reviews-own");
  EXPECT_EQ(seen["a"], "a/reviews-from-a");
  // A rule in a third namespace is not on the lookup path (client, service, root namespace),
  // whatever its exportTo says.
  EXPECT_EQ(seen["c"], "istio-system/reviews-default");
  EXPECT_EQ(seen["d"], "istio-system/reviews-default");
  EXPECT_EQ(seen["nowhere"], "istio-system/reviews-default");
}

TEST(Route, RetriesDefaultAndConfigured) {
  auto configured = toSubset({uri(prefix("/api"))}, "v1");
  configured.retries.present = true;
  configured.retries.attempts = 0;
  const auto c = compiled({configured, toSubset({}, "v2")});
  Request api;
  api.path = "/api";
  const auto r0 = route(c, api);
  ASSERT_NE(r0.retries, nullptr);
  EXPECT_EQ(r0.retries->attempts, 0);  // "attempts: 0 disables"
  const auto r1 = route(c, Request{});
  ASSERT_NE(r1.retries, nullptr);
  // "2 retries on connect-failure,refused-stream,unavailable,cancelled (+retriable-status-codes)".
  EXPECT_EQ(r1.retries->attempts, 2);
  EXPECT_EQ(r1.retries->retry_on,
            "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
}

TEST(Route, RedirectLocation) {
  model::HttpRoute rt;
  rt.redirect = model::HttpRedirect{};
  rt.redirect->uri = "/v2/reviews";
  rt.redirect->authority = "new.example.com";
  rt.redirect->redirect_code = 308;
  const auto c = compiled({rt});
  Request req;
  req.path = "/reviews/0?page=2";
  const auto r = route(c, req);
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(r.location, "http://new.example.com/v2/reviews?page=2");
}

TEST(Route, GrpcFaultAbort) {
  auto rt = toSubset({}, "v1");
  rt.fault = model::HttpFaultInjection{};
  rt.fault->abort_grpc_status = 14;
  rt.fault->abort_percentage.value = 100;
  const auto r = route(compiled({rt}), Request{});
  EXPECT_EQ(r.outcome, RouteOutcome::kFaultAbort);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.grpc_status, 14);
}

TEST(Route, DelayAndUpstreamFailureCombineFlags) {
  auto rt = toSubset({}, "v4");
  rt.fault = model::HttpFaultInjection{};
  rt.fault->delay = model::Duration{100};
  rt.fault->delay_percentage.value = 100;
  const auto r = route(compiled({rt}), Request{});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.flags, "DI,UH");
}

TEST(Route, DiagnosticsReportInvalidRegexAndConflicts) {
  const auto c =
      compiled({toSubset({uri(regex("(unclosed"))}, "v1")},
               {virtualService("bookinfo", "reviews-2", {"reviews"}, {toSubset({}, "v2")}, 2)});
  ASSERT_EQ(c.diagnostics().warningCount(), 2u);
  bool regex_warning = false, conflict_warning = false;
  for (const auto& d : c.diagnostics().items()) {
    regex_warning |= d.message.find("invalid regex") != std::string::npos;
    conflict_warning |= d.message.find("conflicts with bookinfo/reviews") != std::string::npos;
  }
  EXPECT_TRUE(regex_warning);
  EXPECT_TRUE(conflict_warning);
  // The older VirtualService is used.
  EXPECT_EQ(route(c, Request{}).routeInfo().virtual_service, "bookinfo/reviews");
}

TEST(Route, WorkloadSelectedDestinationRuleForOneClient) {
  auto resources = bookinfo();
  auto dr = destinationRule("bookinfo", "for-productpage", "reviews",
                            {subset("v9", {{"version", "v2"}})});
  dr.workload_selector.present = true;
  dr.workload_selector.match_labels = {{"app", "productpage"}};
  resources.push_back(dr);
  reviewsVs(resources, {toSubset({}, "v9")});
  const auto c = compileRoutes(config::makeSnapshot(resources));
  const auto selected = route(c, Request{});
  EXPECT_EQ(selected.outcome, RouteOutcome::kForward) << selected.reason;
  EXPECT_EQ(selected.endpoints->replicas, 1u);
  Request other;
  other.labels = {{"app", "details"}};
  EXPECT_EQ(route(c, other).outcome, RouteOutcome::kClusterNotFound);
}

TEST(Route, ApplyToDecision) {
  const auto c = compiled({toSubset({}, "v4")});
  const auto r = route(c, Request{});
  policy::Decision d;
  applyToDecision(r, d);
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.body, "no healthy upstream");
  EXPECT_EQ(d.response_flags, "UH");
  EXPECT_EQ(d.stage, policy::Stage::kRoute);
  EXPECT_EQ(d.policy, "bookinfo/reviews");
  EXPECT_EQ(d.rule, 0);
  EXPECT_EQ(d.route.destination, std::string(kReviews) + ":v4");
  EXPECT_FALSE(d.trace.empty());

  policy::Decision ok;
  applyToDecision(route(compiled({toSubset({}, "v1")}), Request{}), ok);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.stage, policy::Stage::kNone);
  EXPECT_EQ(ok.route.destination, kV1);
}

TEST(Route, EmptyCompiledRoutesKnowNothing) {
  const CompiledRoutes empty;
  EXPECT_EQ(route(empty, Request{}).outcome, RouteOutcome::kClusterNotFound);
  EXPECT_TRUE(empty.snapshot().resources.empty());
}

TEST(Route, WithoutExplainNoTextIsProduced) {
  const auto r = route(compiled({toSubset({}, "v1")}), Request{}, false);
  EXPECT_TRUE(r.reason.empty());
  EXPECT_TRUE(r.trace.empty());
}

}  // namespace
}  // namespace meshsim::routing
