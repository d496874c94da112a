#include "meshsim/analysis/reachability.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "meshsim/policy/authz.h"
#include "meshsim/policy/identity.h"
#include "meshsim/policy/jwt.h"
#include "meshsim/policy/path.h"
#include "meshsim/policy/peer_authn.h"
#include "meshsim/routing/destination.h"

namespace meshsim::analysis {

std::string probeText(const Probe& probe) {
  if (probe.method.empty() && probe.path.empty()) return "TCP";
  return probe.method + " " + probe.path;
}

std::string TokenRequirement::text() const {
  std::string out = "issuer " + issuer;
  if (!subject.empty()) out += ", subject " + subject;
  if (!audiences.empty()) {
    out += ", audience ";
    for (size_t i = 0; i < audiences.size(); ++i) out += (i ? "|" : "") + audiences[i];
  }
  for (const auto& [key, values] : claims) {
    out += ", " + key + "=";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "|" : "") + values[i];
  }
  return out;
}

std::optional<size_t> ReachabilityGraph::findWorkload(const std::string& ns,
                                                      const std::string& name) const {
  for (size_t i = 0; i < workloads.size(); ++i) {
    if (workloads[i]->meta.namespace_ == ns && workloads[i]->meta.name == name) return i;
  }
  return std::nullopt;
}

std::string ReachabilityGraph::workloadKey(size_t index) const {
  return workloads[index]->meta.namespace_ + "/" + workloads[index]->meta.name;
}

std::span<const ReachEdge> ReachabilityGraph::edgesFrom(size_t identity) const {
  const size_t slot = identity == kNetworkSource ? identities.size() : identity;
  if (slot >= identities.size() + 1 || edge_begin.size() != identities.size() + 1) return {};
  const size_t begin = edge_begin[slot];
  const size_t end = slot + 1 < edge_begin.size() ? edge_begin[slot + 1] : edges.size();
  return std::span<const ReachEdge>(edges.data() + begin, end - begin);
}

std::vector<const ReachEdge*> ReachabilityGraph::edgesOfWorkload(size_t workload) const {
  std::vector<const ReachEdge*> out;
  if (workload < identity_of.size() && identity_of[workload] != kNoIdentity) {
    for (const auto& e : edgesFrom(identity_of[workload])) out.push_back(&e);
  }
  for (const auto& e : edgesFrom(kNetworkSource)) out.push_back(&e);
  return out;
}

namespace {

constexpr std::string_view kAuthClaimsPrefix = "request.auth.claims";

bool hasStar(std::string_view s) { return s.find('*') != std::string_view::npos; }

// A concrete value that the Istio string pattern `pattern` ("x", "x*", "*x", "*") accepts.
std::string completePattern(std::string_view pattern, std::string_view filler) {
  if (pattern == "*") return std::string(filler);
  if (!pattern.empty() && pattern.back() == '*') {
    return std::string(pattern.substr(0, pattern.size() - 1)) + std::string(filler);
  }
  if (!pattern.empty() && pattern.front() == '*') {
    return std::string(filler) + std::string(pattern.substr(1));
  }
  return std::string(pattern);
}

// A request path that the policy path `pattern` matches: exact as written, "/p/*" -> "/p/",
// "*.x" -> "/p.x", "{*}"/"{**}" segments -> "x".
std::optional<std::string> probePath(std::string_view pattern) {
  std::string p;
  if (pattern == "*") {
    p = "/";
  } else if (!pattern.empty() && pattern.front() == '*') {
    p = "/p" + std::string(pattern.substr(1));
  } else if (!pattern.empty() && pattern.back() == '*') {
    p = std::string(pattern.substr(0, pattern.size() - 1));
  } else {
    p = std::string(pattern);
  }
  for (std::string_view tpl : {std::string_view("{**}"), std::string_view("{*}")}) {
    for (size_t at = p.find(tpl); at != std::string::npos; at = p.find(tpl)) p.replace(at, tpl.size(), "x");
  }
  if (p.empty() || p.front() != '/') return std::nullopt;
  auto normalized = policy::normalizePath(p);
  if (!normalized.ok()) return std::nullopt;
  return normalized->path;
}

// Which identities a destination's policies can tell apart. Identities that no value names
// behave exactly like a representative that no value names (every identity matcher is an exact
// comparison then), so they are decided once.
struct IdentityMentions {
  bool wildcard = false;
  std::set<std::string, std::less<>> namespaces;
  std::set<std::pair<std::string, std::string>> accounts;  // (ns, sa)

