#pragma once
// The scalar reference for twofour::gemm: decompress A to dense, then plain loops in K order.
// Each C element is one fused multiply-add chain over the positions A stores (its kept
// elements, zero or not), in increasing k, starting from C (accumulate) or +0. Skipping the
// positions A does not store is what makes "0 * inf" in B not poison a row, and it is exactly
// what the K-order kernels compute, so they can be compared bit for bit.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::gemm {

// Dense M x K row-major copy of A (fp32), and the mask of stored positions. Throw
// std::invalid_argument on K % 4 != 0 or malformed metadata.
std::vector<float> decompress(const sparse::RowMajor24View<float>& a, std::vector<std::uint8_t>* stored = nullptr);
std::vector<float> decompress(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type,
                              std::vector<std::uint8_t>* stored = nullptr);

void reference_gemm(const sparse::RowMajor24View<float>& a, const float* b, std::size_t ldb, float* c,
                    std::size_t ldc, std::size_t n, bool accumulate);
void reference_gemm(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const std::uint16_t* b,
                    std::size_t ldb, float* c, std::size_t ldc, std::size_t n, bool accumulate);
void reference_gemm(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const float* b,
                    std::size_t ldb, float* c, std::size_t ldc, std::size_t n, bool accumulate);

}  // namespace twofour::gemm
