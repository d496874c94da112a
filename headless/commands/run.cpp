// `meshsim run SCENARIO...`: runs scenarios on live proxies and checks their expectations.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands/commands.h"
#include "commands/common.h"
#include "meshsim/scenario/runner.h"
#include "report/html.h"
#include "report/json.h"
#include "report/junit.h"

namespace meshsim::cli {

namespace {

struct RunOptions {
  std::vector<std::string> scenarios;
  std::string junit;
  std::string json;
  std::string report;
  bool quiet = false;
};

// Progress on stderr: a redrawn bar on a terminal, plain lines otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter(std::string name, bool tty) : name_(std::move(name)), tty_(tty) {}
  void operator()(const scenario::Progress& p) {
    if (tty_) {
      const int width = 24;
      int filled = p.steps == 0 ? width : static_cast<int>(width * p.step / p.steps);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(width, '.');
      std::string line = "\r\033[K" + name_ + " [" + bar + "] step " + std::to_string(p.step + 1) + "/" +
                         std::to_string(p.steps) + " " + p.what.substr(0, 60);
      if (p.requests_total > 0) {
        line += " " + std::to_string(p.requests_done) + "/" + std::to_string(p.requests_total) + " requests";
      }
      std::cerr << line << std::flush;
      return;
    }
    if (p.requests_done != 0 || last_step_ == p.step) return;  // one line per step
    last_step_ = p.step;
    std::cerr << name_ << ": step " << p.step + 1 << "/" << p.steps << ": " << p.what << "\n";
  }
  void clear() {
    if (tty_) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  std::string name_;
  bool tty_;
  size_t last_step_ = static_cast<size_t>(-1);
};

// Writes `text` to `path`, creating missing parent folders.
bool writeFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out << text;
  return static_cast<bool>(out.flush());
}

void printStep(const scenario::StepResult& s, bool quiet) {
  if (quiet && s.passed) return;
  std::cout << "  " << (s.passed ? "ok  " : "FAIL") << " step " << s.index + 1 << ": " << s.summary << "\n";
  if (!s.passed && !s.error.empty() && s.assertions.empty()) {
    std::cout << "       " << s.where.toString() << ": " << s.error << "\n";
  }
  for (const auto& a : s.assertions) {
    if (a.passed && quiet) continue;
    if (a.passed) {
      std::cout << "       ok   " << a.name << "\n";
    } else {
      std::cout << "       FAIL " << a.where.toString() << ": " << a.message() << "\n";
    }
  }
}

void runAll(const RunOptions& opts) {
  // Parse everything first: bad input runs nothing.
  std::vector<scenario::Scenario> parsed;
  bool bad = false;
  for (const auto& path : opts.scenarios) {
    auto p = scenario::loadScenario(path);
    for (const auto& d : p.diagnostics.items()) std::cerr << d.toString() << "\n";
    if (!p.scenario) {
      bad = true;
      continue;
    }
    parsed.push_back(std::move(*p.scenario));
  }
  if (bad) {
    std::cerr << "meshsim run: nothing ran: fix the scenario first\n";
    setExitCode(kExitUsage);
    return;
  }
  if (!dataPlaneFactory()) {
    std::cerr << "meshsim run: this build has no data plane\n";
    setExitCode(kExitUsage);
    return;
  }
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::vector<scenario::ScenarioResult> results;
  bool input_error = false;
  for (auto& sc : parsed) {
    const std::string name = sc.name;
    if (!opts.quiet) std::cout << "scenario " << name << " (" << sc.file << ")\n";
    auto printer = std::make_shared<ProgressPrinter>(name, tty);
    scenario::RunnerOptions ro;
    ro.data_plane_factory = dataPlaneFactory();
    ro.data_plane = dataplane::DataPlaneOptions{2, false, 0};
    if (!opts.quiet) ro.on_progress = [printer](const scenario::Progress& p) { (*printer)(p); };
    auto runner = scenario::ScenarioRunner::create(std::move(sc), ro);
    if (!runner.ok()) {
      std::cerr << "meshsim run: " << runner.status().toString() << "\n";
      setExitCode(kExitUsage);
      return;
    }
    auto& r = **runner;
    Status st = r.start();
    if (!st.ok()) {
      printer->clear();
      std::cerr << "meshsim run: " << name << ": " << st.toString() << "\n";
      if (st.code() == StatusCode::kInvalidArgument) input_error = true;
    }
    while (st.ok() && !r.done()) {
      auto s = r.step();
      printer->clear();
      printStep(s, opts.quiet);
    }
    auto result = r.finish();
    std::cout << (result.passed() ? "PASS " : "FAIL ") << name << ": " << result.assertionCount() - result.failedAssertionCount()
              << "/" << result.assertionCount() << " assertions passed, " << result.steps.size() << " steps, ";
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f s", result.duration_ms / 1000.0);
    std::cout << secs << "\n";
    results.push_back(std::move(result));
  }
  bool all = true;
  for (const auto& r : results) all = all && r.passed();
  bool write_failed = false;
  auto write = [&](const std::string& path, const std::string& text, const char* what) {
    if (path.empty()) return;
    if (!writeFile(path, text)) {
      std::cerr << "meshsim run: cannot write the " << what << " to " << path << "\n";
      write_failed = true;
    } else if (!opts.quiet) {
      std::cout << "wrote " << what << " " << path << "\n";
    }
  };
  write(opts.junit, report::junitXml(results), "JUnit XML");
  write(opts.json, report::scenarioJson(results), "JSON report");
  if (!opts.report.empty()) write(opts.report, report::htmlReport(results), "HTML report");
  if (input_error || write_failed) {
    setExitCode(kExitUsage);
  } else {
    setExitCode(all ? kExitOk : kExitFinding);
  }
}

}  // namespace

void registerRun(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run scenarios on live proxies and check their expectations");
  cmd->footer(
      "SCENARIO is a scenario file or a folder holding scenario.yaml (docs/scenarios.md).\n"
      "Exit status: 0 every assertion holds, 1 an assertion or step failed, 2 invalid scenario, "
      "refused scenario files or unwritable report.");
  auto opts = std::make_shared<RunOptions>();
  cmd->add_option("scenario", opts->scenarios, "Scenario files or folders")->required();
  cmd->add_option("--junit", opts->junit, "Write JUnit XML (one testsuite per scenario, one testcase per assertion)");
  cmd->add_option("--json", opts->json, "Write the results as JSON");
  cmd->add_option("--report", opts->report, "Write a self-contained HTML report");
  cmd->add_flag("-q,--quiet", opts->quiet, "Print only failures and the summary; no progress");
  cmd->callback([opts] { runAll(*opts); });
}

}  // namespace meshsim::cli
