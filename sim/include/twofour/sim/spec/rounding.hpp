#pragma once
// The one rounding function of the simulator: an exact value (sign, integer significand, binary
// exponent, sticky bit) to a format's bit pattern, with the rounding mode as an argument.
// Conversions (encode), the block-FMA datapath and the integer paths all go through it.
//
// Semantics follow IEEE 754-2019 §4.3 and §7.4 (overflow is judged on the result rounded with an
// unbounded exponent; round-toward-zero overflows to the largest finite number), PTX ISA `cvt`
// (.rn .rz .rm .rp, .rna = nearest with ties away from zero as in `cvt.rna.tf32.f32`;
// .satfinite clamps to the largest finite value and keeps NaN a NaN), and the OCP 8-bit float
// specification for E4M3 (no infinity: an overflow without saturation gives NaN).
#include "twofour/sim/spec/format.hpp"

#include <bit>
#include <cstdint>

namespace twofour::sim::spec {

enum class RoundingMode : std::uint8_t {
  nearest_even,       // PTX .rn
  toward_zero,        // PTX .rz
  toward_negative,    // PTX .rm
  toward_positive,    // PTX .rp
  nearest_ties_away,  // PTX .rna
};

constexpr std::string_view rounding_mode_name(RoundingMode m) {
  switch (m) {
    case RoundingMode::nearest_even: return "rn";
    case RoundingMode::toward_zero: return "rz";
    case RoundingMode::toward_negative: return "rm";
    case RoundingMode::toward_positive: return "rp";
    case RoundingMode::nearest_ties_away: return "rna";
  }
  return "?";
}

// Rounds sig * 2^exp (plus a non-zero tail below sig's last bit when `sticky`) to a multiple of
// 2^quantum. Returns the multiple's integer count; `round_bit`/`sticky` decide the increment.
constexpr std::uint64_t round_to_quantum(bool negative, std::uint64_t sig, int exp, bool sticky, int quantum,
                                         RoundingMode mode) {
  const int shift = quantum - exp;
  std::uint64_t r = 0;
  bool round_bit = false;
  if (shift <= 0) {
    r = sig << -shift;  // caller guarantees it fits
  } else if (shift < 64) {
    r = sig >> shift;
    round_bit = (sig >> (shift - 1)) & 1u;
    sticky = sticky || (sig & ((std::uint64_t{1} << (shift - 1)) - 1u)) != 0;
  } else if (shift == 64) {
    round_bit = (sig >> 63) & 1u;
    sticky = sticky || (sig << 1) != 0;
  } else {
    sticky = sticky || sig != 0;
  }
  bool increment = false;
  switch (mode) {
    case RoundingMode::nearest_even: increment = round_bit && (sticky || (r & 1u)); break;
    case RoundingMode::nearest_ties_away: increment = round_bit; break;
    case RoundingMode::toward_zero: increment = false; break;
    case RoundingMode::toward_positive: increment = !negative && (round_bit || sticky); break;
    case RoundingMode::toward_negative: increment = negative && (round_bit || sticky); break;
  }
  return r + (increment ? 1u : 0u);
}

// Largest finite magnitude of a float format, as significand (with hidden bit) and quantum.
constexpr std::uint64_t max_finite_significand(const FormatSpec& f) {
  const std::uint64_t all = (std::uint64_t{1} << (f.mantissa_bits + 1)) - 1u;
  return f.nan == NanEncoding::mantissa_all_ones ? all - 1u : all;  // E4M3: S.1111.110 = 448
}

constexpr std::uint32_t max_finite_bits(const FormatSpec& f, bool negative) {
  const int lo = f.ignored_low_bits;
  const std::uint32_t exp_field = static_cast<std::uint32_t>(f.max_exponent() + f.bias);
  const std::uint32_t man = static_cast<std::uint32_t>(max_finite_significand(f) - (std::uint64_t{1} << f.mantissa_bits));
  return (negative ? f.sign_mask() : 0u) | (exp_field << (f.mantissa_bits + lo)) | (man << lo);
}

constexpr std::uint32_t infinity_bits(const FormatSpec& f, bool negative) {
  if (!f.has_infinity) return f.canonical_nan;
  const std::uint32_t exp_all_ones = (1u << f.exponent_bits) - 1u;
  return (negative ? f.sign_mask() : 0u) | (exp_all_ones << (f.mantissa_bits + f.ignored_low_bits));
}

constexpr std::uint32_t zero_bits(const FormatSpec& f, bool negative) {
  return f.is_integer ? 0u : (negative ? f.sign_mask() : 0u);
}

// Integer destinations: round to an integer, then clamp to the range (PTX `cvt` from float to
// integer always saturates). Returns the two's-complement pattern in the container.
constexpr std::uint32_t round_to_integer(const FormatSpec& f, bool negative, std::uint64_t sig, int exp, bool sticky,
                                         RoundingMode mode) {
  const std::int64_t hi = f.is_signed ? (std::int64_t{1} << (f.bits - 1)) - 1 : (std::int64_t{1} << f.bits) - 1;
  const std::int64_t lo = f.is_signed ? -(std::int64_t{1} << (f.bits - 1)) : 0;
  std::uint64_t magnitude = 0;
  if (sig != 0 || sticky) {
    const int msb = sig == 0 ? -1 : 63 - std::countl_zero(sig);
    if (msb + exp >= 62) {
      magnitude = std::uint64_t{1} << 62;  // far beyond any range here: saturates below
    } else {
      magnitude = round_to_quantum(negative, sig, exp, sticky, 0, mode);
    }
  }
  const std::int64_t limit_mag = negative ? -lo : hi;
  const std::int64_t clamped = magnitude > static_cast<std::uint64_t>(limit_mag) ? limit_mag : static_cast<std::int64_t>(magnitude);
  const std::int64_t value = negative ? -clamped : clamped;
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(value)) & f.container_mask();
}

