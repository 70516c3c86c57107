// The tiled GEMM kernel replayed on the CPU (runs everywhere): every CTA, warp, k-tile and k-step
// of cuda/src/gemm_kernel.cuh, with the kernel's own address functions (gemm_geometry.hpp), the
// shared-memory stages as the predicated cp.async copies fill them (zeros past M, N, K), ldmatrix
// emulated from the PTX definition, the metadata words of the per-lane layout, and every mma run by
// sim's WARP level (sim::run_warp, whose register layouts are defined independently of the
// kernel). The result must equal sim's GEMM level bit for bit: that checks the fragment and
// metadata index arithmetic, the selector choice and the k-order without a GPU. (What it cannot
// check: the PTX/SASS itself, the pipeline's synchronisation, and whether the GPU's arithmetic is
// the simulator's; the GPU tests do.)
#include "random_gemm_operands.hpp"
#include "twofour/cuda/gemm.hpp"
#include "twofour/cuda/gemm_geometry.hpp"
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/gemm_order.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/warp.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

namespace {

namespace sim = twofour::sim;
namespace spec = twofour::sim::spec;
namespace geo = twofour::cuda::gemm_geometry;
using cuda_test::Shape;
using geo::StageCoord;
using Fragment = std::array<std::array<std::uint32_t, 4>, 32>;  // 4 registers per lane

// ldmatrix.x4 (PTX ISA "ldmatrix"): lane l supplies the row address of row l%8 of matrix l/8.
// Plain: register i of lane l = row l/4 of matrix i, elements 2(l%4), +1 (low half first).
// .trans: register i of lane l = rows 2(l%4), +1 of matrix i at element l/4.
template <typename Element>
Fragment ldmatrix_x4(const std::array<StageCoord, 32>& address, bool trans, Element element) {
  Fragment r{};
  for (int l = 0; l < 32; ++l)
    for (int i = 0; i < 4; ++i) {
      std::uint32_t lo = 0, hi = 0;
      if (!trans) {
        const StageCoord a = address[static_cast<std::size_t>(8 * i + l / 4)];
        lo = element(a.row, a.col + 2 * (l % 4));
        hi = element(a.row, a.col + 2 * (l % 4) + 1);
      } else {
        const StageCoord a0 = address[static_cast<std::size_t>(8 * i + 2 * (l % 4))];
        const StageCoord a1 = address[static_cast<std::size_t>(8 * i + 2 * (l % 4) + 1)];
        lo = element(a0.row, a0.col + l / 4);
        hi = element(a1.row, a1.col + l / 4);
      }
      r[static_cast<std::size_t>(l)][static_cast<std::size_t>(i)] = (lo & 0xffffu) | ((hi & 0xffffu) << 16);
    }
  return r;
}

template <typename Address>
std::array<StageCoord, 32> lane_addresses(Address address) {
  std::array<StageCoord, 32> out{};
  for (int l = 0; l < 32; ++l) out[static_cast<std::size_t>(l)] = address(l);
  return out;
}

sim::Tile replay_kernel(const spec::Instruction& instr, spec::Arch arch, const sim::GemmOperands& ops) {
  const int m = ops.a.rows, k = ops.b.rows, n = ops.b.cols;
  const bool sparse = instr.is_sparse();
  const int step_k = instr.k, steps_per_tile = twofour::cuda::kGemmTileK / step_k;
  const int a_cols_per_tile = sparse ? twofour::cuda::kGemmTileK / 2 : twofour::cuda::kGemmTileK;
  const int k_tiles = (k + twofour::cuda::kGemmTileK - 1) / twofour::cuda::kGemmTileK;
  std::vector<std::uint32_t> meta;
  if (sparse) meta = twofour::cuda::reorder_metadata_for_gpu(m, k, ops.metadata);
  const int meta_blocks = (m + 31) / 32, k_steps = k / 32;

  sim::Tile d(m, n);
  const int tiles_m = (m + twofour::cuda::kGemmTileM - 1) / twofour::cuda::kGemmTileM;
  const int tiles_n = (n + twofour::cuda::kGemmTileN - 1) / twofour::cuda::kGemmTileN;
  for (int block = 0; block < tiles_m * tiles_n; ++block) {
    const geo::CtaTile tile = geo::cta_tile(block, tiles_m, tiles_n);
    const int m0 = tile.m_tile * twofour::cuda::kGemmTileM, n0 = tile.n_tile * twofour::cuda::kGemmTileN;
    for (int warp = 0; warp < geo::kThreads / 32; ++warp) {
      const int warp_m = warp / geo::kWarpsN, warp_n = warp % geo::kWarpsN;
      const int wrow0 = m0 + warp_m * geo::kWarpM;
      const int rows_left = m - wrow0;
      sim::WarpOutput acc[geo::kMmaM][geo::kMmaN];
      for (int mt = 0; mt < geo::kMmaM; ++mt)
        for (int nt = 0; nt < geo::kMmaN; ++nt) acc[mt][nt] = sim::make_output(instr);
      for (int mt = 0; mt < geo::kMmaM; ++mt)
        for (int nt = 0; nt < geo::kMmaN; ++nt)
          for (int l = 0; l < 32; ++l)
            for (int i = 0; i < 4; ++i) {
              const StageCoord at = geo::accumulator(warp_m, warp_n, mt, nt, l, i);
              if (m0 + at.row < m && n0 + at.col < n)
                acc[mt][nt][static_cast<std::size_t>(l)][static_cast<std::size_t>(i)] = ops.c.at(m0 + at.row, n0 + at.col);
            }
      for (int kt = 0; kt < k_tiles; ++kt) {
        // The stage as the zero-filling cp.async copies leave it.
        auto a_stage = [&](int row, int col) -> std::uint32_t {
          const int gc = kt * a_cols_per_tile + col;
          return m0 + row < m && gc < ops.a.cols ? ops.a.at(m0 + row, gc) : 0u;
        };
        auto b_stage = [&](int row, int col) -> std::uint32_t {
          const int gr = kt * twofour::cuda::kGemmTileK + row;
          return gr < k && n0 + col < n ? ops.b.at(gr, n0 + col) : 0u;
        };
        auto meta_stage = [&](int blk, int j, int lane) -> std::uint32_t {
          const int mb = m0 / 32 + blk, s = kt * steps_per_tile + j;
          return mb < meta_blocks && s < k_steps ? meta[(static_cast<std::size_t>(mb) * k_steps + s) * 32 + lane] : 0u;
        };
        for (int j = 0; j < steps_per_tile; ++j) {
          if (kt * twofour::cuda::kGemmTileK + j * step_k >= k) break;
          Fragment af[geo::kMmaM], bf[geo::kMmaN];
          for (int mt = 0; mt < geo::kMmaM; ++mt)
            af[mt] = ldmatrix_x4(lane_addresses([&](int l) { return geo::a_ldmatrix_row(warp_m, mt, j, l); }), false,
                                 a_stage);
          if (sparse) {
            for (int nt = 0; nt < geo::kMmaN; ++nt)
              bf[nt] = ldmatrix_x4(
                  lane_addresses([&](int l) { return geo::b_ldmatrix_row_sparse(warp_n, nt, j, l); }), true, b_stage);
          } else {
            for (int np = 0; np < geo::kMmaN / 2; ++np) {
              const Fragment r = ldmatrix_x4(
                  lane_addresses([&](int l) { return geo::b_ldmatrix_row_dense(warp_n, np, j, l); }), true, b_stage);
              for (int l = 0; l < 32; ++l) {
                const auto& x = r[static_cast<std::size_t>(l)];
                bf[2 * np][static_cast<std::size_t>(l)] = {x[0], x[1], 0, 0};
                bf[2 * np + 1][static_cast<std::size_t>(l)] = {x[2], x[3], 0, 0};
              }
            }
          }
          for (int mt = 0; mt < geo::kMmaM; ++mt)  // past M too, as the kernel (D not stored)
            for (int nt = 0; nt < geo::kMmaN; ++nt) {
              sim::WarpRegisters regs(32);
              for (int l = 0; l < 32; ++l) {
                auto& r = regs[static_cast<std::size_t>(l)];
                const auto& a = af[mt][static_cast<std::size_t>(l)];
                const auto& b = bf[nt][static_cast<std::size_t>(l)];
                r.a.assign(a.begin(), a.end());
                r.b.assign(b.begin(), b.end());
                r.c = acc[mt][nt][static_cast<std::size_t>(l)];
                r.e = sparse ? geo::meta_word_or_padding(meta_stage(geo::meta_block(warp_m, mt), j, l), 32 * (mt / 2),
                                                         rows_left)
                             : 0u;
              }
              const int selector = sparse ? geo::meta_selector(mt) : 0;
              acc[mt][nt] = sim::run_warp(instr, arch, regs, selector).d;
            }
        }
      }
      for (int mt = 0; mt < geo::kMmaM; ++mt)
        for (int nt = 0; nt < geo::kMmaN; ++nt)
          for (int l = 0; l < 32; ++l)
            for (int i = 0; i < 4; ++i) {
              const StageCoord at = geo::accumulator(warp_m, warp_n, mt, nt, l, i);
              if (m0 + at.row < m && n0 + at.col < n)
                d.at(m0 + at.row, n0 + at.col) = acc[mt][nt][static_cast<std::size_t>(l)][static_cast<std::size_t>(i)];
            }
    }
  }
  return d;
}

void expect_replay_matches(const char* name, Shape s, unsigned seed) {
  const spec::Instruction& instr = *spec::find_instruction(name);
  std::mt19937 rng(seed);
  const sim::GemmOperands ops = cuda_test::random_operands(instr, s, rng);
  const sim::Tile replay = replay_kernel(instr, spec::Arch::sm80, ops);
  const sim::Tile ref = sim::run_gemm(instr, spec::Arch::sm80, ops).d;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < ref.bits.size(); ++i) differ += replay.bits[i] != ref.bits[i] ? 1u : 0u;
  EXPECT_EQ(differ, 0u) << name << " " << s.m << "x" << s.n << "x" << s.k << ": " << differ << " of "
                        << ref.bits.size() << " elements differ";
}

