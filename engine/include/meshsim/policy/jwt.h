#pragma once
/// JWT request authentication with the semantics of Envoy's jwt_authn filter as Istio configures
/// it from RequestAuthentication (istio-semantics.md section 3), plus the pieces it is built from:
/// base64url, compact-JWT parsing, JWKS public keys, RS256/ES256 verification, a signer for the
/// simulated IdentityProvider and for tests.
///
/// Everything here is pure: the current time is a parameter, JWKS come from the configuration
/// (inline `jwks` or an IdentityProvider of the snapshot), nothing does I/O, nothing throws.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meshsim/common/status.h"
#include "meshsim/config/store.h"
#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"
#include "meshsim/policy/decision.h"
#include "meshsim/policy/request.h"

namespace meshsim::policy {

// ---------------------------------------------------------------- base64url

/// Encodes bytes as base64url without padding (RFC 7515 section 2). Thread-safe.
std::string base64UrlEncode(std::string_view bytes);

/// Decodes base64url text; trailing '=' padding is accepted but not required. InvalidArgument
/// for characters outside the base64url alphabet or an impossible length. Thread-safe.
Result<std::string> base64UrlDecode(std::string_view text);

// ---------------------------------------------------------------- statuses

/// The outcomes of JWT verification, one per Envoy jwt_verify status that meshsim can produce.
enum class JwtStatus {
  kOk,
  kMissing,      ///< no token at any configured location
  kNotYetValid,  ///< now + 60 s < nbf
  kExpired,      ///< now > exp + 60 s
  kBadFormat,    ///< not Header.Payload.Signature
  kHeaderBadBase64,
  kHeaderBadJson,
  kHeaderBadAlg,  ///< alg missing or not a string
  kHeaderNotImplementedAlg,
  kHeaderBadKid,  ///< kid present but not a string
  kPayloadBadBase64,
  kPayloadBadJson,
  kPayloadIssNotString,
  kPayloadSubNotString,
  kPayloadIatNotInteger,
  kPayloadIatOutOfRange,
  kPayloadNbfNotInteger,
  kPayloadNbfOutOfRange,
  kPayloadExpNotInteger,
  kPayloadExpOutOfRange,
  kPayloadJtiNotString,
  kPayloadAudNotString,
  kSignatureBadBase64,
  kUnknownIssuer,       ///< `iss` is not the issuer of a rule reading this location
  kAudienceNotAllowed,  ///< the only 403
  kVerificationFail,    ///< a key matched kid/alg but the signature does not verify
  kJwksKidAlgMismatch,  ///< no key matches the token's kid/alg
  kJwksFetchFail,       ///< JWKS unavailable (unparsable inline JWKS, unresolvable jwksUri)
};

/// Envoy's text for a status, e.g. "Jwt is expired" (the body of the 401/403). Thread-safe.
const char* jwtStatusText(JwtStatus status);

/// The HTTP status Envoy answers with when `status` rejects a request: 403 for
/// kAudienceNotAllowed, 401 for every other failure, 200 for kOk/kMissing.
int jwtHttpStatus(JwtStatus status);

// ---------------------------------------------------------------- parsing

/// A compact JWT split and decoded the way Envoy's jwt_verify_lib does it.
struct ParsedJwt {
  std::string header_b64;              ///< first section as written
  std::string payload_b64;             ///< second section as written
  std::string signature;               ///< decoded signature bytes
  std::string header_json;             ///< decoded header text
  std::string payload_json;            ///< decoded payload text
  std::string alg;                     ///< header `alg`, e.g. "RS256"
  std::string kid;                     ///< empty when absent
  std::string issuer;                  ///< `iss`; empty when absent
  std::string subject;                 ///< `sub`; empty when absent
  bool has_subject = false;            ///< `sub` was present
  std::vector<std::string> audiences;  ///< `aud` as a string or a list of strings
  uint64_t iat = 0;                    ///< 0 when absent
  uint64_t nbf = 0;                    ///< 0 when absent
  uint64_t exp = 0;                    ///< 0 when absent (never expires)
};

/// Parses a compact JWT. Checks, in Envoy's order: exactly two dots and three non-empty
/// sections; header base64url and JSON object; `alg` a supported string; `kid` a string;
/// payload base64url and JSON object; iss/sub strings; iat/nbf/exp non-negative integers; jti a
/// string; aud a string or list of strings; signature base64url. Returns kOk and fills `out`, or
/// the first failing status. Pure; thread-safe.
JwtStatus parseJwt(std::string_view token, ParsedJwt& out);

// ---------------------------------------------------------------- keys

/// Signature algorithms the signer can produce (verification also accepts RS384/RS512,
/// PS256/PS384/PS512, ES384 and ES512 with matching keys).
enum class JwtAlgorithm { kRs256, kEs256 };

/// "RS256" or "ES256".
const char* jwtAlgorithmName(JwtAlgorithm alg);

/// Parses "RS256"/"ES256"; nullopt for anything else.
std::optional<JwtAlgorithm> parseJwtAlgorithm(std::string_view name);

/// A set of public keys parsed from a JWKS document (RSA `n`/`e`, EC `crv`/`x`/`y`, optional
/// `kid` and `alg`). Immutable after parsing; copies share the keys; safe to use from several
/// threads at once.
class Jwks {
 public:
  /// An empty key set (verifies nothing).
  Jwks();
  ~Jwks();
  Jwks(const Jwks&);
  Jwks& operator=(const Jwks&);
  Jwks(Jwks&&) noexcept;
  Jwks& operator=(Jwks&&) noexcept;

