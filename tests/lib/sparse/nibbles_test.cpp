// sparse::metadata_nibbles: both layouts give back, per group, the mma.sp nibble of the dense
// matrix's non-zero pattern (oracle: the non-zero positions of the dense input: a full group's
// nibble is exactly (idx1 << 2) | idx0, an under-full group's kept pair covers its non-zeros), for
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
      std::vector<int> nonzero;
      for (int e = 0; e < group; ++e) {
        bool any = false;
        for (std::size_t b = 0; b < eb; ++b)
          any = any || dense[(r * cols + g * static_cast<std::size_t>(group) + static_cast<std::size_t>(e)) * eb + b] != std::byte{0};
        if (any) nonzero.push_back(e);
      }
      const unsigned got = nib[r * groups + g], idx0 = got & 3u, idx1 = got >> 2;
      if (group == 2) {  // 1:2 "as if 4 halves": 0100 keeps element 0, 1110 element 1
        ASSERT_TRUE(got == 0x4u || got == 0xeu) << got;
        if (!nonzero.empty()) {
          ASSERT_EQ(got, nonzero[0] == 0 ? 0x4u : 0xeu) << "row " << r << " group " << g;
        }
        continue;
      }
      // 2:4: the two kept positions, ascending, cover every non-zero (exactly them when there are two).
      ASSERT_LT(idx0, idx1) << "row " << r << " group " << g;
      for (int e : nonzero) {
        ASSERT_TRUE(static_cast<unsigned>(e) == idx0 || static_cast<unsigned>(e) == idx1) << "row " << r << " group " << g;
      }
      const unsigned want = nonzero.size() == 2 ? (static_cast<unsigned>(nonzero[1]) << 2) | static_cast<unsigned>(nonzero[0]) : got;
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
