#pragma once
// Magnitude 2:4 prune-and-compress on the GPU, bit for bit what lib does on the CPU with
// sparse::compress(dense, type, rows, cols, MetaLayout::rowmajor, /*prune_first=*/true):
//
//  1. In every group of 4 consecutive elements of a row keep the 2 largest |x| (lib's
//     nm_mask rule, sparse/mask.hpp): NaN ranks as +infinity, ties keep the lower column; the
//     other two become +0 (bit pattern 0).
//  2. The group's nibble comes from its non-zero flags (x != 0, so -0 counts as zero and NaN as
//     non-zero) through sim::spec::select_two_of_four (PyTorch's encoding, which also fixes the
//     nibble of groups with fewer than 2 non-zeros); the stored values are the group's elements
//     at idx0 and idx1, in that order.
//  3. Layout = lib's rowmajor (sparse/rowmajor_layout.hpp): values M x K/2, metadata
//     M x ceil(K/16) uint16 words, group g at bits [4(g%4)+3 : 4(g%4)] of word g/4.
//
// prune_compress_group below is that per-group rule, shared by the kernel and the CPU tests.
// Host part of this header needs no CUDA headers.
#include "twofour/sim/spec/two_four_group.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace twofour::cuda {

enum class PruneElement { f16, bf16, f32 };

// Magnitude as an order-preserving unsigned key: the sign bit cleared, NaNs mapped to +infinity.
// Integer comparison of keys equals comparison of |x| for every non-NaN encoding (subnormals
// included), so no float arithmetic (nor flush-to-zero) is involved.
TWOFOUR_HOST_DEVICE constexpr std::uint32_t magnitude_key(PruneElement type, std::uint32_t bits) {
  const std::uint32_t abs_mask = type == PruneElement::f32 ? 0x7fffffffu : 0x7fffu;
  const std::uint32_t inf = type == PruneElement::f32 ? 0x7f800000u : type == PruneElement::f16 ? 0x7c00u : 0x7f80u;
  const std::uint32_t a = bits & abs_mask;
  return a > inf ? inf : a;
}

struct PrunedGroup {
  std::uint32_t value0, value1;  // stored values, idx0 first (bit patterns)
  unsigned nibble;               // (idx1 << 2) | idx0
};

// One group of 4 elements (bit patterns in the low bits) -> its stored values and nibble.
TWOFOUR_HOST_DEVICE constexpr PrunedGroup prune_compress_group(PruneElement type, const std::uint32_t (&x)[4]) {
  std::uint32_t kept[4] = {0, 0, 0, 0};
  unsigned nonzero = 0;
  for (int i = 0; i < 4; ++i) {
    // rank = how many elements rank before x[i] (higher key, or equal key at a lower column).
    int rank = 0;
    const std::uint32_t ki = magnitude_key(type, x[i]);
    for (int j = 0; j < 4; ++j) {
      const std::uint32_t kj = magnitude_key(type, x[j]);
      if (kj > ki || (kj == ki && j < i)) ++rank;
    }
    if (rank < 2) kept[i] = x[i];
    const std::uint32_t abs_mask = type == PruneElement::f32 ? 0x7fffffffu : 0x7fffu;
    if ((kept[i] & abs_mask) != 0) nonzero |= 1u << i;
  }
  const sim::spec::TwoFourSelection pick = sim::spec::select_two_of_four(nonzero);
  // Selects instead of kept[idx]: a run-time index would put `kept` in local memory on the GPU.
  auto value_at = [&](unsigned idx) { return idx == 0 ? kept[0] : idx == 1 ? kept[1] : idx == 2 ? kept[2] : kept[3]; };
  return {value_at(pick.idx0), value_at(pick.idx1), pick.nibble()};
}

// Element size in bytes (2, 2, 4).
std::size_t prune_element_bytes(PruneElement type);

// Device pointers: `dense` rows x cols elements; `values` rows x cols/2 elements; `metadata`
// rows x ceil(cols/16) words. Enqueued on `stream` (a cudaStream_t, nullptr = default), not
// synchronised. Throws std::invalid_argument unless rows > 0 and cols % 4 == 0 (cols > 0), and
// std::runtime_error when the launch fails.
void prune_compress_on_device(PruneElement type, const void* dense, std::size_t rows, std::size_t cols, void* values,
                              std::uint16_t* metadata, void* stream = nullptr);

struct PruneCompressed {
  std::vector<std::byte> values;        // rows x cols/2 elements, little-endian (as sparse::Compressed::values)
  std::vector<std::uint16_t> metadata;  // rows x ceil(cols/16) words (as sparse::Compressed::metadata, as words)
};

// Host buffers in and out (little-endian element bytes, rows x cols). Throws std::runtime_error
// when there is no usable GPU, std::invalid_argument on sizes.
PruneCompressed prune_compress_on_gpu(PruneElement type, std::span<const std::byte> dense, std::size_t rows,
                                      std::size_t cols);

}  // namespace twofour::cuda
