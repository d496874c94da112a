// `meshsim check`: would this request be allowed, and which policy and rule decided?
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "commands/common.h"
#include "meshsim/analysis/check.h"
#include "meshsim/mgmt/translate.h"
#include "meshsim/policy/jwt.h"

namespace meshsim::cli {

namespace {

std::string statusText(int status) { return status == policy::kStatusReset ? "reset" : std::to_string(status); }

}  // namespace

void registerCheck(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "Would this request succeed? Which policy and rule decide it, and why");
  cmd->footer(
      "--from: NS/WORKLOAD (through its sidecar), outside (no sidecar, no certificate),\n"
      "        stolen:NS/WORKLOAD (that workload's genuine certificate), forged:SPIFFE-ID (self-signed).\n"
      "Exit status: 0 the request succeeds (2xx), 1 it is refused, 2 bad input.");
  auto inputs = std::make_shared<InputOptions>();
  addInputOptions(*cmd, *inputs);
  struct Opts {
    std::string to, from = "outside", method = "GET", path = "/", host, source_ip, jwt, jwt_claims,
                    jwt_invalid, output = "text";
    std::vector<std::string> headers;
    std::optional<uint32_t> port, workload_port;
    int64_t now = 0;
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
      nlohmann::json shares = nlohmann::json::array();
      for (const auto& s : d.route.shares) shares.push_back({{"host", s.host}, {"subset", s.subset}, {"share", s.share}});
      nlohmann::json doc = {{"status", d.status == policy::kStatusReset ? nlohmann::json("reset") : nlohmann::json(d.status)},
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
      std::cout << doc.dump(2) << "\n";
    } else {
      std::cout << (d.allowed() ? "ALLOWED " : "DENIED ") << statusText(d.status);
      if (!d.body.empty()) std::cout << " \"" << d.body << "\"";
      std::cout << "  stage=" << policy::stageName(d.stage);
      if (!d.policy.empty()) std::cout << " policy=" << d.policy;
      if (d.rule >= 0) std::cout << " rule=" << d.rule;
      if (!d.response_flags.empty()) std::cout << " flags=" << d.response_flags;
      std::cout << " mtls=" << (d.mtls ? "yes" : "no") << "\n";
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
