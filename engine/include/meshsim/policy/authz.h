#pragma once
/// AuthorizationPolicy at the server sidecar (istio-semantics.md section 4): which policies apply
/// to a workload, compiling them into flat matchers, and deciding one request (or TCP
/// connection) in Istio's order CUSTOM -> DENY -> "no ALLOW policy" -> ALLOW -> deny.
/// evaluateAuthz() never allocates; explainAuthz() adds the reason and trace for people.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"
#include "meshsim/policy/decision.h"
#include "meshsim/policy/request.h"

namespace meshsim::policy {

/// Body of an HTTP RBAC denial (19 bytes).
inline constexpr std::string_view kRbacDeniedBody = "RBAC: access denied";
/// Envoy's response detail when no ALLOW rule matched.
inline constexpr std::string_view kRbacNoneDetail = "rbac_access_denied_matched_policy[none]";
/// Envoy's response detail when the ext_authz (CUSTOM) provider denied.
inline constexpr std::string_view kExtAuthzDeniedDetail = "ext_authz_denied";

/// The AuthorizationPolicies a sidecar applies to `workload` (4.1): those in the root namespace
/// and in the workload's namespace whose selector labels are a subset of the workload's labels
/// (no selector: every workload in scope, i.e. the whole mesh for the root namespace). Policies
/// with targetRefs are ignored (they are for gateways and waypoints). Dry-run policies are
/// included (compileAuthz keeps them in shadow mode). Snapshot order. Pure.
std::vector<const model::AuthorizationPolicy*> applicablePolicies(const config::Snapshot& snapshot,
                                                                  const model::Workload& workload);

/// The answer of a CUSTOM (ext_authz) provider.
struct CustomCheckResult {
  bool allow = false;
  int status = 403;       ///< HTTP status of a denial
  std::string_view body;  ///< body of a denial; must outlive the decision (provider-owned)
};

/// An in-process stand-in for a MeshConfig `extensionProviders` entry. It is called only for
/// requests that matched a rule of a CUSTOM policy naming it. Implementations must be pure,
/// thread-safe and must not throw; they should not allocate (evaluateAuthz() promises not to).
class CustomAuthzProvider {
 public:
  virtual ~CustomAuthzProvider() = default;
  /// Decides one request that was sent to the provider.
  virtual CustomCheckResult check(const RequestAttributes& request) const = 0;
};

/// A provider that denies everything sent to it with a fixed status and body (default 403,
/// empty body: Envoy's ext_authz default denial).
class DenyingCustomAuthzProvider final : public CustomAuthzProvider {
 public:
  explicit DenyingCustomAuthzProvider(int status = 403, std::string body = {});
  CustomCheckResult check(const RequestAttributes& request) const override;

 private:
  int status_;
  std::string body_;
};

/// A provider backed by a function (tests, scenarios).
class FunctionCustomAuthzProvider final : public CustomAuthzProvider {
 public:
  using Function = std::function<CustomCheckResult(const RequestAttributes&)>;
  explicit FunctionCustomAuthzProvider(Function fn);
  CustomCheckResult check(const RequestAttributes& request) const override;

 private:
  Function fn_;
};

/// Mesh-wide inputs of compilation.
struct AuthzContext {
  std::string trust_domain = "cluster.local";
  std::vector<std::string> trust_domain_aliases;
  /// CUSTOM providers by name (spec.provider.name). A CUSTOM policy whose provider is not here,
  /// or CUSTOM policies naming more than one provider on one workload, make Istio turn the
  /// CUSTOM rules into deny rules: matching requests get 403 "RBAC: access denied".
  std::map<std::string, std::shared_ptr<const CustomAuthzProvider>, std::less<>> custom_providers;
};

/// The context of a snapshot: its trust domain and aliases; no CUSTOM providers.
AuthzContext authzContextFor(const config::Snapshot& snapshot);

/// The policies of one workload compiled into flat matchers. Cheap to copy (shared immutable
/// state); thread-safe to evaluate concurrently. A default-constructed value holds no policy
/// (everything is allowed).
class CompiledAuthz {
 public:
  struct Impl;
  CompiledAuthz();

  /// Number of compiled policies (all actions, dry-run included).
  size_t policyCount() const;
  /// Number of compiled rules.
  size_t ruleCount() const;
  /// True when an enforced (not dry-run) ALLOW policy applies: then unmatched requests are denied.
  bool hasAllowPolicy() const;
  /// "ns/name" of each compiled policy, in input order.
  std::vector<std::string> policyNames() const;
  /// Warnings found while compiling (CUSTOM provider problems, DENY rules with HTTP-only fields
  /// that widen to all TCP traffic).
  const std::vector<std::string>& warnings() const;

  /// Internal state, for the evaluator.
  const Impl& impl() const { return *impl_; }

