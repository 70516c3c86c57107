#pragma once
// Thread-level execution of one instruction row (a warp of 32 threads for mma / mma.sp, more for
// multi-warp rows): the exact per-thread registers in, the exact per-thread D registers out. One
// generic executor serves every row of the instruction table: scatter the registers through the
// row's layouts (spec/layout.hpp) into tiles, decode the metadata from the threads the selector
// names, run the tile (tile.hpp), gather D back. "Lane" below means a thread of the instruction
// (0 .. instr.threads-1).
#include "twofour/sim/shared_operands.hpp"
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/tile.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace twofour::sim {

// Registers of one thread, as 32-bit words: a, b and c hold the row's a_registers(),
// b_registers() and c_registers() words (an operand read from shared memory has none).
struct LaneRegisters {
  std::vector<std::uint32_t> a;
  std::vector<std::uint32_t> b;
  std::vector<std::uint32_t> c;
  std::uint32_t e = 0;  // metadata (sparse rows only)
  bool operator==(const LaneRegisters&) const = default;
};
using WarpRegisters = std::vector<LaneRegisters>;            // one entry per thread of the row
using WarpOutput = std::vector<std::vector<std::uint32_t>>;  // D registers per thread

// Zeroed registers sized for `instr`: instr.threads threads with the row's register counts.
WarpRegisters make_registers(const spec::Instruction& instr);
// Zeroed D registers sized for `instr`.
WarpOutput make_output(const spec::Instruction& instr);

struct WarpResult {
  WarpOutput d{};
  // Set when the metadata used a form that is legal but unconfirmed on hardware (a descending
  // index pair under plain mma.sp, docs/ptx-facts.md §Metadata [I]); `notes` names lane, register and nibble.
  bool unconfirmed = false;
  std::vector<std::string> notes;
};

// Undefined behaviour in the metadata throws MetadataError naming the lane, the register (e), the
// nibble and the A row/chunk it covers; a selector outside the row's range (or non-zero for a
// dense row) throws MetadataError too. UnsupportedInstruction when the row does not run on arch.
// Rows reading A or B from shared memory take them from `shared` (nullptr for such a row throws
// DescriptorError).
WarpResult run_warp(const spec::Instruction& instr, spec::Arch arch, const WarpRegisters& regs, int selector = 0,
                    const ExecutionOptions& options = {}, const SharedOperands* shared = nullptr);

// Registers -> tiles (A, B, C and, for sparse rows, the metadata read from the selector's lanes),
// with the same UB checks and notes as run_warp. Lanes that do not supply metadata are ignored.
// Registers not sized for the row (make_registers) throw std::invalid_argument naming the thread.
TileOperands unpack_operands(const spec::Instruction& instr, const WarpRegisters& regs, int selector = 0,
                             bool* unconfirmed = nullptr, std::vector<std::string>* notes = nullptr,
                             const SharedOperands* shared = nullptr);

// Tiles -> registers, through the row's layouts; metadata goes to the selector's lanes, the other
// lanes' e stay 0. Operands read from shared memory are not in registers (pack_shared stores
// them). Throws std::invalid_argument on wrong tile shapes.
WarpRegisters pack_registers(const spec::Instruction& instr, const TileOperands& tiles, int selector = 0);

// D registers <-> the M x N D tile.
Tile unpack_d(const spec::Instruction& instr, const WarpOutput& d);
WarpOutput pack_d(const spec::Instruction& instr, const Tile& d);

// Throws MetadataError unless 0 <= selector < selector_count() (dense rows: selector must be 0).
void check_selector(const spec::Instruction& instr, int selector);

}  // namespace twofour::sim