  /// Parses a JWKS JSON document `{"keys":[...]}`. Keys of a type meshsim does not verify
  /// (oct, OKP) are skipped; like Envoy, parsing stops at the first malformed key and succeeds
  /// when at least one key was read before it. InvalidArgument with the reason otherwise.
  static Result<Jwks> parse(std::string_view json);

  /// Number of usable keys.
  size_t size() const;
  /// The `kid` of every key, in document order ("" for keys without one).
  std::vector<std::string> kids() const;

  /// Verifies the signature of `jwt` like jwt_verify_lib: keys are tried in order, skipping keys
  /// whose kid differs (when both have one) or whose alg differs (when the key has one).
  /// kOk on the first key that verifies; kVerificationFail when some key matched kid/alg but
  /// none verified; kJwksKidAlgMismatch when no key matched.
  JwtStatus verify(const ParsedJwt& jwt) const;

 private:
  struct Impl;
  explicit Jwks(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

/// Claims to sign. Audiences: none = no `aud`, one = a string, several = a list.
struct JwtClaims {
  std::string issuer;                          ///< `iss`; empty = omitted
  std::string subject;                         ///< `sub`; empty = omitted
  std::vector<std::string> audiences;          ///< `aud`
  std::optional<int64_t> issued_at;            ///< `iat`, seconds since the epoch
  std::optional<int64_t> not_before;           ///< `nbf`
  std::optional<int64_t> expires_at;           ///< `exp`
  std::map<std::string, std::string> strings;  ///< extra string claims, e.g. {"scope","read write"}
  /// Extra claims as a JSON object text (nested objects, lists, numbers); merged last, so it can
  /// override everything above. Empty = none.
  std::string extra_json;
};

/// Header tweaks for producing deliberately odd tokens in tests.
struct JwtHeaderOptions {
  bool include_kid = true;         ///< false: no `kid` in the header
  std::optional<std::string> kid;  ///< overrides the signer's kid
  std::optional<std::string> alg;  ///< overrides the alg written in the header (not the one used)
};

/// A private key that signs JWTs, with its public half as a JWKS. The OpenSSL key lives behind
/// the pimpl. Movable, not copyable; signing is const and thread-safe.
class JwtSigner {
 public:
  ~JwtSigner();
  JwtSigner(JwtSigner&&) noexcept;
  JwtSigner& operator=(JwtSigner&&) noexcept;
  JwtSigner(const JwtSigner&) = delete;
  JwtSigner& operator=(const JwtSigner&) = delete;

  /// Generates a fresh RSA-2048 (RS256) or EC P-256 (ES256) key pair. Internal when OpenSSL
  /// fails. RSA generation costs tens of milliseconds: create signers once, not per request.
  static Result<JwtSigner> generate(JwtAlgorithm alg, std::string kid);

  JwtAlgorithm algorithm() const;
  const std::string& kid() const;

  /// The public key as a JWKS document: {"keys":[{"kty","alg","use","kid",n/e or crv/x/y}]}.
  std::string jwksJson() const;

  /// Signs `claims` into a compact JWT.
  Result<std::string> sign(const JwtClaims& claims, const JwtHeaderOptions& header = {}) const;
  /// Signs a payload given as JSON text (must be an object; InvalidArgument otherwise).
  Result<std::string> signJson(std::string_view payload_json,
                               const JwtHeaderOptions& header = {}) const;

 private:
  struct Impl;
  explicit JwtSigner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The simulated IdentityProviders' keys: one key pair per IdentityProvider, generated on first
/// use with the provider's algorithm and cached by name (a changed algorithm gets a new key).
/// Keys cannot be derived from the name with OpenSSL, so the registry is the identity of the
/// keys: keep it for as long as tokens it issued must verify. Owned by the caller (the engine);
/// not thread-safe — use it from the engine thread only. The kid of a provider's key is its name.
class IdentityProviderKeys {
 public:
  IdentityProviderKeys();
  ~IdentityProviderKeys();
  IdentityProviderKeys(IdentityProviderKeys&&) noexcept;
  IdentityProviderKeys& operator=(IdentityProviderKeys&&) noexcept;
  IdentityProviderKeys(const IdentityProviderKeys&) = delete;
  IdentityProviderKeys& operator=(const IdentityProviderKeys&) = delete;

  /// The signer of `idp`, generated on first use. InvalidArgument for an unsupported algorithm.
  /// The pointer stays valid for the registry's lifetime.
  Result<const JwtSigner*> signerFor(const model::IdentityProvider& idp);

  /// The public JWKS of `idp` (generating its key on first use).
  Result<std::string> jwksFor(const model::IdentityProvider& idp);

  /// Issues a token for user `subject` of `idp` at `now_seconds`: iss = the provider's issuer,
  /// aud = its audiences, iat = now, exp = now + tokenTtl, plus the user's claims. NotFound
  /// when the provider lists no such user.
  Result<std::string> issueToken(const model::IdentityProvider& idp, std::string_view subject,
                                 int64_t now_seconds);

  /// Number of keys generated so far.
  size_t size() const;

 private:
  struct Entry;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

/// Resolves a jwksUri to an IdentityProvider of the snapshot: "meshsim://idp/<name>", or the
/// provider's issuer URL itself or followed by a path ("<issuer>/.well-known/jwks.json").
/// nullptr when nothing matches (Envoy would then fail the JWKS fetch).
const model::IdentityProvider* identityProviderForJwksUri(const config::Snapshot& snapshot,
                                                          std::string_view jwks_uri);

// ---------------------------------------------------------------- request authentication

/// The RequestAuthentications that apply to `workload`: those of the root namespace and of the
/// workload's namespace whose selector labels are a subset of the workload's labels (no selector
/// = every workload in scope). Policies with targetRef(s) are ignored (sidecars do not attach
/// them). Order: root namespace first, then by creation order and name. Pure.
std::vector<const model::RequestAuthentication*> applicableRequestAuthentications(
    const config::Snapshot& snapshot, const model::Workload& workload);

/// One jwtRule together with the resource it came from.
struct SourcedJwtRule {
  model::JwtRule rule;  ///< the rule as written
  std::string policy;   ///< "ns/name" of the RequestAuthentication
};

/// All jwtRules of `policies`, merged and stably sorted by issuer as Istio does before it
/// generates one Envoy provider per rule.
std::vector<SourcedJwtRule> mergeJwtRules(
    const std::vector<const model::RequestAuthentication*>& policies);

/// The merged rules of one workload, with every JWKS parsed and every location compiled.
/// Immutable; copies share state; safe to evaluate from several threads at once.
class CompiledJwtAuthn {
 public:
  /// No rules: the workload has no JWT filter and every token is ignored.
  CompiledJwtAuthn();
  ~CompiledJwtAuthn();
  CompiledJwtAuthn(const CompiledJwtAuthn&);
  CompiledJwtAuthn& operator=(const CompiledJwtAuthn&);
  CompiledJwtAuthn(CompiledJwtAuthn&&) noexcept;
  CompiledJwtAuthn& operator=(CompiledJwtAuthn&&) noexcept;

  /// True when no rule applies (no JWT filter).
  bool empty() const;
  /// Number of merged rules (Envoy providers).
  size_t ruleCount() const;
  /// One line per rule whose JWKS is unavailable, e.g. "rule 0 (ns/ra, issuer x): jwksUri ...".
  const std::vector<std::string>& warnings() const;

 private:
  struct Impl;
  friend struct JwtAuthnAccess;  // defined in jwt_authn.cpp
  std::shared_ptr<const Impl> impl_;
};

/// Compiles merged rules. Inline `jwks` is parsed here; a `jwksUri` is resolved through
/// identityProviderForJwksUri() against `snapshot` with keys from `keys` (both may be null, in
/// which case every jwksUri is unresolvable). A rule whose JWKS is unavailable still compiles:
/// its tokens then fail with "Jwks remote fetch is failed", as Envoy's do. Engine thread only
/// (it may generate IdentityProvider keys).
CompiledJwtAuthn compileJwtAuthn(std::vector<SourcedJwtRule> rules,
                                 const config::Snapshot* snapshot, IdentityProviderKeys* keys);

/// applicableRequestAuthentications + mergeJwtRules + compileJwtAuthn for one workload.
CompiledJwtAuthn compileJwtAuthnForWorkload(const config::Snapshot& snapshot,
                                            const model::Workload& workload,
                                            IdentityProviderKeys& keys);

/// The parts of a request that JWT authentication reads. Views: the caller keeps the data alive
/// for the duration of the call.
struct JwtRequest {
  std::string_view method = "GET";
  std::string_view scheme = "http";  ///< x-forwarded-proto, for the WWW-Authenticate realm
  std::string_view host;             ///< :authority as received
  std::string_view path;             ///< path *with* query string, as received
  /// Header names lower-case; duplicates already joined with ",".
  std::span<const std::pair<std::string, std::string>> headers;
};

/// What jwt_authn did with a request.
struct JwtAuthnResult {
  bool accepted = true;  ///< false: the filter answered with http_status
  /// kOk: a token was validated; kMissing: no token (or no rules, or CORS preflight);
  /// anything else: the reason for the rejection.
  JwtStatus status = JwtStatus::kMissing;
  int http_status = 200;  ///< 401 or 403 when rejected
  std::string body;       ///< jwtStatusText(status) when rejected
  /// Response headers of the rejection: WWW-Authenticate: Bearer realm="<url>",
  /// error="invalid_token".
  std::vector<std::pair<std::string, std::string>> response_headers;
  /// The validated identity (only when status == kOk).
  std::optional<RequestAuth> auth;
  /// Request headers to remove before the request reaches the app: the configured output
  /// headers (anti-spoofing) and, when forwardOriginalToken is false, the header that carried
  /// the token.
  std::vector<std::string> remove_headers;
  /// Request headers to add: outputPayloadToHeader and outputClaimToHeaders results.
  std::vector<std::pair<std::string, std::string>> add_headers;
  std::string policy;  ///< "ns/name" of the RequestAuthentication whose rule decided
  int32_t rule = -1;   ///< index of the deciding rule among the merged rules
  bool cors_preflight_bypass = false;  ///< the request was a CORS preflight
  std::string reason;                  ///< one sentence for `meshsim check`
};

/// Authenticates a request as Envoy's jwt_authn does with Istio's configuration: every rule is a
/// provider required as "provider OR allow_missing" (with several rules, OR of all providers and
/// of the AND of those requirements). No token at any configured location is accepted without an
/// identity; a present token is checked in Envoy's order — format, issuer configured, exp/nbf
/// (60 s skew), audience, JWKS available, kid/alg, signature — and the first failure rejects the
/// request (403 for the audience, 401 otherwise). A CORS preflight bypasses the checks.
/// `now_seconds` is the simulated time. Pure; thread-safe.
JwtAuthnResult authenticateJwt(const CompiledJwtAuthn& authn, const JwtRequest& request,
                               int64_t now_seconds);

/// Writes a rejection into `decision` (status, body, stage kJwt, policy, rule, reason) and appends
/// the reason to its trace; an accepted result only appends to the trace.
void applyToDecision(const JwtAuthnResult& result, Decision& decision);

}  // namespace meshsim::policy
