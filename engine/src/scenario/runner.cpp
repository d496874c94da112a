// The scenario runner: a management plane in a temporary state directory, a live mesh on the
// injected data plane, and the steps run one at a time against both.
#include "meshsim/scenario/runner.h"

#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "meshsim/engine.h"
#include "meshsim/mgmt/rbac.h"
#include "scenario/evaluate.h"

namespace meshsim::scenario {

namespace {

namespace fs = std::filesystem;

std::string rfc3339(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void merge(dataplane::TrafficResult& into, const dataplane::TrafficResult& r) {
  const double a = static_cast<double>(into.sent), b = static_cast<double>(r.sent);
  auto mix = [&](double x, double y) { return a + b == 0 ? 0 : (x * a + y * b) / (a + b); };
  into.p50_ms = mix(into.p50_ms, r.p50_ms);
  into.p90_ms = mix(into.p90_ms, r.p90_ms);
  into.p99_ms = mix(into.p99_ms, r.p99_ms);
  into.max_ms = std::max(into.max_ms, r.max_ms);
  into.sent += r.sent;
  for (const auto& [k, v] : r.by_status) into.by_status[k] += v;
  for (const auto& [k, v] : r.by_version) into.by_version[k] += v;
  for (const auto& [k, v] : r.by_workload) into.by_workload[k] += v;
  into.all_mtls = into.all_mtls && r.all_mtls;
  into.seconds += r.seconds;
  for (const auto& e : r.errors) {
    if (into.errors.size() < 5 && std::find(into.errors.begin(), into.errors.end(), e) == into.errors.end()) {
      into.errors.push_back(e);
    }
  }
}

std::string changeLine(const mgmt::ChangeOutcome& o) {
  if (o.accepted) return o.kind + " " + o.resource + " " + o.result;
  return o.kind + " " + o.resource + ": " + statusCodeName(o.code) + ": " + o.message;
}

}  // namespace

std::string AssertionResult::message() const {
  return name + ": expected " + expected + ", observed " + observed;
}

bool ScenarioResult::passed() const {
  if (!error.empty()) return false;
  for (const auto& s : steps) {
    if (!s.passed) return false;
  }
  return true;
}

size_t ScenarioResult::assertionCount() const {
  size_t n = 0;
  for (const auto& s : steps) n += s.assertions.size();
  return n;
}

size_t ScenarioResult::failedAssertionCount() const {
  size_t n = 0;
  for (const auto& s : steps) {
    for (const auto& a : s.assertions) n += a.passed ? 0 : 1;
  }
  return n;
}

struct ScenarioRunner::Impl {
  Scenario scenario;
  RunnerOptions options;
  std::string state_dir;
  bool temporary_state = false;
  std::unique_ptr<mgmt::ManagementPlane> plane;
  std::unique_ptr<MeshRuntime> runtime;
  int64_t start_time = 0;
  int64_t bootstrap_seq = 0;
  size_t next = 0;
  bool started = false;
  bool aborted = false;
  std::optional<ScenarioResult> finished;
  ScenarioResult result;
  RunState run;  // what assertions look back at
  std::chrono::steady_clock::time_point began;

  void progress(size_t index, uint64_t done, uint64_t total) {
    if (!options.on_progress) return;
    Progress p;
    p.step = index;
    p.steps = scenario.steps.size();
    p.what = index < scenario.steps.size() ? describeStep(scenario.steps[index]) : "";
    p.requests_done = done;
    p.requests_total = total;
    options.on_progress(p);
  }