// The rounding function. Value = (-1)^negative * (sig + tail) * 2^exp, where tail in (0,1) when
// `sticky` is set. `sig` may be zero only when `sticky` is false (an exact zero).
// `max_fraction_bits` < the format's mantissa bits narrows the result as if the format had only
// that many fraction bits (same exponent range; the dropped low bits are zero): the tensor-core
// fp8 datapath with a negative number of extra alignment bits keeps 23 + neab = 13 fraction bits
// of an fp32 result (Khattak & Mikaitis, `models/tools/GEMM.m`: NoManBitsOut += neab).
constexpr std::uint32_t round_to_format(const FormatSpec& f, bool negative, std::uint64_t sig, int exp, bool sticky,
                                        RoundingMode mode, bool satfinite = false, int max_fraction_bits = 64) {
  if (f.is_integer) return round_to_integer(f, negative, sig, exp, sticky, mode);
  if (sig == 0) {
    if (!sticky) return zero_bits(f, negative);
    sig = 1;  // a tail alone: stands for a value far below the quantum of any result here
    exp -= 64;
  }
  const int p = f.mantissa_bits;
  const int narrow = max_fraction_bits < 0 ? 0 : (max_fraction_bits < p ? p - max_fraction_bits : 0);
  const int msb = 63 - std::countl_zero(sig);
  const int value_exp = msb + exp;
  const int emin = f.min_exponent();
  int quantum = (value_exp > emin ? value_exp : emin) - (p - narrow);
  std::uint64_t r = round_to_quantum(negative, sig, exp, sticky, quantum, mode);
  if (r == (std::uint64_t{1} << (p - narrow + 1))) {  // carried into the next binade
    r >>= 1;
    ++quantum;
  }
  if (r == 0) return zero_bits(f, negative);
  r <<= narrow;  // back to the format's own significand width
  quantum -= narrow;

  const int max_quantum = f.max_exponent() - p;
  const bool overflow = quantum > max_quantum || (quantum == max_quantum && r > max_finite_significand(f));
  if (overflow) {
    if (satfinite) return max_finite_bits(f, negative);
    bool to_infinity = true;
    switch (mode) {
      case RoundingMode::nearest_even:
      case RoundingMode::nearest_ties_away: to_infinity = true; break;
      case RoundingMode::toward_zero: to_infinity = false; break;
      case RoundingMode::toward_positive: to_infinity = !negative; break;
      case RoundingMode::toward_negative: to_infinity = negative; break;
    }
    return to_infinity ? infinity_bits(f, negative) : max_finite_bits(f, negative);
  }

  const int lo = f.ignored_low_bits;
  const std::uint32_t sign = negative ? f.sign_mask() : 0u;
  if (r < (std::uint64_t{1} << p)) {  // subnormal: exponent field 0
    return sign | (static_cast<std::uint32_t>(r) << lo);
  }
  const std::uint32_t exp_field = static_cast<std::uint32_t>(quantum + p + f.bias);
  const std::uint32_t man = static_cast<std::uint32_t>(r - (std::uint64_t{1} << p));
  return sign | (exp_field << (p + lo)) | (man << lo);
}

// Converts a binary64 value (every float32 is one) to format f, as PTX `cvt` with the given
// rounding modifier and optional .satfinite does. NaN gives the format's canonical NaN (0 for
// integers); infinities give infinity, or the largest finite value under .satfinite (E4M3 has no
// infinity: NaN unless .satfinite).
constexpr std::uint32_t encode(const FormatSpec& f, double x, RoundingMode mode = RoundingMode::nearest_even,
                               bool satfinite = false) {
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const bool negative = (bits >> 63) != 0;
  const int biased = static_cast<int>((bits >> 52) & 0x7ffu);
  const std::uint64_t frac = bits & ((std::uint64_t{1} << 52) - 1u);
  if (biased == 0x7ff) {
    if (frac != 0) return f.is_integer ? 0u : f.canonical_nan;
    if (f.is_integer) return round_to_integer(f, negative, std::uint64_t{1}, 100, false, mode);
    return satfinite ? max_finite_bits(f, negative) : infinity_bits(f, negative);
  }
  if (biased == 0) return round_to_format(f, negative, frac, -1074, false, mode, satfinite);
  return round_to_format(f, negative, frac | (std::uint64_t{1} << 52), biased - 1075, false, mode, satfinite);
}

// Bits of a float32 value, and back: the container the GPU's registers and the measured data use.
constexpr std::uint32_t float_bits(float x) { return std::bit_cast<std::uint32_t>(x); }
constexpr float bits_float(std::uint32_t b) { return std::bit_cast<float>(b); }

// fp32 pattern -> format pattern, as `cvt.<mode>[.satfinite].<fmt>.f32`.
constexpr std::uint32_t convert_from_fp32(const FormatSpec& f, std::uint32_t fp32_bits,
                                          RoundingMode mode = RoundingMode::nearest_even, bool satfinite = false) {
  return encode(f, static_cast<double>(bits_float(fp32_bits)), mode, satfinite);
}

}  // namespace twofour::sim::spec
