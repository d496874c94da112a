#include "meshsim/verify.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include "meshsim/dataplane/plan.h"

namespace meshsim {

using analysis::kNetworkSource;
using analysis::kNoIdentity;
using analysis::Probe;
using analysis::ReachEdge;

analysis::ReachabilityOptions reachabilityOptionsFor(const VerifyOptions& options) {
  analysis::ReachabilityOptions out;
  out.extra_probes = options.extra_probes;
  return out;
}

namespace {

enum class Attacker { kStolen, kOutside, kForged };

struct AttackerPlan {
  Attacker kind = Attacker::kOutside;
  std::string label;
  size_t identity = kNoIdentity;  // kStolen: index into graph.identities
  size_t workload = 0;            // kStolen: whose certificate
};

// One workload port of the running mesh.
struct Target {
  const dataplane::WorkloadPlan* plan = nullptr;
  const dataplane::InboundPort* port = nullptr;
  std::optional<size_t> workload;  // index into graph.workloads
  const analysis::DestinationPort* evaluated = nullptr;
  bool terminates_tls = true;  // a sidecar in STRICT or PERMISSIVE mode
};

using EdgeKey = std::tuple<size_t, size_t, uint32_t>;  // source slot, workload, Service port

// The edges of the graph by (source, destination, port): usable ones and token-gated ones.
struct EdgeIndex {
  std::map<EdgeKey, const ReachEdge*> plain;
  std::map<EdgeKey, const ReachEdge*> gated;
};

EdgeIndex indexEdges(const analysis::ReachabilityGraph& g) {
  EdgeIndex out;
  for (const auto& e : g.edges) {
    const size_t slot = e.source == kNetworkSource ? g.identities.size() : e.source;
    (e.needs_token ? out.gated : out.plain).emplace(EdgeKey{slot, e.destination, e.port}, &e);
  }
  return out;
}

bool allows(const ReachEdge* e, const Probe& probe) {
  return e != nullptr && std::binary_search(e->allowed.begin(), e->allowed.end(), probe);
}

std::string probeList(const std::vector<Probe>& probes) {
  std::string out;
  for (const auto& p : probes) out += (out.empty() ? "" : ", ") + analysis::probeText(p);
  return out;
}

std::string allowedBasis(const ReachEdge& e) {
  std::string out = e.policy.empty() ? e.basis : e.policy + " rule " + std::to_string(e.rule);
  return (e.mtls ? "mTLS, " : "plaintext, ") + out;
}

// The prediction for one probe of `slot` (an identity, or identities.size() for no
// certificate) sent over mutual TLS or plaintext, and why.
std::pair<bool, std::string> predict(const EdgeIndex& index, size_t slot, const Target& t,
                                     const Probe& probe, bool plaintext, const std::string& who) {
  if (!t.workload) return {false, "the reachability graph does not know this workload"};
  const EdgeKey key{slot, *t.workload, t.port->service_port};
  const auto plain = index.plain.find(key);
  const ReachEdge* edge = plain == index.plain.end() ? nullptr : plain->second;
  if (allows(edge, probe)) return {true, allowedBasis(*edge)};
  const auto gated = index.gated.find(key);
  if (gated != index.gated.end() && allows(gated->second, probe)) {
    return {false, "needs an end-user token: " + gated->second->token.text()};
  }
  if (edge != nullptr) return {false, "the edge allows only " + probeList(edge->allowed)};
  if (plaintext && t.plan->sidecar && t.port->mode == model::MtlsMode::kStrict) {
    return {false, "STRICT: a plaintext connection is reset"};
  }
  if (plaintext)
    return {false, "no edge: the destination's policies refuse a request without a peer identity"};
  return {false, "no edge: the destination's policies refuse " + who};
}

bool observedAllowed(const dataplane::ProbeResult& r, bool http) {
  return http ? !r.served_by.empty() : r.status == 200;
}

}  // namespace

Result<BlastVerification> verifyBlastRadius(MeshRuntime& runtime,
                                            const analysis::ReachabilityGraph& graph,
                                            const analysis::BlastRadius& radius,
                                            const VerifyOptions& options) {
  if (!runtime.running()) {
    return Status(StatusCode::kFailedPrecondition, "verify: the mesh is not running");
  }
  const auto plan = runtime.plan();
  if (plan == nullptr || graph.snapshot == nullptr || graph.snapshot != plan->config) {
    return Status(StatusCode::kFailedPrecondition,
                  "verify: the reachability graph was not built from the configuration the mesh "
                  "runs (build it from MeshRuntime::plan()->config)");
  }
  const size_t n = graph.workloads.size();
  if (radius.compromised >= n) {
    return invalidArgument("verify: the compromised workload index " +
                           std::to_string(radius.compromised) + " is out of range");
  }
  for (const auto& r : radius.reached) {
    bool ok = r.workload < n;
    for (const auto& step : r.path) {
      ok = ok && step.edge < graph.edges.size() && step.to < n && step.from < n;
    }
    if (!ok) return invalidArgument("verify: the blast radius does not belong to this graph");
  }
  for (const auto& d : graph.destinations) {
    if (!d.http || d.workload >= n) continue;
    for (const auto& p : options.extra_probes) {
      if (!std::binary_search(d.probes.begin(), d.probes.end(), p)) {
        return invalidArgument("verify: the graph did not evaluate " + analysis::probeText(p) +
                               " on " + graph.workloadKey(d.workload) + ":" +
                               std::to_string(d.port) +
                               " (build it with reachabilityOptionsFor())");
      }
    }
  }

  // The running mesh's workload ports, and what the graph knows about each.
  std::unordered_map<const model::Workload*, size_t> graph_index;
  for (size_t i = 0; i < n; ++i) graph_index.emplace(graph.workloads[i], i);
  std::map<std::pair<size_t, uint32_t>, const analysis::DestinationPort*> evaluated;
  for (const auto& d : graph.destinations) {
    evaluated.emplace(std::make_pair(d.workload, d.port), &d);
  }
  std::vector<Target> targets;
  for (const auto& wp : plan->workloads) {
    if (wp.service == nullptr || wp.replicas.empty()) continue;
    for (const auto& ip : wp.ports) {
      Target t;
      t.plan = &wp;
      t.port = &ip;
      if (auto it = graph_index.find(wp.workload); it != graph_index.end()) {
        t.workload = it->second;
        auto ev = evaluated.find({it->second, ip.service_port});
        if (ev != evaluated.end()) t.evaluated = ev->second;
      }
      t.terminates_tls = wp.sidecar && ip.mode != model::MtlsMode::kDisable;
      targets.push_back(t);
    }
  }
  auto shapesOf = [&](const Target& t) {
    if (!model::isHttp(t.port->protocol)) return std::vector<Probe>{Probe{}};
    std::set<Probe> shapes(options.extra_probes.begin(), options.extra_probes.end());
    if (t.evaluated != nullptr) {
      shapes.insert(t.evaluated->probes.begin(), t.evaluated->probes.end());
    }
    return std::vector<Probe>(shapes.begin(), shapes.end());
  };

  // The attackers: one per distinct identity of the compromised and reached workloads.
  std::vector<size_t> members = {radius.compromised};
  if (options.transitive) {
    for (const auto& r : radius.reached) members.push_back(r.workload);
  }
  std::vector<AttackerPlan> attackers;
  std::set<size_t> seen_identities;
  for (size_t m : members) {
    const size_t id = graph.identity_of[m];
    if (id == kNoIdentity || !seen_identities.insert(id).second) continue;
    attackers.push_back({Attacker::kStolen, "stolen:" + graph.workloadKey(m), id, m});
  }
  if (options.outsider) attackers.push_back({Attacker::kOutside, "outside", kNoIdentity, 0});
  std::string forged_id;
  if (options.forged) {
    const auto* wp = plan->find(graph.workloads[radius.compromised]->meta.namespace_,
                                graph.workloads[radius.compromised]->meta.name);
    forged_id = wp != nullptr ? wp->spiffe_id : "";
    if (forged_id.empty()) {
      const auto& w = *graph.workloads[radius.compromised];
      forged_id = "spiffe://" + graph.snapshot->trustDomain() + "/ns/" + w.meta.namespace_ +
                  "/sa/" + w.service_account;
    }
    attackers.push_back({Attacker::kForged, "forged:" + forged_id, kNoIdentity, 0});
  }

  const EdgeIndex index = indexEdges(graph);
  const size_t network_slot = graph.identities.size();
  BlastVerification out;
  std::map<size_t, std::set<size_t>> stolen_success;  // identity -> workloads answered
  std::set<size_t> outsider_success;
  for (const auto& a : attackers) {
    out.attackers.push_back(a.label);
    for (const auto& t : targets) {
      const bool http = model::isHttp(t.port->protocol);
      for (const auto& shape : shapesOf(t)) {
        analysis::CheckRequest req;
        req.to_namespace = t.plan->service->meta.namespace_;
        req.to_service = t.plan->service->meta.name;
        req.port = t.port->service_port;
        if (http) {
          req.method = shape.method;
          req.path = shape.path;
        }
        VerifiedProbe vp;
        vp.from = a.label;
        vp.to = t.plan->key + ":" + std::to_string(t.port->service_port);
        vp.service = req.to_namespace + "/" + req.to_service;
        vp.request = analysis::probeText(shape);
        switch (a.kind) {
          case Attacker::kStolen: {
            const auto& w = *graph.workloads[a.workload];
            const std::string who = graph.identities[a.identity].principal;
            if (t.terminates_tls) {
              req.from = {analysis::CheckSource::Kind::kStolen, w.meta.namespace_, w.meta.name, ""};
              vp.transport = "mTLS";
            } else {
              req.from.kind = analysis::CheckSource::Kind::kOutside;
              vp.transport = "plaintext";
            }
            std::tie(vp.predicted_allowed, vp.basis) =
                predict(index, a.identity, t, shape, !t.terminates_tls, who);
            break;
          }
          case Attacker::kOutside:
            req.from.kind = analysis::CheckSource::Kind::kOutside;
            vp.transport = "plaintext";
            std::tie(vp.predicted_allowed, vp.basis) =
                predict(index, network_slot, t, shape, true, "");
            break;
          case Attacker::kForged:
            req.from.kind = analysis::CheckSource::Kind::kForged;
            req.from.spiffe_id = forged_id;
            vp.transport = "forged TLS";
            vp.predicted_allowed = false;
            vp.basis =
                t.terminates_tls
                    ? "forged certificate: not chained to the mesh root, the TLS handshake fails"
                    : "forged certificate: the server does not speak TLS, the handshake fails";
            break;
        }
        auto res = runtime.probeEndpoint(req, t.plan->key);
        if (!res.ok()) {
          return Status(res.status().code(), "verify: " + vp.from + " -> " + vp.to + " " +
                                                 vp.request + ": " + res.status().message());
        }
        vp.observed_allowed = observedAllowed(*res, http);
        vp.observed_status = res->status;
        vp.observed_error = res->error;
        vp.served_by = res->served_by;
        vp.agree = vp.predicted_allowed == vp.observed_allowed;
        if (!vp.agree) ++out.disagreements;
        if (vp.observed_allowed && t.workload) {
          if (a.kind == Attacker::kStolen) stolen_success[a.identity].insert(*t.workload);
          if (a.kind == Attacker::kOutside) outsider_success.insert(*t.workload);
        }
        out.probes.push_back(std::move(vp));
      }
    }
  }

  // Reach: the radius' own rules, applied to what was observed.
  std::optional<uint32_t> limit;
  if (radius.truncated) {
    uint32_t deepest = 0;
    for (const auto& r : radius.reached) deepest = std::max(deepest, r.hops);
    limit = deepest;
  }
  if (!options.transitive) limit = std::min<uint32_t>(limit.value_or(1), 1);
  std::map<size_t, uint32_t> dist = {{radius.compromised, 0}};
  std::vector<size_t> queue = {radius.compromised};
  for (size_t head = 0; head < queue.size(); ++head) {
    const size_t u = queue[head];
    if (limit && dist[u] >= *limit) continue;
    auto visit = [&](const std::set<size_t>& next) {
      for (size_t v : next) {
        if (dist.emplace(v, dist[u] + 1).second) queue.push_back(v);
      }
    };
    const size_t id = graph.identity_of[u];
    if (id != kNoIdentity) {
      if (auto it = stolen_success.find(id); it != stolen_success.end()) visit(it->second);
    }
    if (u == radius.compromised) visit(outsider_success);
  }
  for (const auto& [w, d] : dist) out.observed_reached.push_back(graph.workloadKey(w));
  out.predicted_reached.push_back(graph.workloadKey(radius.compromised));
  for (const auto& r : radius.reached) {
    if (options.transitive || r.hops <= 1)
      out.predicted_reached.push_back(graph.workloadKey(r.workload));
  }
  std::sort(out.observed_reached.begin(), out.observed_reached.end());
  std::sort(out.predicted_reached.begin(), out.predicted_reached.end());
  return out;
}

}  // namespace meshsim
