#pragma once
// Reading the operands of `twofour gemm` from .npy files into the simulator's GEMM operands:
// A dense (2:4 pattern) or compressed in a layout the library knows, B and C row- or
// column-major, and a kernel's D to check.
#include "twofour/sim/gemm.hpp"

#include <string>

namespace twofour::cli {

// How a 2-D .npy file holds a matrix: row-major (the array IS the matrix) or column-major (the
// array is its transpose, e.g. B stored N x K as a "TN" kernel keeps it).
enum class Major { row, col };
Major parse_major(const std::string& text, const std::string& option);  // throws UsageError

// A matrix of `format` bit patterns, rows x cols (cols < 0: any), from a 2-D .npy array: raw bits
// when the dtype has the format's width (f16 for fp16, uint16 for bf16, float32 for tf32/fp32,
// uint8/int8 for 8-bit formats, int32 for s32), values rounded to nearest even from float32/64
// for float formats of another width. Throws CommandFailed naming the file.
sim::Tile read_matrix(const std::string& path, const sim::spec::FormatSpec& format, int rows, int cols, Major major,
                      const std::string& what);

struct AInput {
  std::string layout = "dense";  // dense | nibbles | rowmajor | cutlass
  std::string values, metadata;  // dense: values is the M x K matrix; else values + metadata
};

// Fills operands.a and operands.metadata for `instr` (K = operands.b.rows). Dense rows take only
// the dense layout. Throws CommandFailed (bad files, a dense A that is not 2:4, naming row and
// chunk) or UsageError (a layout the row cannot use).
void read_a(const sim::spec::Instruction& instr, const AInput& in, int k, sim::GemmOperands& operands);

}  // namespace twofour::cli
