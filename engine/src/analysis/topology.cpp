#include "meshsim/analysis/topology.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <tuple>
#include <utility>

#include "meshsim/analysis/check.h"
#include "meshsim/mgmt/hierarchy.h"
#include "meshsim/policy/decision.h"
#include "meshsim/policy/jwt.h"
#include "meshsim/routing/destination.h"
#include "meshsim/routing/route.h"

namespace meshsim::analysis {

namespace {

constexpr const char* kOutsideId = "outside";

std::string workloadId(const model::Workload& w) { return w.meta.namespace_ + "/" + w.meta.name; }

// The Service a call names: "name" (the caller's namespace) or "ns/name".
routing::ServiceRef calledService(const std::string& caller_ns, const std::string& target) {
  auto slash = target.find('/');
  if (slash == std::string::npos) return {caller_ns, target};
  return {target.substr(0, slash), target.substr(slash + 1)};
}

// The Service a workload serves, as a reference.
routing::ServiceRef servedService(const model::Workload& w) {
  return calledService(w.meta.namespace_, w.service);
}

// Who makes a call: a workload (through its sidecar when it has one) or the outside client.
struct Caller {
  const model::Workload* workload = nullptr;  // null = outside
  std::string id;
};

// What one call (caller → service) is.
struct Call {
  routing::ServiceRef service;
  std::string method;
  std::string path;
  std::optional<uint32_t> port;
  int32_t index = -1;
};

class Builder {
 public:
  explicit Builder(std::shared_ptr<const config::Snapshot> snapshot)
      : snapshot_(std::move(snapshot)), routes_(routing::compileRoutes(snapshot_)) {}

  Status addCallEdges(const Caller& caller, const Call& call) {
    const config::Snapshot& snap = *snapshot_;
    // The baseline decision validates the call (service, port) exactly as `meshsim check` does.
    CheckRequest base_request = requestFor(caller, call, 0);
    auto base = check(snapshot_, base_request, keys_);
    if (!base.ok()) return base.status();
    const model::Service* svc = snap.findService(call.service.namespace_, call.service.name);
    uint32_t port = 0;
    for (const auto& p : svc->ports) {
      if (call.port ? p.port == *call.port : port == 0) port = p.port;
    }

    const bool routed = caller.workload != nullptr && caller.workload->sidecar;
    if (!routed) {
      // No sidecar on the client: no VirtualService applies, it connects to any endpoint.
      routing::EndpointSet eps = routing::endpointsOf(snap, call.service);
      if (eps.workloads.empty()) return addServiceEdge(caller, call, port, 1.0, *base);
      for (const auto* w : eps.workloads) {
        double share = static_cast<double>(w->replicas) / eps.replicas;
        auto d = decideFor(*w, requestFor(caller, call, 0), eps.workloads.front() == w);
        if (!d.ok()) return d.status();
        merge(caller, call, port, *w, share, *d, "");
      }
      return okStatus();
    }

    routing::RouteRequest rr;
    const std::string authority = call.service.fqdn() + ":" + std::to_string(port);
    rr.source_namespace = caller.workload->meta.namespace_;
    rr.source_labels = &caller.workload->labels;
    rr.authority = authority;
    rr.port = port;
    rr.method = call.method;
    rr.path = call.path;
    routing::RouteDice dice;
    dice.abort = 0.999999;  // as in check(): only faults at 100% fire
    dice.delay = 0.999999;
    routing::RouteResult first = routing::selectRoute(routes_, rr, dice);
    std::vector<policy::SubsetShare> shares;
    if (first.info != nullptr) shares = first.info->shares;
    if (shares.empty()) shares.push_back({"", "", 1.0});
    double cumulative = 0;
    for (const auto& s : shares) {
      if (s.share <= 0) continue;
      // The middle of this destination's interval of the weighted pick selects it.
      dice.pick = cumulative + s.share / 2;
      cumulative += s.share;
      routing::RouteResult r = routing::selectRoute(routes_, rr, dice);
      std::string vs = r.info != nullptr ? r.info->virtual_service : "";
      if (r.outcome != routing::RouteOutcome::kForward || r.endpoints == nullptr ||
          r.endpoints->workloads.empty() || r.endpoints->replicas == 0) {
        auto d = check(snapshot_, requestFor(caller, call, dice.pick), keys_);
        if (!d.ok()) return d.status();
        Status st = addServiceEdge(caller, call, port, s.share, *d);
        if (!st.ok()) return st;
        continue;
      }
      const routing::EndpointSet& eps = *r.endpoints;
      for (const auto* w : eps.workloads) {
        double share = s.share * static_cast<double>(w->replicas) / eps.replicas;
        auto d = decideFor(*w, requestFor(caller, call, dice.pick), eps.workloads.front() == w);
        if (!d.ok()) return d.status();
        merge(caller, call, port, *w, share, *d, std::string(r.subset), vs);
      }
    }
    return okStatus();
  }

