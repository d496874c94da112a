#include "app/mesh_session.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QMetaObject>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include "app/data_plane_hookup.h"
#include "meshsim/analysis/blast_radius.h"
#include "meshsim/analysis/reachability.h"
#include "meshsim/analysis/topology.h"
#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/engine.h"
#include "meshsim/mgmt/plane.h"
#include "meshsim/mgmt/rbac.h"
#include "meshsim/mgmt/translate.h"
#include "meshsim/pki/rotation.h"
#include "meshsim/scenario/runner.h"
#include "meshsim/scenario/scenario.h"
#include "meshsim/verify.h"

namespace meshsim::gui {

namespace detail {

// The state the GUI thread mirrors after every change on the engine thread: the configuration
// (immutable and shared, so the GUI thread may analyse it) and the audit records.
struct Mirror {
  std::shared_ptr<const config::Snapshot> snapshot;    // null: no mesh
  std::shared_ptr<const config::Snapshot> translated;  // mgmt::withTranslation(*snapshot)
  QList<AuditEntry> audit;
};

// Live figures of one telemetry sample.
struct Figures {
  analysis::TopologyOverlay overlay;
  MetricsSample sample;
  /// Requests per edge (analysis::edgeKey) over the last kShareWindowSeconds: the measured split.
  std::map<std::string, uint64_t> recent;
};

}  // namespace detail

namespace {

using detail::Figures;
using detail::Mirror;

QString qs(const std::string& s) { return QString::fromStdString(s); }
std::string ss(const QString& s) { return s.toStdString(); }

SourceRef toRef(const SourceLocation& where) {
  return {qs(where.file), static_cast<int>(where.line), static_cast<int>(where.column)};
}

QList<DiagnosticInfo> toDiagnostics(const Diagnostics& diagnostics) {
  QList<DiagnosticInfo> out;
  for (const Diagnostic& d : diagnostics.items()) {
    out.append(
        {d.severity == Severity::kError ? DiagnosticSeverity::kError : DiagnosticSeverity::kWarning,
         toRef(d.where), qs(d.field), qs(d.message), qs(d.toString())});
  }
  return out;
}

// "ns/name" split at the first '/'; false when there is none.
bool splitId(const QString& id, std::string* ns, std::string* name) {
  const qsizetype slash = id.indexOf(QLatin1Char('/'));
  if (slash <= 0 || slash + 1 >= id.size()) return false;
  *ns = ss(id.left(slash));
  *name = ss(id.mid(slash + 1));
  return true;
}

// The measured split is taken over this many seconds of samples: long enough to hold a whole
// traffic step or several bursts, short enough to follow a change of the configuration.
constexpr double kShareWindowSeconds = 5.0;

// Each edge's share of the requests its source sent to the same Service over the share window
// (`recent`, by edge key), or since the mesh started when the window saw none of that call.
void addLiveShares(TopologyView& view, const std::map<std::string, uint64_t>& recent) {
  QHash<QString, double> window;
  QHash<QString, double> total;
  auto call = [](const EdgeView& e) { return e.from + QLatin1Char('|') + e.service; };
  auto recentOf = [&recent](const EdgeView& e) {
    const auto it = recent.find(analysis::edgeKey(ss(e.from), ss(e.to)));
    return it == recent.end() ? 0.0 : static_cast<double>(it->second);
  };
  for (const EdgeView& e : view.edges) {
    if (!e.has_traffic) continue;
    window[call(e)] += recentOf(e);
    total[call(e)] += static_cast<double>(e.requests);
  }
  for (EdgeView& e : view.edges) {
    if (!e.has_traffic) continue;
    const QString key = call(e);
    if (window.value(key) > 0) {
      e.live_share = recentOf(e) / window.value(key);
    } else if (total.value(key) > 0) {
      e.live_share = static_cast<double>(e.requests) / total.value(key);
    }
  }
}

TopologyView toView(const analysis::Topology& t,
                    const std::map<std::string, uint64_t>& recent = {}) {
  TopologyView out;
  for (const auto& g : t.groups) {
    out.groups.append({qs(g.id), QString::fromLatin1(analysis::topologyGroupKindName(g.kind)),
                       qs(g.name), qs(g.parent)});
  }
  for (const auto& n : t.nodes) {
    out.nodes.append({qs(n.id), QString::fromLatin1(analysis::topologyNodeKindName(n.kind)),
                      qs(n.name), qs(n.namespace_), qs(n.service), qs(n.version), qs(n.group),
                      static_cast<int>(n.replicas), n.sidecar});
  }
  for (const auto& e : t.edges) {
    EdgeView v;
    v.from = qs(e.from);
    v.to = qs(e.to);
    v.service = qs(e.service);
    v.share = e.share;
    v.allowed = e.allowed;
    v.mtls = e.mtls;
    v.status = e.status;
    v.policy = qs(e.policy);
    v.reason = qs(e.reason);
    if (e.traffic) {
      v.has_traffic = true;
      v.rps = e.traffic->rps;
      v.requests = e.traffic->requests;
      v.errors = e.traffic->errors;
      v.p50_ms = e.traffic->p50_ms;
    }
    out.edges.append(v);
  }
  addLiveShares(out, recent);
  return out;
}

TopologyView topologyOf(std::shared_ptr<const config::Snapshot> translated) {
  TopologyView out;
  auto t = analysis::buildTopology(std::move(translated), {});
  if (t.ok()) {
    out = toView(*t);
  } else {
    out.error = qs(t.status().message());
  }
  return out;
}

QString viaText(const analysis::ReachEdge& e) {
  QString out =
      e.policy.empty() ? qs(e.basis) : QStringLiteral("%1 rule %2").arg(qs(e.policy)).arg(e.rule);
  if (e.source == analysis::kNetworkSource) out = QStringLiteral("plaintext, ") + out;
  if (e.needs_token) out += QStringLiteral(", needs token");
  return out;
}

BlastHop toHop(const analysis::ReachabilityGraph& g, size_t from, size_t to, size_t edge, int hop) {
  const analysis::ReachEdge& e = g.edges[edge];
  return {qs(g.workloadKey(from)),
          qs(g.workloadKey(to)),
          QStringLiteral("%1:%2").arg(qs(e.service)).arg(e.port),
          viaText(e),
          e.mtls,
          hop};
}

QStringList topologyDiff(const TopologyView& before, const TopologyView& after) {
  QStringList out;
  auto pct = [](double share) { return QStringLiteral("%1%").arg(qRound(share * 100)); };
  auto state = [](const EdgeView& e) {
    return e.allowed ? QStringLiteral("allowed") : QStringLiteral("refused");
  };
  for (const EdgeView& e : after.edges) {
    const EdgeView* old = before.findEdge(e.key());
    if (old == nullptr) {
      out.append(QStringLiteral("+ %1 (%2, %3)").arg(e.key(), pct(e.share), state(e)));
      continue;
    }
    QStringList what;
    if (qRound(old->share * 100) != qRound(e.share * 100)) {
      what.append(QStringLiteral("share %1 -> %2").arg(pct(old->share), pct(e.share)));
    }
    if (old->allowed != e.allowed) {
      what.append(QStringLiteral("%1 -> %2").arg(state(*old), state(e)));
    }
    if (old->mtls != e.mtls) {
      what.append(e.mtls ? QStringLiteral("plaintext -> mTLS")
                         : QStringLiteral("mTLS -> plaintext"));
    }
    if (!what.isEmpty()) {
      out.append(QStringLiteral("~ %1: %2").arg(e.key(), what.join(QStringLiteral(", "))));
    }
  }
  for (const EdgeView& e : before.edges) {
    if (after.findEdge(e.key()) == nullptr) out.append(QStringLiteral("- %1").arg(e.key()));
  }
  return out;
}

bool copyState(const QString& from, const QString& to, QString* error) {
  const QStringList files = QDir(from).entryList(QDir::Files);
  for (const QString& f : files) {
    if (f.endsWith(QStringLiteral("-shm"))) continue;  // rebuilt from the WAL on open
    if (!QFile::copy(QDir(from).filePath(f), QDir(to).filePath(f))) {
      *error = QStringLiteral("cannot copy the state file %1 for the dry run").arg(f);
      return false;
    }
  }
  return true;
}

QString changeLine(const mgmt::ChangeOutcome& o) {
  return o.accepted ? QStringLiteral("✓ %1 %2 %3").arg(qs(o.kind), qs(o.resource), qs(o.result))
                    : QStringLiteral("✗ %1 %2 refused (%3): %4")
                          .arg(qs(o.kind), qs(o.resource),
                               QString::fromLatin1(statusCodeName(o.code)), qs(o.message));
}

StepView stepOf(const scenario::Step& step) {
  StepView v;
  v.kind = QString::fromLatin1(scenario::stepKindName(step.kind));
  v.title = qs(scenario::describeStep(step));
  v.note = qs(step.note);
  v.source = toRef(step.where);
  return v;
}

// What a played step did, in the player's words.
void recordOutcome(const scenario::StepResult& r, StepView& v) {
  v.played = true;
  v.passed = r.passed;
  v.outcome = qs(r.summary);
  v.error = qs(r.error);
  v.details.clear();
  for (const auto& c : r.changes) v.details.append(changeLine(c));
  if (r.traffic) {
    QStringList versions;
    for (const auto& [version, n] : r.traffic->result.by_version) {
      versions.append(QStringLiteral("%1: %2")
                          .arg(version.empty() ? QStringLiteral("none") : qs(version))
                          .arg(n));
    }
    v.details.append(
        QStringLiteral("answered by %1; p50 %2 ms, p90 %3 ms%4")
            .arg(versions.join(QStringLiteral(", ")))
            .arg(r.traffic->result.p50_ms, 0, 'f', 2)
            .arg(r.traffic->result.p90_ms, 0, 'f', 2)
            .arg(r.traffic->result.all_mtls ? QStringLiteral(", all mTLS") : QString()));
  }
  for (const auto& p : r.probes) {
    v.details.append(QStringLiteral("%1 %2 %3 %4 -> %5")
                         .arg(p.reached() ? QStringLiteral("→") : QStringLiteral("⊘"), qs(p.from),
                              qs(p.method), qs(p.to) + qs(p.path),
                              p.status == 0 ? QStringLiteral("reset") : QString::number(p.status)) +
                     (p.error.empty() ? QString() : QStringLiteral(" (%1)").arg(qs(p.error))));
  }
  for (const auto& a : r.assertions) {
    v.details.append((a.passed ? QStringLiteral("✓ ") : QStringLiteral("✗ ")) + qs(a.message()));
  }
}

// ------------------------------------------------------------------ telemetry sampling

struct Counts {
  observe::RequestStats stats;
  uint64_t errors = 0;
};

struct Aggregate {
  std::map<std::string, Counts> edges;                               // analysis::edgeKey
  std::map<std::string, Counts> versions;                            // "ns/service version"
  std::map<std::string, std::pair<std::string, std::string>> names;  // version key -> svc, ver
};

// What the destination sidecars counted (every request that reached one), by edge and by
// destination version. Edges count refusals (4xx) as errors; versions count 5xx and resets.
Aggregate aggregate(const observe::TelemetrySnapshot& telemetry) {
  Aggregate out;
  for (const auto& [labels, stats] : telemetry.requests) {
    if (labels.reporter != "destination") continue;
    const std::string from = labels.source_workload == "unknown"
                                 ? std::string("outside")
                                 : labels.source_workload_namespace + "/" + labels.source_workload;
    Counts& edge = out.edges[analysis::edgeKey(
        from, labels.destination_workload_namespace + "/" + labels.destination_workload)];
    edge.stats.merge(stats);
    if (labels.response_code == 0 || labels.response_code >= 400) edge.errors += stats.count;
    const std::string service =
        labels.destination_service_namespace + "/" + labels.destination_service_name;
    const std::string key = service + " " + labels.destination_version;
    Counts& version = out.versions[key];
    version.stats.merge(stats);
    if (labels.response_code == 0 || labels.response_code >= 500) version.errors += stats.count;
    out.names[key] = {service, labels.destination_version};
  }
  return out;
}

observe::RequestStats minus(const observe::RequestStats& now, const observe::RequestStats& before) {
  observe::RequestStats out;
  out.count = now.count - std::min(before.count, now.count);
  out.duration_sum_ms = std::max(0.0, now.duration_sum_ms - before.duration_sum_ms);
  for (size_t i = 0; i < out.buckets.size(); ++i) {
    out.buckets[i] = now.buckets[i] - std::min(before.buckets[i], now.buckets[i]);
  }
  return out;
}

// Turns cumulative telemetry into rates over windows: each sample covers the time since the
// previous sample (or baseline).
class Sampler {
 public:
  // A new mesh: time starts now, nothing counted yet.
  void restart() {
    clock_.start();
    last_ = -1;
    previous_ = {};
    shares_.clear();
  }
  // Starts a window now without reporting what came before it.
  void baseline(const observe::TelemetrySnapshot& telemetry) {
    previous_ = aggregate(telemetry);
    last_ = now();
    remember(last_, previous_);
  }
  // True when the previous window ended at most `seconds` ago.
  bool recent(double seconds) const { return last_ >= 0 && now() - last_ <= seconds; }
  // The figures of the window since the previous sample; nullopt when no request came.
  std::optional<Figures> sample(const observe::TelemetrySnapshot& telemetry) {
    const double t = now();
    const double window = std::max(last_ < 0 ? 0.0 : t - last_, 1e-3);
    Aggregate current = aggregate(telemetry);
    Figures out;
    out.sample.seconds = t;
    out.sample.window_seconds = window;
    uint64_t fresh = 0;
    for (const auto& [key, counts] : current.edges) {
      const observe::RequestStats delta = minus(counts.stats, previous_.edges[key].stats);
      analysis::EdgeTraffic traffic;
      traffic.requests = counts.stats.count;
      traffic.errors = counts.errors;
      traffic.rps = static_cast<double>(delta.count) / window;
      traffic.p50_ms = (delta.count > 0 ? delta : counts.stats).quantileMs(0.5);
      out.overlay.edges[key] = traffic;
    }
    for (const auto& [key, counts] : current.versions) {
      const Counts& before = previous_.versions[key];
      const observe::RequestStats delta = minus(counts.stats, before.stats);
      const uint64_t errors = counts.errors - std::min(before.errors, counts.errors);
      VersionMetrics m;
      m.service = qs(current.names[key].first);
      m.version = qs(current.names[key].second);
      m.requests = counts.stats.count;
      m.errors = counts.errors;
      m.window_requests = delta.count;
      m.rps = static_cast<double>(delta.count) / window;
      m.error_rate = delta.count == 0 ? 0.0 : 100.0 * static_cast<double>(errors) / delta.count;
      const observe::RequestStats& latency = delta.count > 0 ? delta : counts.stats;
      m.p50_ms = latency.quantileMs(0.5);
      m.p90_ms = latency.quantileMs(0.9);
      out.sample.versions.append(m);
      fresh += delta.count;
    }
    remember(t, current);
    for (const auto& [key, counts] : current.edges) {
      const auto before = shares_.front().second.find(key);
      const uint64_t then = before == shares_.front().second.end() ? 0 : before->second;
      out.recent[key] = counts.stats.count - std::min(then, counts.stats.count);
    }
    previous_ = std::move(current);
    last_ = t;
    if (fresh == 0) return std::nullopt;
    return out;
  }

