#include "meshsim/dataplane/plan.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <set>
#include <thread>

#include "meshsim/mgmt/translate.h"
#include "meshsim/pki/rotation.h"
#include "meshsim/policy/peer_authn.h"

namespace meshsim::dataplane {

std::string loopbackAddress(uint32_t cluster_index, uint32_t ordinal) {
  return "127." + std::to_string(cluster_index + 1) + "." + std::to_string(ordinal / 254) + "." +
         std::to_string(ordinal % 254 + 1);
}

const InboundPort* WorkloadPlan::findPort(uint32_t port) const {
  for (const auto& p : ports) {
    if (p.port == port) return &p;
  }
  return nullptr;
}

const InboundPort* WorkloadPlan::findServicePort(uint32_t service_port) const {
  for (const auto& p : ports) {
    if (p.service_port == service_port) return &p;
  }
  return nullptr;
}

const WorkloadPlan* MeshPlan::find(const model::Workload* workload) const {
  auto it = by_pointer.find(workload);
  return it == by_pointer.end() ? nullptr : &workloads[it->second];
}

const WorkloadPlan* MeshPlan::find(std::string_view ns, std::string_view name) const {
  std::string key;
  key.reserve(ns.size() + name.size() + 1);
  key.append(ns).append("/").append(name);
  auto it = by_key.find(key);
  return it == by_key.end() ? nullptr : &workloads[it->second];
}

namespace {

// The Service a workload belongs to: "name" in its own namespace or "ns/name".
const model::Service* serviceOf(const config::Snapshot& snap, const model::Workload& w) {
  if (w.service.empty()) return nullptr;
  auto slash = w.service.find('/');
  if (slash == std::string::npos) return snap.findService(w.meta.namespace_, w.service);
  return snap.findService(w.service.substr(0, slash), w.service.substr(slash + 1));
}

// A cache key for a list of policy pointers: workloads with the same applicable policies share
// one compiled object (10,000 workloads under a handful of namespace-wide policies compile once).
template <typename T>
std::string pointerKey(const std::vector<const T*>& items) {
  std::string key;
  key.reserve(items.size() * sizeof(void*));
  for (const T* p : items) {
    auto v = reinterpret_cast<uintptr_t>(p);
    key.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  return key;
}

}  // namespace

struct PlanBuilder::Impl {
  pki::MeshCa& ca;
  policy::IdentityProviderKeys& keys;
  PlanOptions options;
  pki::SvidRotator rotator;
  std::map<std::string, uint32_t> cluster_index;              // cluster name -> index
  std::map<std::string, uint32_t> next_ordinal;               // cluster name -> next free slot
  std::map<std::string, uint32_t> ordinals;                   // "cluster|ns/name#i" -> slot
  std::map<std::string, pki::Svid> svids;                     // "cluster|ns|sa" -> current SVID
  uint64_t builds = 0;

  Impl(pki::MeshCa& c, policy::IdentityProviderKeys& k, PlanOptions o)
      : ca(c), keys(k), options(std::move(o)) {
    if (options.first_block == 0) options.first_block = 1;
  }

  Result<uint32_t> clusterIndex(const std::string& cluster) {
    auto it = cluster_index.find(cluster);
    if (it != cluster_index.end()) return it->second;
    if (options.first_block + cluster_index.size() > kMaxClusters) {
      return invalidArgument("cluster " + cluster + ": a mesh holds at most " +
                             std::to_string(kMaxClusters) + " clusters (one 127.C.0.0/16 block each)");
    }
    auto index = static_cast<uint32_t>(cluster_index.size());
    cluster_index.emplace(cluster, index);
    return index;
  }

  Result<std::string> address(const std::string& cluster, const std::string& replica_key) {
    auto idx = clusterIndex(cluster);
    if (!idx.ok()) return idx.status();
    std::string key = cluster + "|" + replica_key;
    auto it = ordinals.find(key);
    if (it == ordinals.end()) {
      uint32_t& next = next_ordinal[cluster];
      if (next >= kMaxReplicasPerCluster) {
        return invalidArgument("cluster " + cluster + ": more than " +
                               std::to_string(kMaxReplicasPerCluster) +
                               " replicas do not fit its loopback block");
      }
      it = ordinals.emplace(key, next++).first;
    }
    return loopbackAddress(options.first_block - 1 + *idx, it->second);
  }

  // The key of `svids`.
  static std::string svidKey(const std::string& cluster, const std::string& ns,
                             const std::string& sa) {
    return cluster + "|" + ns + "|" + sa;
  }