  std::vector<TopologyEdge> takeEdges() {
    std::vector<TopologyEdge> out;
    out.reserve(edges_.size());
    for (auto& [key, e] : edges_) out.push_back(std::move(e));
    return out;
  }

  std::vector<TopologyNode> takeServiceNodes() {
    std::vector<TopologyNode> out;
    for (auto& [id, n] : service_nodes_) out.push_back(std::move(n));
    return out;
  }

 private:
  using EdgeKey = std::tuple<std::string, std::string, int32_t, std::string>;

  CheckRequest requestFor(const Caller& caller, const Call& call, double pick) const {
    CheckRequest req;
    if (caller.workload != nullptr) {
      req.from.kind = CheckSource::Kind::kWorkload;
      req.from.namespace_ = caller.workload->meta.namespace_;
      req.from.name = caller.workload->meta.name;
    } else {
      req.from.kind = CheckSource::Kind::kOutside;
    }
    req.to_namespace = call.service.namespace_;
    req.to_service = call.service.name;
    req.port = call.port;
    req.method = call.method;
    req.path = call.path;
    req.pick = pick;
    return req;
  }

  // check() answers for the first endpoint of the chosen cluster; to decide the request as `w`
  // would see it, the other workloads of w's Service are taken out of the endpoint set (replicas
  // 0) in a variant of the snapshot, so the same routing reaches `w` and only `w`.
  Result<policy::Decision> decideFor(const model::Workload& w, const CheckRequest& req,
                                     bool is_first) {
    if (is_first) return check(snapshot_, req, keys_);
    const std::string id = workloadId(w);
    auto it = variants_.find(id);
    if (it == variants_.end()) {
      const routing::ServiceRef served = servedService(w);
      std::vector<model::Resource> resources = snapshot_->resources;
      for (auto& r : resources) {
        auto* other = std::get_if<model::Workload>(&r);
        if (other == nullptr || workloadId(*other) == id) continue;
        if (routing::workloadServes(*other, served)) other->replicas = 0;
      }
      it = variants_.emplace(id, config::makeSnapshot(std::move(resources), snapshot_->revision))
               .first;
    }
    return check(it->second, req, keys_);
  }

  static void fillDecision(TopologyEdge& e, const policy::Decision& d) {
    e.allowed = d.allowed();
    e.mtls = d.mtls;
    e.status = d.status;
    e.stage = policy::stageName(d.stage);
    e.policy = d.policy;
    e.rule = d.rule;
    e.reason = d.reason;
    e.response_flags = d.response_flags;
  }

