#pragma once
// The datapath of one instruction row on one architecture: picks the DatapathSpec (spec/datapath.hpp)
// from the row's A/B/D formats, the architecture and .satfinite, and runs one output element's dot
// product through blockfma.hpp (the float block-FMA model or the exact integer path).
#include "twofour/sim/spec/datapath.hpp"
#include "twofour/sim/spec/instruction.hpp"

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>

namespace twofour::sim {

// The row cannot run on the architecture (e.g. fp8 on sm_80) or has no modelled datapath.
struct UnsupportedInstruction : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

class InstructionDatapath {
 public:
  // Throws UnsupportedInstruction when arch < instr.min_arch or no DatapathSpec row matches.
  InstructionDatapath(const spec::Instruction& instr, spec::Arch arch);

  // D bits of one output element: a, b are the K (or stored-K) input patterns of the product
  // terms in datapath order, c the accumulator in the D format.
  std::uint32_t dot(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b, std::uint32_t c) const;

  const spec::DatapathSpec& spec() const { return spec_; }
  bool is_integer() const { return spec_.is_integer(); }

 private:
  spec::DatapathSpec spec_;
};

// True when `instr` runs on `arch` (architecture high enough and a datapath row exists).
bool instruction_supported(const spec::Instruction& instr, spec::Arch arch);

// The architecture named "sm80", "sm_80", "80", "sm89", "sm90" (nullopt-like: throws
// std::invalid_argument naming the accepted spellings).
spec::Arch parse_arch(std::string_view text);

}  // namespace twofour::sim
