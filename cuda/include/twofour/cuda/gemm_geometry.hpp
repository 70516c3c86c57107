#pragma once
// Where the tiled GEMM kernel (cuda/src/gemm_kernel.cuh) finds each fragment: the row address
// every lane hands to ldmatrix, the metadata word it reads, the C/D element each accumulator
// register holds. The kernel computes its addresses with these functions and nothing else, and
// tests/cuda/gemm_kernel_emulation_test.cpp replays the kernel on the CPU through them (ldmatrix
// emulated, every mma run by sim's warp level), so the index arithmetic is checked without a GPU.
// Compiles as host C++ and under nvcc (__host__ __device__).
#include "twofour/cuda/gemm.hpp"

#include <cstdint>

#if defined(__CUDACC__)
#define TWOFOUR_GEMM_HD __host__ __device__
#else
#define TWOFOUR_GEMM_HD
#endif

namespace twofour::cuda::gemm_geometry {

inline constexpr int kThreads = 256;
inline constexpr int kWarpsN = 4;               // warps along N; kThreads / 32 / kWarpsN = 2 along M
inline constexpr int kWarpM = 64, kWarpN = 32;  // outputs per warp
inline constexpr int kMmaM = kWarpM / 16, kMmaN = kWarpN / 8;
inline constexpr int kMetaBlockRows = 32;       // one E word feeds two m16 tiles

// CTA `block` (a 1-D grid of tiles_m * tiles_n) -> its 128 x 128 output tile. Consecutive CTAs
// walk down a column of up to kRasterRows M-tiles before moving to the next N-tile, so the CTAs
// resident at one time share their B columns and a few A rows in L2 (a plain row-major raster
// streams all of B per row of CTAs). Each tile is still computed by one CTA, whatever the order.
inline constexpr int kRasterRows = 8;
struct CtaTile {
  int m_tile, n_tile;
};
TWOFOUR_GEMM_HD constexpr CtaTile cta_tile(int block, int tiles_m, int tiles_n) {
  const int per_group = kRasterRows * tiles_n;
  const int first_m = block / per_group * kRasterRows;
  const int rows = tiles_m - first_m < kRasterRows ? tiles_m - first_m : kRasterRows;
  const int in_group = block % per_group;
  return {first_m + in_group % rows, in_group / rows};
}

struct StageCoord {
  int row;  // A stage: row of the 128-row CTA tile; B stage: k within the 64-wide k-tile
  int col;  // A stage: column of A as stored (compressed for sparse rows); B stage: n in the CTA tile
};

// A fragment of m16 tile `mt`, k-step `j` of the k-tile: a 16 x 16 tile of A as stored. Matrix
// i = lane/8 of ldmatrix.x4 is rows 8(i&1).., columns 8(i>>1).., i.e. register i = sim's a_coord
// register i (row g + 8(i&1), col 2t + e + 8(i>>1)).
TWOFOUR_GEMM_HD constexpr StageCoord a_ldmatrix_row(int warp_m, int mt, int j, int lane) {
  return {warp_m * kWarpM + mt * 16 + lane % 16, j * 16 + (lane / 16) * 8};
}

// Sparse B fragment (k32 x n8) of n8 tile `nt`, k-step `j`, loaded with ldmatrix.x4.trans: lane l
// addresses k row l, so matrix r is k rows 8r..8r+7 and register r holds k = 8r + 2t, +1 at n = g.
TWOFOUR_GEMM_HD constexpr StageCoord b_ldmatrix_row_sparse(int warp_n, int nt, int j, int lane) {
  return {j * 32 + lane, warp_n * kWarpN + nt * 8};
}

// Dense B fragments (k16 x n8) of n8 tiles 2np and 2np+1, one ldmatrix.x4.trans: matrices 0, 1 =
// k rows 0-7, 8-15 of tile 2np (its registers 0, 1), matrices 2, 3 = the same of tile 2np+1.
TWOFOUR_GEMM_HD constexpr StageCoord b_ldmatrix_row_dense(int warp_n, int np, int j, int lane) {
  const int mat = lane / 8;
  return {j * 16 + (mat & 1) * 8 + lane % 8, warp_n * kWarpN + np * 16 + (mat >> 1) * 8};
}

// The metadata stage holds, per 32-row block `blk` of the CTA and k-step `j` of the k-tile, the 32
// lane words of the per-lane layout (gemm.hpp): global word ((m0/32 + blk) * (K/32) + kt * steps + j) * 32 + lane.
TWOFOUR_GEMM_HD constexpr int meta_stage_word(int blk, int j, int steps_per_tile, int lane) {
  return (blk * steps_per_tile + j) * 32 + lane;
}
// The E word actually fed to the mma: a 32-row block past M (its first row `block_row` rows below
// the warp's first row, `rows_left` = M minus that row) was zero-filled by the copy, and nibble 0
// is undefined behaviour, so it becomes 0x44444444 (idx0 = 0, idx1 = 1), like the padded rows of
// a partial block (gemm.hpp). Those tiles' D is never stored.
inline constexpr std::uint32_t kMetaPaddingWord = 0x44444444u;
TWOFOUR_GEMM_HD constexpr std::uint32_t meta_word_or_padding(std::uint32_t word, int block_row, int rows_left) {
  return block_row < rows_left ? word : kMetaPaddingWord;
}

// The block of m16 tile `mt` of warp row `warp_m`, and the selector it is issued with.
TWOFOUR_GEMM_HD constexpr int meta_block(int warp_m, int mt) { return warp_m * (kMmaM / 2) + mt / 2; }
TWOFOUR_GEMM_HD constexpr int meta_selector(int mt) { return mt % 2; }

// Accumulator register i of m16 tile mt, n8 tile nt: row g + 8(i/2), col 2t + i%2 of that tile
// (sim's c_coord), as coordinates of the 128 x 128 CTA tile.
TWOFOUR_GEMM_HD constexpr StageCoord accumulator(int warp_m, int warp_n, int mt, int nt, int lane, int i) {
  return {warp_m * kWarpM + mt * 16 + lane / 4 + 8 * (i / 2), warp_n * kWarpN + nt * 8 + 2 * (lane % 4) + i % 2};
}

}  // namespace twofour::cuda::gemm_geometry
