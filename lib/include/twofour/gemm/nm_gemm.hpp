#pragma once
// Generic N:M sparse GEMM (fp32): C (rows x n) = A (rows x K, N:M along K) * B (K x n, dense
// row-major) (+ C), for any pattern of twofour/sparse/pattern.hpp (N kept of every M, 1 <= N < M
// <= 32), e.g. 1:4, 2:8, 4:8. 2:4 has its own faster path (sparse_gemm.hpp); this one trades a
// byte of index per kept value for generality.
//
// Row-major compressed N:M layout (the 2:4 layout of rowmajor_layout.hpp with the index widened
// to a byte, so every M <= 32 fits):
//   values:  rows x nm_kept_cols(K, p) fp32, row-major; group g of a row contributes
//            values[g*N .. g*N + N), the element at the lowest column first;
//   indices: the same shape, uint8: the in-group column (0 .. M-1) of each value, strictly
//            increasing inside a group (so a group names N distinct columns, in K order; a group
//            with fewer than N non-zeros stores zeros at some unused columns, as 2:4 does).
// K must be a multiple of M.
//
// Every output is one fused multiply-add chain over A's stored positions in increasing k,
// starting from C (accumulate) or +0: exactly what reference_nm_gemm() computes, on every
// instruction set and thread count, so the two are compared bit for bit.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/pattern.hpp"

namespace twofour::gemm {

constexpr std::size_t nm_kept_cols(std::size_t k, sparse::NMPattern p) {
  return k / static_cast<std::size_t>(p.m) * static_cast<std::size_t>(p.n);
}

struct RowMajorNMView {
  const float* values = nullptr;         // rows x nm_kept_cols(cols, pattern)
  const std::uint8_t* indices = nullptr;  // rows x nm_kept_cols(cols, pattern)
  std::size_t rows = 0;
  std::size_t cols = 0;  // dense K, a multiple of pattern.m
  sparse::NMPattern pattern{};
};

// An owning N:M matrix (what compress_nm returns).
struct CompressedNM {
  std::vector<float> values;
  std::vector<std::uint8_t> indices;
  std::size_t rows = 0;
  std::size_t cols = 0;
  sparse::NMPattern pattern{};
  RowMajorNMView view() const { return {values.data(), indices.data(), rows, cols, pattern}; }
};

// Throws std::invalid_argument for an invalid pattern, K % M != 0 (naming the shape), or an
// index that is out of range (>= M) or not strictly above the previous one of its group
// (duplicate or descending), naming row, group and slot.
void validate_nm(const RowMajorNMView& a);

// Dense rows x cols (row-major) -> N:M layout. A group with more than N non-zeros (!= 0; NaN
// counts) is an error naming it; a group with fewer stores zeros at its lowest unused columns.
// Throws std::invalid_argument on a pattern, K or size mismatch as well.
CompressedNM compress_nm(std::span<const float> dense, std::size_t rows, std::size_t cols, sparse::NMPattern pattern);

// Scalar reference: decompress, then per output a plain K-order loop over the stored positions.
// `stored` (optional) receives the rows x cols mask of stored positions.
std::vector<float> decompress_nm(const RowMajorNMView& a, std::vector<std::uint8_t>* stored = nullptr);
void reference_nm_gemm(const RowMajorNMView& a, const float* b, std::size_t ldb, float* c, std::size_t ldc,
                       std::size_t n, bool accumulate);

// The optimised path, SIMD over N with runtime instruction-set dispatch as in sparse_gemm.hpp and
// OpenMP across row blocks: N up to one vector (16 fp32 on AVX-512, 8 on AVX2) reads A in place;
// wider N packs A and B and runs the register-tiled 2:4 GEMM micro-kernel. No small-N lane
// reordering here, so every path is bit-equal to the reference. Leading dimensions ldb, ldc >= n.
// Throws
// std::invalid_argument as validate_nm does (when options.validate_metadata; with it off an
// index >= M is clamped to M - 1: memory-safe, result unspecified), on leading dimensions
// smaller than n, and on null operands.
void nm_gemm(const RowMajorNMView& a, const float* b, std::size_t ldb, float* c, std::size_t ldc, std::size_t n,
             const GemmOptions& options = {});

}  // namespace twofour::gemm
