// float32 -> fp16 and float32 -> bf16 conversions against the CPU's own hardware.
// Oracles:
//  - F16C `vcvtps2ph` (IEEE binary16 conversion in hardware; its immediate selects
//    nearest-even, down, up or truncate) and `vcvtph2ps` for decoding;
//  - AVX-512 BF16 `vcvtneps2bf16` (always nearest-even; it treats subnormal float32 inputs as
//    zero, so those inputs are checked to give a signed zero and excluded from the comparison).
// Each test skips with a message where the CPU lacks the instruction. CI runs 10^7 inputs spanning
// every float32 exponent plus every fp16/bf16 rounding boundary; TWOFOUR_EXHAUSTIVE=1 runs all 2^32.
#include "support/seed.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace twofour::sim::spec {
namespace {

// F16C rounding immediates (Intel SDM vol. 2, VCVTPS2PH: imm8[1:0] = RC, imm8[2] = 0).
__attribute__((target("f16c"))) std::uint16_t f16c_convert(float x, RoundingMode mode) {
  switch (mode) {
    case RoundingMode::nearest_even: return static_cast<std::uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT));
    case RoundingMode::toward_negative: return static_cast<std::uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_NEG_INF));
    case RoundingMode::toward_positive: return static_cast<std::uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_POS_INF));
    case RoundingMode::toward_zero: return static_cast<std::uint16_t>(_cvtss_sh(x, _MM_FROUND_TO_ZERO));
    case RoundingMode::nearest_ties_away: break;
  }
  return 0;
}

__attribute__((target("f16c"))) float f16c_decode(std::uint16_t h) { return _cvtsh_ss(h); }

// Converts 16 floats with one vcvtneps2bf16.
__attribute__((target("avx512f,avx512bf16"))) void avx512_bf16_convert(const float* in, std::uint16_t* out) {
  const __m512 v = _mm512_loadu_ps(in);
  const __m256bh r = _mm512_cvtneps_pbh(v);
  std::memcpy(out, &r, 32);
}

bool cpu_has_f16c() { return __builtin_cpu_supports("f16c"); }
bool cpu_has_avx512_bf16() { return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512f"); }

constexpr RoundingMode kF16cModes[] = {RoundingMode::nearest_even, RoundingMode::toward_zero,
                                       RoundingMode::toward_negative, RoundingMode::toward_positive};

// 10^7 float32 inputs (10^6 under sanitizers): every exponent field equally, random sign and
// mantissa, plus the specials.
std::vector<std::uint32_t> spanning_inputs(std::uint64_t seed) {
  const std::size_t total = twofour::testing::sanitizer_build() ? 1'000'000 : 10'000'000;
  std::mt19937_64 rng(seed);
  std::vector<std::uint32_t> inputs;
  inputs.reserve(total + 16);
  for (std::size_t i = 0; i < total; ++i) {
    const std::uint32_t exp_field = static_cast<std::uint32_t>(i % 256);
    const std::uint32_t r = static_cast<std::uint32_t>(rng());
    inputs.push_back((r & 0x807fffffu) | (exp_field << 23));
  }
  for (std::uint32_t s : {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u, 0xffffffffu,
                          0x00000001u, 0x007fffffu, 0x00800000u, 0x7f7fffffu, 0x477fe000u, 0x477fefffu, 0x477ff000u,
                          0x33000000u, 0x33000001u, 0x32ffffffu})
    inputs.push_back(s);
  return inputs;
}

// Every fp16 rounding boundary: each midpoint between neighbouring fp16 values (and the one past
// the largest), the float32 values one ulp either side, both signs.
std::vector<std::uint32_t> fp16_boundaries() {
  std::vector<std::uint32_t> inputs;
  for (std::uint32_t h = 0; h < 0x7c00; ++h) {
    const double lo = decode_to_double(fp16, h);
    const double hi = h + 1 == 0x7c00 ? 65536.0 : decode_to_double(fp16, h + 1);
    const float mid = static_cast<float>((lo + hi) / 2);  // exact: fp16 midpoints fit in float32
    for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f), static_cast<float>(lo)}) {
      inputs.push_back(float_bits(x));
      inputs.push_back(float_bits(-x));
    }
  }
  return inputs;
}

void compare_fp16(std::uint32_t in, RoundingMode mode, std::uint64_t& failures) {
  const float x = bits_float(in);
  const std::uint16_t hw = f16c_convert(x, mode);
  const std::uint32_t ours = convert_from_fp32(fp16, in, mode);
  const bool match = std::isnan(x) ? (is_nan(fp16, hw) && ours == fp16.canonical_nan) : hw == ours;
  if (!match && failures++ < 10) {
    ADD_FAILURE() << "fp32 0x" << std::hex << in << " (" << x << ") mode " << rounding_mode_name(mode)
                  << ": F16C 0x" << hw << ", twofour 0x" << ours;
  }
}

TEST(FormatHardwareOracle, Fp16DecodeMatchesF16cForEveryPattern) {
  if (!cpu_has_f16c()) GTEST_SKIP() << "this CPU has no F16C: the fp16 hardware oracle cannot run";
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float hw = f16c_decode(static_cast<std::uint16_t>(h));
    const double ours = decode_to_double(fp16, h);
    if (std::isnan(hw)) {
      ASSERT_TRUE(std::isnan(ours)) << std::hex << h;
    } else {
      ASSERT_EQ(static_cast<double>(hw), ours) << std::hex << h;
      ASSERT_EQ(std::signbit(hw), std::signbit(ours)) << std::hex << h;
    }
  }
}

