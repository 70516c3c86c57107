#include "twofour/sparse/magnitude_bits.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace twofour::sparse {

BitsMaskResult nm_magnitude_mask_bits(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols, std::size_t element_size,
                                      std::uint64_t sign_bit, std::uint64_t non_finite_from, NMPattern pattern) {
  validate(pattern);
  const auto m = static_cast<std::size_t>(pattern.m);
  const auto n = static_cast<std::size_t>(pattern.n);
  if (cols % m != 0) throw std::invalid_argument(std::to_string(cols) + " columns are not a multiple of M = " + std::to_string(m));
  if (bytes.size() != rows * cols * element_size) throw std::invalid_argument("nm_magnitude_mask_bits: byte count does not match the shape");
  const std::size_t es = element_size;
  const std::uint64_t magnitude = ~sign_bit & (es == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * es)) - 1);
  BitsMaskResult r;
  r.mask.assign(rows * cols, 0);
  std::uint64_t g[kMaxGroupSize];
  const std::byte* p = bytes.data();
  for (std::size_t base = 0; base < rows * cols; base += m) {
    for (std::size_t k = 0; k < m; ++k, p += es) {
      std::uint64_t v = 0;
      std::memcpy(&v, p, es);
      g[k] = v & magnitude;
      if (g[k] >= non_finite_from) {
        r.first_non_finite = base + k;
        return r;
      }
    }
    // keep k when fewer than N elements beat it (larger, or equal and earlier)
    for (std::size_t k = 0; k < m; ++k) {
      std::size_t beaten = 0;
      for (std::size_t j = 0; j < m && beaten < n; ++j) beaten += (g[j] > g[k] || (g[j] == g[k] && j < k)) ? 1 : 0;
      r.mask[base + k] = beaten < n ? 1 : 0;
    }
  }
  return r;
}

}  // namespace twofour::sparse
