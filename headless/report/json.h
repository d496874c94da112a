#pragma once
// The JSON report of `meshsim run --json`: every scenario with its steps, assertions, traffic,
// probes, changes and the audit records made during the run.
#include <string>
#include <vector>

#include "meshsim/scenario/runner.h"

namespace meshsim::report {

/// {"passed": bool, "scenarios": [...]} pretty-printed. Pure.
std::string scenarioJson(const std::vector<scenario::ScenarioResult>& results);

}  // namespace meshsim::report
