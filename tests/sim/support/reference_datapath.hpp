#pragma once
// A slow, independent oracle of the tensor-core block-FMA datapath, written step by step from the
// published model (Khattak & Mikaitis, "Accurate Models of NVIDIA Tensor Cores", arXiv
// 2512.07004, `models/tools/Generic_BFMA_TC.m` and `GEMM.m`; docs/datapath.md §Model). It shares only the
// parameter table (DatapathSpec) and the FormatSpec field widths with the fast path: decoding,
// exponents, alignment, summation and rounding are re-derived here with exact wide-integer
// arithmetic (fixed point of kLimbs 64-bit words), no 64-bit shortcuts and no call into rounding.hpp.
#include "twofour/sim/spec/datapath.hpp"

#include <cstdint>
#include <vector>

namespace twofour::testing {

// D bits for a, b (input-format patterns) and c (output-format pattern), as blockfma.hpp's dot().
std::uint32_t reference_dot(const sim::spec::DatapathSpec& spec, const std::vector<std::uint32_t>& a,
                            const std::vector<std::uint32_t>& b, std::uint32_t c);

// Integer rows: exact sum in a wide integer, then wrap modulo 2^32 or clamp.
std::uint32_t reference_dot_int(const sim::spec::DatapathSpec& spec, const std::vector<std::uint32_t>& a,
                                const std::vector<std::uint32_t>& b, std::uint32_t c);

}  // namespace twofour::testing
