// AuthorizationPolicy selection, compilation and evaluation (istio-semantics.md section 4 and the
// gotchas of section 8). Expected outcomes are written literally from the reference.

#include "meshsim/policy/authz.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "meshsim/policy/identity.h"
#include "meshsim/policy/path.h"

namespace meshsim::policy {
namespace {

/// Names each table row after its `name` field.
struct CaseName {
  template <typename T>
  std::string operator()(const ::testing::TestParamInfo<T>& row) const {
    return row.param.name;
  }
};

using model::AuthorizationPolicy;
using model::AuthzAction;
using model::AuthzCondition;
using model::AuthzRule;
using Src = model::AuthzSource;
using Op = model::AuthzOperation;

// ---------------------------------------------------------------- builders

AuthorizationPolicy policy(std::string name, AuthzAction action, std::vector<AuthzRule> rules,
                           std::string ns = "foo") {
  AuthorizationPolicy p;
  p.meta.kind = "AuthorizationPolicy";
  p.meta.namespace_ = std::move(ns);
  p.meta.name = std::move(name);
  p.action = action;
  p.rules_present = !rules.empty();
  p.rules = std::move(rules);
  return p;
}
AuthorizationPolicy allowP(std::string name, std::vector<AuthzRule> rules, std::string ns = "foo") {
  return policy(std::move(name), AuthzAction::kAllow, std::move(rules), std::move(ns));
}
AuthorizationPolicy denyP(std::string name, std::vector<AuthzRule> rules) {
  return policy(std::move(name), AuthzAction::kDeny, std::move(rules));
}
AuthorizationPolicy auditP(std::string name, std::vector<AuthzRule> rules) {
  return policy(std::move(name), AuthzAction::kAudit, std::move(rules));
}
AuthorizationPolicy customP(std::string name, std::string provider, std::vector<AuthzRule> rules) {
  auto p = policy(std::move(name), AuthzAction::kCustom, std::move(rules));
  p.provider = std::move(provider);
  return p;
}
AuthorizationPolicy dryRun(AuthorizationPolicy p) {
  p.dry_run = true;
  p.meta.annotations["istio.io/dry-run"] = "true";
  return p;
}

AuthzRule anyRule() { return AuthzRule{}; }
AuthzRule from(std::vector<Src> sources) {
  AuthzRule r;
  r.from = std::move(sources);
  return r;
}
AuthzRule to(std::vector<Op> ops) {
  AuthzRule r;
  r.to = std::move(ops);
  return r;
}
AuthzRule fromTo(std::vector<Src> sources, std::vector<Op> ops) {
  AuthzRule r;
  r.from = std::move(sources);
  r.to = std::move(ops);
  return r;
}
AuthzRule when(std::vector<AuthzCondition> conditions) {
  AuthzRule r;
  r.when = std::move(conditions);
  return r;
}
AuthzCondition cond(std::string key, std::vector<std::string> values,
                    std::vector<std::string> not_values = {}) {
  AuthzCondition c;
  c.key = std::move(key);
  c.values = std::move(values);
  c.not_values = std::move(not_values);
  return c;
}

/// A request from foo/sleep (mTLS) to httpbin.foo, workload port 80, GET /.
struct Req {
  RequestAttributes r;
  Req() {
    r.http = true;
    r.peer = peerIdentityFor("cluster.local", "foo", "sleep");
    r.source_ip = "10.0.0.5";
    r.destination_ip = "10.0.1.7";
    r.destination_port = 80;
    r.host = "httpbin.foo";
    r.method = "GET";
    r.path = "/";
  }
  Req& plaintext() {
    r.peer.reset();
    return *this;
  }
  Req& peer(std::string principal) {
    r.peer = *parsePrincipal(principal);
    return *this;
  }
  Req& tcp(uint32_t port) {
    r.http = false;
    r.destination_port = port;
    r.host.clear();
    r.method.clear();
    r.path.clear();
    return *this;
  }
  Req& method(std::string m) {
    r.method = std::move(m);
    return *this;
  }
  Req& path(std::string p) {
    r.path = std::move(p);
    return *this;
  }
  Req& rawPath(const std::string& target) {
    r.path = normalizePath(target, PathNormalization::kBase)->path;
    return *this;
  }
  Req& host(std::string h) {
    r.host = std::move(h);
    return *this;
  }
  Req& port(uint32_t p) {
    r.destination_port = p;
    return *this;
  }
  Req& header(std::string k, std::string v) {
    r.headers.emplace_back(std::move(k), std::move(v));
    return *this;
  }
  Req& sourceIp(std::string ip) {
    r.source_ip = std::move(ip);
    return *this;
  }
  Req& remoteIp(std::string ip) {
    r.remote_ip = std::move(ip);
    return *this;
  }
  Req& sni(std::string s) {
    r.sni = std::move(s);
    return *this;
  }
  Req& jwt(std::string iss, std::optional<std::string> sub) {
    RequestAuth a;
    a.issuer = std::move(iss);
    if (sub) {
      a.subject = *sub;
      a.has_subject = true;
    }
    r.auth = a;
    return *this;
  }
  Req& claim(std::vector<std::string> path, std::vector<std::string> values) {
    r.auth->claims.push_back(Claim{std::move(path), std::move(values)});
    return *this;
  }
  Req& audiences(std::vector<std::string> aud) {
    r.auth->audiences = std::move(aud);
    return *this;
  }
  Req& presenter(std::string azp) {
    r.auth->presenter = std::move(azp);
    return *this;
  }
  operator RequestAttributes() const { return r; }  // NOLINT(google-explicit-constructor)
};

std::vector<const AuthorizationPolicy*> pointers(const std::vector<AuthorizationPolicy>& v) {
  std::vector<const AuthorizationPolicy*> out;
  for (const auto& p : v) out.push_back(&p);
  return out;
}

constexpr const char* kNone = "rbac_access_denied_matched_policy[none]";
std::string detail(const std::string& ns, const std::string& name, int rule) {
  return "rbac_access_denied_matched_policy[ns[" + ns + "]-policy[" + name + "]-rule[" +
         std::to_string(rule) + "]]";
}

// ---------------------------------------------------------------- the table

struct AuthzCase {
  const char* name;
  std::vector<AuthorizationPolicy> policies;
  RequestAttributes request;
  int status;          ///< 200, 403 or kStatusReset
  std::string policy;  ///< deciding policy, "" when none
  int32_t rule;
  std::string detail;  ///< "" when allowed
};

class AuthzTable : public ::testing::TestWithParam<AuthzCase> {};

TEST_P(AuthzTable, Decides) {
  const AuthzCase& c = GetParam();
  auto compiled = compileAuthz(pointers(c.policies), AuthzContext{});
  ASSERT_TRUE(compiled.ok()) << compiled.status().toString();
  const AuthzDecision d = evaluateAuthz(*compiled, c.request);
  EXPECT_EQ(d.status, c.status);
  EXPECT_EQ(d.allowed, c.status == 200);
  EXPECT_EQ(std::string(d.decided_by.policy), c.policy);
  EXPECT_EQ(d.decided_by.rule, c.rule);
  EXPECT_EQ(std::string(d.detail), c.detail);
  if (c.status == 403) {
    EXPECT_EQ(d.body, "RBAC: access denied");
  }
  if (c.status == kStatusReset) {
    EXPECT_TRUE(d.body.empty());
  }

  const Decision e = explainAuthz(*compiled, c.request);
  EXPECT_EQ(e.status, c.status);
  EXPECT_EQ(e.policy, c.policy);
  EXPECT_EQ(e.rule, c.rule);
  EXPECT_EQ(e.stage, c.status == 200 ? Stage::kNone : Stage::kAuthz);
  EXPECT_FALSE(e.reason.empty());
  EXPECT_GE(e.trace.size(), 2u);
}

const Src kSleep{.principals = {"cluster.local/ns/foo/sa/sleep"}};

// 4.3 canonical shapes and 4.2 evaluation order.
INSTANTIATE_TEST_SUITE_P(
    AuthzShapes, AuthzTable,
    ::testing::Values(
        AuthzCase{"NoPolicyAllows", {}, Req(), 200, "", -1, ""},
        // "spec: {} ... allow-nothing".
        AuthzCase{
            "AllowNothingDeniesAll", {allowP("allow-nothing", {})}, Req(), 403, "", -1, kNone},
        AuthzCase{
            "AllowNothingLeavesOtherAllows",
            {allowP("allow-nothing", {}), allowP("allow-get", {to({Op{.methods = {"GET"}}})})},
            Req(),
            200,
            "foo/allow-get",
            0,
            ""},
        // "rules: [{}] allow-all (empty rule matches everything)".
        AuthzCase{"AllowAllAllows",
                  {allowP("allow-all", {anyRule()})},
                  Req(),
                  200,
                  "foo/allow-all",
                  0,
                  ""},
        // "DENY rules: [{}] deny-all; cannot be overridden".
        AuthzCase{"DenyAllBeatsAllowAll",
                  {allowP("allow-all", {anyRule()}), denyP("deny-all", {anyRule()})},
                  Req(),
                  403,
                  "foo/deny-all",
                  0,
                  detail("foo", "deny-all", 0)},
        // "DENY without rules ... if ever applied it matches nothing".
        AuthzCase{"DenyWithoutRulesMatchesNothing", {denyP("empty", {})}, Req(), 200, "", -1, ""},
        AuthzCase{"CustomWithoutRulesMatchesNothing",
                  {customP("ext", "opa", {})},
                  Req(),
                  200,
                  "",
                  -1,
                  ""},
        AuthzCase{"DenyBeatsAllowForSamePrincipal",
                  {allowP("allow-sleep", {from({kSleep})}), denyP("deny-sleep", {from({kSleep})})},
                  Req(),
                  403,
                  "foo/deny-sleep",
                  0,
                  detail("foo", "deny-sleep", 0)},
        AuthzCase{"AllowPoliciesAreOred",
                  {allowP("a-post", {to({Op{.methods = {"POST"}}})}),
                   allowP("b-get", {to({Op{.methods = {"GET"}}})})},
                  Req(),
                  200,
                  "foo/b-get",
                  0,
                  ""},
        AuthzCase{"RulesAreOred",
                  {allowP("p", {to({Op{.methods = {"POST"}}}), to({Op{.methods = {"GET"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  1,
                  ""},
        AuthzCase{"NoAllowRuleMatchesDenies",
                  {allowP("post-only", {to({Op{.methods = {"POST"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        // Envoy keeps RBAC policies in a sorted map: the reported hit is the first id.
        AuthzCase{"FirstDenyInIdOrderIsReported",
                  {denyP("b-deny", {anyRule()}), denyP("a-deny", {anyRule()})},
                  Req(),
                  403,
                  "foo/a-deny",
                  0,
                  detail("foo", "a-deny", 0)},
        // "AUDIT policies never influence the decision ... they do not count as ALLOW".
        AuthzCase{"AuditNeverDecides", {auditP("audit-all", {anyRule()})}, Req(), 200, "", -1, ""},
        AuthzCase{"AuditIsNotAnAllow",
                  {allowP("allow-nothing", {}), auditP("audit-all", {anyRule()})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        // gotcha 16: "dry-run policies never block".
        AuthzCase{"DryRunDenyNotEnforced",
                  {dryRun(denyP("deny-all", {anyRule()}))},
                  Req(),
                  200,
                  "",
                  -1,
                  ""},
        // "it also does not count as an ALLOW policy exists".
        AuthzCase{"DryRunAllowDoesNotCount",
                  {dryRun(allowP("post-only", {to({Op{.methods = {"POST"}}})}))},
                  Req(),
                  200,
                  "",
                  -1,
                  ""},
        AuthzCase{"DryRunAllowDoesNotAllow",
                  {allowP("allow-nothing", {}), dryRun(allowP("allow-all", {anyRule()}))},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone}),
    CaseName());

// 4.4 rule matching.
INSTANTIATE_TEST_SUITE_P(
    AuthzRules, AuthzTable,
    ::testing::Values(
        AuthzCase{"FromAndToBothRequired",
                  {allowP("p", {fromTo({kSleep}, {Op{.methods = {"POST"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"ValuesOfOneFieldOr",
                  {allowP("p", {from({Src{.principals = {"cluster.local/ns/x/sa/y",
                                                         "cluster.local/ns/foo/sa/sleep"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"FieldAndNotFieldAnded",
                  {allowP("p", {from({Src{.principals = {"cluster.local/ns/foo/*"},
                                          .not_principals = {"cluster.local/ns/foo/sa/sleep"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"FieldsOfOneSourceAnded",
                  {allowP("p", {from({Src{.principals = {"cluster.local/ns/foo/sa/sleep"},
                                          .namespaces = {"bar"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"AnySourceMatches",
                  {allowP("p", {from({Src{.principals = {"cluster.local/ns/x/sa/y"}},
                                      Src{.namespaces = {"foo"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"AnyOperationMatches",
                  {allowP("p", {to({Op{.methods = {"POST"}}, Op{.paths = {"/"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"AllConditionsRequired",
                  {allowP("p", {when({cond("request.headers[x-a]", {"a"}),
                                      cond("request.headers[x-b]", {"b"})})})},
                  Req().header("x-a", "a"),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"ConditionsAndSourceTogether",
                  {allowP("p", {AuthzRule{.from = std::vector<Src>{kSleep},
                                          .when = {cond("request.headers[x-a]", {"a"})}}})},
                  Req().header("x-a", "a"),
                  200,
                  "foo/p",
                  0,
                  ""}),
    CaseName());

// 4.5 source fields, incl. gotchas 1 and 2 (absent identity).
INSTANTIATE_TEST_SUITE_P(
    AuthzSource, AuthzTable,
    ::testing::Values(
        AuthzCase{"PrincipalExact", {allowP("p", {from({kSleep})})}, Req(), 200, "foo/p", 0, ""},
        AuthzCase{"PrincipalPrefix",
                  {allowP("p", {from({Src{.principals = {"cluster.local/ns/foo/*"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"PrincipalSuffix",
                  {allowP("p", {from({Src{.principals = {"*/sa/sleep"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"PrincipalOtherAccount",
                  {allowP("p", {from({Src{.principals = {"cluster.local/ns/foo/sa/other"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        // gotcha 1: "PERMISSIVE + principal/namespace ALLOW: plaintext clients get 403".
        AuthzCase{"PermissivePlaintextVsPrincipalRule",
                  {allowP("p", {from({kSleep})})},
                  Req().plaintext(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"PrincipalStarNeedsMtls",
                  {allowP("p", {from({Src{.principals = {"*"}}})})},
                  Req().plaintext(),
                  403,
                  "",
                  -1,
                  kNone},
        // gotcha 2: "notPrincipals ... match when the identity is absent".
        AuthzCase{"AllowNotPrincipalsLetsPlaintextThrough",
                  {allowP("p", {from({Src{.not_principals = {"*"}}})})},
                  Req().plaintext(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"DenyNotPrincipalsBlocksPlaintext",
                  {denyP("require-mtls", {from({Src{.not_principals = {"*"}}})})},
                  Req().plaintext(),
                  403,
                  "foo/require-mtls",
                  0,
                  detail("foo", "require-mtls", 0)},
        AuthzCase{"DenyNotPrincipalsLetsMtlsThrough",
                  {denyP("require-mtls", {from({Src{.not_principals = {"*"}}})})},
                  Req(),
                  200,
                  "",
                  -1,
                  ""},
        AuthzCase{"NamespaceMatches",
                  {allowP("p", {from({Src{.namespaces = {"foo"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"NamespaceOther",
                  {allowP("p", {from({Src{.namespaces = {"bar"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"NamespaceNeedsMtls",
                  {allowP("p", {from({Src{.namespaces = {"foo"}}})})},
                  Req().plaintext(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"DenyNotNamespacesBlocksPlaintext",
                  {denyP("ns-only", {from({Src{.not_namespaces = {"foo"}}})})},
                  Req().plaintext(),
                  403,
                  "foo/ns-only",
                  0,
                  detail("foo", "ns-only", 0)},
        AuthzCase{"ServiceAccountNsSlashSa",
                  {allowP("p", {from({Src{.service_accounts = {"foo/sleep"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"ServiceAccountBareIsPolicyNamespace",
                  {allowP("p", {from({Src{.service_accounts = {"sleep"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"ServiceAccountBareInRootNamespace",
                  {allowP("p", {from({Src{.service_accounts = {"sleep"}}})}, "istio-system")},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"TrustDomainsMatch",
                  {allowP("p", {from({Src{.trust_domains = {"cluster.local"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"TrustDomainsOther",
                  {allowP("p", {from({Src{.trust_domains = {"td9"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"RequestPrincipalExact",
                  {allowP("p", {from({Src{.request_principals = {"issuer.example/alice"}}})})},
                  Req().jwt("issuer.example", "alice"),
                  200,
                  "foo/p",
                  0,
                  ""},
        // "token missing but requestPrincipals ... policy requires one -> 403".
        AuthzCase{"RequestPrincipalStarWithoutToken",
                  {allowP("p", {from({Src{.request_principals = {"*"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        // "a valid JWT without sub does not match requestPrincipals: ["*"]".
        AuthzCase{"RequestPrincipalStarTokenWithoutSub",
                  {allowP("p", {from({Src{.request_principals = {"*"}}})})},
                  Req().jwt("issuer.example", std::nullopt),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"DenyNotRequestPrincipalsWithoutToken",
                  {denyP("require-jwt", {from({Src{.not_request_principals = {"*"}}})})},
                  Req(),
                  403,
                  "foo/require-jwt",
                  0,
                  detail("foo", "require-jwt", 0)},
        AuthzCase{"DenyNotRequestPrincipalsWithToken",
                  {denyP("require-jwt", {from({Src{.not_request_principals = {"*"}}})})},
                  Req().jwt("issuer.example", "alice"),
                  200,
                  "",
                  -1,
                  ""},
        AuthzCase{"IpBlocksCidr",
                  {allowP("p", {from({Src{.ip_blocks = {"10.0.0.0/24"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"IpBlocksBareIpIsSlash32",
                  {allowP("p", {from({Src{.ip_blocks = {"10.0.0.6"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"IpBlocksIpv6",
                  {allowP("p", {from({Src{.ip_blocks = {"fd00::/64"}}})})},
                  Req().sourceIp("fd00::5"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"DenyNotIpBlocks",
                  {denyP("internal", {from({Src{.not_ip_blocks = {"10.0.0.0/8"}}})})},
                  Req().sourceIp("192.168.1.1"),
                  403,
                  "foo/internal",
                  0,
                  detail("foo", "internal", 0)},
        AuthzCase{"RemoteIpBlocksUseOriginalClient",
                  {allowP("p", {from({Src{.remote_ip_blocks = {"203.0.113.0/24"}}})})},
                  Req().remoteIp("203.0.113.7"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"RemoteIpDefaultsToSource",
                  {allowP("p", {from({Src{.remote_ip_blocks = {"10.0.0.5"}}})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"IpBlocksAreNotRemoteIp",
                  {allowP("p", {from({Src{.ip_blocks = {"203.0.113.0/24"}}})})},
                  Req().remoteIp("203.0.113.7"),
                  403,
                  "",
                  -1,
                  kNone}),
    CaseName());

// 4.5 operation fields, gotchas 3, 4 and 9.
INSTANTIATE_TEST_SUITE_P(
    AuthzOperation, AuthzTable,
    ::testing::Values(
        AuthzCase{"HostsCaseInsensitive",
                  {allowP("p", {to({Op{.hosts = {"HTTPBIN.foo"}}})})},
                  Req().host("httpbin.FOO"),
                  200,
                  "foo/p",
                  0,
                  ""},
        // gotcha 3: "hosts: [example.com] != Host: example.com:8080".
        AuthzCase{"HostWithPortDoesNotMatchBareHost",
                  {allowP("p", {to({Op{.hosts = {"httpbin.foo"}}})})},
                  Req().host("httpbin.foo:8000"),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"HostWithPortMatchesPortWildcard",
                  {allowP("p", {to({Op{.hosts = {"httpbin.foo", "httpbin.foo:*"}}})})},
                  Req().host("httpbin.foo:8000"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"NotHosts",
                  {denyP("d", {to({Op{.not_hosts = {"*.foo"}}})})},
                  Req().host("evil.example"),
                  403,
                  "foo/d",
                  0,
                  detail("foo", "d", 0)},
        // gotcha 4: "Ports are workload ports (Service 8000 -> container 80: use 80)".
        AuthzCase{"PortsAreWorkloadPorts",
                  {allowP("p", {to({Op{.ports = {"80"}}})})},
                  Req().port(80),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"ServicePortDoesNotMatch",
                  {allowP("p", {to({Op{.ports = {"8000"}}})})},
                  Req().port(80),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"NotPorts",
                  {denyP("d", {to({Op{.not_ports = {"80"}}})})},
                  Req().port(81),
                  403,
                  "foo/d",
                  0,
                  detail("foo", "d", 0)},
        AuthzCase{"MethodsCaseSensitive",
                  {allowP("p", {to({Op{.methods = {"get"}}})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"NotMethods",
                  {denyP("read-only", {to({Op{.not_methods = {"GET", "HEAD"}}})})},
                  Req().method("POST"),
                  403,
                  "foo/read-only",
                  0,
                  detail("foo", "read-only", 0)},
        AuthzCase{"PathExact",
                  {denyP("admin", {to({Op{.paths = {"/admin"}}})})},
                  Req().path("/admin"),
                  403,
                  "foo/admin",
                  0,
                  detail("foo", "admin", 0)},
        // gotcha 9: "under BASE //admin is not /admin (DENY /admin* does not fire)".
        AuthzCase{"DoubleSlashEscapesPrefixDenyUnderBase",
                  {denyP("admin", {to({Op{.paths = {"/admin*"}}})})},
                  Req().rawPath("//admin"),
                  200,
                  "",
                  -1,
                  ""},
        // gotcha 9: "/public/../private evaluates as /private".
        AuthzCase{"DotDotIsNormalizedBeforeMatching",
                  {denyP("private", {to({Op{.paths = {"/private"}}})})},
                  Req().rawPath("/public/../private"),
                  403,
                  "foo/private",
                  0,
                  detail("foo", "private", 0)},
        AuthzCase{"QueryStringIgnored",
                  {allowP("p", {to({Op{.paths = {"/status"}}})})},
                  Req().rawPath("/status?verbose=1"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"EncodedSlashNotDecodedUnderBase",
                  {denyP("admin", {to({Op{.paths = {"/admin/*"}}})})},
                  Req().rawPath("/admin%2Fx"),
                  200,
                  "",
                  -1,
                  ""},
        AuthzCase{"PathSuffix",
                  {allowP("p", {to({Op{.paths = {"*.png"}}})})},
                  Req().path("/img/logo.png"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"PathStar",
                  {allowP("p", {to({Op{.paths = {"*"}}})})},
                  Req().path("/x"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"PathTemplateOneSegment",
                  {allowP("p", {to({Op{.paths = {"/store/{*}/items"}}})})},
                  Req().path("/store/7/items"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"PathTemplateOneSegmentOnly",
                  {allowP("p", {to({Op{.paths = {"/store/{*}/items"}}})})},
                  Req().path("/store/7/x/items"),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"PathTemplateAnySegments",
                  {allowP("p", {to({Op{.paths = {"/api/{**}"}}})})},
                  Req().path("/api/v1/users/3"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"NotPaths",
                  {allowP("p", {to({Op{.not_paths = {"/admin*"}}})})},
                  Req().path("/admin/x"),
                  403,
                  "",
                  -1,
                  kNone}),
    CaseName());

// 4.5 conditions.
INSTANTIATE_TEST_SUITE_P(
    AuthzConditions, AuthzTable,
    ::testing::Values(
        AuthzCase{"HeaderNameCaseInsensitive",
                  {allowP("p", {when({cond("request.headers[X-User]", {"alice"})})})},
                  Req().header("x-user", "alice"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"HeaderValueCaseSensitive",
                  {allowP("p", {when({cond("request.headers[x-user]", {"alice"})})})},
                  Req().header("x-user", "Alice"),
                  403,
                  "",
                  -1,
                  kNone},
        // 4.4: "request.headers[x] notValues [a] matches requests without header x".
        AuthzCase{"HeaderNotValuesMatchAbsentHeader",
                  {denyP("d", {when({cond("request.headers[x-user]", {}, {"alice"})})})},
                  Req(),
                  403,
                  "foo/d",
                  0,
                  detail("foo", "d", 0)},
        AuthzCase{"HeaderPresence",
                  {allowP("p", {when({cond("request.headers[x-token]", {"*"})})})},
                  Req().header("x-token", "abc"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"HeaderPrefix",
                  {allowP("p", {when({cond("request.headers[user-agent]", {"curl/*"})})})},
                  Req().header("user-agent", "curl/8.1"),
                  200,
                  "foo/p",
                  0,
                  ""},
        // "list-valued claims match if any element matches".
        AuthzCase{"ListClaimAnyElement",
                  {allowP("p", {when({cond("request.auth.claims[groups]", {"admins"})})})},
                  Req().jwt("iss", "alice").claim({"groups"}, {"dev", "admins"}),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"NestedClaim",
                  {allowP("p", {when({cond("request.auth.claims[realm][role]", {"ops"})})})},
                  Req().jwt("iss", "alice").claim({"realm", "role"}, {"ops"}),
                  200,
                  "foo/p",
                  0,
                  ""},
        // "scope ... split on spaces first ("write read" matches read)" - split by the JWT stage.
        AuthzCase{"ScopeClaim",
                  {allowP("p", {when({cond("request.auth.claims[scope]", {"read"})})})},
                  Req().jwt("iss", "alice").claim({"scope"}, {"write", "read"}),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"ClaimWithoutToken",
                  {allowP("p", {when({cond("request.auth.claims[scope]", {"read"})})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"AudiencesCondition",
                  {allowP("p", {when({cond("request.auth.audiences", {"api"})})})},
                  Req().jwt("iss", "alice").audiences({"web", "api"}),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"PresenterCondition",
                  {allowP("p", {when({cond("request.auth.presenter", {"client-app"})})})},
                  Req().jwt("iss", "alice").presenter("client-app"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"RequestAuthPrincipalCondition",
                  {allowP("p", {when({cond("request.auth.principal", {"iss/alice"})})})},
                  Req().jwt("iss", "alice"),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"SourceIpCondition",
                  {allowP("p", {when({cond("source.ip", {"10.0.0.0/16"})})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"RemoteIpCondition",
                  {denyP("d", {when({cond("remote.ip", {}, {"10.0.0.0/8"})})})},
                  Req(),
                  200,
                  "",
                  -1,
                  ""},
        AuthzCase{"DestinationIpCondition",
                  {allowP("p", {when({cond("destination.ip", {"10.0.1.7"})})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"DestinationPortCondition",
                  {allowP("p", {when({cond("destination.port", {"8080"})})})},
                  Req().port(80),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{
            "SniCondition",
            {allowP("p", {when({cond("connection.sni", {"*.httpbin.foo.svc.cluster.local"})})})},
            Req().sni("outbound_.80_._.httpbin.foo.svc.cluster.local"),
            200,
            "foo/p",
            0,
            ""},
        AuthzCase{"SourceNamespaceCondition",
                  {allowP("p", {when({cond("source.namespace", {"foo"})})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{
            "SourcePrincipalCondition",
            {allowP("p", {when({cond("source.principal", {"cluster.local/ns/foo/sa/sleep"})})})},
            Req(),
            200,
            "foo/p",
            0,
            ""},
        AuthzCase{"SourceServiceAccountCondition",
                  {allowP("p", {when({cond("source.serviceAccount", {"foo/sleep"})})})},
                  Req(),
                  200,
                  "foo/p",
                  0,
                  ""},
        AuthzCase{"SourceTrustDomainCondition",
                  {allowP("p", {when({cond("source.trustDomain", {"td9"})})})},
                  Req(),
                  403,
                  "",
                  -1,
                  kNone},
        AuthzCase{"EnvoyMetadataIsAbsent",
                  {denyP("d", {when({cond("experimental.envoy.filters.a.b[c]", {}, {"v"})})})},
                  Req(),
                  403,
                  "foo/d",
                  0,
                  detail("foo", "d", 0)}),
    CaseName());

// 4.6 and gotcha 5: HTTP-only attributes on TCP.
INSTANTIATE_TEST_SUITE_P(
    AuthzTcp, AuthzTable,
    ::testing::Values(
        // "authz-tcp task: methods: [GET], ports: [9000] rejects 9000 and 9001".
        AuthzCase{"AllowWithMethodsRejectsItsPort",
                  {allowP("tcp", {to({Op{.ports = {"9000"}, .methods = {"GET"}}})})},
                  Req().tcp(9000),
                  kStatusReset,
                  "",
                  -1,
                  kNone},
        AuthzCase{"AllowWithMethodsRejectsOtherPort",
                  {allowP("tcp", {to({Op{.ports = {"9000"}, .methods = {"GET"}}})})},
                  Req().tcp(9001),
                  kStatusReset,
                  "",
                  -1,
                  kNone},
        AuthzCase{"AllowPortsOnlyWorksOnTcp",
                  {allowP("tcp", {to({Op{.ports = {"9000"}}})})},
                  Req().tcp(9000),
                  200,
                  "foo/tcp",
                  0,
                  ""},
        AuthzCase{"AllowKeepsTcpCapableRule",
                  {allowP("tcp", {to({Op{.methods = {"GET"}}}), to({Op{.ports = {"9000"}}})})},
                  Req().tcp(9000),
                  200,
                  "foo/tcp",
                  1,
                  ""},
        AuthzCase{"AllowRequestPrincipalsDroppedOnTcp",
                  {allowP("jwt", {from({Src{.request_principals = {"*"}}})})},
                  Req().tcp(9000),
                  kStatusReset,
                  "",
                  -1,
                  kNone},
        AuthzCase{"AllowPrincipalWorksOnTcp",
                  {allowP("p", {from({kSleep})})},
                  Req().tcp(9000),
                  200,
                  "foo/p",
                  0,
                  ""},
        // "DENY methods:[GET] rejects all TCP".
        AuthzCase{"DenyMethodsRejectsAllTcp",
                  {denyP("no-get", {to({Op{.methods = {"GET"}}})})},
                  Req().tcp(9001),
                  kStatusReset,
                  "foo/no-get",
                  0,
                  detail("foo", "no-get", 0)},
        AuthzCase{"DenyScopedByPortHitsItsPort",
                  {denyP("no-get", {to({Op{.ports = {"9000"}, .methods = {"GET"}}})})},
                  Req().tcp(9000),
                  kStatusReset,
                  "foo/no-get",
                  0,
                  detail("foo", "no-get", 0)},
        AuthzCase{"DenyScopedByPortSparesOtherPorts",
                  {denyP("no-get", {to({Op{.ports = {"9000"}, .methods = {"GET"}}})})},
                  Req().tcp(9001),
                  200,
                  "",
                  -1,
                  ""},
        AuthzCase{"DenyHeaderConditionDroppedOnTcp",
                  {denyP("hdr", {when({cond("request.headers[x-a]", {"a"})})})},
                  Req().tcp(9000),
                  kStatusReset,
                  "foo/hdr",
                  0,
                  detail("foo", "hdr", 0)},
        AuthzCase{"DenyMethodsOnHttpOnlyMatchesMethod",
                  {denyP("no-get", {to({Op{.methods = {"GET"}}})})},
                  Req().method("POST"),
                  200,
                  "",
                  -1,
                  ""}),
    CaseName());

// ---------------------------------------------------------------- trust domain aliases

TEST(Authz, ClusterLocalPrincipalMatchesLocalTrustDomainAndAliases) {
  const std::vector<AuthorizationPolicy> ps = {allowP("p", {from({kSleep})})};
  AuthzContext ctx;
  ctx.trust_domain = "td1";
  ctx.trust_domain_aliases = {"td2"};
  auto compiled = compileAuthz(pointers(ps), ctx);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(evaluateAuthz(*compiled, Req().peer("td1/ns/foo/sa/sleep")).status, 200);
  EXPECT_EQ(evaluateAuthz(*compiled, Req().peer("td2/ns/foo/sa/sleep")).status, 200);
  EXPECT_EQ(evaluateAuthz(*compiled, Req().peer("td3/ns/foo/sa/sleep")).status, 403);
}

TEST(Authz, ForeignTrustDomainPrincipalIsKeptLiterally) {
  const std::vector<AuthorizationPolicy> ps = {
      allowP("p", {from({Src{.principals = {"partner.example/ns/foo/sa/sleep"}}})})};
  AuthzContext ctx;
  ctx.trust_domain = "td1";
  auto compiled = compileAuthz(pointers(ps), ctx);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(evaluateAuthz(*compiled, Req().peer("partner.example/ns/foo/sa/sleep")).status, 200);
  EXPECT_EQ(evaluateAuthz(*compiled, Req().peer("td1/ns/foo/sa/sleep")).status, 403);
}

// ---------------------------------------------------------------- CUSTOM

TEST(Authz, CustomProviderDenyIsFinal) {
  const std::vector<AuthorizationPolicy> ps = {
      customP("ext", "opa", {to({Op{.paths = {"/admin*"}}})}), allowP("allow-all", {anyRule()})};
  AuthzContext ctx;
  ctx.custom_providers["opa"] =
      std::make_shared<DenyingCustomAuthzProvider>(403, "denied by ext_authz");
  auto compiled = compileAuthz(pointers(ps), ctx);
  ASSERT_TRUE(compiled.ok());
  const AuthzDecision d = evaluateAuthz(*compiled, Req().path("/admin/x"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.body, "denied by ext_authz");
  EXPECT_EQ(d.basis, AuthzBasis::kCustomDenied);
  EXPECT_EQ(d.action, AuthzAction::kCustom);
  EXPECT_EQ(d.decided_by.policy, "foo/ext");
  EXPECT_EQ(d.detail, "ext_authz_denied");
  EXPECT_EQ(toDecision(d, Req()).response_flags, "UAEX");
  // Non-matching CUSTOM rules: "provider not called"; the ALLOW policy decides.
  const AuthzDecision other = evaluateAuthz(*compiled, Req().path("/public"));
  EXPECT_TRUE(other.allowed);
  EXPECT_FALSE(other.custom.found());
  EXPECT_EQ(other.decided_by.policy, "foo/allow-all");
}

TEST(Authz, CustomProviderCalledOnlyForMatchingRules) {
  std::atomic<int> calls{0};
  const std::vector<AuthorizationPolicy> ps = {
      customP("ext", "fn", {to({Op{.methods = {"POST"}}})})};
  AuthzContext ctx;
  ctx.custom_providers["fn"] =
      std::make_shared<FunctionCustomAuthzProvider>([&calls](const RequestAttributes&) {
        ++calls;
        return CustomCheckResult{true, 200, {}};
      });
  auto compiled = compileAuthz(pointers(ps), ctx);
  ASSERT_TRUE(compiled.ok());
  EXPECT_TRUE(evaluateAuthz(*compiled, Req().method("GET")).allowed);
  EXPECT_EQ(calls.load(), 0);
  const AuthzDecision d = evaluateAuthz(*compiled, Req().method("POST"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(d.custom.policy, "foo/ext");
  EXPECT_EQ(d.basis, AuthzBasis::kNoAllowPolicy);
}

TEST(Authz, CustomAllowCannotBypassDenyOrAllow) {
  const std::vector<AuthorizationPolicy> ps = {customP("ext", "ok", {anyRule()}),
                                               denyP("deny-post", {to({Op{.methods = {"POST"}}})}),
                                               allowP("allow-get", {to({Op{.methods = {"GET"}}})})};
  AuthzContext ctx;
  ctx.custom_providers["ok"] =
      std::make_shared<FunctionCustomAuthzProvider>([](const RequestAttributes&) {
        return CustomCheckResult{true, 200, {}};
      });
  auto compiled = compileAuthz(pointers(ps), ctx);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(evaluateAuthz(*compiled, Req().method("POST")).decided_by.policy, "foo/deny-post");
  EXPECT_EQ(evaluateAuthz(*compiled, Req().method("PUT")).detail, kNone);
  EXPECT_EQ(evaluateAuthz(*compiled, Req().method("GET")).status, 200);
}

TEST(Authz, CustomWithUnknownProviderDeniesMatchingRequests) {
  const std::vector<AuthorizationPolicy> ps = {
      customP("ext", "missing", {to({Op{.paths = {"/a"}}})})};
  auto compiled = compileAuthz(pointers(ps), AuthzContext{});
  ASSERT_TRUE(compiled.ok());
  ASSERT_EQ(compiled->warnings().size(), 1u);
  const AuthzDecision d = evaluateAuthz(*compiled, Req().path("/a"));
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.body, "RBAC: access denied");
  EXPECT_EQ(d.basis, AuthzBasis::kCustomMisconfigured);
  EXPECT_EQ(d.detail, detail("foo", "ext", 0));
  EXPECT_TRUE(evaluateAuthz(*compiled, Req().path("/b")).allowed);
}

TEST(Authz, CustomWithTwoProvidersDenies) {
  const std::vector<AuthorizationPolicy> ps = {customP("ext-a", "a", {anyRule()}),
                                               customP("ext-b", "b", {anyRule()})};
  AuthzContext ctx;
  ctx.custom_providers["a"] = std::make_shared<DenyingCustomAuthzProvider>();
  ctx.custom_providers["b"] = std::make_shared<DenyingCustomAuthzProvider>();
  auto compiled = compileAuthz(pointers(ps), ctx);
  ASSERT_TRUE(compiled.ok());
  const AuthzDecision d = evaluateAuthz(*compiled, Req());
  EXPECT_EQ(d.basis, AuthzBasis::kCustomMisconfigured);
  EXPECT_EQ(d.decided_by.policy, "foo/ext-a");
}

TEST(Authz, CustomDenyOnTcpClosesTheConnection) {
  const std::vector<AuthorizationPolicy> ps = {
      customP("ext", "opa", {to({Op{.ports = {"9000"}}})})};
  AuthzContext ctx;
  ctx.custom_providers["opa"] = std::make_shared<DenyingCustomAuthzProvider>();
  auto compiled = compileAuthz(pointers(ps), ctx);
  ASSERT_TRUE(compiled.ok());
  const AuthzDecision d = evaluateAuthz(*compiled, Req().tcp(9000));
  EXPECT_EQ(d.status, kStatusReset);
  EXPECT_TRUE(d.body.empty());
}

// ---------------------------------------------------------------- AUDIT and dry-run reporting

TEST(Authz, AuditAndShadowAreReported) {
  const std::vector<AuthorizationPolicy> ps = {
      auditP("audit-admin", {to({Op{.paths = {"/admin"}}})}),
      dryRun(denyP("would-deny", {anyRule()})),
      dryRun(allowP("would-allow-post", {to({Op{.methods = {"POST"}}})}))};
  auto compiled = compileAuthz(pointers(ps), AuthzContext{});
  ASSERT_TRUE(compiled.ok());
  EXPECT_FALSE(compiled->hasAllowPolicy());
  const AuthzDecision d = evaluateAuthz(*compiled, Req().path("/admin"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.audit.policy, "foo/audit-admin");
  EXPECT_TRUE(d.shadow.has_deny);
  EXPECT_EQ(d.shadow.deny.policy, "foo/would-deny");
  EXPECT_TRUE(d.shadow.has_allow);
  EXPECT_FALSE(d.shadow.allow.found());
  EXPECT_TRUE(d.shadow.wouldDeny());
  const Decision e = explainAuthz(*compiled, Req().path("/admin"));
  bool mentions_dry_run = false;
  for (const auto& line : e.trace) {
    mentions_dry_run = mentions_dry_run || line.find("would deny (dry-run") != std::string::npos;
  }
  EXPECT_TRUE(mentions_dry_run);
}

// ---------------------------------------------------------------- explanation

TEST(Authz, ExplainNamesPlaintextForPrincipalRules) {
  const std::vector<AuthorizationPolicy> ps = {allowP("only-sleep", {from({kSleep})})};
  auto compiled = compileAuthz(pointers(ps), AuthzContext{});
  ASSERT_TRUE(compiled.ok());
  const Decision e = explainAuthz(*compiled, Req().plaintext());
  EXPECT_EQ(e.status, 403);
  EXPECT_EQ(e.body, "RBAC: access denied");
  EXPECT_FALSE(e.mtls);
  EXPECT_NE(e.reason.find("foo/only-sleep"), std::string::npos);
  EXPECT_NE(e.reason.find("plaintext"), std::string::npos);
  bool field_named = false;
  for (const auto& line : e.trace) {
    field_named =
        field_named || line.find(
                           "spec.rules[0].from[0].source.principals did not match (no peer "
                           "identity") != std::string::npos;
  }
  EXPECT_TRUE(field_named);
  EXPECT_NE(e.trace.back().find("rbac_access_denied_matched_policy[none]"), std::string::npos);
}

TEST(Authz, ExplainReportsDroppedTcpRuleAndDenyHit) {
  const std::vector<AuthorizationPolicy> ps = {
      allowP("tcp", {to({Op{.ports = {"9000"}, .methods = {"GET"}}})}),
      denyP("deny-9001", {to({Op{.ports = {"9001"}}})})};
  auto compiled = compileAuthz(pointers(ps), AuthzContext{});
  ASSERT_TRUE(compiled.ok());
  const Decision e = explainAuthz(*compiled, Req().tcp(9000));
  EXPECT_EQ(e.status, kStatusReset);
  bool dropped = false;
  for (const auto& line : e.trace)
    dropped = dropped || line.find("dropped on this TCP port") != std::string::npos;
  EXPECT_TRUE(dropped);
  const Decision hit = explainAuthz(*compiled, Req().tcp(9001));
  EXPECT_EQ(hit.policy, "foo/deny-9001");
  EXPECT_NE(hit.reason.find("connection closed"), std::string::npos);
}

TEST(Authz, AllowedDecisionHasNoDetailAndNamesThePolicy) {
  const std::vector<AuthorizationPolicy> ps = {allowP("allow-all", {anyRule()})};
  auto compiled = compileAuthz(pointers(ps), AuthzContext{});
  ASSERT_TRUE(compiled.ok());
  const AuthzDecision d = evaluateAuthz(*compiled, Req());
  EXPECT_EQ(d.basis, AuthzBasis::kAllowMatched);
  EXPECT_TRUE(d.detail.empty());
  const Decision out = toDecision(d, Req());
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.policy, "foo/allow-all");
  EXPECT_TRUE(out.mtls);
  EXPECT_STREQ(authzBasisName(AuthzBasis::kNoAllowMatched), "no ALLOW matched");
  EXPECT_EQ(compiled->policyNames(), (std::vector<std::string>{"foo/allow-all"}));
  EXPECT_EQ(compiled->ruleCount(), 1u);
}

TEST(Authz, DefaultCompiledAuthzAllowsEverything) {
  const CompiledAuthz empty;
  EXPECT_EQ(empty.policyCount(), 0u);
  EXPECT_TRUE(evaluateAuthz(empty, Req()).allowed);
}

TEST(Authz, DenyWithHttpFieldsWarns) {
  const std::vector<AuthorizationPolicy> ps = {denyP("no-get", {to({Op{.methods = {"GET"}}})})};
  auto compiled = compileAuthz(pointers(ps), AuthzContext{});
  ASSERT_TRUE(compiled.ok());
  ASSERT_EQ(compiled->warnings().size(), 1u);
  EXPECT_NE(compiled->warnings()[0].find("foo/no-get"), std::string::npos);
}

// ---------------------------------------------------------------- prefilter soundness

/// Policy `i` of a mixed set (the shapes of bench/authz_bench.cpp).
AuthorizationPolicy mixedPolicy(int i) {
  const std::string n = std::to_string(i);
  switch (i % 8) {
    case 0:
      return allowP("p" + n, {from({Src{.principals = {"cluster.local/ns/ns" + n + "/sa/sa" + n,
                                                       "cluster.local/ns/team" + n + "/*"}}})});
    case 1:
      return allowP("p" + n, {fromTo({Src{.namespaces = {"ns" + n, "prod-" + n + "-*"}}},
                                     {Op{.methods = {"GET", "HEAD"}}})});
    case 2:
      return allowP("p" + n, {to({Op{.paths = {"/api/v" + n + "/*", "*.v" + n + ".js",
                                               "/items/{*}/detail" + n, "/exact" + n}}})});
    case 3: return denyP("p" + n, {when({cond("request.headers[x-block-" + n + "]", {"yes"})})});
    case 4:
      return allowP(
          "p" + n,
          {AuthzRule{
              .from = std::vector<Src>{Src{.request_principals = {"issuer" + n + ".example/*"}}},
              .when = {cond("request.auth.claims[groups]", {"group" + n})}}});
    case 5:
      return denyP("p" + n,
                   {from({Src{.ip_blocks = {"10." + n + ".0.0/16", "fd00:" + n + "::/32"}}})});
    case 6:
      return allowP(
          "p" + n,
          {to({Op{.hosts = {"svc" + n + ".example.com"}, .ports = {std::to_string(8000 + i)}}})});
    default:
      return denyP("p" + n, {when({cond("source.namespace", {"ns" + n}),
                                   cond("destination.port", {std::to_string(9000 + i)})})});
  }
}

/// Rules whose trace line says they matched, as "ns/name rule i", for one action.
std::vector<std::string> matchedRules(const Decision& e, const std::string& action) {
  std::vector<std::string> out;
  for (const auto& line : e.trace) {
    if (line.rfind(action + " ", 0) != 0) continue;
    const size_t colon = line.find(": matched");
    if (colon != std::string::npos)
      out.push_back(line.substr(action.size() + 1, colon - action.size() - 1));
  }
  return out;
}

// The per-rule prefilters only skip rules that cannot match: every decision agrees with the
// trace, which evaluates every rule in full.
TEST(Authz, PrefilterNeverHidesAMatch) {
  std::vector<AuthorizationPolicy> policies;
  for (int i = 0; i < 64; ++i) policies.push_back(mixedPolicy(i));
  auto compiled = compileAuthz(pointers(policies), AuthzContext{});
  ASSERT_TRUE(compiled.ok()) << compiled.status().toString();
  int checked = 0;
  for (int k = 0; k < 400; ++k) {
    const std::string a = std::to_string(k % 64);
    const std::string b = std::to_string((k * 7) % 64);
    Req req;
    switch (k % 4) {
      case 0: req.peer("cluster.local/ns/ns" + a + "/sa/sa" + a); break;
      case 1: req.peer("cluster.local/ns/prod-" + a + "-eu/sa/x"); break;
      case 2: req.peer("cluster.local/ns/team" + a + "/sa/y"); break;
      default: req.plaintext(); break;
    }
    const std::string paths[] = {"/api/v" + b + "/x", "/static/app.v" + b + ".js",
                                 "/items/7/detail" + b, "/exact" + b, "/"};
    req.path(paths[k % 5]).method(k % 3 == 0 ? "POST" : "GET");
    req.host("svc" + b + ".example.com")
        .port(static_cast<uint32_t>(k % 2 ? 8000 + k % 64 : 9000 + k % 64));
    req.sourceIp(k % 2 ? "10." + a + ".3.4" : "fd00:" + a + "::9");
    if (k % 5 == 0) req.header("x-block-" + b, "yes");
    if (k % 3 == 1) req.jwt("issuer" + a + ".example", "u").claim({"groups"}, {"group" + a});
    if (k % 7 == 0) req.tcp(static_cast<uint32_t>(9000 + k % 64));
    const RequestAttributes r = req;
    const AuthzDecision d = evaluateAuthz(*compiled, r);
    const Decision e = explainAuthz(*compiled, r);
    const auto denies = matchedRules(e, "DENY");
    const auto allows = matchedRules(e, "ALLOW");
    if (!denies.empty()) {
      EXPECT_EQ(d.basis, AuthzBasis::kDenyMatched) << "request " << k;
      EXPECT_NE(std::find(denies.begin(), denies.end(),
                          std::string(d.decided_by.policy) + " rule " +
                              std::to_string(d.decided_by.rule)),
                denies.end())
          << "request " << k;
    } else if (!allows.empty()) {
      EXPECT_EQ(d.basis, AuthzBasis::kAllowMatched) << "request " << k;
    } else {
      EXPECT_EQ(d.basis, AuthzBasis::kNoAllowMatched) << "request " << k;
    }
    checked += denies.empty() ? 0 : 1;
    checked += allows.empty() ? 0 : 1;
  }
  EXPECT_GT(checked, 100);  // the request mix really exercises matching rules
}

// ---------------------------------------------------------------- compile errors

struct CompileErrorCase {
  const char* name;
  AuthorizationPolicy policy;
  std::string field;  ///< the field the message must name
};

class AuthzCompileErrors : public ::testing::TestWithParam<CompileErrorCase> {};

TEST_P(AuthzCompileErrors, AreInvalidArgumentNamingTheField) {
  const auto& c = GetParam();
  const std::vector<const AuthorizationPolicy*> ps = {&c.policy};
  auto compiled = compileAuthz(ps, AuthzContext{});
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(compiled.status().message().find(c.field), std::string::npos)
      << compiled.status().message();
  EXPECT_NE(compiled.status().message().find("foo/bad"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    AuthzCompile, AuthzCompileErrors,
    ::testing::Values(
        CompileErrorCase{"BadCidr", allowP("bad", {from({Src{.ip_blocks = {"10.0.0.0/33"}}})}),
                         "spec.rules[0].from[0].source.ipBlocks"},
        CompileErrorCase{"BadNotCidr", denyP("bad", {from({Src{.not_remote_ip_blocks = {"x"}}})}),
                         "spec.rules[0].from[0].source.notRemoteIpBlocks"},
        CompileErrorCase{"BadPort", allowP("bad", {to({Op{.ports = {"http"}}})}),
                         "spec.rules[0].to[0].operation.ports"},
        CompileErrorCase{"PortOutOfRange", allowP("bad", {to({Op{.not_ports = {"70000"}}})}),
                         "spec.rules[0].to[0].operation.notPorts"},
        CompileErrorCase{"BadPathTemplate", allowP("bad", {to({Op{.paths = {"/{**}/{*}"}}})}),
                         "spec.rules[0].to[0].operation.paths"},
        CompileErrorCase{"UnknownConditionKey", allowP("bad", {when({cond("source.user", {"x"})})}),
                         "spec.rules[0].when[0].key"},
        CompileErrorCase{"HeaderKeyWithoutBrackets",
                         allowP("bad", {when({cond("request.headers", {"x"})})}),
                         "spec.rules[0].when[0].key"},
        CompileErrorCase{"MalformedClaimKey",
                         allowP("bad", {when({cond("request.auth.claims[a][]", {"x"})})}),
                         "spec.rules[0].when[0].key"},
        CompileErrorCase{"BadConditionIp",
                         denyP("bad", {anyRule(), when({cond("source.ip", {"nope"})})}),
                         "spec.rules[1].when[0].values"},
        CompileErrorCase{"BadConditionPort",
                         denyP("bad", {when({cond("destination.port", {}, {"-1"})})}),
                         "spec.rules[0].when[0].notValues"}),
    CaseName());

TEST(AuthzCompile, NullPolicyIsAnError) {
  const std::vector<const AuthorizationPolicy*> ps = {nullptr};
  auto compiled = compileAuthz(ps, AuthzContext{});
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- selection (4.1)

model::Workload workload(std::string ns, std::string name, model::StringMap labels) {
  model::Workload w;
  w.meta.kind = "Workload";
  w.meta.namespace_ = std::move(ns);
  w.meta.name = std::move(name);
  w.labels = std::move(labels);
  return w;
}

AuthorizationPolicy selected(AuthorizationPolicy p, model::StringMap labels) {
  p.selector.match_labels = std::move(labels);
  p.selector.present = true;
  return p;
}

TEST(AuthzSelect, AppliesRootAndOwnNamespaceWithMatchingSelectors) {
  std::vector<model::Resource> resources;
  resources.emplace_back(allowP("mesh-wide", {anyRule()}, "istio-system"));
  resources.emplace_back(
      selected(allowP("root-selector", {anyRule()}, "istio-system"), {{"app", "httpbin"}}));
  resources.emplace_back(
      selected(allowP("root-other", {anyRule()}, "istio-system"), {{"app", "other"}}));
  resources.emplace_back(allowP("ns-wide", {anyRule()}, "foo"));
  resources.emplace_back(selected(allowP("for-httpbin", {anyRule()}, "foo"), {{"app", "httpbin"}}));
  resources.emplace_back(
      selected(allowP("for-v2", {anyRule()}, "foo"), {{"app", "httpbin"}, {"version", "v2"}}));
  resources.emplace_back(allowP("other-ns", {anyRule()}, "bar"));
  auto gateway_policy = allowP("gateway-only", {anyRule()}, "foo");
  gateway_policy.has_target_ref = true;
  resources.emplace_back(gateway_policy);
  resources.emplace_back(workload("foo", "httpbin-v1", {{"app", "httpbin"}, {"version", "v1"}}));
  auto snap = config::makeSnapshot(std::move(resources));
  const auto* w = snap->findWorkload("foo", "httpbin-v1");
  ASSERT_NE(w, nullptr);
  std::vector<std::string> names;
  for (const auto* p : applicablePolicies(*snap, *w)) {
    names.push_back(p->meta.namespace_ + "/" + p->meta.name);
  }
  // Root namespace: no selector (whole mesh) and matching selector ("applies to matching
  // workloads in all namespaces"); own namespace: no selector and matching selectors;
  // targetRef policies are ignored by sidecars.
  EXPECT_EQ(names,
            (std::vector<std::string>{"foo/for-httpbin", "foo/ns-wide", "istio-system/mesh-wide",
                                      "istio-system/root-selector"}));
  auto compiled = compileAuthzForWorkload(*snap, *w, authzContextFor(*snap));
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->policyCount(), 4u);
}

TEST(AuthzSelect, ContextCarriesTrustDomainAndAliases) {
  model::Organization org;
  org.meta.kind = "Organization";
  org.meta.name = "acme";
  org.trust_domain = "td1";
  org.trust_domain_aliases = {"td2"};
  std::vector<model::Resource> resources;
  resources.emplace_back(org);
  auto snap = config::makeSnapshot(std::move(resources));
  const AuthzContext ctx = authzContextFor(*snap);
  EXPECT_EQ(ctx.trust_domain, "td1");
  EXPECT_EQ(ctx.trust_domain_aliases, (std::vector<std::string>{"td2"}));
}

}  // namespace
}  // namespace meshsim::policy
