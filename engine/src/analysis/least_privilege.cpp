// Least-privilege AuthorizationPolicies from observed traffic (analysis/blast_radius.h).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "meshsim/analysis/blast_radius.h"
#include "meshsim/policy/identity.h"
#include "meshsim/policy/path.h"
#include "meshsim/routing/destination.h"

namespace meshsim::analysis {

namespace {

Result<std::pair<std::string, std::string>> splitRef(const nlohmann::json& v, const std::string& where) {
  if (!v.is_string()) return invalidArgument(where + ": expected a string \"ns/name\"");
  const std::string s = v.get<std::string>();
  const size_t slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.size() || s.find('/', slash + 1) != std::string::npos) {
    return invalidArgument(where + ": \"" + s + "\" is not ns/name");
  }
  return std::make_pair(s.substr(0, slash), s.substr(slash + 1));
}

model::AuthorizationPolicy newPolicy(const std::string& ns, const std::string& name, model::StringMap selector) {
  model::AuthorizationPolicy p;
  p.meta.kind = "AuthorizationPolicy";
  p.meta.api_version = "security.istio.io/v1";
  p.meta.namespace_ = ns;
  p.meta.name = name;
  p.selector.match_labels = std::move(selector);
  p.selector.present = true;
  p.action = model::AuthzAction::kAllow;
  p.rules_present = true;
  return p;
}

// One destination group: workloads of one namespace serving one Service.
struct Group {
  std::string ns;
  std::string service;  // "ns/name" of the Service
  std::string service_name;
  std::vector<const model::Workload*> endpoints;
  // caller principal -> (target port, path) -> methods
  std::map<std::string, std::map<std::pair<uint32_t, std::string>, std::set<std::string>>> calls;
};

model::StringMap commonLabels(const std::vector<const model::Workload*>& ws) {
  model::StringMap out = ws.front()->labels;
  for (const auto* w : ws) {
    for (auto it = out.begin(); it != out.end();) {
      auto f = w->labels.find(it->first);
      it = (f == w->labels.end() || f->second != it->second) ? out.erase(it) : std::next(it);
    }
  }
  return out;
}

void fillRules(model::AuthorizationPolicy& p, const Group& g) {
  for (const auto& [principal, ops] : g.calls) {
    model::AuthzRule rule;
    model::AuthzSource src;
    src.principals = {principal};
    rule.from = std::vector<model::AuthzSource>{src};
    std::vector<model::AuthzOperation> to;
    for (const auto& [port_path, methods] : ops) {
      model::AuthzOperation op;
      op.ports = {std::to_string(port_path.first)};
      op.paths = {port_path.second};
      op.methods.assign(methods.begin(), methods.end());
      to.push_back(std::move(op));
    }
    rule.to = std::move(to);
    p.rules.push_back(std::move(rule));
  }
}

// A YAML double-quoted scalar (JSON string syntax is valid YAML).
std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

std::string flowList(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + quoted(values[i]);
  return out + "]";
}

// The smallest selector that still picks exactly the endpoints: `app` alone when it does,
// otherwise all the shared labels. Empty when the shared labels select other workloads too.
model::StringMap exactSelector(const config::Snapshot& snapshot, const std::string& ns,
                               const std::vector<const model::Workload*>& endpoints) {
  const model::StringMap common = commonLabels(endpoints);
  auto exact = [&](const model::StringMap& labels) {
    if (labels.empty()) return false;
    const model::LabelSelector selector{labels, true};
    for (const auto* w : snapshot.workloads) {
      if (w->meta.namespace_ != ns || !selector.matches(w->labels)) continue;
      if (std::find(endpoints.begin(), endpoints.end(), w) == endpoints.end()) return false;
    }
    return true;
  };
  if (auto app = common.find("app"); app != common.end()) {
    model::StringMap only_app = {*app};
    if (exact(only_app)) return only_app;
  }
  return exact(common) ? common : model::StringMap{};
}

}  // namespace

