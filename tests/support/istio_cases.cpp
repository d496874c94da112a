#include "istio_cases.h"

namespace meshsim::testing {

using analysis::CheckJwt;

const char* const kIstioMesh = R"(
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

namespace {
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

using S = policy::Stage;
constexpr int kReset = policy::kStatusReset;
const CheckJwt kNoJwt{};
CheckJwt claims(const std::string& json) { return {CheckJwt::Kind::kClaims, "", json, ""}; }
CheckJwt invalid(const std::string& what) { return {CheckJwt::Kind::kInvalid, "", "", what}; }


}  // namespace

const std::vector<IstioCase>& istioCases() {
  static const std::vector<IstioCase> cases = {

        // Section 2: peer authentication and auto mTLS.
        IstioCase{"SidecarToSidecarDefaultsToMtls", {}, "shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        IstioCase{"OutsideClientIsServedPlaintextUnderPermissive", {}, "outside", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", false},
        IstioCase{"OutsideClientIsResetByStrict", {kStrict}, "outside", "shop/api", "/", "GET", kNoJwt, kReset, S::kPeerAuthn, "", false, "NR"},
        IstioCase{"SidecarClientStillWorksUnderStrict", {kStrict}, "shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        IstioCase{"SidecarToNoSidecarServerIsPlaintext", {kStrict}, "shop/web", "shop/legacy", "/", "GET", kNoJwt, 200, S::kNone, "", false},
        IstioCase{"DestinationRuleDisableToStrictServerIs503",
             {kStrict, "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {namespace: shop, name: api}\n"
                       "spec: {host: api, trafficPolicy: {tls: {mode: DISABLE}}}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 503, S::kTransport, "*", false},
        IstioCase{"DestinationRuleIstioMutualToNoSidecarIs503",
             {"apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {namespace: shop, name: legacy}\n"
              "spec: {host: legacy, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n"},
             "shop/web", "shop/legacy", "/", "GET", kNoJwt, 503, S::kTransport, "*", false},
        // Section 1: a stolen certificate is its owner; a forged one never gets past TLS.
        IstioCase{"StolenCertificateIsAuthorizedAsItsOwner", {kStrict, kWebOnly}, "stolen:shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        IstioCase{"ForgedCertificateIsRefusedBeforeHttp", {kWebOnly}, "forged:cluster.local/ns/shop/sa/web", "shop/api", "/", "GET", kNoJwt, kReset, S::kPeerAuthn, "", false},
        // Section 8 gotcha 1: PERMISSIVE + principal ALLOW denies plaintext with 403, not a reset.
        IstioCase{"PermissivePlaintextMeetsPrincipalAllowWith403", {kWebOnly}, "outside", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", false},
        IstioCase{"PrincipalAllowAdmitsTheNamedCaller", {kWebOnly}, "shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        IstioCase{"PrincipalAllowRefusesOtherCallers", {kWebOnly}, "shop/db-v1", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        // Section 4.3: allow-nothing and deny-all.
        IstioCase{"AllowNothingDeniesEverything",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: nothing}\nspec: {}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        IstioCase{"DenyAllBeatsAllowAll",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: all}\nspec: {rules: [{}]}\n",
              "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: deny}\nspec: {action: DENY, rules: [{}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        // Section 4.7 and 8 gotcha 9: normalization before matching.
        IstioCase{"DotSegmentsAreNormalizedBeforeDeny",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: no-admin}\n"
              "spec: {action: DENY, rules: [{to: [{operation: {paths: [\"/admin*\"]}}]}]}\n"},
             "shop/web", "shop/api", "/public/../admin/users", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        IstioCase{"DoubleSlashIsNotMergedUnderBase",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: no-admin}\n"
              "spec: {action: DENY, rules: [{to: [{operation: {paths: [\"/admin*\"]}}]}]}\n"},
             "shop/web", "shop/api", "//admin/users", "GET", kNoJwt, 200, S::kNone, "", true},
        IstioCase{"NulInPathIs400", {}, "shop/web", "shop/api", "/a%00b", "GET", kNoJwt, 400, S::kRequest, "*", true},
        IstioCase{"LowerCaseMethodIs400", {}, "shop/web", "shop/api", "/", "get", kNoJwt, 400, S::kRequest, "*", false},
        // Section 4.6 and 8 gotcha 5: HTTP fields on a TCP port.
        IstioCase{"AllowWithMethodsDeniesAllTcp",
             {"apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {namespace: shop, name: db}\n"
              "spec: {selector: {matchLabels: {app: db}}, rules: [{to: [{operation: {methods: [GET], ports: [\"5432\"]}}]}]}\n"},
             "shop/web", "shop/db", "/", "GET", kNoJwt, kReset, S::kAuthz, "", true},
        IstioCase{"TcpWithoutPoliciesIsAllowed", {}, "shop/web", "shop/db", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        // Section 5 / 6 / 7: routing refusals at the client sidecar.
        IstioCase{"NoMatchingRouteIs404",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{match: [{uri: {prefix: /v2}}], route: [{destination: {host: api}}]}]}\n"},
             "shop/web", "shop/api", "/v1/items", "GET", kNoJwt, 404, S::kRoute, "", false, "NR"},
        IstioCase{"UndefinedSubsetIs503NC",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{route: [{destination: {host: api, subset: v9}}]}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 503, S::kRoute, "*", false, "NC"},
        IstioCase{"SubsetWithoutEndpointsIs503UH",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{route: [{destination: {host: api, subset: v2}}]}]}\n",
              "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {namespace: shop, name: api}\n"
              "spec: {host: api, subsets: [{name: v2, labels: {version: v2}}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 503, S::kRoute, "no healthy upstream", false, "UH"},
        IstioCase{"FaultAbortAtHundredPercent",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{fault: {abort: {httpStatus: 418, percentage: {value: 100}}}, route: [{destination: {host: api}}]}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 418, S::kRoute, "fault filter abort", false, "FI"},
        IstioCase{"FaultWithoutPercentageNeverFires",
             {"apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {namespace: shop, name: api}\n"
              "spec: {hosts: [api], http: [{fault: {abort: {httpStatus: 418}}, route: [{destination: {host: api}}]}]}\n"},
             "shop/web", "shop/api", "/", "GET", kNoJwt, 200, S::kNone, "", true},
        // Section 3 and 8 gotchas 6-8: end-user JWT.
        IstioCase{"ValidTokenWithReadScopeIsAllowed", {kJwt}, "shop/web", "shop/api", "/", "GET", claims(R"({"sub":"alice","scope":"write read"})"), 200, S::kNone, "", true},
        IstioCase{"ValidTokenWithoutReadScopeIs403", {kJwt}, "shop/web", "shop/api", "/", "GET", claims(R"({"sub":"alice","scope":"write"})"), 403, S::kAuthz, "RBAC: access denied", true},
        IstioCase{"MissingTokenIs403ByAuthorization", {kJwt}, "shop/web", "shop/api", "/", "GET", kNoJwt, 403, S::kAuthz, "RBAC: access denied", true},
        IstioCase{"BadSignatureIs401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("signature"), 401, S::kJwt, "Jwt verification fails", true},
        IstioCase{"ExpiredTokenIs401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("expired"), 401, S::kJwt, "Jwt is expired", true},
        IstioCase{"MalformedTokenIs401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("malformed"), 401, S::kJwt,
             "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections", true},
        IstioCase{"UnknownIssuerIs401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("issuer"), 401, S::kJwt, "Jwt issuer is not configured", true},
        IstioCase{"WrongAudienceIs403NotA401", {kJwt}, "shop/web", "shop/api", "/", "GET", invalid("audience"), 403, S::kJwt, "Audiences in Jwt are not allowed", true}
  };
  return cases;
}

std::string istioCaseYaml(const IstioCase& c) {
  std::string text = kIstioMesh;
  for (const auto& e : c.extra) text += "---\n" + e;
  return text;
}

}  // namespace meshsim::testing
