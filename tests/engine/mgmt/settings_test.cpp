// STRICTER and REPLACE propagation along Organization → Tenant → Workspace → Group (tsb-model.md).
#include "meshsim/mgmt/settings.h"

#include <gtest/gtest.h>

namespace meshsim::mgmt {
namespace {

using model::AuthzMode;
using model::PropagationStrategy;
using model::TrafficMode;

struct Spec {
  TrafficMode traffic = TrafficMode::kUnset;
  AuthzMode authz = AuthzMode::kUnset;
  PropagationStrategy strategy = PropagationStrategy::kUnset;
  std::vector<std::string> sas;
};

// Holds the specs so SettingLevel can point at them.
class Chain {
 public:
  Chain& add(const std::string& level, const Spec& s) {
    auto spec = std::make_unique<model::SecuritySettingSpec>();
    if (s.traffic != TrafficMode::kUnset) {
      spec->authentication = model::AuthenticationSettings{};
      spec->authentication->traffic_mode = s.traffic;
    }
    if (s.authz != AuthzMode::kUnset) {
      spec->authorization = model::AuthorizationSettings{};
      spec->authorization->mode = s.authz;
      spec->authorization->service_accounts = s.sas;
    }
    spec->propagation = s.strategy;
    SettingLevel l;
    l.level = level;
    l.fqn = "organizations/acme/" + level;
    l.security = spec.get();
    levels_.push_back(l);
    specs_.push_back(std::move(spec));
    return *this;
  }
  const std::vector<SettingLevel>& levels() const { return levels_; }