  void merge(const Caller& caller, const Call& call, uint32_t port, const model::Workload& w,
             double share, const policy::Decision& d, const std::string& subset,
             const std::string& vs = "") {
    const std::string to = workloadId(w);
    EdgeKey key{caller.id, to, call.index, call.service.key()};
    auto it = edges_.find(key);
    if (it == edges_.end()) {
      TopologyEdge e;
      e.from = caller.id;
      e.to = to;
      e.service = call.service.key();
      e.method = call.method;
      e.path = call.path;
      e.port = port;
      e.call_index = call.index;
      e.share = share;
      e.virtual_service = vs;
      e.subset = subset;
      fillDecision(e, d);
      edges_.emplace(key, std::move(e));
      return;
    }
    TopologyEdge& e = it->second;
    e.share += share;
    if (!subset.empty() && ("," + e.subset + ",").find("," + subset + ",") == std::string::npos) {
      e.subset += e.subset.empty() ? subset : "," + subset;
    }
    if (e.virtual_service.empty()) e.virtual_service = vs;
    // The first refusal among the routes to this workload is the one to show.
    if (e.allowed && !d.allowed()) fillDecision(e, d);
  }

  Status addServiceEdge(const Caller& caller, const Call& call, uint32_t port, double share,
                        const policy::Decision& d) {
    const std::string id = "service:" + call.service.key();
    if (service_nodes_.count(id) == 0) {
      TopologyNode n;
      n.kind = TopologyNode::Kind::kService;
      n.id = id;
      n.name = call.service.name;
      n.namespace_ = call.service.namespace_;
      service_nodes_.emplace(id, std::move(n));
    }
    EdgeKey key{caller.id, id, call.index, call.service.key()};
    auto it = edges_.find(key);
    if (it != edges_.end()) {
      it->second.share += share;
      if (it->second.allowed && !d.allowed()) fillDecision(it->second, d);
      return okStatus();
    }
    TopologyEdge e;
    e.from = caller.id;
    e.to = id;
    e.service = call.service.key();
    e.method = call.method;
    e.path = call.path;
    e.port = port;
    e.call_index = call.index;
    e.share = share;
    e.virtual_service = d.route.virtual_service;
    fillDecision(e, d);
    edges_.emplace(key, std::move(e));
    return okStatus();
  }

  std::shared_ptr<const config::Snapshot> snapshot_;
  routing::CompiledRoutes routes_;
  // No end-user tokens are sent, so no key is ever used to sign; check() still needs a registry.
  policy::IdentityProviderKeys keys_;
  std::map<std::string, std::shared_ptr<const config::Snapshot>> variants_;
  std::map<EdgeKey, TopologyEdge> edges_;
  std::map<std::string, TopologyNode> service_nodes_;
};

// ---------------------------------------------------------------- groups

std::string clusterGroupId(const std::string& cluster) { return "cluster/" + cluster; }

// Adds the chain of boxes for a workload's (cluster, namespace) and returns the namespace box.
std::string placeGroups(const config::Snapshot& snap, const std::string& cluster,
                        const std::string& ns, std::map<std::string, TopologyGroup>& groups) {
  auto add = [&](TopologyGroup::Kind kind, const std::string& id, const std::string& name,
                 const std::string& parent) {
    if (groups.count(id) == 0) groups.emplace(id, TopologyGroup{kind, id, name, parent});
    return id;
  };
  std::string parent = add(TopologyGroup::Kind::kCluster, clusterGroupId(cluster), cluster, "");
  mgmt::Placement p = mgmt::placeNamespace(snap, cluster, ns);
  if (p.workspace != nullptr) {
    const std::string& tenant = p.workspace->meta.tenant;
    parent = add(TopologyGroup::Kind::kTenant, parent + "/tenant/" + tenant, tenant, parent);
    parent = add(TopologyGroup::Kind::kWorkspace, parent + "/workspace/" + p.workspace->meta.name,
                 p.workspace->meta.name, parent);
  }
  return add(TopologyGroup::Kind::kNamespace, parent + "/ns/" + ns, ns, parent);
}

// ---------------------------------------------------------------- DOT

// A DOT double-quoted string. Backslashes are doubled (Graphviz reads "\\" as one backslash and
// would otherwise expand \N, \G, \L ...), quotes escaped, line breaks become \n and other control
// characters spaces.
std::string dotQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Text inside an HTML-like label.
std::string htmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case ']': out += "&#93;"; break;
      case '[': out += "&#91;"; break;
      default:
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    }
  }
  return out;
}

