#include "report/json.h"

#include <nlohmann/json.hpp>

namespace meshsim::report {

namespace {

using nlohmann::json;

json statusJson(int code) { return code == 0 ? json("reset") : json(code); }

json trafficJson(const scenario::TrafficSummary& t) {
  json by_status = json::object();
  for (const auto& [k, v] : t.result.by_status) by_status[k == 0 ? "reset" : std::to_string(k)] = v;
  return {{"from", t.from},
          {"to", t.to},
          {"method", t.method},
          {"path", t.path},
          {"sent", t.result.sent},
          {"byStatus", by_status},
          {"byVersion", t.result.by_version},
          {"byWorkload", t.result.by_workload},
          {"allMtls", t.result.all_mtls},
          {"p50Ms", t.result.p50_ms},
          {"p90Ms", t.result.p90_ms},
          {"p99Ms", t.result.p99_ms},
          {"maxMs", t.result.max_ms},
          {"seconds", t.result.seconds},
          {"errors", t.result.errors}};
}

json stepJson(const scenario::StepResult& s) {
  json j = {{"index", s.index + 1},
            {"kind", scenario::stepKindName(s.kind)},
            {"name", s.name},
            {"note", s.note},
            {"title", s.title},
            {"summary", s.summary},
            {"where", s.where.toString()},
            {"passed", s.passed},
            {"error", s.error},
            {"expectedError", s.expected_error},
            {"durationMs", s.duration_ms},
            {"simTime", s.sim_time_seconds}};
  j["changes"] = json::array();
  for (const auto& c : s.changes) {
    j["changes"].push_back({{"accepted", c.accepted},
                            {"code", statusCodeName(c.code)},
                            {"verb", c.verb},
                            {"kind", c.kind},
                            {"resource", c.resource},
                            {"result", c.result},
                            {"message", c.message},
                            {"diff", c.diff},
                            {"auditSeq", c.audit_seq}});
  }
  j["traffic"] = s.traffic ? trafficJson(*s.traffic) : json(nullptr);
  j["probes"] = json::array();
  for (const auto& p : s.probes) {
    j["probes"].push_back({{"from", p.from},
                           {"to", p.to},
                           {"method", p.method},
                           {"path", p.path},
                           {"status", statusJson(p.status)},
                           {"reached", p.reached()},
                           {"body", p.body.size() > 1024 ? p.body.substr(0, 1024) : p.body},
                           {"mtls", p.mtls},
                           {"servedBy", p.served_by},
                           {"error", p.error}});
  }
  j["assertions"] = json::array();
  for (const auto& a : s.assertions) {
    j["assertions"].push_back({{"kind", a.kind},
                               {"name", a.name},
                               {"passed", a.passed},
                               {"expected", a.expected},
                               {"observed", a.observed},
                               {"message", a.message()},
                               {"where", a.where.toString()}});
  }
  return j;
}

}  // namespace

std::string scenarioJson(const std::vector<scenario::ScenarioResult>& results) {
  json doc = {{"passed", true}, {"scenarios", json::array()}};
  for (const auto& r : results) {
    if (!r.passed()) doc["passed"] = false;
    json s = {{"name", r.name},
              {"file", r.file},
              {"description", r.description},
              {"passed", r.passed()},
              {"error", r.error},
              {"durationMs", r.duration_ms},
              {"startTime", r.start_time_seconds},
              {"assertions", r.assertionCount()},
              {"failedAssertions", r.failedAssertionCount()},
              {"steps", json::array()},
              {"audit", json::array()}};
    for (const auto& st : r.steps) s["steps"].push_back(stepJson(st));
    for (const auto& a : r.audit) {
      s["audit"].push_back({{"seq", a.seq},
                            {"time", a.time},
                            {"user", a.user},
                            {"verb", a.verb},
                            {"kind", a.kind},
                            {"resource", a.resource},
                            {"outcome", a.outcome},
                            {"reason", a.reason},
                            {"diff", a.diff},
                            {"hash", a.hash}});
    }
    doc["scenarios"].push_back(std::move(s));
  }
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace meshsim::report
