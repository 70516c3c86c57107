#pragma once
// The instruction row, architecture and sparse grouping that `twofour mma` and `twofour gemm` both
// take (--instr, --arch, --grouping), checked once: an unknown row or architecture, a row that does
// not run on the architecture, or an unknown grouping is a UsageError.
#include "cli/command.hpp"
#include "twofour/sim/tile.hpp"

#include <string>

namespace twofour::cli {

struct InstructionChoice {
  const sim::spec::Instruction& instr;
  sim::spec::Arch arch;
  sim::ExecutionOptions execution;
};

InstructionChoice choose_instruction(const std::string& instr, const std::string& arch, const std::string& grouping);

}  // namespace twofour::cli
