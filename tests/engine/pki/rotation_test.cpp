// SVID rotation (PRODUCT.md section 3: "advance time, rotate certificates"). Istio's agent renews
// once SECRET_GRACE_PERIOD_RATIO (default 0.5) of the lifetime remains: at half-life.

#include "meshsim/pki/rotation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "meshsim/pki/trust.h"

namespace meshsim::pki {
namespace {

constexpr int64_t kStart = 1700000000;  // 2023-11-14T22:13:20Z

class RotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_ = std::make_shared<SimClock>(kStart);
    CaOptions options;
    options.clock = clock_;
    auto ca = MeshCa::create(options);
    ASSERT_TRUE(ca.ok()) << ca.status().toString();
    ca_ = std::make_unique<MeshCa>(std::move(ca).value());
    auto svid = ca_->issue(SvidRequest{"", "foo", "bar", "east"});  // 24 h
    ASSERT_TRUE(svid.ok()) << svid.status().toString();
    svid_ = std::move(svid).value();
  }

  std::shared_ptr<SimClock> clock_;
  std::unique_ptr<MeshCa> ca_;
  Svid svid_;
};

TEST_F(RotationTest, DueAtHalfLifeByDefault) {
  const SvidRotator rotator;
  EXPECT_EQ(rotator.gracePeriodRatio(), 0.5);
  EXPECT_EQ(rotator.rotationTime(svid_), kStart + 43200);  // 12 h of a 24 h certificate
  EXPECT_FALSE(rotator.due(svid_, kStart));
  EXPECT_FALSE(rotator.due(svid_, kStart + 43199));
  EXPECT_TRUE(rotator.due(svid_, kStart + 43200));
  EXPECT_TRUE(rotator.due(svid_, kStart + 90000));
}

TEST_F(RotationTest, CustomGracePeriodRatio) {
  auto rotator = SvidRotator::withGracePeriodRatio(0.2);
  ASSERT_TRUE(rotator.ok()) << rotator.status().toString();
  EXPECT_EQ(rotator->rotationTime(svid_), kStart + 69120);  // 80% of 86400 s
}

TEST_F(RotationTest, RotationTimeRoundsDown) {
  auto svid = ca_->issue(SvidRequest{"", "foo", "bar", "east", 3601});
  ASSERT_TRUE(svid.ok());
  EXPECT_EQ(SvidRotator().rotationTime(*svid), kStart + 1800);  // 1800.5 s rounded down
}

TEST_F(RotationTest, InvalidRatiosAreRejected) {
  for (double ratio : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    auto rotator = SvidRotator::withGracePeriodRatio(ratio);
    ASSERT_FALSE(rotator.ok()) << ratio;
    EXPECT_EQ(rotator.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(rotator.status().message().find("strictly between 0 and 1"), std::string::npos);
  }
}

TEST_F(RotationTest, NotRotatedBeforeDue) {
  ASSERT_TRUE(clock_->advance(43199).ok());
  auto next = SvidRotator().rotateIfDue(*ca_, svid_);
  ASSERT_TRUE(next.ok()) << next.status().toString();
  EXPECT_FALSE(next->has_value());
}

TEST_F(RotationTest, RotatedCertificateVerifiesWhileTheOldOneLivesOnUntilExpiry) {
  const SvidRotator rotator;
  ASSERT_TRUE(clock_->advance(43200).ok());
  auto rotated = rotator.rotateIfDue(*ca_, svid_);
  ASSERT_TRUE(rotated.ok()) << rotated.status().toString();
  ASSERT_TRUE(rotated->has_value());
  const Svid& fresh = **rotated;
  EXPECT_EQ(fresh.spiffe_id, svid_.spiffe_id);
  EXPECT_NE(fresh.serial_hex, svid_.serial_hex);
  EXPECT_EQ(fresh.issued_at, kStart + 43200);
  EXPECT_EQ(fresh.not_after, kStart + 43200 + 86400);
  EXPECT_EQ(fresh.intermediate_pem, svid_.intermediate_pem);
  EXPECT_FALSE(rotator.due(fresh, clock_->now()));
  EXPECT_EQ(rotator.rotationTime(fresh), kStart + 86400);

  const TrustBundle& bundle = ca_->trustBundle();
  EXPECT_TRUE(verifyChain(bundle, fresh.chainPem(), clock_->now()).ok());
  EXPECT_TRUE(verifyChain(bundle, svid_.chainPem(), clock_->now()).ok());

  // Just before the old certificate's notAfter both verify; after it only the new one does.
  ASSERT_TRUE(clock_->advance(43199).ok());
  EXPECT_TRUE(verifyChain(bundle, svid_.chainPem(), clock_->now()).ok());
  ASSERT_TRUE(clock_->advance(2).ok());
  auto old = verifyChain(bundle, svid_.chainPem(), clock_->now());
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("certificate has expired"), std::string::npos);
  EXPECT_TRUE(verifyChain(bundle, fresh.chainPem(), clock_->now()).ok());
}

TEST_F(RotationTest, RotateReissuesEvenWhenNotDue) {
  auto next = SvidRotator().rotate(*ca_, svid_);
  ASSERT_TRUE(next.ok()) << next.status().toString();
  EXPECT_EQ(next->spiffe_id, svid_.spiffe_id);
  EXPECT_EQ(next->request.cluster, "east");
  EXPECT_NE(next->serial_hex, svid_.serial_hex);
}

TEST_F(RotationTest, ForgedSvidCannotBeRotated) {
  auto forged = forgeSelfSigned(svid_.spiffe_id, *clock_);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->request.namespace_, "foo");
  EXPECT_EQ(forged->request.service_account, "bar");
  auto next = SvidRotator().rotate(*ca_, *forged);
  EXPECT_EQ(next.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(next.status().message().find("not issued by a mesh CA"), std::string::npos);
  ASSERT_TRUE(clock_->advance(86400).ok());
  EXPECT_EQ(SvidRotator().rotateIfDue(*ca_, *forged).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RotationTest, RotationErrorsFromTheCaPropagate) {
  CaOptions options;
  options.clock = clock_;
  options.intermediate_ttl_seconds = 36 * 3600;
  auto ca = MeshCa::create(options);
  ASSERT_TRUE(ca.ok());
  auto svid = ca->issue(SvidRequest{"", "foo", "bar", "east"});
  ASSERT_TRUE(svid.ok());
  // Due at 12 h; a 24 h renewal then would end 1 s after the 36 h intermediate.
  ASSERT_TRUE(clock_->advance(43201).ok());
  auto next = SvidRotator().rotateIfDue(*ca, *svid);
  EXPECT_EQ(next.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(next.status().message().find("would outlive it"), std::string::npos)
      << next.status().message();
}

}  // namespace
}  // namespace meshsim::pki
