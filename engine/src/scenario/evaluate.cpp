// Assertions of scenarios: pure checks against observations, and the glue that gathers those
// observations from the running mesh.
#include "scenario/evaluate.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "meshsim/analysis/blast_radius.h"
#include "meshsim/analysis/reachability.h"
#include "meshsim/mgmt/hierarchy.h"
#include "meshsim/mgmt/settings.h"
#include "meshsim/policy/decision.h"

namespace meshsim::scenario {

namespace {

AssertionResult start(const Assertion& a) {
  AssertionResult r;
  r.kind = assertionKindName(a.kind);
  r.name = describeAssertion(a);
  r.where = a.where;
  return r;
}

AssertionResult fail(AssertionResult r, std::string expected, std::string observed) {
  r.passed = false;
  r.expected = std::move(expected);
  r.observed = std::move(observed);
  return r;
}

std::string fmt(double v) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(1);
  s << v;
  std::string out = s.str();
  if (out.size() > 2 && out.substr(out.size() - 2) == ".0") out.resize(out.size() - 2);
  return out;
}

std::string statusText(int code) { return code == 0 ? "reset" : std::to_string(code); }

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string setText(const std::set<std::string>& s) {
  return "{" + join(std::vector<std::string>(s.begin(), s.end())) + "}";
}

std::pair<std::string, std::string> splitNs(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

// The claims of an IdentityProvider user's token at `now`.
Result<nlohmann::json> userClaims(const std::string& subject, const config::Snapshot& config, int64_t now) {
  for (const auto* idp : config.identity_providers) {
    for (const auto& u : idp->users) {
      if (u.subject != subject) continue;
      nlohmann::json c = nlohmann::json::object();
      for (const auto& [k, v] : u.claims) c[k] = v;
      c["sub"] = subject;
      c["iss"] = idp->issuer;
      if (!idp->audiences.empty()) c["aud"] = idp->audiences.front();
      c["iat"] = now;
      c["exp"] = now + idp->token_ttl.millis / 1000;
      return c;
    }
  }
  return invalidArgument("jwt.user: no IdentityProvider lists a user \"" + subject + "\"");
}

}  // namespace

observe::TelemetrySnapshot telemetryDelta(const observe::TelemetrySnapshot& before,
                                          const observe::TelemetrySnapshot& after) {
  std::map<observe::RequestLabels, const observe::RequestStats*> old;
  for (const auto& [l, s] : before.requests) old[l] = &s;
  observe::TelemetrySnapshot out;
  for (const auto& [l, s] : after.requests) {
    observe::RequestStats d = s;
    auto it = old.find(l);
    if (it != old.end()) {
      const auto& o = *it->second;
      d.count = s.count >= o.count ? s.count - o.count : 0;
      d.duration_sum_ms = s.duration_sum_ms - o.duration_sum_ms;
      for (size_t i = 0; i < d.buckets.size(); ++i) {
        d.buckets[i] = s.buckets[i] >= o.buckets[i] ? s.buckets[i] - o.buckets[i] : 0;
      }
    }
    if (d.count > 0) out.requests.emplace_back(l, d);
  }
  return out;
}

AssertionResult checkRequest(const Assertion& a, const LiveCheck& live) {
  AssertionResult r = start(a);
  std::vector<std::string> exp, obs;
  bool ok = true;
  const auto& o = live.observed;
  const auto& p = live.predicted;
  if (a.status) {
    exp.push_back("status " + statusText(*a.status));
    obs.push_back("status " + statusText(o.status));
    ok = ok && o.status == *a.status;
  }
  if (a.body) {
    exp.push_back("body \"" + *a.body + "\"");
    obs.push_back("body \"" + o.body + "\"");
    ok = ok && o.body == *a.body;
  }
  if (a.body_contains) {
    exp.push_back("body containing \"" + *a.body_contains + "\"");
    obs.push_back("body \"" + (o.body.size() > 120 ? o.body.substr(0, 117) + "..." : o.body) + "\"");
    ok = ok && o.body.find(*a.body_contains) != std::string::npos;
  }
  if (a.stage) {
    exp.push_back("stage " + *a.stage);
    obs.push_back(std::string("stage ") + policy::stageName(p.stage));
    ok = ok && *a.stage == policy::stageName(p.stage);
  }
  if (a.policy) {
    exp.push_back("policy " + (a.policy->empty() ? std::string("(none)") : *a.policy));
    obs.push_back("policy " + (p.policy.empty() ? std::string("(none)") : p.policy));
    ok = ok && *a.policy == p.policy;
  }
  if (a.mtls) {
    exp.push_back(std::string("mtls ") + (*a.mtls ? "yes" : "no"));
    obs.push_back(std::string("mtls ") + (o.mtls ? "yes" : "no"));
    ok = ok && *a.mtls == o.mtls;
  }
  if (a.version) {
    exp.push_back("version " + *a.version);
    obs.push_back("version " + (o.version.empty() ? std::string("(none)") : o.version));
    ok = ok && *a.version == o.version;
  }
  if ((a.stage || a.policy) && !live.agree) {
    // Stage and policy come from the prediction; they only describe the live outcome when both agree.
    ok = false;
    obs.push_back("prediction and live mesh disagree (" + join(live.differences, "; ") + ")");
  }
  if (!o.error.empty() && !ok) obs.push_back("transport: " + o.error);
  r.passed = ok;
  r.expected = join(exp);
  r.observed = join(obs);
  return r;
}

AssertionResult checkSplit(const Assertion& a, const observe::TelemetrySnapshot& delta,
                           const config::Snapshot& config) {
  AssertionResult r = start(a);
  auto [ns, name] = splitNs(a.service);
  std::map<std::string, model::StringMap> subsets;
  for (const auto* dr : config.destination_rules) {
    const std::string& h = dr->host;
    const bool short_host = h == name && dr->meta.namespace_ == ns;
    const bool long_host = h == name + "." + ns || h.rfind(name + "." + ns + ".", 0) == 0;
    if (!short_host && !long_host) continue;
    for (const auto& s : dr->subsets) subsets.emplace(s.name, s.labels);
  }
  auto inShare = [&](const std::string& share, const observe::RequestLabels& l) {
    const model::Workload* w = config.findWorkload(l.destination_workload_namespace, l.destination_workload);
    auto sub = subsets.find(share);
    if (sub != subsets.end() && w != nullptr) {
      for (const auto& [k, v] : sub->second) {
        auto it = w->labels.find(k);
        if (it == w->labels.end() || it->second != v) return false;
      }
      return true;
    }
    return l.destination_version == share;
  };
  std::map<std::string, uint64_t> counts;
  uint64_t total = 0;
  for (const char* reporter : {"destination", "source"}) {
    for (const auto& [l, s] : delta.requests) {
      if (l.reporter != reporter || l.destination_service_name != name ||
          l.destination_service_namespace != ns || l.destination_workload == "unknown") {
        continue;
      }
      total += s.count;
      for (const auto& [share, pct] : a.shares) {
        if (inShare(share, l)) counts[share] += s.count;
      }
    }
    if (total > 0) break;
  }
  std::vector<std::string> exp, obs;
  bool ok = total > 0;
  for (const auto& [share, pct] : a.shares) {
    double got = total == 0 ? 0 : 100.0 * static_cast<double>(counts[share]) / static_cast<double>(total);
    exp.push_back(share + " " + fmt(pct) + "%");
    obs.push_back(share + " " + fmt(got) + "%");
    if (got < pct - a.tolerance || got > pct + a.tolerance) ok = false;
  }
  r.passed = ok;
  r.expected = join(exp) + " (±" + fmt(a.tolerance) + ")";
  r.observed = total == 0 ? "no request answered by " + a.service + " during the last traffic step"
                          : join(obs) + " of " + std::to_string(total) + " requests";
  return r;
}

AssertionResult checkMtls(const Assertion& a, const observe::TelemetrySnapshot& delta) {
  AssertionResult r = start(a);
  struct Edge {
    uint64_t mtls = 0, plain = 0;
    std::string service;
  };
  std::map<std::string, Edge> edges;  // "src -> dst workload"
  for (const auto& [l, s] : delta.requests) {
    if (l.reporter != "destination" || l.source_workload == "unknown" || l.destination_workload == "unknown") {
      continue;
    }
    std::string key = l.source_workload_namespace + "/" + l.source_workload + " -> " +
                      l.destination_workload_namespace + "/" + l.destination_workload;
    Edge& e = edges[key];
    e.service = l.destination_service_namespace + "/" + l.destination_service_name;
    (l.connection_security_policy == "mutual_tls" ? e.mtls : e.plain) += s.count;
  }
  std::vector<std::string> bad;
  bool ok = true;
  if (a.edges.empty()) {
    r.expected = "mutual TLS on every edge of the last traffic step";
    if (edges.empty()) {
      ok = false;
      bad.push_back("no edge between mesh workloads carried traffic");
    }
    for (const auto& [k, e] : edges) {
      if (e.plain > 0) bad.push_back(k + " plaintext for " + std::to_string(e.plain) + " requests");
    }
    ok = ok && bad.empty();
    r.observed = ok ? "mutual TLS on all " + std::to_string(edges.size()) + " edges" : join(bad, "; ");
  } else {
    r.expected = "mutual TLS on " + join(a.edges, ", ");
    for (const auto& want : a.edges) {
      auto arrow = want.find(" -> ");
      std::string src = want.substr(0, arrow), dst = want.substr(arrow + 4);
      uint64_t m = 0, p = 0;
      for (const auto& [k, e] : edges) {
        auto ka = k.find(" -> ");
        if (k.substr(0, ka) != src) continue;
        if (k.substr(ka + 4) != dst && e.service != dst) continue;
        m += e.mtls;
        p += e.plain;
      }
      if (m + p == 0) {
        bad.push_back(want + " carried no traffic");
      } else if (p > 0) {
        bad.push_back(want + " plaintext for " + std::to_string(p) + " of " + std::to_string(m + p) + " requests");
      }
    }
    ok = bad.empty();
    r.observed = ok ? "mutual TLS on every named edge" : join(bad, "; ");
  }
  r.passed = ok;
  return r;
}

AssertionResult checkStatuses(const Assertion& a, const dataplane::TrafficResult& t) {
  AssertionResult r = start(a);
  std::vector<std::string> exp, obs;
  bool ok = true;
  std::set<int> codes;
  for (const auto& [c, n] : a.statuses) codes.insert(c);
  for (const auto& [c, n] : t.by_status) codes.insert(c);
  for (int c : codes) {
    auto e = a.statuses.find(c);
    auto o = t.by_status.find(c);
    uint64_t want = e == a.statuses.end() ? 0 : e->second;
    uint64_t got = o == t.by_status.end() ? 0 : o->second;
    if (e != a.statuses.end()) exp.push_back(statusText(c) + ": " + std::to_string(want));
    if (got > 0) obs.push_back(statusText(c) + ": " + std::to_string(got));
    uint64_t diff = want > got ? want - got : got - want;
    if (diff > a.tolerance_count) ok = false;
  }
  r.passed = ok;
  r.expected = join(exp) + (a.tolerance_count > 0 ? " (±" + std::to_string(a.tolerance_count) + ")" : "");
  r.observed = obs.empty() ? "no requests" : join(obs);
  return r;
}

AssertionResult checkAudit(const Assertion& a, const std::vector<mgmt::AuditRecord>& records) {
  AssertionResult r = start(a);
  uint64_t n = 0;
  std::vector<std::string> seen;
  for (const auto& rec : records) {
    if (!a.user.empty() && rec.user != a.user) continue;
    if (!a.verb.empty() && rec.verb != a.verb) continue;
    if (!a.outcome.empty() && rec.outcome != a.outcome) continue;
    if (!a.audit_kind.empty() && rec.kind != a.audit_kind) continue;
    if (!a.resource.empty() && rec.resource.find(a.resource) == std::string::npos) continue;
    ++n;
    if (seen.size() < 3) seen.push_back("#" + std::to_string(rec.seq) + " " + rec.verb + " " + rec.resource + " " + rec.outcome);
  }
  r.passed = a.count ? n == *a.count : n > 0;
  r.expected = a.count ? std::to_string(*a.count) + " matching record(s)" : "at least one matching record";
  r.observed = std::to_string(n) + " matching record(s)" + (seen.empty() ? "" : " (" + join(seen, "; ") + (n > 3 ? "; ..." : "") + ")");
  return r;
}

AssertionResult checkEffective(const Assertion& a, const config::Snapshot& config) {
  AssertionResult r = start(a);
  auto [ns, name] = splitNs(a.workload);
  const model::Workload* w = config.findWorkload(ns, name);
  if (w == nullptr) return fail(r, "workload " + a.workload, "no such workload");
  auto chain = mgmt::settingsChain(config, mgmt::placeNamespace(config, w->cluster, w->meta.namespace_));
  auto sec = mgmt::effectiveSecurity(chain);
  std::vector<std::string> exp, obs;
  bool ok = true;
  auto cmp = [&](const std::string& label, const std::string& want, const std::string& got) {
    if (want.empty()) return;
    exp.push_back(label + " " + want);
    obs.push_back(label + " " + (got.empty() ? std::string("(none)") : got));
    ok = ok && want == got;
  };
  cmp("trafficMode", a.traffic_mode, model::trafficModeName(sec.traffic_mode));
  cmp("authorizationMode", a.authorization_mode, model::authzModeName(sec.authz_mode));
  std::string from = sec.traffic_mode_from.fqn.empty() ? "default" : sec.traffic_mode_from.fqn;
  cmp("trafficModeFrom", a.traffic_mode_from, from);
  cmp("lockedBy", a.locked_by, sec.traffic_mode_from.locked_by);
  r.passed = ok;
  r.expected = join(exp);
  r.observed = join(obs);
  return r;
}

AssertionResult checkBlastRadius(const Assertion& a, std::shared_ptr<const config::Snapshot> config) {
  AssertionResult r = start(a);
  auto graph = analysis::buildReachability(std::move(config));
  if (!graph.ok()) return fail(r, "a blast radius", "error: " + graph.status().message());
  auto [ns, name] = splitNs(a.workload);
  analysis::BlastOptions opts;
  opts.hops = a.hops;
  opts.plaintext = a.plaintext;
  auto br = analysis::blastRadius(*graph, ns, name, opts);
  if (!br.ok()) return fail(r, "a blast radius", "error: " + br.status().message());
  std::set<std::string> reached;
  for (const auto& rw : br->reached) reached.insert(graph->workloadKey(rw.workload));
  std::vector<std::string> exp, problems;
  if (a.exact) {
    std::set<std::string> want(a.reached.begin(), a.reached.end());
    exp.push_back("reached " + setText(want));
    if (want != reached) problems.push_back("mismatch");
  }
  for (const auto& x : a.includes) {
    if (reached.count(x) == 0) problems.push_back(x + " not reached");
  }
  for (const auto& x : a.excludes) {
    if (reached.count(x) != 0) problems.push_back(x + " reached");
  }
  if (!a.includes.empty()) exp.push_back("including " + join(a.includes));
  if (!a.excludes.empty()) exp.push_back("excluding " + join(a.excludes));
  r.passed = problems.empty();
  r.expected = join(exp, "; ");
  r.observed = "reached " + setText(reached);
  return r;
}

AssertionResult checkAttack(const Assertion& a, const std::vector<ProbeOutcome>& probes) {
  AssertionResult r = start(a);
  std::map<std::string, std::vector<int>> by_target;
  for (const auto& p : probes) by_target[p.to].push_back(p.status);
  std::vector<std::string> exp, obs;
  bool ok = true;
  auto seen = [&](const std::string& t) {
    auto it = by_target.find(t);
    if (it == by_target.end()) return std::string(t + " not probed");
    std::vector<std::string> s;
    for (int c : it->second) s.push_back(statusText(c));
    return t + " " + join(s, "/");
  };
  auto reached = [&](const std::string& t) {
    auto it = by_target.find(t);
    if (it == by_target.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [](int c) { return c >= 200 && c < 300; });
  };
  for (const auto& t : a.includes) {
    exp.push_back(t + " reached");
    obs.push_back(seen(t));
    ok = ok && reached(t);
  }
  for (const auto& t : a.excludes) {
    exp.push_back(t + " refused");
    obs.push_back(seen(t));
    ok = ok && by_target.count(t) != 0 && !reached(t);
  }
  r.passed = ok;
  r.expected = join(exp);
  r.observed = join(obs);
  return r;
}

Result<std::string> stolenClaims(const JwtSpec& token, const config::Snapshot& config, int64_t now) {
  if (token.kind == JwtSpec::Kind::kUser) {
    auto c = userClaims(token.user, config, now);
    if (!c.ok()) return c.status();
    return c->dump();
  }
  if (token.kind != JwtSpec::Kind::kClaims) return invalidArgument("a stolen token is given by claims or user");
  if (!nlohmann::json::accept(token.claims_json)) return invalidArgument("stealToken.claims: not valid JSON");
  nlohmann::json c = nlohmann::json::parse(token.claims_json);
  if (!c.contains("iat")) c["iat"] = now;
  if (!c.contains("exp")) c["exp"] = now + 3600;
  return c.dump();
}

Result<analysis::CheckRequest> buildCheckRequest(const RequestSpec& spec, const RunState& run,
                                                 const MeshRuntime& runtime) {
  analysis::CheckRequest req;
  auto from = analysis::parseCheckSource(spec.from);
  if (!from.ok()) return from.status();
  req.from = *from;
  auto [ns, name] = splitNs(spec.to);
  req.to_namespace = ns;
  req.to_service = name;
  req.port = spec.port;
  req.method = spec.method;
  req.path = spec.path;
  req.headers = spec.headers;
  req.now_seconds = runtime.clock().now();
  using K = JwtSpec::Kind;
  using CK = analysis::CheckJwt::Kind;
  switch (spec.jwt.kind) {
    case K::kNone: break;
    case K::kClaims:
      req.jwt.kind = CK::kClaims;
      req.jwt.claims = spec.jwt.claims_json;
      break;
    case K::kInvalid:
      req.jwt.kind = CK::kInvalid;
      req.jwt.invalid = spec.jwt.invalid;
      break;
    case K::kToken:
      req.jwt.kind = CK::kToken;
      req.jwt.token = spec.jwt.token;
      break;
    case K::kUser: {
      auto c = userClaims(spec.jwt.user, *runtime.snapshot(), req.now_seconds);
      if (!c.ok()) return c.status();
      req.jwt.kind = CK::kClaims;
      req.jwt.claims = c->dump();
      break;
    }
    case K::kStolen: {
      auto it = run.stolen_tokens.find(spec.jwt.stolen);
      if (it == run.stolen_tokens.end()) return invalidArgument("jwt.stolen: no token stolen by \"" + spec.jwt.stolen + "\" yet");
      req.jwt.kind = CK::kClaims;
      req.jwt.claims = it->second;
      break;
    }
  }
  return req;
}

AssertionResult evaluateAssertion(const Assertion& a, EvalContext& ctx) {
  AssertionResult r = start(a);
  switch (a.kind) {
    case AssertionKind::kRequest: {
      auto req = buildCheckRequest(a.request, ctx.run, ctx.runtime);
      if (!req.ok()) return fail(r, "a request", "error: " + req.status().message());
      auto live = ctx.runtime.checkLive(*req);
      if (!live.ok()) return fail(r, "a request", "error: " + live.status().message());
      return checkRequest(a, *live);
    }
    case AssertionKind::kSplit:
    case AssertionKind::kMtls: {
      if (!ctx.run.has_traffic) return fail(r, "a traffic step before this assertion", "none ran");
      auto delta = telemetryDelta(ctx.run.traffic_before, ctx.run.traffic_after);
      if (a.kind == AssertionKind::kMtls) return checkMtls(a, delta);
      return checkSplit(a, delta, *ctx.runtime.plan()->config);
    }
    case AssertionKind::kStatuses:
      if (!ctx.run.has_traffic) return fail(r, "a traffic step before this assertion", "none ran");
      return checkStatuses(a, ctx.run.last_traffic);
    case AssertionKind::kAudit: {
      auto records = ctx.plane.state().audit();
      if (!records.ok()) return fail(r, "the audit log", "error: " + records.status().message());
      std::vector<mgmt::AuditRecord> made;
      for (const auto& rec : *records) {
        if (rec.seq > ctx.bootstrap_seq) made.push_back(rec);
      }
      return checkAudit(a, made);
    }
    case AssertionKind::kEffective:
      return checkEffective(a, *ctx.plane.snapshot());
    case AssertionKind::kBlastRadius:
      return checkBlastRadius(a, ctx.runtime.plan()->config);
    case AssertionKind::kAttack:
      if (!ctx.run.has_attack) return fail(r, "an attack step before this assertion", "none ran");
      return checkAttack(a, ctx.run.last_attack);
  }
  return r;
}

}  // namespace meshsim::scenario
