// `meshsim audit log|verify|show`: the hash-chained audit log of a state.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands/commands.h"
#include "commands/state_options.h"

namespace meshsim::cli {

namespace {

nlohmann::json toJson(const mgmt::AuditRecord& r) {
  return {{"seq", r.seq},       {"time", r.time},         {"user", r.user},
          {"verb", r.verb},     {"kind", r.kind},         {"resource", r.resource},
          {"outcome", r.outcome}, {"reason", r.reason},   {"diff", r.diff},
          {"prevHash", r.prev_hash}, {"hash", r.hash}};
}

}  // namespace

void registerAudit(CLI::App& app) {
  auto* audit = app.add_subcommand("audit", "Read and verify the audit log of a state");
  audit->require_subcommand(1);

  auto* log = audit->add_subcommand("log", "List audit records");
  auto state = std::make_shared<StateOptions>();
  auto filter = std::make_shared<mgmt::AuditFilter>();
  auto output = std::make_shared<std::string>("table");
  addStateOption(*log, *state);
  log->add_option("--user", filter->user, "Only changes by this user");
  log->add_option("--resource", filter->resource, "Only resources whose FQN contains this text");
  log->add_option("--since", filter->since, "Only records at or after this RFC 3339 time");
  log->add_option("-o,--output", *output, "table or json")->check(CLI::IsMember({"table", "json"}));
  log->callback([=] {
    auto plane = openPlane(*state);
    if (!plane) return;
    auto records = plane->state().audit(*filter);
    if (!records.ok()) {
      std::cerr << "meshsim: " << records.status().toString() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    if (*output == "json") {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : *records) arr.push_back(toJson(r));
      std::cout << arr.dump(2) << "\n";
      return;
    }
    std::cout << std::left << std::setw(5) << "SEQ" << std::setw(22) << "TIME" << std::setw(10) << "USER"
              << std::setw(8) << "VERB" << std::setw(10) << "OUTCOME" << "RESOURCE / REASON\n";
    for (const auto& r : *records) {
      std::cout << std::setw(5) << r.seq << std::setw(22) << r.time << std::setw(10) << r.user << std::setw(8)
                << r.verb << std::setw(10) << r.outcome << r.kind << " " << r.resource << "\n"
                << std::string(55, ' ') << r.reason << "\n";
    }
  });

  auto* verify = audit->add_subcommand("verify", "Check the hash chain: exit 1 naming the first broken record");
  auto vstate = std::make_shared<StateOptions>();
  addStateOption(*verify, *vstate);
  verify->callback([=] {
    auto plane = openPlane(*vstate);
    if (!plane) return;
    auto result = plane->state().verify();
    if (!result.ok()) {
      std::cerr << "meshsim: " << result.status().toString() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    if (result->ok) {
      std::cout << "audit log intact: " << result->records << " record(s), hash chain verified\n";
      setExitCode(kExitOk);
    } else {
      std::cout << "audit log TAMPERED: " << result->problem << "\n";
      setExitCode(kExitFinding);
    }
  });

  auto* show = audit->add_subcommand("show", "Print one audit record with its diff");
  auto sstate = std::make_shared<StateOptions>();
  auto seq = std::make_shared<int64_t>(0);
  show->add_option("seq", *seq, "Record number")->required();
  addStateOption(*show, *sstate);
  show->callback([=] {
    auto plane = openPlane(*sstate);
    if (!plane) return;
    auto r = plane->state().auditRecord(*seq);
    if (!r.ok()) {
      std::cerr << "meshsim: " << r.status().message() << "\n";
      setExitCode(kExitFinding);
      return;
    }
    std::cout << "record:   " << r->seq << "\ntime:     " << r->time << "\nuser:     " << r->user
              << "\nverb:     " << r->verb << "\nresource: " << r->kind << " " << r->resource
              << "\noutcome:  " << r->outcome << "\nreason:   " << r->reason << "\nhash:     " << r->hash
              << "\n\n" << (r->diff.empty() ? "(no change)\n" : r->diff);
    if (!r->diff.empty() && r->diff.back() != '\n') std::cout << "\n";
  });
}

}  // namespace meshsim::cli
