// Compression round trips for every element type and layout, PyTorch's degenerate-group
// encodings, and the identity between the reordered metadata and the mma.sp E registers.
// Oracles: (1) the E-register lane formulas of docs/ptx-facts.md §Fragments (PTX ISA), written
//          here independently of the library's CUTLASS reorder_meta code;
//          (2) PyTorch's gather offsets of `_sparse_semi_structured_to_dense_cutlass`
//          (torch/sparse/_semi_structured_conversions.py), transcribed as a formula;
//          (3) PyTorch's comment table of encodings for groups without exactly two non-zeros.
#include "twofour/sim/spec/two_four_group.hpp"
#include "twofour/sparse/compress.hpp"
#include "twofour/sparse/render.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

#include "support/seed.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace {

using namespace twofour::sparse;

constexpr ElementType kTypes[] = {ElementType::f32, ElementType::tf32, ElementType::f16, ElementType::bf16, ElementType::s8};
constexpr MetaLayout kLayouts[] = {MetaLayout::rowmajor, MetaLayout::cutlass};

// A random matrix of `type` whose groups (of `group`) hold 0..group/2 non-zeros, as raw LE bytes.
std::vector<std::byte> random_sparse(ElementType type, std::size_t rows, std::size_t cols, int group, std::mt19937_64& rng) {
  const std::size_t eb = element_bytes(type);
  std::vector<std::byte> out(rows * cols * eb, std::byte{0});
  std::uniform_int_distribution<int> pos(0, group - 1), count(0, group / 2);
  std::uniform_int_distribution<std::uint32_t> bits(1, 0x3fff);  // non-zero, finite, positive or negative below
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g0 = 0; g0 < cols; g0 += static_cast<std::size_t>(group)) {
      const int k = count(rng);
      for (int i = 0; i < k; ++i) {
        const std::size_t c = g0 + static_cast<std::size_t>(pos(rng));
        std::uint32_t v = bits(rng);
        if (eb == 4) v = (v << 16) | 0x3f000000u;  // a normal float
        if (eb == 1) v = (v & 0x7fu) | 1u;
        if (rng() & 1) v |= eb == 4 ? 0x80000000u : eb == 2 ? 0x8000u : 0x80u;
        for (std::size_t b = 0; b < eb; ++b) out[(r * cols + c) * eb + b] = static_cast<std::byte>((v >> (8 * b)) & 0xffu);
      }
    }
  return out;
}

TEST(Compress, RoundTripsEveryTypeAndLayout) {
  const auto seed = twofour::testing::test_seed("Compress.RoundTrips", 5);
  std::mt19937_64 rng(seed);
  int cases = 0;
  for (ElementType t : kTypes)
    for (MetaLayout l : kLayouts) {
      const std::size_t rows = 64, cols = 128;
      const int group = group_size(t, l);
      const auto dense = random_sparse(t, rows, cols, group, rng);
      const Compressed c = compress(dense, t, rows, cols, l);
      EXPECT_EQ(c.values.size(), rows * cols / 2 * element_bytes(t));
      EXPECT_EQ(c.metadata.size(), rows * meta_cols(t, l, cols) * meta_element_bytes(t, l));
      EXPECT_EQ(decompress(c), dense) << to_string(t) << " " << to_string(l);
      ++cases;
    }
  EXPECT_EQ(cases, 10);
}

TEST(Compress, MetaElementTypesFollowPyTorch) {
  EXPECT_EQ(meta_element_bytes(ElementType::s8, MetaLayout::cutlass), 4u);
  EXPECT_EQ(meta_element_bytes(ElementType::f16, MetaLayout::cutlass), 2u);
  EXPECT_EQ(meta_element_bytes(ElementType::f32, MetaLayout::cutlass), 2u);
  EXPECT_EQ(meta_cols(ElementType::f32, MetaLayout::cutlass, 32), 4u);  // 8 f32 per int16
  EXPECT_EQ(meta_cols(ElementType::f16, MetaLayout::cutlass, 64), 4u);
  EXPECT_EQ(meta_cols(ElementType::s8, MetaLayout::cutlass, 128), 4u);
  EXPECT_EQ(meta_cols(ElementType::s8, MetaLayout::rowmajor, 128), meta_words_per_row(128));
}

