// Host side of the tiled GEMM that needs no GPU: which rows it runs, which shapes it accepts and
// the per-lane metadata layout it reads (documented in twofour/cuda/gemm.hpp). Tested on the CPU
// against sim's warp-level packing (tests/cuda/gemm_layout_test.cpp).
#include "twofour/cuda/gemm.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace twofour::cuda {
namespace {

constexpr std::array<std::string_view, 6> kSupportedRows = {
    "SM80_SP_16x8x32_F32F16F16F32_TN",  "SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN",
    "SM80_SP_16x8x32_F32BF16BF16F32_TN", "SM80_SP_ORDERED_16x8x32_F32BF16BF16F32_TN",
    "SM80_16x8x16_F32F16F16F32_TN",     "SM80_16x8x16_F32BF16BF16F32_TN",
};

constexpr int kRowsPerMetaBlock = 32;  // one E register feeds two m16 tiles
constexpr int kKPerStep = 32;          // dense K of one m16n8k32 step
constexpr std::uint16_t kPaddingHalf = 0x4444;  // four (idx0 = 0, idx1 = 1) nibbles

void check_meta_shape(int m, int k) {
  if (m <= 0 || k <= 0 || m % 16 != 0 || k % kKPerStep != 0)
    throw std::invalid_argument("per-lane metadata needs M % 16 == 0 and K % 32 == 0, got M = " + std::to_string(m) +
                                ", K = " + std::to_string(k));
}

// Fills the per-lane buffer from `half_word(row, s, w)`: the 16 bits (4 nibbles) of A row `row`,
// k-step s, window w (chunks 8s + 4w .. + 3).
template <typename HalfWord>
std::vector<std::uint32_t> build(int m, int k, HalfWord half_word) {
  const int blocks = (m + kRowsPerMetaBlock - 1) / kRowsPerMetaBlock, steps = k / kKPerStep;
  std::vector<std::uint32_t> out(gpu_metadata_words(m, k));
  for (int mb = 0; mb < blocks; ++mb)
    for (int s = 0; s < steps; ++s)
      for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2, q = lane & 3, tile = q >> 1, w = q & 1;
        const int row = mb * kRowsPerMetaBlock + 16 * tile + g;  // low half; high half is row + 8
        const std::uint32_t lo = row < m ? half_word(row, s, w) : kPaddingHalf;
        const std::uint32_t hi = row + 8 < m ? half_word(row + 8, s, w) : kPaddingHalf;
        out[(static_cast<std::size_t>(mb) * steps + s) * 32 + lane] = lo | (hi << 16);
      }
  return out;
}

}  // namespace

bool gemm_row_supported(const sim::spec::Instruction& instr) {
  for (std::string_view name : kSupportedRows)
    if (instr.name == name) return true;
  return false;
}

void check_gemm_shape(const sim::spec::Instruction& instr, int m, int n, int k) {
  if (!gemm_row_supported(instr)) {
    std::string list;
    for (std::string_view name : kSupportedRows) list += (list.empty() ? "" : ", ") + std::string(name);
    throw std::invalid_argument("the GPU GEMM does not run " + std::string(instr.name) + "; it runs " + list);
  }
  const std::string shape = std::to_string(m) + " x " + std::to_string(n) + " x " + std::to_string(k);
  if (m <= 0 || n <= 0 || k <= 0) throw std::invalid_argument("GEMM shape M x N x K = " + shape + " is empty");
  if (m % instr.m != 0 || n % instr.n != 0 || k % instr.k != 0)
    throw std::invalid_argument("GEMM shape M x N x K = " + shape + " does not tile " + std::string(instr.name) +
                                ": needs M % " + std::to_string(instr.m) + ", N % " + std::to_string(instr.n) +
                                ", K % " + std::to_string(instr.k) + " == 0");
}

std::size_t gpu_metadata_words(int m, int k) {
  check_meta_shape(m, k);
  const std::size_t blocks = static_cast<std::size_t>((m + kRowsPerMetaBlock - 1) / kRowsPerMetaBlock);
  return blocks * static_cast<std::size_t>(k / kKPerStep) * 32;
}

std::vector<std::uint32_t> reorder_metadata_for_gpu(int m, int k, std::span<const std::uint8_t> nibbles) {
  check_meta_shape(m, k);
  const std::size_t chunks = static_cast<std::size_t>(k / 4);
  if (nibbles.size() != static_cast<std::size_t>(m) * chunks)
    throw std::invalid_argument("metadata has " + std::to_string(nibbles.size()) + " nibbles, M x K/4 needs " +
                                std::to_string(static_cast<std::size_t>(m) * chunks));
  return build(m, k, [&](int row, int s, int w) {
    const std::uint8_t* p = nibbles.data() + static_cast<std::size_t>(row) * chunks + 8 * s + 4 * w;
    std::uint32_t half = 0;
    for (int j = 0; j < 4; ++j) half |= static_cast<std::uint32_t>(p[j] & 0xfu) << (4 * j);
    return half;
  });
}

std::vector<std::uint32_t> reorder_rowmajor_metadata_for_gpu(int m, int k, std::span<const std::uint16_t> words) {
  check_meta_shape(m, k);
  const std::size_t per_row = static_cast<std::size_t>(k / 16);  // K % 32 == 0: no partial word
  if (words.size() != static_cast<std::size_t>(m) * per_row)
    throw std::invalid_argument("rowmajor metadata has " + std::to_string(words.size()) + " words, M x K/16 needs " +
                                std::to_string(static_cast<std::size_t>(m) * per_row));
  return build(m, k, [&](int row, int s, int w) {
    return static_cast<std::uint32_t>(words[static_cast<std::size_t>(row) * per_row + 2 * s + w]);
  });
}

}  // namespace twofour::cuda
