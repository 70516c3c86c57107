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
  // ptxas 13.0 emits no QMMA for sm_90 or sm_100: fp8 mma(.sp) becomes fp16 HMMA(.SP) + FADD /
  // HADD2 (docs/isa-findings.md). sm_89 (Ada) has native QMMA and keeps the fp8 rows of the table,
  // and so does wgmma (the warpgroup rows: QGMMA, the native fp8 path of sm_90).
  const bool lowers_fp8 = arch == spec::Arch::sm90 || arch == spec::Arch::sm100;
  if (lowers_fp8 && instr.threads == 32 && is_fp8(*instr.a) && is_fp8(*instr.b)) return Lowering::fp8_via_fp16_sm90;
  return Lowering::native;
}

std::optional<spec::DatapathSpec> lookup(const spec::Instruction& instr, spec::Arch arch) {
  if (static_cast<int>(arch) < static_cast<int>(instr.min_arch)) return std::nullopt;
  // wgmma is Hopper's alone: PTX ISA §9.7.15 requires sm_90a for every wgmma.mma_async form, and
  // Blackwell (sm_100) replaces it with tcgen05.mma (docs/wgmma.md).
  if (instr.threads != 32 && arch != spec::Arch::sm90) return std::nullopt;
  // The lowered HMMAs are the architecture's fp16 rows with the instruction's D type.
  if (choose_lowering(instr, arch) == Lowering::fp8_via_fp16_sm90)
    return spec::find_datapath(arch, spec::fp16, spec::fp16, *instr.d);
  // C and D share one format in every row (PTX: dtype = ctype), so the D format picks the row.
  return spec::find_datapath(arch, *instr.a, *instr.b, *instr.d, instr.d->is_integer && instr.satfinite);
}

}  // namespace

InstructionDatapath::InstructionDatapath(const spec::Instruction& instr, spec::Arch arch) {
  const std::optional<spec::DatapathSpec> found = lookup(instr, arch);
  if (!found) {
    const std::string needs = instr.threads != 32 ? "sm90 (wgmma is sm_90a only)"
                                                  : std::string(spec::arch_name(instr.min_arch)) + " or later and a modelled datapath";
    throw UnsupportedInstruction(std::string(instr.name) + " does not run on " + std::string(spec::arch_name(arch)) +
                                 " (needs " + needs + ")");
  }
  spec_ = *found;
  lowering_ = choose_lowering(instr, arch);
  row_a_ = instr.a;
  row_b_ = instr.b;
  instr_k_ = instr.k;
  sparse_ = instr.is_sparse();
}

std::uint32_t InstructionDatapath::tensor_core_input(const spec::FormatSpec& f, std::uint32_t bits) const {
  return lowering_ == Lowering::fp8_via_fp16_sm90 ? fp8_to_fp16(f, bits) : bits;
}

std::size_t InstructionDatapath::lowered_register_half(std::size_t terms) const {
  // mma.sp listed in logical K (SparseGrouping::logical_k) has k terms; its stored K and dense K
  // list two elements per 16-bit register half.
  return sparse_ && terms == static_cast<std::size_t>(instr_k_) ? 4 : 2;
}

std::uint32_t InstructionDatapath::dot(std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                                       std::uint32_t c) const {
  if (lowering_ == Lowering::fp8_via_fp16_sm90) {
    // Two HMMAs: the terms from the low register halves with C = +0, then those from the high
    // halves with the first's D as C; the instruction's C is added last (fp8_lowering.hpp).
    // The inputs are converted to fp16 and laid out in pass order in one sweep; no heap
    // allocation for instruction-sized K.
    const std::size_t half = lowered_register_half(a.size());
    std::array<std::uint32_t, 128> local_a{}, local_b{};
    std::vector<std::uint32_t> heap_a, heap_b;
    std::span<std::uint32_t> qa(local_a), qb(local_b);
    if (a.size() > local_a.size()) {
      heap_a.resize(a.size());
      heap_b.resize(a.size());
      qa = heap_a;
      qb = heap_b;
    }
    std::size_t n = 0, first_pass = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t p = 0; p < a.size(); ++p) {
        if (lowered_pass(p, half) != pass) continue;
        qa[n] = fp8_to_fp16(*row_a_, a[p]);
        qb[n] = fp8_to_fp16(*row_b_, b[p]);
        ++n;
      }
      if (pass == 0) first_pass = n;
    }
    std::uint32_t acc = sim::dot(spec_, qa.first(first_pass), qb.first(first_pass), spec::zero_bits(*spec_.out_format, false));
    acc = sim::dot(spec_, qa.subspan(first_pass, n - first_pass), qb.subspan(first_pass, n - first_pass), acc);
    return float_add_rn(*spec_.out_format, acc, c);
  }
  return spec_.is_integer() ? sim::dot_int(spec_, a, b, c) : sim::dot(spec_, a, b, c);
}

Lowering lowering_of(const spec::Instruction& instr, spec::Arch arch) { return choose_lowering(instr, arch); }

bool instruction_supported(const spec::Instruction& instr, spec::Arch arch) { return lookup(instr, arch).has_value(); }

spec::Arch parse_arch(std::string_view text) {
  std::string s(text);
  if (s.rfind("sm_", 0) == 0) s.erase(2, 1);
  if (s.rfind("sm", 0) == 0) s.erase(0, 2);
  for (const spec::Arch arch : spec::all_archs)
    if (s == std::to_string(static_cast<int>(arch))) return arch;
  throw std::invalid_argument("unknown architecture '" + std::string(text) + "' (sm80, sm86, sm89, sm90, sm100)");
}

}  // namespace twofour::sim
