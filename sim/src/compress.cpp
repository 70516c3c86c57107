#include "twofour/sim/compress.hpp"

#include "twofour/sim/spec/format.hpp"

#include <stdexcept>
#include <utility>
#include <string>

namespace twofour::sim {

CompressedA compress_a(const spec::Instruction& instr, const Tile& dense) {
  if (instr.sparsity != spec::Sparsity::two_of_four)
    throw std::invalid_argument(std::string(instr.name) + " is not a 2:4 row; compress_a packs 2:4 rows only");
  if (dense.cols % 4 != 0)
    throw std::invalid_argument("compress_a: K = " + std::to_string(dense.cols) + " is not a multiple of 4");
  const spec::FormatSpec& f = *instr.a;
  // Floats: ignore the sign bit, so that -0 counts as zero.
  const std::uint32_t magnitude_mask = f.is_integer ? 0xffffffffu : ~(1u << (f.bits - 1));
  CompressedA out;
  out.values = Tile(dense.rows, dense.cols / 2);
  out.metadata.resize(static_cast<std::size_t>(dense.rows) * static_cast<std::size_t>(dense.cols / 4));
  for (int r = 0; r < dense.rows; ++r) {
    for (int chunk = 0; chunk < dense.cols / 4; ++chunk) {
      int kept[2] = {-1, -1};
      int count = 0;
      for (int i = 0; i < 4; ++i) {
        if ((dense.at(r, 4 * chunk + i) & magnitude_mask) == 0) continue;
        if (count == 2)
          throw std::invalid_argument("compress_a: row " + std::to_string(r) + ", chunk " + std::to_string(chunk) +
                                      " (columns " + std::to_string(4 * chunk) + ".." + std::to_string(4 * chunk + 3) +
                                      ") holds more than two non-zeros: not 2:4");
        kept[count++] = i;
      }
      // Fill the pair with the lowest-indexed positions not yet taken (zeros), keeping idx0 < idx1.
      for (int i = 0; count < 2 && i < 4; ++i)
        if (i != kept[0]) kept[count++] = i;
      if (kept[0] > kept[1]) std::swap(kept[0], kept[1]);
      out.values.at(r, 2 * chunk) = dense.at(r, 4 * chunk + kept[0]);
      out.values.at(r, 2 * chunk + 1) = dense.at(r, 4 * chunk + kept[1]);
      out.metadata[static_cast<std::size_t>(r) * static_cast<std::size_t>(dense.cols / 4) + static_cast<std::size_t>(chunk)] =
          static_cast<std::uint8_t>(kept[0] | (kept[1] << 2));
    }
  }
  return out;
}

}  // namespace twofour::sim