TEST(GpuGemmKernelReplay, CtaRasterCoversEveryTileOnce) {
  for (auto [tiles_m, tiles_n] : {std::pair{1, 1}, std::pair{3, 5}, std::pair{8, 2}, std::pair{17, 9}, std::pair{64, 64}}) {
    std::vector<int> seen(static_cast<std::size_t>(tiles_m * tiles_n), 0);
    for (int b = 0; b < tiles_m * tiles_n; ++b) {
      const geo::CtaTile t = geo::cta_tile(b, tiles_m, tiles_n);
      ASSERT_TRUE(t.m_tile >= 0 && t.m_tile < tiles_m && t.n_tile >= 0 && t.n_tile < tiles_n) << b;
      ++seen[static_cast<std::size_t>(t.m_tile * tiles_n + t.n_tile)];
    }
    for (int c : seen) EXPECT_EQ(c, 1) << tiles_m << " x " << tiles_n;
  }
}

TEST(GpuGemmKernelReplay, SparseMatchesSimGemmLevel) {
  for (const char* name : {"SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN", "SM80_SP_16x8x32_F32BF16BF16F32_TN"}) {
    expect_replay_matches(name, {48, 40, 96}, 1);     // partial everything, a skipped k32 step
    expect_replay_matches(name, {144, 136, 160}, 2);  // 2 x 2 CTAs, partial second ones
    expect_replay_matches(name, {1168, 264, 64}, 7);  // 10 x 3 CTAs: a second, partial raster group
    expect_replay_matches(name, {16, 8, 32}, 3);
  }
}

