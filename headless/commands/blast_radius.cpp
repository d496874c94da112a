// `meshsim blast-radius` and `meshsim suggest-authz`: what an attacker holding one workload's
// credentials reaches, which workloads are the riskiest, and the least-privilege policies that
// observed traffic justifies.
#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands/commands.h"
#include "commands/common.h"
#include "meshsim/analysis/blast_radius.h"
#include "meshsim/config/validate.h"
#include "meshsim/engine.h"
#include "meshsim/mgmt/translate.h"
#include "meshsim/verify.h"
#include "report/graphviz.h"

namespace meshsim::cli {

namespace {

using analysis::BlastEdge;
using analysis::BlastRadius;
using analysis::ReachabilityGraph;
using analysis::ReachEdge;

int usage(const std::string& verb, const std::string& message) {
  std::cerr << "meshsim " << verb << ": " << message << "\n";
  setExitCode(kExitUsage);
  return kExitUsage;
}

std::string fmt(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << v;
  return s.str();
}

// "ns/policy rule 0", "no ALLOW policy", "no sidecar", with "plaintext" for network edges.
std::string via(const ReachEdge& e) {
  std::string out = e.policy.empty() ? e.basis : e.policy + " rule " + std::to_string(e.rule);
  if (e.source == analysis::kNetworkSource) out = "plaintext, " + out;
  if (e.needs_token) out += ", needs token";
  return out;
}

std::string shortName(const ReachabilityGraph& g, size_t w) { return g.workloads[w]->meta.name; }

nlohmann::json edgeJson(const ReachabilityGraph& g, const ReachEdge& e, size_t from, size_t to) {
  nlohmann::json allowed = nlohmann::json::array();
  for (const auto& p : e.allowed) allowed.push_back(analysis::probeText(p));
  nlohmann::json j = {{"from", g.workloadKey(from)},
                      {"to", g.workloadKey(to)},
                      {"service", e.service},
                      {"port", e.port},
                      {"targetPort", e.target_port},
                      {"protocol", e.http ? "HTTP" : "TCP"},
                      {"source", e.source == analysis::kNetworkSource ? "network (no certificate)"
                                                                      : g.identities[e.source].principal},
                      {"policy", e.policy},
                      {"rule", e.rule},
                      {"basis", e.basis},
                      {"mtls", e.mtls},
                      {"needsToken", e.needs_token},
                      {"allowed", allowed}};
  if (e.needs_token) {
    nlohmann::json claims = nlohmann::json::object();
    for (const auto& [k, v] : e.token.claims) claims[k] = v;
    j["token"] = {{"issuer", e.token.issuer},
                  {"subject", e.token.subject},
                  {"audiences", e.token.audiences},
                  {"claims", claims}};
  }
  return j;
}

// The plaintext exposures an attacker without any certificate can use: allowed requests, or
// requests that need only an end-user token.
std::vector<const analysis::PlaintextExposure*> usableExposures(const ReachabilityGraph& g) {
  std::vector<const analysis::PlaintextExposure*> out;
  for (const auto& x : g.exposures) {
    if (!x.allowed.empty() || x.needs_token) out.push_back(&x);
  }
  return out;
}

std::string exposureMode(const analysis::PlaintextExposure& x) {
  return x.sidecar ? model::mtlsModeName(x.mode) : "no sidecar";
}

std::string exposurePolicy(const analysis::PlaintextExposure& x) {
  if (!x.sidecar) return "-";
  return x.peer_authn_policy.empty() ? "(default)" : x.peer_authn_policy;
}

std::string exposureAllows(const analysis::PlaintextExposure& x) {
  if (x.allowed.empty()) return "only with an end-user token (" + x.token.text() + ")";
  std::string out;
  for (const auto& p : x.allowed) out += (out.empty() ? "" : ", ") + analysis::probeText(p);
  return out;
}

nlohmann::json exposuresJson(const ReachabilityGraph& g) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto* x : usableExposures(g)) {
    nlohmann::json allowed = nlohmann::json::array();
    for (const auto& p : x->allowed) allowed.push_back(analysis::probeText(p));
    out.push_back({{"workload", g.workloadKey(x->workload)},
                   {"service", x->service},
                   {"port", x->port},
                   {"targetPort", x->target_port},
                   {"protocol", x->http ? "HTTP" : "TCP"},
                   {"sidecar", x->sidecar},
                   {"mode", exposureMode(*x)},
                   {"peerAuthentication", x->peer_authn_policy},
                   {"policy", x->policy},
                   {"rule", x->rule},
                   {"needsToken", x->needs_token},
                   {"allowed", allowed}});
  }
  return out;
}

