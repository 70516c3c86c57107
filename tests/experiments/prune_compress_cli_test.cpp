// `twofour prune`, `compress`, `decompress` run as a user would, on temporary files.
// Oracles: the mask definition (N kept per group of M along input channels), the lib round trip
// (decompress(compress(x)) == x), and the tool contract (bad argument: one line, exit 2).
#include "twofour/io/npy.hpp"
#include "twofour/io/safetensors.hpp"
#include "twofour/prune/permutation.hpp"
#include "twofour/prune/sparsegpt.hpp"
#include "twofour/sparse/compress.hpp"

#include "support/run_tool.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <unistd.h>

namespace {

using namespace twofour::io;
using twofour::testing::count_lines;
using twofour::testing::run_tool;

class ToolFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("twofour-cli-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }
  std::filesystem::path file(const std::string& name) const { return dir_ / name; }
  std::filesystem::path dir_;
};

std::vector<float> gaussian(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST_F(ToolFiles, PruneWritesAnInt8MaskThePrunedWeightAndAReport) {
  const auto w = gaussian(8 * 16, 1);
  write_npy(file("w.npy"), from_float32(w, {8, 16}, DType::f32));
  const auto r = run_tool("prune --criterion magnitude --pattern 2:4 --report " + path("w.npy") + " " + path("m.npy") +
                          " --pruned " + path("p.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kept L1: "), std::string::npos) << r.out;
  const Array mask = read_npy(file("m.npy"));
  EXPECT_EQ(mask.dtype, DType::i8);
  EXPECT_EQ(mask.shape, (std::vector<std::size_t>{8, 16}));
  const auto m = to_float32(mask);
  const auto p = to_float32(read_npy(file("p.npy")));
  for (std::size_t g = 0; g < 32; ++g) EXPECT_EQ(m[4 * g] + m[4 * g + 1] + m[4 * g + 2] + m[4 * g + 3], 2.0f);
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_EQ(p[i], m[i] != 0 ? w[i] : 0.0f);
}

TEST_F(ToolFiles, PruneCalibratesOnEverySampleUnlessAHeldOutErrorIsAsked) {
  // Oracle: lib's sparsegpt_prune on all 40 samples, then on the first 30.
  const auto w = gaussian(8 * 16, 3);
  const auto x = gaussian(40 * 16, 4);
  write_npy(file("w.npy"), from_float32(w, {8, 16}, DType::f32));
  write_npy(file("x.npy"), from_float32(x, {40, 16}, DType::f32));
  const std::string base = "prune --criterion sparsegpt --calib " + path("x.npy") + " " + path("w.npy") + " " +
                           path("m.npy") + " --pruned " + path("p.npy");
  const std::vector<std::size_t> shape = {8, 16};

  auto r = run_tool(base + " --report");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("calibration: 40 samples used by the criterion, 0 held out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(in-sample)"), std::string::npos) << r.out;
  const auto all = twofour::prune::sparsegpt_prune(w, shape, twofour::prune::Activations{x, 40, 16});
  EXPECT_EQ(to_float32(read_npy(file("p.npy"))), all.weights);

  r = run_tool(base + " --report --holdout 0.25");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("calibration: 30 samples used by the criterion, 10 held out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(held-out)"), std::string::npos) << r.out;
  const std::span<const float> first30(x.data(), 30 * 16);
  const auto part = twofour::prune::sparsegpt_prune(w, shape, twofour::prune::Activations{first30, 30, 16});
  EXPECT_EQ(to_float32(read_npy(file("p.npy"))), part.weights);

  r = run_tool(base + " --holdout 0.25");  // a held-out share only serves --report
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST_F(ToolFiles, PrunePermuteReportsItsMethodAndEfficacyAgainstTime) {
  // Oracle for the mask (in the permuted channel order, as the weight it prunes): the permutation
  // the tool wrote, applied by lib, then the 2:4 definition (the 2 largest |w| of each 4).
  const auto w = gaussian(16 * 64, 5);
  write_npy(file("w.npy"), from_float32(w, {16, 64}, DType::f32));
  const std::string base = "prune --permute --report " + path("w.npy") + " " + path("m.npy") + " --permutation " +
                           path("perm.npy");
  for (const std::string method : {"channel-swaps", "stripe-groups"}) {
    const auto r = run_tool(base + " --permute-method " + method);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("permutation search: " + method), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("efficacy against time:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(final)"), std::string::npos) << r.out;
    const Array perm = read_npy(file("perm.npy"));
    ASSERT_EQ(perm.dtype, DType::i64);
    std::vector<std::int64_t> p(64);
    std::memcpy(p.data(), perm.data.data(), 64 * sizeof(std::int64_t));
    const std::vector<std::size_t> shape = {16, 64};
    const auto wp = twofour::prune::permute_input_channels(w, shape, p);
    const auto m = to_float32(read_npy(file("m.npy")));
    for (std::size_t g = 0; g < 16 * 16; ++g) {
      float kept = 0, smallest_kept = 1e30f, largest_dropped = 0;
      for (std::size_t j = 4 * g; j < 4 * g + 4; ++j) {
        kept += m[j];
        if (m[j] != 0) smallest_kept = std::min(smallest_kept, std::fabs(wp[j]));
        else largest_dropped = std::max(largest_dropped, std::fabs(wp[j]));
      }
      EXPECT_EQ(kept, 2.0f) << "group " << g;
      EXPECT_GE(smallest_kept, largest_dropped) << "group " << g;
    }
    std::filesystem::remove(file("m.npy"));
    std::filesystem::remove(file("perm.npy"));
  }
  const auto bad = run_tool(base + " --permute-method tetris");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--permute-method"), std::string::npos) << bad.err;
  EXPECT_EQ(count_lines(bad.err), 1) << bad.err;
}

