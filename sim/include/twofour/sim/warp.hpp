#pragma once
// Warp-level execution of one mma / mma.sp instruction row: the exact per-lane registers in, the
// exact per-lane D registers out. One generic executor serves every row of the instruction table:
// scatter the registers through the row's layouts (spec/layout.hpp) into tiles, decode the
// metadata from the lanes the selector names, run the tile (tile.hpp), gather D back.
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/tile.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace twofour::sim {

// Registers of one lane, as 32-bit words; registers beyond the row's count are ignored. Same
// layout as twofour::cuda::GpuLaneRegisters {a[4], b[4], c[4], e}.
struct LaneRegisters {
  std::array<std::uint32_t, 4> a{};
  std::array<std::uint32_t, 4> b{};
  std::array<std::uint32_t, 4> c{};
  std::uint32_t e = 0;  // metadata (sparse rows only)
  bool operator==(const LaneRegisters&) const = default;
};
using WarpRegisters = std::array<LaneRegisters, 32>;
using WarpOutput = std::array<std::array<std::uint32_t, 4>, 32>;  // D registers per lane

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
WarpResult run_warp(const spec::Instruction& instr, spec::Arch arch, const WarpRegisters& regs, int selector = 0,
                    const ExecutionOptions& options = {});

// Registers -> tiles (A, B, C and, for sparse rows, the metadata read from the selector's lanes),
// with the same UB checks and notes as run_warp. Lanes that do not supply metadata are ignored.
TileOperands unpack_operands(const spec::Instruction& instr, const WarpRegisters& regs, int selector = 0,
                             bool* unconfirmed = nullptr, std::vector<std::string>* notes = nullptr);

// Tiles -> registers, through the row's layouts; metadata goes to the selector's lanes, the other
// lanes' e stay 0. Throws std::invalid_argument on wrong tile shapes.
WarpRegisters pack_registers(const spec::Instruction& instr, const TileOperands& tiles, int selector = 0);

// D registers <-> the M x N D tile.
Tile unpack_d(const spec::Instruction& instr, const WarpOutput& d);
WarpOutput pack_d(const spec::Instruction& instr, const Tile& d);

// Throws MetadataError unless 0 <= selector < selector_count() (dense rows: selector must be 0).
void check_selector(const spec::Instruction& instr, int selector);

}  // namespace twofour::sim
