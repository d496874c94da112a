// VirtualService routing: compile once per snapshot, then route requests without allocating.
#include "meshsim/routing/route.h"

#include <re2/re2.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace meshsim::routing {

namespace {

constexpr std::string_view kDefaultRetryOn =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
constexpr std::string_view kNoHealthyUpstream = "no healthy upstream";
constexpr std::string_view kUpstreamTimeout = "upstream request timeout";
constexpr std::string_view kFaultAbort = "fault filter abort";

bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
char toLower(char c) { return isUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toLower(a[i]) != toLower(b[i])) return false;
  }
  return true;
}

bool startsWith(std::string_view s, std::string_view prefix, bool ignore_case) {
  if (s.size() < prefix.size()) return false;
  return ignore_case ? equalsIgnoreCase(s.substr(0, prefix.size()), prefix)
                     : s.substr(0, prefix.size()) == prefix;
}

bool labelsInclude(const model::StringMap* labels, const model::StringMap& wanted) {
  if (wanted.empty()) return true;
  if (labels == nullptr) return false;
  for (const auto& [k, v] : wanted) {
    auto it = labels->find(k);
    if (it == labels->end() || it->second != v) return false;
  }
  return true;
}

std::string describeLabels(const model::StringMap& labels) {
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ", ";
    out += k + "=" + v;
  }
  return out + "}";
}

// Response flags, with the fault-delay flag in front when a delay was injected.
std::string_view flagsFor(std::string_view flag, bool delayed) {
  if (!delayed) return flag;
  if (flag.empty()) return "DI";
  if (flag == "NC") return "DI,NC";
  if (flag == "UH") return "DI,UH";
  if (flag == "UT") return "DI,UT";
  return flag;
}

// One compiled StringMatch.
struct Matcher {
  model::MatchKind kind = model::MatchKind::kExact;
  std::string value;
  bool presence = false;
  bool ignore_case = false;
  std::shared_ptr<const RE2> re;  // regex only; null when the regex is invalid

  bool matches(std::string_view v) const {
    if (presence) return true;
    switch (kind) {
      case model::MatchKind::kExact:
        return ignore_case ? equalsIgnoreCase(v, value) : v == value;
      case model::MatchKind::kPrefix:
        return startsWith(v, value, ignore_case);
      case model::MatchKind::kRegex:
        return re != nullptr && RE2::FullMatch(v, *re);
    }
    return false;
  }
};

struct HeaderMatch {
  std::string name;
  Matcher matcher;
  bool invert = false;  // withoutHeaders
};

struct QueryMatch {
  std::string name;
  Matcher matcher;
};

struct CompiledMatch {
  std::optional<Matcher> uri, scheme, method, authority;
  std::vector<HeaderMatch> headers;
  std::vector<QueryMatch> query;
  std::optional<uint32_t> port;
  model::StringMap source_labels;
  std::string source_namespace;
  std::vector<std::string> gateways;
  bool never = false;  // an invalid regex: Istio rejects such a VirtualService
};

struct CompiledDest {
  std::string host;  // canonical
  int service = -1;  // index into Impl::services; -1 = no such Service
  std::string subset;
  std::optional<uint32_t> port;
  double share = 0;
};

struct CompiledRoute {
  const model::HttpRoute* route = nullptr;
  int32_t index = 0;
  std::vector<CompiledMatch> matches;
  std::vector<CompiledDest> dests;
  std::vector<double> cumulative;
  std::vector<policy::RouteInfo> infos;  // one per destination
  policy::RouteInfo info;                // no destination chosen (abort, redirect, direct)
  RetryPolicy retries;
  std::optional<model::Duration> timeout;
};

struct CompiledVs {
  const model::VirtualService* vs = nullptr;
  std::string id;
  std::string ns;
  std::vector<std::string> hosts;
  std::vector<std::string> gateways;
  std::vector<CompiledRoute> routes;
  policy::RouteInfo no_route_info;
};

struct PortPolicy {
  uint32_t port = 0;
  EffectiveTrafficPolicy policy;
};

// A Service as seen through the DestinationRule one client namespace resolves (or none).
struct ClusterView {
  struct SubsetView {
    std::string name;
    EndpointSet endpoints;
    std::vector<PortPolicy> ports;
    EffectiveTrafficPolicy fallback;  // ports without portLevelSettings
  };
  std::optional<ResolvedDestinationRule> dr;
  EndpointSet all;
  std::vector<PortPolicy> ports;
  EffectiveTrafficPolicy fallback;
  std::vector<SubsetView> subsets;

  const SubsetView* findSubset(std::string_view name) const {
    for (const auto& s : subsets) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  static const EffectiveTrafficPolicy* policyFor(const std::vector<PortPolicy>& ports,
                                                 const EffectiveTrafficPolicy& fallback,
                                                 uint32_t port) {
    for (const auto& p : ports) {
      if (p.port == port) return &p.policy;
    }
    return &fallback;
  }
};

struct ServiceData {
  ServiceRef ref;
  std::string fqdn;
  std::vector<uint32_t> ports;
  std::vector<std::shared_ptr<const ClusterView>> views;  // by namespace index
  std::vector<std::string> selector_namespaces;           // namespaces with workloadSelector rules
  policy::RouteInfo default_info;
  int host = -1;  // index into Impl::hosts
};

struct HostEntry {
  std::string canonical;
  int service = -1;
  std::vector<int> vs;  // candidates, best first
};

struct NsNameLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    const std::string_view a1 = a.first, a2 = a.second, b1 = b.first, b2 = b.second;
    return a1 < b1 || (a1 == b1 && a2 < b2);
  }
};

