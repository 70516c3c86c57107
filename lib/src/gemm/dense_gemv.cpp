// Driver of the dense 16-bit GEMV: checks, dispatch, and rows split across threads in blocks
// (rows are independent, so the bits do not depend on the thread count).
#include "twofour/gemm/dense_gemv.hpp"

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels.hpp"

namespace twofour::gemm {

void dense_gemv(const std::uint16_t* a, HalfType type, std::size_t m, std::size_t k, std::size_t lda, const float* x,
                float* y, const GemmOptions& options) {
  if (lda < k) {
    throw std::invalid_argument("twofour::gemm::dense_gemv: lda = " + std::to_string(lda) + " is smaller than K = " +
                                std::to_string(k));
  }
  if (m == 0) return;
  if (y == nullptr || (k > 0 && (a == nullptr || x == nullptr))) {
    throw std::invalid_argument("twofour::gemm::dense_gemv: null operand (A is " + std::to_string(m) + " x " +
                                std::to_string(k) + ")");
  }
  const detail::KernelTable& t = detail::resolve_kernels(options.isa);
  const detail::ValueKind kind = type == HalfType::fp16 ? detail::ValueKind::fp16 : detail::ValueKind::bf16;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  constexpr std::size_t kRowBlock = 64;  // a multiple of every kernel's row block (1, 4, 8)
  const std::size_t blocks = (m + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    const std::size_t r0 = blk * kRowBlock;
    t.dense_gemv(detail::DenseGemvArgs{a, kind, lda, k, r0, std::min(m, r0 + kRowBlock), x, y, options.accumulate});
  }
}

}  // namespace twofour::gemm