std::string formatNumber(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

std::string percent(double share) { return formatNumber(share * 100, 1) + "%"; }

std::string statusText(int status) {
  return status == policy::kStatusReset ? "reset" : std::to_string(status);
}

struct Style {
  const char* fill;
  const char* border;
  const char* prefix;
};

Style groupStyle(TopologyGroup::Kind kind) {
  switch (kind) {
    case TopologyGroup::Kind::kCluster: return {"#eaf0f8", "#4a6fa5", "cluster"};
    case TopologyGroup::Kind::kTenant: return {"#edf6ea", "#5b8f4e", "tenant"};
    case TopologyGroup::Kind::kWorkspace: return {"#fdf5e2", "#b8892b", "workspace"};
    case TopologyGroup::Kind::kNamespace: return {"#ffffff", "#8a8a8a", "ns"};
  }
  return {"#ffffff", "#000000", ""};
}

std::string nodeLabel(const TopologyNode& n) {
  std::string title = "<b>" + htmlEscape(n.name) + "</b>";
  std::string detail;
  switch (n.kind) {
    case TopologyNode::Kind::kOutside:
      return "<<table border=\"0\" cellborder=\"0\" cellspacing=\"0\"><tr><td>" + title +
             "</td></tr><tr><td><font point-size=\"9\" color=\"#555555\">no sidecar, no "
             "certificate</font></td></tr></table>>";
    case TopologyNode::Kind::kService:
      detail = "service " + n.namespace_ + "/" + n.name + ": no endpoint";
      break;
    case TopologyNode::Kind::kWorkload:
      detail = (n.version.empty() ? std::string("no version") : n.version) + " · " +
               std::to_string(n.replicas) + (n.replicas == 1 ? " replica" : " replicas") + " · " +
               (n.sidecar ? "sidecar" : "no sidecar");
      break;
  }
  return "<<table border=\"0\" cellborder=\"0\" cellspacing=\"0\"><tr><td>" + title +
         "</td></tr><tr><td><font point-size=\"9\" color=\"#555555\">" + htmlEscape(detail) +
         "</font></td></tr></table>>";
}

std::string edgeLabel(const TopologyEdge& e) {
  std::string label;
  if (!e.allowed) {
    label = "✗ " + statusText(e.status);
    if (!e.policy.empty()) label += " " + e.policy;
    label += "\n";
  } else if (e.mtls) {
    label = "\U0001F512 ";
  }
  label += percent(e.share);
  if (e.traffic) {
    label += " · " + formatNumber(e.traffic->rps, 1) + " rps";
    if (e.traffic->p50_ms > 0) label += "\np50 " + formatNumber(e.traffic->p50_ms, 1) + " ms";
    if (e.traffic->errors > 0) label += " · " + std::to_string(e.traffic->errors) + " err";
  }
  return label;
}

std::string edgeTooltip(const TopologyEdge& e) {
  std::string t = e.method + " " + e.service + e.path + " (port " + std::to_string(e.port) + ")";
  if (!e.virtual_service.empty()) t += " via VirtualService " + e.virtual_service;
  if (!e.subset.empty()) t += " subset " + e.subset;
  t += ": " + percent(e.share) + (e.mtls ? ", mutual TLS" : ", plaintext");
  if (e.allowed) return t + ", allowed";
  t += "; refused " + statusText(e.status) + " at " + e.stage;
  if (!e.policy.empty()) {
    t += " by " + e.policy;
    if (e.rule >= 0) t += " rule " + std::to_string(e.rule);
  }
  if (!e.response_flags.empty()) t += " [" + e.response_flags + "]";
  if (!e.reason.empty()) t += ": " + e.reason;
  return t;
}

void emitGroup(std::string& out, const TopologyGroup& g, int depth,
               const std::map<std::string, std::vector<const TopologyGroup*>>& children,
               const std::map<std::string, std::vector<std::string>>& members, int& counter) {
  const std::string indent(static_cast<size_t>(depth) * 2, ' ');
  const Style st = groupStyle(g.kind);
  out += indent + "subgraph cluster_" + std::to_string(counter++) + " {\n";
  out += indent + "  label=" + dotQuote(std::string(st.prefix) + " " + g.name) + ";\n";
  out += indent + "  id=" + dotQuote("group:" + g.id) + ";\n";
  out += indent + "  style=\"rounded,filled\"; fillcolor=\"" + st.fill + "\"; color=\"" +
         st.border + "\"; fontcolor=\"" + st.border + "\";\n";
  auto m = members.find(g.id);
  if (m != members.end()) {
    for (const auto& name : m->second) out += indent + "  " + name + ";\n";
  }
  auto c = children.find(g.id);
  if (c != children.end()) {
    for (const auto* child : c->second) emitGroup(out, *child, depth + 1, children, members, counter);
  }
  out += indent + "}\n";
}

nlohmann::json trafficJson(const std::optional<EdgeTraffic>& t) {
  if (!t) return nullptr;
  return {{"rps", t->rps}, {"requests", t->requests}, {"errors", t->errors}, {"p50Ms", t->p50_ms}};
}

}  // namespace