// The cluster view of `svc` under the DestinationRule `dr`; `all` are the service's endpoints
// (computed once per service: a mesh of 10,000 services must not rescan every workload for each
// service and client namespace).
std::shared_ptr<const ClusterView> buildView(const ServiceData& svc,
                                             std::optional<ResolvedDestinationRule> dr,
                                             const EndpointSet& all) {
  auto view = std::make_shared<ClusterView>();
  view->dr = std::move(dr);
  view->all = all;
  const model::DestinationRule* rule = view->dr ? &view->dr->rule : nullptr;
  std::string name;
  std::vector<uint32_t> ports = svc.ports;
  if (view->dr) {
    for (const auto& s : view->dr->sources) name += (name.empty() ? "" : ",") + s;
    auto addPorts = [&](const std::optional<model::TrafficPolicy>& tp) {
      if (!tp) return;
      for (const auto& p : tp->port_level_settings) ports.push_back(p.port);
    };
    addPorts(rule->traffic_policy);
    for (const auto& s : rule->subsets) addPorts(s.traffic_policy);
  }
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  for (uint32_t p : ports) view->ports.push_back({p, effectiveTrafficPolicy(rule, "", p, name)});
  view->fallback = effectiveTrafficPolicy(rule, "", 0, name);
  if (rule != nullptr) {
    for (const auto& s : rule->subsets) {
      ClusterView::SubsetView sv;
      sv.name = s.name;
      for (const model::Workload* w : all.workloads) {
        if (!labelsInclude(&w->labels, s.labels)) continue;
        sv.endpoints.workloads.push_back(w);
        sv.endpoints.replicas += w->replicas;
      }
      for (uint32_t p : ports)
        sv.ports.push_back({p, effectiveTrafficPolicy(rule, s.name, p, name)});
      sv.fallback = effectiveTrafficPolicy(rule, s.name, 0, name);
      view->subsets.push_back(std::move(sv));
    }
  }
  return view;
}

std::shared_ptr<const ClusterView> buildView(const config::Snapshot& snapshot,
                                             const ServiceData& svc, std::string_view client_ns,
                                             const model::StringMap* client_labels) {
  return buildView(svc, findDestinationRule(snapshot, client_ns, svc.ref, client_labels),
                   endpointsOf(snapshot, svc.ref));
}

}  // namespace

// ---------------------------------------------------------------- compiled state

struct CompiledRoutes::Impl {
  std::shared_ptr<const config::Snapshot> snapshot;
  Diagnostics diagnostics;
  std::vector<CompiledVs> vss;
  std::vector<ServiceData> services;
  std::map<std::pair<std::string, std::string>, int, NsNameLess> service_index;
  std::vector<HostEntry> hosts;
  std::map<std::string, int, std::less<>> host_index;
  std::vector<int> wildcard_vs;
  std::map<std::string, int, std::less<>> ns_index;
  int other_ns = 0;
  RetryPolicy default_retries;
};

struct RouteAccess {
  using Impl = CompiledRoutes::Impl;
  static const Impl& impl(const CompiledRoutes& r) { return *r.impl_; }
  static void set(CompiledRoutes& r, std::shared_ptr<const Impl> impl) {
    r.impl_ = std::move(impl);
  }
};

namespace {

using Impl = RouteAccess::Impl;

Matcher compileMatcher(const model::StringMatch& m, bool ignore_case, Diagnostics& diags,
                       const SourceLocation& where, const std::string& field, bool& never) {
  Matcher out;
  out.kind = m.kind;
  out.value = m.value;
  out.presence = m.presence_only;
  out.ignore_case = ignore_case && m.kind != model::MatchKind::kRegex;
  if (!m.presence_only && m.kind == model::MatchKind::kRegex) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<RE2>(m.value, options);
    if (!re->ok()) {
      diags.warning(where, field,
                    "invalid regex \"" + m.value + "\": " + re->error() +
                        " (Istio rejects it; meshsim never matches it)");
      never = true;
    } else {
      out.re = std::move(re);
    }
  }
  return out;
}

std::string resolveGateway(std::string_view gateway, const std::string& vs_ns) {
  if (gateway == kMeshGateway || gateway.find('/') != std::string_view::npos) {
    return std::string(gateway);
  }
  return vs_ns + "/" + std::string(gateway);
}

