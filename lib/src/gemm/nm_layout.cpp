// The row-major compressed N:M layout (nm_gemm.hpp): validation, compression, decompression.
#include <stdexcept>
#include <string>

#include "twofour/gemm/nm_gemm.hpp"

namespace twofour::gemm {
namespace {

std::string shape_text(std::size_t rows, std::size_t cols, sparse::NMPattern p) {
  return "A is " + std::to_string(rows) + " x " + std::to_string(cols) + " (" + sparse::to_string(p) + " along K)";
}

void check_shape(std::size_t rows, std::size_t cols, sparse::NMPattern p, const char* who) {
  sparse::validate(p);
  if (cols % static_cast<std::size_t>(p.m) != 0) {
    throw std::invalid_argument(std::string(who) + ": K = " + std::to_string(cols) + " is not a multiple of M = " +
                                std::to_string(p.m) + " (" + shape_text(rows, cols, p) + ")");
  }
}

}  // namespace

void validate_nm(const RowMajorNMView& a) {
  check_shape(a.rows, a.cols, a.pattern, "twofour::gemm::validate_nm");
  const auto n = static_cast<std::size_t>(a.pattern.n);
  const auto m = static_cast<unsigned>(a.pattern.m);
  const std::size_t groups = a.cols / m;
  const std::size_t kept = nm_kept_cols(a.cols, a.pattern);
  if (a.rows == 0 || kept == 0) return;
  if (a.indices == nullptr) throw std::invalid_argument("twofour::gemm::validate_nm: null indices");
  for (std::size_t row = 0; row < a.rows; ++row) {
    const std::uint8_t* idx = a.indices + row * kept;
    for (std::size_t g = 0; g < groups; ++g) {
      for (std::size_t s = 0; s < n; ++s) {
        const unsigned i = idx[g * n + s];
        const char* problem = nullptr;
        if (i >= m) {
          problem = "is out of range (>= M)";
        } else if (s > 0 && i == idx[g * n + s - 1]) {
          problem = "duplicates the previous index of its group";
        } else if (s > 0 && i < idx[g * n + s - 1]) {
          problem = "is below the previous index of its group (indices must increase)";
        }
        if (problem != nullptr) {
          throw std::invalid_argument("twofour::gemm: malformed " + sparse::to_string(a.pattern) +
                                      " indices at row " + std::to_string(row) + ", group " + std::to_string(g) +
                                      ", slot " + std::to_string(s) + ": index " + std::to_string(i) + " " + problem);
        }
      }
    }
  }
}

CompressedNM compress_nm(std::span<const float> dense, std::size_t rows, std::size_t cols, sparse::NMPattern p) {
  check_shape(rows, cols, p, "twofour::gemm::compress_nm");
  if (dense.size() != rows * cols) {
    throw std::invalid_argument("twofour::gemm::compress_nm: " + std::to_string(dense.size()) +
                                " dense elements for " + shape_text(rows, cols, p));
  }
  const auto n = static_cast<std::size_t>(p.n);
  const auto m = static_cast<std::size_t>(p.m);
  CompressedNM out;
  out.rows = rows;
  out.cols = cols;
  out.pattern = p;
  const std::size_t kept = nm_kept_cols(cols, p);
  out.values.assign(rows * kept, 0.0f);
  out.indices.assign(rows * kept, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t g = 0; g < cols / m; ++g) {
      const float* src = dense.data() + r * cols + g * m;
      std::size_t nonzeros = 0;
      for (std::size_t i = 0; i < m; ++i) nonzeros += src[i] != 0.0f ? 1 : 0;  // NaN != 0
      if (nonzeros > n) {
        throw std::invalid_argument("twofour::gemm::compress_nm: row " + std::to_string(r) + ", columns " +
                                    std::to_string(g * m) + ".." + std::to_string(g * m + m - 1) + " hold " +
                                    std::to_string(nonzeros) + " non-zeros, more than N = " + std::to_string(n) +
                                    " of " + sparse::to_string(p));
      }
      // Keep every non-zero, then fill up with the lowest zero columns; emit in column order.
      std::size_t zeros_to_keep = n - nonzeros;
      std::size_t s = 0;
      for (std::size_t i = 0; i < m && s < n; ++i) {
        const bool nonzero = src[i] != 0.0f;
        if (!nonzero) {
          if (zeros_to_keep == 0) continue;
          --zeros_to_keep;
        }
        out.values[r * kept + g * n + s] = src[i];
        out.indices[r * kept + g * n + s] = static_cast<std::uint8_t>(i);
        ++s;
      }
    }
  }
  return out;
}

std::vector<float> decompress_nm(const RowMajorNMView& a, std::vector<std::uint8_t>* stored) {
  validate_nm(a);
  const auto n = static_cast<std::size_t>(a.pattern.n);
  const auto m = static_cast<std::size_t>(a.pattern.m);
  const std::size_t kept = nm_kept_cols(a.cols, a.pattern);
  std::vector<float> dense(a.rows * a.cols, 0.0f);
  if (stored != nullptr) stored->assign(a.rows * a.cols, 0);
  for (std::size_t r = 0; r < a.rows; ++r) {
    for (std::size_t s = 0; s < kept; ++s) {
      const std::size_t col = s / n * m + a.indices[r * kept + s];
      dense[r * a.cols + col] = a.values[r * kept + s];
      if (stored != nullptr) (*stored)[r * a.cols + col] = 1;
    }
  }
  return dense;
}

}  // namespace twofour::gemm