TEST(Compress, NonSparseInputNamesTheGroupUnlessPruned) {
  std::vector<float> d(32 * 32, 0.0f);
  d[5 * 32 + 8] = d[5 * 32 + 9] = d[5 * 32 + 10] = 1.0f;
  try {
    compress_f32(d, 32, 32, MetaLayout::rowmajor);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("row 5, columns 8..11"), std::string::npos) << e.what();
  }
  // 1:2 for f32 in the cutlass layout: columns 8, 9 already break it.
  try {
    compress_f32(d, 32, 32, MetaLayout::cutlass);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("row 5, columns 8..9"), std::string::npos) << e.what();
  }
  d[5 * 32 + 8] = 0.5f;
  const auto pruned = decompress_f32(compress_f32(d, 32, 32, MetaLayout::rowmajor, true));
  EXPECT_EQ(pruned[5 * 32 + 8], 0.0f);  // smallest magnitude of the group went
  EXPECT_EQ(pruned[5 * 32 + 9], 1.0f);
  EXPECT_EQ(pruned[5 * 32 + 10], 1.0f);
  const auto pruned12 = decompress_f32(compress_f32(d, 32, 32, MetaLayout::cutlass, true));
  EXPECT_EQ(pruned12[5 * 32 + 8], 0.0f);
  EXPECT_EQ(pruned12[5 * 32 + 9], 1.0f);
  EXPECT_EQ(pruned12[5 * 32 + 10], 1.0f);
  EXPECT_THROW(compress_f32(std::vector<float>(16 * 32), 16, 32, MetaLayout::cutlass), std::invalid_argument);  // M % 32
  EXPECT_THROW(compress_f32(std::vector<float>(6), 1, 6, MetaLayout::rowmajor), std::invalid_argument);       // K % 4
}

TEST(Compress, PyTorchDegenerateEncodings) {
  // PyTorch comment table, flags listed [m0, m1, m2, m3] -> nibble.
  struct Case {
    bool m[4];
    unsigned nibble;
  };
  const Case table[] = {
      {{1, 1, 0, 0}, 0b0100}, {{1, 0, 1, 0}, 0b1000}, {{0, 1, 1, 0}, 0b1001}, {{1, 0, 0, 1}, 0b1100},
      {{0, 1, 0, 1}, 0b1101}, {{0, 0, 1, 1}, 0b1110}, {{0, 0, 0, 0}, 0b1110}, {{0, 0, 0, 1}, 0b1110},
      {{0, 0, 1, 0}, 0b1110}, {{0, 1, 0, 0}, 0b1001}, {{0, 1, 1, 1}, 0b1101}, {{1, 0, 0, 0}, 0b1000},
      {{1, 0, 1, 1}, 0b1100}, {{1, 1, 0, 1}, 0b0100}, {{1, 1, 1, 0}, 0b0100}, {{1, 1, 1, 1}, 0b0100},
  };
  for (const auto& c : table) {
    const unsigned flags = c.m[0] | (c.m[1] << 1) | (c.m[2] << 2) | (c.m[3] << 3);
    EXPECT_EQ(twofour::sim::spec::select_two_of_four(flags).nibble(), c.nibble) << "flags " << flags;
  }
  // In a compressed matrix: all-zero, element-0-only and element-3-only groups of f16.
  std::vector<std::uint16_t> d(32 * 64, 0);
  d[0 * 64 + 4] = 0x3c00;   // group 1: only element 0
  d[0 * 64 + 11] = 0xbc00;  // group 2: only element 3
  const Compressed c = compress(std::as_bytes(std::span(d)), ElementType::f16, 32, 64, MetaLayout::rowmajor);
  std::uint16_t word;
  std::memcpy(&word, c.metadata.data(), 2);
  EXPECT_EQ(word & 0xfu, 0b1110u);
  EXPECT_EQ((word >> 4) & 0xfu, 0b1000u);
  EXPECT_EQ((word >> 8) & 0xfu, 0b1110u);
  std::uint16_t v[6];
  std::memcpy(v, c.values.data(), sizeof v);
  EXPECT_EQ(v[2], 0x3c00u);  // group 1 stores (x, 0): idx0 = 0, idx1 = 2
  EXPECT_EQ(v[3], 0u);
  EXPECT_EQ(v[4], 0u);       // group 2 stores (0, x): idx0 = 2, idx1 = 3
  EXPECT_EQ(v[5], 0xbc00u);
}