CompiledMatch compileMatch(const model::HttpMatchRequest& m, const CompiledVs& vs,
                           const std::string& field, Diagnostics& diags) {
  CompiledMatch out;
  const SourceLocation& where = m.source.known() ? m.source : vs.vs->meta.source;
  if (m.uri)
    out.uri = compileMatcher(*m.uri, m.ignore_uri_case, diags, where, field + ".uri", out.never);
  if (m.scheme)
    out.scheme = compileMatcher(*m.scheme, false, diags, where, field + ".scheme", out.never);
  if (m.method)
    out.method = compileMatcher(*m.method, false, diags, where, field + ".method", out.never);
  if (m.authority) {
    out.authority =
        compileMatcher(*m.authority, false, diags, where, field + ".authority", out.never);
  }
  for (const auto& [name, sm] : m.headers) {
    std::string lname(name);
    for (char& c : lname) c = toLower(c);
    out.headers.push_back(
        {lname, compileMatcher(sm, false, diags, where, field + ".headers." + name, out.never),
         false});
  }
  for (const auto& [name, sm] : m.without_headers) {
    std::string lname(name);
    for (char& c : lname) c = toLower(c);
    out.headers.push_back(
        {lname,
         compileMatcher(sm, false, diags, where, field + ".withoutHeaders." + name, out.never),
         true});
  }
  for (const auto& [name, sm] : m.query_params) {
    out.query.push_back(
        {name, compileMatcher(sm, false, diags, where, field + ".queryParams." + name, out.never)});
  }
  out.port = m.port;
  out.source_labels = m.source_labels;
  out.source_namespace = m.source_namespace;
  for (const auto& g : m.gateways) out.gateways.push_back(resolveGateway(g, vs.ns));
  return out;
}

std::string destinationText(const std::string& host, const std::string& subset) {
  return subset.empty() ? host : host + ":" + subset;
}

int serviceIndexOf(const Impl& impl, const HostTarget& target) {
  if (!target.service) return -1;
  auto it = impl.service_index.find(std::pair<std::string_view, std::string_view>(
      target.service->namespace_, target.service->name));
  return it == impl.service_index.end() ? -1 : it->second;
}

void compileRoute(const model::HttpRoute& hr, int32_t index, CompiledVs& vs, Impl& impl) {
  const config::Snapshot& snap = *impl.snapshot;
  CompiledRoute out;
  out.route = &hr;
  out.index = index;
  const std::string field = "spec.http[" + std::to_string(index) + "]";
  for (size_t i = 0; i < hr.match.size(); ++i) {
    out.matches.push_back(compileMatch(hr.match[i], vs, field + ".match[" + std::to_string(i) + "]",
                                       impl.diagnostics));
  }
  double sum = 0;
  for (const auto& d : hr.route) {
    CompiledDest cd;
    const HostTarget target = resolveHost(snap, d.destination.host, vs.ns);
    cd.host = target.canonical;
    cd.service = serviceIndexOf(impl, target);
    cd.subset = d.destination.subset;
    cd.port = d.destination.port;
    cd.share = hr.route.size() == 1
                   ? 1.0
                   : static_cast<double>(std::max<int64_t>(0, d.weight.value_or(0)));
    sum += cd.share;
    out.dests.push_back(std::move(cd));
  }
  if (out.dests.size() > 1) {
    if (sum <= 0) {
      impl.diagnostics.warning(hr.source.known() ? hr.source : vs.vs->meta.source, field + ".route",
                               "every destination has weight 0: requests matching this route "
                               "find no cluster (503 NC)");
    }
    for (auto& d : out.dests) d.share = sum > 0 ? d.share / sum : 0;
  }
  double cum = 0;
  std::vector<policy::SubsetShare> shares;
  for (const auto& d : out.dests) {
    cum += d.share;
    out.cumulative.push_back(cum);
    shares.push_back({d.host, d.subset, d.share});
  }
  out.info = {vs.id, index, "", shares};
  for (const auto& d : out.dests) {
    out.infos.push_back({vs.id, index, destinationText(d.host, d.subset), shares});
  }
  if (hr.retries.present) {
    out.retries.attempts = hr.retries.attempts;
    out.retries.retry_on =
        hr.retries.retry_on.empty() ? std::string(kDefaultRetryOn) : hr.retries.retry_on;
    out.retries.per_try_timeout = hr.retries.per_try_timeout;
  } else {
    out.retries = impl.default_retries;
  }
  if (hr.timeout && hr.timeout->millis > 0) out.timeout = hr.timeout;
  vs.routes.push_back(std::move(out));
}

int hostEntry(Impl& impl, const std::string& canonical) {
  auto it = impl.host_index.find(canonical);
  if (it != impl.host_index.end()) return it->second;
  const int idx = static_cast<int>(impl.hosts.size());
  impl.hosts.push_back({canonical, -1, {}});
  impl.host_index.emplace(canonical, idx);
  return idx;
}

// Orders VirtualService candidates of one host: exact hosts first, then more specific
// wildcards, then creation order.
void sortCandidates(const Impl& impl, HostEntry& entry) {
  auto specificity = [&](int vi) {
    size_t best = 0;
    bool exact = false;
    for (const auto& h : impl.vss[static_cast<size_t>(vi)].hosts) {
      if (h == entry.canonical) exact = true;
      if (hostMatches(h, entry.canonical)) best = std::max(best, h.size());
    }
    return std::make_pair(exact ? 1 : 0, best);
  };
  std::stable_sort(entry.vs.begin(), entry.vs.end(), [&](int a, int b) {
    const auto sa = specificity(a);
    const auto sb = specificity(b);
    if (sa != sb) return sa > sb;
    const auto& ma = impl.vss[static_cast<size_t>(a)].vs->meta;
    const auto& mb = impl.vss[static_cast<size_t>(b)].vs->meta;
    if (ma.creation_index != mb.creation_index) return ma.creation_index < mb.creation_index;
    return impl.vss[static_cast<size_t>(a)].id < impl.vss[static_cast<size_t>(b)].id;
  });
  entry.vs.erase(std::unique(entry.vs.begin(), entry.vs.end()), entry.vs.end());
}

}  // namespace

