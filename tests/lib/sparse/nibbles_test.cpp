// sparse::metadata_nibbles: both layouts give back, per group, the nibble of the dense matrix's
// non-zero pattern (oracle: semi_structured_nibble on the dense flags, PyTorch's encoding), for
// 2:4 types, 8-bit types (int32 metadata) and 1:2 tf32 in the cutlass layout.
#include "twofour/sparse/nibbles.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace {

using namespace twofour::sparse;

std::vector<std::byte> random_dense(ElementType t, std::size_t rows, std::size_t cols, int group, unsigned seed) {
  std::mt19937 rng(seed);
  const std::size_t eb = element_bytes(t);
  std::vector<std::byte> dense(rows * cols * eb, std::byte{0});
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g = 0; g < cols / static_cast<std::size_t>(group); ++g) {
      const std::size_t kept = rng() % 3 == 0 ? 1 : static_cast<std::size_t>(group) / 2;  // some groups under-full
      std::vector<std::size_t> idx(static_cast<std::size_t>(group));
      for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      std::shuffle(idx.begin(), idx.end(), rng);
      for (std::size_t i = 0; i < kept; ++i) {
        const std::uint32_t one = t == ElementType::f16 ? 0x3c00u : t == ElementType::s8 ? 0x01u : 0x3f800000u;
        std::memcpy(dense.data() + (r * cols + g * static_cast<std::size_t>(group) + idx[i]) * eb, &one, eb);
      }
    }
  return dense;
}

void expect_pattern_nibbles(ElementType t, MetaLayout l, std::size_t rows, std::size_t cols, unsigned seed) {
  const int group = group_size(t, l);
  const std::vector<std::byte> dense = random_dense(t, rows, cols, group, seed);
  const std::vector<std::uint8_t> nib = metadata_nibbles(compress(dense, t, rows, cols, l));
  const std::size_t eb = element_bytes(t), groups = cols / static_cast<std::size_t>(group);
  ASSERT_EQ(nib.size(), rows * groups);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g = 0; g < groups; ++g) {
      unsigned flags = 0;
      for (int e = 0; e < group; ++e) {
        bool nonzero = false;
        for (std::size_t b = 0; b < eb; ++b)
          nonzero = nonzero || dense[(r * cols + g * static_cast<std::size_t>(group) + static_cast<std::size_t>(e)) * eb + b] != std::byte{0};
        // 1:2 groups are encoded "as if 4 halves": element e covers halves 2e, 2e+1.
        if (nonzero) flags |= group == 2 ? (3u << (2 * e)) : (1u << e);
      }
      const unsigned want = group == 2 ? (flags & 0xcu ? 0xeu : 0x4u) : semi_structured_nibble(flags);
      ASSERT_EQ(nib[r * groups + g], want) << to_string(t) << " " << to_string(l) << " row " << r << " group " << g;
    }
}

TEST(CompressedMetadataNibbles, EveryLayoutGivesThePatternsNibbles) {
  expect_pattern_nibbles(ElementType::f16, MetaLayout::rowmajor, 8, 36, 1);  // a partial last word
  expect_pattern_nibbles(ElementType::f16, MetaLayout::cutlass, 64, 64, 2);
  expect_pattern_nibbles(ElementType::bf16, MetaLayout::cutlass, 32, 96, 3);
  expect_pattern_nibbles(ElementType::s8, MetaLayout::cutlass, 32, 128, 4);
  expect_pattern_nibbles(ElementType::tf32, MetaLayout::cutlass, 32, 32, 5);
}

TEST(CompressedMetadataNibbles, WrongSizesAreRejected) {
  Compressed c = compress(random_dense(ElementType::f16, 32, 32, 4, 6), ElementType::f16, 32, 32, MetaLayout::cutlass);
  c.metadata.pop_back();
  EXPECT_THROW(metadata_nibbles(c), std::invalid_argument);
  c.rows = 16;  // the cutlass layout interleaves 32 rows
  EXPECT_THROW(metadata_nibbles(c), std::invalid_argument);
}

}  // namespace
