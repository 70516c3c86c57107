// Discriminating test vectors for the block-FMA datapath, at the block sizes of sm_80 (n = 8) and
// sm_90 (n = 16). Oracles, named per test: [FHMP] Fasi, Higham, Mikaitis, Pranesh, "Numerical
// behavior of NVIDIA tensor cores" (PeerJ CS 2021), tc_test_numerics-*.cu vectors, as listed with
// their expected outputs in docs/ptx-facts.md; [K&M] the published block-FMA model (arXiv 2512.07004),
// expected values worked out by hand in the comments; [PTX] the PTX ISA (integer mma: .satfinite
// clamps, otherwise wraps).
#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/describe.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace twofour::sim {
namespace {

using spec::Arch;

constexpr double p2(int e) { return e >= 0 ? static_cast<double>(1ull << e) : 1.0 / static_cast<double>(1ull << -e); }
double pow2(int e) { return std::ldexp(1.0, e); }

struct Row {
  Arch arch;
  int n;
};
constexpr Row kRows[] = {{Arch::sm80, 8}, {Arch::sm90, 16}};

class Vectors : public ::testing::TestWithParam<Row> {
 protected:
  spec::DatapathSpec row(const spec::FormatSpec& in, const spec::FormatSpec& out) const {
    const auto s = spec::find_datapath(GetParam().arch, in, in, out);
    EXPECT_TRUE(s.has_value());
    return *s;
  }
  // D as a double for products a[i]*b[i] (padded with zeros to one block) and c.
  static double run(const spec::DatapathSpec& s, std::vector<double> a, std::vector<double> b, double c) {
    const std::size_t n = static_cast<std::size_t>(s.block_size);
    if (a.size() < n) {
      a.resize(n, 0.0);
      b.resize(n, 0.0);
    }
    std::vector<std::uint32_t> ab, bb;
    for (double x : a) ab.push_back(spec::encode(*s.a_format, x));
    for (double x : b) bb.push_back(spec::encode(*s.b_format, x));
    for (std::size_t i = 0; i < a.size(); ++i) {  // the vectors must be exact inputs
      EXPECT_EQ(spec::decode_to_double(*s.a_format, ab[i]), a[i]);
      EXPECT_EQ(spec::decode_to_double(*s.b_format, bb[i]), b[i]);
    }
    const std::uint32_t cb = spec::encode(*s.out_format, c);
    EXPECT_EQ(spec::decode_to_double(*s.out_format, cb), c);
    return spec::decode_to_double(*s.out_format, dot(s, ab, bb, cb));
  }
};

// [FHMP] exact products: a = b = 1 - 2^-11 gives 1 - 2^-10 + 2^-22.
TEST_P(Vectors, ExactProducts) {
  const auto s = row(spec::fp16, spec::fp32);
  const double x = 1 - pow2(-11);
  EXPECT_EQ(run(s, {x}, {x}, 0), 1 - pow2(-10) + pow2(-22));
}

// [FHMP] subnormal input: 2^-24 * 4 = 2^-22.
TEST_P(Vectors, SubnormalInput) { EXPECT_EQ(run(row(spec::fp16, spec::fp32), {pow2(-24)}, {4}, 0), pow2(-22)); }

// [FHMP] a subnormal c is kept: zero products, c = 2^-149 gives c.
TEST_P(Vectors, SubnormalCKept) { EXPECT_EQ(run(row(spec::fp16, spec::fp32), {0}, {0}, pow2(-149)), pow2(-149)); }

// [FHMP] alignment bit: 1*1 + c, c = -(1 - 2^-24), gives 2^-24 only with neab >= 1 (both rows);
// [K&M] with neab = 0 the truncated c is -(1 - 2^-23), so 2^-23.
TEST_P(Vectors, ExtraAlignmentBit) {
  auto s = row(spec::fp16, spec::fp32);
  EXPECT_EQ(run(s, {1}, {1}, -(1 - pow2(-24))), pow2(-24));
  s.neab = 0;
  EXPECT_EQ(run(s, {1}, {1}, -(1 - pow2(-24))), pow2(-23));
}

// [FHMP] truncation: 1*2 + 1*(2^-23 + 2^-24) gives 2, and -2 for the negated products.
TEST_P(Vectors, TruncationTowardZero) {
  const auto s = row(spec::fp16, spec::fp32);
  EXPECT_EQ(run(s, {1, 1}, {2, pow2(-23) + pow2(-24)}, 0), 2);
  EXPECT_EQ(run(s, {-1, -1}, {2, pow2(-23) + pow2(-24)}, 0), -2);
}

// [FHMP] fp16 output rounds to nearest even: 2^-24*2^-1 + 2^-24*2^-2 = 0.75 * 2^-24 gives 2^-24.
TEST_P(Vectors, Fp16OutputRoundsToNearestEven) {
  EXPECT_EQ(run(row(spec::fp16, spec::fp16), {pow2(-24), pow2(-24)}, {0.5, 0.25}, 0), pow2(-24));
}

// [FHMP] carry bits: 1*{1, 1.5, 1.75, 1.875} + 1.875 = 8 exactly; and
// c = 1 + 2^-22 + 2^-23 with three 1*1 and one 1*2^-23 gives 4 + 2^-21.
TEST_P(Vectors, CarryBits) {
  const auto s = row(spec::fp16, spec::fp32);
  EXPECT_EQ(run(s, {1, 1, 1, 1}, {1, 1.5, 1.75, 1.875}, 1.875), 8);
  EXPECT_EQ(run(s, {1, 1, 1, 1}, {1, 1, 1, pow2(-23)}, 1 + pow2(-22) + pow2(-23)), 4 + pow2(-21));
}

// [FHMP] normalisation: 4 * (1*2^-24) + (1 - 2^-24) gives 1 + 2^-23; 1 - 2^-24 - 1 + 2^-24 gives 0.
TEST_P(Vectors, Normalisation) {
  const auto s = row(spec::fp16, spec::fp32);
  const double t = pow2(-24);
  EXPECT_EQ(run(s, {1, 1, 1, 1}, {t, t, t, t}, 1 - t), 1 + pow2(-23));
  const double z = run(s, {1, 1}, {1, -t}, -1 + t);
  EXPECT_EQ(z, 0);
  EXPECT_FALSE(std::signbit(z));  // [K&M] a zero sum is +0
}

// [FHMP] non-monotonic: three 0.5*2^-24 and one 0.5*(2^-23 + 2^-24); c = 1 gives less than
// c = 1 - 2^-24 ([K&M] by hand with F = 24: 1 and 1 + 2^-23). With F = 25 (sm_90) that vector is
// monotone, so [K&M] the same construction scaled to the block: n - 2 products of 2^-(F+1) vanish
// under truncation when c = 1 (E = 0) but survive when c = 1 - 2^-24 (E = -1), giving 1 + 2^-23.
TEST_P(Vectors, NonMonotonic) {
  const auto s = row(spec::fp16, spec::fp32);
  const double t = pow2(-24);
  if (s.neab == 1) {
    const std::vector<double> a = {0.5, 0.5, 0.5, 0.5}, b = {t, t, t, pow2(-23) + t};
    EXPECT_EQ(run(s, a, b, 1 - t), 1 + pow2(-23));
    EXPECT_EQ(run(s, a, b, 1), 1);
  }
  const std::size_t m = static_cast<std::size_t>(s.block_size) - 2;
  const std::vector<double> a(m, t), b(m, pow2(23 - s.fraction_bits()));
  const double hi = run(s, a, b, 1 - t), lo = run(s, a, b, 1);
  EXPECT_LT(lo, hi);
  EXPECT_EQ(hi, 1 + pow2(-23));
  EXPECT_EQ(lo, 1);
}

// [K&M] block size: two 2^-24 products next to 1*1 in the same block give 1 + 2^-23; when the
// second one sits at k = 8 it is in a later block on sm_80 (1 + 2^-24 truncates to 1 twice)
// but in the same block on sm_90.
TEST_P(Vectors, BlockSizeDecidesWhatTruncates) {
  const auto s = row(spec::fp16, spec::fp32);
  std::vector<double> a(16, 0.0), b(16, 1.0);
  a[0] = 1;
  a[1] = pow2(-24);
  a[2] = pow2(-24);
  EXPECT_EQ(run(s, a, b, 0), 1 + pow2(-23));
  a[2] = 0;
  a[8] = pow2(-24);
  EXPECT_EQ(run(s, a, b, 0), GetParam().n == 8 ? 1.0 : 1 + pow2(-23));
}

// [K&M] min_exp_limit: with bf16, 2^-140 - 2^-160 aligns to E = -132 (sm_80) / -133 (sm_90),
// where 2^-160 falls below the 2^-(E+F) lsb and is lost: 2^-140 exactly. Without the limit the
// RZ result would be 2^-140 - 2^-149.
TEST_P(Vectors, MinimumAlignmentExponent) {
  auto s = row(spec::bf16, spec::fp32);
  EXPECT_EQ(run(s, {pow2(-70), pow2(-80)}, {pow2(-70), -pow2(-80)}, 0), pow2(-140));
  s.min_exp_limit = -1000;
  EXPECT_EQ(run(s, {pow2(-70), pow2(-80)}, {pow2(-70), -pow2(-80)}, 0), pow2(-140) - pow2(-149));
}

// [K&M] signed zeros: -0 * 1 + (-0) gives +0 (zero products drop out; a zero sum is +0).
// [I] on hardware: IEEE addition would give -0.
TEST_P(Vectors, NegativeZeroPlusNegativeZero) {
  const double z = run(row(spec::fp16, spec::fp32), {-0.0}, {1}, -0.0);
  EXPECT_EQ(z, 0);
  EXPECT_FALSE(std::signbit(z));
}

// [K&M] overflow: an exponent overflow gives +-Inf even under RZ (K&M GEMM.m: dexp all ones ->
// Inf); IEEE RZ would give FLT_MAX. bf16 products beyond the fp32 range are kept exactly
// (prd_limit = 0), so 2^129 - 2^129 + 1 cancels to 1 truncated away: +0.
TEST_P(Vectors, OverflowUnderTruncation) {
  const auto s = row(spec::bf16, spec::fp32);
  EXPECT_EQ(run(s, {pow2(127)}, {4}, 0), HUGE_VAL);
  EXPECT_EQ(run(s, {-pow2(127)}, {4}, 0), -HUGE_VAL);
  EXPECT_EQ(run(s, {pow2(127), -pow2(127)}, {4, 4}, 0), 0);  // exact cancellation
  EXPECT_EQ(run(s, {pow2(127), -pow2(127), 1}, {4, 4, 1}, 0), 0);  // 1 is below the lsb 2^(129-24)
  EXPECT_EQ(run(row(spec::fp16, spec::fp16), {256}, {256}, 0), HUGE_VAL);  // RNE: 65536 > 65504
}

// Subnormal results: fp32 (2^-140 and its RZ neighbours) and fp16 (2^-24 * 0.5 rounds to even 0).
TEST_P(Vectors, SubnormalResults) {
  EXPECT_EQ(run(row(spec::bf16, spec::fp32), {pow2(-70)}, {pow2(-70) * 1.5}, 0), 1.5 * pow2(-140));
  EXPECT_EQ(run(row(spec::fp16, spec::fp16), {pow2(-24)}, {0.5}, 0), 0);          // tie -> even (0)
  EXPECT_EQ(run(row(spec::fp16, spec::fp16), {pow2(-24)}, {1.5}, 0), pow2(-23));  // tie -> even (2)
}

// [K&M] NaN/Inf over the whole row (docs/datapath.md §Model step 1); the NaN is the canonical one.
TEST_P(Vectors, SpecialsOverTheWholeRow) {
  const auto s = row(spec::fp16, spec::fp32);
  const std::uint32_t one = 0x3c00, inf = 0x7c00, ninf = 0xfc00, nan = 0x7e00, zero = 0;
  const std::size_t k = 2 * static_cast<std::size_t>(s.block_size);
  auto go = [&](std::size_t i, std::uint32_t ai, std::uint32_t bi, std::uint32_t c) {
    std::vector<std::uint32_t> a(k, one), b(k, one);
    a[i] = ai;
    b[i] = bi;
    return dot(s, a, b, c);
  };
  EXPECT_EQ(go(k - 1, inf, zero, 0), 0x7fffffffu);  // Inf * 0, in the last block
  EXPECT_EQ(go(0, nan, one, 0), 0x7fffffffu);
  EXPECT_EQ(go(3, inf, one, 0), 0x7f800000u);
  EXPECT_EQ(go(3, inf, 0xbc00, 0), 0xff800000u);        // Inf * -1
  EXPECT_EQ(go(3, inf, one, 0xff800000u), 0x7fffffffu);  // +Inf product, -Inf c
  EXPECT_EQ(go(3, ninf, one, 0xff800000u), 0xff800000u);
  EXPECT_EQ(go(3, one, one, 0x7fc00001u), 0x7fffffffu);  // NaN c
  // E4M3 has no infinity: 0x7e = 448 is finite, 0x7f is NaN.
  const auto f8 = *spec::find_datapath(GetParam().arch == Arch::sm80 ? Arch::sm89 : Arch::sm90, spec::e4m3, spec::e4m3, spec::fp32);
  std::vector<std::uint32_t> a8(4, 0x38), b8 = {0x7e, 0x38, 0x38, 0x38};
  EXPECT_EQ(spec::decode_to_double(spec::fp32, dot(f8, a8, b8, 0)), 448 + 3.0);
  b8[1] = 0x7f;
  EXPECT_EQ(dot(f8, a8, b8, 0), 0x7fffffffu);
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, Vectors, ::testing::ValuesIn(kRows),
                         [](const auto& param_info) { return std::string(spec::arch_name(param_info.param.arch)); });

// [PTX] integer mma: the exact sum wraps modulo 2^32; .satfinite clamps to the s32 range.
TEST(IntegerDatapath, WrapVersusSaturateAtTheLimits) {
  const auto wrap = *spec::find_datapath(Arch::sm80, spec::s8, spec::s8, spec::s32, false);
  const auto sat = *spec::find_datapath(Arch::sm80, spec::s8, spec::s8, spec::s32, true);
  const std::vector<std::uint32_t> one = {1}, minus_one = {0xff};
  EXPECT_EQ(dot_int(wrap, one, one, 0x7fffffffu), 0x80000000u);
  EXPECT_EQ(dot_int(sat, one, one, 0x7fffffffu), 0x7fffffffu);
  EXPECT_EQ(dot_int(wrap, minus_one, one, 0x80000000u), 0x7fffffffu);
  EXPECT_EQ(dot_int(sat, minus_one, one, 0x80000000u), 0x80000000u);
  // -128 * -128 * 32 = 2^19, exact; s4: -8 * -8 = 64; u8 x s8 mixed; u4 255 -> 15 (4 bits).
  const std::vector<std::uint32_t> m128(32, 0x80);
  EXPECT_EQ(dot_int(wrap, m128, m128, 0), 1u << 19);
  const auto s4 = *spec::find_datapath(Arch::sm80, spec::s4, spec::s4, spec::s32);
  EXPECT_EQ(dot_int(s4, std::vector<std::uint32_t>{8}, std::vector<std::uint32_t>{8}, 0), 64u);
  const auto us = *spec::find_datapath(Arch::sm90, spec::u8, spec::s8, spec::s32);
  EXPECT_EQ(dot_int(us, std::vector<std::uint32_t>{255}, std::vector<std::uint32_t>{0xff}, 0), static_cast<std::uint32_t>(-255));
  const auto u4 = *spec::find_datapath(Arch::sm80, spec::u4, spec::u4, spec::s32);
  EXPECT_EQ(dot_int(u4, std::vector<std::uint32_t>{0xff}, std::vector<std::uint32_t>{15}, 1), 226u);
}

// The table: every architecture x input x output the issue names has a row; lookups fail cleanly.
TEST(DatapathTable, RowsExistAndUnknownCombinationsAreRejected) {
  for (Arch arch : {Arch::sm80, Arch::sm89, Arch::sm90}) {
    EXPECT_TRUE(spec::find_datapath(arch, spec::fp16, spec::fp16, spec::fp32));
    EXPECT_TRUE(spec::find_datapath(arch, spec::fp16, spec::fp16, spec::fp16));
    EXPECT_TRUE(spec::find_datapath(arch, spec::bf16, spec::bf16, spec::fp32));
    EXPECT_TRUE(spec::find_datapath(arch, spec::tf32, spec::tf32, spec::fp32));
    EXPECT_EQ(spec::find_datapath(arch, spec::e4m3, spec::e4m3, spec::fp32).has_value(), arch != Arch::sm80);
  }
  EXPECT_FALSE(spec::find_datapath(Arch::sm80, spec::bf16, spec::bf16, spec::fp16));
  EXPECT_FALSE(spec::find_datapath(Arch::sm80, spec::fp16, spec::bf16, spec::fp32));
  EXPECT_EQ(spec::find_datapath(Arch::sm90, spec::e4m3, spec::e4m3, spec::fp32)->result_fraction_bits, 13);
  EXPECT_EQ(spec::find_datapath(Arch::sm90, spec::fp16, spec::fp16, spec::fp32)->block_size, 16);
  static_assert(p2(3) == 8.0);
}

}  // namespace
}  // namespace twofour::sim