 private:
  // Keeps the edge counts at `t`, and of the earlier ones only what the share window needs: the
  // front is the last entry at least kShareWindowSeconds old (or the oldest one).
  void remember(double t, const Aggregate& counts) {
    std::map<std::string, uint64_t> edges;
    for (const auto& [key, c] : counts.edges) edges[key] = c.stats.count;
    shares_.emplace_back(t, std::move(edges));
    while (shares_.size() >= 2 && shares_[1].first <= t - kShareWindowSeconds) shares_.pop_front();
  }

  double now() const { return clock_.isValid() ? clock_.nsecsElapsed() / 1e9 : 0; }
  QElapsedTimer clock_;
  double last_ = -1;
  Aggregate previous_;
  std::deque<std::pair<double, std::map<std::string, uint64_t>>> shares_;  // time, edge counts
};

// ------------------------------------------------------------------ the engine thread

struct OpenOutcome {
  QString error;
  QString description;
  QList<StepView> steps;
  Mirror mirror;
};

struct ApplyOutcome {
  ApplyReport report;
  bool changed = false;  // the state changed: a new mirror
  QString mesh_message;
  Mirror mirror;
};

struct MeshOutcome {
  bool running = false;
  QString message;
};

struct StepOutcome {
  QList<scenario::StepResult> results;  // of the steps run, in order
  size_t done = 0;                      // steps played afterwards
  bool rebuilt = false;                 // a fresh runner replayed from the start
  QString error;                        // the runner could not start or step
  bool running = false;
  QString mesh_message;
};

// Everything that calls the engine. Lives on (and is only touched from) the engine thread.
struct Engine {
  dataplane::DataPlaneFactory factory;
  std::unique_ptr<QTemporaryDir> root;  // every state directory of the session
  int dirs = 0;
  // The state edited outside the player, and the mesh started from the traffic panel.
  std::unique_ptr<mgmt::ManagementPlane> plane;
  std::string plane_dir;
  std::unique_ptr<MeshRuntime> runtime;
  // The player: the scenario and, once a step ran, the runner with its own state and mesh.
  std::optional<scenario::Scenario> scenario;
  std::unique_ptr<scenario::ScenarioRunner> runner;
  std::string runner_dir;
  Sampler sampler;
  // Called by the runner during a step, and when a fresh runner started (both set by the job
  // that runs the step).
  std::function<void(const scenario::Progress&)> progress;
  std::function<void()> restarted;