nlohmann::json blastJson(const ReachabilityGraph& g, const BlastRadius& r, const analysis::BlastOptions& o) {
  nlohmann::json reached = nlohmann::json::array();
  for (const auto& n : r.reached) {
    nlohmann::json path = nlohmann::json::array();
    for (const auto& s : n.path) path.push_back(edgeJson(g, g.edges[s.edge], s.from, s.to));
    reached.push_back({{"workload", g.workloadKey(n.workload)},
                       {"hops", n.hops},
                       {"sensitivity", g.workloads[n.workload]->sensitivity},
                       {"contribution", n.contribution},
                       {"path", path}});
  }
  nlohmann::json edges = nlohmann::json::array();
  for (const auto& e : r.edges) edges.push_back(edgeJson(g, g.edges[e.edge], e.from, e.to));
  nlohmann::json gated = nlohmann::json::array();
  for (const auto& e : r.token_gated) gated.push_back(edgeJson(g, g.edges[e.edge], e.from, e.to));
  const size_t id = g.identity_of[r.compromised];
  return {{"compromised", g.workloadKey(r.compromised)},
          {"identity", id == analysis::kNoIdentity ? nlohmann::json(nullptr)
                                                   : nlohmann::json(g.identities[id].principal)},
          {"hopsLimit", o.hops ? nlohmann::json(*o.hops) : nlohmann::json(nullptr)},
          {"truncated", r.truncated},
          {"score", r.score},
          {"scoreFormula", "sum over reached workloads of sensitivity / hops"},
          {"credentialWindowSeconds", r.credential_window_seconds},
          {"rotationAfterSeconds", r.rotation_after_seconds},
          {"tokenWindowSeconds", r.token_window_seconds ? nlohmann::json(*r.token_window_seconds)
                                                        : nlohmann::json(nullptr)},
          {"reached", reached},
          {"edges", edges},
          {"tokenGated", gated},
          {"plaintextExposure", exposuresJson(g)},
          {"warnings", g.warnings}};
}

void printTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

void blastTable(std::ostream& out, const ReachabilityGraph& g, const BlastRadius& r) {
  const size_t id = g.identity_of[r.compromised];
  out << "compromised: " << g.workloadKey(r.compromised)
      << (id == analysis::kNoIdentity ? " (no sidecar: no certificate, plaintext only)"
                                      : " (identity " + g.identities[id].principal + ")")
      << "\n";
  out << "credential window: " << r.credential_window_seconds
      << " s (a certificate stolen right after issue stays valid until notAfter; rotation after "
      << r.rotation_after_seconds << " s revokes nothing)\n";
  if (r.token_window_seconds) {
    out << "token window: " << *r.token_window_seconds << " s (a stolen end-user token works until its exp)\n";
  }
  out << "reached " << r.reached.size() << " workload(s), score " << fmt(r.score)
      << " (sum of sensitivity / hops)" << (r.truncated ? ", more beyond the hop limit" : "") << "\n";
  if (!r.reached.empty()) {
    std::vector<std::vector<std::string>> rows = {{"WORKLOAD", "HOPS", "VIA POLICY", "PATH"}};
    for (const auto& n : r.reached) {
      std::string path = shortName(g, r.compromised);
      for (const auto& s : n.path) {
        const ReachEdge& e = g.edges[s.edge];
        path += " -[" + std::string(e.mtls ? "mTLS" : "plaintext") + " :" + std::to_string(e.port) + "]-> " +
                shortName(g, s.to);
      }
      rows.push_back({g.workloadKey(n.workload), std::to_string(n.hops), via(g.edges[n.path.back().edge]), path});
    }
    printTable(out, rows);
  }
  for (const auto& e : r.token_gated) {
    out << "token-gated (not followed): " << g.workloadKey(e.from) << " -> " << g.workloadKey(e.to) << " needs "
        << g.edges[e.edge].token.text() << "\n";
  }
  const auto exposures = usableExposures(g);
  if (exposures.empty()) {
    out << "plaintext exposure: none (no port lets a client without a certificate in)\n";
  } else {
    out << "plaintext exposure: " << exposures.size()
        << " port(s) any network attacker reaches without a certificate\n";
    std::vector<std::vector<std::string>> rows = {
        {"WORKLOAD", "PORT", "MODE", "PEER-AUTHENTICATION", "ALLOWS"}};
    for (const auto* x : exposures) {
      rows.push_back({g.workloadKey(x->workload),
                      std::to_string(x->port) +
                          (x->port != x->target_port ? "->" + std::to_string(x->target_port) : ""),
                      exposureMode(*x), exposurePolicy(*x), exposureAllows(*x)});
    }
    printTable(out, rows);
  }
  for (const auto& w : g.warnings) out << "warning: " << w << "\n";
}