Result<std::vector<ObservedCall>> parseObservedCalls(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalidArgument("run file: not valid JSON");
  if (!doc.is_object() || !doc.contains("calls") || !doc["calls"].is_array()) {
    return invalidArgument("run file: expected an object with a \"calls\" array");
  }
  std::vector<ObservedCall> out;
  const auto& calls = doc["calls"];
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string where = "run file: calls[" + std::to_string(i) + "]";
    const auto& c = calls[i];
    if (!c.is_object()) return invalidArgument(where + ": expected an object");
    if (!c.contains("from")) return invalidArgument(where + ".from: missing");
    if (!c.contains("to")) return invalidArgument(where + ".to: missing");
    if (!c.contains("port")) return invalidArgument(where + ".port: missing");
    auto from = splitRef(c["from"], where + ".from");
    if (!from.ok()) return from.status();
    auto to = splitRef(c["to"], where + ".to");
    if (!to.ok()) return to.status();
    const auto& port = c["port"];
    if (!port.is_number_integer() || port.get<int64_t>() < 1 || port.get<int64_t>() > 65535) {
      return invalidArgument(where + ".port: expected an integer 1..65535");
    }
    ObservedCall call;
    call.from_namespace = from->first;
    call.from_workload = from->second;
    call.to_namespace = to->first;
    call.to_service = to->second;
    call.port = static_cast<uint32_t>(port.get<int64_t>());
    if (c.contains("method")) {
      if (!c["method"].is_string()) return invalidArgument(where + ".method: expected a string");
      call.method = c["method"].get<std::string>();
      if (Status st = policy::checkMethod(call.method); !st.ok()) {
        return invalidArgument(where + ".method: " + st.message());
      }
    }
    if (c.contains("path")) {
      if (!c["path"].is_string()) return invalidArgument(where + ".path: expected a string");
      auto normalized = policy::normalizePath(c["path"].get<std::string>());
      if (!normalized.ok()) return invalidArgument(where + ".path: " + normalized.status().message());
      call.path = normalized->path;
    }
    out.push_back(std::move(call));
  }
  return out;
}

