#pragma once
// Human-readable decoding of bit patterns, for mismatch reports and the command-line tool.
#include "twofour/sim/spec/format.hpp"

#include <cstdint>
#include <string>

namespace twofour::sim {

// e.g. "0x3c00 (+1 * 2^0, normal) = 1" or "0x7e00 (NaN)".
std::string describe_bits(const spec::FormatSpec& format, std::uint32_t bits);

// The shortest decimal that reads back to the same double (exact for every format here).
std::string format_value(const spec::FormatSpec& format, std::uint32_t bits);

}  // namespace twofour::sim
