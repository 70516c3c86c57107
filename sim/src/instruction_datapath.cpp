#include "twofour/sim/instruction_datapath.hpp"

#include "twofour/sim/blockfma.hpp"

#include <optional>
#include <string>

namespace twofour::sim {
namespace {

std::optional<spec::DatapathSpec> lookup(const spec::Instruction& instr, spec::Arch arch) {
  if (static_cast<int>(arch) < static_cast<int>(instr.min_arch)) return std::nullopt;
  // C and D share one format in every row (PTX: dtype = ctype), so the D format picks the row.
  return spec::find_datapath(arch, *instr.a, *instr.b, *instr.d, instr.d->is_integer && instr.satfinite);
}

}  // namespace

InstructionDatapath::InstructionDatapath(const spec::Instruction& instr, spec::Arch arch) {
  const std::optional<spec::DatapathSpec> found = lookup(instr, arch);
  if (!found) {
    throw UnsupportedInstruction(std::string(instr.name) + " does not run on " + std::string(spec::arch_name(arch)) +
                                 " (needs " + std::string(spec::arch_name(instr.min_arch)) +
                                 " or later and a modelled datapath)");
  }
  spec_ = *found;
}

std::uint32_t InstructionDatapath::dot(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                                       std::uint32_t c) const {
  return spec_.is_integer() ? sim::dot_int(spec_, a, b, c) : sim::dot(spec_, a, b, c);
}

bool instruction_supported(const spec::Instruction& instr, spec::Arch arch) { return lookup(instr, arch).has_value(); }

spec::Arch parse_arch(std::string_view text) {
  std::string s(text);
  if (s.rfind("sm_", 0) == 0) s.erase(2, 1);
  if (s.rfind("sm", 0) == 0) s.erase(0, 2);
  if (s == "80") return spec::Arch::sm80;
  if (s == "89") return spec::Arch::sm89;
  if (s == "90") return spec::Arch::sm90;
  throw std::invalid_argument("unknown architecture '" + std::string(text) + "' (sm80, sm89, sm90)");
}

}  // namespace twofour::sim
