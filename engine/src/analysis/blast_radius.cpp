#include "meshsim/analysis/blast_radius.h"

#include <algorithm>
#include <bit>
#include <map>
#include <set>
#include <utility>

#include "meshsim/pki/rotation.h"

namespace meshsim::analysis {

namespace {

struct Hop {
  uint32_t to;
  uint32_t edge;
};

// Compact adjacency: for each identity the distinct destinations (first usable edge each), and
// the same for the network source. Token-gated edges are kept apart when not followed.
struct Adjacency {
  std::vector<std::vector<Hop>> usable;  // per identity, then network at the back
  std::vector<std::vector<Hop>> tokens;  // needs_token edges not followed, same layout
};

void addDistinct(std::vector<Hop>& out, std::span<const ReachEdge> edges, size_t base, bool want_token) {
  for (size_t i = 0; i < edges.size(); ++i) {
    if (edges[i].needs_token != want_token) continue;
    const auto to = static_cast<uint32_t>(edges[i].destination);
    if (!out.empty() && out.back().to == to) continue;  // edges are sorted by destination
    bool seen = false;
    if (want_token) {
      for (const auto& h : out) seen = seen || h.to == to;
    }
    if (!seen) out.push_back({to, static_cast<uint32_t>(base + i)});
  }
}

Adjacency buildAdjacency(const ReachabilityGraph& g, const BlastOptions& o) {
  Adjacency a;
  const size_t n = g.identities.size() + 1;
  a.usable.resize(n);
  a.tokens.resize(n);
  for (size_t slot = 0; slot < n; ++slot) {
    const bool network = slot == g.identities.size();
    if (network && !o.plaintext) continue;
    auto edges = g.edgesFrom(network ? kNetworkSource : slot);
    const size_t base = static_cast<size_t>(edges.data() - g.edges.data());
    addDistinct(a.usable[slot], edges, base, false);
    std::vector<Hop> token_hops;
    addDistinct(token_hops, edges, base, true);
    if (o.follow_token_edges) {
      // Plain edges first; a token edge only adds destinations not reachable without one.
      for (const auto& h : token_hops) {
        bool seen = false;
        for (const auto& u : a.usable[slot]) seen = seen || u.to == h.to;
        if (!seen) a.usable[slot].push_back(h);
      }
    } else {
      a.tokens[slot] = std::move(token_hops);
    }
  }
  return a;
}

// Breadth-first search from `start`. `dist` and `stamp` are scratch arrays sized to the
// workload count; `epoch` distinguishes runs without clearing them.
struct Search {
  std::vector<uint32_t> dist;
  std::vector<uint32_t> stamp;
  std::vector<uint32_t> parent;
  std::vector<uint32_t> parent_edge;
  std::vector<uint32_t> order;
  uint32_t epoch = 0;
  bool truncated = false;

  explicit Search(size_t n) : dist(n), stamp(n, 0), parent(n), parent_edge(n) { order.reserve(n); }