const char* topologyGroupKindName(TopologyGroup::Kind kind) {
  switch (kind) {
    case TopologyGroup::Kind::kCluster: return "cluster";
    case TopologyGroup::Kind::kTenant: return "tenant";
    case TopologyGroup::Kind::kWorkspace: return "workspace";
    case TopologyGroup::Kind::kNamespace: return "namespace";
  }
  return "";
}

const char* topologyNodeKindName(TopologyNode::Kind kind) {
  switch (kind) {
    case TopologyNode::Kind::kWorkload: return "workload";
    case TopologyNode::Kind::kOutside: return "outside";
    case TopologyNode::Kind::kService: return "service";
  }
  return "";
}

std::string edgeKey(const std::string& from, const std::string& to) { return from + " -> " + to; }

Result<Topology> buildTopology(std::shared_ptr<const config::Snapshot> snapshot,
                               const TopologyOptions& options) {
  if (snapshot == nullptr) return invalidArgument("topology: no configuration snapshot");
  const config::Snapshot& snap = *snapshot;
  Topology topo;
  topo.organization = snap.organization != nullptr ? snap.organization->meta.name : "";

  // --- boxes and workload nodes
  std::map<std::string, TopologyGroup> groups;
  std::map<std::string, TopologyNode> nodes;
  for (const auto* w : snap.workloads) {
    TopologyNode n;
    n.kind = TopologyNode::Kind::kWorkload;
    n.id = workloadId(*w);
    n.name = w->meta.name;
    n.namespace_ = w->meta.namespace_;
    n.cluster = w->cluster;
    n.service = w->service;
    n.version = w->version();
    n.service_account = w->service_account;
    n.replicas = w->replicas;
    n.sidecar = w->sidecar;
    n.group = placeGroups(snap, w->cluster, w->meta.namespace_, groups);
    nodes.emplace(n.id, std::move(n));
  }

  // --- edges: every call of every Service, from every workload that serves it
  Builder builder(snapshot);
  std::set<std::string> called;
  for (const auto* svc : snap.services) {
    const routing::ServiceRef self{svc->meta.namespace_, svc->meta.name};
    for (size_t i = 0; i < svc->behaviour.calls.size(); ++i) {
      const model::UpstreamCall& c = svc->behaviour.calls[i];
      Call call{calledService(svc->meta.namespace_, c.service), c.method, c.path, c.port,
                static_cast<int32_t>(i)};
      called.insert(call.service.key());
      for (const auto* w : snap.workloads) {
        if (w->replicas == 0 || !routing::workloadServes(*w, self)) continue;
        Status st = builder.addCallEdges(Caller{w, workloadId(*w)}, call);
        if (!st.ok()) {
          return invalidArgument("Service " + self.key() + " spec.behaviour.calls[" +
                                     std::to_string(i) + "] from " + workloadId(*w) + ": " +
                                     st.message(),
                                 svc->meta.source);
        }
      }
    }
  }

  // --- the outside client
  if (options.include_outside) {
    std::vector<routing::ServiceRef> entries;
    if (options.entry_services.empty()) {
      for (const auto* svc : snap.services) {
        routing::ServiceRef ref{svc->meta.namespace_, svc->meta.name};
        if (called.count(ref.key()) == 0 && !routing::endpointsOf(snap, ref).workloads.empty()) {
          entries.push_back(ref);
        }
      }
    } else {
      for (const auto& e : options.entry_services) {
        auto slash = e.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == e.size()) {
          return invalidArgument("topology: entry service \"" + e + "\" is not NS/SERVICE");
        }
        entries.push_back({e.substr(0, slash), e.substr(slash + 1)});
      }
    }
    TopologyNode outside;
    outside.kind = TopologyNode::Kind::kOutside;
    outside.id = kOutsideId;
    outside.name = kOutsideId;
    nodes.emplace(outside.id, std::move(outside));
    for (const auto& ref : entries) {
      Status st = builder.addCallEdges(Caller{nullptr, kOutsideId}, Call{ref, "GET", "/", {}, -1});
      if (!st.ok()) return invalidArgument("topology: outside → " + ref.key() + ": " + st.message());
    }
  }

  for (auto& n : builder.takeServiceNodes()) nodes.emplace(n.id, std::move(n));
  for (auto& [id, g] : groups) topo.groups.push_back(std::move(g));
  for (auto& [id, n] : nodes) topo.nodes.push_back(std::move(n));
  topo.edges = builder.takeEdges();  // sorted by (from, to, call index, service)
  if (options.overlay) applyOverlay(topo, *options.overlay);
  return topo;
}

