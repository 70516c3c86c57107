#include "cli/instruction_choice.hpp"

#include "twofour/sim/find_instruction.hpp"
#include "twofour/sim/instruction_datapath.hpp"

namespace twofour::cli {

InstructionChoice choose_instruction(const std::string& instr, const std::string& arch_text, const std::string& grouping) {
  const sim::spec::Instruction& in = sim::find_instruction_or_throw<UsageError>(instr);
  sim::spec::Arch arch{};
  try {
    arch = sim::parse_arch(arch_text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (!sim::instruction_supported(in, arch))
    throw UsageError(std::string(in.name) + " does not run on " + arch_text + " (needs " +
                     (in.threads != 32 ? std::string("sm90: wgmma is sm_90a only") : std::string(sim::spec::arch_name(in.min_arch)) + "+") +
                     ")");
  sim::ExecutionOptions execution;
  if (grouping == "logical") execution.grouping = sim::SparseGrouping::logical_k;
  else if (grouping != "stored") throw UsageError("--grouping must be stored or logical");
  return {in, arch, execution};
}

}  // namespace twofour::cli
