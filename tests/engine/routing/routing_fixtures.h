#pragma once
// Builders for routing tests: a small bookinfo-like model constructed directly in C++.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "meshsim/config/store.h"
#include "meshsim/model/istio.h"
#include "meshsim/model/mesh.h"

namespace meshsim::routing::testing {

inline model::ObjectMeta meta(const char* kind, std::string ns, std::string name,
                              int64_t created = 1) {
  model::ObjectMeta m;
  m.kind = kind;
  m.namespace_ = std::move(ns);
  m.name = std::move(name);
  m.creation_index = created;
  return m;
}

inline model::Service service(std::string ns, std::string name,
                              std::vector<uint32_t> ports = {9080}) {
  model::Service s;
  s.meta = meta("Service", std::move(ns), std::move(name));
  for (uint32_t p : ports)
    s.ports.push_back({"http-" + std::to_string(p), p, p, model::Protocol::kHttp});
  return s;
}

inline model::Workload workload(std::string ns, std::string name, std::string svc,
                                model::StringMap labels, uint32_t replicas = 1,
                                bool sidecar = true) {
  model::Workload w;
  w.meta = meta("Workload", std::move(ns), std::move(name));
  w.service = std::move(svc);
  w.labels = std::move(labels);
  w.replicas = replicas;
  w.sidecar = sidecar;
  return w;
}

inline model::Subset subset(std::string name, model::StringMap labels) {
  model::Subset s;
  s.name = std::move(name);
  s.labels = std::move(labels);
  return s;
}

inline model::DestinationRule destinationRule(std::string ns, std::string name, std::string host,
                                              std::vector<model::Subset> subsets = {},
                                              int64_t created = 1) {
  model::DestinationRule d;
  d.meta = meta("DestinationRule", std::move(ns), std::move(name), created);
  d.host = std::move(host);
  d.subsets = std::move(subsets);
  return d;
}

inline model::ClientTls tls(model::TlsMode mode) {
  model::ClientTls t;
  t.mode = mode;
  return t;
}

inline model::HttpRouteDestination to(std::string host, std::string subset = {},
                                      std::optional<int64_t> weight = std::nullopt) {
  model::HttpRouteDestination d;
  d.destination.host = std::move(host);
  d.destination.subset = std::move(subset);
  d.weight = weight;
  return d;
}

inline model::StringMatch exact(std::string v) {
  return {model::MatchKind::kExact, std::move(v), false};
}
inline model::StringMatch prefix(std::string v) {
  return {model::MatchKind::kPrefix, std::move(v), false};
}
inline model::StringMatch regex(std::string v) {
  return {model::MatchKind::kRegex, std::move(v), false};
}
inline model::StringMatch present() { return {model::MatchKind::kExact, "", true}; }

inline model::HttpMatchRequest uri(model::StringMatch m) {
  model::HttpMatchRequest r;
  r.uri = std::move(m);
  return r;
}

inline model::HttpMatchRequest header(std::string name, model::StringMatch m) {
  model::HttpMatchRequest r;
  r.headers.emplace(std::move(name), std::move(m));
  return r;
}

inline model::HttpRoute httpRoute(std::vector<model::HttpMatchRequest> match,
                                  std::vector<model::HttpRouteDestination> dests) {
  model::HttpRoute r;
  r.match = std::move(match);
  r.route = std::move(dests);
  return r;
}

inline model::VirtualService virtualService(std::string ns, std::string name,
                                            std::vector<std::string> hosts,
                                            std::vector<model::HttpRoute> http,
                                            int64_t created = 1) {
  model::VirtualService v;
  v.meta = meta("VirtualService", std::move(ns), std::move(name), created);
  v.hosts = std::move(hosts);
  v.http = std::move(http);
  return v;
}

/// bookinfo: reviews v1 (2 replicas), v2, v3; ratings v1; productpage (the client); a
/// DestinationRule "reviews" with subsets v1, v2, v3 and v4 (v4 has no workload).
inline std::vector<model::Resource> bookinfo() {
  return {
      service("bookinfo", "reviews"),
      service("bookinfo", "ratings"),
      service("bookinfo", "productpage"),
      service("bookinfo", "details", {9080, 9443}),
      workload("bookinfo", "reviews-v1", "reviews", {{"app", "reviews"}, {"version", "v1"}}, 2),
      workload("bookinfo", "reviews-v2", "reviews", {{"app", "reviews"}, {"version", "v2"}}),
      workload("bookinfo", "reviews-v3", "reviews", {{"app", "reviews"}, {"version", "v3"}}),
      workload("bookinfo", "ratings-v1", "ratings", {{"app", "ratings"}, {"version", "v1"}}),
      workload("bookinfo", "details-v1", "details", {{"app", "details"}, {"version", "v1"}}),
      workload("bookinfo", "productpage-v1", "productpage",
               {{"app", "productpage"}, {"version", "v1"}}),
      destinationRule("bookinfo", "reviews", "reviews",
                      {subset("v1", {{"version", "v1"}}), subset("v2", {{"version", "v2"}}),
                       subset("v3", {{"version", "v3"}}), subset("v4", {{"version", "v4"}})}),
  };
}

}  // namespace meshsim::routing::testing
