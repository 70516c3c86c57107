// GPU tests of the tiled GEMM: run_gemm_on_gpu against sim::run_gemm (the GEMM level, same row,
// the GPU's architecture), bit for bit, on random operands and shapes that exercise every partial
// CTA tile (M % 128, N % 128, K % 64 != 0) and the smallest legal shapes. Skip without a GPU.
#include "gpu_available.hpp"
#include "random_gemm_operands.hpp"
#include "twofour/cuda/gemm.hpp"
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <cuda_runtime.h>
#include "support/seed.hpp"
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

namespace sim = twofour::sim;
namespace spec = twofour::sim::spec;

using cuda_test::random_operands;
using cuda_test::Shape;
using cuda_test::u32;

void expect_bit_identical(const char* name, Shape s, unsigned seed) {
  const spec::Instruction& instr = *spec::find_instruction(name);
  std::mt19937 rng(seed);
  const sim::GemmOperands ops = random_operands(instr, s, rng);
  const sim::Tile gpu = twofour::cuda::run_gemm_on_gpu(instr, ops);
  const sim::Tile ref = sim::run_gemm(instr, cuda_test::device_arch(), ops).d;
  ASSERT_EQ(gpu.rows, ref.rows);
  ASSERT_EQ(gpu.cols, ref.cols);
  int shown = 0;
  std::size_t differ = 0;
  for (int r = 0; r < s.m; ++r)
    for (int c = 0; c < s.n; ++c)
      if (gpu.at(r, c) != ref.at(r, c)) {
        ++differ;
        if (shown++ < 5)
          ADD_FAILURE() << name << " " << s.m << "x" << s.n << "x" << s.k << ": D(" << r << ", " << c << ") GPU 0x"
                        << std::hex << gpu.at(r, c) << " sim 0x" << ref.at(r, c) << std::dec;
      }
  if (differ != 0 && instr.is_sparse()) {
    // Say whether the other reading of the unpublished block grouping (sim/tile.hpp) fits instead.
    sim::GemmOptions logical;
    logical.execution.grouping = sim::SparseGrouping::logical_k;
    const bool logical_matches = sim::run_gemm(instr, cuda_test::device_arch(), ops, logical).d == gpu;
    ADD_FAILURE() << name << ": with SparseGrouping::logical_k the simulator "
                  << (logical_matches ? "MATCHES the GPU" : "does not match either");
  }
  EXPECT_EQ(differ, 0u) << name << " " << s.m << "x" << s.n << "x" << s.k << ": " << differ << " of " << s.m * s.n
                        << " elements differ";
}

constexpr std::array<const char*, 6> kRows = {
    "SM80_SP_16x8x32_F32F16F16F32_TN",  "SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN",
    "SM80_SP_16x8x32_F32BF16BF16F32_TN", "SM80_SP_ORDERED_16x8x32_F32BF16BF16F32_TN",
    "SM80_16x8x16_F32F16F16F32_TN",     "SM80_16x8x16_F32BF16BF16F32_TN",
};

TEST(GpuGemm, MatchesSimGemmLevelBitForBit) {
  if (const std::string why = cuda_test::no_gpu_reason(); !why.empty()) GTEST_SKIP() << why;
  constexpr std::array<Shape, 9> kShapes = {{{16, 8, 32},
                                             {128, 128, 64},
                                             {32, 16, 96},      // one partial k-tile (a skipped k32 step)
                                             {144, 136, 160},   // every CTA dimension partial
                                             {48, 24, 32},      // a half 32-row metadata block
                                             {256, 256, 256},
                                             {272, 264, 224},
                                             {16, 520, 64},
                                             {400, 8, 320}}};
  unsigned seed = 1;
  for (const char* name : kRows)
    for (const Shape& s : kShapes) expect_bit_identical(name, s, seed++);
}

TEST(GpuGemm, DenseTwinHandlesK16Tails) {
  if (const std::string why = cuda_test::no_gpu_reason(); !why.empty()) GTEST_SKIP() << why;
  for (const char* name : {"SM80_16x8x16_F32F16F16F32_TN", "SM80_16x8x16_F32BF16BF16F32_TN"})
    for (Shape s : {Shape{16, 8, 16}, Shape{64, 40, 48}, Shape{144, 136, 112}}) expect_bit_identical(name, s, 99);
}

