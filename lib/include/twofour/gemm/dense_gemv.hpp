#pragma once
// Dense GEMV with 16-bit weights: y (M) = A (M x K, fp16 or bf16 bit patterns, row stride lda
// elements) * x (K, fp32) (+ y), fp32 products and sums. The dense baseline that the 2:4 GEMV
// with 16-bit weights (sparse_gemm.hpp) is measured against when the BLAS at hand has no bf16
// GEMV (Debian's OpenBLAS 0.3.21 declares cblas_sbgemv but is built without it). Same
// instruction-set dispatch (GemmOptions::isa, TWOFOUR_GEMM_ISA) and the same summation order as
// the 2:4 small-N path with every column kept: per row, element k of the first 32 * floor(K / 32)
// columns goes to partial sum p[k mod 16] (fused multiply-add chains from +0), the fixed tree of
// sparse_gemm.hpp reduces them, the last K mod 32 columns continue as one chain in K order.
// Bit-identical on every instruction set (tested).
#include <cstddef>
#include <cstdint>

#include "twofour/gemm/sparse_gemm.hpp"

namespace twofour::gemm {

// Throws std::invalid_argument when lda < k or an operand is null (M, K > 0).
// GemmOptions::validate_metadata is ignored (there is none).
void dense_gemv(const std::uint16_t* a, HalfType type, std::size_t m, std::size_t k, std::size_t lda, const float* x,
                float* y, const GemmOptions& options = {});

}  // namespace twofour::gemm
