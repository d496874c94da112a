// `meshsim explain --workload NS/NAME`: every effective setting of a workload and where it came from.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "commands/common.h"
#include "commands/state_options.h"
#include "meshsim/mgmt/hierarchy.h"
#include "meshsim/mgmt/settings.h"
#include "meshsim/mgmt/translate.h"

namespace meshsim::cli {

namespace {

std::string describe(const mgmt::Provenance& p) {
  std::string out = p.fqn.empty() ? "built-in default" : p.level + " " + p.fqn;
  if (!p.locked_by.empty()) out += "  [locked by " + p.locked_by + ", STRICTER]";
  return out;
}

nlohmann::json provenanceJson(const mgmt::Provenance& p) {
  return {{"from", p.fqn}, {"level", p.level}, {"lockedBy", p.locked_by}};
}

bool appliesTo(const model::Resource& r, const model::Workload& w, const std::string& root_ns) {
  const auto& m = model::metaOf(r);
  if (m.namespace_ != w.meta.namespace_ && m.namespace_ != root_ns) return false;
  if (const auto* pa = std::get_if<model::PeerAuthentication>(&r)) return pa->selector.matches(w.labels);
  if (const auto* ap = std::get_if<model::AuthorizationPolicy>(&r)) return ap->selector.matches(w.labels);
  if (const auto* ra = std::get_if<model::RequestAuthentication>(&r)) return ra->selector.matches(w.labels);
  return false;
}

}  // namespace

void registerExplain(CLI::App& app) {
  auto* cmd = app.add_subcommand("explain", "Show every effective setting of a workload and where it came from");
  cmd->footer("Give the configuration with -f, or a state with --state. Exit status: 0, or 2 on "
              "usage errors and unknown workloads.");
  auto inputs = std::make_shared<InputOptions>();
  auto state = std::make_shared<StateOptions>();
  auto workload = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>("text");
  cmd->add_option("-f,--filename", inputs->paths, "Configuration files or directories");
  addStateOption(*cmd, *state);
  cmd->add_option("--workload", *workload, "NS/NAME of the workload")->required();
  cmd->add_option("-o,--output", *output, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([=] {
    auto snap = snapshotFromInputsOrState(*inputs, *state);
    if (!snap) return;
    auto slash = workload->find('/');
    const model::Workload* w = slash == std::string::npos
                                   ? nullptr
                                   : snap->findWorkload(workload->substr(0, slash), workload->substr(slash + 1));
    if (w == nullptr) {
      std::cerr << "meshsim explain: no workload \"" << *workload << "\" (expected NS/NAME)\n";
      setExitCode(kExitUsage);
      return;
    }
    mgmt::Placement p = mgmt::placeNamespace(*snap, w->cluster, w->meta.namespace_);
    auto chain = mgmt::settingsChain(*snap, p);
    auto sec = mgmt::effectiveSecurity(chain);
    auto traffic = mgmt::effectiveTraffic(chain);
    auto full = mgmt::withTranslation(*snap);
    std::vector<const model::Resource*> istio;
    for (const auto& r : full->resources) {
      if (appliesTo(r, *w, snap->rootNamespace())) istio.push_back(&r);
    }
    auto fqnOrNone = [&](const auto* x, auto fn) { return x == nullptr ? std::string("(none)") : fn(x); };
    std::string tenant = fqnOrNone(p.tenant, [&](const auto* t) { return mgmt::tenantFqn(*snap, t->meta.name); });
    std::string ws = fqnOrNone(p.workspace, [&](const auto* x) { return mgmt::workspaceFqn(*snap, x->meta.tenant, x->meta.name); });
    std::string sg = fqnOrNone(p.security_group, [&](const auto* g) { return mgmt::groupFqn(*snap, g->meta.tenant, g->meta.workspace, g->meta.name); });
    std::string tg = fqnOrNone(p.traffic_group, [&](const auto* g) { return mgmt::groupFqn(*snap, g->meta.tenant, g->meta.workspace, g->meta.name); });

    if (*output == "json") {
      nlohmann::json doc;
      doc["workload"] = *workload;
      doc["cluster"] = w->cluster;
      doc["placement"] = {{"tenant", tenant}, {"workspace", ws}, {"securityGroup", sg}, {"trafficGroup", tg}};
      doc["security"] = {{"trafficMode", model::trafficModeName(sec.traffic_mode)},
                         {"trafficModeFrom", provenanceJson(sec.traffic_mode_from)},
                         {"authorizationMode", model::authzModeName(sec.authz_mode)},
                         {"authorizationModeFrom", provenanceJson(sec.authz_mode_from)},
                         {"serviceAccounts", sec.service_accounts},
                         {"jwtIssuers", nlohmann::json::array()},
                         {"notes", sec.notes}};
      for (const auto& j : sec.jwt) doc["security"]["jwtIssuers"].push_back(j.issuer);
      doc["traffic"] = {{"from", provenanceJson(traffic.from)}};
      if (traffic.spec.http_request_timeout) doc["traffic"]["timeoutMs"] = traffic.spec.http_request_timeout->millis;
      if (traffic.spec.http_retries_attempts) doc["traffic"]["retries"] = *traffic.spec.http_retries_attempts;
      doc["istio"] = nlohmann::json::array();
      for (const auto* r : istio) {
        const auto& m = model::metaOf(*r);
        auto src = m.annotations.find(mgmt::kSourceAnnotation);
        doc["istio"].push_back({{"kind", m.kind}, {"namespace", m.namespace_}, {"name", m.name},
                                {"generatedFrom", src == m.annotations.end() ? "" : src->second}});
      }
      std::cout << doc.dump(2) << "\n";
      return;
    }
    std::cout << "workload " << *workload << " (cluster " << w->cluster << ", service account "
              << w->service_account << ")\n\nplacement\n  tenant          " << tenant << "\n  workspace       " << ws
              << "\n  security group  " << sg << "\n  traffic group   " << tg << "\n\nsettings consulted (top first)\n";
    if (chain.empty()) std::cout << "  (none: built-in defaults apply)\n";
    for (const auto& l : chain) {
      std::cout << "  " << l.level << "  " << l.fqn;
      if (l.security != nullptr && l.security->propagation == model::PropagationStrategy::kStricter) {
        std::cout << "  (STRICTER)";
      }
      std::cout << "\n";
    }
    std::cout << "\neffective security\n  trafficMode       " << model::trafficModeName(sec.traffic_mode) << "  from "
              << describe(sec.traffic_mode_from) << "\n  authorization     " << model::authzModeName(sec.authz_mode)
              << "  from " << describe(sec.authz_mode_from) << "\n";
    for (const auto& sa : sec.service_accounts) std::cout << "    service account " << sa << "\n";
    for (const auto& j : sec.jwt) std::cout << "  jwt issuer        " << j.issuer << "  from " << describe(sec.jwt_from) << "\n";
    for (const auto& n : sec.notes) std::cout << "  note: " << n << "\n";
    std::cout << "\neffective traffic  from " << describe(traffic.from) << "\n";
    if (traffic.spec.http_request_timeout) std::cout << "  timeout           " << traffic.spec.http_request_timeout->millis << "ms\n";
    if (traffic.spec.http_retries_attempts) std::cout << "  retries           " << *traffic.spec.http_retries_attempts << "\n";
    if (traffic.spec.local_rate_limit) {
      std::cout << "  local rate limit  " << traffic.spec.local_rate_limit->max_tokens << " tokens per "
                << traffic.spec.local_rate_limit->fill_interval.millis << "ms\n";
    }
    std::cout << "\nIstio objects selecting this workload\n";
    if (istio.empty()) std::cout << "  (none)\n";
    for (const auto* r : istio) {
      const auto& m = model::metaOf(*r);
      auto src = m.annotations.find(mgmt::kSourceAnnotation);
      std::cout << "  " << m.kind << " " << m.namespace_ << "/" << m.name
                << (src == m.annotations.end() ? "  (written directly, " + m.source.toString() + ")"
                                               : "  generated from " + src->second)
                << "\n";
    }
  });
}

}  // namespace meshsim::cli