  void change(const Step& s, StepResult& out) {
    if (s.kind == StepKind::kApply) {
      out.changes = plane->apply(s.resources, s.user);
    } else {
      std::vector<model::ResourceKey> keys = s.delete_keys;
      for (const auto& r : s.resources) keys.push_back(model::keyOf(r));
      out.changes = plane->remove(keys, s.user);
    }
    bool changed = false;
    std::vector<std::string> refused;
    bool all_expected = true;
    for (const auto& o : out.changes) {
      if (o.accepted) {
        changed = changed || o.result != "unchanged";
      } else {
        refused.push_back(changeLine(o));
        if (s.expect_error && *s.expect_error != "any" && *s.expect_error != statusCodeName(o.code)) {
          all_expected = false;
        }
      }
    }
    size_t accepted = out.changes.size() - refused.size();
    out.summary = describeStep(s) + ": " + std::to_string(accepted) + " accepted, " +
                  std::to_string(refused.size()) + " refused";
    if (s.expect_error) {
      if (refused.empty()) {
        out.passed = false;
        out.error = "expected " + *s.expect_error + ", but every change was accepted";
      } else if (!all_expected) {
        out.passed = false;
        out.error = "expected " + *s.expect_error + ", observed " + refused.front();
      }
    } else if (!refused.empty()) {
      out.passed = false;
      out.error = "refused: " + refused.front();
    }
    if (changed) {
      Status st = runtime->reconfigure(plane->snapshot());
      if (!st.ok()) {
        out.passed = false;
        out.error = "the mesh could not take the new configuration: " + st.toString();
      }
    }
  }

  void traffic(const Step& s, StepResult& out) {
    auto req = buildCheckRequest(s.traffic, run, *runtime);
    if (!req.ok()) {
      out.passed = false;
      out.error = req.status().message();
      return;
    }
    TrafficSummary summary;
    summary.from = s.traffic.from;
    summary.to = s.traffic.to;
    summary.method = s.traffic.method;
    summary.path = s.traffic.path;
    run.traffic_before = runtime->dataPlane().telemetry();
    TrafficRequest tr;
    tr.request = *req;
    tr.concurrency = s.concurrency;
    if (s.requests == 0) {
      tr.requests = 0;
      tr.duration = std::chrono::milliseconds(s.duration_ms);
      progress(out.index, 0, 0);
      auto r = runtime->traffic(tr);
      if (!r.ok()) {
        out.passed = false;
        out.error = r.status().message();
        return;
      }
      summary.result = *r;
    } else {
      const uint64_t chunks = s.requests >= 200 ? std::min<uint64_t>(10, s.requests / 50) : 1;
      uint64_t done = 0;
      for (uint64_t c = 0; c < chunks; ++c) {
        progress(out.index, done, s.requests);
        tr.requests = s.requests / chunks + (c < s.requests % chunks ? 1 : 0);
        auto r = runtime->traffic(tr);
        if (!r.ok()) {
          out.passed = false;
          out.error = r.status().message();
          return;
        }
        merge(summary.result, *r);
        done += tr.requests;
      }
      progress(out.index, done, s.requests);
    }
    run.traffic_after = runtime->dataPlane().telemetry();
    run.last_traffic = summary.result;
    run.has_traffic = true;
    std::string statuses;
    for (const auto& [code, n] : summary.result.by_status) {
      statuses += (statuses.empty() ? "" : ", ") + (code == 0 ? std::string("reset") : std::to_string(code)) +
                  ": " + std::to_string(n);
    }
    out.summary = describeStep(s) + ": " + std::to_string(summary.result.sent) + " sent (" + statuses + ")";
    out.traffic = std::move(summary);
  }

