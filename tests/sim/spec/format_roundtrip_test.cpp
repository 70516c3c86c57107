// Exhaustive decode/encode identities over every bit pattern of the small formats.
// Oracle: the formats' own definitions (IEEE 754 / OCP FP8 v1.0): decoding a pattern to its exact
// binary64 value and encoding that value back with any rounding mode must return the same pattern
// (a representable value is never rounded), NaNs aside, which map to the canonical NaN.
#include "twofour/sim/spec/rounding.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace twofour::sim::spec {
namespace {

constexpr RoundingMode kModes[] = {RoundingMode::nearest_even, RoundingMode::toward_zero, RoundingMode::toward_negative,
                                   RoundingMode::toward_positive, RoundingMode::nearest_ties_away};

void expect_roundtrip_all(const FormatSpec& f, std::uint64_t count, std::uint32_t step_bits = 0) {
  std::uint64_t nans = 0, checked = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint32_t bits = static_cast<std::uint32_t>(i << step_bits);
    const double v = decode_to_double(f, bits);
    for (RoundingMode m : kModes) {
      const std::uint32_t back = encode(f, v, m);
      if (is_nan(f, bits)) {
        ASSERT_EQ(back, f.canonical_nan) << f.name << " NaN 0x" << std::hex << bits;
        ASSERT_TRUE(std::isnan(v));
      } else {
        ASSERT_EQ(back, bits) << f.name << " 0x" << std::hex << bits << " value " << v << " mode "
                              << rounding_mode_name(m);
      }
      // Saturation never changes a finite value.
      if (classify(f, bits) != FpClass::nan && classify(f, bits) != FpClass::infinity) {
        ASSERT_EQ(encode(f, v, m, true), bits);
      }
    }
    nans += is_nan(f, bits);
    ++checked;
  }
  EXPECT_EQ(checked, count);
  EXPECT_GT(nans, 0u) << f.name << " has NaN patterns";
}

TEST(FormatRoundtrip, EveryFp16Pattern) { expect_roundtrip_all(fp16, 1u << 16); }
TEST(FormatRoundtrip, EveryBf16Pattern) { expect_roundtrip_all(bf16, 1u << 16); }
TEST(FormatRoundtrip, EveryE4m3Pattern) { expect_roundtrip_all(e4m3, 1u << 8); }
TEST(FormatRoundtrip, EveryE5m2Pattern) { expect_roundtrip_all(e5m2, 1u << 8); }
TEST(FormatRoundtrip, EveryTf32Pattern) { expect_roundtrip_all(tf32, 1u << 19, 13); }

TEST(FormatRoundtrip, EveryIntegerPattern) {
  for (const FormatSpec* f : {&s8, &u8, &s4, &u4}) {
    for (std::uint32_t bits = 0; bits < (1u << f->bits); ++bits) {
      const double v = decode_to_double(*f, bits);
      ASSERT_EQ(encode(*f, v), bits) << f->name << " " << bits;
      ASSERT_EQ(v, std::trunc(v));
    }
  }
  EXPECT_EQ(decode_to_double(s8, 0x80), -128.0);
  EXPECT_EQ(decode_to_double(s4, 0x8), -8.0);
  EXPECT_EQ(decode_to_double(u4, 0xf), 15.0);
}

TEST(FormatClassify, KnownPatterns) {
  EXPECT_EQ(classify(fp16, 0x0000), FpClass::zero);
  EXPECT_EQ(classify(fp16, 0x8000), FpClass::zero);
  EXPECT_EQ(classify(fp16, 0x0001), FpClass::subnormal);
  EXPECT_EQ(classify(fp16, 0x0400), FpClass::normal);
  EXPECT_EQ(classify(fp16, 0x7c00), FpClass::infinity);
  EXPECT_EQ(classify(fp16, 0x7c01), FpClass::nan);
  EXPECT_EQ(classify(e4m3, 0x7e), FpClass::normal);  // 448, the largest E4M3
  EXPECT_EQ(classify(e4m3, 0x78), FpClass::normal);  // 256: E4M3 has no infinity
  EXPECT_EQ(classify(e4m3, 0x7f), FpClass::nan);
  EXPECT_EQ(classify(e4m3, 0xff), FpClass::nan);
  EXPECT_EQ(classify(e5m2, 0x7c), FpClass::infinity);
  EXPECT_EQ(classify(e5m2, 0x7d), FpClass::nan);
  EXPECT_EQ(classify(tf32, 0x7f801fffu), FpClass::infinity);  // ignored low 13 bits
  EXPECT_EQ(decode_to_double(e4m3, 0x7e), 448.0);
  EXPECT_EQ(decode_to_double(e4m3, 0x01), std::ldexp(1.0, -9));
  EXPECT_EQ(decode_to_double(e5m2, 0x7b), 57344.0);
  EXPECT_EQ(decode_to_double(e5m2, 0x01), std::ldexp(1.0, -16));
  EXPECT_EQ(decode_to_double(fp16, 0x7bff), 65504.0);
  EXPECT_EQ(decode_to_double(bf16, 0x0001), std::ldexp(1.0, -133));
  EXPECT_EQ(decode_to_double(tf32, 0x3f801fffu), 1.0);
  const Decoded d = decode(fp16, 0x3c01);
  EXPECT_EQ(d.significand, 0x401u);
  EXPECT_EQ(d.exponent, -10);
}

TEST(FormatSpecTable, FieldsAreConsistent) {
  for (const FormatSpec* f : all_formats) {
    if (f->is_integer) continue;
    EXPECT_EQ(f->bits, 1 + f->exponent_bits + f->mantissa_bits) << f->name;
    EXPECT_EQ(f->container_bits, f->bits + f->ignored_low_bits) << f->name;
    EXPECT_EQ(f->bias, (1 << (f->exponent_bits - 1)) - 1) << f->name;
    EXPECT_TRUE(is_nan(*f, f->canonical_nan)) << f->name;
    EXPECT_EQ(find_format(f->name), f);
  }
  EXPECT_EQ(find_format("fp64"), nullptr);
}

}  // namespace
}  // namespace twofour::sim::spec
