// fp8 (E4M3, E5M2) and tf32 conversions against a slow exact reference written independently of
// format.hpp/rounding.hpp.
// Oracle: the formats' definitions (OCP 8-bit floating point spec v1.0 for E4M3/E5M2; TF32 =
// 1 sign, 8 exponent, 10 mantissa bits as in the PTX ISA), enumerated into a sorted table of exact
// dyadic rationals, and IEEE 754 §4.3 rounding decided by exact rational comparison with the
// neighbours' midpoint. Overflow: IEEE 754 §7.4 (nearest modes and rounding away overflow; toward
// zero gives the largest finite value); .satfinite clamps (PTX `cvt`); E4M3 has no infinity, so an
// unsaturated overflow is NaN (OCP spec). Inputs: every rounding boundary of each format, ±1 ulp
// of binary64 around it, the representable values, random points, and specials.
#include "support/seed.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <vector>

namespace twofour::sim::spec {
namespace {

__extension__ typedef unsigned __int128 u128;

// An exact positive dyadic rational sig * 2^exp.
struct Dyadic {
  std::uint64_t sig;
  int exp;
};

Dyadic from_double(double x) {  // x finite, > 0
  int e = 0;
  const double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  return {static_cast<std::uint64_t>(std::ldexp(m, 53)), e - 53};
}

// -1, 0, +1 as a <, ==, > b; exact.
int compare(Dyadic a, Dyadic b) {
  if (a.sig == 0 || b.sig == 0) return (a.sig != 0) - (b.sig != 0);
  const int ta = 63 - std::countl_zero(a.sig) + a.exp;
  const int tb = 63 - std::countl_zero(b.sig) + b.exp;
  if (ta != tb) return ta < tb ? -1 : 1;
  // Same binade: align to the smaller exponent (difference < 64 bits here), compare as 128-bit.
  const int e = std::min(a.exp, b.exp);
  const u128 wa = static_cast<u128>(a.sig) << (a.exp - e);
  const u128 wb = static_cast<u128>(b.sig) << (b.exp - e);
  return wa < wb ? -1 : (wa > wb ? 1 : 0);
}

Dyadic midpoint(Dyadic a, Dyadic b) {  // (a + b) / 2, both > 0 or a == 0
  if (a.sig == 0) return {b.sig, b.exp - 1};
  const int e = std::min(a.exp, b.exp);
  const std::uint64_t sa = a.sig << (a.exp - e), sb = b.sig << (b.exp - e);  // small formats: fits
  return {sa + sb, e - 1};
}

struct Entry {
  Dyadic value;
  std::uint32_t pattern;  // positive pattern in the format's container
  bool virtual_overflow;  // the value one ulp past the largest finite (not representable)
};

// The table of non-negative finite values, built from the definition, not from format.hpp.
// ebits/mbits/bias describe the format; e4m3 = true removes S.1111.111 (NaN) and keeps 1111.xxx.
std::vector<Entry> build_table(int ebits, int mbits, int bias, bool e4m3_style, int low_bits) {
  std::vector<Entry> table;
  const int max_field = e4m3_style ? (1 << ebits) - 1 : (1 << ebits) - 2;
  for (int e = 0; e <= max_field; ++e) {
    for (int m = 0; m < (1 << mbits); ++m) {
      if (e4m3_style && e == max_field && m == (1 << mbits) - 1) continue;  // NaN
      const std::uint64_t sig = e == 0 ? static_cast<std::uint64_t>(m) : static_cast<std::uint64_t>((1 << mbits) | m);
      const int exp = (e == 0 ? 1 : e) - bias - mbits;
      const std::uint32_t pattern = (static_cast<std::uint32_t>(e) << mbits | static_cast<std::uint32_t>(m)) << low_bits;
      table.push_back({{sig, exp}, pattern, false});
    }
  }
  // Virtual successor of the largest finite value: one ulp higher, with the next pattern's parity.
  const Entry& top = table.back();
  table.push_back({{top.value.sig + 1, top.value.exp}, top.pattern + (1u << low_bits), true});
  return table;
}

struct Expect {
  bool nan;
  std::uint32_t bits;
};

// Reference conversion of a double to the format described by `table`.
std::uint32_t reference_convert(const FormatSpec& f, const std::vector<Entry>& table, double x, RoundingMode mode,
                                bool satfinite) {
  const std::uint32_t sign = std::signbit(x) ? (1u << (f.container_bits - 1)) : 0u;
  const std::uint32_t max_bits = table[table.size() - 2].pattern;
  const std::uint32_t inf_bits = f.has_infinity ? table.back().pattern : f.canonical_nan;  // exp all ones, m = 0
  auto overflow = [&](bool to_infinity) {
    if (satfinite || !to_infinity) return sign | max_bits;
    return f.has_infinity ? (sign | inf_bits) : f.canonical_nan;
  };
  if (std::isnan(x)) return f.canonical_nan;
  const bool negative = std::signbit(x);
  // Directed modes mirror for negative inputs.
  RoundingMode m = mode;
  if (negative && mode == RoundingMode::toward_positive) m = RoundingMode::toward_negative;
  else if (negative && mode == RoundingMode::toward_negative) m = RoundingMode::toward_positive;
  if (std::isinf(x)) return satfinite ? (sign | max_bits) : overflow(true);
  if (x == 0) return sign;
  const Dyadic ax = from_double(std::fabs(x));

  // Largest table entry <= |x| (entry 0 is +0).
  std::size_t lo = 0, hi = table.size();
  while (hi - lo > 1) {
    const std::size_t mid = (lo + hi) / 2;
    if (compare(table[mid].value, ax) <= 0) lo = mid; else hi = mid;
  }
  if (table[lo].virtual_overflow) {  // at or beyond the virtual successor
    return overflow(m == RoundingMode::nearest_even || m == RoundingMode::nearest_ties_away ||
                    m == RoundingMode::toward_positive);
  }
  const Entry& below = table[lo];
  if (compare(below.value, ax) == 0) return sign | below.pattern;
  const Entry& above = table[lo + 1];
  const int vs_mid = compare(ax, midpoint(below.value, above.value));
  bool take_above = false;
  switch (m) {
    case RoundingMode::toward_zero:
    case RoundingMode::toward_negative: take_above = false; break;  // magnitude: toward zero
    case RoundingMode::toward_positive: take_above = true; break;
    case RoundingMode::nearest_even:
      take_above = vs_mid > 0 || (vs_mid == 0 && ((above.pattern >> f.ignored_low_bits) & 1u) == 0);
      break;
    case RoundingMode::nearest_ties_away: take_above = vs_mid >= 0; break;
  }
  const Entry& chosen = take_above ? above : below;
  if (chosen.virtual_overflow) return overflow(true);
  return sign | chosen.pattern;
}

constexpr RoundingMode kModes[] = {RoundingMode::nearest_even, RoundingMode::toward_zero, RoundingMode::toward_negative,
                                   RoundingMode::toward_positive, RoundingMode::nearest_ties_away};

void check_format(const FormatSpec& f, const std::vector<Entry>& table, std::size_t stride, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> inputs = {0.0, -0.0, HUGE_VAL, -HUGE_VAL, std::nan(""), 1e300, -1e300, 1e-300, -1e-300,
                                std::ldexp(1.0, -1074)};
  for (std::size_t i = 0; i + 1 < table.size(); i += stride) {
    const double a = std::ldexp(static_cast<double>(table[i].value.sig), table[i].value.exp);
    const double b = std::ldexp(static_cast<double>(table[i + 1].value.sig), table[i + 1].value.exp);
    const double mid = (a + b) / 2;  // exact in binary64 for these formats
    std::uniform_real_distribution<double> between(a, b);
    for (double x : {a, b, mid, std::nextafter(mid, 0.0), std::nextafter(mid, HUGE_VAL), between(rng), b * 1.5}) {
      inputs.push_back(x);
      inputs.push_back(-x);
    }
  }
  std::uint64_t compared = 0, failures = 0;
  for (double x : inputs) {
    for (RoundingMode mode : kModes) {
      for (bool sat : {false, true}) {
        const std::uint32_t want = reference_convert(f, table, x, mode, sat);
        const std::uint32_t got = encode(f, x, mode, sat);
        ++compared;
        if (want != got && failures++ < 10) {
          ADD_FAILURE() << f.name << " x=" << x << " mode " << rounding_mode_name(mode) << (sat ? " satfinite" : "")
                        << ": reference 0x" << std::hex << want << ", twofour 0x" << got;
        }
      }
    }
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_GT(compared, table.size() / stride * 10);
  std::printf("[ oracle   ] %s: %llu conversions against the rational reference\n", std::string(f.name).c_str(),
              static_cast<unsigned long long>(compared));
}

TEST(FormatRationalReference, E4m3EveryBoundary) {
  check_format(e4m3, build_table(4, 3, 7, true, 0), 1, twofour::testing::test_seed("E4m3EveryBoundary", 41));
}

TEST(FormatRationalReference, E5m2EveryBoundary) {
  check_format(e5m2, build_table(5, 2, 15, false, 0), 1, twofour::testing::test_seed("E5m2EveryBoundary", 52));
}

TEST(FormatRationalReference, Tf32EveryBoundary) {
  const std::size_t stride = twofour::testing::sanitizer_build() ? 17 : 1;
  check_format(tf32, build_table(8, 10, 127, false, 13), stride, twofour::testing::test_seed("Tf32EveryBoundary", 32));
}

TEST(FormatRationalReference, KnownFp8AndTf32Conversions) {
  // Worked examples from the OCP FP8 spec's value ranges and the PTX `cvt.rna.tf32.f32` definition.
  EXPECT_EQ(encode(e4m3, 448.0), 0x7eu);
  EXPECT_EQ(encode(e4m3, 464.0), 0x7eu);            // tie with the NaN slot: nearest-even keeps 448
  EXPECT_EQ(encode(e4m3, 470.0), e4m3.canonical_nan);  // overflow without saturation
  EXPECT_EQ(encode(e4m3, 1e6, RoundingMode::nearest_even, true), 0x7eu);
  EXPECT_EQ(encode(e4m3, -1e6, RoundingMode::nearest_even, true), 0xfeu);
  EXPECT_EQ(encode(e5m2, 61440.0), 0x7cu);  // halfway past 57344: overflows to +Inf
  EXPECT_EQ(encode(e5m2, 61439.0), 0x7bu);
  EXPECT_EQ(encode(e5m2, HUGE_VAL, RoundingMode::nearest_even, true), 0x7bu);
  // tf32: 1 + 2^-11 is a tie between 1 and 1 + 2^-10; rna rounds away, rn to even.
  const double tie = 1.0 + std::ldexp(1.0, -11);
  EXPECT_EQ(encode(tf32, tie, RoundingMode::nearest_ties_away), 0x3f802000u);
  EXPECT_EQ(encode(tf32, tie, RoundingMode::nearest_even), 0x3f800000u);
  EXPECT_EQ(encode(tf32, std::nan("")), 0x7fffe000u);
}

}  // namespace
}  // namespace twofour::sim::spec