 private:
  friend Result<CompiledAuthz> compileAuthz(
      std::span<const model::AuthorizationPolicy* const> policies, const AuthzContext& context);
  explicit CompiledAuthz(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

/// Compiles the policies of one workload: strings into hash sets / prefix / suffix lists,
/// principals with trust-domain aliasing, namespaces and service accounts into principal
/// matchers, CIDRs into binary ranges, ports into integers, `{*}`/`{**}` paths into templates,
/// condition keys into typed checks. HTTP-only fields are kept and dropped at evaluation when
/// the request is TCP (4.6). InvalidArgument, naming the policy and field, for input the
/// validator should have refused (bad CIDR, port, path template, unknown condition key, malformed
/// header or claim key, null policy). Pure.
Result<CompiledAuthz> compileAuthz(std::span<const model::AuthorizationPolicy* const> policies,
                                   const AuthzContext& context);

/// applicablePolicies() + compileAuthz() for one workload of a snapshot.
Result<CompiledAuthz> compileAuthzForWorkload(const config::Snapshot& snapshot,
                                              const model::Workload& workload,
                                              const AuthzContext& context);

/// Why the decision came out as it did.
enum class AuthzBasis : uint8_t {
  kNoAllowPolicy,        ///< allowed: nothing denied and no ALLOW policy applies
  kAllowMatched,         ///< allowed: an ALLOW rule matched
  kDenyMatched,          ///< denied: a DENY rule matched
  kCustomDenied,         ///< denied: the CUSTOM provider said no
  kCustomMisconfigured,  ///< denied: a CUSTOM rule matched but its provider is unusable
  kNoAllowMatched,       ///< denied: ALLOW policies apply and none of their rules matched
};

/// "no ALLOW policy", "ALLOW matched", "DENY matched", "CUSTOM denied",
/// "CUSTOM misconfigured", "no ALLOW matched".
const char* authzBasisName(AuthzBasis basis);

/// A rule of a compiled policy. Views point into the CompiledAuthz; empty policy = none.
struct AuthzRuleRef {
  std::string_view policy;  ///< "ns/name"
  int32_t rule = -1;        ///< index in spec.rules
  bool found() const { return !policy.empty(); }
};

/// What dry-run (istio.io/dry-run) policies would have done; they never enforce.
struct AuthzShadow {
  bool has_deny = false;   ///< dry-run DENY policies apply
  AuthzRuleRef deny;       ///< the dry-run DENY rule that matched, if any
  bool has_allow = false;  ///< dry-run ALLOW policies apply
  AuthzRuleRef allow;      ///< the dry-run ALLOW rule that matched, if any
  /// True when the dry-run policies would have denied the request.
  bool wouldDeny() const { return deny.found() || (has_allow && !allow.found()); }
};

/// The outcome of authorization for one request. All views point into the CompiledAuthz (or a
/// provider's storage, or static text) and stay valid while it lives.
struct AuthzDecision {
  bool allowed = true;
  int status = 200;       ///< 200 allowed; 403 or a provider status; kStatusReset for TCP
  std::string_view body;  ///< "RBAC: access denied", the provider's body, or empty
  AuthzBasis basis = AuthzBasis::kNoAllowPolicy;
  model::AuthzAction action = model::AuthzAction::kAllow;  ///< action of `decided_by`
  AuthzRuleRef decided_by;  ///< the deciding rule (empty for kNoAllowPolicy / kNoAllowMatched)
  /// Envoy's response detail of a denial: "rbac_access_denied_matched_policy[ns[NS]-policy[NAME]-
  /// rule[I]]", "rbac_access_denied_matched_policy[none]" or "ext_authz_denied"; empty if allowed.
  std::string_view detail;
  AuthzRuleRef custom;  ///< the CUSTOM rule that sent the request to the provider, if any
  AuthzRuleRef audit;   ///< the AUDIT rule that marked the request, if any
  AuthzShadow shadow;
};

/// Decides one request: CUSTOM (provider called when a CUSTOM rule matches; provider deny wins),
/// DENY (any match denies), no enforced ALLOW policy -> allowed, any ALLOW match -> allowed,
/// otherwise denied. AUDIT and dry-run policies never decide. When `request.http` is false,
/// ALLOW rules using HTTP-only attributes are dropped whole and DENY/AUDIT/CUSTOM rules lose just
/// those fields. Never allocates; pure apart from calling the CUSTOM provider; thread-safe.
AuthzDecision evaluateAuthz(const CompiledAuthz& authz, const RequestAttributes& request);

/// evaluateAuthz() as a Decision with a reason sentence and a trace (which policies applied,
/// which rules matched or which field failed). Stage kAuthz when denied, kNone when allowed.
Decision explainAuthz(const CompiledAuthz& authz, const RequestAttributes& request);

/// The Decision of an already computed AuthzDecision, with a reason but no trace.
Decision toDecision(const AuthzDecision& decision, const RequestAttributes& request);

}  // namespace meshsim::policy
