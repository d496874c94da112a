// The loopback data plane under traffic: weighted splits, certificate expiry and rotation,
// reconfiguration without dropped requests, local rate limits, the ingress gateway, telemetry.
// Real sockets on 127.0.0.0/8 and real TLS; no sleeps (bursts are bounded by request counts).
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <iterator>
#include <map>
#include <thread>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/engine.h"
#include "meshsim/proxy/loopback_data_plane.h"

namespace meshsim::proxy {
namespace {

constexpr const char* kShop = R"(
apiVersion: meshsim/v1
kind: Cluster
metadata: {name: east}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: front}
spec:
  ports: [{name: http, port: 8080}]
  behaviour: {calls: [{service: ratings, path: /ratings/1}]}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: ratings}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: front-v1}
spec: {service: front, cluster: east, serviceAccount: front, labels: {app: front, version: v1}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: client}
spec: {cluster: east, serviceAccount: client, labels: {app: client}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: ratings-v1}
spec: {service: ratings, cluster: east, serviceAccount: ratings, replicas: 2, labels: {app: ratings, version: v1}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: ratings-v2}
spec: {service: ratings, cluster: east, serviceAccount: ratings, labels: {app: ratings, version: v2}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: istio-system, name: default}
spec: {mtls: {mode: STRICT}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {namespace: shop, name: ratings}
spec:
  host: ratings
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
)";

std::string canary(int v1, int v2) {
  return "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: ratings}\n"
         "spec:\n  hosts: [ratings]\n  http:\n  - route:\n    - {destination: {host: ratings, subset: v1}, weight: " +
         std::to_string(v1) + "}\n    - {destination: {host: ratings, subset: v2}, weight: " + std::to_string(v2) + "}\n";
}

std::shared_ptr<const config::Snapshot> load(const std::string& text, uint64_t revision = 0) {
  auto loaded = config::loadString(text, "shop.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return config::makeSnapshot(loaded.resources, revision);
}

analysis::CheckRequest request(const std::string& from, const std::string& to) {
  analysis::CheckRequest r;
  r.from = *analysis::parseCheckSource(from);
  auto slash = to.find('/');
  r.to_namespace = to.substr(0, slash);
  r.to_service = to.substr(slash + 1);
  return r;
}

// Requests the server sidecars have answered so far.
uint64_t answered(const dataplane::DataPlane& dp) {
  uint64_t n = 0;
  for (const auto& [labels, stats] : dp.telemetry().requests) {
    if (labels.reporter == "destination") n += stats.count;
  }
  return n;
}

// Waits (bounded: at most 100,000 polls, yielding) until `n` requests were answered.
bool waitForAnswered(const dataplane::DataPlane& dp, uint64_t n) {
  for (int i = 0; i < 100000; ++i) {
    if (answered(dp) >= n) return true;
    std::this_thread::yield();
  }
  return false;
}

class DataPlaneTest : public ::testing::Test {
 protected:
  void start(const std::string& yaml, LoopbackOptions options = {}) {
    auto rt = MeshRuntime::create(load(yaml), std::make_unique<LoopbackDataPlane>(options));
    ASSERT_TRUE(rt.ok()) << rt.status().toString();
    runtime_ = std::move(*rt);
    ASSERT_TRUE(runtime_->start().ok());
  }
  dataplane::TrafficResult burst(const std::string& from, const std::string& to, uint64_t n,
                                 uint32_t concurrency = 8) {
    TrafficRequest t;
    t.request = request(from, to);
    t.requests = n;
    t.concurrency = concurrency;
    auto r = runtime_->traffic(t);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? *r : dataplane::TrafficResult{};
  }
  std::unique_ptr<MeshRuntime> runtime_;
};

TEST_F(DataPlaneTest, NinetyTenSplitHoldsWithinTolerance) {
  start(std::string(kShop) + "---\n" + canary(90, 10));
  auto r = burst("shop/client", "shop/ratings", 2000);
  EXPECT_EQ(r.sent, 2000u);
  EXPECT_EQ(r.by_status[200], 2000u) << (r.errors.empty() ? "" : r.errors.front());
  EXPECT_TRUE(r.all_mtls);
  // 90% of 2000 = 1800; a binomial standard deviation is ~13, so ±3 points (60) is > 4 sigma.
  EXPECT_NEAR(static_cast<double>(r.by_version["v1"]), 1800.0, 60.0);
  EXPECT_NEAR(static_cast<double>(r.by_version["v2"]), 200.0, 60.0);
  // Both replicas of ratings-v1 served (round robin over endpoints).
  EXPECT_GT(r.by_workload["shop/ratings-v1"], 0u);
}

TEST_F(DataPlaneTest, AppsCallUpstreamsThroughTheirSidecarsAndTelemetryCountsEveryHop) {
  start(std::string(kShop) + "---\n" + canary(50, 50));
  auto r = burst("shop/client", "shop/front", 200, 4);
  EXPECT_EQ(r.by_status[200], 200u);
  auto t = runtime_->dataPlane().telemetry();
  uint64_t front_to_ratings = 0, mtls = 0;
  for (const auto& [labels, stats] : t.requests) {
    if (labels.reporter == "destination" && labels.source_workload == "front-v1" &&
        labels.destination_service_name == "ratings") {
      front_to_ratings += stats.count;
      if (labels.connection_security_policy == "mutual_tls") mtls += stats.count;
      EXPECT_EQ(labels.source_principal, "spiffe://cluster.local/ns/shop/sa/front");
    }
  }
  EXPECT_EQ(front_to_ratings, 200u);
  EXPECT_EQ(mtls, 200u);
  auto log = runtime_->dataPlane().accessLog(5);
  ASSERT_FALSE(log.empty());
}

TEST_F(DataPlaneTest, StolenCertificateWorksUntilItExpiresWhileTheOwnerRotates) {
  start(std::string(kShop) +
        "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: ratings}\n"
        "spec: {selector: {matchLabels: {app: ratings}}, rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/front]}}]}]}\n");
  auto stolen_svid = runtime_->currentSvid("shop", "front-v1");
  ASSERT_TRUE(stolen_svid.ok());
  dataplane::ProbeRequest pr;
  pr.from.kind = dataplane::ProbeSource::Kind::kTls;
  pr.from.credential = *stolen_svid;
  pr.to_namespace = "shop";
  pr.to_service = "ratings";
  auto before = runtime_->dataPlane().probe(pr);
  EXPECT_EQ(before.status, 200) << before.error;
  EXPECT_TRUE(before.mtls);

  // 25 hours later the stolen 24 h certificate has expired; the real workload has rotated.
  ASSERT_TRUE(runtime_->advanceTime(25 * 3600).ok());
  auto after = runtime_->dataPlane().probe(pr);
  EXPECT_EQ(after.status, 0);
  EXPECT_NE(after.error.find("expired"), std::string::npos) << after.error;
  auto owner = runtime_->probe(request("shop/front-v1", "shop/ratings"));
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->status, 200) << owner->error;
  EXPECT_NE(runtime_->currentSvid("shop", "front-v1")->serial_hex, stolen_svid->serial_hex);
}

