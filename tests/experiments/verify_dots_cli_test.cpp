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
  const std::vector<std::string> sets = {
      "--gpu A100 --format fp16 --out fp32", "--gpu A100 --format fp16 --out fp16", "--gpu A100 --format bf16 --out fp32",
      "--gpu A100 --format tf32 --out fp32", "--gpu A2 --format fp16 --out fp32",   "--gpu A2 --format fp16 --out fp16",
      "--gpu A2 --format bf16 --out fp32",   "--gpu A2 --format tf32 --out fp32",   "--gpu Ada --format fp16 --out fp32",
      "--gpu Ada --format fp16 --out fp16",  "--gpu Ada --format bf16 --out fp32",  "--gpu Ada --format tf32 --out fp32",
      "--gpu Ada --format e4m3 --out fp32",  "--gpu ada --format E5M2 --out fp32",  "--gpu Ada --format e4m3 --out fp16",
      "--gpu Ada --format e5m2 --out fp16",  "--gpu L40S --format fp16 --out fp32", "--gpu L40S --format fp16 --out fp16",
      "--gpu L40S --format bf16 --out fp32", "--gpu L40S --format tf32 --out fp32", "--gpu L40S --format e4m3 --out fp32",
      "--gpu l40s --format e5m2 --out fp32", "--gpu H100 --format fp16 --out fp32", "--gpu H100 --format fp16 --out fp16",
      "--gpu H100 --format bf16 --out fp32", "--gpu H100 --format tf32 --out fp32", "--gpu H100 --format e4m3 --out fp32",
      "--gpu H100 --format E5M2 --out fp32", "--gpu H100 --format e4m3 --out fp16", "--gpu H100 --format e5m2 --out fp16",
      "--gpu B200 --format fp16 --out fp32", "--gpu B200 --format fp16 --out fp16", "--gpu B200 --format bf16 --out fp32",
      "--gpu B200 --format tf32 --out fp32", "--gpu B200 --format e4m3 --out fp32", "--gpu B200 --format e5m2 --out fp32",
      "--gpu B200 --format e4m3 --out fp16", "--gpu B200 --format e5m2 --out fp16"};
  for (const std::string& args : sets) {
    const auto r = run_tool("verify-dots " + args + " '" + kDir + "'");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    EXPECT_EQ(last_line(r.out), "2500 passed, 0 failed") << args;
    EXPECT_EQ(r.out.find("note:"), std::string::npos) << args << ": measured GPUs carry no [I] note";
  }
}

// The fp8 sets say which instruction they ran and how it reached the tensor core: native QMMA on
// Ada (sm_89), the ptxas lowering on B200 (sm_100) with FADD for fp32 D.
TEST(VerifyDots, Fp8SetsNameTheirInstruction) {
  const auto ada = run_tool("verify-dots --gpu Ada --format e4m3 --out fp32 '" + kDir + "'");
  EXPECT_NE(ada.out.find("replayed through mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 on sm89 (native)"),
            std::string::npos)
      << ada.out;
  const auto b200 = run_tool("verify-dots --gpu B200 --format e5m2 --out fp32 '" + kDir + "'");
  EXPECT_NE(b200.out.find("on sm100 (ptxas lowering: two fp16 HMMAs, then FADD of C)"), std::string::npos) << b200.out;
}

// The GPU names users know resolve to their architecture, with a note that this is inferred: a copy
// of the Ada data named RTX4090 (as a user's own measurement would be) replays through sm_89.
TEST(VerifyDots, AliasesResolveToTheirArchitectureWithAnInferredNote) {
  const auto dir = std::filesystem::temp_directory_path() / ("twofour-verify-dots-alias-" + std::to_string(::getpid()));
  const auto folder = dir / "RTX4090" / "E4M3";
  std::filesystem::create_directories(folder);
  for (const auto& entry : std::filesystem::directory_iterator(kDir + "/Ada/E4M3")) {
    std::string name = entry.path().filename().string();
    name.replace(name.find("Ada"), 3, "RTX4090");
    std::filesystem::copy_file(entry.path(), folder / name);
  }
  const auto r = run_tool("verify-dots --gpu rtx4090 --format e4m3 --out fp16 '" + dir.string() + "'");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(last_line(r.out), "2500 passed, 0 failed");
  EXPECT_NE(r.out.find("note: RTX4090 is simulated as sm89 [I]"), std::string::npos) << r.out;
  // RTX3090 is known (sm_86) but has no data here: a missing folder, not an unknown GPU.
  const auto missing = run_tool("verify-dots --gpu RTX3090 --format fp16 --out fp32 '" + kDir + "'");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("simulated as sm86 [I]"), std::string::npos) << missing.out;
  EXPECT_NE(missing.err.find("RTX3090"), std::string::npos) << missing.err;
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
