// Scenario parsing: typed steps from YAML, and every bad input named by file:line:col and field.
#include <gtest/gtest.h>

#include "meshsim/scenario/scenario.h"

namespace meshsim::scenario {
namespace {

std::string doc(const std::string& steps) {
  return "apiVersion: meshsim/v1\nkind: Scenario\nmetadata: {name: t}\nspec:\n  steps:\n" + steps;
}

TEST(ScenarioParse, TypedSteps) {
  auto p = parseScenarioText(doc(R"(  - note: hello
  - apply:
      resources:
      - {apiVersion: meshsim/v1, kind: Tenant, metadata: {name: retail}}
    as: alice
    expectError: PermissionDenied
  - delete: {resources: [{kind: ServiceRoute, tenant: retail, workspace: w, group: g, name: canary}]}
    as: zack
  - traffic: {from: ns/a, to: ns/b, requests: 20, concurrency: 3, method: POST, path: /x, headers: {x-a: "1"}, jwt: {claims: {sub: bob, scope: read, exp: 100}}}
  - advanceTime: 1h30m
  - name: t1
    attack: {stealToken: {user: alice}, from: outside, probes: [{to: ns/b, path: /y}]}
  - expect:
    - statuses: {200: 18, reset: 2, tolerance: 1}
    - split: {service: ns/b, shares: {v1: 90, v2: 10}, tolerance: 3}
    - mtls: {edges: all}
    - request: {from: stolen:ns/a, to: ns/b, jwt: {stolen: t1}, status: 403, stage: authz, policy: ns/p}
    - audit: {user: zack, outcome: refused, count: 2}
    - effective: {workload: ns/a, trafficMode: REQUIRED}
    - blastRadius: {workload: ns/a, reached: [ns/b], hops: 2}
    - attack: {reached: [ns/b], refused: [ns/c]}
)"),
                              "dir/scenario.yaml");
  ASSERT_TRUE(p.scenario) << (p.diagnostics.items().empty() ? "" : p.diagnostics.items()[0].toString());
  const auto& s = p.scenario->steps;
  ASSERT_EQ(s.size(), 7u);
  EXPECT_EQ(s[0].kind, StepKind::kNote);
  EXPECT_EQ(s[0].note, "hello");
  EXPECT_EQ(s[1].kind, StepKind::kApply);
  EXPECT_EQ(s[1].user, "alice");
  EXPECT_EQ(s[1].expect_error, "PermissionDenied");
  ASSERT_EQ(s[1].resources.size(), 1u);
  EXPECT_EQ(s[1].where.line, 7u);
  ASSERT_EQ(s[2].delete_keys.size(), 1u);
  EXPECT_EQ(s[2].delete_keys[0].toString(), "ServiceRoute retail/w/g/canary");
  EXPECT_EQ(s[3].requests, 20u);
  EXPECT_EQ(s[3].concurrency, 3u);
  EXPECT_EQ(s[3].traffic.method, "POST");
  EXPECT_EQ(s[3].traffic.jwt.kind, JwtSpec::Kind::kClaims);
  EXPECT_EQ(s[3].traffic.jwt.claims_json, R"({"exp":100,"scope":"read","sub":"bob"})");
  EXPECT_EQ(s[4].advance_seconds, 5400);
  EXPECT_EQ(s[5].attack.kind, AttackSpec::Kind::kStolenToken);
  EXPECT_EQ(s[5].attack.token.user, "alice");
  const auto& a = s[6].assertions;
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(a[0].statuses.at(0), 2u);
  EXPECT_EQ(a[0].tolerance_count, 1u);
  EXPECT_EQ(a[1].shares.at("v2"), 10);
  EXPECT_EQ(a[1].tolerance, 3);
  EXPECT_TRUE(a[2].edges.empty());
  EXPECT_EQ(a[3].status, 403);
  EXPECT_EQ(a[3].request.jwt.kind, JwtSpec::Kind::kStolen);
  EXPECT_EQ(a[4].count, 2u);
  EXPECT_TRUE(a[6].exact);
  EXPECT_EQ(a[6].hops, 2u);
  EXPECT_EQ(a[7].excludes, std::vector<std::string>{"ns/c"});
  EXPECT_EQ(describeAssertion(a[1]), "split ns/b v1=90% v2=10% (±3)");
}

TEST(ScenarioParse, Durations) {
  EXPECT_EQ(*parseStepDuration("25h"), 25 * 3600 * 1000);
  EXPECT_EQ(*parseStepDuration("2d"), 2 * 86400 * 1000);
  EXPECT_EQ(*parseStepDuration("1h30m"), 5400 * 1000);
  EXPECT_EQ(*parseStepDuration("500ms"), 500);
  for (const char* bad : {"", "h", "25", "25 hours", "-1h", "1y", "99999999999999h"}) {
    EXPECT_FALSE(parseStepDuration(bad).ok()) << bad;
  }
}

struct BadCase {
  std::string steps;
  std::string expected;  // the diagnostic, as printed
};

TEST(ScenarioParse, BadInputsNameFileLineAndField) {
  const std::vector<BadCase> cases = {
      {"  - traffic: {to: ns/b, requestz: 5}\n",
       "s.yaml:6:25: error: spec.steps[0].traffic.requestz: unknown field (expected one of concurrency, duration, from, headers, "
       "jwt, method, path, port, requests, to)"},
      {"  - traffic: {from: ns/a}\n", "s.yaml:6:14: error: spec.steps[0].traffic.to: required: the Service to call, NS/NAME"},
      {"  - traffic: {to: ns/b, requests: 0}\n",
       "s.yaml:6:35: error: spec.steps[0].traffic.requests: 0 is out of range [1, 1000000]"},
      {"  - traffic: {to: nsb}\n", "s.yaml:6:19: error: spec.steps[0].traffic.to: expected NS/NAME, got \"nsb\""},
      {"  - advanceTime: soon\n",
       "s.yaml:6:18: error: spec.steps[0].advanceTime: expected a duration such as 25h, 90m, 1h30m, 45s, 2d or "
       "500ms, got \"soon\""},
      {"  - apply: {files: [x.yaml]}\n    expectError: Nope\n",
       "s.yaml:7:18: error: spec.steps[0].expectError: expected PermissionDenied, FailedPrecondition, "
       "InvalidArgument, NotFound, AlreadyExists or any"},
      {"  - apply: {files: [missing.yaml]}\n",
       "s.yaml:6:21: error: spec.steps[0].apply.files: \"missing.yaml\" does not exist (relative to .)"},
      {"  - expect: [{colour: red}]\n",
       "s.yaml:6:14: error: spec.steps[0].expect[0]: an assertion is one of request, split, mtls, statuses, "
       "blastRadius, audit, effective, attack"},
      {"  - expect:\n    - split: {service: a/b, shares: {v1: 50}}\n",
       "s.yaml:7:37: error: spec.steps[0].expect[0].split.shares: shares add up to 50, not 100"},
      {"  - expect:\n    - request: {to: a/b}\n",
       "s.yaml:7:16: error: spec.steps[0].expect[0].request: say what to expect: status, body, bodyContains, "
       "stage, policy, mtls or version"},
      {"  - expect:\n    - request: {to: a/b, stage: nowhere}\n",
       "s.yaml:7:33: error: spec.steps[0].expect[0].request.stage: expected none, request, route, transport, "
       "peer_authn, jwt, authz, ratelimit or app"},
      {"  - expect:\n    - attack: {refused: [a/b]}\n",
       "s.yaml:7:15: error: spec.steps[0].expect[0].attack: no earlier attack step to check"},
      {"  - traffic: {to: a/b, jwt: {stolen: t9}}\n",
       "s.yaml:6:38: error: spec.steps[0].traffic.jwt.stolen: no earlier attack step named \"t9\" stole a token"},
      {"  - attack: {outsider: true, forged: x}\n",
       "s.yaml:6:13: error: spec.steps[0].attack: give exactly one of compromise, outsider, forged or stealToken"},
      {"  - attack: {stealToken: {user: a}, probes: [{to: a/b}]}\n",
       "s.yaml:6:13: error: name: a stealToken step needs a name: later requests replay it with jwt: {stolen: NAME}"},
      {"  - note: x\n    as: alice\n", "s.yaml:7:9: error: spec.steps[0].as: only apply and delete steps take as"},
      {"  - frobnicate: 1\n",
       "s.yaml:6:5: error: spec.steps[0]: a step needs one of apply, delete, traffic, advanceTime, attack, expect or note"},
  };
  for (const auto& c : cases) {
    auto p = parseScenarioText(doc(c.steps), "s.yaml");
    EXPECT_FALSE(p.scenario) << c.steps;
    bool found = false;
    std::string all;
    for (const auto& d : p.diagnostics.items()) {
      all += d.toString() + "\n";
      found = found || d.toString() == c.expected;
    }
    EXPECT_TRUE(found) << "want: " << c.expected << "\ngot:\n" << all;
  }
}

TEST(ScenarioParse, FileLevelProblems) {
  auto none = parseScenarioText("apiVersion: meshsim/v1\nkind: Tenant\nmetadata: {name: x}\n", "s.yaml");
  EXPECT_FALSE(none.scenario);
  auto syntax = parseScenarioText("apiVersion: meshsim/v1\nkind: Scenario\n  bad: [\n", "s.yaml");
  EXPECT_FALSE(syntax.scenario);
  EXPECT_TRUE(syntax.diagnostics.hasErrors());
  auto missing = loadScenario("/nonexistent/scenario-dir");
  ASSERT_EQ(missing.diagnostics.items().size(), 1u);
  EXPECT_EQ(missing.diagnostics.items()[0].toString(), "/nonexistent/scenario-dir: error: cannot read the file");
  auto empty = parseScenarioText(doc(""), "s.yaml");
  EXPECT_FALSE(empty.scenario);
}

}  // namespace
}  // namespace meshsim::scenario
