// PeerAuthentication on the server side (istio-semantics.md section 2, gotchas 4, 10, 15).

#include "meshsim/policy/peer_authn.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "meshsim/policy/identity.h"

namespace meshsim::policy {
namespace {

/// Names each table row after its `name` field.
struct CaseName {
  template <typename T>
  std::string operator()(const ::testing::TestParamInfo<T>& row) const {
    return row.param.name;
  }
};

using model::MtlsMode;

model::PeerAuthentication pa(std::string ns, std::string name, MtlsMode mode,
                             model::StringMap selector = {}, int64_t created = 1,
                             std::map<uint32_t, MtlsMode> ports = {}) {
  model::PeerAuthentication p;
  p.meta.kind = "PeerAuthentication";
  p.meta.namespace_ = std::move(ns);
  p.meta.name = std::move(name);
  p.meta.creation_index = created;
  p.selector.match_labels = std::move(selector);
  p.selector.present = !p.selector.match_labels.empty();
  p.mode = mode;
  p.mtls_present = mode != MtlsMode::kUnset;
  p.port_level = std::move(ports);
  p.port_level_present = !p.port_level.empty();
  return p;
}

model::Workload workload(std::string ns = "foo", std::string name = "httpbin",
                         model::StringMap labels = {{"app", "httpbin"}},
                         std::string service = "httpbin") {
  model::Workload w;
  w.meta.kind = "Workload";
  w.meta.namespace_ = std::move(ns);
  w.meta.name = std::move(name);
  w.labels = std::move(labels);
  w.service = std::move(service);
  return w;
}

model::Service service8000to80(std::string ns = "foo", std::string name = "httpbin") {
  model::Service s;
  s.meta.kind = "Service";
  s.meta.namespace_ = std::move(ns);
  s.meta.name = std::move(name);
  s.ports.push_back({"http", 8000, 80, model::Protocol::kHttp});
  return s;
}

struct LevelCase {
  const char* name;
  std::vector<model::PeerAuthentication> policies;
  std::optional<uint32_t> port;
  MtlsMode mode;
  PeerAuthnLevel level;
  std::string policy;
  size_t ignored;
};

class PeerAuthnLevels : public ::testing::TestWithParam<LevelCase> {};

TEST_P(PeerAuthnLevels, Resolves) {
  const auto& c = GetParam();
  std::vector<model::Resource> resources;
  for (const auto& p : c.policies) resources.emplace_back(p);
  resources.emplace_back(workload());
  resources.emplace_back(service8000to80());
  auto snap = config::makeSnapshot(std::move(resources));
  const auto* w = snap->findWorkload("foo", "httpbin");
  ASSERT_NE(w, nullptr);
  const EffectivePeerAuthn e = effectivePeerAuthn(*snap, *w, c.port);
  EXPECT_EQ(e.mode, c.mode) << model::mtlsModeName(e.mode);
  EXPECT_EQ(e.level, c.level) << peerAuthnLevelName(e.level);
  EXPECT_EQ(e.policy, c.policy);
  EXPECT_EQ(e.ignored.size(), c.ignored);
  EXPECT_FALSE(e.trace.empty());
}

const model::StringMap kApp = {{"app", "httpbin"}};

INSTANTIATE_TEST_SUITE_P(
    PeerAuthn, PeerAuthnLevels,
    ::testing::Values(
        // "Default when nothing applies: PERMISSIVE."
        LevelCase{"NothingIsPermissive",
                  {},
                  std::nullopt,
                  MtlsMode::kPermissive,
                  PeerAuthnLevel::kDefault,
                  "",
                  0},
        LevelCase{"MeshStrict",
                  {pa("istio-system", "default", MtlsMode::kStrict)},
                  std::nullopt,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kMesh,
                  "istio-system/default",
                  0},
        // "at mesh level UNSET == PERMISSIVE"
        LevelCase{"MeshUnsetIsPermissive",
                  {pa("istio-system", "default", MtlsMode::kUnset)},
                  std::nullopt,
                  MtlsMode::kPermissive,
                  PeerAuthnLevel::kDefault,
                  "",
                  0},
        LevelCase{"NamespaceOverridesMesh",
                  {pa("istio-system", "default", MtlsMode::kStrict),
                   pa("foo", "ns-wide", MtlsMode::kPermissive)},
                  std::nullopt,
                  MtlsMode::kPermissive,
                  PeerAuthnLevel::kNamespace,
                  "foo/ns-wide",
                  0},
        LevelCase{"NamespaceUnsetInheritsMesh",
                  {pa("istio-system", "default", MtlsMode::kStrict),
                   pa("foo", "ns-wide", MtlsMode::kUnset)},
                  std::nullopt,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kMesh,
                  "istio-system/default",
                  0},
        LevelCase{"WorkloadOverridesNamespace",
                  {pa("foo", "ns-wide", MtlsMode::kStrict),
                   pa("foo", "httpbin", MtlsMode::kDisable, kApp)},
                  std::nullopt,
                  MtlsMode::kDisable,
                  PeerAuthnLevel::kWorkload,
                  "foo/httpbin",
                  0},
        LevelCase{
            "WorkloadUnsetInheritsNamespace",
            {pa("foo", "ns-wide", MtlsMode::kStrict), pa("foo", "httpbin", MtlsMode::kUnset, kApp)},
            std::nullopt,
            MtlsMode::kStrict,
            PeerAuthnLevel::kNamespace,
            "foo/ns-wide",
            0},
        LevelCase{"SelectorNotMatchingIsNotApplied",
                  {pa("foo", "ns-wide", MtlsMode::kStrict),
                   pa("foo", "other", MtlsMode::kDisable, {{"app", "other"}})},
                  std::nullopt,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kNamespace,
                  "foo/ns-wide",
                  0},
        LevelCase{"OtherNamespaceIgnored",
                  {pa("bar", "ns-wide", MtlsMode::kStrict)},
                  std::nullopt,
                  MtlsMode::kPermissive,
                  PeerAuthnLevel::kDefault,
                  "",
                  0},
        // gotcha 15: "Multiple namespace-wide PeerAuthentications: oldest wins silently."
        LevelCase{"OldestNamespacePolicyWins",
                  {pa("foo", "younger", MtlsMode::kDisable, {}, 5),
                   pa("foo", "older", MtlsMode::kStrict, {}, 2)},
                  std::nullopt,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kNamespace,
                  "foo/older",
                  1},
        LevelCase{"SameAgeTieBrokenByName",
                  {pa("foo", "b-policy", MtlsMode::kDisable, {}, 3),
                   pa("foo", "a-policy", MtlsMode::kStrict, {}, 3)},
                  std::nullopt,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kNamespace,
                  "foo/a-policy",
                  1},
        LevelCase{"OldestMeshPolicyWins",
                  {pa("istio-system", "new", MtlsMode::kPermissive, {}, 9),
                   pa("istio-system", "old", MtlsMode::kStrict, {}, 1)},
                  std::nullopt,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kMesh,
                  "istio-system/old",
                  1},
        LevelCase{"OldestWorkloadPolicyWins",
                  {pa("foo", "w-new", MtlsMode::kPermissive, kApp, 9),
                   pa("foo", "w-old", MtlsMode::kDisable, kApp, 4)},
                  std::nullopt,
                  MtlsMode::kDisable,
                  PeerAuthnLevel::kWorkload,
                  "foo/w-old",
                  1},
        // gotcha 10: "Root-namespace PeerAuthentication with selector is ignored".
        LevelCase{"RootNamespaceSelectorIgnored",
                  {pa("istio-system", "sel", MtlsMode::kStrict, kApp)},
                  std::nullopt,
                  MtlsMode::kPermissive,
                  PeerAuthnLevel::kDefault,
                  "",
                  1},
        // gotcha 4: portLevelMtls keyed by the workload port (Service 8000 -> container 80).
        LevelCase{"PortLevelByTargetPort",
                  {pa("foo", "ns-wide", MtlsMode::kStrict),
                   pa("foo", "httpbin", MtlsMode::kStrict, kApp, 1, {{80, MtlsMode::kDisable}})},
                  80u,
                  MtlsMode::kDisable,
                  PeerAuthnLevel::kPort,
                  "foo/httpbin",
                  0},
        LevelCase{"PortLevelOnServicePortHasNoEffect",
                  {pa("foo", "httpbin", MtlsMode::kStrict, kApp, 1, {{8000, MtlsMode::kDisable}})},
                  80u,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kWorkload,
                  "foo/httpbin",
                  0},
        LevelCase{"PortLevelWithoutInboundChainHasNoEffect",
                  {pa("foo", "httpbin", MtlsMode::kStrict, kApp, 1, {{8000, MtlsMode::kDisable}})},
                  8000u,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kWorkload,
                  "foo/httpbin",
                  0},
        LevelCase{"PortLevelOtherPortUnaffected",
                  {pa("foo", "httpbin", MtlsMode::kStrict, kApp, 1, {{80, MtlsMode::kDisable}})},
                  std::nullopt,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kWorkload,
                  "foo/httpbin",
                  0},
        // "UNSET in portLevelMtls[p] inherits the workload level result".
        LevelCase{"PortLevelUnsetInheritsWorkload",
                  {pa("istio-system", "default", MtlsMode::kStrict),
                   pa("foo", "httpbin", MtlsMode::kUnset, kApp, 1, {{80, MtlsMode::kUnset}})},
                  80u,
                  MtlsMode::kStrict,
                  PeerAuthnLevel::kMesh,
                  "istio-system/default",
                  0}),
    CaseName());

TEST(PeerAuthn, IgnoredPoliciesAreReportedWithReasons) {
  std::vector<model::Resource> resources;
  resources.emplace_back(pa("istio-system", "sel", MtlsMode::kStrict, kApp, 1));
  resources.emplace_back(pa("foo", "first", MtlsMode::kStrict, {}, 1));
  resources.emplace_back(pa("foo", "second", MtlsMode::kDisable, {}, 2));
  resources.emplace_back(workload());
  auto snap = config::makeSnapshot(std::move(resources));
  const EffectivePeerAuthn e = effectivePeerAuthn(*snap, *snap->findWorkload("foo", "httpbin"));
  ASSERT_EQ(e.ignored.size(), 2u);
  EXPECT_EQ(e.ignored[0].policy, "istio-system/sel");
  EXPECT_NE(e.ignored[0].why.find("root namespace"), std::string::npos);
  EXPECT_EQ(e.ignored[1].policy, "foo/second");
  EXPECT_NE(e.ignored[1].why.find("oldest"), std::string::npos);
  EXPECT_EQ(e.trace.back(), "effective: STRICT (namespace foo/first)");
}

TEST(PeerAuthn, WorkloadInRootNamespaceUsesRootPolicyAsMeshLevel) {
  model::Workload gw = workload("istio-system", "ingress", {{"istio", "ingressgateway"}}, "");
  const auto mesh = pa("istio-system", "default", MtlsMode::kStrict);
  const auto sel = pa("istio-system", "gw", MtlsMode::kDisable, {{"istio", "ingressgateway"}});
  const std::vector<const model::PeerAuthentication*> policies = {&mesh, &sel};
  const EffectivePeerAuthn e = resolvePeerAuthn(policies, "istio-system", gw, std::nullopt, {});
  EXPECT_EQ(e.mode, MtlsMode::kStrict);
  EXPECT_EQ(e.level, PeerAuthnLevel::kMesh);
  EXPECT_EQ(e.ignored.size(), 1u);
}

TEST(PeerAuthn, EmptyMatchLabelsIsNamespaceWide) {
  auto p = pa("foo", "empty-selector", MtlsMode::kStrict);
  p.selector.present = true;  // `selector: {matchLabels: {}}`
  const std::vector<const model::PeerAuthentication*> policies = {&p};
  const EffectivePeerAuthn e =
      resolvePeerAuthn(policies, "istio-system", workload(), std::nullopt, {});
  EXPECT_EQ(e.level, PeerAuthnLevel::kNamespace);
  EXPECT_EQ(e.mode, MtlsMode::kStrict);
}

TEST(PeerAuthn, InboundPortsComeFromTheWorkloadService) {
  std::vector<model::Resource> resources;
  resources.emplace_back(workload());
  resources.emplace_back(service8000to80());
  auto snap = config::makeSnapshot(std::move(resources));
  EXPECT_EQ(workloadInboundPorts(*snap, *snap->findWorkload("foo", "httpbin")),
            (std::vector<uint32_t>{80}));
  const model::Workload client = workload("foo", "sleep", {{"app", "sleep"}}, "");
  EXPECT_TRUE(workloadInboundPorts(*snap, client).empty());
}

// ---------------------------------------------------------------- wire behaviour

struct WireCase {
  const char* name;
  MtlsMode mode;
  ClientTransport transport;
  ServerAcceptance acceptance;
  int status;
  Stage stage;
  int sidecar_status;
};

class ServerAcceptanceTable : public ::testing::TestWithParam<WireCase> {};

TEST_P(ServerAcceptanceTable, Decides) {
  const auto& c = GetParam();
  const auto id = peerIdentityFor("cluster.local", "foo", "sleep");
  const ServerConnectionOutcome o = serverAcceptance(c.mode, c.transport, id);
  EXPECT_EQ(o.acceptance, c.acceptance) << serverAcceptanceName(o.acceptance);
  EXPECT_EQ(o.decision.status, c.status);
  EXPECT_EQ(o.decision.stage, c.stage);
  EXPECT_EQ(o.sidecar_client_status, c.sidecar_status);
  EXPECT_EQ(o.peer.has_value(), c.acceptance == ServerAcceptance::kAcceptedWithIdentity);
  EXPECT_EQ(o.mtls, c.acceptance == ServerAcceptance::kAcceptedWithIdentity);
}

constexpr int kOk = 200;

INSTANTIATE_TEST_SUITE_P(
    ServerAcceptance, ServerAcceptanceTable,
    ::testing::Values(
        WireCase{"StrictMtls", MtlsMode::kStrict, ClientTransport::kMeshMtls,
                 ServerAcceptance::kAcceptedWithIdentity, kOk, Stage::kNone, 0},
        // "STRICT + plaintext client ... TCP connection closed/reset"; sidecar client "503".
        WireCase{"StrictPlaintext", MtlsMode::kStrict, ClientTransport::kPlaintext,
                 ServerAcceptance::kReset, kStatusReset, Stage::kPeerAuthn, 503},
        // "A self-made cert ... fails the handshake (connection closed before HTTP)".
        WireCase{"StrictForged", MtlsMode::kStrict, ClientTransport::kUntrustedCertificate,
                 ServerAcceptance::kReset, kStatusReset, Stage::kPeerAuthn, 503},
        WireCase{"PermissiveMtls", MtlsMode::kPermissive, ClientTransport::kMeshMtls,
                 ServerAcceptance::kAcceptedWithIdentity, kOk, Stage::kNone, 0},
        // "PERMISSIVE: both succeed; plaintext requests carry no principal".
        WireCase{"PermissivePlaintext", MtlsMode::kPermissive, ClientTransport::kPlaintext,
                 ServerAcceptance::kAcceptedWithoutIdentity, kOk, Stage::kNone, 0},
        WireCase{"PermissiveForged", MtlsMode::kPermissive, ClientTransport::kUntrustedCertificate,
                 ServerAcceptance::kReset, kStatusReset, Stage::kPeerAuthn, 503},
        WireCase{"UnsetBehavesPermissive", MtlsMode::kUnset, ClientTransport::kPlaintext,
                 ServerAcceptance::kAcceptedWithoutIdentity, kOk, Stage::kNone, 0},
        WireCase{"DisablePlaintext", MtlsMode::kDisable, ClientTransport::kPlaintext,
                 ServerAcceptance::kAcceptedWithoutIdentity, kOk, Stage::kNone, 0},
        // "DISABLE + client sidecar forced to send mTLS -> 400 DPE at the server, client app
        // gets 503".
        WireCase{"DisableMtls", MtlsMode::kDisable, ClientTransport::kMeshMtls,
                 ServerAcceptance::kTlsReadAsHttp, kStatusReset, Stage::kPeerAuthn, 503},
        WireCase{"DisableForged", MtlsMode::kDisable, ClientTransport::kUntrustedCertificate,
                 ServerAcceptance::kTlsReadAsHttp, kStatusReset, Stage::kPeerAuthn, 503}),
    CaseName());

TEST(ServerAcceptance, RefusalsCarryEnvoySignals) {
  const auto strict = serverAcceptance(MtlsMode::kStrict, ClientTransport::kPlaintext);
  EXPECT_EQ(strict.server_detail, "NR filter_chain_not_found");
  EXPECT_NE(strict.decision.reason.find("STRICT"), std::string::npos);
  EXPECT_NE(strict.decision.reason.find("NR filter_chain_not_found"), std::string::npos);
  EXPECT_EQ(strict.sidecar_client_body.rfind("upstream connect error or disconnect/reset before "
                                             "headers",
                                             0),
            0u);

  const auto disable = serverAcceptance(MtlsMode::kDisable, ClientTransport::kMeshMtls);
  EXPECT_EQ(disable.server_detail, "DPE");
  EXPECT_NE(disable.sidecar_client_body.find("WRONG_VERSION_NUMBER"), std::string::npos);

  const auto ok = serverAcceptance(MtlsMode::kStrict, ClientTransport::kMeshMtls,
                                   peerIdentityFor("cluster.local", "foo", "sleep"));
  ASSERT_TRUE(ok.peer.has_value());
  EXPECT_EQ(ok.peer->principal, "cluster.local/ns/foo/sa/sleep");
  EXPECT_TRUE(ok.decision.mtls);
  EXPECT_STREQ(clientTransportName(ClientTransport::kUntrustedCertificate),
               "untrusted certificate");
}

}  // namespace
}  // namespace meshsim::policy