  void run(const ReachabilityGraph& g, const Adjacency& a, size_t start, const std::optional<uint32_t>& limit) {
    ++epoch;
    truncated = false;
    order.clear();
    const size_t network = g.identities.size();
    auto visit = [&](uint32_t from, const Hop& h) {
      if (stamp[h.to] == epoch) return;
      stamp[h.to] = epoch;
      dist[h.to] = dist[from] + 1;
      parent[h.to] = from;
      parent_edge[h.to] = h.edge;
      order.push_back(h.to);
    };
    const auto s = static_cast<uint32_t>(start);
    stamp[s] = epoch;
    dist[s] = 0;
    order.push_back(s);
    for (size_t head = 0; head < order.size(); ++head) {
      const uint32_t u = order[head];
      const size_t id = g.identity_of[u];
      const bool at_limit = limit && dist[u] >= *limit;
      auto expand = [&](const std::vector<Hop>& hops) {
        for (const auto& h : hops) {
          if (at_limit) {
            if (stamp[h.to] != epoch) truncated = true;
            continue;
          }
          visit(u, h);
        }
      };
      if (id != kNoIdentity) expand(a.usable[id]);
      // Plaintext targets are one hop from the first foothold; later hops add nothing new.
      if (u == s) expand(a.usable[network]);
    }
  }
};

double sensitivityOf(const model::Workload& w) { return w.sensitivity; }

}  // namespace

Result<BlastRadius> blastRadius(const ReachabilityGraph& graph, size_t workload, const BlastOptions& options) {
  if (workload >= graph.workloads.size()) {
    return invalidArgument("blast radius: workload index " + std::to_string(workload) + " is out of range");
  }
  if (options.svid_ttl_seconds <= 0) return invalidArgument("blast radius: the SVID lifetime must be positive");
  if (options.token_ttl_seconds <= 0) return invalidArgument("blast radius: the token lifetime must be positive");
  const Adjacency adj = buildAdjacency(graph, options);
  Search search(graph.workloads.size());
  search.run(graph, adj, workload, options.hops);

  BlastRadius out;
  out.compromised = workload;
  out.truncated = search.truncated;
  out.credential_window_seconds = options.svid_ttl_seconds;
  out.rotation_after_seconds = static_cast<int64_t>(
      static_cast<double>(options.svid_ttl_seconds) * (1.0 - pki::kDefaultGracePeriodRatio));

  std::vector<uint32_t> nodes(search.order.begin() + 1, search.order.end());
  std::stable_sort(nodes.begin(), nodes.end(), [&](uint32_t a, uint32_t b) {
    return search.dist[a] != search.dist[b] ? search.dist[a] < search.dist[b] : a < b;
  });
  for (uint32_t v : nodes) {
    ReachedWorkload r;
    r.workload = v;
    r.hops = search.dist[v];
    for (uint32_t at = v; at != workload; at = search.parent[at]) {
      r.path.push_back({search.parent[at], at, search.parent_edge[at]});
    }
    std::reverse(r.path.begin(), r.path.end());
    r.contribution = sensitivityOf(*graph.workloads[v]) / r.hops;
    out.score += r.contribution;
    out.reached.push_back(std::move(r));
  }

  // Usable and token-gated edges out of every workload that may still take a step.
  const size_t network = graph.identities.size();
  std::vector<uint32_t> members = {static_cast<uint32_t>(workload)};
  members.insert(members.end(), nodes.begin(), nodes.end());
  for (uint32_t u : members) {
    if (options.hops && search.dist[u] >= *options.hops) continue;
    std::set<uint32_t> seen;
    auto collect = [&](const std::vector<Hop>& hops, std::vector<BlastEdge>& into) {
      for (const auto& h : hops) {
        if (h.to == u || !seen.insert(h.to).second) continue;
        into.push_back({u, h.to, h.edge});
      }
    };
    const size_t id = graph.identity_of[u];
    if (id != kNoIdentity) collect(adj.usable[id], out.edges);
    if (u == workload) collect(adj.usable[network], out.edges);
    if (id != kNoIdentity) collect(adj.tokens[id], out.token_gated);
    if (u == workload) collect(adj.tokens[network], out.token_gated);
  }
  bool token_used = !out.token_gated.empty();
  for (const auto& e : out.edges) token_used = token_used || graph.edges[e.edge].needs_token;
  if (token_used) out.token_window_seconds = options.token_ttl_seconds;
  return out;
}

Result<BlastRadius> blastRadius(const ReachabilityGraph& graph, const std::string& ns, const std::string& name,
                                const BlastOptions& options) {
  auto index = graph.findWorkload(ns, name);
  if (!index) return invalidArgument("blast radius: unknown workload " + ns + "/" + name);
  return blastRadius(graph, *index, options);
}

// The ranking runs one breadth-first search per workload, kWords * 64 of them at once: every
// node holds a bit set (one bit per source of the batch) of the searches that visited it and of
// those whose frontier it is. A level ORs each frontier into the neighbours; the bits that are
// new at a node are the searches that reach it at this depth. Workloads sharing an identity
// share their adjacency, so their frontiers are merged before the edges are walked. The sums
// run level by level and, within a level, in workload order: the order blastRadius() adds the
// contributions in, so the scores are the same to the last bit.
std::vector<RankEntry> rankWorkloads(const ReachabilityGraph& graph, const BlastOptions& options) {
  constexpr size_t kWords = 8;
  constexpr size_t kBatch = kWords * 64;
  const size_t n = graph.workloads.size();
  const size_t ids = graph.identities.size();
  const Adjacency adj = buildAdjacency(graph, options);
  const std::vector<Hop>& network = adj.usable[ids];
  std::vector<double> sensitivity(n);
  for (size_t i = 0; i < n; ++i) sensitivity[i] = sensitivityOf(*graph.workloads[i]);

  std::vector<RankEntry> out(n);
  for (size_t i = 0; i < n; ++i) out[i].workload = i;
  std::vector<uint64_t> visited(n * kWords), frontier(n * kWords), next(n * kWords),
      merged(ids * kWords);
  // Workloads whose `next` is non-empty, as a bit map: scanning it yields them in index order.
  std::vector<uint64_t> touched((n + 63) / 64);
  size_t touched_lo = touched.size(), touched_hi = 0;  // word range holding set bits
  std::vector<uint8_t> merging(ids, 0);
  std::vector<uint32_t> active, active_ids;
  active.reserve(n);

  for (size_t base = 0; base < n; base += kBatch) {
    const size_t count = std::min(kBatch, n - base);
    std::fill(visited.begin(), visited.end(), 0);
    uint64_t sources[kWords] = {};
    active.clear();
    for (size_t k = 0; k < count; ++k) {
      const size_t v = base + k;
      const uint64_t bit = uint64_t{1} << (k % 64);
      visited[v * kWords + k / 64] |= bit;
      frontier[v * kWords + k / 64] |= bit;
      sources[k / 64] |= bit;
      active.push_back(static_cast<uint32_t>(v));
    }
    auto push = [&](uint32_t to, const uint64_t* bits) {
      uint64_t* into = &next[size_t{to} * kWords];
      for (size_t w = 0; w < kWords; ++w) into[w] |= bits[w];
      touched[to / 64] |= uint64_t{1} << (to % 64);
      touched_lo = std::min<size_t>(touched_lo, to / 64);
      touched_hi = std::max<size_t>(touched_hi, to / 64 + 1);
    };
    for (uint32_t depth = 1; !active.empty(); ++depth) {
      if (options.hops && depth > *options.hops) {
        for (uint32_t u : active) std::fill_n(&frontier[size_t{u} * kWords], kWords, 0);
        break;
      }
      active_ids.clear();
      for (uint32_t u : active) {
        const size_t id = graph.identity_of[u];
        uint64_t* f = &frontier[size_t{u} * kWords];
        if (id != kNoIdentity) {
          if (!merging[id]) {
            merging[id] = 1;
            active_ids.push_back(static_cast<uint32_t>(id));
          }
          uint64_t* m = &merged[id * kWords];
          for (size_t w = 0; w < kWords; ++w) m[w] |= f[w];
        }
        std::fill_n(f, kWords, 0);
      }
      for (uint32_t id : active_ids) {
        // A local copy: the compiler then knows it does not alias `next` and vectorizes push().
        uint64_t bits[kWords];
        uint64_t* m = &merged[size_t{id} * kWords];
        std::copy_n(m, kWords, bits);
        std::fill_n(m, kWords, 0);
        merging[id] = 0;
        for (const auto& h : adj.usable[id]) push(h.to, bits);
      }
      // Plaintext targets are one hop from every source (blastRadius() expands them only there).
      if (depth == 1) {
        for (const auto& h : network) push(h.to, sources);
      }
      active.clear();
      for (size_t word = touched_lo; word < touched_hi; ++word) {
        for (uint64_t pend = std::exchange(touched[word], 0); pend != 0; pend &= pend - 1) {
          const size_t v = word * 64 + static_cast<size_t>(std::countr_zero(pend));
          uint64_t* nx = &next[v * kWords];
          uint64_t* seen = &visited[v * kWords];
          uint64_t* f = &frontier[v * kWords];
          bool any = false;
          for (size_t w = 0; w < kWords; ++w) {
            const uint64_t fresh = nx[w] & ~seen[w];
            nx[w] = 0;
            if (fresh == 0) continue;
            any = true;
            seen[w] |= fresh;
            f[w] = fresh;
            const double contribution = sensitivity[v] / depth;
            for (uint64_t bits = fresh; bits != 0; bits &= bits - 1) {
              RankEntry& e = out[base + w * 64 + static_cast<size_t>(std::countr_zero(bits))];
              e.score += contribution;
              ++e.reached;
              e.max_hops = depth;
            }
          }
          if (any) active.push_back(static_cast<uint32_t>(v));
        }
      }
      touched_lo = touched.size();
      touched_hi = 0;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const RankEntry& a, const RankEntry& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.reached != b.reached) return a.reached > b.reached;
    return a.workload < b.workload;
  });
  return out;
}