TEST_F(ToolFiles, PruneConv2dAndTransposable) {
  write_npy(file("c.npy"), from_float32(gaussian(8 * 8 * 3 * 3, 2), {8, 8, 3, 3}, DType::f16));
  const auto r = run_tool("prune --pattern 1:4 " + path("c.npy") + " " + path("m.npy") + " --pruned " + path("p.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = to_float32(read_npy(file("m.npy")));
  for (std::size_t k = 0; k < 8; ++k)
    for (std::size_t c0 = 0; c0 < 8; c0 += 4)
      for (std::size_t rs = 0; rs < 9; ++rs) {
        float kept = 0;
        for (std::size_t c = c0; c < c0 + 4; ++c) kept += m[(k * 8 + c) * 9 + rs];
        EXPECT_EQ(kept, 1.0f);
      }
  EXPECT_EQ(read_npy(file("p.npy")).dtype, DType::f16);
  write_npy(file("w.npy"), from_float32(gaussian(8 * 8, 3), {8, 8}, DType::f32));
  for (const char* method : {"best", "best90", "greedy"}) {
    const auto t = run_tool(std::string("prune --transposable --method ") + method + " " + path("w.npy") + " " + path("t.npy"));
    ASSERT_EQ(t.exit_code, 0) << t.err;
    const auto tm = to_float32(read_npy(file("t.npy")));
    for (std::size_t i = 0; i < 8; ++i)
      for (std::size_t b = 0; b < 8; b += 4) {
        float rn = 0, cn = 0;
        for (std::size_t j = 0; j < 4; ++j) {
          rn += tm[i * 8 + b + j];
          cn += tm[(b + j) * 8 + i];
        }
        EXPECT_LE(rn, 2.0f);
        EXPECT_LE(cn, 2.0f);
      }
  }
}

TEST_F(ToolFiles, PruneSafetensorsByGlob) {
  SafetensorsFile f;
  f.tensors = {{"fc1.weight", from_float32(gaussian(4 * 8, 4), {4, 8}, DType::bf16)},
               {"fc1.bias", from_float32(gaussian(4, 5), {4}, DType::f32)},
               {"fc2.weight", from_float32(gaussian(8 * 4, 6), {8, 4}, DType::f32)}};
  write_safetensors(file("in.safetensors"), f);
  const auto r = run_tool("prune --tensor '*.weight' --report " + path("in.safetensors") + " " + path("out.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fc2.weight: kept L1"), std::string::npos) << r.out;
  const auto out = read_safetensors(file("out.safetensors"));
  std::map<std::string, Array> by_name(out.tensors.begin(), out.tensors.end());
  ASSERT_TRUE(by_name.count("fc1.__weight_mma_mask"));
  ASSERT_TRUE(by_name.count("fc2.__weight_mma_mask"));
  EXPECT_EQ(by_name["fc1.__weight_mma_mask"].dtype, DType::b1);
  EXPECT_EQ(by_name["fc1.weight"].dtype, DType::bf16);
  EXPECT_EQ(by_name["fc1.bias"].data, f.tensors[1].second.data);
  const auto w2 = to_float32(by_name["fc2.weight"]);
  for (std::size_t row = 0; row < 8; ++row) {
    int nz = 0;
    for (std::size_t c = 0; c < 4; ++c) nz += w2[row * 4 + c] != 0.0f;
    EXPECT_EQ(nz, 2);
  }
  const auto none = run_tool("prune --tensor 'nothing*' " + path("in.safetensors") + " " + path("x.safetensors"));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(count_lines(none.err), 1) << none.err;
}

TEST_F(ToolFiles, CompressDecompressRoundTripsEachDtypeAndLayout) {
  struct Case {
    DType dtype;
    const char* flag;
    std::size_t rows, cols;
  };
  const Case cases[] = {{DType::f32, "", 32, 32}, {DType::f16, "", 32, 64}, {DType::u16, "--dtype bf16", 32, 64},
                        {DType::i8, "", 32, 128}};
  for (const auto& c : cases) {
    for (const char* layout : {"rowmajor", "cutlass"}) {
      const std::size_t n = c.rows * c.cols;
      auto w = gaussian(n, 7);
      for (auto& x : w) x = std::round(x * 20.0f);
      Array dense = from_float32(w, {c.rows, c.cols}, c.dtype == DType::u16 ? DType::bf16 : c.dtype);
      if (c.dtype == DType::u16) dense.dtype = DType::u16;
      write_npy(file("d.npy"), dense);
      const std::string lay = std::string(" --layout ") + layout + " " + c.flag + " ";
      const auto r = run_tool("compress --prune" + lay + path("d.npy") + " " + path("v.npy") + " " + path("m.npy"));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const Array meta = read_npy(file("m.npy"));
      const bool int32_meta = c.dtype == DType::i8 && std::string(layout) == "cutlass";
      EXPECT_EQ(meta.dtype, int32_meta ? DType::i32 : DType::i16) << layout;
      EXPECT_EQ(read_npy(file("v.npy")).shape, (std::vector<std::size_t>{c.rows, c.cols / 2}));
      const auto d = run_tool("decompress" + lay + path("v.npy") + " " + path("m.npy") + " " + path("o.npy"));
      ASSERT_EQ(d.exit_code, 0) << d.err;
      const Array back = read_npy(file("o.npy"));
      EXPECT_EQ(back.dtype, c.dtype);
      // Compress the pruned output again: it is already 2:4 (1:2), so it must round-trip exactly.
      const auto r2 = run_tool("compress" + lay + path("o.npy") + " " + path("v2.npy") + " " + path("m2.npy"));
      ASSERT_EQ(r2.exit_code, 0) << r2.err;
      const auto d2 = run_tool("decompress" + lay + path("v2.npy") + " " + path("m2.npy") + " " + path("o2.npy"));
      ASSERT_EQ(d2.exit_code, 0) << d2.err;
      EXPECT_EQ(read_npy(file("o2.npy")).data, back.data) << layout;
    }
  }
}

TEST_F(ToolFiles, ErrorsAreOneLine) {
  std::vector<float> w(32 * 32, 0.0f);
  w[3 * 32 + 4] = w[3 * 32 + 5] = w[3 * 32 + 6] = 1.0f;
  write_npy(file("d.npy"), from_float32(w, {32, 32}, DType::f32));
  const auto dense = run_tool("compress --layout rowmajor " + path("d.npy") + " " + path("v.npy") + " " + path("m.npy"));
  EXPECT_EQ(dense.exit_code, 1);
  EXPECT_EQ(count_lines(dense.err), 1) << dense.err;
  EXPECT_NE(dense.err.find("row 3, columns 4..7"), std::string::npos) << dense.err;
  const auto bad_pattern = run_tool("prune --pattern 5:4 " + path("d.npy") + " " + path("m.npy"));
  EXPECT_EQ(bad_pattern.exit_code, 2);
  EXPECT_EQ(count_lines(bad_pattern.err), 1) << bad_pattern.err;
  const auto bad_criterion = run_tool("prune --criterion wishful " + path("d.npy") + " " + path("m.npy"));
  EXPECT_EQ(bad_criterion.exit_code, 2);
  EXPECT_NE(bad_criterion.err.find("magnitude"), std::string::npos) << bad_criterion.err;
  const auto bad_layout = run_tool("compress --layout diagonal " + path("d.npy") + " " + path("v.npy") + " " + path("m.npy"));
  EXPECT_EQ(bad_layout.exit_code, 2);
  EXPECT_EQ(count_lines(bad_layout.err), 1) << bad_layout.err;
  const auto missing_arg = run_tool("decompress --layout rowmajor " + path("v.npy"));
  EXPECT_EQ(missing_arg.exit_code, 2);
  EXPECT_EQ(count_lines(missing_arg.err), 1) << missing_arg.err;
  const auto missing_file = run_tool("prune " + path("nope.npy") + " " + path("m.npy"));
  EXPECT_EQ(missing_file.exit_code, 1);
  EXPECT_EQ(count_lines(missing_file.err), 1) << missing_file.err;
  write_npy(file("odd.npy"), from_float32(std::vector<float>(12), {2, 6}, DType::f32));
  const auto odd = run_tool("prune " + path("odd.npy") + " " + path("m.npy"));
  EXPECT_EQ(odd.exit_code, 1);
  EXPECT_NE(odd.err.find("not a multiple of M = 4"), std::string::npos) << odd.err;
  EXPECT_EQ(run_tool("prune --pad " + path("odd.npy") + " " + path("m.npy")).exit_code, 0);
}

}  // namespace
