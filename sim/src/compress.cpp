#include "twofour/sim/compress.hpp"

#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/two_four_group.hpp"

#include <stdexcept>
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
      unsigned nonzero = 0;
      int count = 0;
      for (int i = 0; i < 4; ++i) {
        if ((dense.at(r, 4 * chunk + i) & magnitude_mask) == 0) continue;
        if (count == 2)
          throw std::invalid_argument("compress_a: row " + std::to_string(r) + ", chunk " + std::to_string(chunk) +
                                      " (columns " + std::to_string(4 * chunk) + ".." + std::to_string(4 * chunk + 3) +
                                      ") holds more than two non-zeros: not 2:4");
        nonzero |= 1u << i;
        ++count;
      }
      const spec::TwoFourSelection pick = spec::select_two_of_four(nonzero);
      out.values.at(r, 2 * chunk) = dense.at(r, 4 * chunk + static_cast<int>(pick.idx0));
      out.values.at(r, 2 * chunk + 1) = dense.at(r, 4 * chunk + static_cast<int>(pick.idx1));
      out.metadata[static_cast<std::size_t>(r) * static_cast<std::size_t>(dense.cols / 4) + static_cast<std::size_t>(chunk)] =
          static_cast<std::uint8_t>(pick.nibble());
    }
  }
  return out;
}

}  // namespace twofour::sim