// The "twofour" order preset (sim/gemm_order.hpp) states this kernel's order: the replay is its
// oracle, on the sparse and dense rows, with a C that is not zero.
TEST(GpuGemmKernelReplay, TwofourOrderPresetEqualsTheReplay) {
  const sim::GemmOrder preset = sim::gemm_order_preset("twofour");
  for (const char* name : {"SM80_SP_16x8x32_F32F16F16F32_TN", "SM80_16x8x16_F32BF16BF16F32_TN"}) {
    const spec::Instruction& instr = *spec::find_instruction(name);
    std::mt19937 rng(21);
    const sim::GemmOperands ops = cuda_test::random_operands(instr, {144, 136, 192}, rng);
    const sim::Tile replay = replay_kernel(instr, spec::Arch::sm80, ops);
    EXPECT_EQ(sim::run_ordered_gemm(instr, spec::Arch::sm80, ops, preset).d, replay) << name;
  }
}

TEST(GpuGemmKernelReplay, DenseTwinMatchesSimGemmLevel) {
  for (const char* name : {"SM80_16x8x16_F32F16F16F32_TN", "SM80_16x8x16_F32BF16BF16F32_TN"}) {
    expect_replay_matches(name, {48, 40, 112}, 4);  // 3 of 4 k16 steps in the last k-tile
    expect_replay_matches(name, {144, 136, 64}, 5);
    expect_replay_matches(name, {16, 8, 16}, 6);
  }
}

}  // namespace
