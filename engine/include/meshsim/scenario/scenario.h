#pragma once
/// Scenarios (`kind: Scenario`, apiVersion meshsim/v1) as typed steps: the files that make the
/// starting mesh, then apply/delete (as a user, optionally expecting an error), traffic,
/// advanceTime, attack, expect (assertions) and note steps. Every step and assertion keeps the
/// file:line:col it was written at. Parsing reads the scenario file and the files it names
/// (that is the only I/O); nothing here runs anything. docs/scenarios.md describes the format.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "meshsim/common/source.h"
#include "meshsim/common/status.h"
#include "meshsim/model/meta.h"
#include "meshsim/model/resource.h"

namespace meshsim::scenario {

/// The end-user JWT a request carries.
struct JwtSpec {
  enum class Kind {
    kNone,     ///< no Authorization header
    kClaims,   ///< a token with `claims_json`, signed by the IdentityProvider the server trusts
    kUser,     ///< a token for `user`, a user listed by that IdentityProvider (its claims)
    kInvalid,  ///< a broken token: `invalid` is signature | expired | malformed | issuer | audience
    kToken,    ///< `token` sent verbatim
    kStolen,   ///< the token captured by the attack step named `stolen`
  };
  Kind kind = Kind::kNone;
  std::string claims_json;  ///< kClaims: a JSON object
  std::string user;         ///< kUser
  std::string invalid;      ///< kInvalid
  std::string token;        ///< kToken
  std::string stolen;       ///< kStolen: name of the attack step that stole the token
};

/// One request, described as `meshsim check` does.
struct RequestSpec {
  std::string from = "outside";  ///< "NS/WORKLOAD", "outside", "stolen:NS/WORKLOAD", "forged:ID"
  std::string to;                ///< the Service, "NS/NAME"
  std::optional<uint32_t> port;  ///< Service port (default: the first)
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  JwtSpec jwt;
  SourceLocation where;
};

/// The kinds of assertion of an `expect` step.
enum class AssertionKind {
  kRequest,      ///< one live request: status, body, deciding stage and policy, mTLS, version
  kSplit,        ///< shares per subset/version of a Service during the last traffic step
  kMtls,         ///< every observed edge (or the named ones) was mutual TLS
  kStatuses,     ///< counts of statuses of the last traffic step
  kBlastRadius,  ///< the set of workloads a compromised workload reaches
  kAudit,        ///< audit records made during the run
  kEffective,    ///< effective settings of a workload (as `meshsim explain`)
  kAttack,       ///< targets the last attack step reached / was refused by
};

/// "request", "split", "mtls", "statuses", "blastRadius", "audit", "effective", "attack".
const char* assertionKindName(AssertionKind kind);

/// One expectation. Only the fields of its kind are used.
struct Assertion {
  AssertionKind kind = AssertionKind::kRequest;
  SourceLocation where;
  /// kRequest: the request and what must come back. Unset optionals are not checked.
  RequestSpec request;
  std::optional<int> status;        ///< 0 = reset before any response
  std::optional<std::string> body;  ///< exact body
  std::optional<std::string> body_contains;
  std::optional<std::string> stage;   ///< policy::stageName: none, peer_authn, jwt, authz, ...
  std::optional<std::string> policy;  ///< deciding resource "ns/name" ("" = none)
  std::optional<bool> mtls;
  std::optional<std::string> version;  ///< version label of the app that answered
  /// kSplit: service "NS/NAME", shares in percent per subset name (a DestinationRule subset of
  /// the service, else a `version` label value), tolerance in percentage points.
  std::string service;
  std::map<std::string, double> shares;
  double tolerance = 5;
  /// kMtls: empty = every edge observed from a mesh workload; else "NS/SRC -> NS/DST" where DST
  /// is a workload or a Service (every workload of it).
  std::vector<std::string> edges;
  /// kStatuses: expected count per status (0 = reset); `tolerance_count` absolute slack.
  std::map<int, uint64_t> statuses;
  uint64_t tolerance_count = 0;
  /// kBlastRadius / kEffective: the workload "NS/NAME".
  std::string workload;
  /// kBlastRadius: `reached` is the exact set (when `exact`), `includes` / `excludes` subsets.
  /// kAttack: `includes` must be reached (2xx), `excludes` must be refused; targets "NS/SVC".
  bool exact = false;
  std::vector<std::string> reached;
  std::vector<std::string> includes;
  std::vector<std::string> excludes;
  std::optional<uint32_t> hops;
  bool plaintext = true;
  /// kAudit: filters (empty = any) and the expected number of matching records (nullopt: >= 1).
  std::string user, verb, outcome, audit_kind, resource;
  std::optional<uint64_t> count;
  /// kEffective: expected values ("" = not checked).
  std::string traffic_mode, authorization_mode, traffic_mode_from, locked_by;
};

/// The kinds of step.
enum class StepKind { kApply, kDelete, kTraffic, kAdvanceTime, kAttack, kExpect, kNote };

/// "apply", "delete", "traffic", "advanceTime", "attack", "expect", "note".
const char* stepKindName(StepKind kind);

/// What an `attack` step does.
struct AttackSpec {
  enum class Kind {
    kCompromise,   ///< take over `workload`: probe with its genuine certificate and key
    kOutsider,     ///< a plaintext client without a certificate
    kForged,       ///< a self-signed certificate claiming `spiffe_id`
    kStolenToken,  ///< steal an end-user token now (`token`); probes replay it
  };
  Kind kind = Kind::kCompromise;
  std::string workload;   ///< kCompromise
  std::string spiffe_id;  ///< kForged
  JwtSpec token;          ///< kStolenToken: what is stolen (claims or user)
  std::string from = "outside";  ///< kStolenToken: where the replays come from
  /// The requests to try; `from` is set by the attack kind. Empty: GET / to every Service
  /// (other than the compromised workload's own).
  std::vector<RequestSpec> probes;
};

/// One step.
struct Step {
  StepKind kind = StepKind::kNote;
  std::string name;  ///< optional `name:` of the step
  std::string note;  ///< the `note:` text (a note step's text, or a note attached to an action)
  SourceLocation where;
  /// kApply / kDelete
  std::vector<model::Resource> resources;  ///< apply: what to apply; delete: keys come from these
  std::vector<model::ResourceKey> delete_keys;  ///< delete: explicit keys (plus those of resources)
  std::string user = "admin";                   ///< `as:`
  std::optional<std::string> expect_error;  ///< a StatusCode name, or "any"
  std::vector<std::string> files;           ///< as written, for reports
  /// kTraffic
  RequestSpec traffic;
  uint64_t requests = 0;       ///< 0 with duration_ms > 0: run for the duration
  int64_t duration_ms = 0;
  uint32_t concurrency = 1;
  /// kAdvanceTime
  int64_t advance_seconds = 0;
  std::string advance_text;  ///< as written, e.g. "25h"
  /// kAttack
  AttackSpec attack;
  /// kExpect
  std::vector<Assertion> assertions;
};

/// A parsed scenario.
struct Scenario {
  std::string name;
  std::string description;
  std::string file;  ///< the scenario file as given
  SourceLocation where;
  std::vector<std::string> files;                   ///< as written (relative to the file)
  std::vector<model::Resource> initial_resources;   ///< loaded from `files`
  std::vector<Step> steps;
};

/// What parsing produced: the scenario when there were no errors, and every diagnostic.
struct ParsedScenario {
  std::optional<Scenario> scenario;
  Diagnostics diagnostics;
};

/// Reads the scenario at `path`: a file, or a directory holding scenario.yaml. The file must
/// hold exactly one `kind: Scenario` document. Files named by the scenario are loaded relative
/// to it. Diagnostics name file:line:col and the field path. Never throws.
ParsedScenario loadScenario(const std::string& path);

/// Parses scenario text as if read from `file` (relative paths resolve against its folder).
ParsedScenario parseScenarioText(const std::string& text, const std::string& file);

/// Parses "25h", "90m", "1h30m", "45s", "2d", "500ms" into milliseconds. InvalidArgument
/// otherwise (negative or empty durations included).
Result<int64_t> parseStepDuration(const std::string& text);

/// One line describing a step, e.g. "traffic bookinfo/productpage-v1 -> bookinfo/reviews x200".
std::string describeStep(const Step& step);

/// One line naming an assertion, e.g. "split bookinfo/ratings v1=90% v2=10% (±3)".
std::string describeAssertion(const Assertion& assertion);

}  // namespace meshsim::scenario
