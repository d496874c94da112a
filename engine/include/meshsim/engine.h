#pragma once
/// The facade headless/ and gui/ drive a live mesh through: configuration in, a control plane
/// that turns it into per-workload plans (certificates from the mesh CA, compiled policies), an
/// injected data plane that runs them, and the operations people and scenarios perform — probes,
/// traffic, advancing simulated time (which rotates certificates), reconfiguration, telemetry —
/// plus `check --live`: the prediction and the real outcome side by side.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "meshsim/analysis/check.h"
#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/dataplane/dataplane.h"
#include "meshsim/dataplane/plan.h"
#include "meshsim/pki/clock.h"
#include "meshsim/pki/svid.h"
#include "meshsim/policy/decision.h"

namespace meshsim {

/// How a MeshRuntime starts.
struct RuntimeOptions {
  /// Simulated start time, seconds since the epoch; 0 = the wall clock at creation.
  int64_t start_time_seconds = 0;
  /// Workload certificate lifetime.
  int64_t svid_ttl_seconds = pki::kDefaultSvidTtlSeconds;
  /// Clusters get the loopback blocks 127.<first_block + i>.0.0/16.
  uint32_t first_block = 1;
  /// When a listener address is taken (another meshsim on this machine, a parallel test), move
  /// the whole mesh to the next free blocks instead of failing.
  bool find_free_block = true;
};

/// The predicted and the observed outcome of one request.
struct LiveCheck {
  policy::Decision predicted;
  dataplane::ProbeResult observed;
  bool agree = true;
  std::vector<std::string> differences;  ///< one line per disagreement ("status: predicted ...")
};

/// A traffic burst described as in `meshsim check`, plus its size.
struct TrafficRequest {
  analysis::CheckRequest request;
  uint64_t requests = 100;
  std::chrono::milliseconds duration{0};
  uint32_t concurrency = 1;
};

/// A running mesh. Not thread-safe: one engine thread calls it (ARCHITECTURE.md R6); the data
/// plane runs its own threads.
class MeshRuntime {
 public:
  /// Creates the mesh CA (trust domain from the configuration) and the control plane. The data
  /// plane is started by start(). InvalidArgument when the configuration cannot be planned.
  static Result<std::unique_ptr<MeshRuntime>> create(std::shared_ptr<const config::Snapshot> snapshot,
                                                     std::unique_ptr<dataplane::DataPlane> data_plane,
                                                     RuntimeOptions options = {});
  ~MeshRuntime();
  MeshRuntime(const MeshRuntime&) = delete;
  MeshRuntime& operator=(const MeshRuntime&) = delete;

  /// Builds the plan and starts every sidecar, app and the ingress. Unavailable when a listener
  /// cannot be bound (after trying other blocks when options.find_free_block is set).
  Status start();
  /// Switches to a new configuration without dropping in-flight requests.
  Status reconfigure(std::shared_ptr<const config::Snapshot> snapshot);
  /// Advances simulated time by `seconds`, rotates certificates that are due and pushes them to
  /// the sidecars. InvalidArgument for negative seconds.
  Status advanceTime(int64_t seconds);
  /// Stops the data plane. Idempotent.
  void stop();

  /// Sends one request as `meshsim check` describes it, through the real sidecars.
  /// InvalidArgument for unknown services, workloads or malformed flags (as check()).
  Result<dataplane::ProbeResult> probe(const analysis::CheckRequest& request);
  /// Like probe(), but an attacker's client (request.from is outside, stolen or forged) dials
  /// workload `workload` ("ns/name", an endpoint of request.to_service with a running replica)
  /// directly instead of the Service's first endpoint. FailedPrecondition when the mesh is not
  /// running; InvalidArgument for a workload source (its sidecar picks the endpoint), an unknown
  /// workload, or one that is not a running endpoint of the Service.
  Result<dataplane::ProbeResult> probeEndpoint(const analysis::CheckRequest& request,
                                               const std::string& workload);
  /// Sends a burst.
  Result<dataplane::TrafficResult> traffic(const TrafficRequest& request);
  /// check() and probe() for the same request, compared: status, body of refusals, response
  /// flags of the client sidecar, and mutual TLS of allowed requests.
  Result<LiveCheck> checkLive(const analysis::CheckRequest& request);

  /// The certificate `ns/name` currently holds (what an attacker who compromises it now steals).
  Result<pki::Svid> currentSvid(const std::string& ns, const std::string& name) const;

  /// True between a successful start() and stop().
  bool running() const;
  const pki::SimClock& clock() const;
  std::shared_ptr<const config::Snapshot> snapshot() const;
  std::shared_ptr<const dataplane::MeshPlan> plan() const;
  dataplane::DataPlane& dataPlane();

 private:
  struct Impl;
  explicit MeshRuntime(std::unique_ptr<Impl> impl);
  Result<dataplane::ProbeRequest> toProbe(const analysis::CheckRequest& request);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshsim
