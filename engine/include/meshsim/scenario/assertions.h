#pragma once
/// Evaluation of scenario assertions against what a run observed. Each function is pure: it
/// compares one Assertion with observations (telemetry, traffic counts, audit records, probe
/// outcomes, configuration) and returns an AssertionResult whose expected/observed strings read
/// as one line. The runner gathers the observations from the live mesh; tests give them by hand.

#include <memory>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/dataplane/dataplane.h"
#include "meshsim/engine.h"
#include "meshsim/mgmt/state.h"
#include "meshsim/observe/telemetry.h"
#include "meshsim/scenario/runner.h"
#include "meshsim/scenario/scenario.h"

namespace meshsim::scenario {

/// The request series recorded between two telemetry snapshots (after minus before; series
/// whose count did not change are left out).
observe::TelemetrySnapshot telemetryDelta(const observe::TelemetrySnapshot& before,
                                          const observe::TelemetrySnapshot& after);

/// kRequest: `live` is the outcome of the assertion's request (status, body, mutual TLS and
/// version observed; stage and deciding policy from the prediction, which must agree).
AssertionResult checkRequest(const Assertion& assertion, const LiveCheck& live);

/// kSplit: shares of the requests that the service's workloads answered (destination reports
/// in `delta`), per subset: the labels of the DestinationRule subset of that name for the
/// service in `config`, or else the `version` label. `config` is the Istio-level configuration.
AssertionResult checkSplit(const Assertion& assertion, const observe::TelemetrySnapshot& delta,
                           const config::Snapshot& config);

/// kMtls: every edge in `delta` from a mesh workload (or the named edges) was mutual TLS.
AssertionResult checkMtls(const Assertion& assertion, const observe::TelemetrySnapshot& delta);

/// kStatuses: counts per status of `traffic`.
AssertionResult checkStatuses(const Assertion& assertion, const dataplane::TrafficResult& traffic);

/// kAudit: records matching the filters; `count` exact when given, else at least one.
AssertionResult checkAudit(const Assertion& assertion, const std::vector<mgmt::AuditRecord>& records);

/// kEffective: effective settings of the workload in `config` (the TSB-level configuration of
/// the management plane, as `meshsim explain` reads it).
AssertionResult checkEffective(const Assertion& assertion, const config::Snapshot& config);

/// kBlastRadius: the workloads reached from the compromised one in `config` (Istio-level).
AssertionResult checkBlastRadius(const Assertion& assertion, std::shared_ptr<const config::Snapshot> config);

/// kAttack: targets ("NS/SVC") that the probes reached (2xx) or were refused by.
AssertionResult checkAttack(const Assertion& assertion, const std::vector<ProbeOutcome>& probes);

}  // namespace meshsim::scenario
