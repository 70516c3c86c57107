// `twofour validate` from the command line: one line and exit 77 without a GPU, --vectors replays
// committed files (simulator-only end to end), a corrupted file fails with the mismatch located,
// malformed files and bad arguments give one error line with exit 1 / 2.
#include "support/paths.hpp"
#include "support/run_tool.hpp"
#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/vectors.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

using twofour::testing::count_lines;
using twofour::testing::run_tool;

const std::string kVectors = twofour::testing::test_data_dir() + "/sim-vectors/";

std::string last_line(std::string t) {
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto pos = t.rfind('\n');
  return pos == std::string::npos ? t : t.substr(pos + 1);
}

std::filesystem::path temp(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("twofour-validate-cli-" + std::to_string(::getpid()) + "-" + name);
}

TEST(ValidateCli, WithoutGpuSaysSoInOneLine) {
  const auto r = run_tool("validate --instr SM80_SP_16x8x16_F32F16F16F32_TN --cases 4");
  if (r.exit_code != 77) {
    // A GPU is present: then the run itself must pass.
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    GTEST_SKIP() << "a GPU is present; the no-GPU path is not reachable here";
  }
  EXPECT_EQ(count_lines(r.out) + count_lines(r.err), 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("GPU"), std::string::npos);
}

TEST(ValidateCli, ReplaysCommittedVectorsWithoutGpu) {
  for (const char* name : {"regression_sm80.txt", "regression_sm90.txt"}) {
    const auto r = run_tool("validate --vectors '" + kVectors + name + "'");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto file = twofour::sim::read_vectors_file(kVectors + name);
    EXPECT_EQ(last_line(r.out), std::to_string(file.cases.size()) + " passed, 0 failed");
  }
  // --instr filters the file's cases.
  const auto f = run_tool("validate --vectors '" + kVectors + "regression_sm80.txt' --instr '*S4S4*'");
  EXPECT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(last_line(f.out), "1 passed, 0 failed");
}

// GPU outputs committed by scripts/gpu-check (tests/data/gpu/*.txt): CPU-only CI replays real hardware.
TEST(ValidateCli, ReplaysCommittedGpuVectors) {
  const std::filesystem::path dir = twofour::testing::test_data_dir() + "/gpu";
  int files = 0;
  if (std::filesystem::is_directory(dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".txt") continue;
      const auto r = run_tool("validate --vectors '" + entry.path().string() + "'");
      EXPECT_EQ(r.exit_code, 0) << entry.path() << "\n" << r.out.substr(0, 4000) << r.err;
      ++files;
    }
  }
  if (files == 0) GTEST_SKIP() << "no GPU test vectors under " << dir << " yet (scripts/gpu-check writes them)";
}

TEST(ValidateCli, CorruptedVectorFailsWithTheMismatchLocated) {
  auto file = twofour::sim::read_vectors_file(kVectors + "regression_sm80.txt");
  auto& victim = file.cases[1];
  victim.d[20][0] ^= 0x80000000u;  // sign of element 0 of register 0, lane 20
  const auto path = temp("corrupt.txt");
  twofour::sim::write_vectors_file(path, file);
  const auto r = run_tool("validate --vectors '" + path.string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(last_line(r.out), std::to_string(file.cases.size() - 1) + " passed, 1 failed");
  const auto rc = twofour::sim::spec::c_coord(*victim.instr, 20, 0, 0);
  const std::string at = "D lane 20 register 0 element 0 (row " + std::to_string(rc.row) + ", col " + std::to_string(rc.col) + ")";
  EXPECT_NE(r.out.find(at), std::string::npos) << r.out;
  std::filesystem::remove(path);
}

TEST(ValidateCli, MalformedVectorFileIsOneErrorLine) {
  const auto path = temp("malformed.txt");
  std::ofstream(path) << "twofour-vectors v1 generator=x seed=1 arch=sm80 source=sim\nSM80_SP_16x8x16_F32F16F16F32_TN 0 A=zz\n";
  const auto r = run_tool("validate --vectors '" + path.string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(":2"), std::string::npos) << r.err;
  const auto missing = run_tool("validate --vectors '" + temp("absent.txt").string() + "'");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(count_lines(missing.err), 1) << missing.err;
  std::filesystem::remove(path);
}

TEST(ValidateCli, BadArgumentsExit2) {
  for (const char* args : {"--instr NOPE", "--instr ''", "--cases 0", "--cases abc", "--gemm 12x", "--probe bogus",
                           "--grouping sideways", "--bogus-flag"}) {
    const auto r = run_tool(std::string("validate ") + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << args << "\n" << r.err;
  }
  const auto both = run_tool("validate --vectors '" + kVectors + "regression_sm80.txt' --out /tmp/x.txt");
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

}  // namespace
