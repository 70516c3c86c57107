#include "twofour/sparse/render.hpp"

#include "twofour/sparse/compress.hpp"
#include "twofour/sparse/mask.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace twofour::sparse {
namespace {

std::string num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%7.2f", static_cast<double>(v));
  return buf;
}
std::string hex16(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

}  // namespace

std::string render_24(std::span<const float> dense, std::size_t rows, std::size_t cols) {
  if (dense.size() != rows * cols || rows == 0 || cols % 4 != 0 || cols == 0 || rows > 64 || cols > 64)
    throw std::invalid_argument("render_24 needs a rows x cols matrix with cols a multiple of 4, at most 64 x 64");
  const std::size_t dims[2] = {rows, cols};
  const GroupedShape shape(dims);
  const Mask mask = nm_magnitude_mask(dense, shape, {2, 4});
  std::vector<float> pruned(dense.begin(), dense.end());
  apply_mask(pruned, mask);
  const Compressed c = compress_f32(pruned, rows, cols, MetaLayout::rowmajor);
  std::vector<float> values(rows * cols / 2);
  std::memcpy(values.data(), c.values.data(), c.values.size());
  const std::size_t words = meta_words_per_row(cols);

  std::string out = "dense " + std::to_string(rows) + " x " + std::to_string(cols) + ":\n";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t k = 0; k < cols; ++k) out += (k % 4 == 0 && k ? " |" : "") + num(dense[r * cols + k]);
    out += "\n";
  }
  out += "2:4 mask (keep the 2 largest |w| of each group of 4):\n";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t k = 0; k < cols; ++k) out += std::string(k % 4 == 0 && k ? " | " : " ") + (mask[r * cols + k] ? "1" : ".");
    out += "\n";
  }
  out += "values (" + std::to_string(rows) + " x " + std::to_string(cols / 2) + "), then metadata nibbles idx1:idx0 and uint16 words:\n";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t k = 0; k < cols / 2; ++k)
      out += (k % 2 == 0 && k ? " |" : "") + num(values[r * (cols / 2) + k]);
    out += "   ";
    std::uint16_t row_words[16] = {};
    for (std::size_t w = 0; w < words; ++w)
      row_words[w] = static_cast<std::uint16_t>(static_cast<unsigned>(c.metadata[2 * (r * words + w)]) |
                                                static_cast<unsigned>(c.metadata[2 * (r * words + w) + 1]) << 8);
    for (std::size_t g = 0; g < cols / 4; ++g) {
      const unsigned nib = meta_nibble(row_words, g);
      out += " " + std::to_string(nibble_idx1(nib)) + ":" + std::to_string(nibble_idx0(nib));
    }
    out += "  ";
    for (std::size_t w = 0; w < words; ++w) out += " " + hex16(row_words[w]);
    out += "\n";
  }
  return out;
}

}  // namespace twofour::sparse