CompiledRoutes::CompiledRoutes() {
  auto impl = std::make_shared<Impl>();
  impl->snapshot = config::makeSnapshot({});
  impl->default_retries.retry_on = std::string(kDefaultRetryOn);
  impl_ = std::move(impl);
}
CompiledRoutes::~CompiledRoutes() = default;
CompiledRoutes::CompiledRoutes(const CompiledRoutes&) = default;
CompiledRoutes& CompiledRoutes::operator=(const CompiledRoutes&) = default;
CompiledRoutes::CompiledRoutes(CompiledRoutes&&) noexcept = default;
CompiledRoutes& CompiledRoutes::operator=(CompiledRoutes&&) noexcept = default;

const Diagnostics& CompiledRoutes::diagnostics() const { return impl_->diagnostics; }
const config::Snapshot& CompiledRoutes::snapshot() const { return *impl_->snapshot; }

CompiledRoutes compileRoutes(std::shared_ptr<const config::Snapshot> snapshot) {
  auto impl = std::make_shared<Impl>();
  impl->snapshot = snapshot ? std::move(snapshot) : config::makeSnapshot({});
  const config::Snapshot& snap = *impl->snapshot;
  impl->default_retries.attempts = 2;
  impl->default_retries.retry_on = std::string(kDefaultRetryOn);

  // Namespaces a client can be in; every other namespace resolves like `other`.
  std::vector<std::string> namespaces = {snap.rootNamespace()};
  auto addNs = [&](const std::string& ns) {
    if (!ns.empty() && ns != "." && ns != "*" && ns != "~") namespaces.push_back(ns);
  };
  for (const auto* w : snap.workloads) addNs(w->meta.namespace_);
  for (const auto* s : snap.services) addNs(s->meta.namespace_);
  for (const auto* dr : snap.destination_rules) {
    addNs(dr->meta.namespace_);
    for (const auto& e : dr->export_to) addNs(e);
  }
  for (const auto* vs : snap.virtual_services) {
    addNs(vs->meta.namespace_);
    for (const auto& e : vs->export_to) addNs(e);
  }
  std::sort(namespaces.begin(), namespaces.end());
  namespaces.erase(std::unique(namespaces.begin(), namespaces.end()), namespaces.end());
  for (size_t i = 0; i < namespaces.size(); ++i)
    impl->ns_index.emplace(namespaces[i], static_cast<int>(i));
  impl->other_ns = static_cast<int>(namespaces.size());
  namespaces.push_back(std::string("\x01other", 6));

  // A client namespace that holds no DestinationRule and that no exportTo names sees a service's
  // rule exactly as every other such namespace does (only rules exported to everyone reach it):
  // one lookup per service serves them all. Looking up every namespace for every service cost
  // services x namespaces (10,000 x 1,000 for a 10,000-workload mesh).
  std::set<std::string, std::less<>> rule_namespaces = {snap.rootNamespace()};
  for (const auto* dr : snap.destination_rules) {
    rule_namespaces.insert(dr->meta.namespace_);
    for (const auto& e : dr->export_to) rule_namespaces.insert(e);
  }

  // Services, their host spellings and their cluster views per client namespace.
  for (const auto* s : snap.services) {
    ServiceData sd;
    sd.ref = {s->meta.namespace_, s->meta.name};
    sd.fqdn = sd.ref.fqdn();
    for (const auto& p : s->ports) sd.ports.push_back(p.port);
    sd.default_info = {"", -1, sd.fqdn, {{sd.fqdn, "", 1.0}}};
    const int idx = static_cast<int>(impl->services.size());
    impl->service_index.emplace(std::make_pair(sd.ref.namespace_, sd.ref.name), idx);
    impl->services.push_back(std::move(sd));
  }
  // Endpoints of every service in one pass over the workloads.
  std::vector<EndpointSet> endpoints(impl->services.size());
  for (const auto* w : snap.workloads) {
    if (w->replicas == 0 || w->service.empty()) continue;
    const size_t slash = w->service.find('/');
    const std::string ns = slash == std::string::npos ? w->meta.namespace_ : w->service.substr(0, slash);
    const std::string name = slash == std::string::npos ? w->service : w->service.substr(slash + 1);
    auto found = impl->service_index.find(std::make_pair(ns, name));
    if (found == impl->service_index.end()) continue;
    auto& set = endpoints[static_cast<size_t>(found->second)];
    set.workloads.push_back(w);
    set.replicas += w->replicas;
  }
  for (size_t i = 0; i < impl->services.size(); ++i) {
    ServiceData& sd = impl->services[i];
    sd.host = hostEntry(*impl, sd.fqdn);
    impl->hosts[static_cast<size_t>(sd.host)].service = static_cast<int>(i);
    for (const std::string& alias :
         {sd.ref.name + "." + sd.ref.namespace_, sd.ref.name + "." + sd.ref.namespace_ + ".svc"}) {
      impl->host_index.emplace(alias, sd.host);
    }
    std::map<std::string, std::shared_ptr<const ClusterView>> by_rule;
    std::shared_ptr<const ClusterView> plain_view;  // for namespaces without rules of their own
    for (const auto& ns : namespaces) {
      const bool plain = rule_namespaces.count(ns) == 0;
      if (plain && plain_view) {
        sd.views.push_back(plain_view);
        continue;
      }
      auto dr = findDestinationRule(snap, ns, sd.ref, nullptr);
      std::string key;
      if (dr) {
        for (const auto& src : dr->sources) key += src + ",";
      }
      auto it = by_rule.find(key);
      if (it == by_rule.end()) {
        it = by_rule.emplace(key, buildView(sd, std::move(dr), endpoints[i])).first;
      }
      sd.views.push_back(it->second);
      if (plain) plain_view = it->second;
    }
    for (const auto* dr : snap.destination_rules) {
      if (!dr->workload_selector.present || dr->workload_selector.match_labels.empty()) continue;
      const std::string pattern = resolveHost(snap, dr->host, dr->meta.namespace_).canonical;
      if (hostMatches(pattern, sd.fqdn)) sd.selector_namespaces.push_back(dr->meta.namespace_);
    }
  }

  // VirtualServices.
  for (const auto* vs : snap.virtual_services) {
    CompiledVs cv;
    cv.vs = vs;
    cv.ns = vs->meta.namespace_;
    cv.id = cv.ns + "/" + vs->meta.name;
    for (const auto& h : vs->hosts) cv.hosts.push_back(resolveHost(snap, h, cv.ns).canonical);
    for (const auto& g : vs->gateways) cv.gateways.push_back(resolveGateway(g, cv.ns));
    if (cv.gateways.empty()) cv.gateways.push_back(std::string(kMeshGateway));
    cv.no_route_info = {cv.id, -1, "", {}};
    impl->vss.push_back(std::move(cv));
    CompiledVs& stored = impl->vss.back();
    for (size_t i = 0; i < vs->http.size(); ++i) {
      compileRoute(vs->http[i], static_cast<int32_t>(i), stored, *impl);
    }
  }
  for (size_t vi = 0; vi < impl->vss.size(); ++vi) {
    for (const auto& h : impl->vss[vi].hosts) {
      if (!h.empty() && h.front() == '*') {
        impl->wildcard_vs.push_back(static_cast<int>(vi));
      } else if (!h.empty()) {
        impl->hosts[static_cast<size_t>(hostEntry(*impl, h))].vs.push_back(static_cast<int>(vi));
      }
    }
  }
  impl->wildcard_vs.erase(std::unique(impl->wildcard_vs.begin(), impl->wildcard_vs.end()),
                          impl->wildcard_vs.end());
  for (auto& entry : impl->hosts) {
    for (int vi : impl->wildcard_vs) {
      for (const auto& h : impl->vss[static_cast<size_t>(vi)].hosts) {
        if (h.front() == '*' && hostMatches(h, entry.canonical)) {
          entry.vs.push_back(vi);
          break;
        }
      }
    }
    sortCandidates(*impl, entry);
    // Two VirtualServices for the same host and gateway: Istio keeps one (analyzer IST0109).
    for (size_t a = 0; a < entry.vs.size(); ++a) {
      for (size_t b = a + 1; b < entry.vs.size(); ++b) {
        const CompiledVs& va = impl->vss[static_cast<size_t>(entry.vs[a])];
        const CompiledVs& vb = impl->vss[static_cast<size_t>(entry.vs[b])];
        for (const auto& g : va.gateways) {
          if (g == kMeshGateway &&
              std::find(vb.gateways.begin(), vb.gateways.end(), g) != vb.gateways.end()) {
            impl->diagnostics.warning(vb.vs->meta.source, "spec.hosts",
                                      "VirtualService " + vb.id + " conflicts with " + va.id +
                                          " for host " + entry.canonical +
                                          " on the mesh gateway; " + va.id + " is used");
          }
        }
      }
    }
  }

  CompiledRoutes out;
  RouteAccess::set(out, std::move(impl));
  return out;
}

