// The whole request path of `meshsim check`, case by case, with the outcomes that
// shared/reference/istio-semantics.md states (sections 2, 3, 4, 5, 7 and 8).
#include "meshsim/analysis/check.h"

#include <gtest/gtest.h>

#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/policy/jwt.h"

namespace meshsim::analysis {
namespace {

// A small mesh: web (client), api (HTTP, Service port 8000 -> container 80), db (TCP 5432),
// legacy (no sidecar), an identity provider, and api subsets v1/v2.
constexpr const char* kMesh = R"(
apiVersion: meshsim/v1
kind: Cluster
metadata: {name: c1}
---
apiVersion: meshsim/v1
kind: IdentityProvider
metadata: {name: idp}
spec:
  issuer: https://idp.example
  audiences: [api]
  users: [{subject: alice, claims: {scope: read}}]
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: api}
spec: {ports: [{name: http, port: 8000, targetPort: 80}]}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: db}
spec: {ports: [{name: pg, port: 5432, protocol: TCP}]}
---
apiVersion: meshsim/v1
kind: Service
metadata: {namespace: shop, name: legacy}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: web}
spec: {cluster: c1, serviceAccount: web, labels: {app: web}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: api-v1}
spec: {service: api, cluster: c1, serviceAccount: api, labels: {app: api, version: v1}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: db-v1}
spec: {service: db, cluster: c1, serviceAccount: db, labels: {app: db}}
---
apiVersion: meshsim/v1
kind: Workload
metadata: {namespace: shop, name: legacy-v1}
spec: {service: legacy, cluster: c1, sidecar: false, labels: {app: legacy}}
)";

constexpr const char* kStrict = R"(
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {namespace: istio-system, name: default}
spec: {mtls: {mode: STRICT}}
)";

constexpr const char* kWebOnly = R"(
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: shop, name: api-from-web}
spec:
  selector: {matchLabels: {app: api}}
  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/web]}}]}]
)";

