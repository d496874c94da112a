// The local rate limit through real sidecars (istio-semantics.md section 7): a TSB TrafficSetting
// with rateLimiting.local gives every replica of the services it covers a token bucket; once the
// bucket is empty the server sidecar answers 429 `local_rate_limited` with flag RL. The bucket
// refills by simulated time (MeshRuntime::advanceTime), so the test never sleeps, and it survives
// certificate rotation but not a change of the bucket.
#include <gtest/gtest.h>

#include <string>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/engine.h"
#include "meshsim/proxy/loopback_data_plane.h"

namespace meshsim::proxy {
namespace {

constexpr const char* kShop = R"(
apiVersion: meshsim/v1
kind: Organization
metadata: {name: acme}
spec: {trustDomain: cluster.local, rootNamespace: istio-system}
---
apiVersion: meshsim/v1
kind: Cluster
metadata: {name: east}
---
apiVersion: meshsim/v1
kind: Tenant
metadata: {name: retail}
---
apiVersion: meshsim/v1
kind: Workspace
metadata: {tenant: retail, name: shop}
spec: {namespaceSelector: {names: ["*/shop"]}}
---
apiVersion: meshsim/v1
kind: Group
metadata: {tenant: retail, workspace: shop, name: shop-traffic}
spec: {type: traffic, configMode: BRIDGED, namespaceSelector: {names: ["*/shop"]}}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: ratings}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: client}
spec: {cluster: east, serviceAccount: client, labels: {app: client}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: ratings-v1}
spec: {service: ratings, cluster: east, serviceAccount: ratings, labels: {app: ratings, version: v1}}
)";

// The TrafficSetting: `max` tokens, refilled to `max` every `interval`.
std::string limit(int max, const std::string& interval) {
  return "---\napiVersion: meshsim/v1\nkind: TrafficSetting\n"
         "metadata: {tenant: retail, workspace: shop, group: shop-traffic, name: limits}\n"
         "spec:\n  rateLimiting:\n    local:\n      rules:\n"
         "      - tokenBucket: {maxTokens: " +
         std::to_string(max) + ", tokensPerFill: " + std::to_string(max) +
         ", fillInterval: " + interval + "}\n";
}

std::shared_ptr<const config::Snapshot> load(const std::string& text, uint64_t revision = 0) {
  auto loaded = config::loadString(text, "shop.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return config::makeSnapshot(loaded.resources, revision);
}

class RateLimitTest : public ::testing::Test {
 protected:
  void start(const std::string& yaml) {
    auto rt = MeshRuntime::create(load(yaml), std::make_unique<LoopbackDataPlane>());
    ASSERT_TRUE(rt.ok()) << rt.status().toString();
    runtime_ = std::move(*rt);
    ASSERT_TRUE(runtime_->start().ok());
  }

  dataplane::ProbeResult probe() {
    analysis::CheckRequest r;
    r.from = *analysis::parseCheckSource("shop/client");
    r.to_namespace = "shop";
    r.to_service = "ratings";
    auto p = runtime_->probe(r);
    EXPECT_TRUE(p.ok()) << p.status().toString();
    return p.ok() ? *p : dataplane::ProbeResult{};
  }

  // Statuses of `n` sequential requests, e.g. "200 200 429".
  std::string statuses(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      if (!out.empty()) out += ' ';
      out += std::to_string(probe().status);
    }
    return out;
  }

  std::unique_ptr<MeshRuntime> runtime_;
};

TEST_F(RateLimitTest, EmptyBucketIs429LocalRateLimitedWithFlagRL) {
  start(std::string(kShop) + limit(3, "60s"));
  EXPECT_EQ(statuses(3), "200 200 200");
  auto limited = probe();
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body, "local_rate_limited");
  EXPECT_EQ(limited.response_flags, "") << "the client sidecar relays the server's reply";
  EXPECT_TRUE(limited.mtls);

  // The server sidecar reports the local reply with flag RL.
  uint64_t rl = 0;
  for (const auto& [labels, stats] : runtime_->dataPlane().telemetry().requests) {
    if (labels.reporter == "destination" && labels.response_code == 429) {
      EXPECT_EQ(labels.response_flags, "RL");
      EXPECT_EQ(labels.destination_workload, "ratings-v1");
      EXPECT_EQ(labels.source_workload, "client");
      rl += stats.count;
    }
  }
  EXPECT_EQ(rl, 1u);
  bool logged = false;
  for (const auto& e : runtime_->dataPlane().accessLog(100)) {
    if (e.direction == "inbound" && e.status == 429) {
      logged = true;
      EXPECT_EQ(e.response_flags, "RL");
      EXPECT_EQ(e.response_details, "local_rate_limited");
      EXPECT_EQ(e.workload, "shop/ratings-v1");
    }
  }
  EXPECT_TRUE(logged);
}

TEST_F(RateLimitTest, BucketRefillsBySimulatedTime) {
  start(std::string(kShop) + limit(2, "60s"));
  EXPECT_EQ(statuses(3), "200 200 429");
  ASSERT_TRUE(runtime_->advanceTime(30).ok());
  EXPECT_EQ(statuses(1), "429") << "half a fill interval adds no token";
  ASSERT_TRUE(runtime_->advanceTime(30).ok());
  EXPECT_EQ(statuses(3), "200 200 429") << "one fill interval refills the bucket";
  ASSERT_TRUE(runtime_->advanceTime(600).ok());
  EXPECT_EQ(statuses(3), "200 200 429") << "refills never exceed maxTokens";
}

TEST_F(RateLimitTest, BucketSurvivesCertificateRotationButNotAChangedLimit) {
  // A 48 h fill interval; 13 h later every certificate (24 h TTL) has rotated and the sidecars
  // have a new plan, but the bucket is the same: still empty.
  start(std::string(kShop) + limit(2, "48h"));
  EXPECT_EQ(statuses(3), "200 200 429");
  const auto serial = runtime_->currentSvid("shop", "ratings-v1")->serial_hex;
  ASSERT_TRUE(runtime_->advanceTime(13 * 3600).ok());
  ASSERT_NE(runtime_->currentSvid("shop", "ratings-v1")->serial_hex, serial) << "rotated";
  EXPECT_EQ(statuses(1), "429");
  // A different bucket starts full.
  ASSERT_TRUE(runtime_->reconfigure(load(std::string(kShop) + limit(3, "48h"), 1)).ok());
  EXPECT_EQ(statuses(4), "200 200 200 429");
}

TEST_F(RateLimitTest, ServicesOutsideTheSettingAreNotLimited) {
  start(kShop);
  EXPECT_EQ(statuses(5), "200 200 200 200 200");
}

}  // namespace
}  // namespace meshsim::proxy