  mgmt::ManagementPlane* currentPlane() { return runner ? runner->plane() : plane.get(); }
  const std::string& currentDir() const { return runner ? runner_dir : plane_dir; }
  MeshRuntime* live() { return runner ? runner->runtime() : runtime.get(); }

  Result<std::string> freshDir() {
    if (!root) root = std::make_unique<QTemporaryDir>();
    if (!root->isValid()) {
      return unavailable("cannot create a state directory: " + ss(root->errorString()));
    }
    return ss(root->filePath(QStringLiteral("state-%1").arg(++dirs)));
  }

  Mirror mirror() {
    Mirror m;
    mgmt::ManagementPlane* p = currentPlane();
    if (p == nullptr) return m;
    m.snapshot = p->snapshot();
    m.translated = mgmt::withTranslation(*m.snapshot);
    auto records = p->state().audit();
    if (records.ok()) {
      for (const auto& r : *records) {
        m.audit.append({r.seq, qs(r.time), qs(r.user), qs(r.verb), qs(r.kind), qs(r.resource),
                        qs(r.outcome), qs(r.reason), qs(r.diff)});
      }
    }
    return m;
  }

  // Ends the player's run and keeps its state as the one edited from now on.
  QString detachRunner() {
    if (!runner) return {};
    runner->finish();
    runner.reset();
    auto reopened = mgmt::ManagementPlane::open(runner_dir, mgmt::wallClockRfc3339);
    if (!reopened.ok()) return qs(reopened.status().message());
    plane = std::move(reopened).value();
    plane_dir = runner_dir;
    return {};
  }

  void shutdown() {
    progress = nullptr;
    restarted = nullptr;
    if (runner) runner->finish();
    runner.reset();
    if (runtime) runtime->stop();
    runtime.reset();
    plane.reset();
    scenario.reset();
  }

