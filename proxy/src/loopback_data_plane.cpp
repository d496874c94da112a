// LoopbackDataPlane: event loops, replica lifecycle across plans, probes and traffic bursts.
#include "meshsim/proxy/loopback_data_plane.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <future>
#include <set>

#include "admin_server.h"
#include "core.h"
#include "upstream_policy.h"

namespace meshsim::proxy {

using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------------- Mesh

Mesh::Mesh(unsigned threads, size_t log_capacity) : telemetry(log_capacity) {
  threads = std::max(1u, threads);
  for (unsigned i = 0; i < threads; ++i) {
    // One thread per io_context: the concurrency hint lets Asio skip internal locking.
    ios_.push_back(std::make_unique<asio::io_context>(1));
  }
}

Mesh::~Mesh() { stopThreads(); }

void Mesh::startThreads() {
  if (!threads_.empty()) return;
  for (auto& io : ios_) {
    if (io->stopped()) io->restart();
    guards_.push_back(asio::make_work_guard(*io));
    threads_.emplace_back([ctx = io.get()] { ctx->run(); });
  }
}

void Mesh::stopThreads() {
  guards_.clear();
  for (auto& io : ios_) io->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

Result<std::shared_ptr<const tls::IdentityTls>> Mesh::identityFor(
    const pki::Svid& svid, const pki::TrustBundle& trust,
    std::shared_ptr<const pki::SimClock> clock) {
  std::lock_guard lock(tls_mu_);
  auto it = tls_.find(svid.serial_hex);
  if (it != tls_.end()) return it->second;
  auto made = tls::IdentityTls::create(svid, trust, std::move(clock));
  if (!made.ok()) return made.status();
  tls_.emplace(svid.serial_hex, *made);
  return *made;
}

Result<std::shared_ptr<const tls::IdentityTls>> Mesh::anonymousFor(
    const pki::TrustBundle& trust, std::shared_ptr<const pki::SimClock> clock) {
  std::lock_guard lock(tls_mu_);
  if (anonymous_) return anonymous_;
  auto made = tls::IdentityTls::anonymousClient(trust, std::move(clock));
  if (!made.ok()) return made.status();
  anonymous_ = *made;
  return anonymous_;
}

// ------------------------------------------------------------------------- probes

void readAppIdentity(const std::string& body, dataplane::ProbeResult& result) {
  if (!nlohmann::json::accept(body)) return;
  auto j = nlohmann::json::parse(body);
  if (!j.is_object() || !j.contains("workload") || !j.contains("namespace")) return;
  auto str = [&](const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  result.served_by = str("namespace") + "/" + str("workload");
  result.version = str("version");
  result.pod = str("pod");
  result.cluster = str("cluster");
  if (j.contains("mtls") && j["mtls"].is_boolean()) result.mtls = j["mtls"].get<bool>();
}

awaitable<dataplane::ProbeResult> directRequest(asio::io_context& io, std::string address,
                                                uint32_t port,
                                                std::shared_ptr<const tls::IdentityTls> identity,
                                                Request request, std::chrono::milliseconds timeout,
                                                bool tcp) {
  dataplane::ProbeResult out;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  error_code ec;
  Socket socket(io);
  socket.open(tcp::v4(), ec);
  if (!ec) socket.bind(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0), ec);
  const tcp::endpoint ep(asio::ip::make_address_v4(address, ec), static_cast<uint16_t>(port));
  TcpStream plain(std::move(socket));
  plain.expires_at(deadline);
  auto [cec] = co_await plain.async_connect(ep, kTuple);
  if (cec) {
    out.error = "connect " + address + ":" + std::to_string(port) + ": " + cec.message();
    out.latency_ms = elapsedMs(start);
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  error_code rec;
  // A TCP port: the payload is echoed back (200), or the connection closes without data (0).
  auto echo = [&out, &address, port](auto& stream) -> awaitable<void> {
    const std::string payload = "meshsim tcp probe\n";
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(payload), kTuple);
    std::string back(payload.size(), '\0');
    error_code failed = wec;
    if (!failed) {
      auto [r2, rn] = co_await asio::async_read(stream, asio::buffer(back), kTuple);
      failed = r2;
    }
    if (failed) {
      out.error = "tcp " + address + ":" + std::to_string(port) + ": connection closed without data";
    } else {
      out.status = 200;
      out.body = back;
    }
  };
  if (identity) {
    SSL* ssl = SSL_new(identity->clientContext());
    tls::prepareClient(ssl, *identity, "", "");
    TlsStream stream(std::move(plain), ssl);
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [hec] = co_await stream.async_handshake(TlsStream::Role::kClient, kTuple);
    if (hec) {
      std::string why = tls::failureReason(ssl);
      out.error = "TLS handshake: " + (why.empty() ? hec.message() : why);
      out.latency_ms = elapsedMs(start);
      co_return out;
    }
    if (tcp) {
      co_await echo(stream);
      out.mtls = out.status == 200 && identity->serverContext() != nullptr;
      out.latency_ms = elapsedMs(start);
      co_return out;
    }
    auto [wec, wn] = co_await http::async_write(stream, request, kTuple);
    rec = wec;
    if (!rec) {
      auto [r2, rn] = co_await http::async_read(stream, buffer, parser, kTuple);
      rec = r2;
    }
    if (rec && !parser.is_done()) {
      std::string why = tls::failureReason(ssl);
      out.error = "TLS: " + (why.empty() ? rec.message() : why + " (" + rec.message() + ")");
    }
    out.mtls = !rec && identity->serverContext() != nullptr;
  } else if (tcp) {
    co_await echo(plain);
    out.latency_ms = elapsedMs(start);
    co_return out;
  } else {
    auto [wec, wn] = co_await http::async_write(plain, request, kTuple);
    rec = wec;
    if (!rec) {
      auto [r2, rn] = co_await http::async_read(plain, buffer, parser, kTuple);
      rec = r2;
    }
    if (rec) out.error = "connection " + address + ":" + std::to_string(port) + ": " + rec.message();
  }
  out.latency_ms = elapsedMs(start);
  if (rec) co_return out;
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  const bool tls_hop = out.mtls;
  readAppIdentity(out.body, out);
  if (!out.served_by.empty()) {
    // The app reports whether its own sidecar saw mutual TLS; a direct TLS client's hop is ours.
    out.mtls = out.mtls || tls_hop;
  } else {
    out.mtls = tls_hop;
  }
  co_return out;
}

// ------------------------------------------------------------------------- the data plane

struct LoopbackDataPlane::Impl {
  LoopbackOptions options;
  std::unique_ptr<Mesh> mesh;
  std::shared_ptr<const PlanView> view;
  std::map<std::string, std::shared_ptr<Replica>> replicas;  // "ns/name#i"
  std::shared_ptr<Replica> ingress;
  std::unique_ptr<AdminServer> admin;
  size_t next_io = 0;
  uint16_t ingress_port = 0;
  bool running = false;
  // apply()/stop() against prepare(): a burst may start on another thread while the engine
  // thread reconfigures (the engine API allows one engine thread; tests drive load beside it).
  std::mutex mu;

  explicit Impl(LoopbackOptions o) : options(o) {}

  // Runs `fn` on `io` and waits for it.
  template <typename F>
  static void runOn(asio::io_context& io, F&& fn) {
    std::promise<void> done;
    asio::post(io, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  dataplane::ProbeResult toProbe(const UpstreamResult& r) const {
    dataplane::ProbeResult p;
    p.status = r.status;
    p.body = r.body;
    p.response_flags = r.flags;
    p.mtls = r.mtls;
    p.error = r.error;
    readAppIdentity(r.body, p);
    p.mtls = r.mtls;
    return p;
  }

  Request buildRequest(const dataplane::ProbeRequest& pr, uint32_t port) const {
    Request req;
    req.method_string(pr.method);
    req.target(pr.path);
    req.version(11);
    req.set(http::field::host, pr.host.empty() ? pr.to_service + "." + pr.to_namespace +
                                                     ".svc.cluster.local:" + std::to_string(port)
                                               : pr.host);
    for (const auto& [k, v] : pr.headers) req.insert(k, v);
    req.body() = pr.body;
    req.keep_alive(false);
    req.prepare_payload();
    return req;
  }

  // The coroutine behind probe(): runs on the io_context of the sending replica (or any).
  Result<std::pair<asio::io_context*, std::function<awaitable<dataplane::ProbeResult>()>>> prepare(
      const dataplane::ProbeRequest& pr) {
    std::lock_guard lock(mu);
    if (!view) return Status(StatusCode::kFailedPrecondition, "the data plane is not running");
    const auto& plan = *view->plan;
    const model::Service* svc = plan.config->findService(pr.to_namespace, pr.to_service);
    if (svc == nullptr || svc->ports.empty()) {
      return invalidArgument("unknown service " + pr.to_namespace + "/" + pr.to_service);
    }
    uint32_t port = pr.port != 0 ? pr.port : svc->ports.front().port;
    if (pr.from.kind == dataplane::ProbeSource::Kind::kWorkload ||
        pr.from.kind == dataplane::ProbeSource::Kind::kIngress) {
      std::shared_ptr<Replica> sender;
      if (pr.from.kind == dataplane::ProbeSource::Kind::kIngress) {
        sender = ingress;
        if (!sender) return Status(StatusCode::kFailedPrecondition, "no ingress gateway is running");
      } else {
        auto it = replicas.find(pr.from.workload + "#" + std::to_string(pr.from.replica));
        if (it == replicas.end()) return invalidArgument("unknown workload replica " + pr.from.workload);
        sender = it->second;
      }
      OutboundRequest out;
      out.authority = pr.host.empty() ? pr.to_service + "." + pr.to_namespace +
                                            ".svc.cluster.local:" + std::to_string(port)
                                      : pr.host;
      out.port = port;
      out.method = pr.method;
      out.path = pr.path;
      for (const auto& [k, v] : pr.headers) {
        std::string name = k;
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers.emplace_back(std::move(name), v);
      }
      out.body = pr.body;
      out.timeout = pr.timeout;
      auto* self = this;
      return std::make_pair(&sender->io(),
                            std::function<awaitable<dataplane::ProbeResult>()>(
                                [self, sender, out]() -> awaitable<dataplane::ProbeResult> {
                                  const auto start = Clock::now();
                                  UpstreamResult r = co_await sender->callUpstream(out);
                                  dataplane::ProbeResult p = self->toProbe(r);
                                  p.latency_ms = elapsedMs(start);
                                  co_return p;
                                }));
    }
    // Outsiders and attackers dial an endpoint replica of the service directly.
    const dataplane::WorkloadPlan* target = nullptr;
    if (!pr.target_workload.empty()) {
      auto slash = pr.target_workload.find('/');
      if (slash != std::string::npos) {
        target = plan.find(std::string_view(pr.target_workload).substr(0, slash),
                           std::string_view(pr.target_workload).substr(slash + 1));
      }
      if (target == nullptr) return invalidArgument("unknown workload " + pr.target_workload);
    } else {
      for (const auto& wp : plan.workloads) {
        if (wp.service == svc && !wp.replicas.empty()) {
          target = &wp;
          break;
        }
      }
      if (target == nullptr) {
        return invalidArgument("service " + pr.to_namespace + "/" + pr.to_service +
                               " has no running workload");
      }
    }
    const dataplane::InboundPort* ip = target->findServicePort(port);
    if (ip == nullptr) return invalidArgument("service port " + std::to_string(port) + " is not served");
    std::shared_ptr<const tls::IdentityTls> identity;
    if (pr.from.kind == dataplane::ProbeSource::Kind::kTls) {
      if (pr.from.credential) {
        auto made = tls::IdentityTls::create(*pr.from.credential, plan.trust, plan.clock);
        if (!made.ok()) return made.status();
        identity = *made;
      } else {
        auto anon = mesh->anonymousFor(plan.trust, plan.clock);
        if (!anon.ok()) return anon.status();
        identity = *anon;
      }
    }
    auto& io = mesh->ioFor(next_io++);
    std::string address = target->replicas.front().address;
    uint32_t target_port = ip->port;
    Request req = buildRequest(pr, port);
    auto timeout = pr.timeout;
    const bool tcp = !model::isHttp(ip->protocol);
    return std::make_pair(&io, std::function<awaitable<dataplane::ProbeResult>()>(
                                   [&io, address, target_port, identity, req, timeout, tcp]() {
                                     return directRequest(io, address, target_port, identity, req,
                                                          timeout, tcp);
                                   }));
  }
};

LoopbackDataPlane::LoopbackDataPlane(LoopbackOptions options)
    : impl_(std::make_unique<Impl>(options)) {
  impl_->mesh = std::make_unique<Mesh>(options.threads, options.access_log_capacity);
}

LoopbackDataPlane::~LoopbackDataPlane() { stop(); }

Status LoopbackDataPlane::apply(std::shared_ptr<const dataplane::MeshPlan> plan) {
  Impl& im = *impl_;
  if (!plan) return invalidArgument("apply: null plan");
  std::lock_guard lock(im.mu);
  auto view = std::make_shared<PlanView>();
  view->plan = plan;
  for (const auto& wp : plan->workloads) {
    for (const auto& r : wp.replicas) view->by_address.emplace(r.address, std::make_pair(&wp, r.index));
  }
  view->ingress = ingressWorkload(*plan);
  Mesh& mesh = *im.mesh;

  // New replicas (and new ports of existing ones) bind here, on this thread, before their
  // io_context sees them: a bind failure is reported and nothing is half-started.
  std::map<std::string, std::shared_ptr<Replica>> next;
  std::vector<std::shared_ptr<Replica>> created;
  for (const auto& wp : plan->workloads) {
    for (const auto& r : wp.replicas) {
      std::string key = wp.key + "#" + std::to_string(r.index);
      auto it = im.replicas.find(key);
      std::shared_ptr<Replica> rep;
      if (it != im.replicas.end() && it->second->address() == r.address) {
        rep = it->second;
      } else {
        rep = std::make_shared<Replica>(mesh, mesh.ioFor(im.next_io++), key, r.index, r.address,
                                        false);
        for (const auto& ip : wp.ports) {
          if (Status st = rep->bindPort(ip.port); !st.ok()) return st;
        }
        created.push_back(rep);
      }
      next.emplace(std::move(key), std::move(rep));
    }
  }
  if (im.options.ingress && !im.ingress) {
    auto ing = std::make_shared<Replica>(mesh, mesh.ioFor(im.next_io++), "ingress", 0, "127.0.0.1", true);
    if (Status st = ing->bindPort(im.options.ingress_port); !st.ok()) return st;
    im.ingress_port = static_cast<uint16_t>(ing->ports().front());
    im.ingress = ing;
    created.push_back(ing);
  }
  mesh.startThreads();
  im.running = true;

  // Swap: existing replicas take the new plan on their own thread; removed ones close.
  std::vector<std::future<void>> waits;
  auto install = [&](const std::shared_ptr<Replica>& rep, const pki::Svid* svid) {
    auto done = std::make_shared<std::promise<void>>();
    waits.push_back(done->get_future());
    asio::post(rep->io(), [rep, view, svid, done] {
      rep->install(view, svid);
      done->set_value();
    });
  };
  for (auto& [key, rep] : next) {
    const auto* wp = plan->find(std::string_view(key).substr(0, key.find('/')),
                                std::string_view(key).substr(key.find('/') + 1, key.find('#') - key.find('/') - 1));
    install(rep, wp != nullptr && wp->sidecar ? &wp->svid : nullptr);
  }
  if (im.ingress) install(im.ingress, &plan->ingress_svid);
  for (auto& [key, rep] : im.replicas) {
    if (next.count(key) && next[key] == rep) continue;
    auto done = std::make_shared<std::promise<void>>();
    waits.push_back(done->get_future());
    asio::post(rep->io(), [rep, done] {
      rep->shutdown();
      done->set_value();
    });
  }
  for (auto& w : waits) w.wait();
  im.replicas = std::move(next);
  im.view = std::move(view);
  return okStatus();
}

void LoopbackDataPlane::stop() {
  Impl& im = *impl_;
  // The admin handler may wait for the engine thread: stop it before taking the lock.
  if (im.admin) im.admin->stop();
  std::lock_guard lock(im.mu);
  if (!im.running) return;
  std::vector<std::future<void>> waits;
  auto close = [&](const std::shared_ptr<Replica>& rep) {
    auto done = std::make_shared<std::promise<void>>();
    waits.push_back(done->get_future());
    asio::post(rep->io(), [rep, done] {
      rep->shutdown();
      done->set_value();
    });
  };
  for (auto& [key, rep] : im.replicas) close(rep);
  if (im.ingress) close(im.ingress);
  for (auto& w : waits) w.wait();
  im.mesh->stopThreads();
  im.replicas.clear();
  im.ingress.reset();
  im.running = false;
  im.view.reset();
  // Pending handlers (and the sockets they own) go when the io_contexts are destroyed.
}

dataplane::ProbeResult LoopbackDataPlane::probe(const dataplane::ProbeRequest& request) {
  auto prepared = impl_->prepare(request);
  dataplane::ProbeResult out;
  if (!prepared.ok()) {
    out.error = prepared.status().message();
    return out;
  }
  auto [io, fn] = *prepared;
  std::promise<dataplane::ProbeResult> result;
  asio::co_spawn(*io, fn(), [&result](std::exception_ptr e, dataplane::ProbeResult r) {
    if (e) r.error = "internal error in the data plane";
    result.set_value(std::move(r));
  });
  return result.get_future().get();
}

dataplane::TrafficResult LoopbackDataPlane::traffic(const dataplane::TrafficSpec& spec) {
  dataplane::TrafficResult out;
  auto prepared = impl_->prepare(spec.request);
  if (!prepared.ok()) {
    out.errors.push_back(prepared.status().message());
    return out;
  }
  auto [io, fn] = *prepared;
  struct Shared {
    std::mutex mu;
    std::vector<double> latencies;
    dataplane::TrafficResult result;
    std::atomic<uint64_t> issued{0};
    std::atomic<uint32_t> running{0};
    std::promise<void> done;
  };
  auto shared = std::make_shared<Shared>();
  const uint64_t limit = spec.requests;
  const auto until = Clock::now() + spec.duration;
  const bool by_count = spec.requests > 0 || spec.duration.count() == 0;
  const uint32_t workers = std::max<uint32_t>(1, spec.concurrency);
  shared->running = workers;
  const auto start = Clock::now();
  auto worker = [shared, fn = fn, limit, until, by_count]() -> awaitable<void> {
    std::vector<double> lat;
    dataplane::TrafficResult local;
    for (;;) {
      if (by_count) {
        if (shared->issued.fetch_add(1) >= limit) break;
      } else if (Clock::now() >= until) {
        break;
      } else {
        shared->issued.fetch_add(1);
      }
      dataplane::ProbeResult r = co_await fn();
      ++local.sent;
      ++local.by_status[r.status];
      if (!r.served_by.empty()) {
        ++local.by_version[r.version];
        ++local.by_workload[r.served_by];
      }
      if (r.status != 0 && !r.mtls) local.all_mtls = false;
      if (!r.error.empty() && local.errors.size() < 5 &&
          std::find(local.errors.begin(), local.errors.end(), r.error) == local.errors.end()) {
        local.errors.push_back(r.error);
      }
      lat.push_back(r.latency_ms);
    }
    {
      std::lock_guard lock(shared->mu);
      auto& g = shared->result;
      g.sent += local.sent;
      for (auto& [k, v] : local.by_status) g.by_status[k] += v;
      for (auto& [k, v] : local.by_version) g.by_version[k] += v;
      for (auto& [k, v] : local.by_workload) g.by_workload[k] += v;
      g.all_mtls = g.all_mtls && local.all_mtls;
      for (auto& e : local.errors) {
        if (g.errors.size() < 5 && std::find(g.errors.begin(), g.errors.end(), e) == g.errors.end()) {
          g.errors.push_back(e);
        }
      }
      shared->latencies.insert(shared->latencies.end(), lat.begin(), lat.end());
    }
    if (shared->running.fetch_sub(1) == 1) shared->done.set_value();
  };
  for (uint32_t i = 0; i < workers; ++i) asio::co_spawn(*io, worker(), asio::detached);
  shared->done.get_future().wait();
  out = std::move(shared->result);
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto& lat = shared->latencies;
  std::sort(lat.begin(), lat.end());
  auto q = [&](double p) {
    if (lat.empty()) return 0.0;
    size_t i = static_cast<size_t>(p * static_cast<double>(lat.size() - 1) + 0.5);
    return lat[std::min(i, lat.size() - 1)];
  };
  out.p50_ms = q(0.5);
  out.p90_ms = q(0.9);
  out.p99_ms = q(0.99);
  out.max_ms = lat.empty() ? 0 : lat.back();
  return out;
}

observe::TelemetrySnapshot LoopbackDataPlane::telemetry() const {
  return impl_->mesh->telemetry.snapshot();
}

std::vector<observe::AccessLogEntry> LoopbackDataPlane::accessLog(size_t max_entries) const {
  return impl_->mesh->telemetry.accessLog(max_entries);
}

uint16_t LoopbackDataPlane::ingressPort() const { return impl_->ingress_port; }

Result<uint16_t> LoopbackDataPlane::serveAdmin(uint16_t port, dataplane::AdminHandler handler) {
  if (!impl_->admin) impl_->admin = std::make_unique<AdminServer>();
  return impl_->admin->start(port, std::move(handler));
}

size_t LoopbackDataPlane::listenerCount() const {
  size_t n = impl_->ingress ? 1 : 0;
  for (const auto& [key, rep] : impl_->replicas) n += rep->plan() ? rep->plan()->ports.size() : 0;
  return n;
}

}  // namespace meshsim::proxy