  // Issues the SVIDs of `wanted` (cluster, namespace, service account) that are not issued yet,
  // on up to one thread per core: a P-256 key and a signature each, the largest part of starting
  // 10,000 workloads. MeshCa::issue runs concurrently. Failures are left for svid() to report,
  // in workload order.
  void issueAhead(const std::vector<std::array<std::string, 3>>& wanted) {
    std::vector<const std::array<std::string, 3>*> to_issue;
    std::set<std::string> seen;
    for (const auto& w : wanted) {
      std::string key = svidKey(w[0], w[1], w[2]);
      if (svids.count(key) == 0 && seen.insert(std::move(key)).second) to_issue.push_back(&w);
    }
    const size_t threads =
        std::min<size_t>(std::max(1U, std::thread::hardware_concurrency()), to_issue.size() / 64 + 1);
    if (threads < 2) return;  // not worth a thread: svid() issues them one by one
    std::vector<std::optional<pki::Svid>> issued(to_issue.size());
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i = next++; i < to_issue.size(); i = next++) {
        const auto& w = *to_issue[i];
        auto made = ca.issue(pki::SvidRequest{"", w[1], w[2], w[0], options.svid_ttl_seconds});
        if (made.ok()) issued[i] = std::move(made).value();
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (size_t i = 0; i < to_issue.size(); ++i) {
      if (!issued[i]) continue;
      const auto& w = *to_issue[i];
      svids.emplace(svidKey(w[0], w[1], w[2]), std::move(*issued[i]));
    }
  }

