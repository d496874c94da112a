#pragma once
/// The real data plane: one mutual-TLS sidecar per workload replica on its own loopback address
/// (127.C.X.Y), an in-process app behind each, and an ingress gateway on 127.0.0.1. Boost.Asio
/// event loops, Boost.Beast HTTP/1.1, OpenSSL 3 TLS 1.3 with pooled, resumable connections.
/// Enforcement calls the engine's single implementation of the rules (routing, client transport,
/// JWT authentication, authorization); nothing here re-decides what the engine already defines.

#include <cstdint>
#include <memory>

#include "meshsim/dataplane/dataplane.h"

namespace meshsim::proxy {

/// How the loopback data plane runs.
struct LoopbackOptions {
  /// Event-loop threads. Each replica (and its connections) lives on one of them; two match the
  /// two cores of the reference machine (performance.md, design consequence 4).
  unsigned threads = 2;
  /// The ingress gateway's port on 127.0.0.1 (0: an ephemeral port, see ingressPort()).
  uint16_t ingress_port = 0;
  /// Whether to start the ingress gateway at all.
  bool ingress = true;
  /// Access log entries kept in memory (oldest dropped first).
  size_t access_log_capacity = 10000;
};

/// Implements dataplane::DataPlane on loopback. Thread-safe for the DataPlane calls (made from
/// the engine thread); everything else runs on its own event-loop threads.
class LoopbackDataPlane final : public dataplane::DataPlane {
 public:
  explicit LoopbackDataPlane(LoopbackOptions options = {});
  /// Stops and joins (stop()).
  ~LoopbackDataPlane() override;
  LoopbackDataPlane(const LoopbackDataPlane&) = delete;
  LoopbackDataPlane& operator=(const LoopbackDataPlane&) = delete;

  Status apply(std::shared_ptr<const dataplane::MeshPlan> plan) override;
  void stop() override;
  dataplane::ProbeResult probe(const dataplane::ProbeRequest& request) override;
  dataplane::TrafficResult traffic(const dataplane::TrafficSpec& spec) override;
  observe::TelemetrySnapshot telemetry() const override;
  std::vector<observe::AccessLogEntry> accessLog(size_t max_entries) const override;
  uint16_t ingressPort() const override;
  size_t listenerCount() const override;
  Result<uint16_t> serveAdmin(uint16_t port, dataplane::AdminHandler handler) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshsim::proxy
