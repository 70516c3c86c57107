#include "twofour/sim/instruction_datapath.hpp"

#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/fp8_lowering.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace twofour::sim {
namespace {

bool is_fp8(const spec::FormatSpec& f) { return f == spec::e4m3 || f == spec::e5m2; }

Lowering choose_lowering(const spec::Instruction& instr, spec::Arch arch) {
  // ptxas 13.0 emits no QMMA for sm_90: fp8 mma(.sp) with fp32 D becomes fp16 HMMA(.SP) + FADD
  // (docs/isa-findings.md). sm_89 (Ada) has native QMMA and keeps the fp8 row of the table.
  if (arch == spec::Arch::sm90 && is_fp8(*instr.a) && is_fp8(*instr.b) && *instr.d == spec::fp32)
    return Lowering::fp8_via_fp16_sm90;
  return Lowering::native;
}

std::optional<spec::DatapathSpec> lookup(const spec::Instruction& instr, spec::Arch arch) {
  if (static_cast<int>(arch) < static_cast<int>(instr.min_arch)) return std::nullopt;
  if (choose_lowering(instr, arch) == Lowering::fp8_via_fp16_sm90)
    return spec::find_datapath(spec::Arch::sm90, spec::fp16, spec::fp16, spec::fp32);
  // C and D share one format in every row (PTX: dtype = ctype), so the D format picks the row.
  return spec::find_datapath(arch, *instr.a, *instr.b, *instr.d, instr.d->is_integer && instr.satfinite);
}

// Inputs converted to fp16 for the lowered path; no heap allocation for instruction-sized K.
class Converted {
 public:
  Converted(const spec::FormatSpec& f, std::span<const std::uint32_t> in) {
    std::uint32_t* out = local_.data();
    if (in.size() > local_.size()) {
      heap_.resize(in.size());
      out = heap_.data();
    }
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = fp8_to_fp16(f, in[i]);
    view_ = std::span<const std::uint32_t>(out, in.size());
  }
  Converted(const Converted&) = delete;  // view_ may point into local_
  Converted& operator=(const Converted&) = delete;
  std::span<const std::uint32_t> view() const { return view_; }

 private:
  std::array<std::uint32_t, 128> local_{};
  std::vector<std::uint32_t> heap_;
  std::span<const std::uint32_t> view_;
};

}  // namespace

InstructionDatapath::InstructionDatapath(const spec::Instruction& instr, spec::Arch arch) {
  const std::optional<spec::DatapathSpec> found = lookup(instr, arch);
  if (!found) {
    throw UnsupportedInstruction(std::string(instr.name) + " does not run on " + std::string(spec::arch_name(arch)) +
                                 " (needs " + std::string(spec::arch_name(instr.min_arch)) +
                                 " or later and a modelled datapath)");
  }
  spec_ = *found;
  lowering_ = choose_lowering(instr, arch);
  row_a_ = instr.a;
  row_b_ = instr.b;
}

std::uint32_t InstructionDatapath::tensor_core_input(const spec::FormatSpec& f, std::uint32_t bits) const {
  return lowering_ == Lowering::fp8_via_fp16_sm90 ? fp8_to_fp16(f, bits) : bits;
}

std::uint32_t InstructionDatapath::dot(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                                       std::uint32_t c) const {
  if (lowering_ == Lowering::fp8_via_fp16_sm90) {
    // The two chained HMMAs are the fp16 datapath over all of K starting from C = +0 (their K
    // halves are whole blocks); the instruction's C comes last, through FADD.
    const Converted a16(*row_a_, a), b16(*row_b_, b);
    return fp32_add_rn(sim::dot(spec_, a16.view(), b16.view(), spec::zero_bits(spec::fp32, false)), c);
  }
  return spec_.is_integer() ? sim::dot_int(spec_, a, b, c) : sim::dot(spec_, a, b, c);
}

Lowering lowering_of(const spec::Instruction& instr, spec::Arch arch) { return choose_lowering(instr, arch); }

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
