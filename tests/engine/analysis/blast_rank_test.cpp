// rankWorkloads() runs its breadth-first searches bit-parallel, hundreds of sources at once. The
// contract it must keep: every RankEntry is what blastRadius() reports for that workload (score,
// number of reached workloads, deepest hop) under the same options, and the order is score
// descending, then more reached, then snapshot order (blast_radius.h). The reference here is
// blastRadius(), one plain search per workload, on randomized graphs with fixed seeds (chains,
// cycles, fan-out, shared identities, workloads without a sidecar, token-gated and plaintext
// edges, several ports per destination, more sources than one batch holds) and on the shipped
// scenario meshes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <tuple>

#include "meshsim/analysis/blast_radius.h"
#include "meshsim/config/loader.h"
#include "meshsim/config/validate.h"
#include "meshsim/mgmt/translate.h"
#include "support/paths.h"

namespace meshsim::analysis {
namespace {

// A hand-built graph: workloads that exist only for the test, edges added per source.
class GraphBuilder {
 public:
  size_t addWorkload(double sensitivity, bool sidecar) {
    model::Workload w;
    w.meta.namespace_ = "ns";
    w.meta.name = "w" + std::to_string(store_.size());
    w.sensitivity = sensitivity;
    w.sidecar = sidecar;
    store_.push_back(std::move(w));
    return store_.size() - 1;
  }
  size_t addIdentity() {
    sources_.emplace_back();
    return sources_.size() - 1;
  }
  void assign(size_t workload, size_t identity) { owner_[workload] = identity; }
  /// An edge from `identity` (kNetworkSource: no certificate) to `to` on `port`.
  void edge(size_t identity, size_t to, uint32_t port = 80, bool token = false) {
    ReachEdge e;
    e.source = identity;
    e.destination = to;
    e.port = port;
    e.target_port = port;
    e.allowed = {{"GET", "/"}};
    e.needs_token = token;
    e.mtls = identity != kNetworkSource;
    if (token) e.token.issuer = "https://idp";
    (identity == kNetworkSource ? network_ : sources_[identity]).push_back(std::move(e));
  }
  ReachabilityGraph build() {
    ReachabilityGraph g;
    for (const auto& w : store_) g.workloads.push_back(&w);
    g.identity_of.assign(store_.size(), kNoIdentity);
    g.identities.resize(sources_.size());
    for (size_t i = 0; i < sources_.size(); ++i)
      g.identities[i].principal = "id" + std::to_string(i);
    for (const auto& [w, id] : owner_) {
      g.identity_of[w] = id;
      g.identities[id].workloads.push_back(w);
    }
    auto byDestination = [](const ReachEdge& a, const ReachEdge& b) {
      return std::tie(a.destination, a.port) < std::tie(b.destination, b.port);
    };
    for (auto& edges : sources_) {
      std::sort(edges.begin(), edges.end(), byDestination);
      g.edge_begin.push_back(g.edges.size());
      g.edges.insert(g.edges.end(), edges.begin(), edges.end());
    }
    std::sort(network_.begin(), network_.end(), byDestination);
    g.edge_begin.push_back(g.edges.size());
    g.edges.insert(g.edges.end(), network_.begin(), network_.end());
    return g;
  }