  OpenOutcome open(const QStringList& paths) {
    shutdown();
    root.reset();  // the previous configuration's state directories
    OpenOutcome out;
    std::vector<std::string> inputs;
    for (const QString& p : paths) inputs.push_back(ss(p));
    config::LoadResult loaded = config::loadConfiguration(inputs);
    std::string scenario_file;
    for (const auto& r : loaded.resources) {
      if (const auto* s = std::get_if<model::Scenario>(&r)) {
        scenario_file = s->meta.source.file;
        break;
      }
    }
    std::vector<model::Resource> resources;
    if (!scenario_file.empty()) {
      scenario::ParsedScenario parsed = scenario::loadScenario(scenario_file);
      if (!parsed.scenario) {
        out.error = parsed.diagnostics.items().empty()
                        ? QStringLiteral("the scenario %1 cannot be read").arg(qs(scenario_file))
                        : QStringLiteral("the scenario has errors: %1")
                              .arg(qs(parsed.diagnostics.items().front().toString()));
        return out;
      }
      scenario = std::move(parsed.scenario);
      out.description = qs(scenario->description);
      for (const auto& step : scenario->steps) out.steps.append(stepOf(step));
      resources = scenario->initial_resources;
    } else {
      if (!loaded.unreadable.empty()) {
        out.error = QStringLiteral("cannot read %1").arg(qs(loaded.unreadable.front()));
        return out;
      }
      if (loaded.diagnostics.hasErrors()) {
        out.error = QStringLiteral("the configuration has errors: %1")
                        .arg(qs(loaded.diagnostics.items().front().toString()));
        return out;
      }
      resources = std::move(loaded.resources);
    }
    auto dir = freshDir();
    if (!dir.ok()) {
      out.error = qs(dir.status().message());
      return out;
    }
    auto opened = mgmt::ManagementPlane::open(*dir, mgmt::wallClockRfc3339);
    if (!opened.ok()) {
      out.error = qs(opened.status().message());
      return out;
    }
    plane = std::move(opened).value();
    plane_dir = *dir;
    for (const auto& o : plane->apply(resources, mgmt::kBootstrapAdmin)) {
      if (!o.accepted) {
        out.error = QStringLiteral("%1 refused: %2").arg(qs(o.resource), qs(o.message));
        break;
      }
    }
    // Input that cannot become a mesh is not a state to show or edit.
    if (!out.error.isEmpty()) plane.reset();
    out.mirror = mirror();
    return out;
  }

  ApplyOutcome apply(const QString& yaml, const QString& user, bool dry_run,
                     const QString& no_mesh) {
    ApplyOutcome out;
    ApplyReport& report = out.report;
    report.dry_run = dry_run;
    mgmt::ManagementPlane* target = currentPlane();
    if (target == nullptr) {
      report.error = no_mesh;
      return out;
    }
    // References are checked by the management plane against the whole state, not here
    // against the editor's few documents.
    config::LoadResult loaded = config::loadString(ss(yaml), "<editor>");
    report.diagnostics = toDiagnostics(loaded.diagnostics);
    if (loaded.diagnostics.hasErrors()) return out;
    if (loaded.resources.empty()) {
      report.error = QStringLiteral("the editor holds no resource");
      return out;
    }
    const TopologyView before = topologyOf(mgmt::withTranslation(*target->snapshot()));
    std::unique_ptr<QTemporaryDir> copy_dir;
    std::unique_ptr<mgmt::ManagementPlane> copy;
    if (dry_run) {
      copy_dir = std::make_unique<QTemporaryDir>();
      QString error;
      if (!copy_dir->isValid() || !copyState(qs(currentDir()), copy_dir->path(), &error)) {
        report.error =
            error.isEmpty() ? QStringLiteral("cannot create a directory for the dry run") : error;
        return out;
      }
      auto opened = mgmt::ManagementPlane::open(ss(copy_dir->path()), mgmt::wallClockRfc3339);
      if (!opened.ok()) {
        report.error = qs(opened.status().message());
        return out;
      }
      copy = std::move(opened).value();
      target = copy.get();
    }
    bool changed = false;
    for (const auto& o : target->apply(loaded.resources, ss(user))) {
      report.changes.append({o.accepted, QString::fromLatin1(statusCodeName(o.code)), qs(o.kind),
                             qs(o.resource), qs(o.result), qs(o.message), qs(o.diff)});
      changed = changed || (o.accepted && o.result != "unchanged");
    }
    report.topology_changes =
        topologyDiff(before, topologyOf(mgmt::withTranslation(*target->snapshot())));
    if (dry_run) return out;
    out.changed = true;  // refusals are audited too
    if (changed && live() != nullptr) {
      const Status st = live()->reconfigure(target->snapshot());
      out.mesh_message = st.ok()
                             ? QStringLiteral("mesh reconfigured")
                             : QStringLiteral("reconfiguration failed: %1").arg(qs(st.message()));
    }
    out.mirror = mirror();
    return out;
  }

  MeshOutcome startMesh() {
    MeshOutcome out;
    if (MeshRuntime* rt = live()) {
      out.running = true;
      out.message =
          QStringLiteral("mesh running: %1 listeners").arg(rt->dataPlane().listenerCount());
      return out;
    }
    if (!plane) {
      out.message = QStringLiteral("nothing to start: no configuration is loaded");
      return out;
    }
    if (!factory) {
      out.message = QStringLiteral("this build has no data plane");
      return out;
    }
    dataplane::DataPlaneOptions options;
    options.threads = 2;
    auto made = MeshRuntime::create(plane->snapshot(), factory(options));
    if (!made.ok()) {
      out.message = QStringLiteral("cannot create the mesh: %1").arg(qs(made.status().message()));
      return out;
    }
    if (Status st = (*made)->start(); !st.ok()) {
      out.message = QStringLiteral("cannot start the mesh: %1").arg(qs(st.message()));
      return out;
    }
    runtime = std::move(made).value();
    sampler.restart();
    out.running = true;
    out.message =
        QStringLiteral("mesh running: %1 listeners").arg(runtime->dataPlane().listenerCount());
    return out;
  }

  MeshOutcome stopMesh() {
    MeshOutcome out;
    const QString error = detachRunner();
    if (runtime) runtime->stop();
    runtime.reset();
    out.message = error.isEmpty()
                      ? QStringLiteral("mesh stopped")
                      : QStringLiteral("mesh stopped; its state cannot be reopened: %1").arg(error);
    return out;
  }

