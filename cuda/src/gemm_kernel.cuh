#pragma once
// The tiled GEMM kernel, one template for the sparse rows (mma.sp m16n8k32) and their dense twins
// (mma.sync m16n8k16): same CTA tile, warps, pipeline and epilogue; only the A tile width, the B
// fragment shape and the metadata differ (`if constexpr` on the row). Contract, shapes and the
// metadata layout: twofour/cuda/gemm.hpp.
//
// Per CTA: 128 x 128 outputs, K walked in 64-wide k-tiles through a 3-stage cp.async ring
// (tile kt+2 loads while tile kt is multiplied). Per warp: 64 x 32 outputs = 4 x 4 mma tiles of
// 16 x 8, each with its own fp32 accumulator registers for the whole K loop.
// Shared-memory rows are padded by 16 bytes so the 8 row addresses of every ldmatrix phase fall
// in distinct 16-byte bank groups (row strides 80, 144 and 272 bytes).
#include "gemm_device_primitives.cuh"
#include "twofour/cuda/gemm.hpp"
#include "twofour/cuda/gemm_geometry.hpp"
#include "twofour/cuda/mma_instructions.cuh"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace twofour::cuda::detail {

constexpr int row_index(std::string_view name) {
  for (std::size_t i = 0; i < sim::spec::instruction_table.size(); ++i)
    if (sim::spec::instruction_table[i].name == name) return static_cast<int>(i);
  return -1;
}

using gemm_geometry::kMmaM;
using gemm_geometry::kMmaN;
using gemm_geometry::kThreads;
using gemm_geometry::kWarpM;
using gemm_geometry::kWarpN;
using gemm_geometry::kWarpsN;
using gemm_geometry::StageCoord;

struct GemmParams {
  int m, n, k;
  const std::uint16_t* a;
  const std::uint32_t* meta;
  const std::uint16_t* b;
  const float* c;
  float* d;
};

template <int Row>
struct GemmTraits {
  static constexpr bool kSparse = sim::spec::instruction_table[Row].is_sparse();
  static constexpr int kStepK = sim::spec::instruction_table[Row].k;  // dense K per mma
  static constexpr int kStepsPerTile = kGemmTileK / kStepK;
  static constexpr int kACols = kSparse ? kGemmTileK / 2 : kGemmTileK;  // A elements per row and k-tile
  static constexpr int kAStride = kACols + 8;
  static constexpr int kBStride = kGemmTileN + 8;
  static constexpr int kMetaWords = kSparse ? (kGemmTileM / 32) * kStepsPerTile * 32 : 0;
  static constexpr int kABytes = kGemmTileM * kAStride * 2;
  static constexpr int kBBytes = kGemmTileK * kBStride * 2;
  static constexpr int kStageBytes = kABytes + kBBytes + kMetaWords * 4;
  static constexpr int kSharedBytes = kStageBytes * kGemmStages;
  static_assert(kABytes % 16 == 0 && kBBytes % 16 == 0, "stage parts must stay 16-byte aligned");
};

// Calls f(c) for c = 0 .. Chunks-1 spread over the CTA's threads, with a compile-time trip count
// (a `c += blockDim` loop would not unroll: the compiler does not know blockDim).
template <int Chunks, typename F>
__device__ __forceinline__ void for_each_chunk(F f) {
  static_assert(Chunks % kThreads == 0 || Chunks < kThreads, "chunks must spread evenly over the threads");
  if constexpr (Chunks >= kThreads) {
#pragma unroll
    for (int i = 0; i < Chunks / kThreads; ++i) f(static_cast<int>(threadIdx.x) + i * kThreads);
  } else {
    if (static_cast<int>(threadIdx.x) < Chunks) f(static_cast<int>(threadIdx.x));
  }
}

// Issues the cp.async copies of k-tile `kt` into one stage; out-of-range chunks are zero-filled.
template <int Row>
__device__ inline void load_stage(const GemmParams& p, unsigned char* stage, int m0, int n0, int kt) {
  using T = GemmTraits<Row>;
  auto* sa = reinterpret_cast<std::uint16_t*>(stage);
  auto* sb = reinterpret_cast<std::uint16_t*>(stage + T::kABytes);

  const int lda = T::kSparse ? p.k / 2 : p.k;
  constexpr int a_row_chunks = T::kACols / 8;
  for_each_chunk<kGemmTileM * a_row_chunks>([&](int c) {
    const int row = c / a_row_chunks, col = (c % a_row_chunks) * 8;
    const int grow = m0 + row, gcol = kt * T::kACols + col;
    const bool valid = grow < p.m && gcol < lda;
    const std::uint16_t* src = valid ? p.a + static_cast<std::size_t>(grow) * lda + gcol : p.a;
    cp_async_16(sa + row * T::kAStride + col, src, valid);
  });

  constexpr int b_row_chunks = kGemmTileN / 8;
  for_each_chunk<kGemmTileK * b_row_chunks>([&](int c) {
    const int row = c / b_row_chunks, col = (c % b_row_chunks) * 8;
    const int grow = kt * kGemmTileK + row, gcol = n0 + col;
    const bool valid = grow < p.k && gcol < p.n;
    const std::uint16_t* src = valid ? p.b + static_cast<std::size_t>(grow) * p.n + gcol : p.b;
    cp_async_16(sb + row * T::kBStride + col, src, valid);
  });

  if constexpr (T::kSparse) {
    // Per 32-row block of the CTA, kStepsPerTile runs of 32 lane words (gemm.hpp layout).
    auto* sm = reinterpret_cast<std::uint32_t*>(stage + T::kABytes + T::kBBytes);
    const int blocks = (p.m + 31) / 32, steps = p.k / 32;
    for_each_chunk<T::kMetaWords / 4>([&](int c) {
      const int blk = c / (T::kStepsPerTile * 8), j = (c / 8) % T::kStepsPerTile, quad = c % 8;
      const int mb = m0 / 32 + blk, s = kt * T::kStepsPerTile + j;
      const bool valid = mb < blocks && s < steps;
      const std::uint32_t* src = valid ? p.meta + (static_cast<std::size_t>(mb) * steps + s) * 32 + quad * 4 : p.meta;
      cp_async_16(sm + gemm_geometry::meta_stage_word(blk, j, T::kStepsPerTile, quad * 4), src, valid);
    });
  }
}

