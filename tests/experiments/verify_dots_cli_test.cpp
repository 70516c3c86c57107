// `twofour verify-dots` as documented (docs/datapath.md §Evidence): every measured case, "N passed, M failed" as the
// last line, exit 0 only with M == 0 and N > 0, one clear error line for missing/malformed files.
// Oracle: the GPU-measured data in tests/data/tensor-core-hw.
#include "support/paths.hpp"
#include "support/run_tool.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <unistd.h>

namespace {

using twofour::testing::count_lines;
using twofour::testing::run_tool;

const std::string kDir = twofour::testing::test_data_dir() + "/tensor-core-hw";

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
                           "--gpu H100 --format e4m3 --out fp32", "--gpu H100 --format E5M2 --out fp32",
                           "--gpu H100 --format e4m3 --out fp16", "--gpu H100 --format e5m2 --out fp16"}) {
    const auto r = run_tool(std::string("verify-dots ") + args + " '" + kDir + "'");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    EXPECT_EQ(last_line(r.out), "2500 passed, 0 failed") << args;
  }
}

// fp8 -> fp16 on H100 ran mma.sync, which ptxas lowers; the tool says so. A copy of that set with
// one output bit flipped fails with that case decoded.
TEST(VerifyDots, LoweredSetIsNamedAndAFlippedBitIsDecoded) {
  const auto ok = run_tool("verify-dots --gpu H100 --format e4m3 --out fp16 '" + kDir + "'");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("replayed through mma.sync.aligned.m16n8k32.row.col.f16.e4m3.e4m3.f16 on sm90"), std::string::npos)
      << ok.out;
  const auto dir = std::filesystem::temp_directory_path() / ("twofour-verify-dots-flip-" + std::to_string(::getpid()));
  const auto folder = dir / "H100" / "E4M3";
  std::filesystem::create_directories(folder);
  for (const auto& entry : std::filesystem::directory_iterator(kDir + "/H100/E4M3"))
    std::filesystem::copy_file(entry.path(), folder / entry.path().filename());
  {
    std::vector<std::string> lines;
    std::ifstream in(folder / "d_H100_fp16.txt");
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 2500u);
    ASSERT_EQ(lines[0].size(), 32u);
    // The word is float32 bits, most significant first; bit 13 (character 18) is the fp16
    // value's lowest fraction bit.
    lines[0][18] = lines[0][18] == '0' ? '1' : '0';
    std::ofstream out(folder / "d_H100_fp16.txt");
    for (const std::string& line : lines) out << line << "\n";
  }
  const auto r = run_tool("verify-dots --gpu H100 --format e4m3 --out fp16 '" + dir.string() + "'");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(last_line(r.out), "2499 passed, 1 failed") << r.out;
  EXPECT_NE(r.out.find("case 1 (line 1): mismatch"), std::string::npos);
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
