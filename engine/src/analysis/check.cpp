#include "meshsim/analysis/check.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "meshsim/policy/authz.h"
#include "meshsim/policy/identity.h"
#include "meshsim/policy/jwt.h"
#include "meshsim/policy/path.h"
#include "meshsim/policy/peer_authn.h"
#include "meshsim/routing/client_tls.h"
#include "meshsim/routing/destination.h"
#include "meshsim/routing/route.h"

namespace meshsim::analysis {

namespace {

using policy::Decision;
using policy::Stage;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void append(Decision& d, const std::vector<std::string>& lines, const std::string& prefix = "") {
  for (const auto& l : lines) d.trace.push_back(prefix + l);
}

Decision refusal(Decision d, int status, std::string body, Stage stage, std::string reason,
                 std::string flags = "") {
  d.status = status;
  d.body = std::move(body);
  d.stage = stage;
  d.reason = std::move(reason);
  d.response_flags = std::move(flags);
  return d;
}

// Builds the token the request carries, from the CheckJwt flags and the issuer that the
// destination's RequestAuthentication trusts.
Result<std::string> makeToken(const config::Snapshot& snap, const model::Workload& server,
                              const CheckJwt& jwt, int64_t now, policy::IdentityProviderKeys& keys) {
  if (jwt.kind == CheckJwt::Kind::kNone) return std::string();
  if (jwt.kind == CheckJwt::Kind::kToken) return jwt.token;
  if (jwt.kind == CheckJwt::Kind::kInvalid && jwt.invalid == "malformed") {
    return std::string("deadbeef");
  }
  auto rules = policy::mergeJwtRules(policy::applicableRequestAuthentications(snap, server));
  const model::IdentityProvider* idp = nullptr;
  const model::JwtRule* rule = nullptr;
  for (const auto& r : rules) {
    idp = policy::identityProviderForJwksUri(snap, r.rule.jwks_uri);
    if (idp != nullptr) {
      rule = &r.rule;
      break;
    }
  }
  if (rule == nullptr) {
    return invalidArgument(
        "--jwt-claims/--jwt-invalid need a RequestAuthentication on " + server.meta.namespace_ + "/" +
        server.meta.name + " whose jwksUri names an IdentityProvider (meshsim://idp/<name>)");
  }
  nlohmann::json claims = nlohmann::json::object();
  if (jwt.kind == CheckJwt::Kind::kClaims) {
    if (!nlohmann::json::accept(jwt.claims)) return invalidArgument("--jwt-claims: not valid JSON");
    claims = nlohmann::json::parse(jwt.claims);
    if (!claims.is_object()) return invalidArgument("--jwt-claims: expected a JSON object");
  } else {
    claims["sub"] = "user@example.com";
  }
  if (!claims.contains("iss")) claims["iss"] = rule->issuer;
  if (!claims.contains("aud") && !rule->audiences.empty()) claims["aud"] = rule->audiences.front();
  if (!claims.contains("iat")) claims["iat"] = now;
  if (!claims.contains("exp")) claims["exp"] = now + 3600;
  auto signer = keys.signerFor(*idp);
  if (!signer.ok()) return signer.status();
  if (jwt.kind == CheckJwt::Kind::kInvalid) {
    const std::string& what = jwt.invalid;
    if (what == "expired") {
      claims["iat"] = now - 7200;
      claims["exp"] = now - 3600;
    } else if (what == "issuer") {
      claims["iss"] = "https://unknown-issuer.example";
    } else if (what == "audience") {
      claims["aud"] = "not-an-allowed-audience";
    } else if (what == "signature") {
      // Same kid and algorithm as the real key, but another key: "Jwt verification fails".
      auto other = policy::JwtSigner::generate((*signer)->algorithm(), (*signer)->kid());
      if (!other.ok()) return other.status();
      return other->signJson(claims.dump());
    } else {
      return invalidArgument("--jwt-invalid: expected signature, expired, malformed, issuer or audience");
    }
  }
  return (*signer)->signJson(claims.dump());
}

}  // namespace

Result<std::string> checkToken(const config::Snapshot& snapshot, const model::Workload& server,
                               const CheckJwt& jwt, int64_t now_seconds,
                               policy::IdentityProviderKeys& keys) {
  return makeToken(snapshot, server, jwt, now_seconds, keys);
}

Result<CheckSource> parseCheckSource(const std::string& text) {
  CheckSource s;
  auto splitWorkload = [&](const std::string& ref) -> Status {
    auto slash = ref.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == ref.size()) {
      return invalidArgument("--from: \"" + ref + "\" is not NS/WORKLOAD");
    }
    s.namespace_ = ref.substr(0, slash);
    s.name = ref.substr(slash + 1);
    return okStatus();
  };
  if (text == "outside") {
    s.kind = CheckSource::Kind::kOutside;
    return s;
  }
  if (text.rfind("stolen:", 0) == 0) {
    s.kind = CheckSource::Kind::kStolen;
    if (Status st = splitWorkload(text.substr(7)); !st.ok()) return st;
    return s;
  }
  if (text.rfind("forged:", 0) == 0) {
    s.kind = CheckSource::Kind::kForged;
    s.spiffe_id = text.substr(7);
    if (s.spiffe_id.rfind("spiffe://", 0) != 0) {
      s.spiffe_id = "spiffe://" + s.spiffe_id;
    }
    auto id = policy::parseSpiffeUri(s.spiffe_id);
    if (!id.ok()) return invalidArgument("--from forged: " + id.status().message());
    return s;
  }
  s.kind = CheckSource::Kind::kWorkload;
  if (Status st = splitWorkload(text); !st.ok()) {
    return invalidArgument("--from: expected NS/WORKLOAD, outside, stolen:NS/WORKLOAD or forged:SPIFFE-ID, got \"" +
                           text + "\"");
  }
  return s;
}

