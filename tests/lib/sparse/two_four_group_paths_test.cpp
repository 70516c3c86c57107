// Every one of the 81 groups of {0, +1, -1} (fp16) through each CPU compression path: the
// simulator's compress_a, lib's compress (rowmajor, as given and pruned first) and the one rule in
// sim/spec. Oracle: the encoding table PyTorch publishes in its semi-structured conversion
// (torch/sparse/_semi_structured_conversions.py), typed in below, and decompression giving the
// group back. The CUDA kernel's per-group rule is checked on the same 81 groups in
// tests/cuda/prune_compress_test.cpp.
#include "twofour/sim/compress.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/two_four_group.hpp"
#include "twofour/sparse/compress.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace twofour {
namespace {

constexpr std::uint16_t kValue[3] = {0x0000, 0x3c00, 0xbc00};  // 0, +1, -1 in fp16

// PyTorch's table for groups with at most two non-zeros, indexed by the flags (bit i = element i).
constexpr std::array<int, 16> kPyTorchNibble = {
    0b1110, 0b1000, 0b1001, 0b0100, 0b1110, 0b1000, 0b1001, -1,
    0b1110, 0b1100, 0b1101, -1,     0b1110, -1,     -1,     -1};

std::array<std::uint16_t, 4> group(int code) {
  std::array<std::uint16_t, 4> g{};
  for (int i = 0; i < 4; ++i, code /= 3) g[static_cast<std::size_t>(i)] = kValue[code % 3];
  return g;
}

unsigned flags_of(const std::array<std::uint16_t, 4>& g) {
  unsigned f = 0;
  for (unsigned i = 0; i < 4; ++i) f |= static_cast<unsigned>(g[i] != 0) << i;
  return f;
}

// The two non-zeros that magnitude pruning keeps when all have |x| = 1: the lowest columns.
unsigned first_two(unsigned flags) {
  unsigned kept = 0;
  for (unsigned i = 0, n = 0; i < 4 && n < 2; ++i)
    if ((flags >> i) & 1u) {
      kept |= 1u << i;
      ++n;
    }
  return kept;
}

std::uint16_t nibble_of(const sparse::Compressed& c) {
  std::uint16_t word = 0;
  std::memcpy(&word, c.metadata.data(), 2);
  return word & 0xfu;
}

TEST(TwoFourGroupPaths, EveryTernaryGroupGetsOneEncodingOnEveryPath) {
  const auto* instr = sim::spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN");
  ASSERT_NE(instr, nullptr);
  int valid = 0;
  for (int code = 0; code < 81; ++code) {
    const auto g = group(code);
    const unsigned flags = flags_of(g);
    const auto bytes = std::as_bytes(std::span(g));
    SCOPED_TRACE("group " + std::to_string(g[0]) + " " + std::to_string(g[1]) + " " + std::to_string(g[2]) + " " +
                 std::to_string(g[3]));
    sim::Tile dense(1, 4);
    for (int i = 0; i < 4; ++i) dense.at(0, i) = g[static_cast<std::size_t>(i)];

    if (std::popcount(flags) > 2) {
      EXPECT_THROW((void)sim::compress_a(*instr, dense), std::invalid_argument);
      EXPECT_THROW((void)sparse::compress(bytes, sparse::ElementType::f16, 1, 4, sparse::MetaLayout::rowmajor),
                   std::invalid_argument);
    } else {
      ++valid;
      const int expected = kPyTorchNibble[flags];
      ASSERT_GE(expected, 0);
      EXPECT_EQ(static_cast<int>(sim::spec::select_two_of_four(flags).nibble()), expected);

      const sim::CompressedA s = sim::compress_a(*instr, dense);
      EXPECT_EQ(static_cast<int>(s.metadata.at(0)), expected) << "sim::compress_a";
      // Every non-zero is stored at the position its nibble names (decompress_a works on whole
      // tiles; lib's decompress below is the round-trip oracle for the shared values).
      const unsigned i0 = s.metadata.at(0) & 3u, i1 = (s.metadata.at(0) >> 2) & 3u;
      EXPECT_LT(i0, i1);
      EXPECT_EQ(s.values.at(0, 0), g[i0]);
      EXPECT_EQ(s.values.at(0, 1), g[i1]);
      EXPECT_EQ((flags & ~((1u << i0) | (1u << i1))), 0u) << "a non-zero was dropped";

      const sparse::Compressed l = sparse::compress(bytes, sparse::ElementType::f16, 1, 4, sparse::MetaLayout::rowmajor);
      EXPECT_EQ(static_cast<int>(nibble_of(l)), expected) << "sparse::compress";
      std::uint16_t lv[2];
      std::memcpy(lv, l.values.data(), 4);
      EXPECT_EQ(lv[0], s.values.at(0, 0));  // both paths store the same values
      EXPECT_EQ(lv[1], s.values.at(0, 1));
      EXPECT_EQ(sparse::decompress(l), std::vector<std::byte>(bytes.begin(), bytes.end())) << "lib round trip";
    }
    // Pruned first: the two lowest non-zeros survive (equal magnitudes), then the same encoding.
    const sparse::Compressed p =
        sparse::compress(bytes, sparse::ElementType::f16, 1, 4, sparse::MetaLayout::rowmajor, /*prune_first=*/true);
    EXPECT_EQ(static_cast<int>(nibble_of(p)), kPyTorchNibble[first_two(flags)]) << "sparse::compress, pruned";
  }
  EXPECT_EQ(valid, 1 + 8 + 24);  // groups with 0, 1 and 2 non-zeros
}

TEST(TwoFourGroupPaths, OneOfTwoGroupsUseTheTwoTf32Encodings) {
  // PyTorch's f32 path: element 0 -> 0b0100, element 1 (or none) -> 0b1110.
  EXPECT_EQ(sim::spec::select_one_of_two(0b00).nibble(), 0b1110u);
  EXPECT_EQ(sim::spec::select_one_of_two(0b01).nibble(), 0b0100u);
  EXPECT_EQ(sim::spec::select_one_of_two(0b10).nibble(), 0b1110u);
}

}  // namespace
}  // namespace twofour
