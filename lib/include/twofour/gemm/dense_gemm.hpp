#pragma once
// Dense fp32 GEMM for the training stack: C (M x N) = op(A) * op(B) (+ C), row-major storage,
// op = identity or transpose, on the same run-time-dispatched kernels as the 2:4 GEMM (AVX-512,
// AVX2+FMA or portable scalar code; GemmOptions-style `isa` forces one).
//
// The order of every sum is fixed by the operands' layout alone, never by the instruction set,
// the blocking or the thread count, so results are bit-identical on every path and thread count:
//  * A * B^T without transposing A (both operands contiguous along K, "dot form"): each output
//    is kDenseDotLanes = 16 fused multiply-add chains, lane l over k = l (mod 16) in increasing
//    k, then a pairwise tree (lane l += lane l + w, w = 8, 4, 2, 1); with accumulate the sum is
//    then added to C (one more rounding).
//  * every other combination ("outer form"): each output is one fused multiply-add chain in
//    increasing k, started from C (accumulate) or +0.
// Both are reorderings of the exact sum, so the error is within sum_k |a||b| * K * eps.
#include <cstddef>

#include "twofour/gemm/sparse_gemm.hpp"

namespace twofour::gemm {

inline constexpr std::size_t kDenseDotLanes = 16;

struct DenseGemmOptions {
  bool accumulate = false;   // C += op(A) op(B) instead of C = op(A) op(B)
  Isa isa = Isa::automatic;  // force a path (tests); automatic = default_isa()
  int threads = 0;           // OpenMP threads; 0 = omp_get_max_threads() (1 inside a parallel region)
};

// op(A) is m x k, op(B) k x n. Stored shapes: A is (trans_a ? k x m : m x k) with row stride
// lda, B is (trans_b ? n x k : k x n) with row stride ldb, C is m x n with row stride ldc.
// Throws std::invalid_argument when a stride is smaller than its row.
void dense_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                std::size_t lda, const float* b, std::size_t ldb, float* c, std::size_t ldc,
                const DenseGemmOptions& options = {});

}  // namespace twofour::gemm
