// The GPU prune-and-compress equals lib's sparse::compress(..., rowmajor, prune_first = true) bit for
// bit. On the CPU: the per-group rule the kernel runs (prune_compress_group) against lib, on inputs
// full of ties, +-0, NaN, +-Inf and subnormals. On a GPU: the kernel itself (skips without one).
#include "gpu_available.hpp"
#include "twofour/cuda/prune_compress.hpp"
#include "twofour/sim/spec/two_four_group.hpp"
#include "twofour/sparse/compress.hpp"

#include "support/seed.hpp"
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <string>

namespace {

std::uint32_t u32(std::mt19937& rng) { return static_cast<std::uint32_t>(rng()); }

using twofour::cuda::PruneElement;
namespace sparse = twofour::sparse;

sparse::ElementType lib_type(PruneElement t) {
  switch (t) {
    case PruneElement::f16: return sparse::ElementType::f16;
    case PruneElement::bf16: return sparse::ElementType::bf16;
    case PruneElement::f32: return sparse::ElementType::f32;
  }
  return sparse::ElementType::f32;
}

// Bit patterns drawn mostly from a pool of specials and repeated values (ties), else random.
std::vector<std::uint32_t> adversarial_bits(PruneElement t, std::size_t count, std::mt19937& rng) {
  static constexpr std::array<std::uint32_t, 12> f16 = {0x0000, 0x8000, 0x3c00, 0xbc00, 0x4000, 0x7e00,
                                                        0x7c01, 0xfc00, 0x7c00, 0x0001, 0x8001, 0xfe00};
  static constexpr std::array<std::uint32_t, 12> bf16 = {0x0000, 0x8000, 0x3f80, 0xbf80, 0x4000, 0x7fc0,
                                                         0x7f81, 0xff80, 0x7f80, 0x0001, 0x8001, 0xffc0};
  static constexpr std::array<std::uint32_t, 12> f32 = {0x00000000u, 0x80000000u, 0x3f800000u, 0xbf800000u,
                                                        0x40000000u, 0x7fc00000u, 0x7f800001u, 0xff800000u,
                                                        0x7f800000u, 0x00000001u, 0x80000001u, 0xffc00000u};
  const auto& pool = t == PruneElement::f16 ? f16 : t == PruneElement::bf16 ? bf16 : f32;
  const std::uint32_t mask = t == PruneElement::f32 ? 0xffffffffu : 0xffffu;
  std::vector<std::uint32_t> out(count);
  for (auto& x : out) x = u32(rng) % 3 == 0 ? (u32(rng) & mask) : pool[u32(rng) % pool.size()];
  return out;
}

std::vector<std::byte> to_bytes(PruneElement t, const std::vector<std::uint32_t>& bits) {
  const std::size_t eb = twofour::cuda::prune_element_bytes(t);
  std::vector<std::byte> out(bits.size() * eb);
  for (std::size_t i = 0; i < bits.size(); ++i)
    for (std::size_t b = 0; b < eb; ++b) out[i * eb + b] = static_cast<std::byte>((bits[i] >> (8 * b)) & 0xffu);
  return out;
}

// What the kernel computes, run on the CPU: prune_compress_group per group, rowmajor layout.
twofour::cuda::PruneCompressed kernel_rule_on_cpu(PruneElement t, const std::vector<std::uint32_t>& bits,
                                                  std::size_t rows, std::size_t cols) {
  const std::size_t words = (cols + 15) / 16;
  twofour::cuda::PruneCompressed out;
  std::vector<std::uint32_t> values(rows * cols / 2);
  out.metadata.assign(rows * words, 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g = 0; g < cols / 4; ++g) {
      const std::uint32_t* in = bits.data() + r * cols + 4 * g;
      const std::uint32_t x[4] = {in[0], in[1], in[2], in[3]};
      const twofour::cuda::PrunedGroup p = twofour::cuda::prune_compress_group(t, x);
      values[r * cols / 2 + 2 * g] = p.value0;
      values[r * cols / 2 + 2 * g + 1] = p.value1;
      out.metadata[r * words + g / 4] = static_cast<std::uint16_t>(out.metadata[r * words + g / 4] | (p.nibble << (4 * (g % 4))));
    }
  out.values = to_bytes(t, values);
  return out;
}

std::vector<std::uint16_t> lib_words(const sparse::Compressed& c) {
  std::vector<std::uint16_t> w(c.metadata.size() / 2);
  std::memcpy(w.data(), c.metadata.data(), c.metadata.size());
  return w;
}

constexpr std::array<PruneElement, 3> kTypes = {PruneElement::f16, PruneElement::bf16, PruneElement::f32};

TEST(PruneCompress, GroupRuleMatchesLibOnAdversarialInputs) {
  std::mt19937 rng(twofour::testing::test_seed("PruneCompress.GroupRuleMatchesLibOnAdversarialInputs", 11));
  for (PruneElement t : kTypes)
    for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{1, 4}, {7, 20}, {33, 64}, {64, 132}}) {
      const std::vector<std::uint32_t> bits = adversarial_bits(t, rows * cols, rng);
      const sparse::Compressed lib =
          sparse::compress(to_bytes(t, bits), lib_type(t), rows, cols, sparse::MetaLayout::rowmajor, true);
      const twofour::cuda::PruneCompressed mine = kernel_rule_on_cpu(t, bits, rows, cols);
      EXPECT_EQ(mine.values, lib.values) << sparse::to_string(lib_type(t)) << " " << rows << "x" << cols;
      EXPECT_EQ(mine.metadata, lib_words(lib)) << sparse::to_string(lib_type(t)) << " " << rows << "x" << cols;
    }
}