TEST(Compress, RejectsInvalidMetadata) {
  std::vector<float> d(32 * 16, 0.0f);
  Compressed c = compress_f32(d, 32, 16, MetaLayout::rowmajor);
  c.metadata[0] = std::byte{0x05};  // nibble 0101: equal indices
  EXPECT_THROW(decompress(c), std::invalid_argument);
  c.metadata[0] = std::byte{0x01};  // descending: idx0 = 1, idx1 = 0
  EXPECT_THROW(decompress(c), std::invalid_argument);
  Compressed t = compress_f32(d, 32, 16, MetaLayout::cutlass);
  t.metadata[0] = std::byte{0x08};  // 1000 is not a 1:2 encoding
  EXPECT_THROW(decompress(t), std::invalid_argument);
  t.values.pop_back();
  EXPECT_THROW(decompress(t), std::invalid_argument);
}

// Logical metadata element (row, col) of a matrix: the nibbles of groups col*P .. col*P+P-1.
std::vector<std::uint32_t> logical_meta(const std::vector<std::byte>& dense, ElementType t, std::size_t rows, std::size_t cols) {
  const int group = group_size(t, MetaLayout::cutlass);
  const std::size_t per = 2 * meta_element_bytes(t, MetaLayout::cutlass);
  const std::size_t mc = cols / (static_cast<std::size_t>(group) * per);
  std::vector<std::uint32_t> out(rows * mc, 0);
  const std::size_t eb = element_bytes(t);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g = 0; g < cols / static_cast<std::size_t>(group); ++g) {
      unsigned flags = 0;
      for (int i = 0; i < group; ++i) {
        bool nz = false;
        for (std::size_t b = 0; b < eb; ++b) nz = nz || dense[(r * cols + g * static_cast<std::size_t>(group) + static_cast<std::size_t>(i)) * eb + b] != std::byte{0};
        flags |= group == 4 ? static_cast<unsigned>(nz) << i : static_cast<unsigned>(nz) * (3u << (2 * i));
      }
      out[r * mc + g / per] |= twofour::sim::spec::select_two_of_four(flags).nibble() << (4 * (g % per));
    }
  return out;
}

