#include "app/mesh_session.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QMetaObject>
#include <QSet>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <map>
#include <set>

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

namespace meshsim::gui {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }
std::string ss(const QString& s) { return s.toStdString(); }

SourceRef toRef(const SourceLocation& where) {
  return {qs(where.file), static_cast<int>(where.line), static_cast<int>(where.column)};
}

QList<DiagnosticInfo> toDiagnostics(const Diagnostics& diagnostics) {
  QList<DiagnosticInfo> out;
  for (const Diagnostic& d : diagnostics.items()) {
    out.append({d.severity == Severity::kError ? DiagnosticSeverity::kError
                                               : DiagnosticSeverity::kWarning,
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

TopologyView toView(const analysis::Topology& t) {
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
  return out;
}

QString viaText(const analysis::ReachEdge& e) {
  QString out = e.policy.empty()
                    ? qs(e.basis)
                    : QStringLiteral("%1 rule %2").arg(qs(e.policy)).arg(e.rule);
  if (e.source == analysis::kNetworkSource) out = QStringLiteral("plaintext, ") + out;
  if (e.needs_token) out += QStringLiteral(", needs token");
  return out;
}

BlastHop toHop(const analysis::ReachabilityGraph& g, size_t from, size_t to, size_t edge,
               int hop) {
  const analysis::ReachEdge& e = g.edges[edge];
  return {qs(g.workloadKey(from)), qs(g.workloadKey(to)),
          QStringLiteral("%1:%2").arg(qs(e.service)).arg(e.port), viaText(e), e.mtls, hop};
}

// The figures the worker derives from telemetry.
struct LiveFigures {
  analysis::TopologyOverlay overlay;
  MetricsSample sample;
};

// Runs on the worker thread only: owns the runtime and the previous telemetry counts.
struct Worker {
  dataplane::DataPlaneFactory factory;
  std::unique_ptr<MeshRuntime> runtime;
  QElapsedTimer started;
  double last_sample_seconds = -1;
  std::map<std::string, uint64_t> previous_edges;     // edge key -> requests
  std::map<std::string, uint64_t> previous_versions;  // "svc ver" -> requests

  LiveFigures sample(double burst_seconds) {
    LiveFigures out;
    const double now = started.isValid() ? started.elapsed() / 1000.0 : 0;
    const double since_last = last_sample_seconds < 0 ? burst_seconds : now - last_sample_seconds;
    // Continuous traffic samples about once a second; a lone burst after a pause counts over
    // its own duration.
    const double window =
        std::max(since_last <= 2.0 ? std::max(since_last, burst_seconds) : burst_seconds, 1e-3);
    last_sample_seconds = now;
    out.sample.seconds = now;
    const observe::TelemetrySnapshot telemetry = runtime->dataPlane().telemetry();
    std::map<std::string, observe::RequestStats> edges;
    std::map<std::string, std::pair<uint64_t, uint64_t>> edge_counts;  // requests, errors
    std::map<std::string, observe::RequestStats> versions;
    std::map<std::string, uint64_t> version_errors;
    std::map<std::string, std::pair<std::string, std::string>> version_names;
    for (const auto& [labels, stats] : telemetry.requests) {
      if (labels.reporter != "destination") continue;
      const bool error = labels.response_code == 0 || labels.response_code >= 500;
      const std::string from =
          labels.source_workload == "unknown"
              ? std::string("outside")
              : labels.source_workload_namespace + "/" + labels.source_workload;
      const std::string key = analysis::edgeKey(
          from, labels.destination_workload_namespace + "/" + labels.destination_workload);
      edges[key].merge(stats);
      edge_counts[key].first += stats.count;
      if (error || labels.response_code >= 400) edge_counts[key].second += stats.count;
      const std::string service =
          labels.destination_service_namespace + "/" + labels.destination_service_name;
      const std::string vkey = service + " " + labels.destination_version;
      versions[vkey].merge(stats);
      if (error) version_errors[vkey] += stats.count;
      version_names[vkey] = {service, labels.destination_version};
    }
    for (const auto& [key, stats] : edges) {
      analysis::EdgeTraffic t;
      t.requests = edge_counts[key].first;
      t.errors = edge_counts[key].second;
      const uint64_t before = previous_edges[key];
      t.rps = static_cast<double>(t.requests - std::min(before, t.requests)) / window;
      t.p50_ms = stats.quantileMs(0.5);
      previous_edges[key] = t.requests;
      out.overlay.edges[key] = t;
    }
    for (const auto& [key, stats] : versions) {
      VersionMetrics m;
      m.service = qs(version_names[key].first);
      m.version = qs(version_names[key].second);
      m.requests = stats.count;
      m.errors = version_errors[key];
      const uint64_t before = previous_versions[key];
      m.rps = static_cast<double>(stats.count - std::min(before, stats.count)) / window;
      m.p50_ms = stats.quantileMs(0.5);
      m.p90_ms = stats.quantileMs(0.9);
      previous_versions[key] = stats.count;
      out.sample.versions.append(m);
    }
    return out;
  }
};

}  // namespace

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
  return std::all_of(changes.begin(), changes.end(), [](const ChangeView& c) { return c.accepted; });
}

struct MeshSession::Impl {
  dataplane::DataPlaneFactory factory;
  std::unique_ptr<QTemporaryDir> state_dir;
  std::unique_ptr<mgmt::ManagementPlane> plane;
  std::vector<model::Resource> mesh_resources;
  QString open_error;
  TopologyView topology;
  analysis::TopologyOverlay overlay;

  std::optional<model::Scenario> scenario;
  QString scenario_dir;
  QString description;
  QList<StepView> steps;
  int steps_done = 0;
  QString step_message;

  QThread thread;
  QObject* worker_context = nullptr;  // lives on `thread`
  std::shared_ptr<Worker> worker = std::make_shared<Worker>();
  bool running = false;
  int pending = 0;
  QList<MetricsSample> history;
  QString traffic_from;
  QString traffic_to;
  int traffic_rps = 0;
  bool traffic_in_flight = false;
};

// Lets data_plane_hookup.h reach the private state.
struct MeshSessionAccess {
  static void setFactory(MeshSession& session, dataplane::DataPlaneFactory factory) {
    session.impl_->factory = std::move(factory);
  }
};

void setDataPlaneFactory(MeshSession& session, dataplane::DataPlaneFactory factory) {
  MeshSessionAccess::setFactory(session, std::move(factory));
}

MeshSession::MeshSession(QObject* parent)
    : QObject(parent), impl_(std::make_unique<Impl>()), traffic_timer_(new QTimer(this)) {
  qRegisterMetaType<TrafficReport>();
  qRegisterMetaType<MetricsSample>();
  qRegisterMetaType<VerifyReport>();
  impl_->worker_context = new QObject();
  impl_->worker_context->moveToThread(&impl_->thread);
  connect(&impl_->thread, &QThread::finished, impl_->worker_context, &QObject::deleteLater);
  impl_->thread.setObjectName(QStringLiteral("meshsim-engine"));
  impl_->thread.start();
  traffic_timer_->setInterval(1000);
  connect(traffic_timer_, &QTimer::timeout, this, &MeshSession::tick);
}

MeshSession::~MeshSession() {
  traffic_timer_->stop();
  std::shared_ptr<Worker> worker = impl_->worker;
  QMetaObject::invokeMethod(
      impl_->worker_context,
      [worker] {
        if (worker->runtime) worker->runtime->stop();
        worker->runtime.reset();
      },
      Qt::QueuedConnection);
  impl_->thread.quit();
  impl_->thread.wait();
}

void MeshSession::post(std::function<void()> job) {
  ++impl_->pending;
  QMetaObject::invokeMethod(impl_->worker_context, std::move(job), Qt::QueuedConnection);
}

void MeshSession::finished() {
  if (impl_->pending > 0) --impl_->pending;
  if (impl_->pending == 0) emit idle();
}

void MeshSession::open(const QStringList& paths) {
  stopTraffic();
  if (impl_->running) stopMesh();
  impl_->open_error.clear();
  impl_->mesh_resources.clear();
  impl_->scenario.reset();
  impl_->scenario_dir.clear();
  impl_->description.clear();
  impl_->steps.clear();
  impl_->steps_done = 0;
  impl_->step_message.clear();
  impl_->overlay = {};
  impl_->history.clear();

  std::vector<std::string> inputs;
  for (const QString& p : paths) inputs.push_back(ss(p));
  config::LoadResult loaded = config::loadConfiguration(inputs);
  for (auto& r : loaded.resources) {
    if (auto* s = std::get_if<model::Scenario>(&r)) {
      if (!impl_->scenario) impl_->scenario = *s;
    }
  }
  if (impl_->scenario) {
    const model::Scenario& s = *impl_->scenario;
    impl_->scenario_dir = QFileInfo(qs(s.meta.source.file)).absolutePath();
    impl_->description = qs(s.description);
    std::vector<std::string> files;
    for (const auto& f : s.files) files.push_back(ss(QDir(impl_->scenario_dir).filePath(qs(f))));
    loaded = config::loadConfiguration(files);
    for (const auto& step : s.steps) {
      StepView v;
      v.kind = qs(step.kind);
      v.source = toRef(step.source);
      auto field = [&](const char* name) {
        auto it = step.fields.find(name);
        return it == step.fields.end() ? QString() : qs(it->second);
      };
      if (step.kind == "note") {
        v.note = field("note");
        v.title = QStringLiteral("note");
      } else {
        v.note = field("note");
        QStringList files_of;
        for (const auto& f : step.files) files_of.append(qs(f));
        if (step.kind == "apply" || step.kind == "delete") {
          v.title = QStringLiteral("%1 %2 as %3")
                        .arg(v.kind, files_of.join(QStringLiteral(", ")),
                             field("as").isEmpty() ? QStringLiteral("admin") : field("as"));
          if (!field("expectError").isEmpty()) {
            v.title += QStringLiteral(" (expects %1)").arg(field("expectError"));
          }
        } else if (step.kind == "traffic") {
          v.title = QStringLiteral("traffic %1 -> %2, %3 requests")
                        .arg(field("from"), field("to"),
                             field("requests").isEmpty() ? QStringLiteral("100")
                                                         : field("requests"));
        } else {
          v.title = v.kind + QStringLiteral(": ") +
                    qs(step.body_yaml).simplified().left(120);
        }
      }
      impl_->steps.append(v);
    }
  } else {
    std::erase_if(loaded.resources, [](const model::Resource& r) {
      return std::holds_alternative<model::Scenario>(r);
    });
  }
  if (!loaded.unreadable.empty()) {
    impl_->open_error = QStringLiteral("cannot read %1").arg(qs(loaded.unreadable.front()));
  } else if (loaded.diagnostics.hasErrors()) {
    impl_->open_error = QStringLiteral("the configuration has errors: %1")
                            .arg(qs(loaded.diagnostics.items().front().toString()));
  }
  if (impl_->open_error.isEmpty()) impl_->mesh_resources = std::move(loaded.resources);
  resetState();
  // Input that cannot be read or validated is not a mesh: no state to show or edit.
  if (!impl_->open_error.isEmpty()) impl_->plane.reset();
  rebuildTopology();
  emit scenarioChanged();
  emit auditChanged();
  emit stepped();
}

void MeshSession::resetState() {
  impl_->plane.reset();
  impl_->state_dir = std::make_unique<QTemporaryDir>();
  if (!impl_->state_dir->isValid()) {
    impl_->open_error = QStringLiteral("cannot create a state directory: %1")
                            .arg(impl_->state_dir->errorString());
    return;
  }
  auto plane = mgmt::ManagementPlane::open(ss(impl_->state_dir->path()), mgmt::wallClockRfc3339);
  if (!plane.ok()) {
    impl_->open_error = qs(plane.status().message());
    return;
  }
  impl_->plane = std::move(plane).value();
  if (impl_->mesh_resources.empty()) return;
  for (const auto& o : impl_->plane->apply(impl_->mesh_resources, mgmt::kBootstrapAdmin)) {
    if (!o.accepted && impl_->open_error.isEmpty()) {
      impl_->open_error = QStringLiteral("%1 refused: %2").arg(qs(o.resource), qs(o.message));
    }
  }
}

const QString& MeshSession::openError() const { return impl_->open_error; }
const TopologyView& MeshSession::topology() const { return impl_->topology; }

void MeshSession::rebuildTopology() {
  if (!impl_->plane) {
    impl_->topology = {};
    impl_->topology.error = impl_->open_error;
    emit topologyChanged();
    return;
  }
  analysis::TopologyOptions options;
  options.overlay = impl_->overlay;
  auto topology = analysis::buildTopology(mgmt::withTranslation(*impl_->plane->snapshot()), options);
  if (topology.ok()) {
    impl_->topology = toView(*topology);
  } else {
    impl_->topology = {};
    impl_->topology.error = qs(topology.status().message());
  }
  emit topologyChanged();
}

BlastView MeshSession::blastRadius(const QString& workload) const {
  BlastView out;
  out.compromised = workload;
  if (!impl_->plane) {
    out.error = QStringLiteral("nothing is loaded");
    return out;
  }
  auto graph = analysis::buildReachability(mgmt::withTranslation(*impl_->plane->snapshot()));
  if (!graph.ok()) {
    out.error = qs(graph.status().message());
    return out;
  }
  std::string ns, name;
  if (!splitId(workload, &ns, &name)) {
    out.error = QStringLiteral("not a workload: %1").arg(workload);
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

namespace {

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
      what.append(e.mtls ? QStringLiteral("plaintext -> mTLS") : QStringLiteral("mTLS -> plaintext"));
    }
    if (!what.isEmpty()) out.append(QStringLiteral("~ %1: %2").arg(e.key(), what.join(QStringLiteral(", "))));
  }
  for (const EdgeView& e : before.edges) {
    if (after.findEdge(e.key()) == nullptr) out.append(QStringLiteral("- %1").arg(e.key()));
  }
  return out;
}

TopologyView topologyOf(const config::Snapshot& snapshot) {
  auto t = analysis::buildTopology(mgmt::withTranslation(snapshot), {});
  TopologyView out;
  if (t.ok()) {
    out = toView(*t);
  } else {
    out.error = qs(t.status().message());
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

}  // namespace

ApplyReport MeshSession::apply(const QString& yaml, const QString& user, bool dry_run) {
  ApplyReport report;
  report.dry_run = dry_run;
  if (!impl_->plane) {
    report.error = impl_->open_error.isEmpty() ? QStringLiteral("nothing is loaded")
                                               : impl_->open_error;
    return report;
  }
  const std::string text = ss(yaml);
  config::LoadResult loaded = config::loadString(text, "<editor>");
  Diagnostics references;
  config::validateReferences(loaded.resources, references);
  report.diagnostics = toDiagnostics(loaded.diagnostics);
  if (loaded.diagnostics.hasErrors()) return report;
  if (loaded.resources.empty()) {
    report.error = QStringLiteral("the editor holds no resource");
    return report;
  }
  const TopologyView before = topologyOf(*impl_->plane->snapshot());
  mgmt::ManagementPlane* target = impl_->plane.get();
  std::unique_ptr<QTemporaryDir> copy_dir;
  std::unique_ptr<mgmt::ManagementPlane> copy;
  if (dry_run) {
    copy_dir = std::make_unique<QTemporaryDir>();
    QString error;
    if (!copy_dir->isValid() || !copyState(impl_->state_dir->path(), copy_dir->path(), &error)) {
      report.error = error.isEmpty() ? QStringLiteral("cannot create a directory for the dry run")
                                     : error;
      return report;
    }
    auto opened = mgmt::ManagementPlane::open(ss(copy_dir->path()), mgmt::wallClockRfc3339);
    if (!opened.ok()) {
      report.error = qs(opened.status().message());
      return report;
    }
    copy = std::move(opened).value();
    target = copy.get();
  }
  for (const auto& o : target->apply(loaded.resources, ss(user))) {
    report.changes.append({o.accepted, QString::fromLatin1(statusCodeName(o.code)), qs(o.kind),
                           qs(o.resource), qs(o.result), qs(o.message), qs(o.diff)});
  }
  report.topology_changes = topologyDiff(before, topologyOf(*target->snapshot()));
  if (!dry_run) snapshotChanged();
  return report;
}

void MeshSession::snapshotChanged() {
  rebuildTopology();
  emit auditChanged();
  if (impl_->running && impl_->plane) {
    auto snapshot = impl_->plane->snapshot();
    std::shared_ptr<Worker> worker = impl_->worker;
    post([this, worker, snapshot] {
      QString message;
      if (worker->runtime) {
        const Status st = worker->runtime->reconfigure(snapshot);
        message = st.ok() ? QStringLiteral("mesh reconfigured")
                          : QStringLiteral("reconfiguration failed: %1").arg(qs(st.message()));
      }
      QMetaObject::invokeMethod(
          this,
          [this, message] {
            if (!message.isEmpty()) emit meshStateChanged(message);
            finished();
          },
          Qt::QueuedConnection);
    });
  }
}

QList<AuditEntry> MeshSession::audit() const {
  QList<AuditEntry> out;
  if (!impl_->plane) return out;
  auto records = impl_->plane->state().audit();
  if (!records.ok()) return out;
  for (const auto& r : *records) {
    out.append({r.seq, qs(r.time), qs(r.user), qs(r.verb), qs(r.kind), qs(r.resource),
                qs(r.outcome), qs(r.reason), qs(r.diff)});
  }
  return out;
}

QStringList MeshSession::users() const {
  QStringList out{QString::fromLatin1(mgmt::kBootstrapAdmin)};
  if (!impl_->plane) return out;
  for (const auto* u : impl_->plane->snapshot()->users) out.append(qs(u->meta.name));
  return out;
}

QStringList MeshSession::workloads() const {
  QStringList out;
  if (!impl_->plane) return out;
  for (const auto* w : impl_->plane->snapshot()->workloads) {
    out.append(qs(w->meta.namespace_ + "/" + w->meta.name));
  }
  return out;
}

QStringList MeshSession::services() const {
  QStringList out;
  if (!impl_->plane) return out;
  for (const auto* s : impl_->plane->snapshot()->services) {
    out.append(qs(s->meta.namespace_ + "/" + s->meta.name));
  }
  return out;
}

const QString& MeshSession::scenarioDescription() const { return impl_->description; }
const QList<StepView>& MeshSession::steps() const { return impl_->steps; }
int MeshSession::stepsDone() const { return impl_->steps_done; }
const QString& MeshSession::stepMessage() const { return impl_->step_message; }

bool MeshSession::stepForward() {
  if (!impl_->scenario || impl_->steps_done >= impl_->steps.size() || !impl_->plane) return false;
  playStep(impl_->steps_done, true);
  ++impl_->steps_done;
  snapshotChanged();
  emit stepped();
  return true;
}

bool MeshSession::stepBack() {
  if (!impl_->scenario || impl_->steps_done == 0) return false;
  const int target = impl_->steps_done - 1;
  resetState();
  for (int i = 0; i < target; ++i) playStep(i, false);
  impl_->steps_done = target;
  impl_->step_message = target == 0 ? QStringLiteral("back at the start")
                                    : QStringLiteral("back after step %1").arg(target);
  snapshotChanged();
  emit stepped();
  return true;
}

void MeshSession::playStep(int index, bool with_traffic) {
  const model::ScenarioStep& step = impl_->scenario->steps[static_cast<size_t>(index)];
  auto field = [&](const char* name, const char* fallback) {
    auto it = step.fields.find(name);
    return it == step.fields.end() ? std::string(fallback) : it->second;
  };
  QString& message = impl_->step_message;
  if (step.kind == "apply" || step.kind == "delete") {
    std::vector<std::string> files;
    for (const auto& f : step.files) files.push_back(ss(QDir(impl_->scenario_dir).filePath(qs(f))));
    config::LoadResult loaded = config::loadPaths(files);
    if (loaded.diagnostics.hasErrors()) {
      message = QStringLiteral("cannot load the step's files: %1")
                    .arg(qs(loaded.diagnostics.items().front().toString()));
      return;
    }
    const std::string user = field("as", mgmt::kBootstrapAdmin);
    std::vector<mgmt::ChangeOutcome> outcomes;
    if (step.kind == "apply") {
      outcomes = impl_->plane->apply(loaded.resources, user);
    } else {
      std::vector<model::ResourceKey> keys;
      for (const auto& r : loaded.resources) keys.push_back(model::keyOf(r));
      outcomes = impl_->plane->remove(keys, user);
    }
    QStringList lines;
    for (const auto& o : outcomes) {
      lines.append(o.accepted ? QStringLiteral("%1 %2").arg(qs(o.resource), qs(o.result))
                              : QStringLiteral("%1 refused (%2): %3")
                                    .arg(qs(o.resource),
                                         QString::fromLatin1(statusCodeName(o.code)),
                                         qs(o.message)));
    }
    message = QStringLiteral("%1 as %2: %3")
                  .arg(qs(step.kind), qs(user), lines.join(QStringLiteral("; ")));
  } else if (step.kind == "traffic") {
    if (!with_traffic) return;
    const QString from = qs(field("from", ""));
    const QString to = qs(field("to", ""));
    const int requests = QString::fromStdString(field("requests", "100")).toInt();
    const int concurrency = QString::fromStdString(field("concurrency", "1")).toInt();
    if (!canStartMesh()) {
      message = QStringLiteral("traffic needs a data plane; this build has none");
      return;
    }
    if (!impl_->running) startMesh();
    sendTraffic(from, to, requests > 0 ? requests : 100, concurrency > 0 ? concurrency : 1);
    message = QStringLiteral("sending %1 requests from %2 to %3").arg(requests).arg(from, to);
  } else if (step.kind == "note") {
    message = qs(field("note", ""));
  } else {
    // expect and attack steps are assertions of `meshsim scenario run`; the player shows them.
    message = QStringLiteral("%1 step: checked by `meshsim scenario run`; shown here for reading")
                  .arg(qs(step.kind));
  }
}

bool MeshSession::canStartMesh() const { return static_cast<bool>(impl_->factory); }
bool MeshSession::meshRunning() const { return impl_->running; }
bool MeshSession::busy() const { return impl_->pending > 0; }
const QList<MetricsSample>& MeshSession::metricsHistory() const { return impl_->history; }
bool MeshSession::trafficRunning() const { return traffic_timer_->isActive(); }

void MeshSession::startMesh() {
  if (!impl_->factory) {
    emit meshStateChanged(QStringLiteral("this build has no data plane"));
    return;
  }
  if (!impl_->plane || impl_->running) return;
  impl_->running = true;
  impl_->history.clear();
  auto snapshot = impl_->plane->snapshot();
  std::shared_ptr<Worker> worker = impl_->worker;
  worker->factory = impl_->factory;
  post([this, worker, snapshot] {
    QString message;
    bool ok = false;
    if (worker->runtime) worker->runtime->stop();
    worker->runtime.reset();
    worker->previous_edges.clear();
    worker->previous_versions.clear();
    worker->last_sample_seconds = -1;
    dataplane::DataPlaneOptions options;
    options.threads = 2;
    auto runtime = MeshRuntime::create(snapshot, worker->factory(options));
    if (!runtime.ok()) {
      message = QStringLiteral("cannot create the mesh: %1").arg(qs(runtime.status().message()));
    } else if (Status st = (*runtime)->start(); !st.ok()) {
      message = QStringLiteral("cannot start the mesh: %1").arg(qs(st.message()));
    } else {
      worker->runtime = std::move(runtime).value();
      worker->started.start();
      message = QStringLiteral("mesh running: %1 listeners")
                    .arg(worker->runtime->dataPlane().listenerCount());
      ok = true;
    }
    QMetaObject::invokeMethod(
        this,
        [this, message, ok] {
          impl_->running = ok;
          emit meshStateChanged(message);
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
  std::shared_ptr<Worker> worker = impl_->worker;
  post([this, worker] {
    if (worker->runtime) worker->runtime->stop();
    worker->runtime.reset();
    QMetaObject::invokeMethod(
        this,
        [this] {
          emit meshStateChanged(QStringLiteral("mesh stopped"));
          finished();
        },
        Qt::QueuedConnection);
  });
  rebuildTopology();
}

void MeshSession::sendTraffic(const QString& from, const QString& to, int requests,
                              int concurrency) {
  TrafficRequest request;
  std::string from_ns, from_name, to_ns, to_name;
  TrafficReport invalid;
  invalid.from = from;
  invalid.to = to;
  if (!splitId(from, &from_ns, &from_name) || !splitId(to, &to_ns, &to_name)) {
    invalid.error = QStringLiteral("traffic needs a workload and a service as ns/name");
    emit trafficDone(invalid);
    return;
  }
  if (!impl_->running) {
    invalid.error = QStringLiteral("the mesh is not running");
    emit trafficDone(invalid);
    return;
  }
  request.request.from.kind = analysis::CheckSource::Kind::kWorkload;
  request.request.from.namespace_ = from_ns;
  request.request.from.name = from_name;
  request.request.to_namespace = to_ns;
  request.request.to_service = to_name;
  request.requests = static_cast<uint64_t>(std::max(1, requests));
  request.concurrency = static_cast<uint32_t>(std::max(1, concurrency));
  std::shared_ptr<Worker> worker = impl_->worker;
  impl_->traffic_in_flight = true;
  post([this, worker, request, from, to] {
    TrafficReport report;
    report.from = from;
    report.to = to;
    LiveFigures figures;
    bool sampled = false;
    if (!worker->runtime) {
      report.error = QStringLiteral("the mesh is not running");
    } else {
      auto result = worker->runtime->traffic(request);
      if (!result.ok()) {
        report.error = qs(result.status().message());
      } else {
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
        figures = worker->sample(result->seconds);
        sampled = true;
      }
    }
    QMetaObject::invokeMethod(
        this,
        [this, report, figures, sampled] {
          impl_->traffic_in_flight = false;
          if (sampled && impl_->running) {
            impl_->overlay = figures.overlay;
            impl_->history.append(figures.sample);
            rebuildTopology();
            emit metricsSampled(figures.sample);
          }
          emit trafficDone(report);
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
  if (impl_->traffic_in_flight || !impl_->running) return;
  sendTraffic(impl_->traffic_from, impl_->traffic_to, impl_->traffic_rps,
              std::max(1, impl_->traffic_rps / 50));
}

void MeshSession::verifyCredential(const QString& stolen, const QString& target) {
  VerifyReport invalid;
  invalid.from = QStringLiteral("stolen:") + stolen;
  const NodeView* node = impl_->topology.findNode(target);
  std::string ns, name, svc_ns, svc_name;
  if (!splitId(stolen, &ns, &name) || node == nullptr || node->service.isEmpty() ||
      !splitId(node->service, &svc_ns, &svc_name)) {
    invalid.error = QStringLiteral("%1 serves no Service to call").arg(target);
    emit verified(invalid);
    return;
  }
  invalid.to = node->service;
  if (!impl_->running) {
    invalid.error = QStringLiteral("start the mesh first");
    emit verified(invalid);
    return;
  }
  analysis::CheckRequest request;
  request.from.kind = analysis::CheckSource::Kind::kStolen;
  request.from.namespace_ = ns;
  request.from.name = name;
  request.to_namespace = svc_ns;
  request.to_service = svc_name;
  std::shared_ptr<Worker> worker = impl_->worker;
  post([this, worker, request, invalid] {
    VerifyReport report = invalid;
    if (!worker->runtime) {
      report.error = QStringLiteral("the mesh is not running");
    } else {
      auto live = worker->runtime->checkLive(request);
      if (!live.ok()) {
        report.error = qs(live.status().message());
      } else {
        report.predicted_status = live->predicted.status;
        report.observed_status = live->observed.status;
        report.agree = live->agree;
        QStringList lines;
        lines.append(QStringLiteral("predicted %1 (%2)")
                         .arg(live->predicted.status)
                         .arg(qs(live->predicted.reason)));
        lines.append(QStringLiteral("observed %1%2")
                         .arg(live->observed.status)
                         .arg(live->observed.served_by.empty()
                                  ? QString()
                                  : QStringLiteral(", served by %1")
                                        .arg(qs(live->observed.served_by))));
        for (const auto& d : live->differences) lines.append(qs(d));
        report.detail = lines.join(QLatin1Char('\n'));
      }
    }
    QMetaObject::invokeMethod(
        this,
        [this, report] {
          emit verified(report);
          finished();
        },
        Qt::QueuedConnection);
  });
}

}  // namespace meshsim::gui