std::string blastEdgeKey(const ReachabilityGraph& graph, const BlastEdge& edge) {
  return graph.workloadKey(edge.from) + " -> " + graph.workloadKey(edge.to) + " :" +
         std::to_string(graph.edges[edge.edge].port);
}

BlastDiff diffBlastRadius(const ReachabilityGraph& before_graph, const BlastRadius& before,
                          const ReachabilityGraph& after_graph, const BlastRadius& after) {
  auto nodesOf = [](const ReachabilityGraph& g, const BlastRadius& r) {
    std::set<std::string> out;
    for (const auto& n : r.reached) out.insert(g.workloadKey(n.workload));
    return out;
  };
  auto edgesOf = [](const ReachabilityGraph& g, const BlastRadius& r) {
    std::set<std::string> out;
    for (const auto& e : r.edges) out.insert(blastEdgeKey(g, e));
    return out;
  };
  auto minus = [](const std::set<std::string>& a, const std::set<std::string>& b) {
    std::vector<std::string> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
  };
  BlastDiff d;
  const auto nb = nodesOf(before_graph, before), na = nodesOf(after_graph, after);
  const auto eb = edgesOf(before_graph, before), ea = edgesOf(after_graph, after);
  d.nodes_added = minus(na, nb);
  d.nodes_removed = minus(nb, na);
  d.edges_added = minus(ea, eb);
  d.edges_removed = minus(eb, ea);
  d.score_before = before.score;
  d.score_after = after.score;
  return d;
}

std::shared_ptr<const config::Snapshot> overlaySnapshot(const config::Snapshot& base,
                                                        std::vector<model::Resource> changes) {
  std::vector<model::Resource> resources = base.resources;
  std::map<model::ResourceKey, size_t> index;
  for (size_t i = 0; i < resources.size(); ++i) index.emplace(model::keyOf(resources[i]), i);
  for (auto& change : changes) {
    auto it = index.find(model::keyOf(change));
    if (it == index.end()) {
      index.emplace(model::keyOf(change), resources.size());
      resources.push_back(std::move(change));
      continue;
    }
    const int64_t creation = model::metaOf(resources[it->second]).creation_index;
    resources[it->second] = std::move(change);
    model::metaOf(resources[it->second]).creation_index = creation;
  }
  return config::makeSnapshot(std::move(resources), base.revision + 1);
}

}  // namespace meshsim::analysis
