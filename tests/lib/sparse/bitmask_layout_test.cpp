// sparse-24-bitmask (bitmask_layout.hpp): every one of the 81 ternary 4-groups (0, +1, -1 per
// element; those with more than 2 non-zeros are pruned first) round-trips exactly; the bitmask
// holds the positions of the rowmajor nibble, packed LSB first; malformed input is rejected.
#include "twofour/sparse/bitmask_layout.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace twofour::sparse {
namespace {

TEST(BitmaskLayout, EveryTernaryGroupRoundTripsAndMatchesTheNibbles) {
  // 81 groups side by side: one row of 324 f32 columns, each group one ternary pattern.
  std::vector<float> dense;
  for (int code = 0; code < 81; ++code) {
    int c = code;
    for (int i = 0; i < 4; ++i, c /= 3) dense.push_back(c % 3 == 0 ? 0.0f : (c % 3 == 1 ? 1.0f : -1.0f));
  }
  const std::size_t cols = dense.size();
  const auto bytes = std::as_bytes(std::span<const float>(dense));
  const BitmaskCompressed b = compress_bitmask(bytes, ElementType::f32, 1, cols, /*prune_first=*/true);
  const Compressed c = compress(bytes, ElementType::f32, 1, cols, MetaLayout::rowmajor, /*prune_first=*/true);
  ASSERT_EQ(b.bitmask.size(), bitmask_cols(cols));
  EXPECT_EQ(b.values, c.values);
  std::vector<std::uint16_t> words(meta_words_per_row(cols));
  std::memcpy(words.data(), c.metadata.data(), words.size() * 2);
  for (std::size_t g = 0; g < cols / 4; ++g) {
    const unsigned nib = meta_nibble(words.data(), g);
    for (unsigned i = 0; i < 4; ++i) {
      const std::size_t col = 4 * g + i;
      const bool set = (std::to_integer<unsigned>(b.bitmask[col / 8]) >> (col % 8)) & 1u;
      EXPECT_EQ(set, i == nibble_idx0(nib) || i == nibble_idx1(nib)) << "group " << g << " element " << i;
    }
  }
  const std::vector<std::byte> back = decompress_bitmask(b);
  EXPECT_EQ(back, decompress(c));
}

TEST(BitmaskLayout, RejectsMalformedInput) {
  const std::vector<float> dense = {1, 0, 2, 0, 0, 3, 0, 4};
  const auto b = compress_bitmask(std::as_bytes(std::span<const float>(dense)), ElementType::f32, 1, 8);
  EXPECT_EQ(std::to_integer<unsigned>(b.bitmask[0]), 0b10100101u);
  BitmaskCompressed bad = b;
  bad.bitmask[0] = std::byte{0b10100111};
  EXPECT_THROW(decompress_bitmask(bad), std::invalid_argument);
  bad = b;
  bad.values.pop_back();
  EXPECT_THROW(decompress_bitmask(bad), std::invalid_argument);
  bad = b;
  bad.cols = 6;
  EXPECT_THROW(decompress_bitmask(bad), std::invalid_argument);
  const std::vector<float> three = {1, 2, 3, 0};
  EXPECT_THROW(compress_bitmask(std::as_bytes(std::span<const float>(three)), ElementType::f32, 1, 4), std::invalid_argument);
}

}  // namespace
}  // namespace twofour::sparse
