#pragma once
// Test helper: random matrices in the 2:4 row-major compressed layout, built here (independent
// of the library's compression code).
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::testing {

template <class T>
struct Random24 {
  std::vector<T> values;
  std::vector<std::uint16_t> meta;
  std::size_t rows = 0;
  std::size_t cols = 0;
  sparse::RowMajor24View<T> view() const { return {values.data(), meta.data(), rows, cols}; }
};

// Random valid metadata (one of the 6 idx0 < idx1 pairs per group; unused nibbles of a
// partial last word are left at random garbage to check that kernels ignore them).
std::vector<std::uint16_t> random_metadata(std::mt19937_64& rng, std::size_t rows, std::size_t k);

// Values uniform in [-1, 1) (fp32), or rounded to fp16/bf16 from [-2, 2) with a sprinkle of
// subnormals and zeros.
Random24<float> random_24_fp32(std::mt19937_64& rng, std::size_t rows, std::size_t k);
Random24<std::uint16_t> random_24_half(std::mt19937_64& rng, std::size_t rows, std::size_t k, gemm::HalfType type);
std::vector<float> random_dense_fp32(std::mt19937_64& rng, std::size_t count);
std::vector<std::uint16_t> random_dense_half(std::mt19937_64& rng, std::size_t count, gemm::HalfType type);

}  // namespace twofour::testing