TEST(CutlassLayout, EveryBlockOf32WordsIsTheLanesERegisters) {
  const auto seed = twofour::testing::test_seed("CutlassLayout.ERegisters", 9);
  std::mt19937_64 rng(seed);
  for (ElementType t : {ElementType::f16, ElementType::bf16, ElementType::f32, ElementType::s8}) {
    const std::size_t rows = 64, cols = t == ElementType::s8 ? 256 : t == ElementType::f32 ? 64 : 128;
    const auto dense = random_sparse(t, rows, cols, group_size(t, MetaLayout::cutlass), rng);
    const Compressed c = compress(dense, t, rows, cols, MetaLayout::cutlass);
    const auto logical = logical_meta(dense, t, rows, cols);
    const std::size_t mc = meta_cols(t, MetaLayout::cutlass, cols);
    std::vector<std::uint32_t> words(c.metadata.size() / 4);
    std::memcpy(words.data(), c.metadata.data(), c.metadata.size());
    std::size_t blocks = 0;
    if (meta_element_bytes(t, MetaLayout::cutlass) == 2) {
      // 16-bit E (f16/bf16 m16n8k32, tf32 m16n8k16; CUTLASS kMaxID2 = 2): a block covers 32 rows
      // (two m16 tiles, selector f) and one pair p of metadata columns (windows w = 0, 1).
      // Lane 4g+q, q = 2f+w: low half = row 16f+g, high half = row 16f+g+8, window w.
      for (std::size_t p = 0; p < mc / 2; ++p)
        for (std::size_t b = 0; b < rows / 32; ++b, ++blocks)
          for (std::size_t lane = 0; lane < 32; ++lane) {
            const std::size_t g = lane >> 2, q = lane & 3, f = q >> 1, w = q & 1;
            const std::size_t row = 32 * b + 16 * f + g;
            const std::uint32_t e = logical[row * mc + 2 * p + w] | (logical[(row + 8) * mc + 2 * p + w] << 16);
            ASSERT_EQ(words[(p * (rows / 32) + b) * 32 + lane], e) << to_string(t) << " p " << p << " b " << b << " lane " << lane;
          }
    } else {
      // 32-bit E (s8 m16n8k64): one register = one row, 32 dense columns; lane 4g+q holds row
      // g + 8(q&1) of a 16-row tile, window q>>1 of the column pair p.
      for (std::size_t p = 0; p < mc / 2; ++p)
        for (std::size_t b = 0; b < rows / 16; ++b, ++blocks)
          for (std::size_t lane = 0; lane < 32; ++lane) {
            const std::size_t g = lane >> 2, q = lane & 3;
            const std::size_t row = 16 * b + g + 8 * (q & 1);
            ASSERT_EQ(words[(p * (rows / 16) + b) * 32 + lane], logical[row * mc + 2 * p + (q >> 1)])
                << "s8 p " << p << " b " << b << " lane " << lane;
          }
    }
    EXPECT_EQ(blocks * 32, words.size()) << to_string(t);
  }
}

TEST(CutlassLayout, MatchesPyTorchGatherOffsets) {
  // _sparse_semi_structured_to_dense_cutlass: logical (r, c) is read from reordered element
  //   2(c%2) + (c/2)*2M + (r%8)*magic0 + magic1[(r/8)%4] + (r/32)*64,
  // magic0 = 8, magic1 = {0,1,4,5} for int16; magic0 = 4, magic1 = {0,1,32,33} for int32.
  for (std::size_t bytes : {2u, 4u}) {
    const std::size_t rows = 64, mc = 6;
    const std::size_t magic0 = bytes == 2 ? 8 : 4;
    const std::size_t magic1[4] = {0, 1, bytes == 2 ? 4u : 32u, bytes == 2 ? 5u : 33u};
    std::vector<int> hit(rows * mc, 0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < mc; ++c) {
        const std::size_t expect = 2 * (c % 2) + (c / 2) * 2 * rows + (r % 8) * magic0 + magic1[(r / 8) % 4] + (r / 32) * 64;
        ASSERT_EQ(cutlass_meta_index(r, c, rows, bytes), expect) << bytes << " " << r << " " << c;
        ++hit[expect];
      }
    for (int h : hit) EXPECT_EQ(h, 1);  // a bijection
  }
}

TEST(Render, ShowsMaskValuesAndMetadata) {
  const std::vector<float> m = {0.5f, -3.0f, 1.0f, 2.0f, 0.1f, 0.2f, 0.3f, 0.4f};
  const std::string text = render_24(m, 1, 8);
  // Group 0 keeps columns 1 and 3 (idx1:idx0 = 3:1), group 1 columns 2 and 3 (3:2):
  // word = 0b1101 | 0b1110 << 4 = 0x00ed.
  EXPECT_NE(text.find("3:1 3:2"), std::string::npos) << text;
  EXPECT_NE(text.find("0x00ed"), std::string::npos) << text;
  std::printf("%s", text.c_str());
}

}  // namespace
