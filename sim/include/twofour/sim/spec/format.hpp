#pragma once
// Number formats of the tensor-core datapath, as data, plus exact decode and correctly rounded
// encode. Header-only and constexpr so that host C++ and nvcc device code share the same facts.
//
// Sources: IEEE 754-2019 (binary32, binary16); bfloat16 = the top half of binary32; TF32 = 1.8.10
// in a 32-bit container whose low 13 bits are ignored (PTX ISA "Alternate floating-point data
// formats"); OCP 8-bit floating point specification v1.0 (E4M3: no infinities, NaN = S.1111.111;
// E5M2: IEEE-like); PTX ISA `cvt` for rounding modifiers (.rn .rz .rm .rp .rna) and .satfinite.
#include <cstdint>
#include <string_view>

namespace twofour::sim::spec {

enum class NanEncoding : std::uint8_t {
  none,             // integers
  ieee,             // exponent all ones, mantissa non-zero (infinity: mantissa zero)
  mantissa_all_ones // OCP E4M3: exponent and mantissa all ones; no infinity
};

struct FormatSpec {
  std::string_view name;
  int bits;             // significant bits in the pattern (tf32: 19)
  int container_bits;   // bits of the storage word (tf32: 32; s4/u4: 4, packed two per byte)
  int ignored_low_bits; // low container bits the format ignores (tf32: 13)
  int exponent_bits;    // 0 for integers
  int mantissa_bits;    // stored fraction bits; for integers the value bits
  int bias;
  bool has_infinity;
  NanEncoding nan;
  bool is_signed;
  bool is_integer;
  std::uint32_t canonical_nan;  // the pattern conversions produce for NaN (in the container)

