#pragma once
// The GPU probes: hand-built warp-level inputs whose D, read on a GPU, answers one open
// question about mma.sp. Each case names the element to read and the value every hypothesis
// predicts (computed by the simulator under that hypothesis where it can be), so that the GPU's
// output is printed as an answer, not as a number. docs/isa-findings.md lists what each decides.
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/warp.hpp"
#include "validate/gpu.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace twofour::validate {

struct ProbeCase {
  std::string label;
  const sim::spec::Instruction* instr = nullptr;
  int selector = 0;
  sim::WarpRegisters regs{};
  int row = 0, col = 0;  // the D element that answers
  std::vector<std::pair<std::string, std::uint32_t>> hypotheses;  // first: the simulator's current model
};

struct Probe {
  std::string name;
  std::string question;
  std::vector<ProbeCase> cases;
};

// grouping, descending, nan, negzero, overflow, fp8 (sm_90 only).
std::vector<std::string> probe_names();

// Throws std::invalid_argument for an unknown name (the message lists the known ones).
Probe make_probe(std::string_view name, sim::spec::Arch arch);

// The hypotheses `observed` matches, as text ("stored_products (simulator)", or "none: ...").
std::string interpret(const ProbeCase& c, std::uint32_t observed);

// Runs the named probes ("all" or one name) on the GPU and prints one answer line per case.
void run_probes(Gpu& gpu, std::string_view which, std::ostream& log);

// The D element (row, col) of a warp output.
std::uint32_t d_element(const sim::spec::Instruction& instr, const sim::WarpOutput& d, int row, int col);

}  // namespace twofour::validate
