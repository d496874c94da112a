#include "support/process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace meshsim::testing {

namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string meshsimBinary() {
  const char* bin = std::getenv("MESHSIM_BIN");
  return bin != nullptr ? bin : MESHSIM_DEFAULT_BIN;
}

ProcessResult runMeshsim(const std::vector<std::string>& args, const std::string& stdin_text) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("meshsim-run-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path in = dir / "stdin", out = dir / "stdout", err = dir / "stderr";
  std::ofstream(in, std::ios::binary) << stdin_text;
  std::string cmd = "timeout 120 " + quote(meshsimBinary());
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " <" + quote(in.string()) + " >" + quote(out.string()) + " 2>" + quote(err.string());
  int status = std::system(cmd.c_str());
  ProcessResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  fs::remove_all(dir);
  return r;
}

}  // namespace meshsim::testing