std::string dotQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";  // a line break inside a Graphviz label
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void blastDot(std::ostream& out, const ReachabilityGraph& g, const BlastRadius& r) {
  out << "digraph blast_radius {\n  rankdir=LR;\n  node [shape=box, style=filled, fillcolor=white];\n";
  out << "  " << dotQuote(g.workloadKey(r.compromised)) << " [fillcolor=red, fontcolor=white, label="
      << dotQuote(g.workloadKey(r.compromised) + "\ncompromised") << "];\n";
  for (const auto& n : r.reached) {
    out << "  " << dotQuote(g.workloadKey(n.workload)) << " [fillcolor=orange, label="
        << dotQuote(g.workloadKey(n.workload) + "\nhop " + std::to_string(n.hops)) << "];\n";
  }
  for (const auto& e : r.edges) {
    const ReachEdge& edge = g.edges[e.edge];
    out << "  " << dotQuote(g.workloadKey(e.from)) << " -> " << dotQuote(g.workloadKey(e.to))
        << " [label=" << dotQuote(via(edge)) << (edge.mtls ? "" : ", style=dashed") << "];\n";
  }
  for (const auto& e : r.token_gated) {
    out << "  " << dotQuote(g.workloadKey(e.to)) << ";\n";
    out << "  " << dotQuote(g.workloadKey(e.from)) << " -> " << dotQuote(g.workloadKey(e.to)) << " [label="
        << dotQuote("needs token: " + g.edges[e.edge].token.issuer) << ", style=dotted, color=gray];\n";
  }
  out << "}\n";
}

// Writes `dot` as DOT text or, for "svg", laid out by Graphviz. Returns the exit code.
int emitGraph(const std::string& verb, const std::string& dot, const std::string& output) {
  if (output != "svg") {
    std::cout << dot;
    return kExitOk;
  }
  auto svg = report::renderSvg(dot);
  if (!svg.ok()) return usage(verb, "-o svg: " + svg.status().toString());
  std::cout << *svg;
  if (!svg->empty() && svg->back() != '\n') std::cout << "\n";
  return kExitOk;
}

std::string observedText(const VerifiedProbe& p) {
  std::string out = p.observed_allowed ? "reached" : "refused";
  out += " (" + (p.observed_status == 0 ? std::string("reset") : std::to_string(p.observed_status));
  if (!p.served_by.empty()) out += ", served by " + p.served_by;
  if (!p.observed_error.empty()) out += ", " + p.observed_error;
  return out + ")";
}

nlohmann::json verificationJson(const BlastVerification& v) {
  nlohmann::json probes = nlohmann::json::array();
  for (const auto& p : v.probes) {
    probes.push_back(
        {{"from", p.from},
         {"to", p.to},
         {"service", p.service},
         {"request", p.request},
         {"transport", p.transport},
         {"predictedAllowed", p.predicted_allowed},
         {"observedAllowed", p.observed_allowed},
         {"observedStatus",
          p.observed_status == 0 ? nlohmann::json("reset") : nlohmann::json(p.observed_status)},
         {"observedError", p.observed_error},
         {"servedBy", p.served_by},
         {"basis", p.basis},
         {"agree", p.agree}});
  }
  return {{"agree", v.agree()},
          {"probeCount", v.probes.size()},
          {"attackers", v.attackers},
          {"disagreements", v.disagreements},
          {"predictedReached", v.predicted_reached},
          {"observedReached", v.observed_reached},
          {"probes", probes}};
}

