// Scalar reference of the generic N:M path: decompress, then per output one fused multiply-add
// chain over the stored positions in increasing k (the same chain every optimised path keeps).
#include <cmath>

#include "twofour/gemm/nm_gemm.hpp"

namespace twofour::gemm {

void reference_nm_gemm(const RowMajorNMView& a, const float* b, std::size_t ldb, float* c, std::size_t ldc,
                       std::size_t n, bool accumulate) {
  std::vector<std::uint8_t> stored;
  const std::vector<float> dense = decompress_nm(a, &stored);
  const std::size_t k_cols = a.cols;
  for (std::size_t i = 0; i < a.rows; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      float sum = accumulate ? c[i * ldc + j] : 0.0f;
      for (std::size_t k = 0; k < k_cols; ++k) {
        if (stored[i * k_cols + k] != 0) sum = std::fma(dense[i * k_cols + k], b[k * ldb + j], sum);
      }
      c[i * ldc + j] = sum;
    }
  }
}

}  // namespace twofour::gemm
