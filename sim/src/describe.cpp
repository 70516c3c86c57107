#include "twofour/sim/describe.hpp"

#include <charconv>
#include <cstdio>

namespace twofour::sim {

std::string format_value(const spec::FormatSpec& format, std::uint32_t bits) {
  const double v = spec::decode_to_double(format, bits);
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

std::string describe_bits(const spec::FormatSpec& format, std::uint32_t bits) {
  bits &= format.container_mask();
  const int hex_digits = (format.container_bits + 3) / 4;
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%0*x", hex_digits, bits);
  const spec::Decoded d = spec::decode(format, bits);
  std::string out = hex;
  switch (d.cls) {
    case spec::FpClass::nan: return out + " (NaN)";
    case spec::FpClass::infinity: return out + (d.negative ? " (-Inf)" : " (+Inf)");
    case spec::FpClass::zero: return out + (d.negative ? " (-0)" : " (+0)");
    default: break;
  }
  if (format.is_integer) return out + " (" + format_value(format, bits) + ")";
  out += " (";
  out += d.negative ? "-" : "+";
  out += std::to_string(d.significand) + " * 2^" + std::to_string(d.exponent);
  out += d.cls == spec::FpClass::subnormal ? ", subnormal) = " : ", normal) = ";
  return out + format_value(format, bits);
}

}  // namespace twofour::sim