void applyOverlay(Topology& topology, const TopologyOverlay& overlay) {
  std::map<std::string, TopologyEdge*> first;
  for (auto& e : topology.edges) {
    e.traffic.reset();
    first.emplace(edgeKey(e.from, e.to), &e);
  }
  for (const auto& [key, traffic] : overlay.edges) {
    auto it = first.find(key);
    if (it == first.end()) {
      topology.notes.push_back(key + ": not an edge of the topology");
      continue;
    }
    it->second->traffic = traffic;
  }
}

std::string toDot(const Topology& topology) {
  std::map<std::string, std::string> dot_name;  // node id → n<index>
  for (size_t i = 0; i < topology.nodes.size(); ++i) {
    dot_name[topology.nodes[i].id] = "n" + std::to_string(i);
  }
  std::map<std::string, std::vector<const TopologyGroup*>> children;
  std::set<std::string> group_ids;
  for (const auto& g : topology.groups) group_ids.insert(g.id);
  std::vector<const TopologyGroup*> roots;
  for (const auto& g : topology.groups) {
    if (g.parent.empty() || group_ids.count(g.parent) == 0) {
      roots.push_back(&g);
    } else {
      children[g.parent].push_back(&g);
    }
  }
  std::map<std::string, std::vector<std::string>> members;
  std::vector<std::string> top_level;
  for (const auto& n : topology.nodes) {
    if (!n.group.empty() && group_ids.count(n.group) != 0) {
      members[n.group].push_back(dot_name[n.id]);
    } else {
      top_level.push_back(dot_name[n.id]);
    }
  }

  std::string out = "digraph mesh {\n";
  out +=
      "  graph [rankdir=LR, newrank=true, compound=true, nodesep=0.35, ranksep=1.1, "
      "fontname=\"Helvetica\", fontsize=12, labelloc=t, labeljust=l";
  if (!topology.organization.empty()) {
    out += ", label=" + dotQuote("organization " + topology.organization);
  }
  out += "];\n";
  out +=
      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#33475b\", "
      "fontname=\"Helvetica\", fontsize=11, margin=\"0.15,0.06\"];\n";
  out +=
      "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#33475b\", fontcolor=\"#33475b\", "
      "arrowsize=0.7];\n";

  for (const auto& n : topology.nodes) {
    out += "  " + dot_name[n.id] + " [id=" + dotQuote("node:" + n.id) +
           ", tooltip=" + dotQuote(n.id) + ", label=" + nodeLabel(n);
    switch (n.kind) {
      case TopologyNode::Kind::kOutside:
        out += ", shape=ellipse, fillcolor=\"#f2f2f2\", color=\"#666666\"";
        break;
      case TopologyNode::Kind::kService:
        out += ", style=\"rounded,dashed\", color=\"#999999\"";
        break;
      case TopologyNode::Kind::kWorkload:
        if (!n.sidecar) out += ", style=\"rounded,filled,dashed\", fillcolor=\"#fff4f0\"";
        break;
    }
    out += "];\n";
  }

  int counter = 0;
  for (const auto* g : roots) emitGroup(out, *g, 1, children, members, counter);
  for (const auto& name : top_level) out += "  " + name + ";\n";

  for (const auto& e : topology.edges) {
    auto from = dot_name.find(e.from);
    auto to = dot_name.find(e.to);
    if (from == dot_name.end() || to == dot_name.end()) continue;
    out += "  " + from->second + " -> " + to->second + " [label=" + dotQuote(edgeLabel(e)) +
           ", tooltip=" + dotQuote(edgeTooltip(e)) + ", labeltooltip=" + dotQuote(edgeTooltip(e)) +
           ", id=" + dotQuote("edge:" + edgeKey(e.from, e.to) + "#" + std::to_string(e.call_index) +
                              ":" + e.service);
    if (!e.allowed) {
      out += ", color=red, fontcolor=red, style=dashed";
    } else if (e.mtls) {
      out += ", color=\"#2e7d32\", fontcolor=\"#2e7d32\"";
    } else {
      out += ", color=\"#e08a00\", fontcolor=\"#b06d00\"";
    }
    // Thicker for larger shares, so the split reads at a glance.
    out += ", penwidth=" + formatNumber(1.0 + 2.0 * std::clamp(e.share, 0.0, 1.0), 2);
    out += "];\n";
  }
  out += "}\n";
  return out;
}