  void attack(const Step& s, StepResult& out) {
    const AttackSpec& a = s.attack;
    std::string from;
    switch (a.kind) {
      case AttackSpec::Kind::kCompromise: from = "stolen:" + a.workload; break;
      case AttackSpec::Kind::kOutsider: from = "outside"; break;
      case AttackSpec::Kind::kForged: from = "forged:" + a.spiffe_id; break;
      case AttackSpec::Kind::kStolenToken: from = a.from; break;
    }
    if (a.kind == AttackSpec::Kind::kStolenToken) {
      auto claims = stolenClaims(a.token, *plane->snapshot(), runtime->clock().now());
      if (!claims.ok()) {
        out.passed = false;
        out.error = claims.status().message();
        return;
      }
      run.stolen_tokens[s.name] = *claims;
    }
    std::vector<RequestSpec> probes = a.probes;
    if (probes.empty()) {
      std::string own;
      if (a.kind == AttackSpec::Kind::kCompromise) {
        auto slash = a.workload.find('/');
        const auto* w = runtime->snapshot()->findWorkload(a.workload.substr(0, slash), a.workload.substr(slash + 1));
        if (w == nullptr) {
          out.passed = false;
          out.error = "attack.compromise: unknown workload " + a.workload;
          return;
        }
        own = w->meta.namespace_ + "/" + w->service;
      }
      for (const auto* svc : runtime->snapshot()->services) {
        std::string key = svc->meta.namespace_ + "/" + svc->meta.name;
        if (key == own) continue;
        RequestSpec r;
        r.to = key;
        probes.push_back(r);
      }
    }
    size_t reached = 0;
    for (auto probe : probes) {
      probe.from = from;
      if (a.kind == AttackSpec::Kind::kStolenToken && probe.jwt.kind == JwtSpec::Kind::kNone) {
        probe.jwt.kind = JwtSpec::Kind::kStolen;
        probe.jwt.stolen = s.name;
      }
      ProbeOutcome po;
      po.from = from;
      po.to = probe.to;
      po.method = probe.method;
      po.path = probe.path;
      auto req = buildCheckRequest(probe, run, *runtime);
      if (!req.ok()) {
        po.error = req.status().message();
        out.passed = false;
        out.error = "probe " + probe.to + ": " + po.error;
        out.probes.push_back(po);
        continue;
      }
      auto r = runtime->probe(*req);
      if (!r.ok()) {
        po.error = r.status().message();
        out.passed = false;
        out.error = "probe " + probe.to + ": " + po.error;
        out.probes.push_back(po);
        continue;
      }
      po.status = r->status;
      po.body = r->body;
      po.mtls = r->mtls;
      po.served_by = r->served_by;
      po.error = r->error;
      reached += po.reached() ? 1 : 0;
      out.probes.push_back(po);
    }
    run.last_attack = out.probes;
    run.has_attack = true;
    out.summary = describeStep(s) + ": " + std::to_string(reached) + " of " + std::to_string(out.probes.size()) +
                  " probes answered";
  }

