#include "twofour/sparse/bitmask24.hpp"

#include <bit>
#include <cstring>

namespace twofour::sparse {
namespace {

std::uint64_t element_bits(const std::byte* p, std::size_t es) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, es);  // little-endian host: the low bytes of v
  return v;
}

void check_shape(std::size_t cols, std::size_t element_size) {
  if (cols % 4 != 0) throw std::invalid_argument(std::to_string(cols) + " columns are not a multiple of 4");
  if (element_size != 1 && element_size != 2 && element_size != 4 && element_size != 8)
    throw std::invalid_argument("element size " + std::to_string(element_size) + " is not 1, 2, 4 or 8");
}

std::string group_text(std::size_t row, std::size_t g) {
  return "row " + std::to_string(row) + ", group " + std::to_string(g) + " (columns " + std::to_string(4 * g) + ".." +
         std::to_string(4 * g + 3) + ")";
}

}  // namespace

Bitmask24 compress_bitmask24(std::span<const std::byte> dense, std::size_t rows, std::size_t cols,
                             std::size_t element_size, std::uint64_t sign_bit) {
  check_shape(cols, element_size);
  if (dense.size() != rows * cols * element_size) throw std::invalid_argument("compress_bitmask24: byte count does not match the shape");
  const std::size_t es = element_size;
  const std::uint64_t all = es == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * es)) - 1;
  const std::uint64_t magnitude = all & ~sign_bit;
  const std::size_t row_bytes = bitmask24_row_bytes(cols);
  Bitmask24 out;
  out.values.resize(rows * cols / 2 * es);
  out.bitmask.assign(rows * row_bytes, 0);
  std::byte* v = out.values.data();
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t g = 0; g < cols / 4; ++g) {
      const std::byte* p = dense.data() + (r * cols + 4 * g) * es;
      unsigned keep = 0, nonzero = 0, negzero = 0;
      for (unsigned k = 0; k < 4; ++k) {
        const std::uint64_t bits = element_bits(p + k * es, es);
        if ((bits & magnitude) != 0) {
          nonzero |= 1u << k;
        } else if (bits != 0) {
          negzero |= 1u << k;
        }
      }
      if (std::popcount(nonzero) > 2)
        throw Bitmask24Error(group_text(r, g) + " holds " + std::to_string(std::popcount(nonzero)) +
                                 " non-zero values; 2:4 keeps at most 2",
                             r, g);
      keep = nonzero;
      for (unsigned k = 0; k < 4 && std::popcount(keep) < 2; ++k)
        if (negzero & (1u << k)) keep |= 1u << k;
      for (unsigned k = 0; k < 4 && std::popcount(keep) < 2; ++k) keep |= 1u << k;
      for (unsigned k = 0; k < 4; ++k) {
        if (!(keep & (1u << k))) continue;
        std::memcpy(v, p + k * es, es);
        v += es;
        const std::size_t c = 4 * g + k;
        out.bitmask[r * row_bytes + c / 8] |= static_cast<std::uint8_t>(1u << (c % 8));
      }
    }
  }
  return out;
}

std::vector<std::byte> decompress_bitmask24(std::span<const std::byte> values, std::span<const std::uint8_t> bitmask,
                                            std::size_t rows, std::size_t cols, std::size_t element_size) {
  check_shape(cols, element_size);
  const std::size_t es = element_size;
  const std::size_t row_bytes = bitmask24_row_bytes(cols);
  if (values.size() != rows * cols / 2 * es)
    throw std::invalid_argument("values hold " + std::to_string(values.size() / es) + " elements, " + std::to_string(rows) + " x " +
                                std::to_string(cols) + " needs " + std::to_string(rows * cols / 2));
  if (bitmask.size() != rows * row_bytes)
    throw std::invalid_argument("bitmask holds " + std::to_string(bitmask.size()) + " bytes, " + std::to_string(rows) + " x " +
                                std::to_string(cols) + " needs " + std::to_string(rows * row_bytes));
  std::vector<std::byte> dense(rows * cols * es, std::byte{0});
  const std::byte* v = values.data();
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint8_t* row = bitmask.data() + r * row_bytes;
    if (cols % 8 != 0 && (row[row_bytes - 1] >> (cols % 8)) != 0)
      throw Bitmask24Error("row " + std::to_string(r) + " sets bitmask bits beyond column " + std::to_string(cols - 1), r, cols / 4);
    for (std::size_t g = 0; g < cols / 4; ++g) {
      const unsigned bits = (row[(4 * g) / 8] >> ((4 * g) % 8)) & 0xfu;
      if (std::popcount(bits) != 2)
        throw Bitmask24Error("bitmask of " + group_text(r, g) + " has " + std::to_string(std::popcount(bits)) +
                                 " bits set; sparse-24-bitmask keeps exactly 2",
                             r, g);
      for (unsigned k = 0; k < 4; ++k)
        if (bits & (1u << k)) {
          std::memcpy(dense.data() + (r * cols + 4 * g + k) * es, v, es);
          v += es;
        }
    }
  }
  return dense;
}

}  // namespace twofour::sparse