// ---------------------------------------------------------------- evaluation

namespace {

std::optional<std::string_view> headerValue(const RouteRequest& r, std::string_view name) {
  if (!name.empty() && name.front() == ':') {
    if (name == ":authority") return r.authority;
    if (name == ":method") return r.method;
    if (name == ":scheme") return r.scheme;
    if (name == ":path") return r.path;
    return std::nullopt;
  }
  for (const auto& [k, v] : r.headers) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string_view> queryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
  }
  return std::nullopt;
}

bool matchOne(const CompiledMatch& m, const RouteRequest& r, std::string_view path,
              std::string_view query) {
  if (m.never) return false;
  if (m.port && *m.port != r.port) return false;
  if (!m.source_namespace.empty() && m.source_namespace != r.source_namespace) return false;
  if (!labelsInclude(r.source_labels, m.source_labels)) return false;
  if (!m.gateways.empty() &&
      std::find(m.gateways.begin(), m.gateways.end(), r.gateway) == m.gateways.end()) {
    return false;
  }
  if (m.uri && !m.uri->matches(path)) return false;
  if (m.scheme && !m.scheme->matches(r.scheme)) return false;
  if (m.method && !m.method->matches(r.method)) return false;
  if (m.authority && !m.authority->matches(r.authority)) return false;
  for (const auto& h : m.headers) {
    const auto value = headerValue(r, h.name);
    // A missing header matches only a negated matcher (withoutHeaders).
    const bool ok = value.has_value() && h.matcher.matches(*value);
    if (ok == h.invert) return false;
  }
  for (const auto& q : m.query) {
    const auto value = queryValue(query, q.name);
    if (!value || !q.matcher.matches(*value)) return false;
  }
  return true;
}