TEST_F(DataPlaneTest, ForgedAndUntrustedCertificatesAreRefusedBeforeHttp) {
  start(kShop);
  auto forged = runtime_->probe(request("forged:cluster.local/ns/shop/sa/front", "shop/ratings"));
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->status, 0);
  EXPECT_FALSE(forged->error.empty());
  auto plaintext = runtime_->probe(request("outside", "shop/ratings"));
  ASSERT_TRUE(plaintext.ok());
  EXPECT_EQ(plaintext->status, 0) << "STRICT resets plaintext";
}

TEST_F(DataPlaneTest, RotationUnderLoadFailsNoRequest) {
  start(std::string(kShop) + "---\n" + canary(90, 10));
  dataplane::ProbeRequest pr;
  pr.from.kind = dataplane::ProbeSource::Kind::kWorkload;
  pr.from.workload = "shop/client";
  pr.to_namespace = "shop";
  pr.to_service = "ratings";
  dataplane::TrafficSpec spec;
  spec.request = pr;
  spec.requests = 3000;
  spec.concurrency = 8;
  auto& dp = runtime_->dataPlane();
  auto running = std::async(std::launch::async, [&] { return dp.traffic(spec); });
  // Rotate every certificate three times while the burst runs (13 h > 50% of a 24 h TTL),
  // each time once another 600 requests have been answered: simulated time jumps half a day at
  // once, so two jumps inside one handshake would age a certificate past its expiry.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(waitForAnswered(dp, 600 * (i + 1)));
    ASSERT_TRUE(runtime_->advanceTime(13 * 3600).ok());
  }
  auto r = running.get();
  EXPECT_EQ(r.sent, 3000u);
  EXPECT_EQ(r.by_status[200], 3000u) << (r.errors.empty() ? "" : r.errors.front());
}

