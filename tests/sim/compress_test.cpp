// compress_a: the inverse of decompress_a (the simulator's own decoder of stored A + metadata is the
// oracle), with the metadata every 2:4 row accepts, and clear errors for matrices that are not 2:4.
#include "twofour/sim/compress.hpp"

#include "support/seed.hpp"
#include "twofour/sim/spec/metadata.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <gtest/gtest.h>

#include <random>

namespace twofour::sim {
namespace {

// A 16 x 32 fp16 matrix whose chunks hold 0, 1 or 2 non-zeros at random positions, some with a -0
// in a zero slot that compress_a stores.
Tile random_24_fp16(std::mt19937_64& rng) {
  Tile t(16, 32);
  std::uniform_int_distribution<std::uint32_t> bits(1, 0x7bffu), count(0, 2), pos(0, 3), coin(0, 1);
  for (int r = 0; r < 16; ++r)
    for (int chunk = 0; chunk < 8; ++chunk) {
      const auto n = count(rng);
      int placed = 0;
      while (placed < static_cast<int>(n)) {
        const int i = static_cast<int>(pos(rng));
        if (t.at(r, 4 * chunk + i) != 0) continue;
        t.at(r, 4 * chunk + i) = bits(rng) | (coin(rng) << 15);
        ++placed;
      }
      // A -0 in a zero slot that compress_a stores must survive: PyTorch's choice for groups
      // with one non-zero at element 0 (0, 2), 1 (1, 2) or 2, 3 (2, 3), and (2, 3) for none.
      if (n < 2 && coin(rng)) {
        unsigned flags = 0;
        for (int i = 0; i < 4; ++i) flags |= static_cast<unsigned>(t.at(r, 4 * chunk + i) != 0) << i;
        const int stored_zero = flags == 0 ? 3 : flags == 0b0100u ? 3 : 2;
        t.at(r, 4 * chunk + stored_zero) = 0x8000u;
      }
    }
  return t;
}

TEST(SimCompress, DecompressGivesBackEveryElement) {
  const auto* instr = spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN");
  ASSERT_NE(instr, nullptr);
  std::mt19937_64 rng(testing::test_seed("SimCompress", 71));
  for (int trial = 0; trial < 200; ++trial) {
    const Tile dense = random_24_fp16(rng);
    const CompressedA c = compress_a(*instr, dense);
    ASSERT_EQ(c.values.rows, 16);
    ASSERT_EQ(c.values.cols, 16);
    ASSERT_EQ(c.metadata.size(), 16u * 8u);
    for (const auto nibble : c.metadata) {
      // Ascending pairs: valid under plain mma.sp and ::ordered_metadata alike.
      EXPECT_EQ(spec::decode_nibble(*instr, nibble).status, spec::NibbleStatus::ok) << int{nibble};
    }
    EXPECT_EQ(decompress_a(*instr, c.values, c.metadata), dense);
  }
}

TEST(SimCompress, DroppedNegativeZeroComesBackPositive) {
  const auto* instr = spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN");
  Tile dense(16, 32);
  dense.at(3, 4) = 0x3c00u;  // 1.0
  dense.at(3, 5) = 0x8000u;  // -0
  dense.at(3, 7) = 0xbc00u;  // -1.0
  const CompressedA c = compress_a(*instr, dense);
  EXPECT_EQ(c.metadata[3 * 8 + 1], 0xcu);  // idx0 = 0, idx1 = 3
  Tile expected = dense;
  expected.at(3, 5) = 0;
  EXPECT_EQ(decompress_a(*instr, c.values, c.metadata), expected);
}

TEST(SimCompress, IntegerRowsCountOnlyZeroAsZero) {
  const auto* instr = spec::find_instruction("SM80_SP_16x8x64_S32S8S8S32_TN");
  ASSERT_NE(instr, nullptr);
  Tile dense(16, 64);
  dense.at(0, 1) = 0x80u;  // -128, not a zero
  dense.at(0, 2) = 0x01u;
  const CompressedA c = compress_a(*instr, dense);
  EXPECT_EQ(c.metadata[0], 1u | (2u << 2));
  EXPECT_EQ(decompress_a(*instr, c.values, c.metadata), dense);
}

TEST(SimCompress, RejectsWhatIsNot24) {
  const auto* instr = spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN");
  Tile dense(16, 32);
  dense.at(5, 8) = dense.at(5, 9) = dense.at(5, 11) = 0x3c00u;
  try {
    (void)compress_a(*instr, dense);
    FAIL() << "three non-zeros in a chunk were accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("row 5, chunk 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)compress_a(*instr, Tile(16, 30)), std::invalid_argument);
  EXPECT_THROW((void)compress_a(*spec::find_instruction("SM80_SP_16x8x8_F32TF32TF32F32_TN"), Tile(16, 8)),
               std::invalid_argument);
  EXPECT_THROW((void)compress_a(*spec::find_instruction("SM80_16x8x16_F32F16F16F32_TN"), Tile(16, 16)),
               std::invalid_argument);
}

}  // namespace
}  // namespace twofour::sim
