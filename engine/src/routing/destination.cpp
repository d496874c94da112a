// Host resolution, DestinationRule lookup and merge, effective traffic policy, endpoints.
#include "meshsim/routing/destination.h"

#include <algorithm>

namespace meshsim::routing {

namespace {

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool labelsInclude(const model::StringMap& labels, const model::StringMap& wanted) {
  for (const auto& [k, v] : wanted) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

// The portLevelSettings entry of `policy` for `port`, or nullptr.
const model::TrafficPolicy::PortSettings* portSettings(const model::TrafficPolicy& policy,
                                                       uint32_t port) {
  for (const auto& p : policy.port_level_settings) {
    if (p.port == port) return &p;
  }
  return nullptr;
}

// One level of traffic policy with its port-level entry applied wholesale.
struct Level {
  std::optional<model::ClientTls> tls;
  std::optional<model::ConnectionPool> connection_pool;
  std::optional<model::OutlierDetection> outlier_detection;
  model::LbPolicy load_balancer = model::LbPolicy::kUnset;
  bool port_level = false;
};

Level levelFor(const model::TrafficPolicy& policy, uint32_t port) {
  Level level;
  if (const auto* ps = portSettings(policy, port)) {
    level.tls = ps->tls;
    level.connection_pool = ps->connection_pool;
    level.outlier_detection = ps->outlier_detection;
    level.load_balancer = ps->load_balancer;
    level.port_level = true;
    return level;
  }
  level.tls = policy.tls;
  level.connection_pool = policy.connection_pool;
  level.outlier_detection = policy.outlier_detection;
  level.load_balancer = policy.load_balancer;
  return level;
}

}  // namespace

std::string ServiceRef::fqdn() const {
  return name + "." + namespace_ + "." + std::string(kServiceDomain);
}

std::string_view hostWithoutPort(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(1, close - 1);
  }
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) return authority;
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (authority.find(':') != colon) return authority;
  return authority.substr(0, colon);
}