 private:
  std::vector<SettingLevel> levels_;
  std::vector<std::unique_ptr<model::SecuritySettingSpec>> specs_;
};

TEST(Settings, NothingSetMeansOptionalAndDisabled) {
  auto eff = effectiveSecurity({});
  EXPECT_EQ(eff.traffic_mode, TrafficMode::kOptional);
  EXPECT_EQ(eff.authz_mode, AuthzMode::kDisabled);
  EXPECT_EQ(eff.traffic_mode_from.level, "default");
}

TEST(Settings, ReplaceLetsTheLowestLevelWin) {
  Chain c;
  c.add("tenant", {TrafficMode::kRequired, AuthzMode::kWorkspace, PropagationStrategy::kReplace})
      .add("group", {TrafficMode::kOptional, AuthzMode::kDisabled});
  auto eff = effectiveSecurity(c.levels());
  EXPECT_EQ(eff.traffic_mode, TrafficMode::kOptional);
  EXPECT_EQ(eff.authz_mode, AuthzMode::kDisabled);
  EXPECT_EQ(eff.traffic_mode_from.fqn, "organizations/acme/group");
  EXPECT_EQ(eff.traffic_mode_from.locked_by, "");
}

TEST(Settings, StricterAboveKeepsTheStrongerValue) {
  Chain c;
  c.add("tenant", {TrafficMode::kRequired, AuthzMode::kUnset, PropagationStrategy::kStricter})
      .add("workspace", {TrafficMode::kOptional});
  auto eff = effectiveSecurity(c.levels());
  EXPECT_EQ(eff.traffic_mode, TrafficMode::kRequired);
  EXPECT_EQ(eff.traffic_mode_from.fqn, "organizations/acme/tenant");
  EXPECT_EQ(eff.traffic_mode_from.locked_by, "organizations/acme/tenant");
  ASSERT_EQ(eff.notes.size(), 1u);
  EXPECT_NE(eff.notes[0].find("trafficMode OPTIONAL ignored"), std::string::npos);
}

TEST(Settings, StricterAllowsTighteningBelow) {
  Chain c;
  c.add("organization", {TrafficMode::kOptional, AuthzMode::kCluster, PropagationStrategy::kStricter})
      .add("workspace", {TrafficMode::kRequired, AuthzMode::kNamespace});
  auto eff = effectiveSecurity(c.levels());
  EXPECT_EQ(eff.traffic_mode, TrafficMode::kRequired);
  EXPECT_EQ(eff.authz_mode, AuthzMode::kNamespace);
  EXPECT_EQ(eff.authz_mode_from.fqn, "organizations/acme/workspace");
}

TEST(Settings, StricterHigherUpWinsOverReplaceBelow) {
  Chain c;
  c.add("organization", {TrafficMode::kUnset, AuthzMode::kGroup, PropagationStrategy::kStricter})
      .add("tenant", {TrafficMode::kUnset, AuthzMode::kCluster, PropagationStrategy::kReplace})
      .add("group", {TrafficMode::kUnset, AuthzMode::kDisabled});
  EXPECT_EQ(effectiveSecurity(c.levels()).authz_mode, AuthzMode::kGroup);
}

// TSB's order: UNSET < DISABLED < CLUSTER < WORKSPACE < NAMESPACE < GROUP < RULES < CUSTOM.
struct AuthzOrderCase {
  AuthzMode locked;
  AuthzMode child;
  AuthzMode expected;
};

class AuthzOrder : public ::testing::TestWithParam<AuthzOrderCase> {};

TEST_P(AuthzOrder, FollowsTsbStricterOrder) {
  Chain c;
  c.add("tenant", {TrafficMode::kUnset, GetParam().locked, PropagationStrategy::kStricter})
      .add("group", {TrafficMode::kUnset, GetParam().child, PropagationStrategy::kUnset, {"ns/a"}});
  EXPECT_EQ(effectiveSecurity(c.levels()).authz_mode, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AuthzOrder,
    ::testing::Values(AuthzOrderCase{AuthzMode::kCluster, AuthzMode::kDisabled, AuthzMode::kCluster},
                      AuthzOrderCase{AuthzMode::kCluster, AuthzMode::kWorkspace, AuthzMode::kWorkspace},
                      AuthzOrderCase{AuthzMode::kWorkspace, AuthzMode::kCluster, AuthzMode::kWorkspace},
                      AuthzOrderCase{AuthzMode::kWorkspace, AuthzMode::kNamespace, AuthzMode::kNamespace},
                      AuthzOrderCase{AuthzMode::kNamespace, AuthzMode::kGroup, AuthzMode::kGroup},
                      AuthzOrderCase{AuthzMode::kGroup, AuthzMode::kNamespace, AuthzMode::kGroup},
                      AuthzOrderCase{AuthzMode::kGroup, AuthzMode::kRules, AuthzMode::kRules},
                      AuthzOrderCase{AuthzMode::kRules, AuthzMode::kCustom, AuthzMode::kCustom},
                      AuthzOrderCase{AuthzMode::kCustom, AuthzMode::kRules, AuthzMode::kCustom},
                      AuthzOrderCase{AuthzMode::kDisabled, AuthzMode::kUnset, AuthzMode::kDisabled}));

TEST(Settings, CustomServiceAccountsNarrowAsTsbDocuments) {
  // tsb-model.md 1.3: parent ns/*, ns2/svc-sa, ./*; child ns/svc1-sa, ns3/svc-sa, ./*
  // => effective ns/svc1-sa, ./*
  EXPECT_EQ(narrowServiceAccounts({"ns/*", "ns2/svc-sa", "./*"}, {"ns/svc1-sa", "ns3/svc-sa", "./*"}),
            (std::vector<std::string>{"ns/svc1-sa", "./*"}));
  // If none qualify, the parent list is used.
  EXPECT_EQ(narrowServiceAccounts({"ns/a"}, {"other/b"}), (std::vector<std::string>{"ns/a"}));
}

TEST(Settings, CustomUnderCustomStricterNarrows) {
  Chain c;
  c.add("tenant", {TrafficMode::kUnset, AuthzMode::kCustom, PropagationStrategy::kStricter, {"shop/*"}})
      .add("group", {TrafficMode::kUnset, AuthzMode::kCustom, PropagationStrategy::kUnset, {"shop/web", "bank/vault"}});
  auto eff = effectiveSecurity(c.levels());
  EXPECT_EQ(eff.service_accounts, (std::vector<std::string>{"shop/web"}));
}

TEST(Settings, WeakeningIsFoundWithTheLockingAncestor) {
  Chain ancestors;
  ancestors.add("tenant", {TrafficMode::kRequired, AuthzMode::kUnset, PropagationStrategy::kStricter});
  model::SecuritySettingSpec candidate;
  candidate.authentication = model::AuthenticationSettings{};
  candidate.authentication->traffic_mode = TrafficMode::kOptional;
  auto weak = findWeakening(ancestors.levels(), candidate);
  ASSERT_TRUE(weak.has_value());
  EXPECT_EQ(weak->field, "authenticationSettings.trafficMode");
  EXPECT_EQ(weak->attempted, "OPTIONAL");
  EXPECT_EQ(weak->locked, "REQUIRED");
  EXPECT_EQ(weak->locked_by, "organizations/acme/tenant");
  candidate.authentication->traffic_mode = TrafficMode::kRequired;
  EXPECT_FALSE(findWeakening(ancestors.levels(), candidate).has_value());
}

TEST(Settings, WithoutStricterNothingIsLocked) {
  Chain ancestors;
  ancestors.add("tenant", {TrafficMode::kRequired, AuthzMode::kCustom, PropagationStrategy::kReplace});
  model::SecuritySettingSpec candidate;
  candidate.authentication = model::AuthenticationSettings{};
  candidate.authentication->traffic_mode = TrafficMode::kOptional;
  EXPECT_FALSE(findWeakening(ancestors.levels(), candidate).has_value());
}

}  // namespace
}  // namespace meshsim::mgmt
