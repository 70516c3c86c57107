#include "twofour/sparse/magnitude_bits.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace twofour::sparse {
namespace {

// Groups of M elements of type U: keep k when fewer than N elements beat it (larger, or equal and
// earlier). M is a compile-time constant for the common M = 4 so the loops unroll; M = 0 means
// `m_runtime`. Returns false at the first magnitude >= non_finite_from (when `check`).
template <typename U, std::size_t M>
bool select_groups(const std::byte* p, std::size_t groups, std::size_t m_runtime, std::size_t n, U magnitude, bool check,
                   U non_finite_from, std::uint8_t* mask, std::optional<std::size_t>& first_non_finite) {
  const std::size_t m = M != 0 ? M : m_runtime;
  U g[kMaxGroupSize];
  for (std::size_t base = 0; base < groups * m; base += m) {
    bool bad = false;
    for (std::size_t k = 0; k < m; ++k, p += sizeof(U)) {
      U v;
      std::memcpy(&v, p, sizeof(U));
      g[k] = static_cast<U>(v & magnitude);
      bad |= check && g[k] >= non_finite_from;
    }
    if (bad) {
      for (std::size_t k = 0; k < m; ++k)
        if (g[k] >= non_finite_from) {
          first_non_finite = base + k;
          return false;
        }
    }
    for (std::size_t k = 0; k < m; ++k) {
      std::size_t beaten = 0;
      for (std::size_t j = 0; j < m; ++j) beaten += (g[j] > g[k] || (g[j] == g[k] && j < k)) ? 1 : 0;
      mask[base + k] = beaten < n ? 1 : 0;
    }
  }
  return true;
}

template <typename U>
void select_typed(std::span<const std::byte> bytes, std::size_t groups, std::size_t m, std::size_t n, std::uint64_t sign_bit,
                  std::uint64_t non_finite_from, BitsMaskResult& r) {
  const auto magnitude = static_cast<U>(~sign_bit);
  const bool check = non_finite_from <= std::numeric_limits<U>::max();
  const auto limit = static_cast<U>(check ? non_finite_from : 0);
  if (m == 4) {
    select_groups<U, 4>(bytes.data(), groups, m, n, magnitude, check, limit, r.mask.data(), r.first_non_finite);
  } else {
    select_groups<U, 0>(bytes.data(), groups, m, n, magnitude, check, limit, r.mask.data(), r.first_non_finite);
  }
}

}  // namespace

BitsMaskResult nm_magnitude_mask_bits(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols, std::size_t element_size,
                                      std::uint64_t sign_bit, std::uint64_t non_finite_from, NMPattern pattern) {
  validate(pattern);
  const auto m = static_cast<std::size_t>(pattern.m);
  const auto n = static_cast<std::size_t>(pattern.n);
  if (cols % m != 0) throw std::invalid_argument(std::to_string(cols) + " columns are not a multiple of M = " + std::to_string(m));
  if (bytes.size() != rows * cols * element_size) throw std::invalid_argument("nm_magnitude_mask_bits: byte count does not match the shape");
  BitsMaskResult r;
  r.mask.assign(rows * cols, 0);
  const std::size_t groups = rows * cols / m;
  switch (element_size) {
    case 1: select_typed<std::uint8_t>(bytes, groups, m, n, sign_bit, non_finite_from, r); break;
    case 2: select_typed<std::uint16_t>(bytes, groups, m, n, sign_bit, non_finite_from, r); break;
    case 4: select_typed<std::uint32_t>(bytes, groups, m, n, sign_bit, non_finite_from, r); break;
    case 8: select_typed<std::uint64_t>(bytes, groups, m, n, sign_bit, non_finite_from, r); break;
    default: throw std::invalid_argument("element size " + std::to_string(element_size) + " is not 1, 2, 4 or 8");
  }
  return r;
}

}  // namespace twofour::sparse
