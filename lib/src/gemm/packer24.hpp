#pragma once
// Internal: how the blocked GEMM driver (blocked_gemm.hpp) packs a 2:4 matrix's micro-panels, for
// the per-call packing of sparse_gemm.cpp and the packed matrices of packed_sparse_gemm.cpp.
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "half.hpp"
#include "kernels.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::gemm::detail {

// A's values as the kernels see them.
struct AOperand {
  const void* values;
  ValueKind kind;
  const std::uint16_t* meta;
  std::size_t m;
  std::size_t k;
};

// The 2:4 packer of blocked_gemm.hpp: each group's nibble becomes the two B-strip offsets of
// its kept elements.
template <ValueKind KIND>
struct Packer24 {
  const AOperand& a;
  std::size_t group() const { return 4; }
  std::size_t slots(std::size_t kc) const { return kc / 2; }
  // Group by group across the panel's rows, so that the panel is written front to back (row by
  // row, consecutive stores were MR slots apart), and each group's two slots built in
  // one SSE register from a per-call table of the 16 nibbles' offset pairs: packing took a quarter
  // of a 300 x 784 x 128 product on Zen 4 (perf), at about 8 instructions per slot.
  void pack_panel(std::size_t row0, std::size_t rows, std::size_t k0, std::size_t kc, std::int32_t nr, PackedSlot* dst,
                  std::size_t mr) const {
    const std::size_t mw = sparse::meta_words_per_row(a.k);
    alignas(16) std::int32_t offsets[16][2];  // nibble -> (idx0 * nr, idx1 * nr)
    for (unsigned nib = 0; nib < 16; ++nib) {
      offsets[nib][0] = static_cast<std::int32_t>(sparse::nibble_idx0(nib)) * nr;
      offsets[nib][1] = static_cast<std::int32_t>(sparse::nibble_idx1(nib)) * nr;
    }
    for (std::size_t gl = 0; gl < kc / 4; ++gl) {
      const std::size_t g = k0 / 4 + gl;
      PackedSlot* lo = dst + 2 * gl * mr;
      PackedSlot* hi = lo + mr;
      const auto base = static_cast<std::int32_t>(4 * gl) * nr;
      for (std::size_t r = 0; r < rows; ++r) {
        const unsigned nib = sparse::meta_nibble(a.meta + (row0 + r) * mw, g);
        const std::size_t v = (row0 + r) * (a.k / 2) + 2 * g;
        const float v0 = detail::scalar_value<KIND>(a.values, v), v1 = detail::scalar_value<KIND>(a.values, v + 1);
#if defined(__SSE2__)
        const __m128i off = _mm_add_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(offsets[nib])), _mm_set1_epi32(base));
        const __m128 slots = _mm_unpacklo_ps(_mm_setr_ps(v0, v1, 0.0f, 0.0f), _mm_castsi128_ps(off));  // v0 o0 v1 o1
        _mm_storel_pi(reinterpret_cast<__m64*>(lo + r), slots);
        _mm_storeh_pi(reinterpret_cast<__m64*>(hi + r), slots);
#else
        lo[r] = PackedSlot{v0, base + offsets[nib][0]};
        hi[r] = PackedSlot{v1, base + offsets[nib][1]};
#endif
      }
      for (std::size_t r = rows; r < mr; ++r) lo[r] = hi[r] = PackedSlot{0.0f, 0};
    }
  }
};

}  // namespace twofour::gemm::detail
