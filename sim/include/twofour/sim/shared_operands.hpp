#pragma once
// Operands a warpgroup instruction reads from shared memory through matrix descriptors
// (spec/descriptor.hpp): the bytes of shared memory, the descriptors, and the tiles they hold.
#include "twofour/sim/spec/descriptor.hpp"
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/tile.hpp"

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace twofour::sim {

struct SharedOperands {
  std::vector<std::uint8_t> bytes;  // shared memory; bytes[i] is shared address i
  std::uint64_t a_descriptor = 0;   // rows whose A comes from shared memory
  std::uint64_t b_descriptor = 0;   // rows whose B comes from shared memory
};

// A descriptor the model rejects: the message names the operand, the field or the element
// (row, k) and the shared address involved.
struct DescriptorError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

enum class Operand : std::uint8_t { a, b };

// The tile an operand's descriptor addresses (A: M x stored K; B: K x N), K-major. Throws
// DescriptorError for reserved bits, a non-zero base offset (not modelled), a K extent wider than
// the swizzle row, an element outside `bytes`, or two elements sharing a byte.
Tile load_shared_operand(const spec::Instruction& instr, Operand which, const SharedOperands& shared);

// Stores both descriptor operands of `tiles` in canonical K-major layouts with swizzle `s` (A
// first, B after it, each starting at a multiple of 1024 bytes) and sets the descriptors.
SharedOperands pack_shared(const spec::Instruction& instr, const TileOperands& tiles, spec::Swizzle s);

// The shared byte address of element (row, col) of the operand's tile (A: row m, col stored k;
// B: row k, col n), through `descriptor`; for explain and error messages. Throws DescriptorError
// as load_shared_operand does for the descriptor itself.
std::uint32_t shared_element_address(const spec::Instruction& instr, Operand which, std::uint64_t descriptor, int row,
                                     int col);

}  // namespace twofour::sim