void verificationTable(std::ostream& out, const BlastVerification& v) {
  out << "verified " << v.probes.size() << " probes from " << v.attackers.size() << " attackers";
  if (v.disagreements == 0) {
    out << ": all agree\n";
  } else {
    out << ": " << v.disagreements << " disagree (a bug in the model or in the proxy)\n";
    for (const auto& p : v.probes) {
      if (p.agree) continue;
      out << "  DISAGREE " << p.from << " -> " << p.to << " " << p.request << " over "
          << p.transport << ": predicted " << (p.predicted_allowed ? "allowed" : "refused") << " ("
          << p.basis << "), observed " << observedText(p) << "\n";
    }
  }
  auto list = [](const std::vector<std::string>& xs) {
    std::string s;
    for (const auto& x : xs) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (v.observed_reached == v.predicted_reached) {
    out << "observed reach matches the prediction: " << list(v.observed_reached) << "\n";
  } else {
    out << "observed reach differs: predicted " << list(v.predicted_reached) << "; observed "
        << list(v.observed_reached) << "\n";
  }
}

// --verify: starts the mesh, computes the radius on exactly the configuration it runs, attacks it
// for real and compares. Returns the exit code.
int runVerify(const std::shared_ptr<const config::Snapshot>& raw, const std::string& ns,
              const std::string& name, const analysis::BlastOptions& options,
              const std::string& output) {
  const std::string verb = "blast-radius --verify";
  const auto& factory = dataPlaneFactory();
  if (!factory) return usage(verb, "this build has no data plane");
  dataplane::DataPlaneOptions dp;
  dp.ingress = false;
  dp.access_log = false;
  auto runtime = MeshRuntime::create(raw, factory(dp));
  if (!runtime.ok()) return usage(verb, runtime.status().message());
  if (Status st = (*runtime)->start(); !st.ok())
    return usage(verb, "cannot start the mesh: " + st.message());
  // After start(): moving to free loopback blocks re-plans, and the graph must describe exactly
  // the configuration the running plan holds.
  VerifyOptions vo;
  vo.outsider = options.plaintext;
  auto graph = analysis::buildReachability((*runtime)->plan()->config, reachabilityOptionsFor(vo));
  if (!graph.ok()) return usage(verb, graph.status().message());
  auto radius = analysis::blastRadius(*graph, ns, name, options);
  if (!radius.ok()) return usage(verb, radius.status().message());
  auto verified = verifyBlastRadius(**runtime, *graph, *radius, vo);
  (*runtime)->stop();
  if (!verified.ok()) return usage(verb, verified.status().message());
  if (output == "json") {
    nlohmann::json doc = blastJson(*graph, *radius, options);
    doc["verification"] = verificationJson(*verified);
    std::cout << doc.dump(2) << "\n";
  } else {
    blastTable(std::cout, *graph, *radius);
    verificationTable(std::cout, *verified);
  }
  return verified->agree() ? kExitOk : kExitFinding;
}

// Loads the -f configuration (exit code set on failure).
std::shared_ptr<const config::Snapshot> loadBase(const InputOptions& inputs) {
  auto loaded = loadInputs(inputs);
  if (int rc = requireValid(*loaded, std::cerr); rc != kExitOk) {
    setExitCode(rc);
    return nullptr;
  }
  return loaded->snapshot;
}

// The raw snapshot with the --with files applied on top, validated as one configuration.
std::shared_ptr<const config::Snapshot> loadOverlay(const config::Snapshot& base, const std::vector<std::string>& paths) {
  config::LoadResult with = config::loadPaths(paths);
  auto merged = analysis::overlaySnapshot(base, with.resources);
  config::validateReferences(merged->resources, with.diagnostics);
  for (const auto& d : with.diagnostics.items()) std::cerr << d.toString() << "\n";
  if (!with.unreadable.empty() || with.diagnostics.hasErrors()) {
    usage("blast-radius", "--with: the candidate configuration cannot be used");
    return nullptr;
  }
  return merged;
}

Result<ReachabilityGraph> graphOf(const config::Snapshot& raw) {
  // Decisions see the Istio-level configuration, BRIDGED settings translated, as the proxies do.
  return analysis::buildReachability(mgmt::withTranslation(raw));
}

void addSuggestAuthz(CLI::App& app) {
  auto* cmd = app.add_subcommand("suggest-authz",
                                 "Least-privilege AuthorizationPolicies from observed calls, and the blast radius they leave");
  cmd->footer(
      "RUN.json: {\"calls\":[{\"from\":\"ns/workload\",\"to\":\"ns/service\",\"port\":9080,\"method\":\"GET\",\"path\":\"/x\"}]}\n"
      "Exit status: 0 done, 2 bad input.");
  auto inputs = std::make_shared<InputOptions>();
  addInputOptions(*cmd, *inputs);
  struct Opts {
    std::string run, output = "yaml";
    bool keep_unobserved = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--from-run", o->run, "JSON file of observed calls")->required();
  cmd->add_flag("--keep-unobserved", o->keep_unobserved,
                "Leave workloads without observed callers alone (default: propose allow-nothing for them)");
  cmd->add_option("-o,--output", o->output, "yaml or json")->check(CLI::IsMember({"yaml", "json"}));
  cmd->callback([inputs, o] {
    const std::string verb = "suggest-authz";
    std::ifstream in(o->run, std::ios::binary);
    if (!in) {
      usage(verb, "--from-run: cannot read " + o->run);
      return;
    }
    std::stringstream text;
    text << in.rdbuf();
    auto calls = analysis::parseObservedCalls(text.str());
    if (!calls.ok()) {
      usage(verb, o->run + ": " + calls.status().message());
      return;
    }
    auto raw = loadBase(*inputs);
    if (raw == nullptr) return;
    analysis::SuggestOptions so;
    so.deny_unobserved = !o->keep_unobserved;
    auto suggestion = analysis::suggestAuthorizationPolicies(*raw, *calls, so);
    if (!suggestion.ok()) {
      usage(verb, o->run + ": " + suggestion.status().message());
      return;
    }
    auto before = graphOf(*raw);
    auto after = graphOf(*analysis::overlaySnapshot(*raw, analysis::suggestionResources(*suggestion)));
    if (!before.ok() || !after.ok()) {
      usage(verb, (before.ok() ? after : before).status().message());
      return;
    }
    const auto rank_before = analysis::rankWorkloads(*before);
    const auto rank_after = analysis::rankWorkloads(*after);
    std::map<std::string, double> score_before;
    for (const auto& e : rank_before) score_before[before->workloadKey(e.workload)] = e.score;

    const std::string yaml = analysis::suggestionYaml(*suggestion);
    if (o->output == "json") {
      nlohmann::json left = nlohmann::json::array();
      for (const auto& e : rank_after) {
        auto r = analysis::blastRadius(*after, e.workload);
        nlohmann::json reached = nlohmann::json::array();
        if (r.ok()) {
          for (const auto& n : r->reached) reached.push_back({{"workload", after->workloadKey(n.workload)}, {"hops", n.hops}});
        }
        const std::string key = after->workloadKey(e.workload);
        left.push_back({{"workload", key}, {"scoreBefore", score_before[key]}, {"scoreAfter", e.score}, {"reached", reached}});
      }
      nlohmann::json names = nlohmann::json::array();
      for (const auto& p : suggestion->policies) names.push_back(p.meta.namespace_ + "/" + p.meta.name);
      std::cout << nlohmann::json({{"policies", names},
                                   {"yaml", yaml},
                                   {"warnings", suggestion->warnings},
                                   {"blastRadius", left}})
                       .dump(2)
                << "\n";
    } else {
      std::cout << yaml;
      std::cout << "# blast radius left by these policies (score = sum of sensitivity / hops):\n";
      for (const auto& e : rank_after) {
        const std::string key = after->workloadKey(e.workload);
        std::cout << "#   " << key << ": score " << fmt(score_before[key]) << " -> " << fmt(e.score) << ", reaches "
                  << e.reached << "\n";
      }
      for (const auto& w : suggestion->warnings) std::cout << "# warning: " << w << "\n";
    }
    setExitCode(kExitOk);
  });
}

}  // namespace

// Registers both verbs of this file: blast-radius and suggest-authz.
void registerBlastRadius(CLI::App& app) {
  addSuggestAuthz(app);
  auto* cmd = app.add_subcommand("blast-radius",
                                 "What an attacker holding one workload's certificate reaches, or rank all workloads");
  cmd->footer(
      "The compromised workload dials endpoints directly with its own certificate (or plaintext "
      "where\n"
      "PERMISSIVE/DISABLE allow it); every reached workload is assumed compromised in turn.\n"
      "Score = sum over reached workloads of sensitivity / hops.\n"
      "--verify starts the mesh on loopback and proves the prediction: the stolen certificates of "
      "the\n"
      "compromised and every reached identity, a plaintext outsider and a forged certificate probe "
      "every\n"
      "workload port (the policies' request shapes plus GET /, POST /, DELETE /admin).\n"
      "Exit status: 0 done (with --verify: every probe agrees), 1 --verify found a disagreement,\n"
      "2 bad input (unknown workload, bad flags, unreadable files).");
  auto inputs = std::make_shared<InputOptions>();
  addInputOptions(*cmd, *inputs);
  struct Opts {
    std::string compromise, output = "table";
    bool rank = false, follow_tokens = false, no_plaintext = false, verify = false;
    std::optional<uint32_t> hops;
    std::vector<std::string> with;
    int64_t svid_ttl = pki::kDefaultSvidTtlSeconds;
    int64_t token_ttl = analysis::kDefaultTokenTtlSeconds;
  };
  auto o = std::make_shared<Opts>();
  auto* compromise = cmd->add_option("--compromise", o->compromise, "NS/WORKLOAD the attacker controls");
  auto* rank = cmd->add_flag("--rank", o->rank, "Rank every workload by blast-radius score");
  compromise->excludes(rank);
  cmd->add_option("--hops", o->hops, "Maximum hop distance (default: unlimited)")->check(CLI::Range(0, 1000000));
  auto* with = cmd->add_option("--with", o->with,
                               "Candidate policy files: compare the blast radius before and after")
                   ->excludes(rank)
                   ->take_all();
  cmd->add_flag("--verify", o->verify,
                "Start the mesh and attack it for real; compare every probe with the prediction")
      ->excludes(rank)
      ->excludes(with);
  cmd->add_flag("--follow-tokens", o->follow_tokens, "Assume the attacker also holds suitable end-user JWTs");
  cmd->add_flag("--no-plaintext", o->no_plaintext, "Do not use plaintext exposure (certificate-only attacker)");
  cmd->add_option("--svid-ttl", o->svid_ttl, "Workload certificate lifetime in seconds (default 86400)")
      ->check(CLI::Range(int64_t{1}, int64_t{315360000}));
  cmd->add_option("--token-ttl", o->token_ttl, "Stolen JWT lifetime in seconds (default 3600)")
      ->check(CLI::Range(int64_t{1}, int64_t{315360000}));
  cmd->add_option("-o,--output", o->output, "table, json, dot or svg")
      ->check(CLI::IsMember({"table", "json", "dot", "svg"}));
  cmd->callback([inputs, o] {
    const std::string verb = "blast-radius";
    if (o->compromise.empty() && !o->rank) {
      usage(verb, "give --compromise NS/WORKLOAD or --rank");
      return;
    }
    const bool graph_output = o->output == "dot" || o->output == "svg";
    if (o->rank && graph_output) {
      usage(verb, "--rank prints a table or json, not " + o->output);
      return;
    }
    if (o->verify && graph_output) {
      usage(verb, "--verify prints a table or json, not " + o->output);
      return;
    }
    if (o->verify && o->follow_tokens) {
      usage(verb, "--verify sends no end-user tokens, so it cannot prove --follow-tokens");
      return;
    }
    std::string ns, name;
    if (!o->rank) {
      const size_t slash = o->compromise.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == o->compromise.size()) {
        usage(verb, "--compromise must be NS/WORKLOAD, got \"" + o->compromise + "\"");
        return;
      }
      ns = o->compromise.substr(0, slash);
      name = o->compromise.substr(slash + 1);
    }
    auto raw = loadBase(*inputs);
    if (raw == nullptr) return;
    analysis::BlastOptions options;
    options.hops = o->hops;
    options.follow_token_edges = o->follow_tokens;
    options.plaintext = !o->no_plaintext;
    options.svid_ttl_seconds = o->svid_ttl;
    options.token_ttl_seconds = o->token_ttl;
    if (o->verify) {
      setExitCode(runVerify(raw, ns, name, options, o->output));
      return;
    }
    auto graph = graphOf(*raw);
    if (!graph.ok()) {
      usage(verb, graph.status().message());
      return;
    }

    if (o->rank) {
      auto ranking = analysis::rankWorkloads(*graph, options);
      if (o->output == "json") {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : ranking) {
          list.push_back({{"workload", graph->workloadKey(e.workload)},
                          {"score", e.score},
                          {"reached", e.reached},
                          {"maxHops", e.max_hops}});
        }
        std::cout << nlohmann::json({{"scoreFormula", "sum over reached workloads of sensitivity / hops"},
                                     {"hopsLimit", o->hops ? nlohmann::json(*o->hops) : nlohmann::json(nullptr)},
                                     {"ranking", list},
                                     {"warnings", graph->warnings}})
                         .dump(2)
                  << "\n";
      } else {
        std::vector<std::vector<std::string>> rows = {{"RANK", "WORKLOAD", "SCORE", "REACHED", "MAX-HOPS"}};
        for (size_t i = 0; i < ranking.size(); ++i) {
          const auto& e = ranking[i];
          rows.push_back({std::to_string(i + 1), graph->workloadKey(e.workload), fmt(e.score),
                          std::to_string(e.reached), std::to_string(e.max_hops)});
        }
        printTable(std::cout, rows);
        std::cout << "score = sum over reached workloads of sensitivity / hops\n";
      }
      setExitCode(kExitOk);
      return;
    }

    auto before = analysis::blastRadius(*graph, ns, name, options);
    if (!before.ok()) {
      usage(verb, before.status().message());
      return;
    }
    if (o->with.empty()) {
      if (o->output == "json") {
        std::cout << blastJson(*graph, *before, options).dump(2) << "\n";
      } else if (graph_output) {
        std::ostringstream dot;
        blastDot(dot, *graph, *before);
        setExitCode(emitGraph(verb, dot.str(), o->output));
        return;
      } else {
        blastTable(std::cout, *graph, *before);
      }
      setExitCode(kExitOk);
      return;
    }

    auto candidate = loadOverlay(*raw, o->with);
    if (candidate == nullptr) return;
    auto after_graph = graphOf(*candidate);
    if (!after_graph.ok()) {
      usage(verb, "--with: " + after_graph.status().message());
      return;
    }
    auto after = analysis::blastRadius(*after_graph, ns, name, options);
    if (!after.ok()) {
      usage(verb, "--with: " + after.status().message());
      return;
    }
    const analysis::BlastDiff diff = analysis::diffBlastRadius(*graph, *before, *after_graph, *after);
    if (o->output == "json") {
      std::cout << nlohmann::json({{"before", blastJson(*graph, *before, options)},
                                   {"after", blastJson(*after_graph, *after, options)},
                                   {"diff",
                                    {{"nodesAdded", diff.nodes_added},
                                     {"nodesRemoved", diff.nodes_removed},
                                     {"edgesAdded", diff.edges_added},
                                     {"edgesRemoved", diff.edges_removed},
                                     {"scoreBefore", diff.score_before},
                                     {"scoreAfter", diff.score_after}}}})
                       .dump(2)
                << "\n";
    } else if (graph_output) {
      std::ostringstream dot;
      blastDot(dot, *after_graph, *after);
      setExitCode(emitGraph(verb, dot.str(), o->output));
      return;
    } else {
      std::cout << "after the candidate policies:\n";
      blastTable(std::cout, *after_graph, *after);
      std::cout << "what-if: score " << fmt(diff.score_before) << " -> " << fmt(diff.score_after) << "\n";
      for (const auto& n : diff.nodes_removed) std::cout << "  - no longer reached: " << n << "\n";
      for (const auto& n : diff.nodes_added) std::cout << "  + newly reached:     " << n << "\n";
      for (const auto& e : diff.edges_removed) std::cout << "  - edge: " << e << "\n";
      for (const auto& e : diff.edges_added) std::cout << "  + edge: " << e << "\n";
      if (diff.empty()) std::cout << "  (no change)\n";
    }
    setExitCode(kExitOk);
  });
}

}  // namespace meshsim::cli