TEST_F(DataPlaneTest, ReconfigurationUnderLoadDropsNoRequest) {
  start(std::string(kShop) + "---\n" + canary(90, 10));
  dataplane::ProbeRequest pr;
  pr.from.kind = dataplane::ProbeSource::Kind::kWorkload;
  pr.from.workload = "shop/client";
  pr.to_namespace = "shop";
  pr.to_service = "ratings";
  dataplane::TrafficSpec spec;
  spec.request = pr;
  spec.requests = 3000;
  spec.concurrency = 8;
  auto& dp = runtime_->dataPlane();
  auto running = std::async(std::launch::async, [&] { return dp.traffic(spec); });
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(waitForAnswered(dp, 500 * (i + 1)));
    auto next = load(std::string(kShop) + "---\n" + canary(i % 2 ? 90 : 10, i % 2 ? 10 : 90), i + 1);
    ASSERT_TRUE(runtime_->reconfigure(next).ok());
  }
  auto r = running.get();
  EXPECT_EQ(r.by_status[200], 3000u) << (r.errors.empty() ? "" : r.errors.front());
}

TEST_F(DataPlaneTest, IngressGatewayServesPlainHttpFromOutside) {
  LoopbackOptions options;
  options.ingress_port = 0;
  start(kShop, options);
  const uint16_t port = runtime_->dataPlane().ingressPort();
  ASSERT_NE(port, 0);
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{http::verb::get, "/ratings/7", 11};
  req.set(http::field::host, "ratings.shop.svc.cluster.local");
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_NE(res.body().find("\"service\":\"ratings\""), std::string::npos) << res.body();
  EXPECT_NE(res.body().find("\"mtls\":true"), std::string::npos) << "ingress to sidecar is mTLS";
  // Header names travel in lower case, as Envoy's HTTP/1 codec writes them: the client sent
  // "Host", the app behind the sidecar sees "host", and the answer's fields are lower case.
  EXPECT_NE(res.body().find("\"host\":\"ratings.shop.svc.cluster.local\""), std::string::npos)
      << res.body();
  ASSERT_NE(res.begin(), res.end());
  for (const auto& field : res) {
    const std::string name(field.name_string());
    EXPECT_TRUE(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
        << name;
  }

  // Both reporters label the request with the gateway's workload, as Istio does.
  uint64_t from_ingress = 0;
  for (const auto& [labels, stats] : runtime_->dataPlane().telemetry().requests) {
    if (labels.destination_service_name != "ratings") continue;
    SCOPED_TRACE(labels.reporter);
    EXPECT_EQ(labels.source_workload, "istio-ingressgateway");
    EXPECT_EQ(labels.source_workload_namespace, "istio-system");
    EXPECT_EQ(labels.source_app, "istio-ingressgateway");
    EXPECT_EQ(labels.source_principal,
              "spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway");
    EXPECT_EQ(labels.connection_security_policy, "mutual_tls");
    from_ingress += stats.count;
  }
  EXPECT_EQ(from_ingress, 2u) << "one request, seen by the gateway and by the server sidecar";
}

TEST_F(DataPlaneTest, AppEchoesEveryHeaderValueAsValidJson) {
  LoopbackOptions options;
  options.ingress_port = 0;
  start(kShop, options);
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), runtime_->dataPlane().ingressPort()});
  http::request<http::string_body> req{http::verb::get, "/ratings/7", 11};
  req.set(http::field::host, "ratings.shop.svc.cluster.local");
  // Characters JSON must escape, at every offset of values long and short (the app scans
  // values eight bytes at a time), next to bytes it must pass through untouched.
  std::map<std::string, std::string> sent;
  const std::string specials[] = {"\"", "\\", "\t", "\xc3\xa9", "/"};
  for (size_t len = 1; len <= 17; len += 2) {
    for (size_t at = 0; at < len; ++at) {
      const std::string& special = specials[(len + at) % std::size(specials)];
      std::string value(len, static_cast<char>('a' + at % 26));
      value.replace(at, 1, special);
      if (value.front() == '\t' || value.back() == '\t') continue;  // trimmed by HTTP
      const std::string name = "x-v-" + std::to_string(len) + "-" + std::to_string(at);
      req.set(name, value);
      sent[name] = value;
    }
  }
  ASSERT_GT(sent.size(), 60u);
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  const auto body = nlohmann::json::parse(res.body(), nullptr, false);
  ASSERT_FALSE(body.is_discarded()) << res.body();
  ASSERT_TRUE(body.contains("headers"));
  for (const auto& [name, value] : sent) {
    ASSERT_TRUE(body["headers"].contains(name)) << name;
    EXPECT_EQ(body["headers"][name].get<std::string>(), value) << name;
  }
}

TEST(LoopbackAddresses, AreStablePerClusterAndReplica) {
  EXPECT_EQ(dataplane::loopbackAddress(0, 0), "127.1.0.1");
  EXPECT_EQ(dataplane::loopbackAddress(0, 253), "127.1.0.254");
  EXPECT_EQ(dataplane::loopbackAddress(0, 254), "127.1.1.1");
  EXPECT_EQ(dataplane::loopbackAddress(2, 10), "127.3.0.11");
}

}  // namespace
}  // namespace meshsim::proxy