void refuse(RouteResult& res, RouteOutcome outcome, int status, std::string_view body,
            std::string_view flag, bool delayed) {
  res.outcome = outcome;
  res.status = status;
  res.body = body;
  res.flags = flagsFor(flag, delayed);
}

std::string percent(double share) {
  const double p = share * 100;
  std::string s = std::to_string(p);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s + "%";
}

std::string requestText(const RouteRequest& r) {
  return std::string(r.method) + " " + std::string(r.authority) + std::string(r.path);
}

// Sends the request to the cluster of (service, subset, port) and checks endpoints and timeout.
void forward(const Impl& impl, const RouteRequest& req, const CompiledRoute* route,
             int service_index, const std::string& host, const std::string& subset,
             std::optional<uint32_t> dest_port, bool delayed, RouteResult& res) {
  if (service_index < 0) {
    refuse(res, RouteOutcome::kClusterNotFound, 503, "", "NC", delayed);
    if (req.explain) {
      res.reason =
          "destination host " + host + " is not a Service of the model: no cluster exists (503 NC)";
    }
    return;
  }
  const ServiceData& svc = impl.services[static_cast<size_t>(service_index)];
  res.service = &svc.ref;
  res.host = svc.fqdn;
  const auto hasPort = [&](uint32_t p) {
    return std::find(svc.ports.begin(), svc.ports.end(), p) != svc.ports.end();
  };
  uint32_t port = req.port;
  bool port_ok = true;
  if (dest_port) {
    port = *dest_port;
    port_ok = svc.ports.empty() || hasPort(port);
  } else if (!svc.ports.empty() && !hasPort(port)) {
    if (svc.ports.size() == 1) {
      port = svc.ports.front();
    } else {
      port_ok = false;
    }
  }
  res.port = port;
  if (!port_ok) {
    refuse(res, RouteOutcome::kClusterNotFound, 503, "", "NC", delayed);
    if (req.explain) {
      res.reason = "Service " + svc.ref.key() + " has no port " + std::to_string(port) +
                   ": no cluster exists (503 NC)";
    }
    return;
  }

  const ClusterView* view = nullptr;
  if (std::find(svc.selector_namespaces.begin(), svc.selector_namespaces.end(),
                req.source_namespace) != svc.selector_namespaces.end()) {
    auto owned = buildView(*impl.snapshot, svc, req.source_namespace, req.source_labels);
    view = owned.get();
    res.owned = std::move(owned);
  } else {
    auto it = impl.ns_index.find(req.source_namespace);
    const int ns = it == impl.ns_index.end() ? impl.other_ns : it->second;
    view = svc.views[static_cast<size_t>(ns)].get();
  }

  if (!subset.empty()) {
    const ClusterView::SubsetView* sv = view->findSubset(subset);
    if (sv == nullptr) {
      refuse(res, RouteOutcome::kClusterNotFound, 503, "", "NC", delayed);
      if (req.explain) {
        res.reason = "subset \"" + subset + "\" of " + svc.fqdn +
                     " is not defined in any DestinationRule visible from namespace " +
                     std::string(req.source_namespace) + ": no cluster exists (503 NC)";
      }
      return;
    }
    res.subset = sv->name;
    res.endpoints = &sv->endpoints;
    res.traffic_policy = ClusterView::policyFor(sv->ports, sv->fallback, port);
  } else {
    res.endpoints = &view->all;
    res.traffic_policy = ClusterView::policyFor(view->ports, view->fallback, port);
  }
  if (route != nullptr) {
    res.timeout = route->timeout;
    res.retries = &route->retries;
    if (route->route->mirror) res.mirror = &*route->route->mirror;
    res.rewrite_uri = route->route->rewrite_uri;
  } else {
    res.retries = &impl.default_retries;
  }

  if (res.endpoints->replicas == 0) {
    refuse(res, RouteOutcome::kNoHealthyUpstream, 503, kNoHealthyUpstream, "UH", delayed);
    if (req.explain) {
      const model::Subset* s = view->dr ? findSubset(view->dr->rule, subset) : nullptr;
      res.reason = "cluster " + destinationText(svc.fqdn, subset) + " has no endpoints" +
                   (s != nullptr ? " (no Workload replica of " + svc.ref.key() + " has labels " +
                                       describeLabels(s->labels) + ")"
                                 : " (no Workload replica serves " + svc.ref.key() + ")") +
                   ": 503 no healthy upstream (UH)";
    }
    return;
  }
  if (res.timeout && req.upstream_latency_ms && *req.upstream_latency_ms > res.timeout->millis) {
    refuse(res, RouteOutcome::kTimeout, 504, kUpstreamTimeout, "UT", delayed);
    if (req.explain) {
      res.reason = "upstream latency " + std::to_string(*req.upstream_latency_ms) +
                   " ms exceeds the route timeout of " + std::to_string(res.timeout->millis) +
                   " ms: 504 upstream request timeout (UT)";
    }
    return;
  }
  res.outcome = RouteOutcome::kForward;
  res.status = 0;
  res.flags = flagsFor("", delayed);
  if (req.explain) {
    res.reason = "forwarded to " + destinationText(svc.fqdn, subset) + " port " +
                 std::to_string(port) + " (" + std::to_string(res.endpoints->replicas) +
                 " endpoint replica(s))";
  }
}

}  // namespace