Result<Decision> check(std::shared_ptr<const config::Snapshot> snapshot, const CheckRequest& req,
                       policy::IdentityProviderKeys& keys) {
  const config::Snapshot& snap = *snapshot;
  Decision d;
  d.status = 200;
  d.stage = Stage::kNone;

  // --- the destination service and port
  const model::Service* svc = snap.findService(req.to_namespace, req.to_service);
  if (svc == nullptr) return invalidArgument("--to: unknown service " + req.to_namespace + "/" + req.to_service);
  const model::ServicePort* sp = nullptr;
  for (const auto& p : svc->ports) {
    if ((req.port && p.port == *req.port) || (req.workload_port && p.target_port == *req.workload_port) ||
        (!req.port && !req.workload_port && sp == nullptr)) {
      sp = &p;
      if (req.port || req.workload_port) break;
    }
  }
  if (sp == nullptr) {
    return invalidArgument("service " + req.to_namespace + "/" + req.to_service + " has no " +
                           (req.port ? "port " + std::to_string(*req.port)
                                     : "target port " + std::to_string(req.workload_port.value_or(0))));
  }
  const routing::ServiceRef service_ref{req.to_namespace, req.to_service};
  const std::string host = req.host.empty() ? service_ref.fqdn() + ":" + std::to_string(sp->port) : req.host;
  const bool http = model::isHttp(sp->protocol);

  // --- the client
  const model::Workload* client = nullptr;
  const auto kind = req.from.kind;
  if (kind == CheckSource::Kind::kWorkload || kind == CheckSource::Kind::kStolen) {
    client = snap.findWorkload(req.from.namespace_, req.from.name);
    if (client == nullptr) return invalidArgument("--from: unknown workload " + req.from.namespace_ + "/" + req.from.name);
    if (kind == CheckSource::Kind::kStolen && !client->sidecar) {
      return invalidArgument("--from stolen: " + req.from.namespace_ + "/" + req.from.name +
                             " has no sidecar, so it has no mesh certificate to steal");
    }
  }
  const bool client_sidecar = kind == CheckSource::Kind::kWorkload && client->sidecar;
  std::string who = kind == CheckSource::Kind::kOutside ? "a plain client outside the mesh"
                    : kind == CheckSource::Kind::kForged ? "an attacker with a forged certificate for " + req.from.spiffe_id
                    : kind == CheckSource::Kind::kStolen ? "an attacker holding the certificate of " + req.from.namespace_ + "/" + req.from.name
                    : client_sidecar ? req.from.namespace_ + "/" + req.from.name + " through its sidecar"
                                     : req.from.namespace_ + "/" + req.from.name + " (no sidecar)";
  d.trace.push_back("request: " + req.method + " " + host + req.path + " from " + who);

  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [k, v] : req.headers) {
    if (Status st = policy::checkHeaderName(k); !st.ok()) return invalidArgument("--header: " + st.message());
    std::string name = lower(k);
    auto it = std::find_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; });
    if (it != headers.end()) it->second += "," + v;  // duplicates are joined before matching
    else headers.emplace_back(name, v);
  }
  if (Status st = policy::checkMethod(req.method); !st.ok()) {
    Decision bad = policy::badRequestDecision(st);
    bad.trace.insert(bad.trace.begin(), d.trace.begin(), d.trace.end());
    return bad;
  }

  // --- client side: routing (only sidecars route; other clients dial an endpoint directly)
  const model::Workload* endpoint = nullptr;
  routing::EffectiveTrafficPolicy traffic_policy;
  if (client_sidecar) {
    auto routes = routing::compileRoutes(snapshot);
    routing::RouteRequest rr;
    rr.source_namespace = client->meta.namespace_;
    rr.source_labels = &client->labels;
    rr.authority = host;
    rr.port = sp->port;
    rr.method = req.method;
    rr.path = req.path;
    rr.headers = headers;
    rr.explain = true;
    routing::RouteDice dice;
    dice.pick = req.pick;
    dice.abort = 0.999999;  // only faults at 100% fire in a single check
    dice.delay = 0.999999;
    routing::RouteResult route = routing::selectRoute(routes, rr, dice);
    routing::applyToDecision(route, d);
    if (route.outcome != routing::RouteOutcome::kForward) return d;
    if (route.endpoints == nullptr || route.endpoints->workloads.empty()) {
      return refusal(d, 503, "no healthy upstream", Stage::kRoute, "no endpoint to send to", "UH");
    }
    endpoint = route.endpoints->workloads.front();
    if (route.traffic_policy != nullptr) traffic_policy = *route.traffic_policy;
  } else {
    auto eps = routing::endpointsOf(snap, service_ref);
    d.route.destination = service_ref.fqdn();
    d.route.shares.push_back({service_ref.fqdn(), "", 1.0});
    if (eps.workloads.empty()) {
      return refusal(d, policy::kStatusReset, "", Stage::kRoute,
                     "service " + service_ref.key() + " has no running workload: connection refused");
    }
    endpoint = eps.workloads.front();
    d.trace.push_back("route: no sidecar on the client, so no VirtualService applies; it connects to " +
                      endpoint->meta.namespace_ + "/" + endpoint->meta.name + " directly");
  }
  d.trace.push_back("endpoint: " + endpoint->meta.namespace_ + "/" + endpoint->meta.name + " (version " +
                    (endpoint->version().empty() ? "-" : endpoint->version()) + ", cluster " + endpoint->cluster +
                    ", port " + std::to_string(sp->target_port) + ")");

  // --- transport: what the client sends, and what the server sidecar makes of it
  const uint32_t workload_port = sp->target_port;
  policy::EffectivePeerAuthn pa = policy::effectivePeerAuthn(snap, *endpoint, workload_port);
  append(d, pa.trace, "peer authentication: ");
  policy::ClientTransport transport = policy::ClientTransport::kPlaintext;
  std::optional<policy::PeerIdentity> identity;
  const std::string td = snap.trustDomain();
  if (client_sidecar) {
    auto ct = routing::clientTransport(traffic_policy, endpoint->sidecar, pa.mode, true);
    d.trace.push_back("client transport: " + ct.reason);
    if (!ct.ok()) {
      d.policy = traffic_policy.destination_rule;
      return refusal(d, ct.status, std::string(ct.body), Stage::kTransport, ct.reason, std::string(ct.flags));
    }
    transport = ct.sends_mtls ? policy::ClientTransport::kMeshMtls
                : ct.sends_tls ? policy::ClientTransport::kUntrustedCertificate
                               : policy::ClientTransport::kPlaintext;
    identity = policy::peerIdentityFor(td, client->meta.namespace_, client->service_account);
  } else if (kind == CheckSource::Kind::kStolen) {
    transport = policy::ClientTransport::kMeshMtls;
    identity = policy::peerIdentityFor(td, client->meta.namespace_, client->service_account);
  } else if (kind == CheckSource::Kind::kForged) {
    transport = policy::ClientTransport::kUntrustedCertificate;
    auto id = policy::parseSpiffeUri(req.from.spiffe_id);
    if (id.ok()) identity = *id;
  }
  if (!endpoint->sidecar) {
    d.mtls = false;
    if (transport != policy::ClientTransport::kPlaintext) {
      return refusal(d, policy::kStatusReset, "", Stage::kPeerAuthn,
                     endpoint->meta.name + " has no sidecar and does not speak TLS: the handshake fails");
    }
    d.reason = endpoint->meta.name + " has no sidecar: no mesh policy applies, the app answers";
    d.trace.push_back("server: " + d.reason);
    return d;
  }
  policy::ServerConnectionOutcome sc = policy::serverAcceptance(pa.mode, transport, identity);
  d.trace.push_back("server connection: " + std::string(policy::serverAcceptanceName(sc.acceptance)) +
                    (sc.server_detail.empty() ? "" : " (" + sc.server_detail + ")"));
  if (sc.acceptance == policy::ServerAcceptance::kReset || sc.acceptance == policy::ServerAcceptance::kTlsReadAsHttp) {
    d.policy = pa.policy;
    if (client_sidecar && sc.sidecar_client_status != 0) {
      return refusal(d, sc.sidecar_client_status, sc.sidecar_client_body, Stage::kPeerAuthn, sc.decision.reason,
                     sc.sidecar_client_flags);
    }
    Decision out = sc.decision;
    out.route = d.route;
    out.trace = d.trace;
    out.policy = pa.policy;
    if (out.stage == Stage::kNone) out.stage = Stage::kPeerAuthn;
    return out;
  }
  d.mtls = sc.mtls;

  // --- server side, HTTP: normalization, JWT authentication, authorization
  policy::RequestAttributes attrs;
  attrs.http = http;
  attrs.peer = sc.peer;
  attrs.source_ip = req.source_ip.empty() ? "127.0.0.1" : req.source_ip;
  attrs.remote_ip = attrs.source_ip;
  attrs.destination_ip = "127.0.0.1";
  attrs.destination_port = workload_port;
  std::vector<std::pair<std::string, std::string>> server_headers = headers;
  if (http) {
    auto normalized = policy::normalizePath(req.path);
    if (!normalized.ok()) {
      Decision bad = policy::badRequestDecision(normalized.status());
      bad.trace.insert(bad.trace.begin(), d.trace.begin(), d.trace.end());
      bad.mtls = d.mtls;
      bad.route = d.route;
      return bad;
    }
    attrs.path = normalized->path;
    attrs.host = host;
    attrs.method = req.method;
    auto token = makeToken(snap, *endpoint, req.jwt, req.now_seconds, keys);
    if (!token.ok()) return token.status();
    if (!token->empty()) server_headers.emplace_back("authorization", "Bearer " + *token);
    auto authn = policy::compileJwtAuthnForWorkload(snap, *endpoint, keys);
    policy::JwtRequest jr;
    jr.method = req.method;
    jr.host = host;
    jr.path = req.path;
    jr.headers = server_headers;
    policy::JwtAuthnResult jres = policy::authenticateJwt(authn, jr, req.now_seconds);
    if (!jres.reason.empty()) d.trace.push_back("jwt: " + jres.reason);
    if (!jres.accepted) {
      d.policy = jres.policy;
      d.rule = jres.rule;
      return refusal(d, jres.http_status, jres.body, Stage::kJwt, jres.reason);
    }
    attrs.auth = jres.auth;
    for (const auto& h : jres.remove_headers) {
      server_headers.erase(std::remove_if(server_headers.begin(), server_headers.end(),
                                          [&](const auto& kv) { return kv.first == h; }),
                           server_headers.end());
    }
    for (const auto& h : jres.add_headers) server_headers.push_back(h);
    attrs.headers = server_headers;
  }
  auto authz = policy::compileAuthzForWorkload(snap, *endpoint, policy::authzContextFor(snap));
  if (!authz.ok()) return authz.status();
  Decision az = policy::explainAuthz(*authz, attrs);
  append(d, az.trace, "authorization: ");
  if (!az.allowed()) {
    d.policy = az.policy;
    d.rule = az.rule;
    return refusal(d, az.status, az.body, az.stage == Stage::kNone ? Stage::kAuthz : az.stage, az.reason,
                   az.response_flags);
  }

  // --- the app answers
  d.status = 200;
  d.stage = Stage::kNone;
  d.policy = az.policy;
  d.rule = az.rule;
  d.reason = az.reason.empty() ? "allowed" : az.reason;
  d.trace.push_back("app: " + endpoint->meta.name + " answers 200");
  return d;
}

}  // namespace meshsim::analysis
