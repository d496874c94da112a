#pragma once
// The self-contained HTML report of `meshsim run --report`: per scenario the topology as inline
// SVG (Graphviz), every step with its note, outcome and assertions, per-version latency and
// status tables from the telemetry, and the audit records made during the run.
#include <string>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/scenario/runner.h"

namespace meshsim::report {

/// The HTML document. The topology picture is omitted (with a note saying why) when Graphviz
/// cannot lay it out; never fails otherwise.
std::string htmlReport(const std::vector<scenario::ScenarioResult>& results);

/// `text` escaped for HTML element content and attribute values. Pure.
std::string htmlEscape(const std::string& text);

}  // namespace meshsim::report
