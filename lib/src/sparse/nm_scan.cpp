#include "twofour/sparse/nm_scan.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace twofour::sparse {
namespace {

template <typename U>
U load(const std::byte* p) {
  U v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename U>
NMScan scan_typed(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols, std::uint64_t sign_bit,
                  NMPattern pattern) {
  const U sign = static_cast<U>(sign_bit);
  const U magnitude = static_cast<U>(~sign);
  const auto m = static_cast<std::size_t>(pattern.m);
  const auto n = static_cast<std::size_t>(pattern.n);
  NMScan s;
  s.elements = rows * cols;
  s.groups = rows * (cols / m);
  const std::byte* p = bytes.data();
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t g = 0; g < cols / m; ++g) {
      std::size_t nonzero = 0, negzero = 0;
      for (std::size_t k = 0; k < m; ++k, p += sizeof(U)) {
        const U v = load<U>(p);
        const bool zero = (v & magnitude) == 0;
        nonzero += zero ? 0 : 1;
        negzero += (zero && sign != 0 && v == sign) ? 1 : 0;
      }
      s.zeros += m - nonzero;
      s.negative_zeros += negzero;
      if (nonzero > n) {
        if (s.bad_groups == 0) {
          s.first_row = r;
          s.first_group = g;
          s.first_nonzeros = nonzero;
        }
        ++s.bad_groups;
      } else if (nonzero + negzero > n) {
        ++s.bitwise_bad_groups;
      }
    }
  }
  return s;
}

// The number of lanes whose bit 15 is set: the lane bits moved to bit 0 of each lane and summed
// into the top lane by one multiply (a portable popcount of 4 bits; without -mpopcnt
// std::popcount is a library call that would dominate the scan).
inline std::size_t lanes_set(std::uint64_t top_bits) {
  return static_cast<std::size_t>(((top_bits >> 15) * 0x0001000100010001ull) >> 48);
}

// 16-bit 2:4-style groups (M = 4) as one 64-bit word of four lanes: a lane's magnitude m is
// non-zero exactly when m + 0x7fff sets its bit 15 (m <= 0x7fff, so no carry crosses lanes).
NMScan scan_u16_m4(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols, std::uint16_t sign, std::size_t n) {
  constexpr std::uint64_t low15 = 0x7fff7fff7fff7fffull, top = 0x8000800080008000ull;
  const std::uint64_t magnitude = sign != 0 ? low15 : ~std::uint64_t{0};
  NMScan s;
  s.elements = rows * cols;
  s.groups = rows * cols / 4;
  const std::byte* p = bytes.data();
  for (std::size_t g = 0; g < s.groups; ++g, p += 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    const std::uint64_t mag = v & magnitude;
    const auto value_nonzero = lanes_set((((mag & low15) + low15) | mag) & top);
    const auto bits_nonzero = lanes_set((((v & low15) + low15) | v) & top);
    s.zeros += 4 - value_nonzero;
    s.negative_zeros += bits_nonzero - value_nonzero;
    if (value_nonzero > n) {
      if (s.bad_groups == 0) {
        s.first_row = g / (cols / 4);
        s.first_group = g % (cols / 4);
        s.first_nonzeros = value_nonzero;
      }
      ++s.bad_groups;
    } else if (bits_nonzero > n) {
      ++s.bitwise_bad_groups;
    }
  }
  return s;
}

template <typename U>
NMScan zeros_typed(std::span<const std::byte> bytes, std::uint64_t sign_bit) {
  const U sign = static_cast<U>(sign_bit);
  const U magnitude = static_cast<U>(~sign);
  NMScan s;
  s.elements = bytes.size() / sizeof(U);
  const std::byte* p = bytes.data();
  for (std::size_t i = 0; i < s.elements; ++i, p += sizeof(U)) {
    const U v = load<U>(p);
    if ((v & magnitude) == 0) {
      ++s.zeros;
      if (sign != 0 && v == sign) ++s.negative_zeros;
    }
  }
  return s;
}

}  // namespace

NMScan scan_nm(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols, std::size_t element_size,
               std::uint64_t sign_bit, NMPattern pattern) {
  validate(pattern);
  if (cols % static_cast<std::size_t>(pattern.m) != 0)
    throw std::invalid_argument(std::to_string(cols) + " columns are not a multiple of M = " + std::to_string(pattern.m));
  if (bytes.size() != rows * cols * element_size) throw std::invalid_argument("scan_nm: byte count does not match the shape");
  switch (element_size) {
    case 1: return scan_typed<std::uint8_t>(bytes, rows, cols, sign_bit, pattern);
    case 2:
      if (pattern.m == 4) return scan_u16_m4(bytes, rows, cols, static_cast<std::uint16_t>(sign_bit), static_cast<std::size_t>(pattern.n));
      return scan_typed<std::uint16_t>(bytes, rows, cols, sign_bit, pattern);
    case 4: return scan_typed<std::uint32_t>(bytes, rows, cols, sign_bit, pattern);
    case 8: return scan_typed<std::uint64_t>(bytes, rows, cols, sign_bit, pattern);
    default: throw std::invalid_argument("scan_nm: element size " + std::to_string(element_size) + " is not 1, 2, 4 or 8");
  }
}

NMScan count_zeros(std::span<const std::byte> bytes, std::size_t element_size, std::uint64_t sign_bit) {
  switch (element_size) {
    case 1: return zeros_typed<std::uint8_t>(bytes, sign_bit);
    case 2: return zeros_typed<std::uint16_t>(bytes, sign_bit);
    case 4: return zeros_typed<std::uint32_t>(bytes, sign_bit);
    case 8: return zeros_typed<std::uint64_t>(bytes, sign_bit);
    default: throw std::invalid_argument("count_zeros: element size " + std::to_string(element_size) + " is not 1, 2, 4 or 8");
  }
}

}  // namespace twofour::sparse
