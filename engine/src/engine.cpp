#include "meshsim/engine.h"

#include <unistd.h>

#include <algorithm>

#include "meshsim/pki/ca.h"
#include "meshsim/policy/jwt.h"
#include "meshsim/routing/destination.h"

namespace meshsim {

struct MeshRuntime::Impl {
  std::shared_ptr<const config::Snapshot> snapshot;
  std::unique_ptr<dataplane::DataPlane> data_plane;
  std::shared_ptr<pki::SimClock> clock;
  std::unique_ptr<pki::MeshCa> ca;
  policy::IdentityProviderKeys keys;
  std::unique_ptr<dataplane::PlanBuilder> builder;
  std::shared_ptr<const dataplane::MeshPlan> plan;
  RuntimeOptions options;
  bool started = false;
};

MeshRuntime::MeshRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MeshRuntime::~MeshRuntime() { stop(); }

Result<std::unique_ptr<MeshRuntime>> MeshRuntime::create(
    std::shared_ptr<const config::Snapshot> snapshot,
    std::unique_ptr<dataplane::DataPlane> data_plane, RuntimeOptions options) {
  if (!snapshot) return invalidArgument("no configuration");
  if (!data_plane) return invalidArgument("no data plane");
  auto impl = std::make_unique<Impl>();
  impl->snapshot = std::move(snapshot);
  impl->data_plane = std::move(data_plane);
  impl->options = options;
  impl->clock = std::make_shared<pki::SimClock>(
      options.start_time_seconds != 0 ? options.start_time_seconds : pki::SimClock::systemNow());
  pki::CaOptions ca;
  ca.trust_domain = impl->snapshot->trustDomain();
  ca.clock = impl->clock;
  auto made = pki::MeshCa::create(ca);
  if (!made.ok()) return made.status();
  impl->ca = std::make_unique<pki::MeshCa>(std::move(*made));
  dataplane::PlanOptions plan_options;
  plan_options.clock = impl->clock;
  plan_options.svid_ttl_seconds = options.svid_ttl_seconds;
  plan_options.first_block = options.first_block;
  impl->builder = std::make_unique<dataplane::PlanBuilder>(*impl->ca, impl->keys, plan_options);
  auto plan = impl->builder->build(impl->snapshot);
  if (!plan.ok()) return plan.status();
  impl->plan = *plan;
  return std::unique_ptr<MeshRuntime>(new MeshRuntime(std::move(impl)));
}

Status MeshRuntime::start() {
  // Another process may hold our loopback block (a second `meshsim serve`, tests running in
  // parallel): move to other blocks, stepping by a process-dependent stride so that two
  // processes that collided do not keep colliding.
  const uint32_t stride = 1 + static_cast<uint32_t>(::getpid()) % 7;
  for (int attempt = 0;; ++attempt) {
    Status st = impl_->data_plane->apply(impl_->plan);
    if (st.ok()) break;
    const uint32_t used = static_cast<uint32_t>(std::max<size_t>(1, impl_->builder->clusterCount()));
    uint32_t next = impl_->builder->firstBlock() + used * stride;
    if (next + used > dataplane::kMaxClusters) next = 1 + (next % 64);
    if (!impl_->options.find_free_block || st.code() != StatusCode::kUnavailable || attempt >= 32) {
      return st;
    }
    impl_->builder->setFirstBlock(next);
    auto plan = impl_->builder->build(impl_->snapshot);
    if (!plan.ok()) return plan.status();
    impl_->plan = *plan;
  }
  impl_->started = true;
  return okStatus();
}

Status MeshRuntime::reconfigure(std::shared_ptr<const config::Snapshot> snapshot) {
  if (!snapshot) return invalidArgument("no configuration");
  auto plan = impl_->builder->build(snapshot);
  if (!plan.ok()) return plan.status();
  if (impl_->started) {
    if (Status st = impl_->data_plane->apply(*plan); !st.ok()) return st;
  }
  impl_->snapshot = std::move(snapshot);
  impl_->plan = *plan;
  return okStatus();
}

Status MeshRuntime::advanceTime(int64_t seconds) {
  if (Status st = impl_->clock->advance(seconds); !st.ok()) return st;
  auto rotated = impl_->builder->rotateDue();
  if (!rotated.ok()) return rotated.status();
  if (*rotated == 0) return okStatus();
  return reconfigure(impl_->snapshot);
}

void MeshRuntime::stop() {
  if (impl_ && impl_->started) {
    impl_->data_plane->stop();
    impl_->started = false;
  }
}

Result<pki::Svid> MeshRuntime::currentSvid(const std::string& ns, const std::string& name) const {
  const auto* wp = impl_->plan->find(ns, name);
  if (wp == nullptr) return invalidArgument("unknown workload " + ns + "/" + name);
  if (!wp->sidecar) return invalidArgument(ns + "/" + name + " has no sidecar, so no mesh certificate");
  return wp->svid;
}

bool MeshRuntime::running() const { return impl_->started; }
const pki::SimClock& MeshRuntime::clock() const { return *impl_->clock; }
std::shared_ptr<const config::Snapshot> MeshRuntime::snapshot() const { return impl_->snapshot; }
std::shared_ptr<const dataplane::MeshPlan> MeshRuntime::plan() const { return impl_->plan; }
dataplane::DataPlane& MeshRuntime::dataPlane() { return *impl_->data_plane; }

Result<dataplane::ProbeRequest> MeshRuntime::toProbe(const analysis::CheckRequest& req) {
  const auto& plan = *impl_->plan;
  const config::Snapshot& snap = *plan.config;
  const model::Service* svc = snap.findService(req.to_namespace, req.to_service);
  if (svc == nullptr) return invalidArgument("--to: unknown service " + req.to_namespace + "/" + req.to_service);
  dataplane::ProbeRequest pr;
  pr.to_namespace = req.to_namespace;
  pr.to_service = req.to_service;
  for (const auto& p : svc->ports) {
    if ((req.port && p.port == *req.port) || (req.workload_port && p.target_port == *req.workload_port)) {
      pr.port = p.port;
    }
  }
  if ((req.port || req.workload_port) && pr.port == 0) {
    return invalidArgument("service " + req.to_namespace + "/" + req.to_service + " has no such port");
  }
  if (pr.port == 0 && !svc->ports.empty()) pr.port = svc->ports.front().port;
  pr.method = req.method;
  pr.path = req.path;
  pr.host = req.host;
  pr.headers = req.headers;
  using Kind = analysis::CheckSource::Kind;
  switch (req.from.kind) {
    case Kind::kWorkload: {
      if (plan.find(req.from.namespace_, req.from.name) == nullptr) {
        return invalidArgument("--from: unknown workload " + req.from.namespace_ + "/" + req.from.name);
      }
      pr.from.kind = dataplane::ProbeSource::Kind::kWorkload;
      pr.from.workload = req.from.namespace_ + "/" + req.from.name;
      break;
    }
    case Kind::kOutside:
      pr.from.kind = dataplane::ProbeSource::Kind::kOutside;
      break;
    case Kind::kStolen: {
      auto svid = currentSvid(req.from.namespace_, req.from.name);
      if (!svid.ok()) return invalidArgument("--from stolen: " + svid.status().message());
      pr.from.kind = dataplane::ProbeSource::Kind::kTls;
      pr.from.credential = *svid;
      break;
    }
    case Kind::kForged: {
      auto forged = pki::forgeSelfSigned(req.from.spiffe_id, *impl_->clock);
      if (!forged.ok()) return invalidArgument("--from forged: " + forged.status().message());
      pr.from.kind = dataplane::ProbeSource::Kind::kTls;
      pr.from.credential = *forged;
      break;
    }
  }
  if (req.jwt.kind != analysis::CheckJwt::Kind::kNone) {
    auto eps = routing::endpointsOf(snap, routing::ServiceRef{req.to_namespace, req.to_service});
    if (eps.workloads.empty()) {
      return invalidArgument("service " + req.to_namespace + "/" + req.to_service + " has no running workload");
    }
    auto token = analysis::checkToken(snap, *eps.workloads.front(), req.jwt, impl_->clock->now(), impl_->keys);
    if (!token.ok()) return token.status();
    if (!token->empty()) pr.headers.emplace_back("authorization", "Bearer " + *token);
  }
  return pr;
}

Result<dataplane::ProbeResult> MeshRuntime::probe(const analysis::CheckRequest& request) {
  if (!impl_->started) return Status(StatusCode::kFailedPrecondition, "the mesh is not running");
  auto pr = toProbe(request);
  if (!pr.ok()) return pr.status();
  return impl_->data_plane->probe(*pr);
}

Result<dataplane::ProbeResult> MeshRuntime::probeEndpoint(const analysis::CheckRequest& request,
                                                          const std::string& workload) {
  if (!impl_->started) return Status(StatusCode::kFailedPrecondition, "the mesh is not running");
  if (request.from.kind == analysis::CheckSource::Kind::kWorkload) {
    return invalidArgument(
        "probe endpoint: a workload's own sidecar picks the endpoint; use probe()");
  }
  const size_t slash = workload.find('/');
  const auto* wp = slash == std::string::npos
                       ? nullptr
                       : impl_->plan->find(std::string_view(workload).substr(0, slash),
                                           std::string_view(workload).substr(slash + 1));
  if (wp == nullptr) return invalidArgument("probe endpoint: unknown workload " + workload);
  if (wp->service == nullptr || wp->service->meta.namespace_ != request.to_namespace ||
      wp->service->meta.name != request.to_service || wp->replicas.empty()) {
    return invalidArgument("probe endpoint: " + workload +
                           " is not a running endpoint of service " + request.to_namespace + "/" +
                           request.to_service);
  }
  auto pr = toProbe(request);
  if (!pr.ok()) return pr.status();
  pr->target_workload = workload;
  return impl_->data_plane->probe(*pr);
}

Result<dataplane::TrafficResult> MeshRuntime::traffic(const TrafficRequest& request) {
  if (!impl_->started) return Status(StatusCode::kFailedPrecondition, "the mesh is not running");
  auto pr = toProbe(request.request);
  if (!pr.ok()) return pr.status();
  dataplane::TrafficSpec spec;
  spec.request = std::move(*pr);
  spec.requests = request.requests;
  spec.duration = request.duration;
  spec.concurrency = request.concurrency;
  return impl_->data_plane->traffic(spec);
}

Result<LiveCheck> MeshRuntime::checkLive(const analysis::CheckRequest& request) {
  analysis::CheckRequest predicted_req = request;
  predicted_req.now_seconds = impl_->clock->now();
  // The same token for both: check() would otherwise sign its own (with a different iat/jti).
  analysis::CheckRequest live_req = request;
  auto pr = toProbe(live_req);
  if (!pr.ok()) return pr.status();
  for (const auto& [k, v] : pr->headers) {
    if (k == "authorization" && request.jwt.kind != analysis::CheckJwt::Kind::kNone &&
        v.rfind("Bearer ", 0) == 0) {
      predicted_req.jwt.kind = analysis::CheckJwt::Kind::kToken;
      predicted_req.jwt.token = v.substr(7);
    }
  }
  auto predicted = analysis::check(impl_->plan->config, predicted_req, impl_->keys);
  if (!predicted.ok()) return predicted.status();
  if (!impl_->started) return Status(StatusCode::kFailedPrecondition, "the mesh is not running");
  LiveCheck out;
  out.predicted = *predicted;
  out.observed = impl_->data_plane->probe(*pr);
  const auto& p = out.predicted;
  const auto& o = out.observed;
  auto differ = [&](const std::string& what, const std::string& a, const std::string& b) {
    out.agree = false;
    out.differences.push_back(what + ": predicted " + a + ", observed " + b);
  };
  if (p.status != o.status) differ("status", std::to_string(p.status), std::to_string(o.status));
  if (!p.allowed() && p.status != 0 && p.body != o.body) differ("body", "\"" + p.body + "\"", "\"" + o.body + "\"");
  const bool client_sidecar = request.from.kind == analysis::CheckSource::Kind::kWorkload;
  if (client_sidecar && !p.response_flags.empty() && p.response_flags != o.response_flags) {
    differ("response flags", p.response_flags, o.response_flags.empty() ? "none" : o.response_flags);
  }
  if (p.allowed() && o.status == p.status && p.mtls != o.mtls) {
    differ("mutual TLS", p.mtls ? "yes" : "no", o.mtls ? "yes" : "no");
  }
  return out;
}

}  // namespace meshsim