  constexpr int min_exponent() const { return 1 - bias; }  // of normal numbers
  constexpr int max_exponent() const {
    return (nan == NanEncoding::ieee) ? ((1 << exponent_bits) - 2) - bias : ((1 << exponent_bits) - 1) - bias;
  }
  constexpr std::uint32_t container_mask() const {
    return container_bits >= 32 ? 0xffffffffu : ((1u << container_bits) - 1u);
  }
  constexpr std::uint32_t sign_mask() const { return is_signed && !is_integer ? 1u << (container_bits - 1) : 0u; }
  constexpr bool operator==(const FormatSpec& other) const { return name == other.name; }
};

// Canonical NaNs: PTX produces 0x7fffffff for f32 results and 0x7fff for f16/bf16 (PTX ISA,
// "Floating-point instructions": NaN results are canonical); OCP gives 0x7f for both fp8 formats
// (E4M3 S.1111.111, E5M2 S.11111.11). TF32: the f32 canonical NaN with the ignored bits cleared,
// as `cvt.rna.tf32.f32` clears them [I: not yet observed on a GPU].
inline constexpr FormatSpec fp32{"fp32", 32, 32, 0, 8, 23, 127, true, NanEncoding::ieee, true, false, 0x7fffffffu};
inline constexpr FormatSpec fp16{"fp16", 16, 16, 0, 5, 10, 15, true, NanEncoding::ieee, true, false, 0x7fffu};
inline constexpr FormatSpec bf16{"bf16", 16, 16, 0, 8, 7, 127, true, NanEncoding::ieee, true, false, 0x7fffu};
inline constexpr FormatSpec tf32{"tf32", 19, 32, 13, 8, 10, 127, true, NanEncoding::ieee, true, false, 0x7fffe000u};
inline constexpr FormatSpec e4m3{"e4m3", 8, 8, 0, 4, 3, 7, false, NanEncoding::mantissa_all_ones, true, false, 0x7fu};
inline constexpr FormatSpec e5m2{"e5m2", 8, 8, 0, 5, 2, 15, true, NanEncoding::ieee, true, false, 0x7fu};
inline constexpr FormatSpec s8{"s8", 8, 8, 0, 0, 7, 0, false, NanEncoding::none, true, true, 0u};
inline constexpr FormatSpec u8{"u8", 8, 8, 0, 0, 8, 0, false, NanEncoding::none, false, true, 0u};
inline constexpr FormatSpec s4{"s4", 4, 4, 0, 0, 3, 0, false, NanEncoding::none, true, true, 0u};
inline constexpr FormatSpec u4{"u4", 4, 4, 0, 0, 4, 0, false, NanEncoding::none, false, true, 0u};
inline constexpr FormatSpec s32{"s32", 32, 32, 0, 0, 31, 0, false, NanEncoding::none, true, true, 0u};

inline constexpr const FormatSpec* all_formats[] = {&fp32, &fp16, &bf16, &tf32, &e4m3, &e5m2, &s8, &u8, &s4, &u4, &s32};

// Looks a format up by its name ("fp16", "bf16", ...); nullptr when unknown.
constexpr const FormatSpec* find_format(std::string_view name) {
  for (const FormatSpec* f : all_formats) {
    if (f->name == name) return f;
  }
  return nullptr;
}

enum class FpClass : std::uint8_t { zero, subnormal, normal, infinity, nan };

// value = (negative ? -1 : 1) * significand * 2^exponent, exactly. Zero: significand 0.
// Infinity/NaN: class only. Integers: significand = |value|, exponent 0.
struct Decoded {
  FpClass cls;
  bool negative;
  std::int32_t exponent;
  std::uint64_t significand;
};

constexpr std::uint32_t field(std::uint32_t bits, int lo, int width) {
  return width >= 32 ? (bits >> lo) : ((bits >> lo) & ((1u << width) - 1u));
}

constexpr FpClass classify(const FormatSpec& f, std::uint32_t bits) {
  if (f.is_integer) {
    return (bits & f.container_mask()) == 0 ? FpClass::zero : FpClass::normal;
  }
  const int mbits = f.mantissa_bits;
  const int lo = f.ignored_low_bits;
  const std::uint32_t man = field(bits, lo, mbits);
  const std::uint32_t exp = field(bits, lo + mbits, f.exponent_bits);
  const std::uint32_t exp_all_ones = (1u << f.exponent_bits) - 1u;
  if (exp == exp_all_ones) {
    if (f.nan == NanEncoding::ieee) return man == 0 ? FpClass::infinity : FpClass::nan;
    if (man == (1u << mbits) - 1u) return FpClass::nan;  // E4M3: only S.1111.111 is NaN
  }
  if (exp == 0) return man == 0 ? FpClass::zero : FpClass::subnormal;
  return FpClass::normal;
}

constexpr bool is_nan(const FormatSpec& f, std::uint32_t bits) { return classify(f, bits) == FpClass::nan; }

constexpr Decoded decode(const FormatSpec& f, std::uint32_t bits) {
  bits &= f.container_mask();
  if (f.is_integer) {
    if (f.is_signed) {
      const bool neg = (bits >> (f.bits - 1)) & 1u;
      const std::int64_t v = neg ? static_cast<std::int64_t>(bits) - (std::int64_t{1} << f.bits) : static_cast<std::int64_t>(bits);
      return {v == 0 ? FpClass::zero : FpClass::normal, neg, 0, static_cast<std::uint64_t>(neg ? -v : v)};
    }
    return {bits == 0 ? FpClass::zero : FpClass::normal, false, 0, bits};
  }
  const FpClass cls = classify(f, bits);
  const bool neg = (bits >> (f.container_bits - 1)) & 1u;
  const int lo = f.ignored_low_bits;
  const std::uint32_t man = field(bits, lo, f.mantissa_bits);
  const std::uint32_t exp = field(bits, lo + f.mantissa_bits, f.exponent_bits);
  switch (cls) {
    case FpClass::zero: return {cls, neg, 0, 0};
    case FpClass::subnormal: return {cls, neg, f.min_exponent() - f.mantissa_bits, man};
    case FpClass::normal:
      return {cls, neg, static_cast<std::int32_t>(exp) - f.bias - f.mantissa_bits,
              man | (std::uint64_t{1} << f.mantissa_bits)};
    default: return {cls, neg, 0, 0};
  }
}

// Exact for every format here (all fit in binary64). NaN -> quiet NaN, infinities -> +-inf.
constexpr double decode_to_double(const FormatSpec& f, std::uint32_t bits) {
  const Decoded d = decode(f, bits);
  if (d.cls == FpClass::nan) return __builtin_nan("");
  if (d.cls == FpClass::infinity) return d.negative ? -__builtin_inf() : __builtin_inf();
  double v = static_cast<double>(d.significand);
  int e = d.exponent;
  while (e > 0) { v *= 2.0; --e; }
  while (e < 0) { v *= 0.5; ++e; }
  return d.negative ? -v : v;
}

}  // namespace twofour::sim::spec
