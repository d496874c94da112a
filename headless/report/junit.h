#pragma once
// JUnit XML for `meshsim run --junit`: one <testsuite> per scenario, one <testcase> per assertion
// (plus one per apply/delete step that expects an error, and one for a step that could not run),
// in the schema CI systems read (Jenkins, GitLab, GitHub test reporters).
#include <string>
#include <vector>

#include "meshsim/scenario/runner.h"

namespace meshsim::report {

/// The JUnit XML document for `results`. Pure.
std::string junitXml(const std::vector<scenario::ScenarioResult>& results);

/// `text` with &, <, >, " and ' escaped and control characters other than tab and newline
/// dropped (XML 1.0 cannot carry them). Pure.
std::string xmlEscape(const std::string& text);

}  // namespace meshsim::report
