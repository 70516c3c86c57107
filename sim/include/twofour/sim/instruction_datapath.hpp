#pragma once
// The datapath of one instruction row on one architecture: picks the DatapathSpec (spec/datapath.hpp)
// from the row's A/B/D formats, the architecture and .satfinite, and runs one output element's dot
// product through blockfma.hpp (the float block-FMA model or the exact integer path).
//
// Not every PTX instruction is one tensor-core operation: on sm_90 and sm_100, fp8 mma / mma.sp are
// lowered by ptxas to two fp16 HMMAs plus an IEEE add of C (fp8_lowering.hpp, docs/isa-findings.md).
// `lowering()` says which; `spec()` is always the tensor-core datapath that actually runs.
#include "twofour/sim/spec/datapath.hpp"
#include "twofour/sim/spec/instruction.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>

namespace twofour::sim {

// The row cannot run on the architecture (e.g. fp8 on sm_80) or has no modelled datapath.
struct UnsupportedInstruction : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// How the instruction reaches the tensor core.
enum class Lowering : std::uint8_t {
  native,            // one tensor-core operation with the row's own formats
  // fp8 inputs -> fp16; the architecture's fp16 datapath with the instruction's D type, run twice
  // (the elements of the low register halves with C = +0, then those of the high halves); then an
  // IEEE round-to-nearest add of C in the D format (fp8_lowering.hpp). Named after sm_90, the first
  // architecture lowered this way; sm_100 gets the same SASS.
  fp8_via_fp16_sm90,
};

class InstructionDatapath {
 public:
  // Throws UnsupportedInstruction when arch < instr.min_arch or no DatapathSpec row matches.
  InstructionDatapath(const spec::Instruction& instr, spec::Arch arch);

  // D bits of one output element: a, b are the K (or stored-K) input patterns of the product
  // terms in datapath order (the row's A/B formats), c the accumulator in the D format.
  std::uint32_t dot(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b, std::uint32_t c) const;

  // The tensor-core datapath that runs. Under fp8_via_fp16_sm90 its input formats are fp16, not
  // the row's: inputs pass through tensor_core_input() first, and it runs once per lowered pass.
  const spec::DatapathSpec& spec() const { return spec_; }
  Lowering lowering() const { return lowering_; }
  bool is_integer() const { return spec_.is_integer(); }

  // A or B pattern of the row (format `f`, the row's a or b) as the tensor core receives it.
  std::uint32_t tensor_core_input(const spec::FormatSpec& f, std::uint32_t bits) const;

  // Under fp8_via_fp16_sm90: how many consecutive terms of a dot() operand list of `terms` terms
  // share one 16-bit register half (lowered_pass in fp8_lowering.hpp): 4 for mma.sp listed in
  // logical K, else 2.
  std::size_t lowered_register_half(std::size_t terms) const;

 private:
  spec::DatapathSpec spec_;
  Lowering lowering_ = Lowering::native;
  const spec::FormatSpec* row_a_ = nullptr;  // the row's own input formats
  const spec::FormatSpec* row_b_ = nullptr;
  int instr_k_ = 0;
  bool sparse_ = false;
};

// Which lowering `instr` gets on `arch` (native when the row does not run there).
Lowering lowering_of(const spec::Instruction& instr, spec::Arch arch);

// True when `instr` runs on `arch` (architecture high enough and a datapath row exists).
bool instruction_supported(const spec::Instruction& instr, spec::Arch arch);

// The architecture named "sm86", "sm_86" or "86" (likewise 80, 89, 90, 100); throws
// std::invalid_argument naming the accepted spellings.
spec::Arch parse_arch(std::string_view text);

}  // namespace twofour::sim