TEST(GpuGemm, RandomShapes) {
  if (const std::string why = cuda_test::no_gpu_reason(); !why.empty()) GTEST_SKIP() << why;
  std::mt19937 rng(twofour::testing::test_seed("GpuGemm.RandomShapes", 2026));
  for (int i = 0; i < 12; ++i) {
    const char* name = kRows[static_cast<std::size_t>(i) % kRows.size()];
    const Shape s{16 * static_cast<int>(1 + u32(rng) % 24), 8 * static_cast<int>(1 + u32(rng) % 40),
                  32 * static_cast<int>(1 + u32(rng) % 10)};
    expect_bit_identical(name, s, static_cast<unsigned>(1000 + i));
  }
}

TEST(GpuGemm, RawApiWithoutCIsPlusZeroAndRunsInPlace) {
  // launch_gemm with c = nullptr (what the benchmark does) equals C = +0; with c == d it
  // accumulates in place. Operands stay on the device; the metadata goes through the rowmajor route.
  if (const std::string why = cuda_test::no_gpu_reason(); !why.empty()) GTEST_SKIP() << why;
  const spec::Instruction& instr = *spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN");
  const Shape s{144, 72, 96};
  std::mt19937 rng(twofour::testing::test_seed("GpuGemm.RawApiWithoutCIsPlusZeroAndRunsInPlace", 5));
  sim::GemmOperands ops = random_operands(instr, s, rng);
  std::vector<std::uint16_t> a(ops.a.bits.begin(), ops.a.bits.end()), b(ops.b.bits.begin(), ops.b.bits.end());
  std::vector<std::uint16_t> words(static_cast<std::size_t>(s.m) * (s.k / 16), 0);
  for (int r = 0; r < s.m; ++r)
    for (int c = 0; c < s.k / 4; ++c)
      words[static_cast<std::size_t>(r) * (s.k / 16) + c / 4] |=
          static_cast<std::uint16_t>(ops.metadata[static_cast<std::size_t>(r) * (s.k / 4) + c] << (4 * (c % 4)));
  const std::vector<std::uint32_t> meta = twofour::cuda::reorder_rowmajor_metadata_for_gpu(s.m, s.k, words);
  void *da = nullptr, *db = nullptr, *dm = nullptr, *dd = nullptr;
  const std::size_t d_bytes = static_cast<std::size_t>(s.m) * s.n * 4;
  ASSERT_EQ(cudaMalloc(&da, a.size() * 2), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&db, b.size() * 2), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dm, meta.size() * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dd, d_bytes), cudaSuccess);
  cudaMemcpy(da, a.data(), a.size() * 2, cudaMemcpyHostToDevice);
  cudaMemcpy(db, b.data(), b.size() * 2, cudaMemcpyHostToDevice);
  cudaMemcpy(dm, meta.data(), meta.size() * 4, cudaMemcpyHostToDevice);
  twofour::cuda::GemmDeviceOperands dev;
  dev.m = s.m;
  dev.n = s.n;
  dev.k = s.k;
  dev.a = da;
  dev.b = db;
  dev.metadata = static_cast<const std::uint32_t*>(dm);
  dev.c = nullptr;
  dev.d = static_cast<float*>(dd);
  twofour::cuda::launch_gemm(instr, dev);  // D1 = A B + 0
  dev.c = dev.d;
  twofour::cuda::launch_gemm(instr, dev);  // D2 = A B + D1, in place
  sim::Tile gpu(s.m, s.n);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  cudaMemcpy(gpu.bits.data(), dd, d_bytes, cudaMemcpyDeviceToHost);
  cudaFree(da);
  cudaFree(db);
  cudaFree(dm);
  cudaFree(dd);
  ops.c = sim::Tile(s.m, s.n);
  ops.c = sim::run_gemm(instr, cuda_test::device_arch(), ops).d;
  const sim::Tile ref = sim::run_gemm(instr, cuda_test::device_arch(), ops).d;
  EXPECT_TRUE(gpu == ref) << "raw API: D = A B + (A B + 0) differs from sim";
}

}  // namespace
