#pragma once
// Internal: the cache-blocked, packed GEMM driver shared by the 2:4 path (sparse_gemm.cpp) and
// the generic N:M path (nm_gemm.cpp). The two differ only in how a row's kept elements are
// decoded, which the Packer supplies; blocking, B packing, OpenMP and the micro-kernel call are
// here, once.
//
// Per thread team:
//   for each column block jc of NC columns:
//     pack B[:, jc] into NR-wide strips, fp32, K rows each                  (shared, L3)
//     for each row block ib of MC rows (dynamic schedule across threads):
//       for each K block pc of KC (a multiple of the pattern's group size):
//         pack A[ib, pc] into MR-row micro-panels of PackedSlot            (thread-local, L2)
//         for each strip jr: for each micro-panel ir: tile kernel         (strip KC x NR, L1/L2)
// The C block (MC x NC) stays in L2 across the K blocks, so C is read and written from memory
// once per column block, not once per K block. MC = 32 MR (less for a small M on several threads,
// so that every thread gets row blocks); on Zen 4 (2:4, 1024^2 and 2048^2, median CPU time) MC of
// 8-64 MR were within noise of the chosen MC = 32 MR; KC is the tile kernel's (TileKernel::kc; the
// AVX-512 table documents its measurement). Each C element is one FMA chain in K order
// (started from C or 0 at the first K block, continued from C after), so the result does not
// depend on the blocking or the thread count.
//
// Packer concept (pack_row, or pack_panel for a packer that writes whole micro-panels):
//   std::size_t group() const;           // M of N:M: K blocks are multiples of it
//   std::size_t slots(std::size_t kc) const;  // kept elements of one row in kc columns
//   void pack_row(std::size_t row, std::size_t k0, std::size_t kc, std::int32_t nr,
//                 detail::PackedSlot* dst, std::size_t stride) const;
//     writes the row's kept elements of columns [k0, k0 + kc) in K order to dst[s * stride],
//     each as {value, (column - k0) * nr} (the offset of its row in the packed B strip).
//   void pack_panel(std::size_t row0, std::size_t rows, std::size_t k0, std::size_t kc,
//                   std::int32_t nr, detail::PackedSlot* dst, std::size_t mr) const;
//     the micro-panel of rows [row0, row0 + rows), rows <= mr: slot s of row r at dst[s * mr + r],
//     rows past `rows` as {0, 0}.
// Or, for a matrix packed ahead (packed_sparse_gemm.cpp), instead of the pack functions:
//   const PackedSlot* panel_block(std::size_t row0, std::size_t k0) const;
//     the micro-panels of rows [row0, ...) for the K block at k0, laid out as pack_panels writes them.
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "half.hpp"
#include "kernels.hpp"

