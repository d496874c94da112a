// `meshsim validate` as a user runs it: exit codes, messages, JSON, stdin, --help.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/paths.h"
#include "support/process.h"

namespace meshsim::testing {
namespace {

TEST(ValidateCommand, BookinfoIsValidAndSummarised) {
  auto r = runMeshsim({"validate", "-f", sourceRoot("scenarios/bookinfo")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("7 Workload"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 ServiceRoute"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("valid"), std::string::npos);
}

TEST(ValidateCommand, InvalidInputExitsOneWithEveryErrorOnStderr) {
  auto r = runMeshsim({"validate", "-f", "-"},
                      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
                      "metadata: {name: p}\nspec:\n  action: DENY\n  rulez: []\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("<stdin>:5:3: error: spec.rules: a DENY policy needs at least one rule"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("<stdin>:6:3: error: spec.rulez: unknown field \"rulez\" (did you mean \"rules\"?)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("invalid: 2 error(s)"), std::string::npos) << r.out;
}

TEST(ValidateCommand, UsageErrorsExitTwo) {
  EXPECT_EQ(runMeshsim({"validate"}).exit_code, 2);
  EXPECT_EQ(runMeshsim({"validate", "-f", "/nonexistent/x.yaml"}).exit_code, 2);
  EXPECT_EQ(runMeshsim({"validate", "-f", sourceRoot("scenarios/bookinfo"), "-o", "xml"}).exit_code, 2);
  EXPECT_EQ(runMeshsim({"frobnicate"}).exit_code, 2);
}

TEST(ValidateCommand, HelpIsAvailableForTheProgramAndTheVerb) {
  auto top = runMeshsim({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("validate"), std::string::npos);
  auto verb = runMeshsim({"validate", "--help"});
  EXPECT_EQ(verb.exit_code, 0);
  EXPECT_NE(verb.out.find("--filename"), std::string::npos);
  EXPECT_NE(verb.out.find("Exit status"), std::string::npos);
}

TEST(ValidateCommand, JsonOutputListsDiagnosticsWithPositions) {
  auto r = runMeshsim({"validate", "-o", "json", "-f", testData("invalid/17-authz-bad-action.yaml")});
  EXPECT_EQ(r.exit_code, 1);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_FALSE(doc["valid"].get<bool>());
  ASSERT_EQ(doc["diagnostics"].size(), 1u);
  EXPECT_EQ(doc["diagnostics"][0]["line"], 6);
  EXPECT_EQ(doc["diagnostics"][0]["column"], 11);
  EXPECT_EQ(doc["diagnostics"][0]["field"], "spec.action");
}

TEST(ValidateCommand, EveryMalformedCorpusFileFailsCleanly) {
  // Exit 1 (not a crash, not 2) for every malformed input.
  auto r = runMeshsim({"validate", "-f", testData("invalid")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("Segmentation"), std::string::npos);
}

}  // namespace
}  // namespace meshsim::testing
