// The sm_89 fp8 instruction rows (dense mma.sync m16n8k32 .f32 / .f16 and mma.sp m16n8k64 .f32,
// every e4m3 / e5m2 combination) run the datapath that `twofour verify-dots` replays Ada's
// measured dot products through. Oracle: the Ada GPU's own outputs (tests/data/tensor-core-hw/Ada,
// mma.sync m16n8k32, native QMMA) for the rows with one input format; the sm_89 datapath row on
// the same products for the mixed rows, which have no measured data.
// The sparse rows are put to the same products (the 32 stored values of A's row 0, each meeting
// the B row its metadata names): that mma.sp's QMMA.SP has QMMA's datapath over the stored
// products is inferred [I], as for every sparse row (tile.hpp, SparseGrouping).
#include "mma_support.hpp"
#include "support/paths.hpp"
#include "support/seed.hpp"
#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/measured_dots.hpp"
#include "twofour/sim/tile.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

namespace twofour::sim {
namespace {

const std::filesystem::path kData = std::filesystem::path(twofour::testing::test_data_dir()) / "tensor-core-hw";

bool is_fp8(const spec::FormatSpec& f) { return f == spec::e4m3 || f == spec::e5m2; }

// D(0, 0) of `instr` on sm_89 with A's row 0 and B's column 0 holding the K products of one dot
// (a, b: fp8 patterns in K order; sparse rows: the stored order, metadata picking ascending pairs
// at random) and C(0, 0) = c; every other element zero.
std::uint32_t row_zero_dot(const spec::Instruction& instr, const std::vector<std::uint32_t>& a,
                           const std::vector<std::uint32_t>& b, std::uint32_t c, std::mt19937_64& rng) {
  TileOperands t;
  const int a_cols = instr.is_sparse() ? instr.stored_k() : instr.k;
  t.a = Tile(instr.m, a_cols);
  t.b = Tile(instr.k, instr.n);
  t.c = Tile(instr.m, instr.n);
  t.c.at(0, 0) = c;
  for (int j = 0; j < a_cols; ++j) t.a.at(0, j) = a[static_cast<std::size_t>(j)];
  if (!instr.is_sparse()) {
    for (int k = 0; k < instr.k; ++k) t.b.at(k, 0) = b[static_cast<std::size_t>(k)];
  } else {
    const int chunks = instr.chunks_per_row();
    t.metadata.assign(static_cast<std::size_t>(instr.m * chunks), 0x4);  // (0, 1) elsewhere
    for (int ch = 0; ch < chunks; ++ch) {
      const int i0 = static_cast<int>(rng() % 3);
      const int i1 = i0 + 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(3 - i0));
      t.metadata[static_cast<std::size_t>(ch)] = static_cast<std::uint8_t>(i0 | (i1 << 2));
      t.b.at(4 * ch + i0, 0) = b[static_cast<std::size_t>(2 * ch)];
      t.b.at(4 * ch + i1, 0) = b[static_cast<std::size_t>(2 * ch + 1)];
    }
  }
  return run_tile(instr, spec::Arch::sm89, t).d.at(0, 0);
}

const char* upper_name(const spec::FormatSpec& f) { return f == spec::e4m3 ? "E4M3" : "E5M2"; }

TEST(AdaFp8Rows, AgreeWithTheMeasuredDatapathOnTheSameProducts) {
  std::mt19937_64 rng(twofour::testing::test_seed("AdaFp8Rows", 89));
  const std::size_t limit = twofour::testing::sanitizer_build() ? 200 : 2500;
  int rows = 0;
  for (const spec::Instruction& instr : spec::instruction_table) {
    if (!is_fp8(*instr.a) || !is_fp8(*instr.b) || instr.threads != 32) continue;  // mma rows; wgmma is sm_90a
    ASSERT_EQ(instr.min_arch, spec::Arch::sm89) << instr.name;
    ASSERT_EQ(lowering_of(instr, spec::Arch::sm89), Lowering::native) << instr.name;
    const char* out = *instr.d == spec::fp32 ? "fp32" : "fp16";
    // A's values from the data set of A's format, B's from B's: for mixed rows, products that
    // the GPU never saw together, checked against the sm_89 datapath row instead.
    const MeasuredDots da = read_measured_dots(kData, "Ada", upper_name(*instr.a), out);
    const MeasuredDots db = read_measured_dots(kData, "Ada", upper_name(*instr.b), out);
    const bool measured = *instr.a == *instr.b;
    const auto row = spec::find_datapath(spec::Arch::sm89, *instr.a, *instr.b, *instr.d);
    ASSERT_TRUE(row.has_value()) << instr.name;
    std::size_t agree = 0, cases = 0;
    for (std::size_t i = 0; i < da.cases.size() && i < limit; ++i, ++cases) {
      const std::vector<std::uint32_t>& a = da.cases[i].a;
      const std::vector<std::uint32_t>& b = db.cases[i].b;
      const std::uint32_t c = da.cases[i].c;
      const std::uint32_t want = measured ? da.cases[i].d : dot(*row, a, b, c);
      const std::uint32_t got = row_zero_dot(instr, a, b, c, rng);
      if (got == want) {
        ++agree;
      } else if (cases - agree <= 3) {
        ADD_FAILURE() << instr.name << " case " << i << ": row gives " << got << ", "
                      << (measured ? "the GPU" : "the datapath") << " " << want;
      }
    }
    std::printf("[ sm89 fp8 ] %s: %zu of %zu agree with %s\n", std::string(instr.name).c_str(), agree, cases,
                measured ? "the Ada GPU" : "the sm89 datapath row");
    EXPECT_EQ(agree, cases) << instr.name;
    ++rows;
  }
  EXPECT_EQ(rows, 16);  // 4 dense .f32, 4 dense .f16, 8 sparse .f32 (plain and ordered metadata)
}

}  // namespace
}  // namespace twofour::sim
