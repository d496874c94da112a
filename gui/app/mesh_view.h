#pragma once
/// The engine bridge's picture of a live mesh, as Qt value types: the topology (boxes, nodes,
/// edges with their decisions and live figures), a blast radius, audit records, the outcome of
/// an editor Apply, traffic and per-version metrics, and the steps of a scenario. Models, the
/// graph scene and panels read these values; only gui/app/ produces them from engine types.

#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include "app/config_view.h"

namespace meshsim::gui {

/// A box of the topology: a cluster, tenant, workspace or namespace.
struct GroupView {
  QString id;    ///< unique path, e.g. "cluster/c1/tenant/retail"
  QString kind;  ///< "cluster", "tenant", "workspace" or "namespace"
  QString name;
  QString parent;  ///< enclosing group id; empty at the top level
};

/// A node of the topology: a workload, the outside client, or an unserved Service.
struct NodeView {
  QString id;    ///< "ns/name" for workloads, "outside", "service:ns/name"
  QString kind;  ///< "workload", "outside" or "service"
  QString name;
  QString namespace_;
  QString service;  ///< the Service a workload serves ("" = a pure client)
  QString version;  ///< the workload's version label
  QString group;    ///< innermost enclosing group id
  int replicas = 0;
  bool sidecar = false;
};

/// One call between nodes with its routing share, decision and live figures.
struct EdgeView {
  QString from;
  QString to;
  QString service;   ///< "ns/name"
  double share = 0;  ///< 0..1
  bool allowed = false;
  bool mtls = false;
  int status = 0;            ///< HTTP status of a refusal, 0 for a reset
  QString policy;            ///< deciding policy "ns/name" of a refusal
  QString reason;            ///< one sentence
  bool has_traffic = false;  ///< the figures below were measured
  double rps = 0;            ///< over the latest telemetry sample
  quint64 requests = 0;      ///< since the mesh started
  quint64 errors = 0;        ///< 4xx, 5xx and resets since the mesh started
  double p50_ms = 0;
  /// The share of `from`'s requests to `service` that went to `to`, measured over the last five
  /// seconds of samples (since the mesh started when those saw none of this call); negative
  /// when nothing was measured.
  double live_share = -1;

  /// "from -> to", the edge's identity in the scene.
  QString key() const { return from + QStringLiteral(" -> ") + to; }
};

/// The whole topology of the current configuration.
struct TopologyView {
  QList<GroupView> groups;
  QList<NodeView> nodes;
  QList<EdgeView> edges;
  QString error;  ///< why no topology could be built (empty on success)

  /// The node with `id`, or nullptr.
  const NodeView* findNode(const QString& id) const;
  /// The first edge with EdgeView::key() == `key`, or nullptr.
  const EdgeView* findEdge(const QString& key) const;
};

/// One hop of an attacker's path: from a compromised workload into the next one.
struct BlastHop {
  QString from;     ///< "ns/name"
  QString to;       ///< "ns/name"
  QString service;  ///< the Service port used, "ns/name:port"
  QString via;      ///< the allowing policy and rule, or the basis ("no ALLOW policy")
  bool mtls = false;
  int hop = 1;  ///< 1 for edges out of the compromised workload, 2 for the next ring ...
};

/// A workload the attacker reaches.
struct BlastTarget {
  QString workload;  ///< "ns/name"
  int hops = 0;
  double contribution = 0;
  QList<BlastHop> path;  ///< from the compromised workload, `hops` steps
};

/// The blast radius of one compromised workload.
struct BlastView {
  QString compromised;         ///< "ns/name"
  QString identity;            ///< its SPIFFE principal ("" without a sidecar)
  QList<BlastTarget> reached;  ///< by hops
  QList<BlastHop> edges;       ///< usable edges within the radius
  double score = 0;
  qint64 credential_window_seconds = 0;
  qint64 rotation_after_seconds = 0;
  QString error;  ///< why it could not be computed
};

/// One audit record of the management plane.
struct AuditEntry {
  qint64 seq = 0;
  QString time;  ///< RFC 3339
  QString user;
  QString verb;  ///< "apply" or "delete"
  QString kind;
  QString resource;
  QString outcome;  ///< "accepted" or "refused"
  QString reason;
  QString diff;  ///< unified diff
};

/// The outcome of one resource of an editor Apply.
struct ChangeView {
  bool accepted = false;
  QString code;  ///< "OK", "PermissionDenied", ...
  QString kind;
  QString resource;
  QString result;   ///< created | updated | unchanged (accepted)
  QString message;  ///< why refused, e.g. the missing permission
  QString diff;
};

/// What Apply (or its dry run) did with the editor's text.
struct ApplyReport {
  bool dry_run = false;
  QList<DiagnosticInfo> diagnostics;  ///< parse and validation findings, at their lines
  QList<ChangeView> changes;          ///< one per resource (empty when parsing failed)
  /// The topology edges that would change (dry run) or changed: "+ a -> b", "- a -> b",
  /// "~ a -> b: share 100% -> 90%" ...
  QStringList topology_changes;
  QString error;  ///< the management plane could not be used