// One k-step of one warp: every (m16, n8) tile of the warp gets exactly one mma, its accumulator
// being both C and D. Tiles past M or N run too (on zero-filled A or B; their D is never stored),
// so that the inner loop has no branches and the compiler can overlap steps; `rows_left` = M minus
// the warp's first row turns the zero-filled metadata of 32-row blocks past M into defined padding.
template <int Row>
__device__ __forceinline__ void mma_step(const unsigned char* stage, int j, int warp_m, int warp_n, int lane,
                                         int rows_left, std::uint32_t (&acc)[kMmaM][kMmaN][4]) {
  using T = GemmTraits<Row>;
  const auto* sa = reinterpret_cast<const std::uint16_t*>(stage);
  const auto* sb = reinterpret_cast<const std::uint16_t*>(stage + T::kABytes);

  // A: a 16 x 16 tile of A as stored (compressed for sparse rows) = 4 8x8 matrices, in register
  // order rows 0-7 / 8-15 of columns 0-7, then of columns 8-15 (sim/spec/layout.hpp a_coord).
  std::uint32_t af[kMmaM][4];
#pragma unroll
  for (int mt = 0; mt < kMmaM; ++mt) {
    const StageCoord at = gemm_geometry::a_ldmatrix_row(warp_m, mt, j, lane);
    ldmatrix_x4(af[mt], sa + at.row * T::kAStride + at.col);
  }

  if constexpr (T::kSparse) {
    // B k32 x n8: register r holds k = 8r + 2t, +1 at n = g, so matrix r is k rows 8r..8r+7
    // and lane l addresses k row l.
    std::uint32_t bf[kMmaN][4];
#pragma unroll
    for (int nt = 0; nt < kMmaN; ++nt) {
      const StageCoord at = gemm_geometry::b_ldmatrix_row_sparse(warp_n, nt, j, lane);
      ldmatrix_x4_trans(bf[nt], sb + at.row * T::kBStride + at.col);
    }
    const auto* sm = reinterpret_cast<const std::uint32_t*>(stage + T::kABytes + T::kBBytes);
    std::uint32_t e[kMmaM / 2];
#pragma unroll
    for (int h = 0; h < kMmaM / 2; ++h) {
      const std::uint32_t word =
          sm[gemm_geometry::meta_stage_word(gemm_geometry::meta_block(warp_m, 2 * h), j, T::kStepsPerTile, lane)];
      e[h] = gemm_geometry::meta_word_or_padding(word, 32 * h, rows_left);
    }
#pragma unroll
    for (int mt = 0; mt < kMmaM; ++mt) {
#pragma unroll
      for (int nt = 0; nt < kMmaN; ++nt) {
        // The even m16 tile of a 32-row block reads E from lanes 4g+{0,1} (selector 0), the odd
        // one from 4g+{2,3} (selector 1); the selector is an immediate, hence the branch.
        if (gemm_geometry::meta_selector(mt) == 0) mma_row<Row, 0>(af[mt], bf[nt], acc[mt][nt], e[mt / 2], acc[mt][nt]);
        else mma_row<Row, 1>(af[mt], bf[nt], acc[mt][nt], e[mt / 2], acc[mt][nt]);
      }
    }
  } else {
    // B k16 x n8: 2 registers (k rows 0-7, 8-15); one x4 load covers two n8 tiles.
    std::uint32_t bf[kMmaN][2];
#pragma unroll
    for (int np = 0; np < kMmaN / 2; ++np) {
      std::uint32_t r[4];
      const StageCoord at = gemm_geometry::b_ldmatrix_row_dense(warp_n, np, j, lane);
      ldmatrix_x4_trans(r, sb + at.row * T::kBStride + at.col);
      bf[2 * np][0] = r[0];
      bf[2 * np][1] = r[1];
      bf[2 * np + 1][0] = r[2];
      bf[2 * np + 1][1] = r[3];
    }
#pragma unroll
    for (int mt = 0; mt < kMmaM; ++mt) {
#pragma unroll
      for (int nt = 0; nt < kMmaN; ++nt) mma_row<Row, 0>(af[mt], bf[nt], acc[mt][nt], 0u, acc[mt][nt]);
    }
  }
}