constexpr const char* kJwt = R"(
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {namespace: shop, name: api-jwt}
spec:
  selector: {matchLabels: {app: api}}
  jwtRules: [{issuer: https://idp.example, audiences: [api], jwksUri: "meshsim://idp/idp"}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {namespace: shop, name: api-read}
spec:
  selector: {matchLabels: {app: api}}
  rules:
  - from: [{source: {requestPrincipals: ["*"]}}]
    when: [{key: "request.auth.claims[scope]", values: [read]}]
)";

struct Case {
  std::string name;
  std::vector<std::string> extra;  // YAML documents added to kMesh
  std::string from;
  std::string to;
  std::string path = "/";
  std::string method = "GET";
  CheckJwt jwt;
  int status;           // expected status (policy::kStatusReset = 0)
  policy::Stage stage;  // expected deciding stage
  std::string body;     // expected body ("*" = don't care)
  bool mtls;            // expected hop security
  std::string flags = "*";
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

class CheckCase : public ::testing::TestWithParam<Case> {};

TEST_P(CheckCase, MatchesIstio) {
  const Case& c = GetParam();
  std::string text = kMesh;
  for (const auto& e : c.extra) text += "---\n" + e;
  auto loaded = config::loadString(text, "mesh.yaml");
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

using S = policy::Stage;
constexpr int kReset = policy::kStatusReset;
const CheckJwt kNoJwt{};
CheckJwt claims(const std::string& json) { return {CheckJwt::Kind::kClaims, "", json, ""}; }
CheckJwt invalid(const std::string& what) { return {CheckJwt::Kind::kInvalid, "", "", what}; }

INSTANTIATE_TEST_SUITE_P(
    Istio, CheckCase,
    ::testing::Values(
        // Section 2: peer authentication and auto mTLS.
        Case{"SidecarToSidecarDefaultsToMtls", {}, "shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        Case{"OutsideClientIsServedPlaintextUnderPermissive", {}, "outside", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", false},
        Case{"OutsideClientIsResetByStrict", {kStrict}, "outside", "shop/api", "/", "GET", kNoJwt, kReset, S::kPeerAuthn, "", false, "NR"},
        Case{"SidecarClientStillWorksUnderStrict", {kStrict}, "shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        Case{"SidecarToNoSidecarServerIsPlaintext", {kStrict}, "shop/web", "shop/legacy", "/", "GET", kNoJwt, 200, S::kNone, "", false},
        Case{"DestinationRuleDisableToStrictServerIs503",
             {kStrict, "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {namespace: shop, name: api}\n"
                       "spec: {host: api, trafficPolicy: {tls: {mode: DISABLE}}}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 503, S::kTransport, "*", false},
        Case{"DestinationRuleIstioMutualToNoSidecarIs503",
             {"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {namespace: shop, name: legacy}\n"
              "spec: {host: legacy, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n"},
             "shop/web", "shop/legacy", "/", "GET", kNoJwt, 503, S::kTransport, "*", false},
        // Section 1: a stolen certificate is its owner; a forged one never gets past TLS.
        Case{"StolenCertificateIsAuthorizedAsItsOwner", {kStrict, kWebOnly}, "stolen:shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        Case{"ForgedCertificateIsRefusedBeforeHttp", {kWebOnly}, "forged:cluster.local/ns/shop/sa/web", "shop/api", "/", "GET", kNoJwt, kReset, S::kPeerAuthn, "", false},
        // Section 8 gotcha 1: PERMISSIVE + principal ALLOW denies plaintext with 403, not a reset.
        Case{"PermissivePlaintextMeetsPrincipalAllowWith403", {kWebOnly}, "outside", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", false},
        Case{"PrincipalAllowAdmitsTheNamedCaller", {kWebOnly}, "shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        Case{"PrincipalAllowRefusesOtherCallers", {kWebOnly}, "shop/db-v1", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        // Section 4.3: allow-nothing and deny-all.
        Case{"AllowNothingDeniesEverything",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: nothing}\nspec: {}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        Case{"DenyAllBeatsAllowAll",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: all}\nspec: {rules: [{}]}\n",
              "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: deny}\nspec: {action: DENY, rules: [{}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        // Section 4.7 and 8 gotcha 9: normalization before matching.
        Case{"DotSegmentsAreNormalizedBeforeDeny",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: no-admin}\n"
              "spec: {action: DENY, rules: [{to: [{operation: {paths: [\"/admin*\"]}}]}]}\n"},
             "shop/web", "shop/api", "/public/../admin/users", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        Case{"DoubleSlashIsNotMergedUnderBase",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: no-admin}\n"
              "spec: {action: DENY, rules: [{to: [{operation: {paths: [\"/admin*\"]}}]}]}\n"},
             "shop/web", "shop/api", "//admin/users", "GET", kNoJwt, 200, S::kNone, "", true},
        Case{"NulInPathIs400", {}, "shop/web", "shop/api", "/a%00b", "GET", kNoJwt, 400, S::kRequest, "*", true},
        Case{"LowerCaseMethodIs400", {}, "shop/web", "shop/api", "/", "get", kNoJwt, 400, S::kRequest, "*", false},
        // Section 4.6 and 8 gotcha 5: HTTP fields on a TCP port.
        Case{"AllowWithMethodsDeniesAllTcp",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: db}\n"
              "spec: {selector: {matchLabels: {app: db}}, rules: [{to: [{operation: {methods: [GET], ports: [\"5432\"]}}]}]}\n"},
             "shop/web", "shop/db", "/", "GET", kNoJwt, kReset, S::kAuthz, "", true},
        Case{"TcpWithoutPoliciesIsAllowed", {}, "shop/web", "shop/db", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        // Section 5 / 6 / 7: routing refusals at the client sidecar.
        Case{"NoMatchingRouteIs404",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{match: [{uri: {prefix: /v2}}], route: [{destination: {host: api}}]}]}\n"},
             "shop/web", "shop/api", "/v1/items", "GET", kNoJwt, 404, S::kRoute, "", false, "NR"},
        Case{"UndefinedSubsetIs503NC",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{route: [{destination: {host: api, subset: v9}}]}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 503, S::kRoute, "*", false, "NC"},
        Case{"SubsetWithoutEndpointsIs503UH",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{route: [{destination: {host: api, subset: v2}}]}]}\n",
              "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {namespace: shop, name: api}\n"
              "spec: {host: api, subsets: [{name: v2, labels: {version: v2}}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 503, S::kRoute, "no healthy upstream", false, "UH"},
        Case{"FaultAbortAtHundredPercent",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{fault: {abort: {httpStatus: 418, percentage: {value: 100}}}, route: [{destination: {host: api}}]}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 418, S::kRoute, "fault filter abort", false, "FI"},
        Case{"FaultWithoutPercentageNeverFires",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{fault: {abort: {httpStatus: 418}}, route: [{destination: {host: api}}]}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        // Section 3 and 8 gotchas 6-8: end-user JWT.
        Case{"ValidTokenWithReadScopeIsAllowed", {kJwt}, "shop/web", "shop/api", "/", "GET", claims(R"({"sub":"alice","scope":"write read"})"), 200, S::kNone, "", true},
        Case{"ValidTokenWithoutReadScopeIs403", {kJwt}, "shop/web", "shop/api", "/", "GET", claims(R"({"sub":"alice","scope":"write"})"), 403, S::kAuthz, "RBAC: access denied", true},
        Case{"MissingTokenIs403ByAuthorization", {kJwt}, "shop/web", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        Case{"BadSignatureIs401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("signature"), 401, S::kJwt, "Jwt verification fails", true},
        Case{"ExpiredTokenIs401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("expired"), 401, S::kJwt, "Jwt is expired", true},
        Case{"MalformedTokenIs401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("malformed"), 401, S::kJwt,
             "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections", true},
        Case{"UnknownIssuerIs401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("issuer"), 401, S::kJwt, "Jwt issuer is not configured", true},
        Case{"WrongAudienceIs403NotA401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("audience"), 403, S::kJwt, "Audiences in Jwt are not allowed", true}),
    [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

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
