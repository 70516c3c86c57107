#pragma once
// The inverse of decompress_a at any size: a dense M x K matrix of bit patterns whose 4-wide
// chunks hold at most two non-zeros, turned into the operands the tile and GEMM levels take
// (compressed A in storage order plus one metadata nibble per chunk). This is what a kernel's
// host code does before launching mma.sp; the simulator and the CUDA backend share it.
#include "twofour/sim/tile.hpp"

#include <cstdint>
#include <vector>

namespace twofour::sim {

struct CompressedA {
  Tile values;                         // M x K/2, the kept values of each chunk, lower index first
  std::vector<std::uint8_t> metadata;  // M x K/4 nibbles (idx0 | idx1 << 2, idx0 < idx1), row-major
};

// `instr` must be a 2:4 row (f16, bf16, 8-bit, fp8; tf32 and 4-bit rows pack differently).
// A chunk with fewer than two non-zeros stores the positions spec::select_two_of_four names
// (PyTorch's choice), so decompress_a gives back every element exactly, except that a -0 in a
// position not stored comes back as +0. Zero means +0 or -0 for floats, 0 for integers.
// Throws std::invalid_argument when K is not a multiple of 4, a chunk holds more than two
// non-zeros (naming row and chunk), or the row is not a 2:4 row.
CompressedA compress_a(const spec::Instruction& instr, const Tile& dense);

}  // namespace twofour::sim