 private:
  std::deque<model::Workload> store_;  // stable addresses
  std::vector<std::vector<ReachEdge>> sources_;
  std::vector<ReachEdge> network_;
  std::map<size_t, size_t> owner_;
};

enum class Shape { kRandom, kChain, kCycle, kFanOut, kLayered };

// A random graph of `n` workloads of the given shape. Most workloads get their own identity,
// some share one, some have no sidecar (hence no identity).
std::pair<std::unique_ptr<GraphBuilder>, ReachabilityGraph> randomGraph(uint32_t seed, size_t n,
                                                                        Shape shape) {
  std::mt19937 rng(seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto pick = [&](size_t bound) {
    return std::uniform_int_distribution<size_t>(0, bound - 1)(rng);
  };
  const double sensitivities[] = {0.5, 1, 2, 3, 7, 0};
  auto b = std::make_unique<GraphBuilder>();
  std::vector<size_t> identity_of(n, kNoIdentity);
  std::vector<size_t> identities;
  for (size_t i = 0; i < n; ++i) {
    const bool sidecar = !chance(0.1);
    b->addWorkload(sensitivities[pick(6)], sidecar);
    if (!sidecar) continue;
    if (!identities.empty() && chance(0.2)) {
      identity_of[i] = identities[pick(identities.size())];
    } else {
      identity_of[i] = b->addIdentity();
      identities.push_back(identity_of[i]);
    }
    b->assign(i, identity_of[i]);
  }
  std::set<std::tuple<size_t, size_t, uint32_t>> made;
  auto connect = [&](size_t from_workload, size_t to) {
    const size_t id = identity_of[from_workload];
    if (id == kNoIdentity) return;
    const uint32_t port = chance(0.15) ? 81 : 80;
    if (!made.emplace(id, to, port).second) return;
    b->edge(id, to, port, chance(0.1));
  };
  switch (shape) {
    case Shape::kRandom:
      for (size_t e = 0; e < n * 2; ++e) connect(pick(n), pick(n));
      break;
    case Shape::kChain:
      for (size_t i = 0; i + 1 < n; ++i) connect(i, i + 1);
      break;
    case Shape::kCycle:
      for (size_t i = 0; i < n; ++i) connect(i, (i + 1) % n);
      for (size_t e = 0; e < n / 8; ++e) connect(pick(n), pick(n));  // chords
      break;
    case Shape::kFanOut:
      for (size_t i = 1; i < n; ++i) connect((i - 1) / 4, i);  // a 4-ary tree
      break;
    case Shape::kLayered:
      for (size_t i = 0; i + 8 < n; ++i) {
        connect(i, i + 8);
        if (chance(0.5)) connect(i, i + 1 + pick(7));
      }
      break;
  }
  for (size_t e = 0; e < std::max<size_t>(1, n / 20); ++e)
    b->edge(kNetworkSource, pick(n), 80, chance(0.2));
  ReachabilityGraph g = b->build();
  return {std::move(b), std::move(g)};
}

std::vector<BlastOptions> optionGrid() {
  std::vector<BlastOptions> out;
  for (std::optional<uint32_t> hops :
       {std::optional<uint32_t>{}, std::optional<uint32_t>{0}, std::optional<uint32_t>{1},
        std::optional<uint32_t>{2}, std::optional<uint32_t>{3}}) {
    for (bool tokens : {false, true}) {
      for (bool plaintext : {true, false}) {
        BlastOptions o;
        o.hops = hops;
        o.follow_token_edges = tokens;
        o.plaintext = plaintext;
        out.push_back(o);
      }
    }
  }
  return out;
}

std::string describe(const BlastOptions& o) {
  return "hops=" + (o.hops ? std::to_string(*o.hops) : std::string("none")) +
         " tokens=" + (o.follow_token_edges ? "yes" : "no") +
         " plaintext=" + (o.plaintext ? "yes" : "no");
}

// The ranking must equal one blastRadius() per workload, entry by entry and in order.
void expectRankingMatchesBlastRadius(const ReachabilityGraph& g, const BlastOptions& o,
                                     const std::string& what) {
  std::vector<RankEntry> expected;
  for (size_t w = 0; w < g.workloads.size(); ++w) {
    auto r = blastRadius(g, w, o);
    ASSERT_TRUE(r.ok()) << r.status().toString();
    RankEntry e;
    e.workload = w;
    e.score = r->score;
    e.reached = r->reached.size();
    for (const auto& n : r->reached) e.max_hops = std::max(e.max_hops, n.hops);
    expected.push_back(e);
  }
  std::stable_sort(expected.begin(), expected.end(), [](const RankEntry& a, const RankEntry& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.reached != b.reached) return a.reached > b.reached;
    return a.workload < b.workload;
  });
  const auto ranking = rankWorkloads(g, o);
  ASSERT_EQ(ranking.size(), expected.size()) << what;
  size_t mismatches = 0;
  for (size_t i = 0; i < ranking.size() && mismatches < 5; ++i) {
    const RankEntry& got = ranking[i];
    const RankEntry& want = expected[i];
    const bool same = got.workload == want.workload && std::abs(got.score - want.score) <= 1e-9 &&
                      got.reached == want.reached && got.max_hops == want.max_hops;
    if (!same) ++mismatches;
    EXPECT_TRUE(same) << what << " " << describe(o) << " rank " << i << ": got workload "
                      << got.workload << " score " << got.score << " reached " << got.reached
                      << " max_hops " << got.max_hops << "; blastRadius gives workload "
                      << want.workload << " score " << want.score << " reached " << want.reached
                      << " max_hops " << want.max_hops;
  }
}

struct RandomCase {
  const char* name;
  Shape shape;
  size_t n;
  uint32_t seed;
};

TEST(BlastRank, BitParallelRankingEqualsOneBlastRadiusPerWorkloadOnRandomGraphs) {
  const std::vector<RandomCase> cases = {
      {"random-small", Shape::kRandom, 40, 1}, {"random-sparse", Shape::kRandom, 150, 2},
      {"chain", Shape::kChain, 70, 3},         {"cycle", Shape::kCycle, 90, 4},
      {"fan-out", Shape::kFanOut, 120, 5},     {"layered", Shape::kLayered, 100, 6},
      {"random-one", Shape::kRandom, 1, 7},    {"random-word", Shape::kRandom, 65, 8},
  };
  for (const auto& c : cases) {
    auto [builder, g] = randomGraph(c.seed, c.n, c.shape);
    for (const auto& o : optionGrid()) expectRankingMatchesBlastRadius(g, o, c.name);
  }
}

// More sources than one batch of 512: the second batch starts mid-graph and is partial, and
// searches of both batches reach workloads of the other.
TEST(BlastRank, SeveralBatchesGiveTheSameEntries) {
  {
    auto [builder, g] = randomGraph(11, 600, Shape::kRandom);
    expectRankingMatchesBlastRadius(g, BlastOptions{}, "600 workloads, random");
  }
  {
    auto [builder, g] = randomGraph(13, 600, Shape::kLayered);
    BlastOptions two;
    two.hops = 2;
    two.follow_token_edges = true;
    expectRankingMatchesBlastRadius(g, two, "600 workloads, layered");
  }
}

TEST(BlastRank, EmptyGraphRanksNothing) {
  ReachabilityGraph g;
  g.edge_begin = {0};
  EXPECT_TRUE(rankWorkloads(g).empty());
}

std::shared_ptr<const config::Snapshot> loadMesh(const std::vector<std::string>& relative) {
  std::vector<std::string> paths;
  for (const auto& r : relative) paths.push_back(testing::sourceRoot(r));
  config::LoadResult loaded = config::loadPaths(paths);
  config::validateReferences(loaded.resources, loaded.diagnostics);
  EXPECT_FALSE(loaded.diagnostics.hasErrors()) << loaded.diagnostics.items()[0].toString();
  return mgmt::withTranslation(*config::makeSnapshot(loaded.resources));
}

TEST(BlastRank, ShippedScenarioMeshesRankLikeTheirBlastRadii) {
  const std::vector<std::vector<std::string>> meshes = {
      {"scenarios/bookinfo/mesh"},
      {"scenarios/bookinfo/mesh", "scenarios/bookinfo/changes/tenant-strict.yaml"},
      {"scenarios/multicloud/mesh"},
      {"scenarios/end-user-auth/mesh"},
  };
  for (const auto& m : meshes) {
    auto g = buildReachability(loadMesh(m));
    ASSERT_TRUE(g.ok()) << g.status().toString();
    for (const auto& o : optionGrid()) expectRankingMatchesBlastRadius(*g, o, m.back());
  }
}

}  // namespace
}  // namespace meshsim::analysis