std::string toJson(const Topology& topology) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : topology.groups) {
    groups.push_back({{"id", g.id},
                      {"kind", topologyGroupKindName(g.kind)},
                      {"name", g.name},
                      {"parent", g.parent}});
  }
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : topology.nodes) {
    nodes.push_back({{"id", n.id},
                     {"kind", topologyNodeKindName(n.kind)},
                     {"name", n.name},
                     {"namespace", n.namespace_},
                     {"cluster", n.cluster},
                     {"service", n.service},
                     {"version", n.version},
                     {"serviceAccount", n.service_account},
                     {"replicas", n.replicas},
                     {"sidecar", n.sidecar},
                     {"group", n.group}});
  }
  nlohmann::json edges = nlohmann::json::array();
  for (const auto& e : topology.edges) {
    edges.push_back(
        {{"from", e.from},
         {"to", e.to},
         {"service", e.service},
         {"method", e.method},
         {"path", e.path},
         {"port", e.port},
         {"callIndex", e.call_index},
         {"share", e.share},
         {"virtualService", e.virtual_service},
         {"subset", e.subset},
         {"allowed", e.allowed},
         {"mtls", e.mtls},
         {"status", e.status == policy::kStatusReset ? nlohmann::json("reset") : nlohmann::json(e.status)},
         {"stage", e.stage},
         {"policy", e.policy},
         {"rule", e.rule},
         {"reason", e.reason},
         {"responseFlags", e.response_flags},
         {"traffic", trafficJson(e.traffic)}});
  }
  nlohmann::json doc = {{"organization", topology.organization},
                        {"groups", groups},
                        {"nodes", nodes},
                        {"edges", edges},
                        {"notes", topology.notes}};
  // Replace invalid UTF-8 rather than throw: the strings come from user files.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace meshsim::analysis
