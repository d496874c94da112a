#include "report/html.h"

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "meshsim/analysis/topology.h"
#include "report/graphviz.h"

namespace meshsim::report {

namespace {

std::string num(double v, int precision = 1) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

std::string statusText(int code) { return code == 0 ? "reset" : std::to_string(code); }

constexpr const char* kStyle = R"(<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#222;max-width:1400px}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.pass{color:#17803d;font-weight:bold}.fail{color:#c62828;font-weight:bold}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:.4em .8em;margin:.3em 0}
.step{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:.6em 0}.step.failed{border-color:#c62828}
.meta{color:#666;font-size:.9em}pre{background:#f6f8fa;padding:.5em;overflow:auto;font-size:.85em}
.topology svg{max-width:100%;height:auto}code{background:#f1f1f1;padding:0 .2em}
</style>)";

// Figures per edge from the destination sidecars' reports.
analysis::TopologyOverlay overlayOf(const scenario::ScenarioResult& r, bool& outside) {
  double seconds = 0;
  for (const auto& s : r.steps) {
    if (s.traffic) seconds += s.traffic->result.seconds;
  }
  struct Acc {
    observe::RequestStats stats;
    uint64_t errors = 0;
  };
  std::map<std::string, Acc> acc;
  for (const auto& [l, st] : r.telemetry.requests) {
    if (l.reporter != "destination" || l.destination_workload == "unknown") continue;
    std::string from = l.source_workload == "unknown" ? "outside" : l.source_workload_namespace + "/" + l.source_workload;
    outside = outside || from == "outside";
    auto& a = acc[analysis::edgeKey(from, l.destination_workload_namespace + "/" + l.destination_workload)];
    a.stats.merge(st);
    if (l.response_code == 0 || l.response_code >= 400) a.errors += st.count;
  }
  analysis::TopologyOverlay o;
  for (const auto& [k, a] : acc) {
    analysis::EdgeTraffic t;
    t.requests = a.stats.count;
    t.errors = a.errors;
    t.rps = seconds > 0 ? static_cast<double>(a.stats.count) / seconds : 0;
    t.p50_ms = a.stats.quantileMs(0.5);
    o.edges[k] = t;
  }
  return o;
}

void topology(std::ostringstream& out, const scenario::ScenarioResult& r) {
  out << "<h3>Topology at the end of the run</h3>\n";
  if (!r.final_config) {
    out << "<p class=\"meta\">No topology: the mesh did not start.</p>\n";
    return;
  }
  bool outside = false;
  analysis::TopologyOptions opts;
  opts.overlay = overlayOf(r, outside);
  opts.include_outside = outside;
  auto topo = analysis::buildTopology(r.final_config, opts);
  if (!topo.ok()) {
    out << "<p class=\"meta\">No topology: " << htmlEscape(topo.status().message()) << "</p>\n";
    return;
  }
  auto svg = renderSvg(analysis::toDot(*topo));
  if (!svg.ok()) {
    out << "<p class=\"meta\">No topology picture: " << htmlEscape(svg.status().toString()) << "</p>\n";
    return;
  }
  std::string text = *svg;
  auto pos = text.find("<svg");  // drop the XML prolog and DOCTYPE: the SVG is inline
  out << "<div class=\"topology\">" << (pos == std::string::npos ? text : text.substr(pos)) << "</div>\n";
  out << "<p class=\"meta\">Padlocks mark mutual-TLS edges; red dashed edges are refused by policy; edge labels "
         "show the configured split and the measured request rate over the run's traffic.</p>\n";
}

void versions(std::ostringstream& out, const scenario::ScenarioResult& r) {
  struct Row {
    observe::RequestStats stats;
    std::map<int, uint64_t> statuses;
    bool mtls = true;
  };
  std::map<std::pair<std::string, std::string>, Row> rows;
  for (const auto& [l, st] : r.telemetry.requests) {
    if (l.reporter != "destination" || l.destination_service_name == "unknown") continue;
    auto& row = rows[{l.destination_service_namespace + "/" + l.destination_service_name, l.destination_version}];
    row.stats.merge(st);
    row.statuses[l.response_code] += st.count;
    row.mtls = row.mtls && l.connection_security_policy == "mutual_tls";
  }
  out << "<h3>Per-version latency and status (istio_request_duration_milliseconds, destination reporter)</h3>\n";
  if (rows.empty()) {
    out << "<p class=\"meta\">No requests reached a sidecar.</p>\n";
    return;
  }
  out << "<table><tr><th>service</th><th>version</th><th>requests</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>"
         "<th>mean ms</th><th>statuses</th><th>mTLS</th></tr>\n";
  for (const auto& [k, row] : rows) {
    std::string statuses;
    for (const auto& [c, n] : row.statuses) statuses += (statuses.empty() ? "" : ", ") + statusText(c) + ": " + std::to_string(n);
    double mean = row.stats.count == 0 ? 0 : row.stats.duration_sum_ms / static_cast<double>(row.stats.count);
    out << "<tr><td>" << htmlEscape(k.first) << "</td><td>" << htmlEscape(k.second) << "</td><td>" << row.stats.count
        << "</td><td>" << num(row.stats.quantileMs(0.5), 2) << "</td><td>" << num(row.stats.quantileMs(0.9), 2)
        << "</td><td>" << num(row.stats.quantileMs(0.99), 2) << "</td><td>" << num(mean, 2) << "</td><td>"
        << htmlEscape(statuses) << "</td><td>" << (row.mtls ? "&#128274; yes" : "no") << "</td></tr>\n";
  }
  out << "</table>\n";
}

void step(std::ostringstream& out, const scenario::StepResult& s) {
  out << "<div class=\"step" << (s.passed ? "" : " failed") << "\"><div><span class=\""
      << (s.passed ? "pass\">&#10003;" : "fail\">&#10007;") << "</span> <b>Step " << s.index + 1 << "</b> "
      << htmlEscape(s.summary) << " <span class=\"meta\">(" << htmlEscape(s.where.toString()) << ", "
      << num(s.duration_ms, 0) << " ms)</span></div>\n";
  if (!s.note.empty()) out << "<div class=\"note\">" << htmlEscape(s.note) << "</div>\n";
  if (!s.error.empty()) out << "<div class=\"fail\">" << htmlEscape(s.error) << "</div>\n";
  if (!s.changes.empty()) {
    out << "<table><tr><th>change</th><th>outcome</th><th>audit</th></tr>\n";
    for (const auto& c : s.changes) {
      out << "<tr><td>" << htmlEscape(c.verb + " " + c.kind + " " + c.resource) << "</td><td>"
          << (c.accepted ? "<span class=\"pass\">" + htmlEscape(c.result) + "</span>"
                         : "<span class=\"fail\">" + htmlEscape(std::string(statusCodeName(c.code))) + "</span>: " +
                               htmlEscape(c.message))
          << "</td><td>#" << c.audit_seq << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  if (s.traffic) {
    const auto& t = s.traffic->result;
    out << "<table><tr><th>sent</th><th>statuses</th><th>versions</th><th>p50 / p90 / p99 ms</th><th>all mTLS</th></tr><tr><td>"
        << t.sent << "</td><td>";
    for (const auto& [c, n] : t.by_status) out << htmlEscape(statusText(c)) << ": " << n << "<br>";
    out << "</td><td>";
    for (const auto& [v, n] : t.by_version) out << htmlEscape(v.empty() ? "(none)" : v) << ": " << n << "<br>";
    out << "</td><td>" << num(t.p50_ms, 2) << " / " << num(t.p90_ms, 2) << " / " << num(t.p99_ms, 2) << "</td><td>"
        << (t.all_mtls ? "yes" : "no") << "</td></tr></table>\n";
  }
  if (!s.probes.empty()) {
    out << "<table><tr><th>probe</th><th>status</th><th>body</th><th>mTLS</th></tr>\n";
    for (const auto& p : s.probes) {
      out << "<tr><td>" << htmlEscape(p.from + " -> " + p.to + " " + p.method + " " + p.path) << "</td><td class=\""
          << (p.reached() ? "fail" : "pass") << "\">" << htmlEscape(statusText(p.status)) << "</td><td>"
          << htmlEscape(p.body.size() > 200 ? p.body.substr(0, 200) + "..." : p.body)
          << (p.error.empty() ? "" : " <i>" + htmlEscape(p.error) + "</i>") << "</td><td>" << (p.mtls ? "yes" : "no")
          << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  if (!s.assertions.empty()) {
    out << "<table><tr><th></th><th>assertion</th><th>expected</th><th>observed</th></tr>\n";
    for (const auto& a : s.assertions) {
      out << "<tr><td class=\"" << (a.passed ? "pass\">&#10003;" : "fail\">&#10007;") << "</td><td>"
          << htmlEscape(a.name) << "</td><td>" << htmlEscape(a.expected) << "</td><td>" << htmlEscape(a.observed)
          << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  out << "</div>\n";
}

void audit(std::ostringstream& out, const scenario::ScenarioResult& r) {
  out << "<h3>Audit records made during the run</h3>\n";
  if (r.audit.empty()) {
    out << "<p class=\"meta\">None.</p>\n";
    return;
  }
  out << "<table><tr><th>#</th><th>time</th><th>user</th><th>verb</th><th>resource</th><th>outcome</th><th>reason</th>"
         "<th>diff</th></tr>\n";
  for (const auto& a : r.audit) {
    out << "<tr><td>" << a.seq << "</td><td>" << htmlEscape(a.time) << "</td><td>" << htmlEscape(a.user) << "</td><td>"
        << htmlEscape(a.verb) << "</td><td>" << htmlEscape(a.kind + " " + a.resource) << "</td><td class=\""
        << (a.outcome == "accepted" ? "pass" : "fail") << "\">" << htmlEscape(a.outcome) << "</td><td>"
        << htmlEscape(a.reason) << "</td><td>";
    if (!a.diff.empty()) out << "<details><summary>diff</summary><pre>" << htmlEscape(a.diff) << "</pre></details>";
    out << "</td></tr>\n";
  }
  out << "</table>\n";
}

}  // namespace

std::string htmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string htmlReport(const std::vector<scenario::ScenarioResult>& results) {
  std::ostringstream out;
  bool all = true;
  for (const auto& r : results) all = all && r.passed();
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>meshsim run report</title>\n"
      << kStyle << "</head><body>\n<h1>meshsim run: <span class=\"" << (all ? "pass\">passed" : "fail\">failed")
      << "</span></h1>\n<ul>\n";
  for (const auto& r : results) {
    out << "<li><a href=\"#scenario-" << htmlEscape(r.name) << "\">" << htmlEscape(r.name) << "</a> <span class=\""
        << (r.passed() ? "pass\">passed" : "fail\">failed") << "</span> (" << r.assertionCount() - r.failedAssertionCount()
        << "/" << r.assertionCount() << " assertions, " << num(r.duration_ms / 1000.0, 1) << " s)</li>\n";
  }
  out << "</ul>\n";
  for (const auto& r : results) {
    out << "<h2 id=\"scenario-" << htmlEscape(r.name) << "\">" << htmlEscape(r.name) << " <span class=\""
        << (r.passed() ? "pass\">passed" : "fail\">failed") << "</span></h2>\n<p>" << htmlEscape(r.description)
        << "</p><p class=\"meta\">" << htmlEscape(r.file) << "</p>\n";
    if (!r.error.empty()) out << "<p class=\"fail\">" << htmlEscape(r.error) << "</p>\n";
    topology(out, r);
    out << "<h3>Steps</h3>\n";
    for (const auto& s : r.steps) step(out, s);
    versions(out, r);
    audit(out, r);
  }
  out << "</body></html>\n";
  return out.str();
}

}  // namespace meshsim::report