TEST(FormatHardwareOracle, Fp32ToFp16MatchesF16cInEveryMode) {
  if (!cpu_has_f16c()) GTEST_SKIP() << "this CPU has no F16C: the fp16 hardware oracle cannot run";
  const auto inputs = spanning_inputs(twofour::testing::test_seed("Fp32ToFp16MatchesF16cInEveryMode", 20261128));
  const auto boundaries = fp16_boundaries();
  std::uint64_t failures = 0, compared = 0;
  for (RoundingMode mode : kF16cModes) {
    for (std::uint32_t in : inputs) compare_fp16(in, mode, failures), ++compared;
    for (std::uint32_t in : boundaries) compare_fp16(in, mode, failures), ++compared;
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_GE(compared, 4u * 10'000'000u / (twofour::testing::sanitizer_build() ? 10u : 1u));
  std::printf("[ oracle   ] F16C vcvtps2ph: %llu conversions compared\n", static_cast<unsigned long long>(compared));
}

TEST(FormatHardwareOracle, Fp32ToFp16ExhaustiveOptIn) {
  if (!cpu_has_f16c()) GTEST_SKIP() << "this CPU has no F16C: the fp16 hardware oracle cannot run";
  if (!twofour::testing::exhaustive_requested()) GTEST_SKIP() << "set TWOFOUR_EXHAUSTIVE=1 to compare all 2^32 inputs";
  std::uint64_t failures = 0;
  for (RoundingMode mode : kF16cModes) {
    for (std::uint64_t in = 0; in < (std::uint64_t{1} << 32); ++in) compare_fp16(static_cast<std::uint32_t>(in), mode, failures);
  }
  EXPECT_EQ(failures, 0u);
}

void compare_bf16_block(const std::vector<std::uint32_t>& in, std::size_t at, std::uint64_t& failures,
                        std::uint64_t& compared) {
  float block[16];
  std::uint16_t hw[16];
  for (int i = 0; i < 16; ++i) block[i] = bits_float(in[(at + static_cast<std::size_t>(i)) % in.size()]);
  avx512_bf16_convert(block, hw);
  for (int i = 0; i < 16; ++i) {
    const std::uint32_t bits = float_bits(block[i]);
    const bool subnormal_input = (bits & 0x7f800000u) == 0 && (bits & 0x007fffffu) != 0;
    if (subnormal_input) {
      // vcvtneps2bf16 treats denormal inputs as zero (Intel SDM): check that, then skip.
      if ((hw[i] & 0x7fffu) != 0 && failures++ < 10) ADD_FAILURE() << "expected DAZ for 0x" << std::hex << bits;
      continue;
    }
    const std::uint32_t ours = convert_from_fp32(bf16, bits, RoundingMode::nearest_even);
    const bool match = std::isnan(block[i]) ? (is_nan(bf16, hw[i]) && ours == bf16.canonical_nan) : hw[i] == ours;
    ++compared;
    if (!match && failures++ < 10) {
      ADD_FAILURE() << "fp32 0x" << std::hex << bits << ": vcvtneps2bf16 0x" << hw[i] << ", twofour 0x" << ours;
    }
  }
}

TEST(FormatHardwareOracle, Fp32ToBf16MatchesAvx512Bf16) {
  if (!cpu_has_avx512_bf16()) GTEST_SKIP() << "this CPU has no AVX-512 BF16: the bf16 hardware oracle cannot run";
  auto inputs = spanning_inputs(twofour::testing::test_seed("Fp32ToBf16MatchesAvx512Bf16", 20261129));
  // bf16 rounding boundaries: every bf16 value's midpoint to its successor, +-1 float ulp, both signs.
  for (std::uint32_t b = 0; b < 0x7f80; ++b) {
    const std::uint32_t mid = (b << 16) | 0x8000u;
    for (std::uint32_t x : {mid, mid - 1, mid + 1, b << 16}) {
      inputs.push_back(x);
      inputs.push_back(x | 0x80000000u);
    }
  }
  std::uint64_t failures = 0, compared = 0;
  for (std::size_t at = 0; at < inputs.size(); at += 16) compare_bf16_block(inputs, at, failures, compared);
  EXPECT_EQ(failures, 0u);
  EXPECT_GT(compared, inputs.size() / 2);
  std::printf("[ oracle   ] AVX-512 BF16 vcvtneps2bf16: %llu conversions compared\n",
              static_cast<unsigned long long>(compared));
}

TEST(FormatHardwareOracle, Fp32ToBf16ExhaustiveOptIn) {
  if (!cpu_has_avx512_bf16()) GTEST_SKIP() << "this CPU has no AVX-512 BF16: the bf16 hardware oracle cannot run";
  if (!twofour::testing::exhaustive_requested()) GTEST_SKIP() << "set TWOFOUR_EXHAUSTIVE=1 to compare all 2^32 inputs";
  std::vector<std::uint32_t> chunk(1u << 20);
  std::uint64_t failures = 0, compared = 0;
  for (std::uint64_t base = 0; base < (std::uint64_t{1} << 32); base += chunk.size()) {
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<std::uint32_t>(base + i);
    for (std::size_t at = 0; at < chunk.size(); at += 16) compare_bf16_block(chunk, at, failures, compared);
  }
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace twofour::sim::spec
