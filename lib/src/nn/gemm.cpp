#include "gemm.hpp"

#include "twofour/gemm/dense_gemm.hpp"

#include <stdexcept>

namespace twofour::nn::detail {

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  if (alpha != 1.0f || (beta != 0.0f && beta != 1.0f))
    throw std::logic_error("nn::detail::gemm: only alpha 1 and beta 0 or 1 are supported");
  gemm::DenseGemmOptions o;
  o.accumulate = beta == 1.0f;
  gemm::dense_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, o);
}

}  // namespace twofour::nn::detail
