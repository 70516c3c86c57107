#pragma once
// The metadata of a compressed matrix (compress.hpp) as one nibble per group, row-major, in K
// order: the form the simulator's tile and GEMM levels take (one nibble per mma.sp chunk). Both
// layouts store the mma.sp nibble itself, so this only undoes the storage order (CUTLASS's
// reorder_meta and interleaving, or the packing of 4 nibbles per uint16 word of rowmajor).
#include "twofour/sparse/compress.hpp"

#include <cstdint>
#include <vector>

namespace twofour::sparse {

// rows x (cols / group_size) nibbles. Does not judge them (the simulator does, naming row and
// chunk). Throws std::invalid_argument when the sizes do not match the shape and layout.
std::vector<std::uint8_t> metadata_nibbles(const Compressed& c);

}  // namespace twofour::sparse
