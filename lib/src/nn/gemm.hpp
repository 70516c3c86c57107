#pragma once
// Internal: the one place the nn layers instantiate Eigen's GEMM (Eigen templates are slow to
// compile, so every layer calls this instead of building its own expression).
#include <cstddef>

namespace twofour::nn::detail {

// Row-major BLAS-style C = alpha * op(A) * op(B) + beta * C, op(A) (m x k), op(B) (k x n);
// lda/ldb/ldc are row strides of the matrices as stored. beta == 0 ignores C's contents.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);

}  // namespace twofour::nn::detail
