#pragma once
// A small matrix's 2:4 story as text, for demos and docs: the dense input, the 2:4 magnitude mask
// (keep the 2 largest |w| of every 4 along a row; already-2:4 input keeps its non-zeros), the
// compressed values (M x K/2) and the metadata nibbles (idx1 idx0, PTX mma.sp encoding) and
// uint16 words of the row-major layout (rowmajor_layout.hpp).
#include <cstddef>
#include <span>
#include <string>

namespace twofour::sparse {

// Throws std::invalid_argument unless dense.size() == rows * cols, cols % 4 == 0, and the matrix
// is small enough to read (rows, cols <= 64).
std::string render_24(std::span<const float> dense, std::size_t rows, std::size_t cols);

}  // namespace twofour::sparse
