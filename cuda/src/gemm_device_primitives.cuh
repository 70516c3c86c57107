#pragma once
// The three data-movement primitives the tiled GEMM kernels are built from, as inline PTX:
//  - cp.async.cg (16 bytes, global -> shared, bypassing L1) with a zero-fill form for
//    predicated-off chunks, plus commit/wait of cp.async groups (the multi-stage pipeline);
//  - ldmatrix .x4 (four 8x8 b16 matrices -> one register each per lane), plain and .trans.
// Source: PTX ISA 9.1 §9.7.9.25 (cp.async) and §9.7.14.5.15 (ldmatrix). Every asm is volatile with
// a "memory" clobber so that NVVM never moves it across __syncthreads or the shared-memory reads.
#include <cstdint>

namespace twofour::cuda::detail {

__device__ inline std::uint32_t shared_address(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// Copies 16 bytes, or writes 16 zero bytes when !valid (src-size 0: nothing is read from `src`,
// which must still be a mapped address, so callers pass the operand's base pointer then).
__device__ inline void cp_async_16(void* dst_shared, const void* src_global, bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst_shared)),
               "l"(src_global), "r"(src_bytes)
               : "memory");
}

__device__ inline void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

// Waits until at most `Pending` committed groups are still in flight.
template <int Pending>
__device__ inline void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending) : "memory");
}

// Lane l supplies the address of row l % 8 of matrix l / 8; register i of every lane receives
// row lane/4, columns 2(lane%4), +1 of matrix i (low half = lower column).
__device__ inline void ldmatrix_x4(std::uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address))
               : "memory");
}

// Same, transposed: register i receives rows 2(lane%4), +1 at column lane/4 of matrix i. With a
// row-major K x N tile in shared memory (a row = one k), that is exactly the mma "col" B fragment.
__device__ inline void ldmatrix_x4_trans(std::uint32_t (&r)[4], const void* row_address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row_address))
               : "memory");
}

}  // namespace twofour::cuda::detail