TEST(PruneCompress, EveryFlagPatternGivesLibsNibble) {
  // Groups of ones and zeros: each of the 16 non-zero patterns, before and after pruning.
  for (unsigned flags = 0; flags < 16; ++flags) {
    std::uint32_t x[4];
    for (unsigned i = 0; i < 4; ++i) x[i] = (flags >> i) & 1u ? 0x3c00u + i : 0u;
    const twofour::cuda::PrunedGroup p = twofour::cuda::prune_compress_group(PruneElement::f16, x);
    unsigned kept = 0;  // the two largest non-zeros (higher columns hold larger values here)
    for (int i = 3, n = 0; i >= 0 && n < 2; --i)
      if ((flags >> i) & 1u) {
        kept |= 1u << i;
        ++n;
      }
    EXPECT_EQ(p.nibble, twofour::sim::spec::select_two_of_four(kept).nibble()) << "flags " << flags;
  }
}

TEST(PruneCompress, EveryTernaryGroupMatchesLib) {
  // The 81 groups of {0, +1, -1} through the kernel's rule (on the CPU) and lib's pruned compress.
  constexpr std::uint32_t value[3] = {0x0000u, 0x3c00u, 0xbc00u};
  for (int code = 0; code < 81; ++code) {
    std::uint32_t x[4];
    for (int i = 0, c = code; i < 4; ++i, c /= 3) x[i] = value[c % 3];
    const std::vector<std::uint32_t> bits(std::begin(x), std::end(x));
    const twofour::cuda::PrunedGroup p = twofour::cuda::prune_compress_group(PruneElement::f16, x);
    const sparse::Compressed lib =
        sparse::compress(to_bytes(PruneElement::f16, bits), sparse::ElementType::f16, 1, 4, sparse::MetaLayout::rowmajor, true);
    EXPECT_EQ(p.nibble, lib_words(lib).at(0)) << "group " << code;
    const twofour::cuda::PruneCompressed mine = kernel_rule_on_cpu(PruneElement::f16, bits, 1, 4);
    EXPECT_EQ(mine.values, lib.values) << "group " << code;
  }
}

TEST(PruneCompress, GpuMatchesLib) {
  if (const std::string why = cuda_test::no_gpu_reason(); !why.empty()) GTEST_SKIP() << why;
  std::mt19937 rng(twofour::testing::test_seed("PruneCompress.GpuMatchesLib", 12));
  for (PruneElement t : kTypes)
    for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{1, 4}, {7, 20}, {129, 264}, {512, 1024}}) {
      const std::vector<std::uint32_t> bits = adversarial_bits(t, rows * cols, rng);
      const std::vector<std::byte> dense = to_bytes(t, bits);
      const sparse::Compressed lib = sparse::compress(dense, lib_type(t), rows, cols, sparse::MetaLayout::rowmajor, true);
      const twofour::cuda::PruneCompressed gpu = twofour::cuda::prune_compress_on_gpu(t, dense, rows, cols);
      EXPECT_EQ(gpu.values, lib.values) << sparse::to_string(lib_type(t)) << " " << rows << "x" << cols;
      EXPECT_EQ(gpu.metadata, lib_words(lib)) << sparse::to_string(lib_type(t)) << " " << rows << "x" << cols;
    }
}

TEST(PruneCompress, RejectsBadShapes) {
  const std::vector<std::byte> dense(2 * 6 * 2);
  EXPECT_THROW((void)twofour::cuda::prune_compress_on_gpu(PruneElement::f16, dense, 2, 6), std::invalid_argument);
  EXPECT_THROW((void)twofour::cuda::prune_compress_on_gpu(PruneElement::f16, dense, 3, 8), std::invalid_argument);  // size
}

}  // namespace