namespace twofour::gemm::detail {

// Grow-only per-thread scratch, 64-byte aligned. Reusing it across calls avoids re-faulting
// fresh pages from the allocator on every call (measurable at GEMV and 1024-square sizes). The
// alignment matters more: the kernels load whole vectors from packed B rows, and a packed
// strip that starts 16 bytes off a cache line makes every 64-byte load of it span two lines
// (std::vector<float> only guarantees 16-byte alignment for large blocks).
// One set per program (inline function: a single definition across translation units).
template <class T>
inline T* scratch(std::size_t count, int slot) {
  constexpr std::size_t kAlign = 64;
  thread_local std::vector<unsigned char> buffers[3];
  std::vector<unsigned char>& v = buffers[slot];
  const std::size_t bytes = count * sizeof(T) + kAlign;
  if (v.size() < bytes) v.resize(bytes);
  const auto addr = reinterpret_cast<std::uintptr_t>(v.data());
  return reinterpret_cast<T*>((addr + kAlign - 1) / kAlign * kAlign);
}

namespace {

inline float b_to_float(float x, ValueKind /*kind*/) { return x; }
inline float b_to_float(std::uint16_t h, ValueKind kind) {
  return kind == ValueKind::fp16 ? fp16_bits_to_float(h) : bf16_bits_to_float(h);
}

template <class Packer>
void pack_panels(const Packer& a, std::size_t row0, std::size_t rows, std::size_t k0, std::size_t kc,
                 std::size_t mr, std::size_t nr, PackedSlot* out) {
  const std::size_t slots = a.slots(kc);
  const std::size_t panels = (rows + mr - 1) / mr;
  if constexpr (requires { a.pack_panel(row0, rows, k0, kc, std::int32_t{}, out, mr); }) {
    for (std::size_t p = 0; p < panels; ++p)
      a.pack_panel(row0 + p * mr, std::min(mr, rows - p * mr), k0, kc, static_cast<std::int32_t>(nr),
                   out + p * slots * mr, mr);
  } else {
    for (std::size_t p = 0; p < panels; ++p) {
      PackedSlot* panel = out + p * slots * mr;
      for (std::size_t r = 0; r < mr; ++r) {
        const std::size_t rr = p * mr + r;
        if (rr < rows) {
          a.pack_row(row0 + rr, k0, kc, static_cast<std::int32_t>(nr), panel + r, mr);
        } else {
          // Missing rows of the last micro-panel: value 0 at offset 0 (computed, never stored).
          for (std::size_t s = 0; s < slots; ++s) panel[s * mr + r] = PackedSlot{0.0f, 0};
        }
      }
    }
  }
}

template <class Packer, class BT>
void run_blocked_gemm(const Packer& a, std::size_t m, std::size_t k, const BT* b, ValueKind b_kind, std::size_t ldb,
                      float* c, std::size_t ldc, std::size_t n, int threads, bool accumulate, const TileKernel& t) {
  const std::size_t mr = static_cast<std::size_t>(t.mr);
  const std::size_t nr = static_cast<std::size_t>(t.nr);
  const std::size_t group = a.group();
  const std::size_t kcmax = std::max<std::size_t>(group, static_cast<std::size_t>(t.kc) / group * group);
  // At least two row blocks per thread when M is small (a layer of 100-300 outputs would otherwise
  // be one or two blocks of 32 MR rows, leaving a thread idle); blocking never changes the bits.
  const std::size_t per_thread = (m + 2 * static_cast<std::size_t>(threads) - 1) / (2 * static_cast<std::size_t>(threads));
  const std::size_t mc =
      threads > 1 ? std::min(32 * mr, std::max<std::size_t>(1, (per_thread + mr - 1) / mr) * mr) : 32 * mr;
  const std::size_t nc = std::max<std::size_t>(1024 / nr, 1) * nr;
  const std::size_t nc_used = std::min(nc, (n + nr - 1) / nr * nr);
  float* const bpack = scratch<float>(k * nc_used, 1);
  const std::size_t row_blocks = (m + mc - 1) / mc;
#pragma omp parallel num_threads(threads)
  {
    PackedSlot* const apack = scratch<PackedSlot>(mc * a.slots(kcmax), 0);
    for (std::size_t jc = 0; jc < n; jc += nc) {
      const std::size_t ncols = std::min(nc, n - jc);
      const std::size_t strips = (ncols + nr - 1) / nr;
      // B strip s: K rows of nr floats (zero beyond column n).
#pragma omp for schedule(static)
      for (std::size_t s = 0; s < strips; ++s) {
        float* dst = bpack + s * k * nr;
        const std::size_t col0 = jc + s * nr;
        const std::size_t w = std::min(nr, n - col0);
        for (std::size_t kk = 0; kk < k; ++kk) {
          const BT* src = b + kk * ldb + col0;
          for (std::size_t j = 0; j < w; ++j) dst[kk * nr + j] = b_to_float(src[j], b_kind);
          for (std::size_t j = w; j < nr; ++j) dst[kk * nr + j] = 0.0f;
        }
      }
#pragma omp for schedule(dynamic, 1)
      for (std::size_t ib = 0; ib < row_blocks; ++ib) {
        const std::size_t row0 = ib * mc;
        const std::size_t rows = std::min(mc, m - row0);
        const std::size_t panels = (rows + mr - 1) / mr;
        for (std::size_t k0 = 0; k0 < k; k0 += kcmax) {
          const std::size_t kc = std::min(kcmax, k - k0);
          const std::size_t slots = a.slots(kc);
          const PackedSlot* ablock = apack;
          if constexpr (requires { a.panel_block(row0, k0); }) {
            ablock = a.panel_block(row0, k0);  // packed ahead (packed_sparse_gemm.hpp)
          } else {
            pack_panels(a, row0, rows, k0, kc, mr, nr, apack);
          }
          for (std::size_t s = 0; s < strips; ++s) {
            const std::size_t col0 = jc + s * nr;
            const float* bstrip = bpack + s * k * nr + k0 * nr;
            for (std::size_t p = 0; p < panels; ++p) {
              const std::size_t r0 = row0 + p * mr;
              const TileArgs args{ablock + p * slots * mr, slots, bstrip, c + r0 * ldc + col0, ldc,
                                  std::min(mr, m - r0), std::min(nr, n - col0), accumulate || k0 > 0};
              t.run(args);
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace twofour::gemm::detail
