#include "twofour/sparse/nibbles.hpp"

#include <stdexcept>
#include <string>

namespace twofour::sparse {

std::vector<std::uint8_t> metadata_nibbles(const Compressed& c) {
  const std::size_t mb = meta_element_bytes(c.type, c.layout);
  const std::size_t mcols = meta_cols(c.type, c.layout, c.cols);
  const std::size_t gs = static_cast<std::size_t>(group_size(c.type, c.layout));
  if (c.rows == 0 || c.cols == 0 || c.cols % gs != 0)
    throw std::invalid_argument("compressed matrix of " + std::to_string(c.rows) + " x " + std::to_string(c.cols) +
                                ": K must be a positive multiple of " + std::to_string(gs));
  if (c.layout == MetaLayout::cutlass) {  // what reorder_meta's interleaving needs (compress.hpp)
    const std::size_t row_mult = mb == 4 ? 16 : 32;
    if (c.rows % row_mult != 0 || mcols % 2 != 0 || c.cols % (gs * 2 * mb) != 0)
      throw std::invalid_argument("the cutlass layout needs M % " + std::to_string(row_mult) + " == 0 and K % " +
                                  std::to_string(gs * 4 * mb) + " == 0 for " + std::string(to_string(c.type)) + ", not " +
                                  std::to_string(c.rows) + " x " + std::to_string(c.cols));
  }
  if (c.metadata.size() != c.rows * mcols * mb)
    throw std::invalid_argument("metadata holds " + std::to_string(c.metadata.size()) + " bytes, a " +
                                std::to_string(c.rows) + " x " + std::to_string(c.cols) + " " +
                                std::string(to_string(c.type)) + " matrix in the " + std::string(to_string(c.layout)) +
                                " layout needs " + std::to_string(c.rows) + " x " + std::to_string(mcols) + " elements of " +
                                std::to_string(mb) + " bytes");
  const std::size_t groups = c.cols / gs, per_element = 2 * mb;  // nibbles per metadata element
  std::vector<std::uint8_t> out(c.rows * groups);
  for (std::size_t r = 0; r < c.rows; ++r)
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t j = g / per_element;
      const std::size_t at = c.layout == MetaLayout::rowmajor ? r * mcols + j : cutlass_meta_index(r, j, c.rows, mb);
      std::uint32_t word = 0;
      for (std::size_t b = 0; b < mb; ++b)  // little-endian
        word |= static_cast<std::uint32_t>(std::to_integer<unsigned>(c.metadata[at * mb + b])) << (8 * b);
      out[r * groups + g] = static_cast<std::uint8_t>((word >> (4 * (g % per_element))) & 0xfu);
    }
  return out;
}

}  // namespace twofour::sparse
