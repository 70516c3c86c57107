#include "gemm.hpp"

#include <Eigen/Core>
#include <omp.h>

#include <algorithm>

namespace twofour::nn::detail {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ColMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Stride = Eigen::OuterStride<>;
using ConstRow = Eigen::Map<const RowMat, 0, Stride>;
using ConstCol = Eigen::Map<const ColMat, 0, Stride>;
using OutRow = Eigen::Map<RowMat, 0, Stride>;

Eigen::Index idx(std::size_t v) { return static_cast<Eigen::Index>(v); }

template <class A, class B>
void run(const A& a, const B& b, float alpha, float beta, OutRow& c) {
  if (beta == 0.0f) {
    c.noalias() = alpha * (a * b);
  } else {
    if (beta != 1.0f) c *= beta;
    c.noalias() += alpha * (a * b);
  }
}

}  // namespace

namespace {
void gemm_serial(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);
}  // namespace

// Threads split C into contiguous row (or column) blocks and each runs Eigen's serial GEMM on its
// block (Eigen does not nest inside a parallel region). Eigen's own OpenMP GEMM synchronises its
// threads by spinning, which on shared, oversubscribed cores made a training step 30x slower;
// this split has one barrier. Each block's result depends on the block sizes, hence on the thread
// count, which runs are documented to depend on.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads <= 1 || m * n * k < (std::size_t{1} << 21) || std::max(m, n) < 64) {
    gemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const bool split_rows = m >= n;
  const std::size_t extent = split_rows ? m : n;
#pragma omp parallel num_threads(threads)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    const auto count = static_cast<std::size_t>(omp_get_num_threads());
    // Blocks in multiples of 16 rows/columns so that SIMD panels stay whole.
    const std::size_t per = ((extent + count - 1) / count + 15) / 16 * 16;
    const std::size_t lo = std::min(extent, t * per), hi = std::min(extent, lo + per);
    if (lo < hi) {
      if (split_rows) {
        const float* a_blk = trans_a ? a + lo : a + lo * lda;
        gemm_serial(trans_a, trans_b, hi - lo, n, k, alpha, a_blk, lda, b, ldb, beta, c + lo * ldc, ldc);
      } else {
        const float* b_blk = trans_b ? b + lo * ldb : b + lo;
        gemm_serial(trans_a, trans_b, m, hi - lo, k, alpha, a, lda, b_blk, ldb, beta, c + lo, ldc);
      }
    }
  }
}

namespace {
void gemm_one_thread(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
                     const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                     std::size_t ldc);

// Eigen sizes its GEMM threads from omp_get_max_threads(); setting this thread's count to 1 (a
// per-thread OpenMP setting) keeps the product on this thread without touching Eigen's global state.
void gemm_serial(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  gemm_one_thread(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  omp_set_num_threads(saved);
}

void gemm_one_thread(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
                     const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
                     std::size_t ldc) {
  OutRow cm(c, idx(m), idx(n), Stride(idx(ldc)));
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0.0f) cm.setZero(); else cm *= beta;
    return;
  }
  // A transposed row-major matrix is the same memory read as column-major.
  if (!trans_a && !trans_b) {
    run(ConstRow(a, idx(m), idx(k), Stride(idx(lda))), ConstRow(b, idx(k), idx(n), Stride(idx(ldb))), alpha, beta, cm);
  } else if (!trans_a && trans_b) {
    run(ConstRow(a, idx(m), idx(k), Stride(idx(lda))), ConstCol(b, idx(k), idx(n), Stride(idx(ldb))), alpha, beta, cm);
  } else if (trans_a && !trans_b) {
    run(ConstCol(a, idx(m), idx(k), Stride(idx(lda))), ConstRow(b, idx(k), idx(n), Stride(idx(ldb))), alpha, beta, cm);
  } else {
    run(ConstCol(a, idx(m), idx(k), Stride(idx(lda))), ConstCol(b, idx(k), idx(n), Stride(idx(ldb))), alpha, beta, cm);
  }
}
}  // namespace

}  // namespace twofour::nn::detail
