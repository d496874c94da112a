#pragma once
/// Runs a parsed Scenario on a live mesh, one step at a time: a fresh management plane in a
/// temporary state directory (bootstrapped with the scenario's files as the built-in admin), a
/// MeshRuntime on an injected data plane, reconfigured after every accepted change. step() runs
/// the next step and returns its StepResult, so that a player (the GUI) can walk through a
/// scenario; run() runs them all. finish() stops the mesh, removes the temporary state and
/// returns the whole ScenarioResult (steps, assertions, audit records made during the run, and
/// the telemetry at the end) for reports. Not thread-safe: one thread drives a runner.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/dataplane/dataplane.h"
#include "meshsim/mgmt/plane.h"
#include "meshsim/mgmt/state.h"
#include "meshsim/observe/telemetry.h"
#include "meshsim/scenario/scenario.h"

namespace meshsim {
class MeshRuntime;
}

namespace meshsim::scenario {

/// The outcome of one assertion. A failure reads "<name>: expected <expected>, observed
/// <observed>" in one line (message()).
struct AssertionResult {
  std::string kind;      ///< assertionKindName()
  std::string name;      ///< describeAssertion()
  bool passed = false;
  std::string expected;  ///< what the scenario asked for
  std::string observed;  ///< what happened
  SourceLocation where;

  /// "name: expected X, observed Y" (also for passing assertions).
  std::string message() const;
};

/// One request of an attack step and what came back.
struct ProbeOutcome {
  std::string from;  ///< as in RequestSpec::from
  std::string to;    ///< "NS/SVC"
  std::string method;
  std::string path;
  int status = 0;    ///< 0 = reset or refused before any response
  std::string body;
  bool mtls = false;
  std::string served_by;
  std::string error;  ///< transport failure, or why the probe could not be sent
  bool reached() const { return status >= 200 && status < 300; }
};

/// A traffic step's burst (or a merged series of bursts).
struct TrafficSummary {
  std::string from;
  std::string to;
  std::string method;
  std::string path;
  dataplane::TrafficResult result;  ///< percentiles: request-weighted over the step's chunks
};

/// What one step did.
struct StepResult {
  size_t index = 0;  ///< 0-based position in Scenario::steps
  StepKind kind = StepKind::kNote;
  std::string name;
  std::string note;
  std::string title;    ///< describeStep()
  std::string summary;  ///< the title plus a short outcome
  std::string expected_error;  ///< apply/delete: the `expectError` code ("" = none expected)
  SourceLocation where;
  /// The step ran as written: an expected error came (or none was expected and none came),
  /// the step's requests could be sent, and every assertion passed.
  bool passed = true;
  std::string error;  ///< why the step failed or could not run ("" when passed)
  double duration_ms = 0;
  int64_t sim_time_seconds = 0;  ///< simulated time after the step
  std::vector<mgmt::ChangeOutcome> changes;  ///< apply/delete
  std::optional<TrafficSummary> traffic;     ///< traffic
  std::vector<ProbeOutcome> probes;          ///< attack
  std::vector<AssertionResult> assertions;   ///< expect
};

/// The whole run.
struct ScenarioResult {
  std::string name;
  std::string file;
  std::string description;
  std::string error;  ///< the run could not start or was aborted (then steps may be partial)
  std::vector<StepResult> steps;
  std::vector<mgmt::AuditRecord> audit;  ///< records made after the bootstrap
  observe::TelemetrySnapshot telemetry;  ///< at the end of the run
  /// The Istio-level configuration at the end (what the data plane ran), for the topology.
  std::shared_ptr<const config::Snapshot> final_config;
  double duration_ms = 0;
  int64_t start_time_seconds = 0;  ///< simulated time at the start

  /// Every step passed and there was no error.
  bool passed() const;
  size_t assertionCount() const;
  size_t failedAssertionCount() const;
};

/// Progress of a run, for progress bars.
struct Progress {
  size_t step = 0;         ///< 0-based index of the running step
  size_t steps = 0;        ///< number of steps
  std::string what;        ///< describeStep() of the running step
  uint64_t requests_done = 0;   ///< traffic step: requests sent so far in this step
  uint64_t requests_total = 0;  ///< traffic step: requests planned (0 = duration-bound)
};

/// How a runner runs.
struct RunnerOptions {
  /// Makes the data plane (required).
  dataplane::DataPlaneFactory data_plane_factory;
  dataplane::DataPlaneOptions data_plane{2, false, 0};
  /// Where the management plane keeps its state; empty = a fresh temporary directory that
  /// finish() removes. A given directory must not hold a state yet; it is left in place.
  std::string state_dir;
  /// Simulated start time (seconds since the epoch); 0 = the wall clock.
  int64_t start_time_seconds = 0;
  /// Called before each step and during traffic steps. Runs on the calling thread.
  std::function<void(const Progress&)> on_progress;
};

/// Runs one scenario.
class ScenarioRunner {
 public:
  /// Prepares a runner; nothing starts until start(). InvalidArgument without a data plane
  /// factory.
  static Result<std::unique_ptr<ScenarioRunner>> create(Scenario scenario, RunnerOptions options);
  ~ScenarioRunner();
  ScenarioRunner(const ScenarioRunner&) = delete;
  ScenarioRunner& operator=(const ScenarioRunner&) = delete;

  /// Opens the state, applies the scenario's files as the built-in admin, and starts the mesh.
  /// InvalidArgument when the files are refused (naming the resource and reason), Unavailable
  /// when the data plane cannot start.
  Status start();
  /// True when every step has run (or the run was aborted).
  bool done() const;
  /// Index of the next step to run.
  size_t nextStep() const;
  size_t stepCount() const;
  const Scenario& scenario() const;

  /// Runs the next step (FailedPrecondition in `error` when not started or done).
  StepResult step();
  /// start() (when not started yet), every remaining step, then finish().
  ScenarioResult run();
  /// Stops the mesh, collects the audit records and telemetry, removes a temporary state and
  /// returns everything that ran. Idempotent (later calls return the same result).
  ScenarioResult finish();

  /// The live mesh (null before start() and after finish()), for players that show it.
  MeshRuntime* runtime();
  /// The management plane (null before start() and after finish()).
  mgmt::ManagementPlane* plane();

 private:
  struct Impl;
  explicit ScenarioRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshsim::scenario
