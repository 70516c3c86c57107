// `twofour verify-dots` as issue 3 specifies it: every measured case, "N passed, M failed" as the
// last line, exit 0 only with M == 0 and N > 0, one clear error line for missing/malformed files.
// Oracle: the GPU-measured data in tests/data/tensor-core-hw.
#include "support/run_tool.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

using twofour::testing::count_lines;
using twofour::testing::run_tool;

const std::string kDir = std::string(TWOFOUR_TEST_DATA_DIR) + "/tensor-core-hw";

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto pos = t.rfind('\n');
  return pos == std::string::npos ? t : t.substr(pos + 1);
}

TEST(VerifyDots, EveryMeasuredSetPasses) {
  for (const char* args : {"--gpu A100 --format fp16 --out fp32", "--gpu A100 --format fp16 --out fp16",
                           "--gpu A100 --format bf16 --out fp32", "--gpu A100 --format tf32 --out fp32",
                           "--gpu H100 --format fp16 --out fp32", "--gpu H100 --format fp16 --out fp16",
                           "--gpu H100 --format bf16 --out fp32", "--gpu H100 --format tf32 --out fp32",
                           "--gpu H100 --format e4m3 --out fp32", "--gpu H100 --format E5M2 --out fp32"}) {
    const auto r = run_tool(std::string("verify-dots ") + args + " '" + kDir + "'");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    EXPECT_EQ(last_line(r.out), "2500 passed, 0 failed") << args;
  }
}

TEST(VerifyDots, OpenQuestionSetFailsWithDecodedMismatches) {
  const auto r = run_tool("verify-dots --gpu H100 --format e4m3 --out fp16 '" + kDir + "'");
  EXPECT_EQ(r.exit_code, 1);
  const std::string last = last_line(r.out);
  EXPECT_NE(last.find(" passed, "), std::string::npos) << last;
  EXPECT_NE(last.find(" failed"), std::string::npos) << last;
  EXPECT_EQ(last.find(" 0 failed"), std::string::npos) << last;
  EXPECT_NE(r.out.find("simulated d 0x"), std::string::npos);
  EXPECT_NE(r.out.find("a[31] 0x"), std::string::npos);
}

TEST(VerifyDots, MissingDataIsOneErrorLine) {
  const auto r = run_tool("verify-dots --gpu H200 --format fp16 --out fp32 '" + kDir + "'");  // no H200 folder
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("H200"), std::string::npos) << r.err;
  const auto bad_gpu = run_tool("verify-dots --gpu V100 --format fp16 --out fp32 '" + kDir + "'");
  EXPECT_EQ(bad_gpu.exit_code, 2);
  EXPECT_EQ(count_lines(bad_gpu.err), 1) << bad_gpu.err;
}

TEST(VerifyDots, MalformedFileIsOneErrorLine) {
  const auto dir = std::filesystem::temp_directory_path() / ("twofour-verify-dots-" + std::to_string(::getpid()));
  const auto folder = dir / "A100" / "tf32";
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "a_A100_tf32.txt") << "3f800000 3f800000 3f800000 3f800000\n";
  std::ofstream(folder / "b_A100_tf32.txt") << "3f800000 3f800000 3f800000 3f80000\n";  // 7 digits
  std::ofstream(folder / "c_A100_fp32.txt") << "00000000000000000000000000000000\n";
  std::ofstream(folder / "d_A100_fp32.txt") << "01000000100000000000000000000000\n";
  const auto r = run_tool("verify-dots --gpu A100 --format tf32 --out fp32 '" + dir.string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("b_A100_tf32.txt:1"), std::string::npos) << r.err;
  // Fixed, the single case (1*1 * 4 = 4) passes.
  std::ofstream(folder / "b_A100_tf32.txt") << "3f800000 3f800000 3f800000 3f800000\n";
  const auto ok = run_tool("verify-dots --gpu A100 --format tf32 --out fp32 '" + dir.string() + "'");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(last_line(ok.out), "1 passed, 0 failed");
  std::filesystem::remove_all(dir);
}

}  // namespace
