#pragma once
// Test cases for validating an instruction row against hardware (`twofour validate`): random and
// adversarial inputs as the per-lane registers the GPU runner and run_warp take. Every case is a pure
// function of (seed, row, case index), so a failing case can be regenerated alone.
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/warp.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace twofour::sim {

enum class CaseClass : std::uint8_t {
  random,              // random_tile_operands: moderate values, some zeros and subnormals
  discriminating,      // one FHMP vector (docs/ptx-facts.md) in one output element, terms spread over chunks
  exponent_spread,     // every exponent of the format, random signs
  cancellation,        // +x and -x products in one row, with small terms left over
  subnormals,          // subnormal and near-subnormal inputs and C
  specials,            // +-Inf and NaNs with payloads among finite values (A, B and C)
  metadata_patterns,   // every defined nibble at every (row, chunk), cycling with the case index
  descending_metadata, // plain mma.sp only: descending index pairs (legal in PTX, unconfirmed [I])
  integer_extremes,    // integer rows: min, max, -1, 0, 1 inputs and C near the s32 limits
};

std::string_view case_class_name(CaseClass c);

// The classes generated for a row: float rows get the float classes, integer rows
// integer_extremes; sparse rows the metadata classes (descending only without ::ordered_metadata).
std::vector<CaseClass> case_classes(const spec::Instruction& instr);

struct GeneratedCase {
  const spec::Instruction* instr = nullptr;
  CaseClass cls = CaseClass::random;
  int selector = 0;
  WarpRegisters regs{};
};

// Case `index` of the row: class case_classes(instr)[index % count], selector index % selector
// range (so every selector meets every class), inputs from a generator seeded by (seed, row, index).
// Never produces undefined behaviour (equal indices, descending under ::ordered_metadata, a tf32
// nibble other than 0100/1110, a selector out of range).
GeneratedCase generate_case(const spec::Instruction& instr, std::uint64_t seed, std::uint64_t index);

// The defined nibbles of a sparse row, ascending pairs first; `with_descending` adds the descending
// pairs of plain mma.sp.
std::vector<std::uint8_t> defined_nibbles(const spec::Instruction& instr, bool with_descending);

}  // namespace twofour::sim
