// Telemetry: per-edge series keyed by a compact string, materialized as Istio labels once.
#include <algorithm>
#include <charconv>

#include "core.h"

namespace meshsim::proxy {

namespace {

std::string orUnknown(std::string_view s) { return s.empty() ? "unknown" : std::string(s); }

}  // namespace

void Telemetry::key(std::string& k, const Edge& edge, int status, std::string_view flags) {
  k.clear();
  k.append(edge.reporter).push_back('|');
  k.append(edge.source != nullptr ? edge.source->key : std::string_view("?")).push_back('|');
  k.append(edge.source_principal).push_back('|');
  k.append(edge.destination != nullptr ? edge.destination->key : std::string_view("?")).push_back('|');
  k.append(edge.destination_service).push_back('|');
  char digits[12];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), status);
  k.append(digits, end).push_back('|');
  k.append(flags).push_back('|');
  k.push_back(edge.mtls ? 'm' : 'p');
  k.push_back(edge.http ? 'h' : 't');
}

observe::RequestLabels Telemetry::labels(const Edge& edge, int status, std::string_view flags) {
  observe::RequestLabels l;
  l.reporter = edge.reporter;
  if (const auto* s = edge.source) {
    l.source_workload = s->name;
    l.source_workload_namespace = s->namespace_;
    l.source_app = s->app;
    l.source_version = orUnknown(s->version);
    l.source_cluster = s->cluster;
  } else {
    l.source_workload = l.source_workload_namespace = l.source_app = l.source_version = "unknown";
    l.source_cluster = "unknown";
  }
  l.source_principal = orUnknown(edge.source_principal);
  if (const auto* d = edge.destination) {
    l.destination_workload = d->name;
    l.destination_workload_namespace = d->namespace_;
    l.destination_principal = d->sidecar ? d->spiffe_id : "unknown";
    l.destination_app = d->app;
    l.destination_version = orUnknown(d->version);
    l.destination_cluster = d->cluster;
  } else {
    l.destination_workload = l.destination_workload_namespace = "unknown";
    l.destination_principal = l.destination_app = l.destination_version = "unknown";
    l.destination_cluster = "unknown";
  }
  l.destination_service = orUnknown(edge.destination_service);
  l.destination_service_name = orUnknown(edge.destination_service_name);
  l.destination_service_namespace = orUnknown(edge.destination_service_namespace);
  l.request_protocol = edge.http ? "http" : "tcp";
  l.response_code = status;
  l.response_flags = flags.empty() ? "-" : std::string(flags);
  l.connection_security_policy = edge.mtls ? "mutual_tls" : "none";
  return l;
}

void Telemetry::request(const Edge& edge, int status, std::string_view flags, double duration_ms) {
  // One buffer per thread: the key of a known series is built without allocating.
  thread_local std::string k;
  key(k, edge, status, flags);
  std::lock_guard lock(mu_);
  auto it = requests_.find(std::string_view(k));
  if (it == requests_.end()) {
    it = requests_.emplace(k, Series{labels(edge, status, flags), {}, {}}).first;
  }
  it->second.stats.add(duration_ms);
}

void Telemetry::tcp(const Edge& edge, bool opened) {
  std::string k;
  key(k, edge, 0, "");
  std::lock_guard lock(mu_);
  auto it = tcp_.find(std::string_view(k));
  if (it == tcp_.end()) it = tcp_.emplace(std::move(k), Series{labels(edge, 0, ""), {}, {}}).first;
  if (opened) {
    ++it->second.tcp.opened;
  } else {
    ++it->second.tcp.closed;
  }
}

void Telemetry::log(observe::AccessLogEntry entry) {
  std::lock_guard lock(mu_);
  if (log_capacity_ == 0) return;
  if (log_.size() >= log_capacity_) log_.pop_front();
  log_.push_back(std::move(entry));
}

observe::TelemetrySnapshot Telemetry::snapshot() const {
  observe::TelemetrySnapshot out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, s] : requests_) out.requests.emplace_back(s.labels, s.stats);
    for (const auto& [k, s] : tcp_) out.tcp.emplace_back(s.labels, s.tcp);
  }
  auto byLabels = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::sort(out.requests.begin(), out.requests.end(), byLabels);
  std::sort(out.tcp.begin(), out.tcp.end(), byLabels);
  return out;
}

std::vector<observe::AccessLogEntry> Telemetry::accessLog(size_t max_entries) const {
  std::lock_guard lock(mu_);
  size_t n = std::min(max_entries, log_.size());
  return {log_.end() - static_cast<std::ptrdiff_t>(n), log_.end()};
}

}  // namespace meshsim::proxy