  // A fresh runner (own state, own mesh) that has played `steps` steps.
  QString rebuild(size_t steps, StepOutcome& out) {
    out.rebuilt = true;
    if (runner) runner->finish();
    runner.reset();
    if (runtime) runtime->stop();
    runtime.reset();
    plane.reset();
    auto dir = freshDir();
    if (!dir.ok()) return qs(dir.status().message());
    runner_dir = *dir;
    scenario::RunnerOptions options;
    options.data_plane_factory = factory;
    options.state_dir = runner_dir;
    options.on_progress = [this](const scenario::Progress& p) {
      if (progress) progress(p);
    };
    auto made = scenario::ScenarioRunner::create(*scenario, std::move(options));
    if (!made.ok()) return qs(made.status().message());
    runner = std::move(made).value();
    sampler.restart();
    if (restarted) restarted();
    if (Status st = runner->start(); !st.ok()) {
      const QString error = qs(st.toString());
      // Keep whatever state the runner made, so that the configuration stays visible.
      detachRunner();
      return error;
    }
    while (runner->nextStep() < steps && !runner->done()) out.results.append(runner->step());
    return {};
  }

  // Plays step `index` (replaying the earlier ones first when the runner is not there).
  StepOutcome stepAt(size_t index) {
    StepOutcome out;
    if (!runner || runner->runtime() == nullptr || runner->nextStep() != index) {
      out.error = rebuild(index, out);
    }
    if (out.error.isEmpty() && runner && !runner->done()) out.results.append(runner->step());
    finishStep(out);
    return out;
  }

  // Rebuilds the player after `index` steps.
  StepOutcome backTo(size_t index) {
    StepOutcome out;
    out.error = rebuild(index, out);
    finishStep(out);
    return out;
  }

  void finishStep(StepOutcome& out) {
    out.done = runner ? runner->nextStep() : 0;
    out.running = live() != nullptr;
    if (out.running) {
      out.mesh_message = QStringLiteral("mesh running (scenario player): %1 listeners")
                             .arg(live()->dataPlane().listenerCount());
    }
  }

  TrafficReport traffic(const TrafficRequest& request, bool continuous,
                        std::optional<Figures>* figures) {
    TrafficReport report;
    MeshRuntime* rt = live();
    if (rt == nullptr) {
      report.error = QStringLiteral("the mesh is not running");
      return report;
    }
    // A lone burst is measured over its own duration; continuous traffic over the time since
    // the previous burst (about a second), so that the rate is the rate asked for.
    if (!continuous || !sampler.recent(3.0)) sampler.baseline(rt->dataPlane().telemetry());
    auto result = rt->traffic(request);
    if (!result.ok()) {
      report.error = qs(result.status().message());
      return report;
    }
    report.sent = result->sent;
    for (const auto& [status, n] : result->by_status) {
      if (status >= 200 && status < 300) report.ok += n;
    }
    for (const auto& [version, n] : result->by_version) {
      report.by_version.append(QStringLiteral("%1: %2")
                                   .arg(version.empty() ? QStringLiteral("none") : qs(version))
                                   .arg(n));
    }
    report.p50_ms = result->p50_ms;
    if (!result->errors.empty()) report.error = qs(result->errors.front());
    *figures = sampler.sample(rt->dataPlane().telemetry());
    return report;
  }