  /// True when every resource was accepted and nothing failed to parse.
  bool allAccepted() const;
};

/// Live figures of one version of one Service, as its sidecars (reporter "destination")
/// counted them.
struct VersionMetrics {
  QString service;  ///< "ns/name"
  QString version;
  quint64 requests = 0;         ///< since the mesh started
  quint64 errors = 0;           ///< 5xx and resets since the mesh started
  double rps = 0;               ///< over the sample's window
  double p50_ms = 0;            ///< over the sample's window (since the start when it saw none)
  double p90_ms = 0;            ///< same
  quint64 window_requests = 0;  ///< requests in the sample's window
  double error_rate = 0;        ///< percent of window_requests that were errors
  /// "ns/name vX", the series name.
  QString key() const { return service + QLatin1Char(' ') + version; }
};

/// A telemetry sample of the running mesh.
struct MetricsSample {
  double seconds = 0;         ///< end of the window, since the mesh started (wall time)
  double window_seconds = 0;  ///< length of the window the rates are measured over
  QList<VersionMetrics> versions;
};

/// The outcome of a traffic burst.
struct TrafficReport {
  QString from;
  QString to;
  quint64 sent = 0;
  quint64 ok = 0;          ///< 2xx answers
  QStringList by_version;  ///< "v1: 900" ...
  double p50_ms = 0;
  QString error;
};

/// One real request of a live blast-radius verification.
struct ProbeView {
  QString from;       ///< "stolen:ns/workload", "outside" or "forged:spiffe://..."
  QString to;         ///< "ns/workload:port"
  QString service;    ///< "ns/name"
  QString request;    ///< "GET /x" or "TCP"
  QString transport;  ///< "mTLS" (stolen certificate), "plaintext", "forged TLS"
  bool predicted_allowed = false;
  bool observed_allowed = false;  ///< the destination app answered
  int observed_status = 0;        ///< 0 = reset or refused before any response
  QString observed_error;
  QString served_by;  ///< "ns/workload" of the app that answered, if any
  QString basis;      ///< why the prediction says what it says
  bool agree = true;
};

/// The certificate an attacker who compromises a workload steals now, on the live mesh.
struct CredentialView {
  QString spiffe_id;
  QString serial;         ///< lower-case hex
  qint64 not_before = 0;  ///< seconds since the epoch (simulated time)
  qint64 not_after = 0;
  qint64 now = 0;          ///< the mesh's simulated time when it was read
  qint64 rotation_at = 0;  ///< when the workload's agent renews it (half the lifetime)

  /// Seconds the stolen certificate stays usable from `now` (0 when expired).
  qint64 remainingSeconds() const { return not_after > now ? not_after - now : 0; }
};

/// The outcome of "Verify live": the predicted blast radius attacked for real.
struct BlastVerifyReport {
  QString compromised;  ///< "ns/name"
  QList<ProbeView> probes;
  int disagreements = 0;
  QStringList observed_reached;   ///< "ns/name", sorted, with the compromised workload
  QStringList predicted_reached;  ///< "ns/name", sorted, with the compromised workload
  /// No probe disagrees and the observed reached set is the predicted one.
  bool agree = false;
  CredentialView credential;
  QString error;  ///< the verification could not run (mesh not running, unknown workload ...)

  /// "N probes, all agree", "N probes, D disagree" (or that the reached sets differ), or the
  /// error.
  QString summary() const;
};

/// One step of a scenario and, once played, what it did.
struct StepView {
  QString kind;   ///< note, apply, delete, traffic, advanceTime, attack, expect
  QString title;  ///< one line, as `meshsim run` describes it
  QString note;
  SourceRef source;
  bool played = false;  ///< the step ran (since the player last went back before it)
  bool passed = true;   ///< it ran as written (expected errors came, assertions passed)
  QString outcome;      ///< the runner's summary, e.g. "... 400 sent (200: 400)"
  QString error;        ///< why it failed ("" when it passed)
  QStringList details;  ///< one line per change, probe or assertion ("✓ ..." / "✗ ...")
};

}  // namespace meshsim::gui

Q_DECLARE_METATYPE(meshsim::gui::TrafficReport)
Q_DECLARE_METATYPE(meshsim::gui::MetricsSample)
Q_DECLARE_METATYPE(meshsim::gui::BlastVerifyReport)
