// Operand decoding for the GEMM fast path (gemm_fast_decode.hpp).
#include "gemm_fast_decode.hpp"

#include <algorithm>
#include <cstddef>

namespace twofour::sim::gemm_detail {

ExponentRange exponent_range(const FormatSpec& f, const std::vector<std::uint32_t>& bits, int threads) {
  const std::uint32_t exp_mask = (1u << f.exponent_bits) - 1u, man_mask = (1u << f.mantissa_bits) - 1u;
  int lo = std::numeric_limits<int>::max(), hi = std::numeric_limits<int>::min();
  const auto count = static_cast<std::ptrdiff_t>(bits.size());
#pragma omp parallel for reduction(min : lo) reduction(max : hi) num_threads(threads)
  for (std::ptrdiff_t n = 0; n < count; ++n) {
    const std::uint32_t v = bits[static_cast<std::size_t>(n)];
    const std::uint32_t e = (v >> (f.ignored_low_bits + f.mantissa_bits)) & exp_mask;
    const std::uint32_t m = (v >> f.ignored_low_bits) & man_mask;
    const bool special = e == exp_mask && (f.nan == spec::NanEncoding::ieee || m == man_mask);  // Inf/NaN
    if ((e == 0 && m == 0) || special) continue;
    const int x = e == 0 ? f.min_exponent() : static_cast<int>(e) - f.bias;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  return {lo, hi};
}

bool products_are_exact(ExponentRange a, int a_mantissa_bits, ExponentRange b, int b_mantissa_bits) {
  if (a.lo > a.hi || b.lo > b.hi) return true;  // no non-zero product
  return a.lo - a_mantissa_bits + b.lo - b_mantissa_bits >= -100 && a.hi + b.hi + 2 <= 100;
}

}  // namespace twofour::sim::gemm_detail
