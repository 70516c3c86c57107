#pragma once
// Internal: the one GEMM entry point of the nn layers, on twofour::gemm::dense_gemm (runtime-
// dispatched AVX-512 / AVX2 / scalar kernels whose bits do not depend on the instruction set or
// the thread count; the order of each sum is documented in twofour/gemm/dense_gemm.hpp).
#include <cstddef>

namespace twofour::nn::detail {

// Row-major BLAS-style C = alpha * op(A) * op(B) + beta * C, op(A) (m x k), op(B) (k x n);
// lda/ldb/ldc are row strides of the matrices as stored. Only alpha == 1 and beta 0 (C's contents
// ignored) or 1 (accumulate) are supported; anything else throws std::logic_error.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);

// sums[c] += (y[0][c] + y[1][c] + ...) for c < cols: each column summed in row order from +0,
// then added once (a linear layer's bias gradient over the batch). Rows outer, columns inner, so
// the columns' sums advance side by side in vector registers; one serial chain per column, read
// with a stride, took as long as the layer's weight-gradient tail.
void add_column_sums(const float* y, std::size_t rows, std::size_t cols, float* sums);

}  // namespace twofour::nn::detail
