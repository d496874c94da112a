// `meshsim run` as CI runs it: the shipped bookinfo scenario passes and writes JUnit, JSON and
// HTML; a scenario with a wrong expectation fails with "expected ... observed ..."; invalid
// scenarios exit 2 with file:line:col errors and run nothing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <unistd.h>

#include "support/paths.h"
#include "support/process.h"

namespace meshsim::testing {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "meshsim-run-test-XXXXXX").string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  EXPECT_NE(::mkdtemp(buf.data()), nullptr);
  return buf.data();
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

// A small XML well-formedness check: tags nest and close in order, attributes are quoted, and
// no raw '<' or '&' appears outside markup and entities.
bool wellFormed(const std::string& xml, std::string& problem) {
  std::vector<std::string> stack;
  size_t i = xml.find("?>");
  if (xml.rfind("<?xml", 0) != 0 || i == std::string::npos) {
    problem = "no XML declaration";
    return false;
  }
  i += 2;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      size_t semi = xml.find(';', i);
      std::string ent = xml.substr(i, semi == std::string::npos ? 8 : semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;") {
        problem = "bad entity " + ent;
        return false;
      }
      i = semi + 1;
      continue;
    }
    if (xml[i] != '<') {
      ++i;
      continue;
    }
    size_t end = i + 1;
    char quote = 0;
    while (end < xml.size() && (quote != 0 || xml[end] != '>')) {
      if (quote == 0 && (xml[end] == '"' || xml[end] == '\'')) {
        quote = xml[end];
      } else if (quote != 0 && xml[end] == quote) {
        quote = 0;
      } else if (quote != 0 && xml[end] == '<') {
        problem = "raw < in an attribute";
        return false;
      }
      ++end;
    }
    std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag.empty()) {
      problem = "empty tag";
      return false;
    }
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) {
        problem = "unbalanced </" + tag.substr(1) + ">";
        return false;
      }
      stack.pop_back();
    } else if (tag.back() != '/') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
    }
    i = end + 1;
  }
  if (!stack.empty()) problem = "unclosed <" + stack.back() + ">";
  return stack.empty();
}

TEST(RunCli, BookinfoPassesAndWritesReports) {
  std::string dir = tempDir();
  auto r = runMeshsim({"run", sourceRoot("scenarios/bookinfo"), "--junit", dir + "/junit.xml", "--json",
                       dir + "/run.json", "--report", dir + "/report.html"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS bookinfo"), std::string::npos) << r.out;

  std::string xml = readFile(dir + "/junit.xml");
  std::string problem;
  EXPECT_TRUE(wellFormed(xml, problem)) << problem << "\n" << xml;
  EXPECT_EQ(count(xml, "<testsuite "), 1u);
  EXPECT_NE(xml.find("<testsuite name=\"bookinfo\""), std::string::npos);
  EXPECT_NE(xml.find("failures=\"0\" errors=\"0\""), std::string::npos) << xml;
  EXPECT_EQ(count(xml, "<failure"), 0u);
  EXPECT_GE(count(xml, "<testcase "), 15u);

  auto doc = nlohmann::json::parse(readFile(dir + "/run.json"), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["passed"], true);
  EXPECT_EQ(doc["scenarios"][0]["name"], "bookinfo");
  EXPECT_EQ(doc["scenarios"][0]["failedAssertions"], 0);
  EXPECT_FALSE(doc["scenarios"][0]["audit"].empty());

  std::string html = readFile(dir + "/report.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("zack"), std::string::npos);
  EXPECT_NE(html.find("STRICTER"), std::string::npos);  // a note of the scenario
  EXPECT_EQ(html.find("<script"), std::string::npos);   // self-contained, static
  std::filesystem::remove_all(dir);
}

TEST(RunCli, BrokenExpectationFailsTheRun) {
  std::string dir = tempDir();
  auto r = runMeshsim({"run", "-q", testData("scenarios/failing"), "--junit", dir + "/junit.xml"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL failing-example"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expected status 200, observed status 403"), std::string::npos) << r.out;
  std::string xml = readFile(dir + "/junit.xml");
  std::string problem;
  EXPECT_TRUE(wellFormed(xml, problem)) << problem;
  EXPECT_EQ(count(xml, "<failure "), 1u) << xml;
  EXPECT_NE(xml.find("failures=\"1\""), std::string::npos);
  EXPECT_NE(xml.find("expected status 200, observed status 403"), std::string::npos) << xml;
  std::filesystem::remove_all(dir);
}

TEST(RunCli, InvalidScenariosExitTwoWithLocations) {
  struct Case {
    std::string file;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"scenarios/bad/unknown-step-field.yaml", "unknown-step-field.yaml:7:"},
      {"scenarios/bad/unknown-step-field.yaml", "traffic.requestz: unknown field"},
      {"scenarios/bad/bad-assertion.yaml", "spec.steps[0].expect[0].split.shares: shares add up to 110, not 100"},
      {"scenarios/bad/bad-assertion.yaml", "spec.steps[0].expect[1].request.from"},
      {"scenarios/bad/missing-file.yaml", "\"no-such-folder\" does not exist"},
      {"scenarios/bad/missing-file.yaml", "expected a duration such as 25h"},
  };
  for (const auto& c : cases) {
    auto r = runMeshsim({"run", testData(c.file)});
    EXPECT_EQ(r.exit_code, 2) << c.file << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.file << ": no \"" << c.needle << "\" in\n" << r.err;
    EXPECT_NE(r.err.find("nothing ran"), std::string::npos) << r.err;
  }
}

TEST(RunCli, MissingScenarioAndUnwritableReport) {
  auto r = runMeshsim({"run", testData("scenarios/no-such-scenario")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot read the file"), std::string::npos) << r.err;
  auto w = runMeshsim({"run", "-q", testData("scenarios/failing"), "--junit", "/dev/null/x/junit.xml"});
  EXPECT_EQ(w.exit_code, 2) << w.err;
  EXPECT_NE(w.err.find("cannot write the JUnit XML"), std::string::npos) << w.err;
  auto u = runMeshsim({"run"});
  EXPECT_EQ(u.exit_code, 2);
}

}  // namespace
}  // namespace meshsim::testing
