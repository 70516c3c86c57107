#pragma once
// Private to sim/src: operand decoding for the GEMM fast path (gemm_fast.cpp): bit patterns to the
// kernels' float values or significands and int32 exponents, and the exponent ranges that decide
// between the two.
#include "gemm_fast_kernels.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/format.hpp"

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace twofour::sim::gemm_detail {

using spec::FormatSpec;

// One operand element for the kernels: x the model's exponent (floor(log2|v|), or e_min for
// subnormals; kZeroExponent for zero), and either the signed significand sig in (-2, 2)
// (magnitude / 2^mantissa_bits, so v = sig * 2^x) or, when products of the values themselves are
// exact fp32 numbers (KernelSpec::raw_products), the value v. Both exact as floats.
struct ElementDecoder {
  const FormatSpec& f;
  bool raw;
  bool decode(std::uint32_t v, float& value, std::int32_t& x) const {  // false for Inf/NaN
    value = 0.0f;
    x = kZeroExponent;
    if (raw && f.container_bits == 32 && f.exponent_bits == 8 && f.bias == 127 && f.nan == spec::NanEncoding::ieee) {
      // tf32 (fp32's layout, low bits ignored): the value is the fp32 of the kept bits.
      const std::uint32_t kept = v & ~((1u << f.ignored_low_bits) - 1u);
      const std::uint32_t e = (kept >> 23) & 0xffu;
      if (e == 0xffu) return false;
      if ((kept & 0x7fffffffu) == 0) return true;
      value = std::bit_cast<float>(kept);
      x = e == 0 ? -126 : static_cast<std::int32_t>(e) - 127;
      return true;
    }
    const spec::FpClass cls = spec::classify(f, v);
    if (cls == spec::FpClass::infinity || cls == spec::FpClass::nan) return false;
    const std::uint32_t exp_mask = (1u << f.exponent_bits) - 1u, man_mask = (1u << f.mantissa_bits) - 1u;
    const std::uint32_t e = (v >> (f.ignored_low_bits + f.mantissa_bits)) & exp_mask;
    const std::uint32_t m = (v >> f.ignored_low_bits) & man_mask;
    const std::uint32_t mag = e == 0 ? m : (m | (man_mask + 1u));
    if (mag == 0) return true;
    const int xe = e == 0 ? f.min_exponent() : static_cast<int>(e) - f.bias;
    const bool negative = (v & (1u << (f.container_bits - 1))) != 0;
    // mag * 2^k is exact: a value of the format (raw) or a significand. 2^k is built in the
    // exponent field when it is a normal fp32 (every significand, every value the kernels use as
    // one); std::ldexp covers the rest of a table's patterns.
    const int k = (raw ? xe : 0) - f.mantissa_bits;
    const float magnitude = k >= -126 && k <= 127
                                ? static_cast<float>(mag) * std::bit_cast<float>(static_cast<std::uint32_t>(k + 127) << 23)
                                : std::ldexp(static_cast<float>(mag), k);
    value = negative ? -magnitude : magnitude;
    x = xe;
    return true;
  }
};

// An operand's bit patterns (in the instruction's input format; lowered rows first convert them to
// the tensor core's input, fp8_lowering.hpp) decoded as ElementDecoder does. Formats of at most 16
// bits go through a table of every pattern, built once per GEMM when the operand has at least as
// many elements as the table (small GEMMs decode directly).
class OperandDecoder {
 public:
  // input: the row's format; tensor_core: the datapath's (spec().a_format / b_format).
  OperandDecoder(const InstructionDatapath& dp, const FormatSpec& input, const FormatSpec& tensor_core, bool raw,
                 std::size_t elements)
      : dp_(dp), input_(input), element_{tensor_core, raw},
        lowered_(dp.lowering() == Lowering::fp8_via_fp16_sm90) {
    if (input.container_bits > 16 || elements < (std::size_t{1} << input.container_bits)) return;
    table_.resize(std::size_t{1} << input.container_bits);
    for (std::size_t bits = 0; bits < table_.size(); ++bits) {
      Entry& e = table_[bits];
      e.finite = decode_element(static_cast<std::uint32_t>(bits), e.value, e.x);
    }
  }
  bool decode(std::uint32_t bits, float& value, std::int32_t& x) const {  // false for Inf/NaN
    if (table_.empty()) return decode_element(bits, value, x);
    const Entry& e = table_[bits & input_.container_mask()];
    value = e.value;
    x = e.x;
    return e.finite;
  }

 private:
  struct Entry {
    float value;
    std::int32_t x;
    bool finite;
  };
  bool decode_element(std::uint32_t bits, float& value, std::int32_t& x) const {
    return element_.decode(lowered_ ? dp_.tensor_core_input(input_, bits) : bits, value, x);
  }
  const InstructionDatapath& dp_;
  const FormatSpec& input_;
  ElementDecoder element_;
  bool lowered_;
  std::vector<Entry> table_;
};

// The model exponents (floor(log2|v|), e_min for subnormals) of an operand's finite non-zero
// elements span [lo, hi]; lo > hi when it has none.
struct ExponentRange {
  int lo = std::numeric_limits<int>::max(), hi = std::numeric_limits<int>::min();
};

// Over an operand's bit patterns (OpenMP with `threads`).
ExponentRange exponent_range(const FormatSpec& f, const std::vector<std::uint32_t>& bits, int threads);

// Whether every product a * b of such elements is exact in fp32 with 2^-100 <= |a * b| < 2^100:
// at most 24 significant bits (checked in make_plan), magnitudes at least 2^(x - mantissa_bits)
// and below 2^(x + 1). Inside these bounds the kernels' scalings by 2^(F - E) stay exact or
// provably irrelevant (gemm_fast_avx2.cpp term()).
bool products_are_exact(ExponentRange a, int a_mantissa_bits, ExponentRange b, int b_mantissa_bits);

}  // namespace twofour::sim::gemm_detail
