#include "validate/probes.hpp"

#include "twofour/sim/describe.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/find_instruction.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <cmath>
#include <ostream>
#include <stdexcept>

namespace twofour::validate {
namespace {

namespace spec = sim::spec;
using spec::Arch;
using spec::Instruction;

const Instruction& row(const char* name) { return sim::find_instruction_or_throw<std::logic_error>(name); }

// All-zero operands of the row's shapes; sparse metadata 0b0100 (cols 0, 1 of every chunk).
sim::TileOperands zero_tiles(const Instruction& in) {
  sim::TileOperands t;
  t.a = sim::Tile(in.m, in.is_sparse() ? in.stored_k() : in.k);
  t.b = sim::Tile(in.k, in.n);
  t.c = sim::Tile(in.m, in.n);
  if (in.is_sparse()) t.metadata.assign(static_cast<std::size_t>(in.m * in.chunks_per_row()), 0x4);
  return t;
}

std::uint32_t simulate(const Instruction& in, Arch arch, const sim::TileOperands& t, sim::SparseGrouping g = {}) {
  sim::ExecutionOptions o;
  o.grouping = g;
  return sim::run_tile(in, arch, t, o).d.at(0, 0);
}

ProbeCase make_case(std::string label, const Instruction& in, const sim::TileOperands& t,
                    std::vector<std::pair<std::string, std::uint32_t>> hypotheses) {
  ProbeCase c;
  c.label = std::move(label);
  c.instr = &in;
  c.regs = sim::pack_registers(in, t, 0);
  c.hypotheses = std::move(hypotheses);
  return c;
}

std::uint32_t f16(double v) { return spec::encode(spec::fp16, v); }
std::uint32_t f32(float v) { return spec::float_bits(v); }

// Small products first (one logical block's worth of K), then 1: one block of stored products
// truncates the small ones away; logical blocks sum them first (tile.hpp, SparseGrouping).
Probe grouping(Arch arch) {
  const Instruction& in = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  const spec::DatapathSpec dp = sim::InstructionDatapath(in, arch).spec();
  const int n = dp.block_size, small_exp = -(dp.fraction_bits() + 1);
  sim::TileOperands t = zero_tiles(in);
  for (int s = 0; s < n / 2; ++s) {  // stored values 0..n/2-1: chunks 0..n/4-1, dense cols 4q, 4q+1
    t.a.at(0, s) = f16(std::ldexp(1.0, small_exp / 2));
    t.b.at(4 * (s / 2) + s % 2, 0) = f16(std::ldexp(1.0, small_exp - small_exp / 2));
  }
  t.a.at(0, n / 2) = f16(1.0);
  t.b.at(4 * (n / 4), 0) = f16(1.0);
  Probe p{"grouping", "are mma.sp's datapath blocks formed from the K/2 stored products or from logical K?", {}};
  p.cases.push_back(make_case(std::to_string(n / 2) + " products of 2^" + std::to_string(small_exp) + " then 1", in, t,
                              {{"stored_products", simulate(in, arch, t, sim::SparseGrouping::stored_products)},
                               {"logical_k (= dense twin on decompressed A)", simulate(in, arch, t, sim::SparseGrouping::logical_k)}}));
  return p;
}

// A descending nibble under plain mma.sp: as written (first stored value to idx0), or sorted?
Probe descending(Arch arch) {
  const Instruction& in = row("SM80_SP_16x8x16_F32F16F16F32_TN");
  Probe p{"descending", "what does plain mma.sp do with a descending index pair (idx0 > idx1)?", {}};
  for (const std::uint8_t nibble : {std::uint8_t{0x1}, std::uint8_t{0x2}, std::uint8_t{0xb}}) {
    sim::TileOperands t = zero_tiles(in);
    t.metadata[0] = nibble;
    t.a.at(0, 0) = f16(1.0);
    t.a.at(0, 1) = f16(16.0);
    for (int k = 0; k < 4; ++k) t.b.at(k, 0) = f16(std::ldexp(1.0, k));  // B(k) = 2^k tells positions apart
    sim::TileOperands sorted = t;
    const unsigned i0 = nibble & 3u, i1 = nibble >> 2;
    sorted.metadata[0] = static_cast<std::uint8_t>((i0 << 2) | i1);  // the same pair, ascending
    const char bits[] = {'0', 'b', static_cast<char>('0' + ((nibble >> 3) & 1)), static_cast<char>('0' + ((nibble >> 2) & 1)),
                         static_cast<char>('0' + ((nibble >> 1) & 1)), static_cast<char>('0' + (nibble & 1)), 0};
    p.cases.push_back(make_case(std::string("nibble ") + bits, in, t,
                                {{"as written: first stored value to idx0", simulate(in, arch, t)},
                                 {"sorted: first stored value to the lower column", simulate(in, arch, sorted)},
                                 {"chunk dropped", f32(0.0f)}}));
  }
  return p;
}

Probe nan_payloads(Arch arch) {
  const Instruction& in = row("SM80_SP_16x8x16_F32F16F16F32_TN");
  Probe p{"nan", "which NaN bit pattern does mma.sp return?", {}};
  const auto widen = [](std::uint32_t h) {  // fp16 NaN -> fp32 with the payload kept (and quieted)
    return ((h & 0x8000u) << 16) | 0x7f800000u | ((h & 0x3ffu) << 13);
  };
  for (const std::uint32_t nan : {0x7e55u, 0xfc01u}) {
    sim::TileOperands t = zero_tiles(in);
    t.a.at(0, 0) = nan;
    t.b.at(0, 0) = f16(1.0);
    p.cases.push_back(make_case("A = fp16 NaN 0x" + std::string(nan == 0x7e55u ? "7e55" : "fc01"), in, t,
                                {{"canonical 0x7fffffff", simulate(in, arch, t)},
                                 {"input payload kept", widen(nan)},
                                 {"input payload kept, quieted", widen(nan) | 0x00400000u}}));
  }
  sim::TileOperands c_nan = zero_tiles(in);
  c_nan.c.at(0, 0) = 0xffa00001u;  // signalling, negative, payload 0x200001
  c_nan.a.at(0, 0) = f16(1.0);
  c_nan.b.at(0, 0) = f16(1.0);
  p.cases.push_back(make_case("C = fp32 NaN 0xffa00001", in, c_nan,
                              {{"canonical 0x7fffffff", simulate(in, arch, c_nan)},
                               {"C kept", 0xffa00001u},
                               {"C quieted", 0xffe00001u}}));
  sim::TileOperands inf_zero = zero_tiles(in);
  inf_zero.a.at(0, 0) = 0x7c00u;  // +Inf * 0
  p.cases.push_back(make_case("Inf * 0", in, inf_zero, {{"canonical 0x7fffffff", simulate(in, arch, inf_zero)}}));
  sim::TileOperands inf_inf = zero_tiles(in);
  inf_inf.a.at(0, 0) = 0x7c00u;
  inf_inf.a.at(0, 1) = 0xfc00u;  // +Inf * 1 + -Inf * 1
  inf_inf.b.at(0, 0) = f16(1.0);
  inf_inf.b.at(1, 0) = f16(1.0);
  p.cases.push_back(make_case("+Inf + -Inf", in, inf_inf, {{"canonical 0x7fffffff", simulate(in, arch, inf_inf)}}));
  return p;
}

Probe negative_zero(Arch arch) {
  Probe p{"negzero", "is an all-(-0) dot product with C = -0 returned as +0 or -0?", {}};
  for (const char* name : {"SM80_SP_16x8x16_F32F16F16F32_TN", "SM80_SP_16x8x16_F16F16F16F16_TN"}) {
    const Instruction& in = row(name);
    const bool f16_out = *in.d == spec::fp16;
    sim::TileOperands t = zero_tiles(in);
    for (int s = 0; s < t.a.cols; ++s) t.a.at(0, s) = 0x8000u;  // -0 * +0 products
    t.c.at(0, 0) = f16_out ? 0x8000u : 0x80000000u;
    p.cases.push_back(make_case(std::string(name) + ": (-0)(+0) products, C = -0", in, t,
                                {{"+0", simulate(in, arch, t)}, {"-0", f16_out ? 0x8000u : 0x80000000u}}));
  }
  return p;
}

Probe overflow(Arch arch) {
  Probe p{"overflow", "does a result beyond the fp32 range give Inf or FLT_MAX under the RZ datapath?", {}};
  const Instruction& bf = row("SM80_SP_16x8x16_F32BF16BF16F32_TN");
  sim::TileOperands t = zero_tiles(bf);
  t.a.at(0, 0) = 0x7f7fu;  // bf16 max squared: beyond fp32
  t.b.at(0, 0) = 0x7f7fu;
  p.cases.push_back(make_case("bf16 max * bf16 max", bf, t, {{"+Inf", simulate(bf, arch, t)}, {"+FLT_MAX", 0x7f7fffffu}}));
  t.a.at(0, 0) = 0xff7fu;
  p.cases.push_back(make_case("-bf16 max * bf16 max", bf, t, {{"-Inf", simulate(bf, arch, t)}, {"-FLT_MAX", 0xff7fffffu}}));
  sim::TileOperands s = zero_tiles(bf);
  s.a.at(0, 0) = 0x7e80u;  // 2^126 * 2 = 2^127, added to C = FLT_MAX: the sum leaves the range
  s.b.at(0, 0) = 0x4000u;
  s.c.at(0, 0) = 0x7f7fffffu;
  p.cases.push_back(make_case("C = FLT_MAX plus 2^127", bf, s, {{"+Inf", simulate(bf, arch, s)}, {"+FLT_MAX", 0x7f7fffffu}}));
  return p;
}

// sm_90 and sm_100 only: fp8 mma(.sp) adds C last by FADD/HADD2 (docs/isa-findings.md), keeps fp16
// precision, and groups K by register half.
Probe fp8(Arch arch) {
  Probe p{"fp8", "does fp8 mma(.sp) on sm_90 / sm_100 run as two fp16 HMMAs, low then high register halves, plus a round-to-nearest add of C?", {}};
  if (arch != Arch::sm90 && arch != Arch::sm100) return p;
  const Instruction& in = row("SM89_SP_16x8x64_F32E4M3E4M3F32_TN");
  sim::TileOperands t = zero_tiles(in);
  t.a.at(0, 0) = spec::encode(spec::e4m3, 1.0);
  t.b.at(0, 0) = spec::encode(spec::e4m3, 1.0);
  t.c.at(0, 0) = f32(0x3p-25f);
  p.cases.push_back(make_case("1 * 1 + C = 3 * 2^-25", in, t,
                              {{"lowered: C added last, rounded to nearest", simulate(in, arch, t)},
                               {"C through the tensor-core alignment (truncated)", simulate(in, Arch::sm89, t)}}));
  sim::TileOperands q = zero_tiles(in);
  q.a.at(0, 0) = spec::encode(spec::e4m3, 1.0);
  q.b.at(0, 0) = spec::encode(spec::e4m3, 1.0);
  q.a.at(0, 1) = spec::encode(spec::e4m3, 0x1p-9);
  q.b.at(1, 0) = spec::encode(spec::e4m3, 0x1p-9);
  p.cases.push_back(make_case("1 * 1 + 2^-9 * 2^-9", in, q,
                              {{"fp16 datapath precision (1 + 2^-18)", simulate(in, arch, q)},
                               {"13-bit fp8 datapath (1)", simulate(in, Arch::sm89, q)}}));
  // Which elements share an HMMA (fp8_lowering.hpp): 16 * 16 at K position (or stored pair) 0,
  // -16 * 16 at 2 and 2^-9 * 2^-9 at 16. Grouped by register half (0 and 16 together) the 2^-18
  // is truncated against 256 and then 256 cancels: +0. Grouped as consecutive K halves the 256s
  // cancel first and 2^-18 survives.
  for (const char* name : {"SM89_16x8x32_F32E4M3E4M3F32_TN", "SM89_16x8x32_F16E4M3E4M3F16_TN", "SM89_SP_16x8x64_F32E4M3E4M3F32_TN"}) {
    const Instruction& g = row(name);
    sim::TileOperands u = zero_tiles(g);
    const auto put = [&](int position, double a, double b) {
      u.a.at(0, position) = spec::encode(spec::e4m3, a);
      u.b.at(g.is_sparse() ? 2 * position : position, 0) = spec::encode(spec::e4m3, b);  // stored 2q -> logical 4q
    };
    put(0, 16.0, 16.0);
    put(2, -16.0, 16.0);
    put(16, 0x1p-9, 0x1p-9);
    p.cases.push_back(make_case("16*16 at 0, -16*16 at 2, 2^-9*2^-9 at 16", g, u,
                                {{"two HMMAs by register half (+0)", simulate(g, arch, u)},
                                 {"two HMMAs over consecutive K halves (2^-18)", spec::encode(*g.d, 0x1p-18)}}));
  }
  return p;
}

}  // namespace

std::vector<std::string> probe_names() { return {"grouping", "descending", "nan", "negzero", "overflow", "fp8"}; }

Probe make_probe(std::string_view name, Arch arch) {
  if (name == "grouping") return grouping(arch);
  if (name == "descending") return descending(arch);
  if (name == "nan") return nan_payloads(arch);
  if (name == "negzero") return negative_zero(arch);
  if (name == "overflow") return overflow(arch);
  if (name == "fp8") return fp8(arch);
  std::string known;
  for (const std::string& n : probe_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown probe '" + std::string(name) + "' (" + known + ", all)");
}

std::uint32_t d_element(const Instruction& instr, const sim::WarpOutput& d, int row_index, int col) {
  return sim::unpack_d(instr, d).at(row_index, col);
}

std::string interpret(const ProbeCase& c, std::uint32_t observed) {
  std::string matches;
  for (std::size_t i = 0; i < c.hypotheses.size(); ++i) {
    if (c.hypotheses[i].second != observed) continue;
    matches += (matches.empty() ? "" : " = ") + c.hypotheses[i].first + (i == 0 ? " (simulator)" : "");
  }
  if (!matches.empty()) return matches;
  std::string s = "none of:";
  for (const auto& [name, bits] : c.hypotheses) s += " [" + name + " " + sim::describe_bits(*c.instr->d, bits) + "]";
  return s;
}

void run_probes(Gpu& gpu, std::string_view which, std::ostream& log) {
  std::vector<std::string> names = probe_names();
  if (which != "all") {
    (void)make_probe(which, gpu.arch());  // validates the name
    names = {std::string(which)};
  }
  for (const std::string& name : names) {
    const Probe p = make_probe(name, gpu.arch());
    log << "probe " << p.name << ": " << p.question << "\n";
    if (p.cases.empty()) log << "  not applicable on " << spec::arch_name(gpu.arch()) << "\n";
    for (const ProbeCase& c : p.cases) {
      std::vector<std::array<std::uint32_t, 4>> d(32);
      gpu.run(*c.instr, c.selector, c.regs, d);
      sim::WarpOutput out{};
      for (std::size_t lane = 0; lane < 32; ++lane) out[lane] = d[lane];
      const std::uint32_t observed = d_element(*c.instr, out, c.row, c.col);
      log << "  " << c.instr->name << " " << c.label << ": GPU " << sim::describe_bits(*c.instr->d, observed) << " -> "
          << interpret(c, observed) << "\n";
    }
  }
}

}  // namespace twofour::validate
