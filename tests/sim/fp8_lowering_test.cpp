// sm_90 fp8 mma / mma.sp follow the ptxas lowering of docs/isa-findings.md: fp8 -> fp16, two fp16
// instructions (the elements of the low 16-bit register halves with C = 0, then those of the high
// halves, chained), then a round-to-nearest add of C in the D format (FADD or HADD2).
// The oracle here is built from the fp16 instruction rows (run_tile on the sm_90 fp16 rows, with
// the passes cut by hand) plus the compiler's _Float16 conversion and the host's float addition.
// The hardware oracle for the same lowering is in measured_dots_test.cpp (H100 fp8 -> fp16).
#include "twofour/sim/fp8_lowering.hpp"

#include "sim/mma_support.hpp"
#include "sim/support/fp8_lowering_reference.hpp"
#include "support/seed.hpp"
#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/spec/rounding.hpp"
#include "twofour/sim/tile.hpp"
#include "twofour/sim/vectors.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

namespace twofour::sim {
namespace {

using spec::Arch;
using spec::Instruction;

// Warp-level (mma) fp8 rows; the warpgroup (wgmma) rows run natively.
bool is_fp8_row(const Instruction& in) { return in.threads == 32 && (in.a == &spec::e4m3 || in.a == &spec::e5m2); }

// The fp16 row ptxas uses for each pass: HMMA.SP.16832 (sparse) or HMMA.16816 (dense), with the
// fp8 row's D type.
const Instruction& half_row(const Instruction& fp8) {
  if (fp8.is_sparse()) return testing::row_named("SM80_SP_16x8x32_F32F16F16F32_TN");
  return testing::row_named(*fp8.d == spec::fp16 ? "SM80_16x8x16_F16F16F16F16_TN" : "SM80_16x8x16_F32F16F16F32_TN");
}

// D of the fp8 row on sm_90, computed as the lowering says, from the fp16 rows. A register holds
// four consecutive fp8 elements along K (stored elements for mma.sp); ptxas unpacks its low 16 bits
// for the first HMMA and its high 16 bits for the second, so pass p gets the K positions (dense) or
// stored pairs (sparse: one pair = one chunk of four logical K) whose index / 2 has parity p.
Tile lowered_by_hand(const Instruction& fp8, const TileOperands& t, const ExecutionOptions& options) {
  const Instruction& h = half_row(fp8);
  Tile acc(fp8.m, fp8.n);  // C = RZ = +0 for the first pass
  for (int pass = 0; pass < 2; ++pass) {
    TileOperands part;
    part.a = Tile(fp8.m, fp8.is_sparse() ? h.stored_k() : h.k);
    part.b = Tile(h.k, h.n);
    part.c = acc;
    if (fp8.is_sparse()) {
      // Chunk g of the fp8 row (stored values 2g, 2g + 1; B rows 4g .. 4g + 3) for odd/even g.
      for (int g = pass, c2 = 0; g < fp8.chunks_per_row(); g += 2, ++c2) {
        for (int r = 0; r < fp8.m; ++r) {
          for (int v = 0; v < 2; ++v) part.a.at(r, 2 * c2 + v) = testing::host_fp8_to_fp16(*fp8.a, t.a.at(r, 2 * g + v));
        }
        for (int q = 0; q < 4; ++q)
          for (int j = 0; j < h.n; ++j) part.b.at(4 * c2 + q, j) = testing::host_fp8_to_fp16(*fp8.b, t.b.at(4 * g + q, j));
      }
      for (int r = 0; r < fp8.m; ++r)
        for (int g = pass; g < fp8.chunks_per_row(); g += 2)
          part.metadata.push_back(t.metadata[static_cast<std::size_t>(r * fp8.chunks_per_row() + g)]);
    } else {
      int s = 0;
      for (int k = 0; k < fp8.k; ++k) {
        if ((k / 2) % 2 != pass) continue;
        for (int r = 0; r < fp8.m; ++r) part.a.at(r, s) = testing::host_fp8_to_fp16(*fp8.a, t.a.at(r, k));
        for (int j = 0; j < h.n; ++j) part.b.at(s, j) = testing::host_fp8_to_fp16(*fp8.b, t.b.at(k, j));
        ++s;
      }
    }
    acc = run_tile(h, Arch::sm90, part, options).d;
  }
  for (int r = 0; r < fp8.m; ++r)
    for (int j = 0; j < fp8.n; ++j)
      acc.at(r, j) = *fp8.d == spec::fp16 ? testing::host_hadd(acc.at(r, j), t.c.at(r, j)) : testing::host_fadd(acc.at(r, j), t.c.at(r, j));
  return acc;
}

TEST(Fp8Lowering, Sm90RowsAreFp16HalvesThenFloatAddOfC) {
  std::mt19937_64 rng(testing::test_seed("Fp8Lowering.Sm90RowsAreFp16HalvesThenFloatAddOfC", 91));
  int tiles = 0;
  for (const Instruction& in : spec::instruction_table) {
    if (!is_fp8_row(in)) continue;
    EXPECT_EQ(lowering_of(in, Arch::sm90), Lowering::fp8_via_fp16_sm90) << in.name;
    EXPECT_EQ(lowering_of(in, Arch::sm89), Lowering::native) << in.name;
    for (const SparseGrouping grouping : {SparseGrouping::stored_products, SparseGrouping::logical_k}) {
      if (!in.is_sparse() && grouping == SparseGrouping::logical_k) continue;
      ExecutionOptions options;
      options.grouping = grouping;
      for (int rep = 0; rep < 4; ++rep) {
        TileOperands t = random_tile_operands(in, rng);
        if (rep == 3) {  // C of all magnitudes, including ones the tensor-core alignment would truncate
          const std::uint32_t finite_mask = *in.d == spec::fp16 ? 0xbfffu : 0xbfffffffu;
          for (auto& c : t.c.bits) c = static_cast<std::uint32_t>(rng()) & finite_mask;
        }
        ASSERT_EQ(run_tile(in, Arch::sm90, t, options).d, lowered_by_hand(in, t, options))
            << in.name << " grouping " << static_cast<int>(grouping) << " rep " << rep;
        ++tiles;
      }
    }
  }
  EXPECT_GE(tiles, 4 * (8 * 2 + 8));
}

// Which elements share an HMMA decides what the alignment truncates. 16 * 16 at K position 0,
// -16 * 16 at position 2 and 2^-9 * 2^-9 at position 16: positions 0 and 16 sit in low register
// halves (first HMMA), so 2^-18 is aligned against 2^8 and truncated (the fp16 datapath keeps 25
// bits), and position 2 then cancels the 256: D = +0. Cutting K into consecutive halves instead
// would cancel 256 first and keep 2^-18. The same for mma.sp with stored pairs (chunks 0, 1, 8).
TEST(Fp8Lowering, PassesTakeTheLowThenTheHighRegisterHalves) {
  const double big = 16.0, tiny = 0x1p-9;
  for (const char* name : {"SM89_16x8x32_F32E4M3E4M3F32_TN", "SM89_16x8x32_F16E4M3E4M3F16_TN", "SM89_SP_16x8x64_F32E4M3E4M3F32_TN"}) {
    const Instruction& in = testing::row_named(name);
    TileOperands t;
    t.a = Tile(16, in.is_sparse() ? in.stored_k() : in.k);
    t.b = Tile(in.k, 8);
    t.c = Tile(16, 8);
    // Stored value 2g of a sparse row sits at logical K 4g (metadata nibble 0x4: columns 0, 1).
    if (in.is_sparse()) t.metadata.assign(static_cast<std::size_t>(16 * in.chunks_per_row()), 0x4);
    const auto put = [&](int position, double a, double b) {
      const int row_of_b = in.is_sparse() ? 2 * position : position;  // stored 2g -> logical 4g
      t.a.at(0, position) = spec::encode(spec::e4m3, a);
      t.b.at(row_of_b, 0) = spec::encode(spec::e4m3, b);
    };
    put(0, big, big);
    put(2, -big, big);
    put(16, tiny, tiny);
    const Tile d = run_tile(in, Arch::sm90, t).d;
    EXPECT_EQ(d.at(0, 0), spec::zero_bits(*in.d, false)) << name;
    EXPECT_EQ(d, lowered_by_hand(in, t, {})) << name;
    GemmOperands g{t.a, t.metadata, t.b, t.c};
    GemmOptions fast;
    fast.path = GemmPath::fast;
    EXPECT_EQ(run_gemm(in, Arch::sm90, g, fast).d.at(0, 0), spec::zero_bits(*in.d, false)) << name;
  }
}

// A single product 1 * 1 and C = 3 * 2^-25 (0.75 ulp of 1). Through the tensor-core alignment
// (sm_89's native QMMA; also the fp16 datapath if C entered it: F = 25 bits, truncation, RZ) the
// result is 1. Added last by FADD (round to nearest) it is 1 + 2^-23.
TEST(Fp8Lowering, CAddedLastRoundsToNearest) {
  const Instruction& in = testing::row_named("SM89_SP_16x8x64_F32E4M3E4M3F32_TN");
  TileOperands t;
  t.a = Tile(16, 32);
  t.b = Tile(64, 8);
  t.c = Tile(16, 8);
  t.metadata.assign(16 * 16, 0x4);  // stored values at dense cols 4q, 4q+1
  t.a.at(0, 0) = spec::encode(spec::e4m3, 1.0);
  t.b.at(0, 0) = spec::encode(spec::e4m3, 1.0);
  t.c.at(0, 0) = spec::float_bits(0x3p-25f);
  EXPECT_EQ(run_tile(in, Arch::sm90, t).d.at(0, 0), spec::float_bits(1.0f + 0x1p-23f));
  EXPECT_EQ(run_tile(in, Arch::sm89, t).d.at(0, 0), spec::float_bits(1.0f));
  // The same through the fp16 sm_90 datapath with C inside the alignment: truncated to 1.
  const auto fp16_row = *spec::find_datapath(Arch::sm90, spec::fp16, spec::fp16, spec::fp32);
  const std::uint32_t one16 = spec::encode(spec::fp16, 1.0);
  const std::uint32_t a[] = {one16}, b[] = {one16};
  EXPECT_EQ(dot(fp16_row, a, b, spec::float_bits(0x3p-25f)), spec::float_bits(1.0f));
  // Ties go to even: 1 + 2^-24 -> 1, and 1 + 3 * 2^-24 -> 1 + 2^-22.
  t.c.at(0, 0) = spec::float_bits(0x1p-24f);
  EXPECT_EQ(run_tile(in, Arch::sm90, t).d.at(0, 0), spec::float_bits(1.0f));
  t.c.at(0, 0) = spec::float_bits(0x3p-24f);
  EXPECT_EQ(run_tile(in, Arch::sm90, t).d.at(0, 0), spec::float_bits(1.0f + 0x1p-22f));
}

// The products keep the fp16 datapath's 25 alignment bits, not the 13 of the wgmma fp8 model:
// 1 + 2^-18 (e4m3's smallest subnormal, 2^-9, squared) survives on sm_90.
TEST(Fp8Lowering, ProductsUseTheFp16Precision) {
  const Instruction& in = testing::row_named("SM89_16x8x32_F32E4M3E4M3F32_TN");
  TileOperands t;
  t.a = Tile(16, 32);
  t.b = Tile(32, 8);
  t.c = Tile(16, 8);
  t.a.at(0, 0) = spec::encode(spec::e4m3, 1.0);
  t.b.at(0, 0) = spec::encode(spec::e4m3, 1.0);
  t.a.at(0, 1) = spec::encode(spec::e4m3, 0x1p-9);
  t.b.at(1, 0) = spec::encode(spec::e4m3, 0x1p-9);
  EXPECT_EQ(run_tile(in, Arch::sm90, t).d.at(0, 0), spec::float_bits(1.0f + 0x1p-18f));
  EXPECT_EQ(run_tile(in, Arch::sm89, t).d.at(0, 0), spec::float_bits(1.0f));  // Ada: 13 fraction bits
}

// Specials: NaN inputs, e5m2 infinities of both signs, and an infinite C all give what the
// composite of fp16 HMMA and FADD gives.
TEST(Fp8Lowering, SpecialsFollowTheComposite) {
  const Instruction& in = testing::row_named("SM89_16x8x32_F32E5M2E5M2F32_TN");
  TileOperands t;
  t.a = Tile(16, 32);
  t.b = Tile(32, 8);
  t.c = Tile(16, 8);
  const std::uint32_t inf = spec::infinity_bits(spec::e5m2, false), one = spec::encode(spec::e5m2, 1.0);
  t.a.at(0, 0) = inf;  // row 0: +Inf * 1 in the first half
  t.b.at(0, 0) = one;
  t.b.at(0, 1) = one;
  t.a.at(1, 0) = inf;  // row 1: +Inf (first half) and -Inf (second half): NaN
  t.a.at(1, 20) = spec::infinity_bits(spec::e5m2, true);
  t.b.at(20, 0) = one;
  t.c.at(0, 1) = spec::infinity_bits(spec::fp32, true);  // (0,1): +Inf products + -Inf C: NaN by FADD
  t.c.at(2, 0) = spec::infinity_bits(spec::fp32, true);  // (2,0): finite products + -Inf C
  const Tile d = run_tile(in, Arch::sm90, t).d;
  EXPECT_EQ(d.at(0, 0), spec::infinity_bits(spec::fp32, false));
  EXPECT_EQ(d.at(1, 0), spec::fp32.canonical_nan);
  EXPECT_EQ(d.at(0, 1), spec::fp32.canonical_nan);
  EXPECT_EQ(d.at(2, 0), spec::infinity_bits(spec::fp32, true));
  EXPECT_EQ(d, lowered_by_hand(in, t, {}));
}

TEST(Fp8Lowering, ConversionIsExactForEveryPattern) {
  for (const spec::FormatSpec* f : {&spec::e4m3, &spec::e5m2}) {
    for (std::uint32_t b = 0; b < 256; ++b) {
      const std::uint32_t h = fp8_to_fp16(*f, b);
      if (spec::is_nan(*f, b)) {
        EXPECT_TRUE(spec::is_nan(spec::fp16, h)) << f->name << " " << b;
        continue;
      }
      EXPECT_EQ(h, testing::host_fp8_to_fp16(*f, b)) << f->name << " " << b;
      if (*f == spec::e5m2) {
        EXPECT_EQ(h, b << 8) << b;  // e5m2 is fp16's upper byte
      }
    }
  }
  EXPECT_THROW((void)fp8_to_fp16(spec::fp16, 0), std::invalid_argument);
}

TEST(Fp8Lowering, FloatAddMatchesHostAddition) {
  std::mt19937_64 rng(testing::test_seed("Fp8Lowering.FloatAddMatchesHostAddition", 92));
  const std::uint32_t edge[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x80000001u, 0x007fffffu, 0x00800000u,
                                0x7f7fffffu, 0xff7fffffu, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x3f800000u,
                                0xbf800000u, 0x33800000u, 0x34000000u, 0x7f000000u};
  for (std::uint32_t x : edge)
    for (std::uint32_t y : edge) ASSERT_EQ(fp32_add_rn(x, y), testing::host_fadd(x, y)) << std::hex << x << " " << y;
  for (int i = 0; i < 200000; ++i) {
    const auto x = static_cast<std::uint32_t>(rng());
    // y near x's magnitude (cancellation, ties) half of the time, anything otherwise.
    const std::uint32_t y = (i & 1) != 0 ? (x ^ 0x80000000u) + static_cast<std::uint32_t>(rng() % 64) - 32u
                                         : static_cast<std::uint32_t>(rng());
    ASSERT_EQ(fp32_add_rn(x, y), testing::host_fadd(x, y)) << std::hex << x << " " << y;
  }
}

// The GEMM fast path runs the lowering too (its generic chain is run_tile): sparse and dense,
// fp32 and fp16 D. The fast path reorders each k-step's elements into pass order, so a wrong
// order shows here as well as in the oracle tests above.
TEST(Fp8Lowering, GemmFastPathMatchesGenericChain) {
  std::mt19937_64 rng(testing::test_seed("Fp8Lowering.GemmFastPathMatchesGenericChain", 93));
  for (const char* name : {"SM89_SP_16x8x64_F32E5M2E4M3F32_TN", "SM89_16x8x32_F32E4M3E5M2F32_TN", "SM89_16x8x32_F16E5M2E5M2F16_TN"}) {
    const Instruction& in = testing::row_named(name);
    GemmOperands g;
    g.a = Tile(32, 2 * (in.is_sparse() ? in.stored_k() : in.k));
    g.b = Tile(2 * in.k, 16);
    g.c = Tile(32, 16);
    for (auto& v : g.a.bits) v = random_element(*in.a, rng);
    for (auto& v : g.b.bits) v = random_element(*in.b, rng);
    const std::uint32_t finite_mask = *in.d == spec::fp16 ? 0xbfffu : 0xbfffffffu;
    for (auto& v : g.c.bits) v = static_cast<std::uint32_t>(rng()) & finite_mask;
    if (in.is_sparse()) {
      g.metadata.resize(static_cast<std::size_t>(32 * 2 * in.chunks_per_row()));
      for (auto& v : g.metadata) v = random_nibble(in, rng);
    }
    for (const SparseGrouping grouping : {SparseGrouping::stored_products, SparseGrouping::logical_k}) {
      if (!in.is_sparse() && grouping == SparseGrouping::logical_k) continue;
      GemmOptions fast, generic;
      fast.path = GemmPath::fast;
      generic.path = GemmPath::generic;
      fast.execution.grouping = generic.execution.grouping = grouping;
      EXPECT_EQ(run_gemm(in, Arch::sm90, g, fast).d, run_gemm(in, Arch::sm90, g, generic).d) << name;
    }
  }
}

}  // namespace
}  // namespace twofour::sim
