// What the client sidecar sends to an endpoint (istio-semantics.md section 2 "client side",
// section 7 and section 8 gotcha 11).

#include "meshsim/routing/client_tls.h"

#include <gtest/gtest.h>

#include "routing_fixtures.h"

namespace meshsim::routing {
namespace {

using model::MtlsMode;
using model::TlsMode;

constexpr const char* kReset =
    "upstream connect error or disconnect/reset before headers. reset reason: connection "
    "termination";

EffectiveTrafficPolicy withTls(std::optional<TlsMode> mode) {
  EffectiveTrafficPolicy p;
  p.destination_rule = "bookinfo/reviews";
  if (mode) {
    p.tls = testing::tls(*mode);
    p.tls_source = "top-level";
  }
  return p;
}

struct TransportCase {
  const char* name;
  std::optional<TlsMode> dr_tls;  // nullopt = no tls block (auto mTLS)
  bool server_sidecar;
  MtlsMode server_mode;
  bool sends_mtls;
  bool explicit_dr;
  TransportOutcome outcome;
  int status;
  std::string flags;
};

class ClientTransportTable : public ::testing::TestWithParam<TransportCase> {};

TEST_P(ClientTransportTable, Outcome) {
  const auto& c = GetParam();
  const ClientTransport t =
      clientTransport(withTls(c.dr_tls), c.server_sidecar, c.server_mode, true);
  EXPECT_EQ(t.sends_mtls, c.sends_mtls) << t.reason;
  EXPECT_EQ(t.explicit_dr, c.explicit_dr);
  EXPECT_EQ(t.outcome, c.outcome) << t.reason;
  EXPECT_EQ(t.status, c.status);
  EXPECT_EQ(t.flags, c.flags);
  EXPECT_FALSE(t.reason.empty());
  // What a sidecar asks per request: the same decision, without the sentence.
  const ClientTransport quiet = clientTransport(withTls(c.dr_tls), c.server_sidecar, c.server_mode);
  EXPECT_EQ(quiet.sends_tls, t.sends_tls);
  EXPECT_EQ(quiet.sends_mtls, t.sends_mtls);
  EXPECT_EQ(quiet.outcome, t.outcome);
  EXPECT_EQ(quiet.body, t.body);
  EXPECT_TRUE(quiet.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Section2, ClientTransportTable,
    ::testing::Values(
        // "STRICT mesh + sidecar client -> sidecar server works".
        TransportCase{"AutoMtlsToStrictSidecar", std::nullopt, true, MtlsMode::kStrict, true, false,
                      TransportOutcome::kOk, 0, ""},
        TransportCase{"AutoMtlsToPermissiveSidecar", std::nullopt, true, MtlsMode::kPermissive,
                      true, false, TransportOutcome::kOk, 0, ""},
        TransportCase{"AutoMtlsUnsetCountsAsPermissive", std::nullopt, true, MtlsMode::kUnset, true,
                      false, TransportOutcome::kOk, 0, ""},
        // "unless the endpoint's effective PeerAuthentication for that port is DISABLE".
        TransportCase{"AutoMtlsPlaintextToDisableSidecar", std::nullopt, true, MtlsMode::kDisable,
                      false, false, TransportOutcome::kOk, 0, ""},
        // "sidecar client -> non-sidecar server works (plaintext)".
        TransportCase{"AutoMtlsPlaintextToNoSidecar", std::nullopt, false, MtlsMode::kStrict, false,
                      false, TransportOutcome::kOk, 0, ""},
        // "A DR that exists but has no tls block does not disable mTLS under auto mTLS".
        TransportCase{"DrWithoutTlsKeepsAutoMtls", TlsMode::kUnset, true, MtlsMode::kStrict, true,
                      false, TransportOutcome::kOk, 0, ""},
        // "DISABLE forces plaintext even to STRICT servers (-> 503)".
        TransportCase{"DrDisableToStrictIs503", TlsMode::kDisable, true, MtlsMode::kStrict, false,
                      true, TransportOutcome::kResetByServer, 503, "UC"},
        TransportCase{"DrDisableToPermissiveWorks", TlsMode::kDisable, true, MtlsMode::kPermissive,
                      false, true, TransportOutcome::kOk, 0, ""},
        TransportCase{"DrDisableToNoSidecarWorks", TlsMode::kDisable, false, MtlsMode::kStrict,
                      false, true, TransportOutcome::kOk, 0, ""},
        // "ISTIO_MUTUAL forces mesh mTLS even to servers without sidecar (-> 503)".
        TransportCase{"DrIstioMutualToNoSidecarIs503", TlsMode::kIstioMutual, false,
                      MtlsMode::kStrict, true, true, TransportOutcome::kTlsError, 503, "UF"},
        // Gotcha 11: "Workload-level PA DISABLE + explicit DR ISTIO_MUTUAL -> 503".
        TransportCase{"DrIstioMutualToDisableSidecarIs503", TlsMode::kIstioMutual, true,
                      MtlsMode::kDisable, true, true, TransportOutcome::kTlsError, 503, "UF"},
        TransportCase{"DrIstioMutualToStrictWorks", TlsMode::kIstioMutual, true, MtlsMode::kStrict,
                      true, true, TransportOutcome::kOk, 0, ""},
        TransportCase{"DrIstioMutualToPermissiveWorks", TlsMode::kIstioMutual, true,
                      MtlsMode::kPermissive, true, true, TransportOutcome::kOk, 0, ""},
        TransportCase{"DrSimpleToSidecarHandshakeFails", TlsMode::kSimple, true, MtlsMode::kStrict,
                      false, true, TransportOutcome::kTlsError, 503, "UF"},
        TransportCase{"DrSimpleToPlainAppFails", TlsMode::kSimple, false, MtlsMode::kStrict, false,
                      true, TransportOutcome::kTlsError, 503, "UF"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(ClientTransport, BodiesOfTheTwoFailures) {
  const auto reset = clientTransport(withTls(TlsMode::kDisable), true, MtlsMode::kStrict, true);
  EXPECT_EQ(reset.body, kReset);
  const auto tls_error =
      clientTransport(withTls(TlsMode::kIstioMutual), true, MtlsMode::kDisable, true);
  EXPECT_EQ(tls_error.body.find("upstream connect error or disconnect/reset before headers. "
                                "reset reason: connection failure, transport failure reason: "
                                "TLS error"),
            0u);
  EXPECT_NE(tls_error.reason.find("bookinfo/reviews"), std::string::npos) << tls_error.reason;
}

TEST(ClientTransport, PortLevelTlsOfTheDestinationRuleDecides) {
  auto d = testing::destinationRule("bookinfo", "reviews", "reviews");
  model::TrafficPolicy top;
  model::TrafficPolicy::PortSettings ps;
  ps.port = 9080;
  ps.tls = testing::tls(TlsMode::kDisable);
  top.port_level_settings.push_back(ps);
  d.traffic_policy = top;
  const auto on_9080 = effectiveTrafficPolicy(&d, "", 9080, "bookinfo/reviews");
  const auto on_9090 = effectiveTrafficPolicy(&d, "", 9090, "bookinfo/reviews");
  EXPECT_EQ(clientTransport(on_9080, true, MtlsMode::kStrict).status, 503);
  const auto t = clientTransport(on_9090, true, MtlsMode::kStrict, true);
  EXPECT_TRUE(t.ok());
  EXPECT_TRUE(t.sends_mtls);
}

}  // namespace
}  // namespace meshsim::routing
