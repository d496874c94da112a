// The istio-semantics.md case table (tests/support/istio_cases.h), run through real sidecars:
// real sockets on loopback, real TLS 1.3 handshakes with certificates from the mesh CA. Every
// observed outcome must equal the literal expectation and the prediction of `meshsim check`.
#include <gtest/gtest.h>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/engine.h"
#include "meshsim/proxy/loopback_data_plane.h"
#include "support/istio_cases.h"

namespace meshsim::proxy {
namespace {

using meshsim::testing::IstioCase;

class LiveCase : public ::testing::TestWithParam<IstioCase> {};

TEST_P(LiveCase, RealSidecarsDoWhatIstioDoes) {
  const IstioCase& c = GetParam();
  auto loaded = config::loadString(meshsim::testing::istioCaseYaml(c), "mesh.yaml");
  config::validateReferences(loaded.resources, loaded.diagnostics);
  ASSERT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  LoopbackOptions options;
  options.threads = 1;
  options.ingress = false;
  auto runtime = MeshRuntime::create(config::makeSnapshot(loaded.resources),
                                     std::make_unique<LoopbackDataPlane>(options));
  ASSERT_TRUE(runtime.ok()) << runtime.status().toString();
  ASSERT_TRUE((*runtime)->start().ok());

  analysis::CheckRequest req;
  auto from = analysis::parseCheckSource(c.from);
  ASSERT_TRUE(from.ok());
  req.from = *from;
  auto slash = c.to.find('/');
  req.to_namespace = c.to.substr(0, slash);
  req.to_service = c.to.substr(slash + 1);
  req.path = c.path;
  req.method = c.method;
  req.jwt = c.jwt;
  auto live = (*runtime)->checkLive(req);
  ASSERT_TRUE(live.ok()) << live.status().toString();
  const auto& o = live->observed;
  EXPECT_EQ(o.status, c.status) << o.body << " " << o.error;
  const bool answered_by_app = c.status >= 200 && c.status < 300;
  if (c.body != "*" && c.status != 0 && !answered_by_app) {
    EXPECT_EQ(o.body, c.body);
  }
  if (answered_by_app) {
    EXPECT_EQ(o.mtls, c.mtls);
    // HTTP apps answer with their identity; the TCP app (shop/db) echoes bytes.
    if (c.to != "shop/db") {
      EXPECT_FALSE(o.served_by.empty()) << "the app answered";
    }
  }
  if (c.flags != "*" && req.from.kind == analysis::CheckSource::Kind::kWorkload) {
    EXPECT_EQ(o.response_flags, c.flags);
  }
  std::string why;
  for (const auto& d : live->differences) why += "\n  " + d;
  EXPECT_TRUE(live->agree) << "prediction and observation differ:" << why;
}

INSTANTIATE_TEST_SUITE_P(Istio, LiveCase, ::testing::ValuesIn(meshsim::testing::istioCases()),
                         [](const ::testing::TestParamInfo<IstioCase>& p) { return p.param.name; });

}  // namespace
}  // namespace meshsim::proxy