template <int Row>
__device__ __forceinline__ void tiled_gemm(const GemmParams& p) {
  using T = GemmTraits<Row>;
  extern __shared__ __align__(16) unsigned char smem[];
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int warp_m = warp / kWarpsN, warp_n = warp % kWarpsN;
  const gemm_geometry::CtaTile tile = gemm_geometry::cta_tile(
      static_cast<int>(blockIdx.x), (p.m + kGemmTileM - 1) / kGemmTileM, (p.n + kGemmTileN - 1) / kGemmTileN);
  const int m0 = tile.m_tile * kGemmTileM, n0 = tile.n_tile * kGemmTileN;
  const int wrow0 = m0 + warp_m * kWarpM;
  const int rows_left = p.m - wrow0;  // may be <= 0: the whole warp tile is past M

  // Accumulators start as C: c_i at row g + 8(i/2), col 2t + (i%2) of each 16 x 8 tile.
  std::uint32_t acc[kMmaM][kMmaN][4];
#pragma unroll
  for (int mt = 0; mt < kMmaM; ++mt)
#pragma unroll
    for (int nt = 0; nt < kMmaN; ++nt)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const StageCoord at = gemm_geometry::accumulator(warp_m, warp_n, mt, nt, lane, 2 * h);
        const int row = m0 + at.row, col = n0 + at.col;  // registers 2h, 2h+1: adjacent columns
        float2 v = make_float2(0.0f, 0.0f);
        if (p.c != nullptr && row < p.m && col < p.n)
          v = *reinterpret_cast<const float2*>(p.c + static_cast<std::size_t>(row) * p.n + col);
        acc[mt][nt][2 * h] = __float_as_uint(v.x);
        acc[mt][nt][2 * h + 1] = __float_as_uint(v.y);
      }

  const int k_tiles = (p.k + kGemmTileK - 1) / kGemmTileK;
#pragma unroll
  for (int s = 0; s < kGemmStages - 1; ++s) {
    if (s < k_tiles) load_stage<Row>(p, smem + s * T::kStageBytes, m0, n0, s);
    cp_async_commit();  // always commit, so group counts stay aligned with k-tiles
  }

  for (int kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<kGemmStages - 2>();  // k-tile kt has landed (for this thread's copies)...
    __syncthreads();                   // ...and for everyone's; stage (kt-1) % S is free again
    const int next = kt + kGemmStages - 1;
    if (next < k_tiles) load_stage<Row>(p, smem + (next % kGemmStages) * T::kStageBytes, m0, n0, next);
    cp_async_commit();

    const unsigned char* stage = smem + (kt % kGemmStages) * T::kStageBytes;
    if ((kt + 1) * kGemmTileK <= p.k) {
      // A full k-tile: straight-line steps the compiler can overlap.
#pragma unroll
      for (int j = 0; j < T::kStepsPerTile; ++j) mma_step<Row>(stage, j, warp_m, warp_n, lane, rows_left, acc);
    } else {
      // The partial last k-tile: the steps past K are skipped, never run on zeros.
#pragma unroll
      for (int j = 0; j < T::kStepsPerTile; ++j) {
        if (kt * kGemmTileK + j * T::kStepK >= p.k) break;
        mma_step<Row>(stage, j, warp_m, warp_n, lane, rows_left, acc);
      }
    }
  }
  cp_async_wait<0>();

#pragma unroll
  for (int mt = 0; mt < kMmaM; ++mt)
#pragma unroll
    for (int nt = 0; nt < kMmaN; ++nt)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const StageCoord at = gemm_geometry::accumulator(warp_m, warp_n, mt, nt, lane, 2 * h);
        const int row = m0 + at.row, col = n0 + at.col;  // registers 2h, 2h+1: adjacent columns
        if (row < p.m && col < p.n)
          *reinterpret_cast<float2*>(p.d + static_cast<std::size_t>(row) * p.n + col) =
              make_float2(__uint_as_float(acc[mt][nt][2 * h]), __uint_as_float(acc[mt][nt][2 * h + 1]));
      }
}

// Two entry points with telling names, so that tests/cuda/check_sass.sh finds each kernel in the
// SASS and can require HMMA.SP in the sparse one and plain HMMA (no .SP) in its dense twin.
template <int Row>
__global__ void __launch_bounds__(kThreads) sparse_gemm_kernel(GemmParams p) {
  static_assert(GemmTraits<Row>::kSparse, "sparse_gemm_kernel needs a sparse row");
  tiled_gemm<Row>(p);
}

template <int Row>
__global__ void __launch_bounds__(kThreads) dense_gemm_kernel(GemmParams p) {
  static_assert(!GemmTraits<Row>::kSparse, "dense_gemm_kernel needs a dense row");
  tiled_gemm<Row>(p);
}

}  // namespace twofour::cuda::detail