  void principal(std::string_view value) {
    if (hasStar(value)) {
      wildcard = true;
      return;
    }
    auto parts = policy::splitPrincipal(value);
    if (parts.canonical) accounts.emplace(std::string(parts.namespace_), std::string(parts.service_account));
  }
  void ns(std::string_view value) {
    if (hasStar(value)) {
      wildcard = true;
      return;
    }
    namespaces.emplace(value);
  }
  void account(std::string_view value, const std::string& policy_ns) {
    if (hasStar(value)) {
      wildcard = true;
      return;
    }
    const size_t slash = value.find('/');
    if (slash == std::string_view::npos) accounts.emplace(policy_ns, std::string(value));
    else accounts.emplace(std::string(value.substr(0, slash)), std::string(value.substr(slash + 1)));
  }
};

void collectMentions(const model::AuthorizationPolicy& p, IdentityMentions& m) {
  const std::string& pns = p.meta.namespace_;
  for (const auto& rule : p.rules) {
    if (rule.from) {
      for (const auto& src : *rule.from) {
        for (const auto* list : {&src.principals, &src.not_principals}) {
          for (const auto& v : *list) m.principal(v);
        }
        for (const auto* list : {&src.namespaces, &src.not_namespaces}) {
          for (const auto& v : *list) m.ns(v);
        }
        for (const auto* list : {&src.service_accounts, &src.not_service_accounts}) {
          for (const auto& v : *list) m.account(v, pns);
        }
      }
    }
    for (const auto& c : rule.when) {
      for (const auto* list : {&c.values, &c.not_values}) {
        for (const auto& v : *list) {
          if (c.key == "source.principal") m.principal(v);
          else if (c.key == "source.namespace") m.ns(v);
          else if (c.key == "source.serviceAccount") m.account(v, pns);
        }
      }
    }
  }
}

void collectProbes(const model::AuthorizationPolicy& p, std::set<std::string>& methods,
                   std::set<std::string>& paths) {
  for (const auto& rule : p.rules) {
    if (!rule.to) continue;
    for (const auto& op : *rule.to) {
      for (const auto* list : {&op.methods, &op.not_methods}) {
        for (const auto& m : *list) {
          std::string concrete = completePattern(m, "");
          if (!concrete.empty() && policy::checkMethod(concrete).ok()) methods.insert(concrete);
        }
      }
      for (const auto* list : {&op.paths, &op.not_paths}) {
        for (const auto& v : *list) {
          if (auto probe = probePath(v)) paths.insert(*probe);
        }
      }
    }
  }
}

// "request.auth.claims[a][b]" -> {"a","b"}; empty on malformed keys.
std::vector<std::string> claimPath(std::string_view key) {
  std::vector<std::string> out;
  std::string_view rest = key.substr(kAuthClaimsPrefix.size());
  while (!rest.empty()) {
    if (rest.front() != '[') return {};
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return {};
    out.emplace_back(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
  }
  return out;
}

struct JwtIssuer {
  std::string issuer;
  std::vector<std::string> audiences;
};

// A synthesized validated token for one ALLOW rule that needs one.
struct TokenCandidate {
  policy::RequestAuth auth;
  TokenRequirement requirement;
};

// An issuer the destination trusts that the pattern accepts, or nullptr.
const JwtIssuer* trustedIssuer(const std::vector<JwtIssuer>& issuers, std::string_view pattern) {
  for (const auto& i : issuers) {
    if (pattern == "*" || pattern.empty()) return &i;
    if (!hasStar(pattern)) {
      if (i.issuer == pattern) return &i;
      continue;
    }
    if (pattern.back() == '*' && i.issuer.compare(0, pattern.size() - 1, pattern.substr(0, pattern.size() - 1)) == 0) return &i;
    if (pattern.front() == '*') {
      std::string_view suffix = pattern.substr(1);
      if (i.issuer.size() >= suffix.size() && i.issuer.compare(i.issuer.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return &i;
      }
    }
  }
  return nullptr;
}

std::optional<TokenCandidate> tokenFor(const model::AuthzRule& rule, const std::vector<JwtIssuer>& issuers) {
  std::optional<std::string> principal;
  if (rule.from) {
    for (const auto& src : *rule.from) {
      if (!src.request_principals.empty()) {
        principal = src.request_principals.front();
        break;
      }
    }
  }
  bool needs = principal.has_value();
  std::optional<std::string> audience, presenter;
  std::vector<std::pair<std::string, std::vector<std::string>>> claims;
  for (const auto& c : rule.when) {
    if (c.key.rfind("request.auth.", 0) != 0) continue;
    needs = true;
    if (c.values.empty()) continue;
    const std::string& v = c.values.front();
    if (c.key == "request.auth.principal") {
      if (!principal) principal = v;
    } else if (c.key == "request.auth.audiences") {
      audience = completePattern(v, "aud");
    } else if (c.key == "request.auth.presenter") {
      presenter = completePattern(v, "client");
    } else if (c.key.rfind(std::string(kAuthClaimsPrefix), 0) == 0) {
      claims.emplace_back(c.key, std::vector<std::string>{completePattern(v, "x")});
    }
  }
  if (!needs || issuers.empty()) return std::nullopt;
  std::string iss_pattern = "*", sub_pattern = "*";
  if (principal) {
    const size_t slash = principal->rfind('/');
    if (slash != std::string::npos) {
      iss_pattern = principal->substr(0, slash);
      sub_pattern = principal->substr(slash + 1);
    } else if (*principal != "*") {
      return std::nullopt;  // "<iss>/<sub>" is required; nothing else can match
    }
  }
  const JwtIssuer* iss = trustedIssuer(issuers, iss_pattern);
  if (iss == nullptr) return std::nullopt;
  TokenCandidate t;
  t.auth.issuer = iss->issuer;
  t.auth.subject = completePattern(sub_pattern, "user");
  t.auth.has_subject = true;
  if (audience) {
    if (!iss->audiences.empty() &&
        std::find(iss->audiences.begin(), iss->audiences.end(), *audience) == iss->audiences.end()) {
      return std::nullopt;  // jwt_authn would refuse the audience with 403
    }
    t.auth.audiences = {*audience};
  } else {
    t.auth.audiences = iss->audiences;
  }
  if (presenter) t.auth.presenter = *presenter;
  for (const auto& [key, values] : claims) {
    auto path = claimPath(key);
    if (path.empty()) return std::nullopt;
    t.auth.claims.push_back({path, values});
  }
  t.requirement.issuer = t.auth.issuer;
  t.requirement.subject = principal ? sub_pattern : "";
  t.requirement.audiences = t.auth.audiences;
  t.requirement.claims = claims;
  return t;
}

// What one source gets at one destination port.
struct Outcome {
  bool reachable = false;  // the connection is accepted at all
  bool mtls = false;
  std::vector<Probe> allowed;
  std::string policy;
  int32_t rule = -1;
  std::string basis;
  bool needs_token = false;
  TokenRequirement token;
  bool open() const { return !allowed.empty(); }
};

// Everything about one destination class (same policies, service port, mode, sidecar) that
// does not depend on the source.
struct DestinationClass {
  const policy::CompiledAuthz* authz = nullptr;
  std::vector<Probe> probes;
  std::vector<TokenCandidate> tokens;
  bool sidecar = true;
  model::MtlsMode mode = model::MtlsMode::kPermissive;
  bool http = true;
  uint32_t target_port = 0;
  std::string host;
};

Outcome evaluate(const DestinationClass& d, const std::optional<policy::PeerIdentity>& peer, bool mtls) {
  Outcome out;
  out.reachable = true;
  out.mtls = mtls;
  if (!d.sidecar) {
    out.allowed = d.probes;
    out.basis = "no sidecar";
    return out;
  }
  policy::RequestAttributes attrs;
  attrs.http = d.http;
  attrs.peer = peer;
  attrs.source_ip = "127.0.0.1";
  attrs.remote_ip = attrs.source_ip;
  attrs.destination_ip = "127.0.0.1";
  attrs.destination_port = d.target_port;
  attrs.host = d.host;
  auto run = [&](Outcome& o) {
    for (const auto& probe : d.probes) {
      attrs.method = probe.method;
      attrs.path = probe.path;
      policy::AuthzDecision az = policy::evaluateAuthz(*d.authz, attrs);
      if (!az.allowed) continue;
      if (o.allowed.empty()) {
        o.policy = std::string(az.decided_by.policy);
        o.rule = az.decided_by.rule;
        o.basis = policy::authzBasisName(az.basis);
      }
      o.allowed.push_back(probe);
    }
  };
  run(out);
  if (!out.allowed.empty() || !d.http) return out;
  for (const auto& t : d.tokens) {
    attrs.auth = t.auth;
    Outcome with;
    with.reachable = true;
    with.mtls = mtls;
    run(with);
    if (with.open()) {
      with.needs_token = true;
      with.token = t.requirement;
      return with;
    }
  }
  return out;
}

// A source holding a mesh certificate for `identity` connects with mutual TLS; against DISABLE
// (the server would read the TLS hello as HTTP) it falls back to plaintext.
Outcome evaluateIdentity(const DestinationClass& d, const policy::PeerIdentity& identity) {
  if (!d.sidecar) return evaluate(d, std::nullopt, false);
  auto sc = policy::serverAcceptance(d.mode, policy::ClientTransport::kMeshMtls, identity);
  if (sc.acceptance == policy::ServerAcceptance::kAcceptedWithIdentity) return evaluate(d, sc.peer, sc.mtls);
  if (sc.acceptance == policy::ServerAcceptance::kTlsReadAsHttp) {
    auto plain = policy::serverAcceptance(d.mode, policy::ClientTransport::kPlaintext);
    if (plain.acceptance == policy::ServerAcceptance::kAcceptedWithoutIdentity) {
      return evaluate(d, std::nullopt, false);
    }
  }
  return Outcome{};
}

ReachEdge makeEdge(size_t source, size_t destination, const std::string& service, const model::ServicePort& sp,
                   uint32_t target_port, const Outcome& o) {
  ReachEdge e;
  e.source = source;
  e.destination = destination;
  e.service = service;
  e.port = sp.port;
  e.target_port = target_port;
  e.http = model::isHttp(sp.protocol);
  e.allowed = o.allowed;
  e.policy = o.policy;
  e.rule = o.rule;
  e.basis = o.basis;
  e.mtls = o.mtls;
  e.needs_token = o.needs_token;
  e.token = o.token;
  return e;
}

// Positions of the snapshot's namespaced resources, per namespace, in snapshot order.
struct NamespaceIndex {
  struct Positions {
    std::vector<size_t> authz, peer_authn, request_authn, services;
  };
  std::unordered_map<std::string_view, Positions> by_ns;

  explicit NamespaceIndex(const config::Snapshot& snap) {
    for (size_t i = 0; i < snap.authorization_policies.size(); ++i) {
      by_ns[snap.authorization_policies[i]->meta.namespace_].authz.push_back(i);
    }
    for (size_t i = 0; i < snap.peer_authentications.size(); ++i) {
      by_ns[snap.peer_authentications[i]->meta.namespace_].peer_authn.push_back(i);
    }
    for (size_t i = 0; i < snap.request_authentications.size(); ++i) {
      by_ns[snap.request_authentications[i]->meta.namespace_].request_authn.push_back(i);
    }
    for (size_t i = 0; i < snap.services.size(); ++i) {
      by_ns[snap.services[i]->meta.namespace_].services.push_back(i);
    }
  }
  const Positions& of(std::string_view ns) const {
    static const Positions kNone;
    auto it = by_ns.find(ns);
    return it == by_ns.end() ? kNone : it->second;
  }
};

// The resources of `all` at the positions of `a` and `b` (both ascending, or the same list), in
// snapshot order.
template <typename T>
std::vector<const T*> pick(const std::vector<const T*>& all, const std::vector<size_t>& a,
                           const std::vector<size_t>& b) {
  std::vector<size_t> merged;
  if (&a == &b) {
    merged = a;
  } else {
    merged.reserve(a.size() + b.size());
    std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(merged));
  }
  std::vector<const T*> out;
  out.reserve(merged.size());
  for (size_t i : merged) out.push_back(all[i]);
  return out;
}

// The per-namespace slice of the snapshot: the policies of the root namespace and of `ns`, and
// the Services the namespace's workloads belong to. The policy functions only ever look at
// those, so calling them on the slice gives the same answers at a fraction of the scan cost.
config::Snapshot sliceFor(const config::Snapshot& snap, const NamespaceIndex& index,
                          const std::string& root, const std::string& ns) {
  const auto& r = index.of(root);
  const auto& n = index.of(ns);
  config::Snapshot view;
  view.revision = snap.revision;
  view.organization = snap.organization;
  view.authorization_policies = pick(snap.authorization_policies, r.authz, n.authz);
  view.peer_authentications = pick(snap.peer_authentications, r.peer_authn, n.peer_authn);
  view.request_authentications =
      pick(snap.request_authentications, r.request_authn, n.request_authn);
  view.services = pick(snap.services, n.services, n.services);
  view.identity_providers = snap.identity_providers;
  return view;
}

}  // namespace

Result<ReachabilityGraph> buildReachability(std::shared_ptr<const config::Snapshot> snapshot,
                                            const ReachabilityOptions& options) {
  if (snapshot == nullptr) return invalidArgument("reachability: no configuration snapshot");
  for (const auto& probe : options.extra_probes) {
    auto normalized = policy::normalizePath(probe.path);
    if (!policy::checkMethod(probe.method).ok() || probe.path.empty() ||
        probe.path.front() != '/' || !normalized.ok() || normalized->path != probe.path) {
      return invalidArgument("reachability: extra probe \"" + probeText(probe) +
                             "\" needs a valid method and a normalized path starting with /");
    }
  }
  const config::Snapshot& snap = *snapshot;
  ReachabilityGraph g;
  g.snapshot = snapshot;
  g.workloads = snap.workloads;
  const std::string td = snap.trustDomain();
  const std::string root = snap.rootNamespace();
  const policy::AuthzContext ctx = policy::authzContextFor(snap);

  // Identities of the workloads that hold a mesh certificate.
  std::map<std::pair<std::string, std::string>, size_t> identity_index;
  std::unordered_map<std::string, std::vector<size_t>> identities_by_ns;
  g.identity_of.assign(g.workloads.size(), kNoIdentity);
  for (size_t i = 0; i < g.workloads.size(); ++i) {
    const model::Workload& w = *g.workloads[i];
    if (!w.sidecar) continue;
    auto key = std::make_pair(w.meta.namespace_, w.service_account);
    auto [it, added] = identity_index.emplace(key, g.identities.size());
    if (added) {
      SourceIdentity id;
      id.namespace_ = w.meta.namespace_;
      id.service_account = w.service_account;
      id.principal = policy::principalFor(td, w.meta.namespace_, w.service_account);
      identities_by_ns[id.namespace_].push_back(g.identities.size());
      g.identities.push_back(std::move(id));
    }
    g.identities[it->second].workloads.push_back(i);
    g.identity_of[i] = it->second;
  }
  std::vector<policy::PeerIdentity> peers;
  peers.reserve(g.identities.size());
  for (const auto& id : g.identities) peers.push_back(policy::peerIdentityFor(td, id.namespace_, id.service_account));

  std::unordered_map<std::string, const model::Service*> services;
  for (const auto* s : snap.services) services.emplace(s->meta.namespace_ + "/" + s->meta.name, s);

  const NamespaceIndex ns_index(snap);
  std::unordered_map<std::string, config::Snapshot> slices;
  auto sliceOf = [&](const std::string& ns) -> const config::Snapshot& {
    auto it = slices.find(ns);
    if (it == slices.end()) it = slices.emplace(ns, sliceFor(snap, ns_index, root, ns)).first;
    return it->second;
  };

  // Compiled policies and probe sets, shared by workloads with the same applicable policies.
  struct PolicySet {
    policy::CompiledAuthz authz;
    std::vector<Probe> http_probes;
    IdentityMentions mentions;
    std::vector<const model::AuthzRule*> token_rules;
  };
  std::map<std::vector<const model::AuthorizationPolicy*>, PolicySet> policy_sets;
  std::set<std::string> warnings;

  std::vector<std::vector<ReachEdge>> by_source(g.identities.size());
  std::vector<ReachEdge> network_edges;
  const policy::PeerIdentity stranger =
      policy::peerIdentityFor(td, "~meshsim-unnamed-namespace~", "~meshsim-unnamed-account~");

  for (size_t wi = 0; wi < g.workloads.size(); ++wi) {
    const model::Workload& w = *g.workloads[wi];
    if (w.service.empty() || w.replicas == 0) continue;
    routing::ServiceRef ref{w.meta.namespace_, w.service};
    if (const size_t slash = w.service.find('/'); slash != std::string::npos) {
      ref = {w.service.substr(0, slash), w.service.substr(slash + 1)};
    }
    auto sit = services.find(ref.key());
    if (sit == services.end() || !routing::workloadServes(w, ref)) continue;
    const model::Service& svc = *sit->second;
    const config::Snapshot* slice_ptr = &sliceOf(w.meta.namespace_);
    config::Snapshot cross_namespace;
    if (ref.namespace_ != w.meta.namespace_) {
      // The workload serves a Service of another namespace: the slice must know that Service.
      cross_namespace = *slice_ptr;
      cross_namespace.services.push_back(&svc);
      slice_ptr = &cross_namespace;
    }
    const config::Snapshot& slice = *slice_ptr;

    const auto applicable = policy::applicablePolicies(slice, w);
    auto pit = policy_sets.find(applicable);
    if (pit == policy_sets.end()) {
      PolicySet ps;
      auto compiled = policy::compileAuthz(applicable, ctx);
      if (!compiled.ok()) {
        return invalidArgument("reachability: the policies of workload " + w.meta.namespace_ + "/" + w.meta.name +
                               " do not compile: " + compiled.status().message());
      }
      ps.authz = std::move(*compiled);
      std::set<std::string> methods = {"GET", "POST"};
      std::set<std::string> paths = {"/"};
      for (const auto* p : applicable) {
        collectProbes(*p, methods, paths);
        collectMentions(*p, ps.mentions);
        if (p->action != model::AuthzAction::kAllow || p->dry_run) continue;
        for (const auto& rule : p->rules) ps.token_rules.push_back(&rule);
      }
      std::set<Probe> probes(options.extra_probes.begin(), options.extra_probes.end());
      for (const auto& m : methods) {
        for (const auto& p : paths) probes.insert({m, p});
      }
      ps.http_probes.assign(probes.begin(), probes.end());
      pit = policy_sets.emplace(applicable, std::move(ps)).first;
    }
    const PolicySet& ps = pit->second;
    for (const auto& warning : ps.authz.warnings()) warnings.insert(w.meta.namespace_ + "/" + w.meta.name + ": " + warning);

    std::vector<JwtIssuer> issuers;
    if (options.token_edges && !ps.token_rules.empty()) {
      for (const auto& r : policy::mergeJwtRules(policy::applicableRequestAuthentications(slice, w))) {
        issuers.push_back({r.rule.issuer, r.rule.audiences});
      }
    }
    std::vector<TokenCandidate> tokens;
    for (const auto* rule : ps.token_rules) {
      if (auto t = tokenFor(*rule, issuers)) tokens.push_back(std::move(*t));
    }

    // Identities the policies name are decided one by one; all others like `stranger`.
    std::vector<size_t> named;
    if (w.sidecar && !ps.mentions.wildcard) {
      std::set<size_t> chosen;
      for (const auto& ns : ps.mentions.namespaces) {
        auto it = identities_by_ns.find(ns);
        if (it != identities_by_ns.end()) chosen.insert(it->second.begin(), it->second.end());
      }
      for (const auto& acct : ps.mentions.accounts) {
        auto it = identity_index.find(acct);
        if (it != identity_index.end()) chosen.insert(it->second);
      }
      named.assign(chosen.begin(), chosen.end());
    }
    const bool everyone_alike = !w.sidecar;
    const bool one_by_one = w.sidecar && ps.mentions.wildcard;

    const std::string service_key = ref.key();
    const std::string fqdn = ref.fqdn();
    for (const auto& sp : svc.ports) {
      const uint32_t target = sp.target_port != 0 ? sp.target_port : sp.port;
      DestinationClass d;
      d.authz = &ps.authz;
      d.sidecar = w.sidecar;
      d.http = model::isHttp(sp.protocol);
      d.target_port = target;
      d.host = fqdn + ":" + std::to_string(sp.port);
      if (d.http) {
        d.probes = ps.http_probes;
        d.tokens = tokens;
      } else {
        d.probes = {Probe{}};
      }
      g.destinations.push_back({wi, service_key, sp.port, target, d.http, d.probes});
      policy::EffectivePeerAuthn pa;
      if (w.sidecar) {
        pa = policy::effectivePeerAuthn(slice, w, target);
        d.mode = pa.mode;
      }

      // Sources with a certificate.
      auto emit = [&](size_t id, const Outcome& o) {
        if (o.open() || o.needs_token) by_source[id].push_back(makeEdge(id, wi, service_key, sp, target, o));
      };
      if (everyone_alike || (!one_by_one && named.empty())) {
        const Outcome o = evaluateIdentity(d, stranger);
        if (o.open() || o.needs_token) {
          for (size_t id = 0; id < g.identities.size(); ++id) emit(id, o);
        }
      } else if (one_by_one) {
        for (size_t id = 0; id < g.identities.size(); ++id) emit(id, evaluateIdentity(d, peers[id]));
      } else {
        const Outcome rest = evaluateIdentity(d, stranger);
        if (rest.open() || rest.needs_token) {
          size_t next_named = 0;
          for (size_t id = 0; id < g.identities.size(); ++id) {
            if (next_named < named.size() && named[next_named] == id) {
              ++next_named;
              emit(id, evaluateIdentity(d, peers[id]));
            } else {
              emit(id, rest);
            }
          }
        } else {
          // Everyone the policies do not name is refused: only the named ones can have edges.
          for (size_t id : named) emit(id, evaluateIdentity(d, peers[id]));
        }
      }

      // Sources without a certificate.
      const bool plaintext = !w.sidecar || pa.mode == model::MtlsMode::kPermissive ||
                             pa.mode == model::MtlsMode::kDisable;
      if (!plaintext) continue;
      PlaintextExposure x;
      x.workload = wi;
      x.service = service_key;
      x.port = sp.port;
      x.target_port = target;
      x.http = d.http;
      x.sidecar = w.sidecar;
      x.mode = w.sidecar ? pa.mode : model::MtlsMode::kDisable;
      x.peer_authn_policy = pa.policy;
      Outcome o;
      if (!w.sidecar) {
        o = evaluate(d, std::nullopt, false);
      } else {
        auto sc = policy::serverAcceptance(pa.mode, policy::ClientTransport::kPlaintext);
        if (sc.acceptance == policy::ServerAcceptance::kAcceptedWithoutIdentity) o = evaluate(d, std::nullopt, false);
      }
      x.allowed = o.allowed;
      x.policy = o.policy;
      x.rule = o.rule;
      x.needs_token = o.needs_token;
      x.token = o.token;
      if (o.open() || o.needs_token) network_edges.push_back(makeEdge(kNetworkSource, wi, service_key, sp, target, o));
      g.exposures.push_back(std::move(x));
    }
  }

  size_t total = network_edges.size();
  for (const auto& v : by_source) total += v.size();
  g.edges.reserve(total);
  g.edge_begin.reserve(g.identities.size() + 1);
  for (auto& v : by_source) {
    g.edge_begin.push_back(g.edges.size());
    for (auto& e : v) g.edges.push_back(std::move(e));
  }
  g.edge_begin.push_back(g.edges.size());
  for (auto& e : network_edges) g.edges.push_back(std::move(e));
  g.warnings.assign(warnings.begin(), warnings.end());
  return g;
}

}  // namespace meshsim::analysis
