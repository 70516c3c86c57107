// CPU tests of the GPU GEMM's host side (run everywhere): the per-lane metadata layout against
// sim's warp-level packing, the rowmajor (lib) route to it, and row/shape/metadata validation.
#include "gpu_available.hpp"
#include "twofour/cuda/gemm.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/warp.hpp"
#include "twofour/sparse/compress.hpp"

#include "support/seed.hpp"
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <stdexcept>

namespace {

std::uint32_t u32(std::mt19937& rng) { return static_cast<std::uint32_t>(rng()); }

using twofour::cuda::reorder_metadata_for_gpu;
using twofour::cuda::reorder_rowmajor_metadata_for_gpu;
namespace sim = twofour::sim;
namespace spec = twofour::sim::spec;

const spec::Instruction& row(const char* name) {
  const spec::Instruction* in = spec::find_instruction(name);
  if (in == nullptr) throw std::logic_error(name);
  return *in;
}

// Random valid ordered nibbles (idx0 < idx1), M x K/4.
std::vector<std::uint8_t> random_nibbles(int m, int k, std::mt19937& rng) {
  static constexpr std::array<std::uint8_t, 6> kOrdered = {0x4, 0x8, 0x9, 0xc, 0xd, 0xe};
  std::vector<std::uint8_t> out(static_cast<std::size_t>(m) * static_cast<std::size_t>(k / 4));
  for (auto& n : out) n = kOrdered[u32(rng) % kOrdered.size()];
  return out;
}

// Every lane word the kernel reads equals the e register sim packs for the m16 tile the kernel
// issues with that word, under the selector the kernel uses (tile h of a 32-row block: selector h).
void expect_matches_warp_layout(int m, int k) {
  const spec::Instruction& instr = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  std::mt19937 rng(static_cast<unsigned>(m * 1000 + k));
  const std::vector<std::uint8_t> nibbles = random_nibbles(m, k, rng);
  const std::vector<std::uint32_t> words = reorder_metadata_for_gpu(m, k, nibbles);
  ASSERT_EQ(words.size(), twofour::cuda::gpu_metadata_words(m, k));
  const int steps = k / 32, chunks = k / 4;
  for (int mb = 0; mb * 32 < m; ++mb)
    for (int s = 0; s < steps; ++s)
      for (int h = 0; h < 2; ++h) {
        const int row0 = mb * 32 + 16 * h;
        const std::uint32_t* lane_words = words.data() + (static_cast<std::size_t>(mb) * steps + s) * 32;
        if (row0 >= m) {
          // Past M: padding with defined nibbles, in the lanes of the tile that is never issued.
          for (int lane = 0; lane < 32; ++lane)
            if (((lane & 3) >> 1) == h) {
              EXPECT_EQ(lane_words[lane], 0x44444444u) << "lane " << lane;
            }
          continue;
        }
        sim::TileOperands tiles{sim::Tile(16, 16), {}, sim::Tile(32, 8), sim::Tile(16, 8)};
        for (int r = 0; r < 16; ++r)
          for (int c = 0; c < 8; ++c)
            tiles.metadata.push_back(nibbles[static_cast<std::size_t>(row0 + r) * chunks + 8 * s + c]);
        const sim::WarpRegisters regs = sim::pack_registers(instr, tiles, h);
        for (int lane = 0; lane < 32; ++lane)
          if (((lane & 3) >> 1) == h) {
            EXPECT_EQ(lane_words[lane], regs[static_cast<std::size_t>(lane)].e)
                << "M=" << m << " K=" << k << " block " << mb << " step " << s << " tile " << h << " lane " << lane;
          }
      }
}

TEST(GpuGemmLayout, LaneWordsAreSimsWarpRegisters) {
  expect_matches_warp_layout(32, 32);
  expect_matches_warp_layout(64, 96);
  expect_matches_warp_layout(48, 64);   // a half block: padding in the odd tile
  expect_matches_warp_layout(16, 128);
}

TEST(GpuGemmLayout, RowmajorWordsGiveTheSameLayout) {
  // lib's rowmajor compression of a random 2:4 matrix, reordered from its uint16 words, equals the
  // reorder of the same metadata as GemmOperands nibbles.
  const int m = 80, k = 160;
  std::mt19937 rng(twofour::testing::test_seed("GpuGemmLayout.RowmajorWordsGiveTheSameLayout", 7));
  std::vector<float> dense(static_cast<std::size_t>(m) * k);
  for (auto& x : dense) x = static_cast<float>(static_cast<int>(u32(rng) % 200) - 100);
  const twofour::sparse::Compressed c = twofour::sparse::compress_f32(
      dense, static_cast<std::size_t>(m), static_cast<std::size_t>(k), twofour::sparse::MetaLayout::rowmajor, true);
  std::vector<std::uint16_t> words(c.metadata.size() / 2);
  std::memcpy(words.data(), c.metadata.data(), c.metadata.size());
  std::vector<std::uint8_t> nibbles;
  for (int r = 0; r < m; ++r)
    for (int g = 0; g < k / 4; ++g)
      nibbles.push_back(static_cast<std::uint8_t>((words[static_cast<std::size_t>(r) * (k / 16) + g / 4] >> (4 * (g % 4))) & 0xf));
  EXPECT_EQ(reorder_rowmajor_metadata_for_gpu(m, k, words), reorder_metadata_for_gpu(m, k, nibbles));
}

TEST(GpuGemmLayout, RejectsBadMetadataShapes) {
  EXPECT_THROW(reorder_metadata_for_gpu(16, 48, std::vector<std::uint8_t>(16 * 12)), std::invalid_argument);
  EXPECT_THROW(reorder_metadata_for_gpu(24, 32, std::vector<std::uint8_t>(24 * 8)), std::invalid_argument);
  EXPECT_THROW(reorder_metadata_for_gpu(16, 32, std::vector<std::uint8_t>(16 * 8 - 1)), std::invalid_argument);
  EXPECT_THROW(reorder_rowmajor_metadata_for_gpu(16, 32, std::vector<std::uint16_t>(16)), std::invalid_argument);
}

TEST(GpuGemmShape, SupportedRowsAndShapes) {
  using twofour::cuda::check_gemm_shape;
  for (const char* name : {"SM80_SP_16x8x32_F32F16F16F32_TN", "SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN",
                           "SM80_SP_16x8x32_F32BF16BF16F32_TN", "SM80_SP_ORDERED_16x8x32_F32BF16BF16F32_TN",
                           "SM80_16x8x16_F32F16F16F32_TN", "SM80_16x8x16_F32BF16BF16F32_TN"}) {
    EXPECT_TRUE(twofour::cuda::gemm_row_supported(row(name))) << name;
    EXPECT_NO_THROW(check_gemm_shape(row(name), 16, 8, 32)) << name;
    EXPECT_NO_THROW(check_gemm_shape(row(name), 272, 136, 4096)) << name;
    EXPECT_THROW(check_gemm_shape(row(name), 24, 8, 32), std::invalid_argument) << name;
    EXPECT_THROW(check_gemm_shape(row(name), 16, 12, 32), std::invalid_argument) << name;
    EXPECT_THROW(check_gemm_shape(row(name), 16, 8, 40), std::invalid_argument) << name;
    EXPECT_THROW(check_gemm_shape(row(name), 0, 8, 32), std::invalid_argument) << name;
  }
  EXPECT_NO_THROW(check_gemm_shape(row("SM80_16x8x16_F32F16F16F32_TN"), 16, 8, 48));
  EXPECT_THROW(check_gemm_shape(row("SM80_SP_16x8x32_F32F16F16F32_TN"), 16, 8, 48), std::invalid_argument);
  // Rows the kernel does not run: another shape, another type, an integer row.
  for (const char* name : {"SM80_SP_16x8x16_F32F16F16F32_TN", "SM80_SP_16x8x32_F16F16F16F16_TN"})
    if (const spec::Instruction* in = spec::find_instruction(name)) {
      EXPECT_FALSE(twofour::cuda::gemm_row_supported(*in)) << name;
      EXPECT_THROW(check_gemm_shape(*in, 16, 8, 32), std::invalid_argument) << name;
    }
}

sim::GemmOperands zero_operands(const spec::Instruction& instr, int m, int n, int k) {
  sim::GemmOperands ops;
  ops.a = sim::Tile(m, instr.is_sparse() ? k / 2 : k);
  ops.b = sim::Tile(k, n);
  ops.c = sim::Tile(m, n);
  if (instr.is_sparse()) ops.metadata.assign(static_cast<std::size_t>(m) * static_cast<std::size_t>(k / 4), 0x4);
  return ops;
}

TEST(GpuGemmShape, RunGemmOnGpuValidatesBeforeTouchingTheGpu) {
  const spec::Instruction& sparse = row("SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN");
  sim::GemmOperands ops = zero_operands(sparse, 32, 16, 64);
  ops.metadata[5 * 16 + 9] = 0x5;  // equal indices: UB for every variant -> MetadataError, as sim
  EXPECT_THROW(twofour::cuda::run_gemm_on_gpu(sparse, ops), sim::MetadataError);
  ops = zero_operands(sparse, 32, 16, 64);
  ops.metadata[3] = 0x1;  // descending: UB under ::ordered_metadata
  EXPECT_THROW(twofour::cuda::run_gemm_on_gpu(sparse, ops), sim::MetadataError);
  ops = zero_operands(sparse, 32, 16, 64);
  ops.a = sim::Tile(32, 64);  // dense-width A for a sparse row
  EXPECT_THROW(twofour::cuda::run_gemm_on_gpu(sparse, ops), std::invalid_argument);
  ops = zero_operands(sparse, 32, 16, 64);
  ops.metadata.pop_back();
  EXPECT_THROW(twofour::cuda::run_gemm_on_gpu(sparse, ops), std::invalid_argument);
}

TEST(GpuGemmShape, NoGpuIsARuntimeError) {
  if (cuda_test::no_gpu_reason().empty()) GTEST_SKIP() << "a GPU is present; this test covers machines without one";
  const spec::Instruction& dense = row("SM80_16x8x16_F32F16F16F32_TN");
  try {
    (void)twofour::cuda::run_gemm_on_gpu(dense, zero_operands(dense, 16, 8, 16));
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no GPU"), std::string::npos) << e.what();
  }
}

}  // namespace
