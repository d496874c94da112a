// `meshsim check`: would this request be allowed, and which policy and rule decided?
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "commands/common.h"
#include "meshsim/analysis/check.h"
#include "meshsim/engine.h"
#include "meshsim/mgmt/translate.h"
#include "meshsim/policy/jwt.h"

namespace meshsim::cli {

namespace {

std::string statusText(int status) { return status == policy::kStatusReset ? "reset" : std::to_string(status); }

nlohmann::json decisionJson(const policy::Decision& d) {
  nlohmann::json shares = nlohmann::json::array();
  for (const auto& s : d.route.shares) shares.push_back({{"host", s.host}, {"subset", s.subset}, {"share", s.share}});
  return {{"status", d.status == policy::kStatusReset ? nlohmann::json("reset") : nlohmann::json(d.status)},
          {"allowed", d.allowed()},
          {"stage", policy::stageName(d.stage)},
          {"policy", d.policy},
          {"rule", d.rule},
          {"body", d.body},
          {"reason", d.reason},
          {"responseFlags", d.response_flags},
          {"mtls", d.mtls},
          {"route", {{"virtualService", d.route.virtual_service},
                     {"destination", d.route.destination},
                     {"shares", shares}}},
          {"trace", d.trace}};
}

nlohmann::json observedJson(const dataplane::ProbeResult& o) {
  return {{"status", o.status == 0 ? nlohmann::json("reset") : nlohmann::json(o.status)},
          {"body", o.body.size() > 4096 ? o.body.substr(0, 4096) : o.body},
          {"responseFlags", o.response_flags},
          {"mtls", o.mtls},
          {"servedBy", o.served_by},
          {"version", o.version},
          {"pod", o.pod},
          {"error", o.error},
          {"latencyMs", o.latency_ms}};
}

void printDecision(const policy::Decision& d, const char* prefix) {
  std::cout << prefix << (d.allowed() ? "ALLOWED " : "DENIED ") << statusText(d.status);
  if (!d.body.empty()) std::cout << " \"" << d.body << "\"";
  std::cout << "  stage=" << policy::stageName(d.stage);
  if (!d.policy.empty()) std::cout << " policy=" << d.policy;
  if (d.rule >= 0) std::cout << " rule=" << d.rule;
  if (!d.response_flags.empty()) std::cout << " flags=" << d.response_flags;
  std::cout << " mtls=" << (d.mtls ? "yes" : "no") << "\n";
}

// --live: the same request through real sidecars, next to the prediction.
int runLive(std::shared_ptr<const config::Snapshot> snapshot, const analysis::CheckRequest& req,
            const std::string& output) {
  const auto& factory = dataPlaneFactory();
  if (!factory) {
    std::cerr << "meshsim check --live: this build has no data plane\n";
    return kExitUsage;
  }
  dataplane::DataPlaneOptions dp;
  dp.threads = 1;
  dp.ingress = false;
  RuntimeOptions options;
  options.start_time_seconds = req.now_seconds;
  auto runtime = MeshRuntime::create(snapshot, factory(dp), options);
  if (!runtime.ok()) {
    std::cerr << "meshsim check --live: " << runtime.status().message() << "\n";
    return kExitUsage;
  }
  if (Status st = (*runtime)->start(); !st.ok()) {
    std::cerr << "meshsim check --live: cannot start the mesh: " << st.message() << "\n";
    return kExitUsage;
  }
  auto live = (*runtime)->checkLive(req);
  (*runtime)->stop();
  if (!live.ok()) {
    std::cerr << "meshsim check --live: " << live.status().message() << "\n";
    return kExitUsage;
  }
  const auto& p = live->predicted;
  const auto& o = live->observed;
  if (output == "json") {
    nlohmann::json doc = {{"predicted", decisionJson(p)},
                          {"observed", observedJson(o)},
                          {"agree", live->agree},
                          {"differences", live->differences}};
    std::cout << doc.dump(2) << "\n";
  } else {
    printDecision(p, "predicted: ");
    std::cout << "observed:  " << (o.status >= 200 && o.status < 300 ? "ALLOWED " : "DENIED ")
              << statusText(o.status);
    if (!o.served_by.empty()) {
      std::cout << "  served by " << o.served_by << (o.version.empty() ? "" : " (" + o.version + ")");
    } else if (!o.body.empty()) {
      std::cout << " \"" << o.body << "\"";
    }
    if (!o.response_flags.empty()) std::cout << " flags=" << o.response_flags;
    std::cout << " mtls=" << (o.mtls ? "yes" : "no");
    std::cout << "  " << static_cast<int>(o.latency_ms * 1000) / 1000.0 << " ms\n";
    if (!o.error.empty()) std::cout << "  " << o.error << "\n";
    if (live->agree) {
      std::cout << "AGREE: the real sidecars did what the model predicts\n";
    } else {
      std::cout << "DISAGREE:\n";
      for (const auto& d : live->differences) std::cout << "  " << d << "\n";
    }
  }
  if (!live->agree) return kExitFinding;
  return p.allowed() ? kExitOk : kExitFinding;
}

}  // namespace

void registerCheck(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "Would this request succeed? Which policy and rule decide it, and why");
  cmd->footer(
      "--from: NS/WORKLOAD (through its sidecar), outside (no sidecar, no certificate),\n"
      "        stolen:NS/WORKLOAD (that workload's genuine certificate), forged:SPIFFE-ID (self-signed).\n"
      "--live also sends the request through real sidecars on loopback and shows both outcomes.\n"
      "Exit status: 0 the request succeeds (2xx), 1 it is refused (or, with --live, the real\n"
      "outcome disagrees with the prediction), 2 bad input.");
  auto inputs = std::make_shared<InputOptions>();
  addInputOptions(*cmd, *inputs);
  struct Opts {
    std::string to, from = "outside", method = "GET", path = "/", host, source_ip, jwt, jwt_claims,
                    jwt_invalid, output = "text";
    std::vector<std::string> headers;
    std::optional<uint32_t> port, workload_port;
    int64_t now = 0;
    bool live = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--to", o->to, "NS/SERVICE")->required();
  auto* port = cmd->add_option("--port", o->port, "Service port (default: the first)");
  cmd->add_option("--workload-port", o->workload_port, "Target (container) port instead of --port")->excludes(port);
  cmd->add_option("--from", o->from, "Who sends the request (default: outside)");
  cmd->add_option("--method", o->method, "HTTP method (default GET)");
  cmd->add_option("--path", o->path, "Request path, may include a query (default /)");
  cmd->add_option("--host", o->host, "Host header (default <svc>.<ns>.svc.cluster.local:<port>)");
  cmd->add_option("--header", o->headers, "NAME:VALUE, repeatable");
  cmd->add_option("--source-ip", o->source_ip, "Source address seen by the server (default 127.0.0.1)");
  auto* jwt = cmd->add_option("--jwt", o->jwt, "A token to send as Authorization: Bearer");
  auto* claims = cmd->add_option("--jwt-claims", o->jwt_claims, "JSON claims of a valid token from the configured issuer")
                     ->excludes(jwt);
  cmd->add_option("--jwt-invalid", o->jwt_invalid, "Send a broken token")
      ->check(CLI::IsMember({"signature", "expired", "malformed", "issuer", "audience"}))
      ->excludes(jwt)
      ->excludes(claims);
  cmd->add_option("--time", o->now, "Simulated time in seconds since the epoch, for token expiry (default: now)");
  cmd->add_option("-o,--output", o->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--live", o->live, "Also send it through real sidecars and compare");
  cmd->callback([inputs, o] {
    auto loaded = loadInputs(*inputs);
    if (int rc = requireValid(*loaded, std::cerr); rc != kExitOk) {
      setExitCode(rc);
      return;
    }
    analysis::CheckRequest req;
    auto from = analysis::parseCheckSource(o->from);
    if (!from.ok()) {
      std::cerr << "meshsim check: " << from.status().message() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    req.from = *from;
    auto slash = o->to.find('/');
    if (slash == std::string::npos) {
      std::cerr << "meshsim check: --to must be NS/SERVICE\n";
      setExitCode(kExitUsage);
      return;
    }
    req.to_namespace = o->to.substr(0, slash);
    req.to_service = o->to.substr(slash + 1);
    req.port = o->port;
    req.workload_port = o->workload_port;
    req.method = o->method;
    req.path = o->path;
    req.host = o->host;
    req.source_ip = o->source_ip;
    for (const auto& h : o->headers) {
      auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0) {
        std::cerr << "meshsim check: --header must be NAME:VALUE, got \"" << h << "\"\n";
        setExitCode(kExitUsage);
        return;
      }
      std::string value = h.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers.emplace_back(h.substr(0, colon), value);
    }
    if (!o->jwt.empty()) req.jwt = {analysis::CheckJwt::Kind::kToken, o->jwt, "", ""};
    if (!o->jwt_claims.empty()) req.jwt = {analysis::CheckJwt::Kind::kClaims, "", o->jwt_claims, ""};
    if (!o->jwt_invalid.empty()) req.jwt = {analysis::CheckJwt::Kind::kInvalid, "", "", o->jwt_invalid};
    req.now_seconds = o->now != 0 ? o->now : static_cast<int64_t>(std::time(nullptr));

    // Decisions see the Istio-level configuration: raw objects plus those translated from
    // BRIDGED settings, exactly as the data plane will.
    if (o->live) {
      if (!o->source_ip.empty()) {
        std::cerr << "meshsim check --live: --source-ip cannot be set: real clients use their own "
                     "loopback addresses\n";
        setExitCode(kExitUsage);
        return;
      }
      setExitCode(runLive(loaded->snapshot, req, o->output));
      return;
    }
    auto snapshot = mgmt::withTranslation(*loaded->snapshot);
    policy::IdentityProviderKeys keys;
    auto decision = analysis::check(snapshot, req, keys);
    if (!decision.ok()) {
      std::cerr << "meshsim check: " << decision.status().message() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    const policy::Decision& d = *decision;
    if (o->output == "json") {
      std::cout << decisionJson(d).dump(2) << "\n";
    } else {
      printDecision(d, "");
      if (!d.reason.empty()) std::cout << "  " << d.reason << "\n";
      for (const auto& s : d.route.shares) {
        std::cout << "  share " << s.host << (s.subset.empty() ? "" : " subset " + s.subset) << ": "
                  << static_cast<int>(s.share * 1000 + 0.5) / 10.0 << "%\n";
      }
      for (const auto& line : d.trace) std::cout << "  - " << line << "\n";
    }
    setExitCode(d.allowed() ? kExitOk : kExitFinding);
  });
}

}  // namespace meshsim::cli
