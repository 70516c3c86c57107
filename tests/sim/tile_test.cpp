// Tile level: sparse vs the dense twin on the decompressed A, and the grouping switch.
#include "twofour/sim/tile.hpp"

#include "sim/mma_support.hpp"
#include "support/seed.hpp"
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/vectors.hpp"

#include <gtest/gtest.h>

#include <random>

namespace twofour::sim {
namespace {

using spec::Arch;
using spec::Instruction;

Tile dense_twin_result(const Instruction& sparse, Arch arch, const TileOperands& t) {
  const Instruction* twin = testing::dense_twin(sparse);
  if (twin == nullptr) throw std::runtime_error("no dense twin");
  GemmOperands g;
  g.a = decompress_a(sparse, t.a, t.metadata);
  g.b = t.b;
  g.c = t.c;
  GemmOptions o;
  o.path = GemmPath::generic;
  o.threads = 1;
  return run_gemm(*twin, arch, g, o).d;  // K / twin.k chained dense instructions
}

// Where the grouping makes them equal, mma.sp equals the dense twin on the decompressed A:
// always under logical_k, and under the default stored_products when all of K fits in one
// datapath block or the row is integer (exact sums).
TEST(Tile, SparseEqualsDenseTwinWhereGroupingAgrees) {
  std::mt19937_64 rng(testing::test_seed("Tile.SparseEqualsDenseTwinWhereGroupingAgrees", 21));
  int logical = 0, stored = 0;
  for (Arch arch : testing::kArchs) {
    for (const Instruction* in : testing::rows_on(arch)) {
      if (!in->is_sparse()) continue;
      const InstructionDatapath dp(*in, arch);
      // Lowered rows add C once per instruction (fp8_lowering.hpp), so K/twin.k chained dense
      // instructions round C in differently: no twin identity to test (fp8_lowering_test.cpp).
      if (dp.lowering() != Lowering::native) continue;
      const bool one_block = dp.is_integer() || in->k <= dp.spec().block_size;
      for (int rep = 0; rep < 3; ++rep) {
        const TileOperands t = random_tile_operands(*in, rng);
        const Tile twin = dense_twin_result(*in, arch, t);
        ExecutionOptions lk;
        lk.grouping = SparseGrouping::logical_k;
        ASSERT_EQ(run_tile(*in, arch, t, lk).d, twin) << in->name << " " << spec::arch_name(arch);
        ++logical;
        if (one_block) {
          ASSERT_EQ(run_tile(*in, arch, t).d, twin) << in->name << " " << spec::arch_name(arch);
          ++stored;
        }
      }
    }
  }
  EXPECT_GT(logical, 200);
  EXPECT_GT(stored, 100);
}

// The two groupings are distinguishable where they should be: sm_80 f16 m16n8k16 (n = 8, F = 24
// bits, RZ). Four products of 2^-25 (stored values 0..3, dense cols 0,1,4,5) and one of 1 (stored
// value 4, dense col 8). One block of 8 stored products aligns the small terms to 1 and truncates
// them away: D = 1. Logical blocks of 8 dense columns sum the small ones first (2^-23 exactly),
// then add 1 in the second block: D = 1 + 2^-23.
TEST(Tile, GroupingsDifferOnDiscriminatingInput) {
  const Instruction& in = testing::row_named("SM80_SP_16x8x16_F32F16F16F32_TN");
  TileOperands t;
  t.a = Tile(16, 8);
  t.b = Tile(16, 8);
  t.c = Tile(16, 8);
  t.metadata.assign(16 * 4, 0x4);  // stored values at dense cols 4q, 4q+1
  const int dense_col[] = {0, 1, 4, 5};
  for (int s = 0; s < 4; ++s) {
    t.a.at(0, s) = spec::encode(spec::fp16, 0x1p-13);
    t.b.at(dense_col[s], 0) = spec::encode(spec::fp16, 0x1p-12);
  }
  t.a.at(0, 4) = spec::encode(spec::fp16, 1.0);
  t.b.at(8, 0) = spec::encode(spec::fp16, 1.0);
  ExecutionOptions lk;
  lk.grouping = SparseGrouping::logical_k;
  EXPECT_EQ(run_tile(in, Arch::sm80, t).d.at(0, 0), spec::float_bits(1.0f));
  EXPECT_EQ(run_tile(in, Arch::sm80, t, lk).d.at(0, 0), spec::float_bits(1.0f + 0x1p-23f));
}

TEST(Tile, DecompressPlacesStoredValues) {
  const Instruction& in = testing::row_named("SM80_SP_16x8x64_S32S4S4S32_TN");
  std::mt19937_64 rng(testing::test_seed("Tile.DecompressPlacesStoredValues", 22));
  const TileOperands t = random_tile_operands(in, rng);
  const Tile d = decompress_a(in, t.a, t.metadata);
  for (int r = 0; r < 16; ++r) {
    int s = 0;
    for (int ch = 0; ch < in.chunks_per_row(); ++ch) {
      const unsigned nib = t.metadata[static_cast<std::size_t>(r * in.chunks_per_row() + ch)];
      for (unsigned pair : {nib & 3u, nib >> 2})
        for (unsigned v = 0; v < 2; ++v) EXPECT_EQ(d.at(r, ch * 8 + static_cast<int>(2 * pair + v)), t.a.at(r, s++));
    }
  }
}

TEST(Tile, RejectsBadShapesAndMetadata) {
  const Instruction& in = testing::row_named("SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN");
  std::mt19937_64 rng(twofour::testing::test_seed("Tile.RejectsBadShapesAndMetadata", 23));
  TileOperands t = random_tile_operands(in, rng);
  TileOperands bad = t;
  bad.b = Tile(16, 8);
  EXPECT_THROW((void)run_tile(in, Arch::sm80, bad), std::invalid_argument);
  bad = t;
  bad.metadata[5] = 0x1;  // descending: UB under ::ordered_metadata
  try {
    (void)run_tile(in, Arch::sm80, bad);
    ADD_FAILURE() << "ran";
  } catch (const MetadataError& e) {
    EXPECT_NE(std::string(e.what()).find("A row 0, chunk 5"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace twofour::sim
