#pragma once
// What the runner remembers between steps, and how it turns scenario requests into
// CheckRequests and assertions into results against the live mesh.
#include <map>
#include <string>
#include <vector>

#include "meshsim/analysis/check.h"
#include "meshsim/engine.h"
#include "meshsim/mgmt/plane.h"
#include "meshsim/scenario/assertions.h"

namespace meshsim::scenario {

struct RunState {
  bool has_traffic = false;
  observe::TelemetrySnapshot traffic_before;
  observe::TelemetrySnapshot traffic_after;
  dataplane::TrafficResult last_traffic;
  bool has_attack = false;
  std::vector<ProbeOutcome> last_attack;
  std::map<std::string, std::string> stolen_tokens;  // attack step name -> claims JSON
};

struct EvalContext {
  MeshRuntime& runtime;
  mgmt::ManagementPlane& plane;
  const RunState& run;
  int64_t bootstrap_seq;
};

// The CheckRequest for `spec` on the running mesh (users and stolen tokens resolved to claims).
Result<analysis::CheckRequest> buildCheckRequest(const RequestSpec& spec, const RunState& run,
                                                 const MeshRuntime& runtime);

// The claims of a token stolen at `now`: the given claims or the IdentityProvider user's, with
// iat = now and exp = now + the provider's token lifetime (unless the claims set them).
Result<std::string> stolenClaims(const JwtSpec& token, const config::Snapshot& config, int64_t now);

AssertionResult evaluateAssertion(const Assertion& assertion, EvalContext& ctx);

}  // namespace meshsim::scenario