  Result<pki::Svid> svid(const std::string& cluster, const std::string& ns, const std::string& sa) {
    std::string key = svidKey(cluster, ns, sa);
    auto it = svids.find(key);
    if (it != svids.end()) return it->second;
    pki::SvidRequest req;
    req.namespace_ = ns;
    req.service_account = sa;
    req.cluster = cluster;
    req.ttl_seconds = options.svid_ttl_seconds;
    auto issued = ca.issue(req);
    if (!issued.ok()) return issued.status();
    svids.emplace(key, *issued);
    return *issued;
  }
};

PlanBuilder::PlanBuilder(pki::MeshCa& ca, policy::IdentityProviderKeys& keys, PlanOptions options)
    : impl_(std::make_unique<Impl>(ca, keys, options)) {}

PlanBuilder::~PlanBuilder() = default;

size_t PlanBuilder::identityCount() const { return impl_->svids.size(); }

void PlanBuilder::setFirstBlock(uint32_t first_block) { impl_->options.first_block = first_block; }

uint32_t PlanBuilder::firstBlock() const { return impl_->options.first_block; }

size_t PlanBuilder::clusterCount() const { return impl_->cluster_index.size(); }

Result<size_t> PlanBuilder::rotateDue() {
  size_t rotated = 0;
  for (auto& [key, current] : impl_->svids) {
    auto next = impl_->rotator.rotateIfDue(impl_->ca, current);
    if (!next.ok()) return next.status();
    if (next->has_value()) {
      current = **next;
      ++rotated;
    }
  }
  return rotated;
}

Result<std::shared_ptr<const MeshPlan>> PlanBuilder::build(
    std::shared_ptr<const config::Snapshot> snapshot) {
  Impl& im = *impl_;
  auto plan = std::make_shared<MeshPlan>();
  plan->config = mgmt::withTranslation(*snapshot);
  const config::Snapshot& snap = *plan->config;
  plan->revision = snapshot->revision;
  plan->routes = routing::compileRoutes(plan->config);
  plan->trust_domain = snap.trustDomain();
  plan->trust = im.ca.trustBundle();
  plan->clock = im.options.clock;
  if (!plan->clock) return invalidArgument("PlanOptions.clock is required");
  for (const auto& d : plan->routes.diagnostics().items()) plan->warnings.push_back(d.message);

  // Clusters in declaration order first, so 127.1.x.x is the first cluster of the topology.
  for (const model::Cluster* c : snap.clusters) {
    if (auto idx = im.clusterIndex(c->meta.name); !idx.ok()) return idx.status();
  }
  const std::string ingress_cluster =
      !snap.clusters.empty() ? snap.clusters.front()->meta.name
      : !snap.workloads.empty() ? snap.workloads.front()->cluster
                                : std::string("default");
  auto ingress = im.svid(ingress_cluster.empty() ? "default" : ingress_cluster, snap.rootNamespace(),
                         "istio-ingressgateway");
  if (!ingress.ok()) return ingress.status();
  plan->ingress_svid = *ingress;

  const auto rate_limits = mgmt::translate(*snapshot).rate_limits;
  const policy::AuthzContext authz_context = policy::authzContextFor(snap);
  std::map<std::string, std::shared_ptr<const policy::CompiledAuthz>> authz_cache;
  std::map<std::string, std::shared_ptr<const policy::CompiledJwtAuthn>> jwt_cache;

  {
    std::vector<std::array<std::string, 3>> wanted;
    for (const model::Workload* w : snap.workloads) {
      if (!w->sidecar) continue;
      wanted.push_back({w->cluster.empty() ? "default" : w->cluster, w->meta.namespace_,
                        w->service_account});
    }
    im.issueAhead(wanted);
  }
  plan->workloads.reserve(snap.workloads.size());
  for (const model::Workload* w : snap.workloads) {
    WorkloadPlan wp;
    wp.workload = w;
    wp.namespace_ = w->meta.namespace_;
    wp.name = w->meta.name;
    wp.key = wp.namespace_ + "/" + wp.name;
    wp.cluster = w->cluster.empty() ? "default" : w->cluster;
    wp.version = w->version();
    wp.service = serviceOf(snap, *w);
    auto app = w->labels.find("app");
    wp.app = app != w->labels.end() ? app->second : (wp.service ? wp.service->meta.name : wp.name);
    wp.sidecar = w->sidecar;
    wp.spiffe_id = "spiffe://" + plan->trust_domain + "/ns/" + wp.namespace_ + "/sa/" +
                   w->service_account;
    for (uint32_t i = 0; i < w->replicas; ++i) {
      auto addr = im.address(wp.cluster, wp.key + "#" + std::to_string(i));
      if (!addr.ok()) return addr.status();
      wp.replicas.push_back({i, *addr, wp.name + "-" + std::to_string(i)});
    }
    if (wp.service != nullptr) {
      for (const auto& sp : wp.service->ports) {
        InboundPort ip;
        ip.port = sp.target_port != 0 ? sp.target_port : sp.port;
        ip.service_port = sp.port;
        ip.name = sp.name;
        ip.protocol = sp.protocol;
        if (wp.sidecar) {
          auto pa = policy::effectivePeerAuthn(snap, *w, ip.port);
          ip.mode = pa.mode;
          ip.peer_authn_policy = pa.policy;
        } else {
          ip.mode = model::MtlsMode::kDisable;
        }
        wp.ports.push_back(std::move(ip));
      }
    }
    if (wp.sidecar) {
      auto policies = policy::applicablePolicies(snap, *w);
      auto& authz = authz_cache[pointerKey(policies)];
      if (!authz) {
        auto compiled = policy::compileAuthz(policies, authz_context);
        if (!compiled.ok()) {
          return invalidArgument("workload " + wp.key + ": " + compiled.status().message());
        }
        authz = std::make_shared<const policy::CompiledAuthz>(std::move(*compiled));
        for (const auto& warning : authz->warnings()) plan->warnings.push_back(warning);
      }
      wp.authz = authz;
      auto ras = policy::applicableRequestAuthentications(snap, *w);
      auto& jwt = jwt_cache[pointerKey(ras)];
      if (!jwt) {
        jwt = std::make_shared<const policy::CompiledJwtAuthn>(
            policy::compileJwtAuthn(policy::mergeJwtRules(ras), &snap, &im.keys));
        for (const auto& warning : jwt->warnings()) plan->warnings.push_back(wp.key + ": " + warning);
      }
      wp.jwt = jwt;
      auto cert = im.svid(wp.cluster, wp.namespace_, w->service_account);
      if (!cert.ok()) return cert.status();
      wp.svid = *cert;
    }
    if (wp.service != nullptr) {
      for (const auto& rl : rate_limits) {
        if (rl.namespace_ == wp.service->meta.namespace_ && rl.service == wp.service->meta.name &&
            (rl.cluster == "*" || rl.cluster == wp.cluster)) {
          wp.rate_limit = rl.bucket;
          wp.rate_limit_source = rl.source_fqn;
        }
      }
    }
    plan->by_pointer.emplace(w, plan->workloads.size());
    plan->by_key.emplace(wp.key, plan->workloads.size());
    plan->workloads.push_back(std::move(wp));
  }
  ++im.builds;
  return std::shared_ptr<const MeshPlan>(std::move(plan));
}

}  // namespace meshsim::dataplane
