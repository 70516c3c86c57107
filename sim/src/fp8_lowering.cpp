#include "twofour/sim/fp8_lowering.hpp"

#include "twofour/sim/spec/rounding.hpp"

#include <array>
#include <stdexcept>
#include <string>

namespace twofour::sim {
namespace {

// Every fp8 value is a binary64 and an fp16 value, so decode + encode is the identity on values.
constexpr std::array<std::uint16_t, 256> fp16_table(const spec::FormatSpec& fp8) {
  std::array<std::uint16_t, 256> t{};
  for (std::uint32_t b = 0; b < 256; ++b)
    t[b] = static_cast<std::uint16_t>(spec::encode(spec::fp16, spec::decode_to_double(fp8, b)));
  return t;
}

}  // namespace

std::uint32_t fp8_to_fp16(const spec::FormatSpec& fp8, std::uint32_t bits) {
  static const std::array<std::uint16_t, 256> from_e4m3 = fp16_table(spec::e4m3);
  static const std::array<std::uint16_t, 256> from_e5m2 = fp16_table(spec::e5m2);
  if (fp8 == spec::e4m3) return from_e4m3[bits & 0xffu];
  if (fp8 == spec::e5m2) return from_e5m2[bits & 0xffu];
  throw std::invalid_argument("fp8_to_fp16: " + std::string(fp8.name) + " is not an fp8 format");
}

std::uint32_t fp32_add_rn(std::uint32_t x, std::uint32_t y) {
  // The binary64 sum of two binary32 values, rounded once more to binary32, is the correctly
  // rounded binary32 sum: 53 >= 2 * 24 + 2, so double rounding is innocuous for addition
  // (S. Figueroa, "When is double rounding innocuous?", SIGNUM Newsletter 30(3), 1995).
  // The final rounding is the simulator's own (spec::encode), which also canonicalises NaN.
  const double sum = spec::decode_to_double(spec::fp32, x) + spec::decode_to_double(spec::fp32, y);
  return spec::encode(spec::fp32, sum, spec::RoundingMode::nearest_even);
}

std::uint32_t float_add_rn(const spec::FormatSpec& f, std::uint32_t x, std::uint32_t y) {
  if (f == spec::fp32) return fp32_add_rn(x, y);
  if (!(f == spec::fp16)) throw std::invalid_argument("float_add_rn: " + std::string(f.name) + " is not fp32 or fp16");
  // Two fp16 values add exactly in binary64 (their exponents span 2^-24 .. 2^15), so one rounding
  // to fp16 is the correctly rounded sum.
  const double sum = spec::decode_to_double(spec::fp16, x) + spec::decode_to_double(spec::fp16, y);
  return spec::encode(spec::fp16, sum, spec::RoundingMode::nearest_even);
}

}  // namespace twofour::sim
