#include "gemm.hpp"

#include <Eigen/Core>

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

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
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

}  // namespace twofour::nn::detail
