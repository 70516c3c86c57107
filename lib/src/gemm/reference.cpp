#include "twofour/gemm/reference.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "half.hpp"

namespace twofour::gemm {
namespace {

template <class T, class Convert>
std::vector<float> decompress_impl(const sparse::RowMajor24View<T>& a, Convert convert, std::vector<std::uint8_t>* stored) {
  if (a.cols % 4 != 0) {
    throw std::invalid_argument("twofour::gemm::decompress: K = " + std::to_string(a.cols) +
                                " is not a multiple of 4 (A is " + std::to_string(a.rows) + " x " +
                                std::to_string(a.cols) + ")");
  }
  validate_metadata(a.metadata, a.rows, a.cols);
  std::vector<float> dense(a.rows * a.cols, 0.0f);
  if (stored != nullptr) stored->assign(a.rows * a.cols, 0);
  for (std::size_t m = 0; m < a.rows; ++m) {
    const T* values = a.row_values(m);
    const std::uint16_t* meta = a.row_metadata(m);
    for (std::size_t g = 0; g < a.cols / 4; ++g) {
      const unsigned nib = sparse::meta_nibble(meta, g);
      const std::size_t k0 = 4 * g + sparse::nibble_idx0(nib);
      const std::size_t k1 = 4 * g + sparse::nibble_idx1(nib);
      dense[m * a.cols + k0] = convert(values[2 * g]);
      dense[m * a.cols + k1] = convert(values[2 * g + 1]);
      if (stored != nullptr) {
        (*stored)[m * a.cols + k0] = 1;
        (*stored)[m * a.cols + k1] = 1;
      }
    }
  }
  return dense;
}

template <class BT, class ConvertB>
void reference_impl(const std::vector<float>& dense, const std::vector<std::uint8_t>& stored, std::size_t m_rows,
                    std::size_t k_cols, const BT* b, std::size_t ldb, ConvertB convert_b, float* c, std::size_t ldc,
                    std::size_t n, bool accumulate) {
  for (std::size_t m = 0; m < m_rows; ++m) {
    for (std::size_t j = 0; j < n; ++j) {
      float sum = accumulate ? c[m * ldc + j] : 0.0f;
      for (std::size_t k = 0; k < k_cols; ++k) {
        if (stored[m * k_cols + k] != 0) sum = std::fma(dense[m * k_cols + k], convert_b(b[k * ldb + j]), sum);
      }
      c[m * ldc + j] = sum;
    }
  }
}

float identity(float x) { return x; }

}  // namespace

std::vector<float> decompress(const sparse::RowMajor24View<float>& a, std::vector<std::uint8_t>* stored) {
  return decompress_impl(a, identity, stored);
}

std::vector<float> decompress(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type,
                              std::vector<std::uint8_t>* stored) {
  return decompress_impl(a, [type](std::uint16_t h) { return half_to_float(h, type); }, stored);
}

void reference_gemm(const sparse::RowMajor24View<float>& a, const float* b, std::size_t ldb, float* c,
                    std::size_t ldc, std::size_t n, bool accumulate) {
  std::vector<std::uint8_t> stored;
  const std::vector<float> dense = decompress(a, &stored);
  reference_impl(dense, stored, a.rows, a.cols, b, ldb, identity, c, ldc, n, accumulate);
}

void reference_gemm(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const std::uint16_t* b,
                    std::size_t ldb, float* c, std::size_t ldc, std::size_t n, bool accumulate) {
  std::vector<std::uint8_t> stored;
  const std::vector<float> dense = decompress(a, type, &stored);
  reference_impl(dense, stored, a.rows, a.cols, b, ldb, [type](std::uint16_t h) { return half_to_float(h, type); },
                 c, ldc, n, accumulate);
}

void reference_gemm(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const float* b,
                    std::size_t ldb, float* c, std::size_t ldc, std::size_t n, bool accumulate) {
  std::vector<std::uint8_t> stored;
  const std::vector<float> dense = decompress(a, type, &stored);
  reference_impl(dense, stored, a.rows, a.cols, b, ldb, identity, c, ldc, n, accumulate);
}

}  // namespace twofour::gemm