const char* routeOutcomeName(RouteOutcome outcome) {
  switch (outcome) {
    case RouteOutcome::kForward:
      return "forward";
    case RouteOutcome::kRedirect:
      return "redirect";
    case RouteOutcome::kDirectResponse:
      return "direct-response";
    case RouteOutcome::kFaultAbort:
      return "fault-abort";
    case RouteOutcome::kNoRoute:
      return "no-route";
    case RouteOutcome::kClusterNotFound:
      return "cluster-not-found";
    case RouteOutcome::kNoHealthyUpstream:
      return "no-healthy-upstream";
    case RouteOutcome::kTimeout:
      return "timeout";
  }
  return "forward";
}

RouteResult selectRoute(const CompiledRoutes& routes, const RouteRequest& req,
                        const RouteDice& dice) {
  const Impl& impl = RouteAccess::impl(routes);
  RouteResult res;

  // The destination host, as the client's DNS search path would resolve it.
  std::string_view host = hostWithoutPort(req.authority);
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string lowered;
  if (std::any_of(host.begin(), host.end(), isUpper)) {
    lowered.assign(host);
    for (char& c : lowered) c = toLower(c);
    host = lowered;
  }
  const HostEntry* entry = nullptr;
  HostEntry temporary;
  if (host.find('.') == std::string_view::npos) {
    auto it = impl.service_index.find(
        std::pair<std::string_view, std::string_view>(req.source_namespace, host));
    if (it != impl.service_index.end()) {
      entry = &impl.hosts[static_cast<size_t>(impl.services[static_cast<size_t>(it->second)].host)];
    } else {
      const std::string fqdn =
          ServiceRef{std::string(req.source_namespace), std::string(host)}.fqdn();
      auto hit = impl.host_index.find(fqdn);
      if (hit != impl.host_index.end()) {
        entry = &impl.hosts[static_cast<size_t>(hit->second)];
      } else {
        temporary.canonical = fqdn;
      }
    }
  } else {
    auto hit = impl.host_index.find(host);
    if (hit != impl.host_index.end()) {
      entry = &impl.hosts[static_cast<size_t>(hit->second)];
    } else {
      temporary.canonical = std::string(host);
    }
  }
  if (entry == nullptr) {
    for (int vi : impl.wildcard_vs) {
      for (const auto& h : impl.vss[static_cast<size_t>(vi)].hosts) {
        if (h.front() == '*' && hostMatches(h, temporary.canonical)) {
          temporary.vs.push_back(vi);
          break;
        }
      }
    }
    sortCandidates(impl, temporary);
    entry = &temporary;
  }

  // The VirtualService bound to this gateway and visible from the client's namespace.
  const CompiledVs* vs = nullptr;
  for (int vi : entry->vs) {
    const CompiledVs& cand = impl.vss[static_cast<size_t>(vi)];
    if (cand.routes.empty()) continue;  // no http routes: does not route HTTP
    if (!isVisibleFrom(cand.vs->export_to, cand.ns, req.source_namespace)) continue;
    if (std::find(cand.gateways.begin(), cand.gateways.end(), req.gateway) == cand.gateways.end()) {
      continue;
    }
    vs = &cand;
    break;
  }

  if (vs == nullptr) {
    if (entry->service < 0) {
      refuse(res, RouteOutcome::kClusterNotFound, 503, "", "NC", false);
      if (req.explain) {
        res.reason = "host " + entry->canonical +
                     " is neither a Service nor the host of a VirtualService bound to " +
                     std::string(req.gateway) + ": no cluster (503 NC)";
      }
      return res;
    }
    const ServiceData& svc = impl.services[static_cast<size_t>(entry->service)];
    res.info = &svc.default_info;
    if (req.explain) {
      res.trace.push_back("route: no VirtualService for " + svc.fqdn +
                          ": default route to the whole service");
    }
    forward(impl, req, nullptr, entry->service, svc.fqdn, std::string(), std::nullopt, false, res);
    if (req.explain) res.trace.push_back("route: " + res.reason);
    return res;
  }

  const size_t qpos = req.path.find('?');
  std::string_view path = req.path.substr(0, qpos);
  if (const size_t hash = path.find('#'); hash != std::string_view::npos)
    path = path.substr(0, hash);
  std::string_view query =
      qpos == std::string_view::npos ? std::string_view() : req.path.substr(qpos + 1);
  if (const size_t hash = query.find('#'); hash != std::string_view::npos)
    query = query.substr(0, hash);

  const CompiledRoute* route = nullptr;
  for (const auto& rt : vs->routes) {
    if (rt.matches.empty()) {
      route = &rt;
      break;
    }
    for (const auto& m : rt.matches) {
      if (matchOne(m, req, path, query)) {
        route = &rt;
        break;
      }
    }
    if (route != nullptr) break;
  }
  if (route == nullptr) {
    res.info = &vs->no_route_info;
    refuse(res, RouteOutcome::kNoRoute, 404, "", "NR", false);
    if (req.explain) {
      res.reason =
          "no http route of VirtualService " + vs->id + " matched " + requestText(req) + ": 404 NR";
      res.trace.push_back("route: " + res.reason);
    }
    return res;
  }
  const model::HttpRoute& hr = *route->route;
  res.info = &route->info;
  if (req.explain) {
    res.trace.push_back(
        "route: VirtualService " + vs->id + " route " + std::to_string(route->index) +
        (hr.name.empty() ? "" : " (\"" + hr.name + "\")") + " matched " + requestText(req));
  }

  bool delayed = false;
  if (hr.fault) {
    const model::HttpFaultInjection& f = *hr.fault;
    if ((f.abort_http_status || f.abort_grpc_status) &&
        dice.abort * 100 < f.abort_percentage.value) {
      refuse(res, RouteOutcome::kFaultAbort, f.abort_http_status ? *f.abort_http_status : 200,
             kFaultAbort, "FI", false);
      if (!f.abort_http_status) res.grpc_status = f.abort_grpc_status;
      if (req.explain) {
        res.reason = "fault injection aborted the request with " +
                     (f.abort_http_status ? "HTTP " + std::to_string(*f.abort_http_status)
                                          : "gRPC status " + std::to_string(*f.abort_grpc_status)) +
                     " (" + std::to_string(f.abort_percentage.value) + "% of requests, FI)";
        res.trace.push_back("route: " + res.reason);
      }
      return res;
    }
    if (f.delay && dice.delay * 100 < f.delay_percentage.value) {
      delayed = true;
      res.delay = f.delay;
      if (req.explain) {
        res.trace.push_back("route: fault injection delays the request by " +
                            std::to_string(f.delay->millis) + " ms (DI)");
      }
    }
  }
  if (hr.redirect) {
    const model::HttpRedirect& r = *hr.redirect;
    refuse(res, RouteOutcome::kRedirect, r.redirect_code, "", "", delayed);
    const std::string_view authority =
        r.authority.empty() ? req.authority : std::string_view(r.authority);
    std::string target;
    if (r.uri.empty()) {
      target = std::string(req.path);
    } else {
      target = r.uri;
      if (r.uri.find('?') == std::string::npos && qpos != std::string_view::npos) {
        target += std::string(req.path.substr(qpos));
      }
    }
    res.location = std::string(req.scheme) + "://" + std::string(authority) + target;
    if (req.explain) {
      res.reason = "redirect " + std::to_string(r.redirect_code) + " to " + res.location;
      res.trace.push_back("route: " + res.reason);
    }
    return res;
  }
  if (hr.direct_response) {
    refuse(res, RouteOutcome::kDirectResponse, hr.direct_response->status, hr.direct_response->body,
           "", delayed);
    if (req.explain) {
      res.reason = "direct response " + std::to_string(hr.direct_response->status);
      res.trace.push_back("route: " + res.reason);
    }
    return res;
  }

  // The weighted destination.
  size_t pick = route->dests.size();
  for (size_t i = 0; i < route->dests.size(); ++i) {
    if (route->dests[i].share > 0 && dice.pick < route->cumulative[i]) {
      pick = i;
      break;
    }
  }
  if (pick == route->dests.size()) {
    // Rounding at the top of the range: the last destination with a share.
    for (size_t i = route->dests.size(); i-- > 0;) {
      if (route->dests[i].share > 0) {
        pick = i;
        break;
      }
    }
  }
  if (pick == route->dests.size()) {
    refuse(res, RouteOutcome::kClusterNotFound, 503, "", "NC", delayed);
    if (req.explain) {
      res.reason = "route " + std::to_string(route->index) + " of " + vs->id +
                   " has no destination with a weight above 0 (503 NC)";
      res.trace.push_back("route: " + res.reason);
    }
    return res;
  }
  const CompiledDest& dest = route->dests[pick];
  res.info = &route->infos[pick];
  if (req.explain) {
    std::string table;
    for (const auto& d : route->dests) {
      if (!table.empty()) table += ", ";
      table += destinationText(d.host, d.subset) + " " + percent(d.share);
    }
    res.trace.push_back("route: destinations " + table + "; picked " +
                        destinationText(dest.host, dest.subset));
  }
  forward(impl, req, route, dest.service, dest.host, dest.subset, dest.port, delayed, res);
  if (req.explain) res.trace.push_back("route: " + res.reason);
  return res;
}

void applyToDecision(const RouteResult& result, policy::Decision& decision) {
  decision.route = result.routeInfo();
  for (const auto& line : result.trace) decision.trace.push_back(line);
  if (result.outcome == RouteOutcome::kForward) {
    if (!result.flags.empty() && decision.response_flags.empty()) {
      decision.response_flags = std::string(result.flags);
    }
    return;
  }
  decision.status = result.status;
  decision.body = std::string(result.body);
  decision.response_flags = std::string(result.flags);
  decision.stage = policy::Stage::kRoute;
  decision.policy = result.info != nullptr ? result.info->virtual_service : std::string();
  decision.rule = result.info != nullptr ? result.info->route_index : -1;
  decision.reason =
      result.reason.empty() ? std::string(routeOutcomeName(result.outcome)) : result.reason;
}

}  // namespace meshsim::routing
