#pragma once
// Sampled 2:4 GEMM (an SDDMM): the product A * B^T evaluated only at the positions a 2:4 matrix
// stores, written straight into that matrix's compressed values. It is the weight gradient of a
// 2:4 layer with a fixed mask: dW = dY^T X, needed only where the mask keeps a weight.
//
//   for every row r < rows and stored slot s of row r (column c = 4*(s/2) + idx, idx from the
//   metadata nibble of group s/2, as in twofour/sparse/rowmajor_layout.hpp):
//       values[r * cols/2 + s]  (+)=  sum over i < n of  a[r * lda + i] * b[c * ldb + i]
//
// Both operands keep the reduction dimension n contiguous ("feature-major": A is rows x n, B is
// cols x n), so a linear layer passes dY^T and X^T and a convolution its (K, N*OH*OW) output
// gradient and its (R*S*C, N*OH*OW) patches as they are.
//
// Summation order (the same on every instruction set and thread count, so every path is
// bit-equal to reference_sampled_gemm()): the n products are split into kSampledLanes = 16
// interleaved chains, chain j taking i = j, j+16, j+32, ... in increasing i, each one fused
// multiply-add per product starting from +0. The 16 chain sums are then added pairwise, always
// as t[j] = p[j] + p[j+8] (j < 8), then t[j] + t[j+4] (j < 4), then + [j+2] (j < 2), then
// t[0] + t[1]. With accumulate, the result is added to the existing value last (one rounding).
// This is the order a 16-lane vector unit computes naturally; a scalar reference reproduces it.
#include <cstddef>
#include <cstdint>

#include "twofour/gemm/sparse_gemm.hpp"

namespace twofour::gemm {

inline constexpr std::size_t kSampledLanes = 16;

// The 2:4 positions to evaluate: metadata of a rows x cols matrix in the row-major layout
// (cols a multiple of 4), and where the rows x cols/2 results go (row-major, no padding).
struct SampledTarget {
  const std::uint16_t* metadata = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  float* values = nullptr;
};

// Throws std::invalid_argument when cols is not a multiple of 4, lda or ldb < n, an operand is
// null, or (options.validate_metadata) a nibble is malformed (naming row and group).
// options.accumulate adds to the existing values; options.isa forces a path; options.threads
// splits the rows (the result does not depend on it).
void sampled_gemm(const SampledTarget& out, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                  std::size_t n, const GemmOptions& options = {});

// sampled_gemm_dense: the same sums delivered into a dense rows x cols matrix instead of
// compressed values. For stored slot s of row r at column c, dense[r * ld + c] = sum, or
// dense[r * ld + c] + sum with options.accumulate (one rounding, the bits of adding
// sampled_gemm()'s value there); entries no slot names are left as they are. A 2:4 layer whose
// weight gradient is a dense tensor gets it without a compressed copy and a scatter pass (each row
// block's results are added while in cache). Throws as sampled_gemm(), and when ld < cols or
// dense is null.
struct SampledDenseTarget {
  const std::uint16_t* metadata = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  float* dense = nullptr;
  std::size_t ld = 0;
};
void sampled_gemm_dense(const SampledDenseTarget& out, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                  std::size_t n, const GemmOptions& options = {});

// Scalar reference: a plain loop per stored position in the order stated above.
void reference_sampled_gemm(const SampledTarget& out, const float* a, std::size_t lda, const float* b,
                            std::size_t ldb, std::size_t n, bool accumulate);

}  // namespace twofour::gemm
