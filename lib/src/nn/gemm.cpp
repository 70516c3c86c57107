#include "gemm.hpp"

#include <algorithm>
#include <stdexcept>

#include "conv_chunks.hpp"  // kMinParallelWork
#include "twofour/gemm/dense_gemm.hpp"

namespace twofour::nn::detail {

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  if (alpha != 1.0f || (beta != 0.0f && beta != 1.0f))
    throw std::logic_error("nn::detail::gemm: only alpha 1 and beta 0 or 1 are supported");
  gemm::DenseGemmOptions o;
  o.accumulate = beta == 1.0f;
  gemm::dense_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, o);
}

void add_column_sums(const float* y, std::size_t rows, std::size_t cols, float* sums) {
  constexpr std::size_t kBlock = 512;  // columns per pass: the running sums stay in L1
  const std::size_t blocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (rows * cols >= kMinParallelWork && blocks > 1)
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t c0 = b * kBlock, c1 = std::min(cols, c0 + kBlock);
    float acc[kBlock] = {};
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = c0; c < c1; ++c) acc[c - c0] += y[r * cols + c];
    for (std::size_t c = c0; c < c1; ++c) sums[c] += acc[c - c0];
  }
}

}  // namespace twofour::nn::detail
