// Every file in tests/data/invalid states the exact first error line it must produce.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "meshsim/config/validate.h"
#include "support/paths.h"

namespace meshsim::config {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> invalidFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(testing::testData("invalid"))) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string expectedFirstLine(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::getline(in, line);
  const std::string prefix = "# expect: ";
  return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size()) : "";
}

class InvalidInput : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidInput, ReportsTheExpectedFirstError) {
  const fs::path dir = testing::testData("invalid");
  const std::string expected = expectedFirstLine(dir / GetParam());
  ASSERT_FALSE(expected.empty()) << GetParam() << " has no '# expect: ' first line";

  LoadResult result = loadConfiguration({(dir / GetParam()).string()});
  ASSERT_TRUE(result.diagnostics.hasErrors()) << GetParam() << " was accepted";
  const Diagnostic* first = nullptr;
  for (const auto& d : result.diagnostics.items()) {
    if (d.severity == Severity::kError) {
      first = &d;
      break;
    }
  }
  ASSERT_NE(first, nullptr);
  std::string actual = first->toString();
  const std::string dir_prefix = dir.string() + "/";
  for (size_t at = actual.find(dir_prefix); at != std::string::npos; at = actual.find(dir_prefix)) {
    actual.erase(at, dir_prefix.size());
  }
  EXPECT_EQ(actual, expected);
  // A document with errors never yields a half-read resource.
  for (const auto& r : result.resources) {
    EXPECT_NE(model::metaOf(r).source.file, "") << "resource without a source";
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, InvalidInput, ::testing::ValuesIn(invalidFiles()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param.substr(0, param.param.size() - 5);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(InvalidCorpus, HoldsAtLeastFortyCases) { EXPECT_GE(invalidFiles().size(), 40u); }

}  // namespace
}  // namespace meshsim::config
