#pragma once
// Comparing one warp-level case's observed D (the GPU's, or a test-vector file's) with the
// simulator's, element by element, and describing every mismatch with everything needed to
// reproduce it by hand: lane, register, element, (row, col), the inputs of that dot product
// (A row with each stored value's dense column, B column, C) and both outputs decoded.
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/tile.hpp"
#include "twofour/sim/warp.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace twofour::validate {

struct ElementMismatch {
  int lane = 0;
  int reg = 0;
  int element = 0;  // within the register (fp16 D: 0 or 1)
  int row = 0;
  int col = 0;
  std::uint32_t observed = 0;
  std::uint32_t simulated = 0;
};

struct CaseComparison {
  std::vector<ElementMismatch> mismatches;
  std::string error;         // the simulator refused the case (e.g. undefined metadata); counts as failed
  bool unconfirmed = false;  // the simulator ran an unconfirmed form (descending metadata under plain mma.sp)
  bool passed() const { return mismatches.empty() && error.empty(); }
};

// Simulates the case on `arch` and compares every D element with `observed`.
// Warpgroup rows with shared-memory operands take them from `shared`.
CaseComparison compare_case(const sim::spec::Instruction& instr, sim::spec::Arch arch, int selector,
                            const sim::WarpRegisters& regs, const sim::WarpOutput& observed,
                            const sim::ExecutionOptions& options = {}, const sim::SharedOperands* shared = nullptr);

// Same, with the simulator's D already computed.
std::vector<ElementMismatch> compare_outputs(const sim::spec::Instruction& instr, const sim::WarpOutput& observed,
                                             const sim::WarpOutput& simulated);

// A multi-line description of one mismatch: where (lane/register/row/col), the inputs of the dot
// product (decoded), and both outputs. `observed_name` names the other side ("GPU", a file...).
std::string describe_mismatch(const sim::spec::Instruction& instr, int selector, const sim::WarpRegisters& regs,
                              const ElementMismatch& m, const std::string& observed_name,
                              const sim::SharedOperands* shared = nullptr);

}  // namespace twofour::validate