HostTarget resolveHost(const config::Snapshot& snapshot, std::string_view host,
                       std::string_view context_ns) {
  HostTarget target;
  std::string h = lowerCopy(hostWithoutPort(host));
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (h.empty() || h.front() == '*') {
    target.canonical = std::move(h);
    return target;
  }
  std::vector<std::string_view> labels;
  std::string_view rest = h;
  while (true) {
    const size_t dot = rest.find('.');
    labels.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  const std::string suffix = "." + std::string(kServiceDomain);
  if (labels.size() == 1) {
    target.service = ServiceRef{std::string(context_ns), h};
  } else if (labels.size() == 2) {
    if (snapshot.findService(std::string(labels[1]), std::string(labels[0])) != nullptr) {
      target.service = ServiceRef{std::string(labels[1]), std::string(labels[0])};
    }
  } else if (labels.size() == 3 && labels[2] == "svc") {
    target.service = ServiceRef{std::string(labels[1]), std::string(labels[0])};
  } else if (labels.size() == 5 && h.size() > suffix.size() &&
             h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) {
    target.service = ServiceRef{std::string(labels[1]), std::string(labels[0])};
  }
  if (target.service) {
    target.canonical = target.service->fqdn();
    target.resource = snapshot.findService(target.service->namespace_, target.service->name);
  } else {
    target.canonical = std::move(h);
  }
  return target;
}

bool hostMatches(std::string_view pattern, std::string_view host) {
  if (pattern == host) return true;
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern[0] == '*' && pattern[1] == '.') {
    const std::string_view suffix = pattern.substr(1);
    return host.size() > suffix.size() &&
           host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return false;
}

bool isVisibleFrom(const std::vector<std::string>& export_to, std::string_view owner_ns,
                   std::string_view client_ns) {
  if (export_to.empty()) return true;
  for (const auto& e : export_to) {
    if (e == "*") return true;
    if (e == "." && owner_ns == client_ns) return true;
    if (e != "." && e != "~" && e == client_ns) return true;
  }
  return false;
}

std::optional<ResolvedDestinationRule> findDestinationRule(const config::Snapshot& snapshot,
                                                           std::string_view client_ns,
                                                           const ServiceRef& service,
                                                           const model::StringMap* client_labels) {
  const std::string fqdn = service.fqdn();
  std::vector<std::string> order = {std::string(client_ns)};
  for (const std::string& ns : {service.namespace_, snapshot.rootNamespace()}) {
    if (std::find(order.begin(), order.end(), ns) == order.end()) order.push_back(ns);
  }
  for (const auto& ns : order) {
    struct Candidate {
      const model::DestinationRule* rule;
      int selector;   // 1 when a matching workloadSelector picked it
      int exact;      // 1 for an exact host
      size_t length;  // pattern length, longer wildcards are more specific
    };
    std::vector<Candidate> candidates;
    for (const auto* dr : snapshot.destination_rules) {
      if (dr->meta.namespace_ != ns) continue;
      const std::string pattern = resolveHost(snapshot, dr->host, ns).canonical;
      if (!hostMatches(pattern, fqdn)) continue;
      if (!isVisibleFrom(dr->export_to, ns, client_ns)) continue;
      int selector = 0;
      if (dr->workload_selector.present && !dr->workload_selector.match_labels.empty()) {
        if (ns != client_ns || client_labels == nullptr ||
            !dr->workload_selector.matches(*client_labels)) {
          continue;
        }
        selector = 1;
      }
      candidates.push_back({dr, selector, pattern == fqdn ? 1 : 0, pattern.size()});
    }
    if (candidates.empty()) continue;
    const auto better = [](const Candidate& a, const Candidate& b) {
      if (a.selector != b.selector) return a.selector > b.selector;
      if (a.exact != b.exact) return a.exact > b.exact;
      return a.length > b.length;
    };
    const Candidate best = *std::min_element(candidates.begin(), candidates.end(), better);
    std::vector<const model::DestinationRule*> group;
    for (const auto& c : candidates) {
      if (!better(best, c) && !better(c, best)) group.push_back(c.rule);
    }
    std::sort(group.begin(), group.end(), [](const auto* a, const auto* b) {
      if (a->meta.creation_index != b->meta.creation_index) {
        return a->meta.creation_index < b->meta.creation_index;
      }
      return a->meta.name < b->meta.name;
    });
    ResolvedDestinationRule out;
    out.namespace_ = ns;
    out.rule = *group.front();
    out.sources.push_back(ns + "/" + group.front()->meta.name);
    for (size_t i = 1; i < group.size(); ++i) {
      const auto* dr = group[i];
      out.sources.push_back(ns + "/" + dr->meta.name);
      for (const auto& subset : dr->subsets) {
        if (findSubset(out.rule, subset.name) == nullptr) out.rule.subsets.push_back(subset);
      }
      if (!out.rule.traffic_policy && dr->traffic_policy)
        out.rule.traffic_policy = dr->traffic_policy;
    }
    return out;
  }
  return std::nullopt;
}

const model::Subset* findSubset(const model::DestinationRule& rule, std::string_view name) {
  for (const auto& s : rule.subsets) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

EffectiveTrafficPolicy effectiveTrafficPolicy(const model::DestinationRule* rule,
                                              std::string_view subset, uint32_t port,
                                              std::string rule_name) {
  EffectiveTrafficPolicy out;
  if (rule == nullptr) return out;
  out.destination_rule = std::move(rule_name);
  const std::string port_text = std::to_string(port);

  Level merged;
  if (rule->traffic_policy) {
    merged = levelFor(*rule->traffic_policy, port);
    if (merged.tls) out.tls_source = merged.port_level ? "port " + port_text : "top-level";
  }
  const model::Subset* s = subset.empty() ? nullptr : findSubset(*rule, subset);
  if (s != nullptr && s->traffic_policy) {
    const Level sub = levelFor(*s->traffic_policy, port);
    const bool all = sub.port_level;
    if (sub.connection_pool || all) merged.connection_pool = sub.connection_pool;
    if (sub.outlier_detection || all) merged.outlier_detection = sub.outlier_detection;
    if (sub.load_balancer != model::LbPolicy::kUnset || all)
      merged.load_balancer = sub.load_balancer;
    if (sub.tls || all) {
      merged.tls = sub.tls;
      out.tls_source = !sub.tls ? "" : all ? "subset port " + port_text : "subset";
    }
  }
  out.tls = std::move(merged.tls);
  out.connection_pool = std::move(merged.connection_pool);
  out.outlier_detection = std::move(merged.outlier_detection);
  out.load_balancer = merged.load_balancer;
  if (!out.tls) out.tls_source.clear();
  return out;
}

bool workloadServes(const model::Workload& workload, const ServiceRef& service) {
  if (workload.service.empty()) return false;
  const size_t slash = workload.service.find('/');
  if (slash == std::string::npos) {
    return workload.meta.namespace_ == service.namespace_ && workload.service == service.name;
  }
  return workload.service.compare(0, slash, service.namespace_) == 0 &&
         slash == service.namespace_.size() &&
         workload.service.compare(slash + 1, std::string::npos, service.name) == 0;
}

EndpointSet endpointsOf(const config::Snapshot& snapshot, const ServiceRef& service,
                        const model::StringMap* subset_labels) {
  EndpointSet out;
  for (const auto* w : snapshot.workloads) {
    if (w->replicas == 0 || !workloadServes(*w, service)) continue;
    if (subset_labels != nullptr && !labelsInclude(w->labels, *subset_labels)) continue;
    out.workloads.push_back(w);
    out.replicas += w->replicas;
  }
  return out;
}

}  // namespace meshsim::routing
