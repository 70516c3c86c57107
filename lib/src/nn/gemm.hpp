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

}  // namespace twofour::nn::detail