  BlastVerifyReport verify(const QString& workload) {
    BlastVerifyReport out;
    out.compromised = workload;
    MeshRuntime* rt = live();
    if (rt == nullptr) {
      out.error = QStringLiteral("start the mesh first");
      return out;
    }
    std::string ns, name;
    if (!splitId(workload, &ns, &name)) {
      out.error = QStringLiteral("not a workload: %1").arg(workload);
      return out;
    }
    // The prediction the proxies are held to: the Istio-level configuration the running plan
    // enforces, with every request shape the verification sends evaluated.
    const VerifyOptions options;
    const auto plan = rt->plan();
    if (plan == nullptr) {
      out.error = QStringLiteral("the mesh has no plan yet");
      return out;
    }
    auto graph = analysis::buildReachability(plan->config, reachabilityOptionsFor(options));
    if (!graph.ok()) {
      out.error = qs(graph.status().message());
      return out;
    }
    analysis::BlastOptions blast;
    blast.plaintext = options.outsider;
    auto radius = analysis::blastRadius(*graph, ns, name, blast);
    if (!radius.ok()) {
      out.error = qs(radius.status().message());
      return out;
    }
    auto verified = verifyBlastRadius(*rt, *graph, *radius, options);
    if (!verified.ok()) {
      out.error = qs(verified.status().message());
      return out;
    }
    out.agree = verified->agree();
    for (const auto& p : verified->probes) {
      out.probes.append({qs(p.from), qs(p.to), qs(p.service), qs(p.request), qs(p.transport),
                         p.predicted_allowed, p.observed_allowed, p.observed_status,
                         qs(p.observed_error), qs(p.served_by), qs(p.basis), p.agree});
    }
    out.disagreements = static_cast<int>(verified->disagreements);
    for (const auto& w : verified->observed_reached) out.observed_reached.append(qs(w));
    for (const auto& w : verified->predicted_reached) out.predicted_reached.append(qs(w));
    if (auto svid = rt->currentSvid(ns, name); svid.ok()) {
      out.credential.spiffe_id = qs(svid->spiffe_id);
      out.credential.serial = qs(svid->serial_hex);
      out.credential.not_before = svid->not_before;
      out.credential.not_after = svid->not_after;
      out.credential.now = rt->clock().now();
      out.credential.rotation_at = pki::SvidRotator().rotationTime(*svid);
    }
    return out;
  }
};

}  // namespace

// ------------------------------------------------------------------ value types

const NodeView* TopologyView::findNode(const QString& id) const {
  for (const NodeView& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

const EdgeView* TopologyView::findEdge(const QString& key) const {
  for (const EdgeView& e : edges) {
    if (e.key() == key) return &e;
  }
  return nullptr;
}

bool ApplyReport::allAccepted() const {
  for (const DiagnosticInfo& d : diagnostics) {
    if (d.severity == DiagnosticSeverity::kError) return false;
  }
  if (!error.isEmpty() || changes.isEmpty()) return false;
  return std::all_of(changes.begin(), changes.end(),
                     [](const ChangeView& c) { return c.accepted; });
}

QString BlastVerifyReport::summary() const {
  if (!error.isEmpty()) return error;
  if (disagreements == 0 && agree) return QStringLiteral("%1 probes, all agree").arg(probes.size());
  if (disagreements == 0) {
    return QStringLiteral("%1 probes agree, but the reached workloads differ").arg(probes.size());
  }
  return QStringLiteral("%1 probes, %2 disagree").arg(probes.size()).arg(disagreements);
}

// ------------------------------------------------------------------ the session

struct MeshSession::Impl {
  std::shared_ptr<Engine> engine = std::make_shared<Engine>();  // engine thread only
  QThread thread;
  QObject* context = nullptr;  // lives on `thread`; jobs run in its event loop
  int pending = 0;
  quint64 generation = 0;  // bumped by open(): results of older jobs are dropped
  bool has_factory = false;

  QString open_error;
  std::shared_ptr<const config::Snapshot> snapshot;
  std::shared_ptr<const config::Snapshot> translated;
  std::optional<analysis::Topology> base;  // topology of `translated` without live figures
  QString base_error;
  analysis::TopologyOverlay overlay;
  std::map<std::string, uint64_t> recent;  // requests per edge over the share window
  TopologyView topology;
  QList<AuditEntry> audit;

  QString description;
  QList<StepView> steps;
  int steps_done = 0;
  bool stepping = false;
  QString step_message;

  bool running = false;
  QList<MetricsSample> history;
  QString traffic_from;
  QString traffic_to;
  int traffic_rps = 0;
  bool traffic_in_flight = false;
};

// Lets data_plane_hookup.h reach the private state.
struct MeshSessionAccess {
  static void setFactory(MeshSession& session, dataplane::DataPlaneFactory factory) {
    session.impl_->has_factory = static_cast<bool>(factory);
    std::shared_ptr<Engine> engine = session.impl_->engine;
    session.call([&] { engine->factory = std::move(factory); });
  }
};

void setDataPlaneFactory(MeshSession& session, dataplane::DataPlaneFactory factory) {
  MeshSessionAccess::setFactory(session, std::move(factory));
}

MeshSession::MeshSession(QObject* parent)
    : QObject(parent), impl_(std::make_unique<Impl>()), traffic_timer_(new QTimer(this)) {
  qRegisterMetaType<TrafficReport>();
  qRegisterMetaType<MetricsSample>();
  qRegisterMetaType<BlastVerifyReport>();
  impl_->context = new QObject();
  impl_->context->moveToThread(&impl_->thread);
  connect(&impl_->thread, &QThread::finished, impl_->context, &QObject::deleteLater);
  impl_->thread.setObjectName(QStringLiteral("meshsim-engine"));
  impl_->thread.start();
  traffic_timer_->setInterval(1000);
  connect(traffic_timer_, &QTimer::timeout, this, &MeshSession::tick);
}

MeshSession::~MeshSession() {
  traffic_timer_->stop();
  ++impl_->generation;
  std::shared_ptr<Engine> engine = impl_->engine;
  call([engine] {
    engine->shutdown();
    engine->root.reset();
  });
  impl_->thread.quit();
  impl_->thread.wait();
}

void MeshSession::post(std::function<void()> job) {
  ++impl_->pending;
  QMetaObject::invokeMethod(impl_->context, std::move(job), Qt::QueuedConnection);
}

void MeshSession::call(const std::function<void()>& job) {
  // Queued behind the jobs already posted, so the engine state it sees is the latest.
  QMetaObject::invokeMethod(
      impl_->context, [&job] { job(); }, Qt::BlockingQueuedConnection);
}

void MeshSession::finished() {
  if (impl_->pending > 0) --impl_->pending;
  if (impl_->pending == 0) emit idle();
}

void MeshSession::takeMirror(const detail::Mirror& mirror) {
  impl_->snapshot = mirror.snapshot;
  impl_->translated = mirror.translated;
  impl_->audit = mirror.audit;
  impl_->base.reset();
  impl_->base_error.clear();
  if (impl_->translated) {
    auto built = analysis::buildTopology(impl_->translated, {});
    if (built.ok()) {
      impl_->base = std::move(built).value();
    } else {
      impl_->base_error = qs(built.status().message());
    }
  }
  rebuildTopology();
  emit configurationChanged();
  emit auditChanged();
}

void MeshSession::takeFigures(const detail::Figures& figures) {
  impl_->overlay = figures.overlay;
  impl_->recent = figures.recent;
  impl_->history.append(figures.sample);
  rebuildTopology();
  emit metricsSampled(figures.sample);
}

void MeshSession::rebuildTopology() {
  if (impl_->base) {
    analysis::Topology t = *impl_->base;
    const bool live = impl_->running && !impl_->overlay.edges.empty();
    if (live) analysis::applyOverlay(t, impl_->overlay);
    impl_->topology = toView(t, live ? impl_->recent : std::map<std::string, uint64_t>{});
  } else {
    impl_->topology = {};
    impl_->topology.error = impl_->translated ? impl_->base_error : impl_->open_error;
  }
  emit topologyChanged();
}

void MeshSession::open(const QStringList& paths) {
  stopTraffic();
  ++impl_->generation;
  const bool was_running = impl_->running;
  impl_->running = false;
  impl_->stepping = false;
  impl_->traffic_in_flight = false;
  impl_->overlay = {};
  impl_->recent.clear();
  impl_->history.clear();
  impl_->steps_done = 0;
  impl_->step_message.clear();
  OpenOutcome outcome;
  std::shared_ptr<Engine> engine = impl_->engine;
  call([&] { outcome = engine->open(paths); });
  impl_->open_error = outcome.error;
  impl_->description = outcome.description;
  impl_->steps = outcome.steps;
  takeMirror(outcome.mirror);
  if (was_running) emit meshStateChanged(QStringLiteral("mesh stopped"));
  emit scenarioChanged();
  emit stepped();
}

const QString& MeshSession::openError() const { return impl_->open_error; }
const TopologyView& MeshSession::topology() const { return impl_->topology; }
const QList<AuditEntry>& MeshSession::audit() const { return impl_->audit; }

BlastView MeshSession::blastRadius(const QString& workload) const {
  BlastView out;
  out.compromised = workload;
  if (!impl_->translated) {
    out.error = QStringLiteral("nothing is loaded");
    return out;
  }
  std::string ns, name;
  if (!splitId(workload, &ns, &name)) {
    out.error = QStringLiteral("not a workload: %1").arg(workload);
    return out;
  }
  auto graph = analysis::buildReachability(impl_->translated);
  if (!graph.ok()) {
    out.error = qs(graph.status().message());
    return out;
  }
  auto radius = analysis::blastRadius(*graph, ns, name);
  if (!radius.ok()) {
    out.error = qs(radius.status().message());
    return out;
  }
  const analysis::ReachabilityGraph& g = *graph;
  const size_t identity = g.identity_of[radius->compromised];
  if (identity != analysis::kNoIdentity) out.identity = qs(g.identities[identity].principal);
  std::map<size_t, int> hops_of;
  hops_of[radius->compromised] = 0;
  for (const auto& r : radius->reached) {
    BlastTarget t;
    t.workload = qs(g.workloadKey(r.workload));
    t.hops = static_cast<int>(r.hops);
    t.contribution = r.contribution;
    int hop = 1;
    for (const auto& step : r.path) t.path.append(toHop(g, step.from, step.to, step.edge, hop++));
    hops_of[r.workload] = t.hops;
    out.reached.append(t);
  }
  for (const auto& e : radius->edges) {
    out.edges.append(toHop(g, e.from, e.to, e.edge, hops_of[e.from] + 1));
  }
  out.score = radius->score;
  out.credential_window_seconds = radius->credential_window_seconds;
  out.rotation_after_seconds = radius->rotation_after_seconds;
  return out;
}

ApplyReport MeshSession::apply(const QString& yaml, const QString& user, bool dry_run) {
  const QString no_mesh =
      impl_->open_error.isEmpty() ? QStringLiteral("nothing is loaded") : impl_->open_error;
  ApplyOutcome outcome;
  std::shared_ptr<Engine> engine = impl_->engine;
  call([&] { outcome = engine->apply(yaml, user, dry_run, no_mesh); });
  if (outcome.changed) takeMirror(outcome.mirror);
  if (!outcome.mesh_message.isEmpty()) emit meshStateChanged(outcome.mesh_message);
  return outcome.report;
}

QStringList MeshSession::users() const {
  QStringList out{QString::fromLatin1(mgmt::kBootstrapAdmin)};
  if (!impl_->snapshot) return out;
  for (const auto* u : impl_->snapshot->users) out.append(qs(u->meta.name));
  return out;
}

QStringList MeshSession::workloads() const {
  QStringList out;
  if (!impl_->snapshot) return out;
  for (const auto* w : impl_->snapshot->workloads) {
    out.append(qs(w->meta.namespace_ + "/" + w->meta.name));
  }
  return out;
}

QStringList MeshSession::services() const {
  QStringList out;
  if (!impl_->snapshot) return out;
  for (const auto* s : impl_->snapshot->services) {
    out.append(qs(s->meta.namespace_ + "/" + s->meta.name));
  }
  return out;
}

const QString& MeshSession::scenarioDescription() const { return impl_->description; }
const QList<StepView>& MeshSession::steps() const { return impl_->steps; }
int MeshSession::stepsDone() const { return impl_->steps_done; }
bool MeshSession::stepping() const { return impl_->stepping; }
const QString& MeshSession::stepMessage() const { return impl_->step_message; }

bool MeshSession::stepForward() {
  if (impl_->steps.isEmpty() || impl_->stepping || impl_->steps_done >= impl_->steps.size()) {
    return false;
  }
  if (!impl_->open_error.isEmpty() || !impl_->has_factory) {
    impl_->step_message = !impl_->open_error.isEmpty()
                              ? impl_->open_error
                              : QStringLiteral(
                                    "the scenario player runs steps on the live "
                                    "mesh; this build has no data plane");
    emit stepped();
    return false;
  }
  runStep(false);
  return true;
}

bool MeshSession::stepBack() {
  if (impl_->steps_done == 0 || impl_->stepping || !impl_->has_factory) return false;
  runStep(true);
  return true;
}

void MeshSession::runStep(bool back) {
  stopTraffic();
  impl_->stepping = true;
  const int target = back ? impl_->steps_done - 1 : impl_->steps_done;
  const int total = static_cast<int>(impl_->steps.size());
  const quint64 generation = impl_->generation;
  std::shared_ptr<Engine> engine = impl_->engine;
  emit stepProgress(back ? QStringLiteral("replaying %1 steps from the start ...").arg(target)
                         : QStringLiteral("running step %1 of %2 ...").arg(target + 1).arg(total));
  post([this, engine, back, target, total, generation] {
    // Runs on the engine thread, inside ScenarioRunner::step(): traffic steps report figures
    // chunk by chunk, so the charts move while the step runs.
    engine->progress = [this, engine, total, generation](const scenario::Progress& p) {
      MeshRuntime* rt = engine->live();
      if (rt == nullptr || engine->runner == nullptr || p.step >= p.steps) return;
      if (engine->runner->scenario().steps[p.step].kind != scenario::StepKind::kTraffic) return;
      std::optional<Figures> figures;
      if (p.requests_done == 0) {
        engine->sampler.baseline(rt->dataPlane().telemetry());
      } else {
        figures = engine->sampler.sample(rt->dataPlane().telemetry());
      }
      const QString what =
          p.requests_total == 0
              ? QStringLiteral("step %1 of %2: %3").arg(p.step + 1).arg(total).arg(qs(p.what))
              : QStringLiteral("step %1 of %2: %3 of %4 requests")
                    .arg(p.step + 1)
                    .arg(total)
                    .arg(p.requests_done)
                    .arg(p.requests_total);
      QMetaObject::invokeMethod(
          this,
          [this, figures, what, generation] {
            if (generation != impl_->generation) return;
            if (figures && impl_->running) takeFigures(*figures);
            emit stepProgress(what);
          },
          Qt::QueuedConnection);
    };
    // A fresh runner means a fresh mesh: the charts start again.
    engine->restarted = [this, generation] {
      QMetaObject::invokeMethod(
          this,
          [this, generation] {
            if (generation != impl_->generation) return;
            impl_->history.clear();
            impl_->overlay = {};
            impl_->recent.clear();
            impl_->running = true;
          },
          Qt::QueuedConnection);
    };
    StepOutcome outcome = back ? engine->backTo(static_cast<size_t>(target))
                               : engine->stepAt(static_cast<size_t>(target));
    engine->progress = nullptr;
    engine->restarted = nullptr;
    // The figures of the last chunk of a traffic step.
    std::optional<Figures> figures;
    if (!outcome.results.isEmpty() && outcome.results.last().kind == scenario::StepKind::kTraffic &&
        engine->live() != nullptr) {
      figures = engine->sampler.sample(engine->live()->dataPlane().telemetry());
    }
    Mirror mirror = engine->mirror();
    QMetaObject::invokeMethod(
        this,
        [this, outcome, mirror, figures, back, target, generation] {
          if (generation == impl_->generation) {
            impl_->stepping = false;
            const bool was_running = impl_->running;
            impl_->running = outcome.running;
            if (outcome.rebuilt) {
              for (StepView& s : impl_->steps) {
                s.played = false;
                s.passed = true;
                s.outcome.clear();
                s.error.clear();
                s.details.clear();
              }
            }
            for (const scenario::StepResult& r : outcome.results) {
              if (r.index < static_cast<size_t>(impl_->steps.size())) {
                recordOutcome(r, impl_->steps[static_cast<int>(r.index)]);
              }
            }
            impl_->steps_done = static_cast<int>(outcome.done);
            if (!outcome.error.isEmpty()) {
              impl_->step_message =
                  QStringLiteral("the scenario cannot run: %1").arg(outcome.error);
            } else if (back) {
              impl_->step_message = target == 0 ? QStringLiteral("back at the start")
                                                : QStringLiteral("back after step %1").arg(target);
            } else if (!outcome.results.isEmpty()) {
              const StepView& s = impl_->steps[static_cast<int>(outcome.results.last().index)];
              impl_->step_message =
                  s.passed ? s.outcome : QStringLiteral("%1\nFAILED: %2").arg(s.outcome, s.error);
            }
            takeMirror(mirror);
            if (figures && impl_->running) takeFigures(*figures);
            if (outcome.running != was_running || outcome.rebuilt) {
              emit meshStateChanged(outcome.running ? outcome.mesh_message
                                                    : QStringLiteral("mesh stopped"));
            }
            emit stepped();
          }
          finished();
        },
        Qt::QueuedConnection);
  });
}

bool MeshSession::canStartMesh() const { return impl_->has_factory; }
bool MeshSession::meshRunning() const { return impl_->running; }
bool MeshSession::busy() const { return impl_->pending > 0; }
const QList<MetricsSample>& MeshSession::metricsHistory() const { return impl_->history; }
bool MeshSession::trafficRunning() const { return traffic_timer_->isActive(); }

void MeshSession::startMesh() {
  if (!impl_->has_factory) {
    emit meshStateChanged(QStringLiteral("this build has no data plane"));
    return;
  }
  if (impl_->running) return;
  if (!impl_->snapshot) {
    emit meshStateChanged(impl_->open_error.isEmpty()
                              ? QStringLiteral("nothing to start: no configuration is loaded")
                              : QStringLiteral("nothing to start: %1").arg(impl_->open_error));
    return;
  }
  impl_->running = true;
  impl_->history.clear();
  impl_->overlay = {};
  impl_->recent.clear();
  const quint64 generation = impl_->generation;
  std::shared_ptr<Engine> engine = impl_->engine;
  post([this, engine, generation] {
    const MeshOutcome outcome = engine->startMesh();
    QMetaObject::invokeMethod(
        this,
        [this, outcome, generation] {
          if (generation == impl_->generation) {
            impl_->running = outcome.running;
            if (!outcome.running) stopTraffic();
            emit meshStateChanged(outcome.message);
          }
          finished();
        },
        Qt::QueuedConnection);
  });
}

void MeshSession::stopMesh() {
  stopTraffic();
  if (!impl_->running) return;
  impl_->running = false;
  impl_->overlay = {};
  impl_->recent.clear();
  rebuildTopology();
  const quint64 generation = impl_->generation;
  std::shared_ptr<Engine> engine = impl_->engine;
  post([this, engine, generation] {
    const MeshOutcome outcome = engine->stopMesh();
    Mirror mirror = engine->mirror();
    QMetaObject::invokeMethod(
        this,
        [this, outcome, mirror, generation] {
          if (generation == impl_->generation) {
            impl_->running = false;
            takeMirror(mirror);
            emit meshStateChanged(outcome.message);
          }
          finished();
        },
        Qt::QueuedConnection);
  });
}

namespace {

// A TrafficRequest from workload `from` to Service `to`, both "ns/name"; false when malformed.
bool trafficRequest(const QString& from, const QString& to, int requests, int concurrency,
                    TrafficRequest* out) {
  std::string from_ns, from_name, to_ns, to_name;
  if (!splitId(from, &from_ns, &from_name) || !splitId(to, &to_ns, &to_name)) return false;
  out->request.from.kind = analysis::CheckSource::Kind::kWorkload;
  out->request.from.namespace_ = from_ns;
  out->request.from.name = from_name;
  out->request.to_namespace = to_ns;
  out->request.to_service = to_name;
  out->requests = static_cast<uint64_t>(std::max(1, requests));
  out->concurrency = static_cast<uint32_t>(std::max(1, concurrency));
  return true;
}

}  // namespace

void MeshSession::sendTraffic(const QString& from, const QString& to, int requests,
                              int concurrency) {
  TrafficReport invalid;
  invalid.from = from;
  invalid.to = to;
  TrafficRequest request;
  if (!trafficRequest(from, to, requests, concurrency, &request)) {
    invalid.error = QStringLiteral("traffic needs a workload and a service as ns/name");
    emit trafficDone(invalid);
    return;
  }
  if (!impl_->running) {
    invalid.error = QStringLiteral("the mesh is not running");
    emit trafficDone(invalid);
    return;
  }
  const bool continuous = traffic_timer_->isActive();
  impl_->traffic_in_flight = true;
  const quint64 generation = impl_->generation;
  std::shared_ptr<Engine> engine = impl_->engine;
  post([this, engine, request, from, to, continuous, generation] {
    std::optional<Figures> figures;
    TrafficReport report = engine->traffic(request, continuous, &figures);
    report.from = from;
    report.to = to;
    QMetaObject::invokeMethod(
        this,
        [this, report, figures, generation] {
          if (generation == impl_->generation) {
            impl_->traffic_in_flight = false;
            if (figures && impl_->running) takeFigures(*figures);
            emit trafficDone(report);
          }
          finished();
        },
        Qt::QueuedConnection);
  });
}

void MeshSession::startTraffic(const QString& from, const QString& to, int rps) {
  if (rps <= 0) {
    stopTraffic();
    return;
  }
  impl_->traffic_from = from;
  impl_->traffic_to = to;
  impl_->traffic_rps = rps;
  if (!impl_->running) startMesh();
  traffic_timer_->start();
  tick();
}

void MeshSession::stopTraffic() { traffic_timer_->stop(); }

void MeshSession::tick() {
  // Skip a beat rather than queue bursts behind a slow one.
  if (impl_->traffic_in_flight || !impl_->running || impl_->stepping) return;
  sendTraffic(impl_->traffic_from, impl_->traffic_to, impl_->traffic_rps,
              std::max(1, impl_->traffic_rps / 50));
}

void MeshSession::verifyBlastRadius(const QString& workload) {
  if (!impl_->running) {
    BlastVerifyReport invalid;
    invalid.compromised = workload;
    invalid.error = QStringLiteral("start the mesh first");
    emit blastVerified(invalid);
    return;
  }
  const quint64 generation = impl_->generation;
  std::shared_ptr<Engine> engine = impl_->engine;
  post([this, engine, workload, generation] {
    const BlastVerifyReport report = engine->verify(workload);
    QMetaObject::invokeMethod(
        this,
        [this, report, generation] {
          if (generation == impl_->generation) emit blastVerified(report);
          finished();
        },
        Qt::QueuedConnection);
  });
}

}  // namespace meshsim::gui