  void expect(const Step& s, StepResult& out) {
    EvalContext ctx{*runtime, *plane, run, bootstrap_seq};
    size_t failed = 0;
    for (const auto& a : s.assertions) {
      AssertionResult r = evaluateAssertion(a, ctx);
      if (!r.passed) {
        ++failed;
        if (out.error.empty()) out.error = r.message();
      }
      out.assertions.push_back(std::move(r));
    }
    out.passed = failed == 0;
    out.summary = describeStep(s) + ": " + std::to_string(s.assertions.size() - failed) + " passed, " +
                  std::to_string(failed) + " failed";
  }
};

ScenarioRunner::ScenarioRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ScenarioRunner::~ScenarioRunner() { finish(); }

Result<std::unique_ptr<ScenarioRunner>> ScenarioRunner::create(Scenario scenario, RunnerOptions options) {
  if (!options.data_plane_factory) return invalidArgument("the scenario runner needs a data plane factory");
  auto impl = std::make_unique<Impl>();
  impl->scenario = std::move(scenario);
  impl->options = std::move(options);
  impl->result.name = impl->scenario.name;
  impl->result.file = impl->scenario.file;
  impl->result.description = impl->scenario.description;
  return std::unique_ptr<ScenarioRunner>(new ScenarioRunner(std::move(impl)));
}

Status ScenarioRunner::start() {
  Impl& m = *impl_;
  if (m.started) return failedPrecondition("the scenario is already running");
  if (m.finished) return failedPrecondition("the scenario has finished");
  m.began = std::chrono::steady_clock::now();
  m.start_time = m.options.start_time_seconds != 0
                     ? m.options.start_time_seconds
                     : std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  m.result.start_time_seconds = m.start_time;
  auto fail = [&](Status st) {
    m.aborted = true;
    m.result.error = st.toString();
    return st;
  };
  if (m.options.state_dir.empty()) {
    std::error_code ec;
    std::string templ = (fs::temp_directory_path(ec) / "meshsim-run-XXXXXX").string();
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (ec || ::mkdtemp(buf.data()) == nullptr) {
      return fail(unavailable("cannot create a temporary state directory in " + templ));
    }
    m.state_dir = buf.data();
    m.temporary_state = true;
  } else {
    m.state_dir = m.options.state_dir;
  }
  Impl* self = &m;
  auto plane = mgmt::ManagementPlane::open(m.state_dir, [self] {
    return rfc3339(self->runtime ? self->runtime->clock().now() : self->start_time);
  });
  if (!plane.ok()) return fail(plane.status());
  m.plane = std::move(plane).value();
  if (m.plane->state().revision() != 0) {
    return fail(failedPrecondition("the state directory " + m.state_dir + " already holds a state"));
  }
  for (const auto& o : m.plane->apply(m.scenario.initial_resources, mgmt::kBootstrapAdmin)) {
    if (!o.accepted) {
      return fail(invalidArgument("loading the scenario's files: " + changeLine(o), m.scenario.where));
    }
    m.bootstrap_seq = std::max(m.bootstrap_seq, o.audit_seq);
  }
  auto data_plane = m.options.data_plane_factory(m.options.data_plane);
  if (!data_plane) return fail(unavailable("the data plane factory made no data plane"));
  RuntimeOptions ro;
  ro.start_time_seconds = m.start_time;
  auto runtime = MeshRuntime::create(m.plane->snapshot(), std::move(data_plane), ro);
  if (!runtime.ok()) return fail(invalidArgument("the scenario's mesh cannot run: " + runtime.status().message()));
  m.runtime = std::move(runtime).value();
  if (Status st = m.runtime->start(); !st.ok()) return fail(st);
  m.started = true;
  return okStatus();
}

bool ScenarioRunner::done() const { return impl_->aborted || impl_->finished || impl_->next >= impl_->scenario.steps.size(); }
size_t ScenarioRunner::nextStep() const { return impl_->next; }
size_t ScenarioRunner::stepCount() const { return impl_->scenario.steps.size(); }
const Scenario& ScenarioRunner::scenario() const { return impl_->scenario; }
MeshRuntime* ScenarioRunner::runtime() { return impl_->finished ? nullptr : impl_->runtime.get(); }
mgmt::ManagementPlane* ScenarioRunner::plane() { return impl_->finished ? nullptr : impl_->plane.get(); }

StepResult ScenarioRunner::step() {
  Impl& m = *impl_;
  StepResult out;
  out.index = m.next;
  if (!m.started || done()) {
    out.passed = false;
    out.error = !m.started ? "FailedPrecondition: the scenario has not started" : "FailedPrecondition: no step left";
    return out;
  }
  const Step& s = m.scenario.steps[m.next++];
  out.kind = s.kind;
  out.name = s.name;
  out.note = s.note;
  out.where = s.where;
  out.title = describeStep(s);
  out.summary = out.title;
  out.expected_error = s.expect_error.value_or("");
  m.progress(out.index, 0, 0);
  auto t0 = std::chrono::steady_clock::now();
  switch (s.kind) {
    case StepKind::kNote:
      break;
    case StepKind::kApply:
    case StepKind::kDelete:
      m.change(s, out);
      break;
    case StepKind::kTraffic:
      m.traffic(s, out);
      break;
    case StepKind::kAdvanceTime: {
      Status st = m.runtime->advanceTime(s.advance_seconds);
      if (!st.ok()) {
        out.passed = false;
        out.error = st.toString();
      }
      break;
    }
    case StepKind::kAttack:
      m.attack(s, out);
      break;
    case StepKind::kExpect:
      m.expect(s, out);
      break;
  }
  out.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  out.sim_time_seconds = m.runtime->clock().now();
  m.result.steps.push_back(out);
  return out;
}

ScenarioResult ScenarioRunner::run() {
  if (!impl_->started && !impl_->aborted && !impl_->finished) {
    if (Status st = start(); !st.ok()) return finish();
  }
  while (!done()) step();
  return finish();
}

ScenarioResult ScenarioRunner::finish() {
  Impl& m = *impl_;
  if (m.finished) return *m.finished;
  if (m.runtime) {
    m.result.telemetry = m.runtime->dataPlane().telemetry();
    m.result.final_config = m.runtime->plan()->config;
    m.runtime->stop();
  }
  if (m.plane) {
    auto audit = m.plane->state().audit();
    if (audit.ok()) {
      for (const auto& r : *audit) {
        if (r.seq > m.bootstrap_seq) m.result.audit.push_back(r);
      }
    }
  }
  m.runtime.reset();
  m.plane.reset();
  if (m.temporary_state && !m.state_dir.empty()) {
    std::error_code ec;
    fs::remove_all(m.state_dir, ec);
  }
  if (m.started) {
    m.result.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m.began).count();
  }
  m.finished = m.result;
  return *m.finished;
}

}  // namespace meshsim::scenario