Result<AuthzSuggestion> suggestAuthorizationPolicies(const config::Snapshot& snapshot,
                                                     const std::vector<ObservedCall>& calls,
                                                     const SuggestOptions& options) {
  AuthzSuggestion out;
  const std::string td = snapshot.trustDomain();
  std::map<std::pair<std::string, std::string>, Group> groups;  // (workload ns, service key)
  auto groupsOf = [&](const model::Service& svc) {
    routing::ServiceRef ref{svc.meta.namespace_, svc.meta.name};
    std::vector<Group*> found;
    for (const auto* w : routing::endpointsOf(snapshot, ref).workloads) {
      auto [it, added] = groups.try_emplace({w->meta.namespace_, ref.key()});
      if (added) {
        it->second.ns = w->meta.namespace_;
        it->second.service = ref.key();
        it->second.service_name = svc.meta.name;
      }
      if (std::find(it->second.endpoints.begin(), it->second.endpoints.end(), w) == it->second.endpoints.end()) {
        it->second.endpoints.push_back(w);
      }
      if (std::find(found.begin(), found.end(), &it->second) == found.end()) found.push_back(&it->second);
    }
    return found;
  };

  std::set<std::string> warned;
  for (size_t i = 0; i < calls.size(); ++i) {
    const ObservedCall& c = calls[i];
    const std::string where = "call " + std::to_string(i) + ": ";
    const model::Workload* from = snapshot.findWorkload(c.from_namespace, c.from_workload);
    if (from == nullptr) return invalidArgument(where + "unknown workload " + c.from_namespace + "/" + c.from_workload);
    const model::Service* svc = snapshot.findService(c.to_namespace, c.to_service);
    if (svc == nullptr) return invalidArgument(where + "unknown service " + c.to_namespace + "/" + c.to_service);
    const model::ServicePort* sp = nullptr;
    for (const auto& p : svc->ports) {
      if (p.port == c.port) sp = &p;
    }
    if (sp == nullptr) {
      return invalidArgument(where + "service " + c.to_namespace + "/" + c.to_service + " has no port " +
                             std::to_string(c.port));
    }
    auto gs = groupsOf(*svc);
    if (gs.empty()) {
      out.warnings.push_back(where + "service " + c.to_namespace + "/" + c.to_service + " has no running workload");
      continue;
    }
    if (!from->sidecar) {
      const std::string key = c.from_namespace + "/" + c.from_workload;
      if (warned.insert(key).second) {
        out.warnings.push_back(key + " has no sidecar, so it has no principal to allow; its calls will be denied");
      }
      continue;
    }
    const std::string principal = policy::principalFor(td, from->meta.namespace_, from->service_account);
    const uint32_t target = sp->target_port != 0 ? sp->target_port : sp->port;
    for (Group* g : gs) g->calls[principal][{target, c.path}].insert(c.method);
  }
  if (options.deny_unobserved) {
    for (const auto* svc : snapshot.services) groupsOf(*svc);
  }

  for (auto& [key, g] : groups) {
    model::StringMap selector = exactSelector(snapshot, g.ns, g.endpoints);
    if (!selector.empty()) {
      auto p = newPolicy(g.ns, "least-privilege-" + g.service_name, selector);
      fillRules(p, g);
      out.policies.push_back(std::move(p));
      continue;
    }
    for (const auto* w : g.endpoints) {
      if (w->labels.empty()) {
        out.warnings.push_back(w->meta.namespace_ + "/" + w->meta.name +
                               " has no labels, so no policy can select it alone; left unchanged");
        continue;
      }
      for (const auto* other : snapshot.workloads) {
        if (other != w && other->meta.namespace_ == w->meta.namespace_ &&
            model::LabelSelector{w->labels, true}.matches(other->labels)) {
          out.warnings.push_back("the policy for " + w->meta.namespace_ + "/" + w->meta.name + " also selects " +
                                 other->meta.namespace_ + "/" + other->meta.name + " (same labels)");
        }
      }
      auto p = newPolicy(g.ns, "least-privilege-" + w->meta.name, w->labels);
      fillRules(p, g);
      out.policies.push_back(std::move(p));
    }
  }
  return out;
}

std::vector<model::Resource> suggestionResources(const AuthzSuggestion& suggestion) {
  std::vector<model::Resource> out;
  for (const auto& p : suggestion.policies) out.emplace_back(p);
  return out;
}

std::string suggestionYaml(const AuthzSuggestion& suggestion) {
  std::string out;
  for (const auto& p : suggestion.policies) {
    if (!out.empty()) out += "---\n";
    out += "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n";
    out += "  name: " + quoted(p.meta.name) + "\n  namespace: " + quoted(p.meta.namespace_) + "\n";
    out += "spec:\n  selector:\n    matchLabels:\n";
    for (const auto& [k, v] : p.selector.match_labels) out += "      " + quoted(k) + ": " + quoted(v) + "\n";
    out += "  action: ALLOW\n";
    if (p.rules.empty()) {
      out += "  rules: []  # no rule: nothing is allowed\n";
      continue;
    }
    out += "  rules:\n";
    for (const auto& r : p.rules) {
      out += "  - from:\n";
      for (const auto& src : *r.from) out += "    - source:\n        principals: " + flowList(src.principals) + "\n";
      out += "    to:\n";
      for (const auto& op : *r.to) {
        out += "    - operation:\n";
        out += "        ports: " + flowList(op.ports) + "\n";
        out += "        methods: " + flowList(op.methods) + "\n";
        out += "        paths: " + flowList(op.paths) + "\n";
      }
    }
  }
  return out;
}

}  // namespace meshsim::analysis
