// The whole request path of `meshsim check`, case by case, with the outcomes that
// shared/reference/istio-semantics.md states (sections 2, 3, 4, 5, 7 and 8).
#include "meshsim/analysis/check.h"

#include <gtest/gtest.h>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/policy/jwt.h"
#include "support/istio_cases.h"

namespace meshsim::analysis {
namespace {

using meshsim::testing::IstioCase;

class CheckCase : public ::testing::TestWithParam<IstioCase> {};

TEST_P(CheckCase, MatchesIstio) {
  const IstioCase& c = GetParam();
  auto loaded = config::loadString(meshsim::testing::istioCaseYaml(c), "mesh.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  ASSERT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  auto snap = config::makeSnapshot(loaded.resources);

  CheckRequest req;
  auto from = parseCheckSource(c.from);
  ASSERT_TRUE(from.ok()) << from.status().toString();
  req.from = *from;
  auto slash = c.to.find('/');
  req.to_namespace = c.to.substr(0, slash);
  req.to_service = c.to.substr(slash + 1);
  req.path = c.path;
  req.method = c.method;
  req.jwt = c.jwt;
  req.now_seconds = 1'800'000'000;
  policy::IdentityProviderKeys keys;
  auto d = check(snap, req, keys);
  ASSERT_TRUE(d.ok()) << d.status().toString();
  std::string trace;
  for (const auto& l : d->trace) trace += "\n  " + l;
  EXPECT_EQ(d->status, c.status) << d->reason << trace;
  EXPECT_EQ(d->stage, c.stage) << policy::stageName(d->stage) << ": " << d->reason;
  if (c.body != "*") {
    EXPECT_EQ(d->body, c.body);
  }
  EXPECT_EQ(d->mtls, c.mtls);
  if (c.flags != "*") {
    EXPECT_EQ(d->response_flags, c.flags);
  }
}

INSTANTIATE_TEST_SUITE_P(Istio, CheckCase, ::testing::ValuesIn(meshsim::testing::istioCases()),
                         [](const ::testing::TestParamInfo<IstioCase>& p) { return p.param.name; });

TEST(CheckSourceSyntax, AcceptsTheDocumentedForms) {
  EXPECT_EQ(parseCheckSource("outside")->kind, CheckSource::Kind::kOutside);
  EXPECT_EQ(parseCheckSource("shop/web")->name, "web");
  EXPECT_EQ(parseCheckSource("stolen:shop/web")->kind, CheckSource::Kind::kStolen);
  EXPECT_EQ(parseCheckSource("forged:cluster.local/ns/shop/sa/web")->spiffe_id, "spiffe://cluster.local/ns/shop/sa/web");
  EXPECT_FALSE(parseCheckSource("web").ok());
  EXPECT_FALSE(parseCheckSource("stolen:").ok());
  EXPECT_FALSE(parseCheckSource("forged:not a spiffe id").ok());
}

}  // namespace
}  // namespace meshsim::analysis
