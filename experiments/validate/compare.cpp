#include "validate/compare.hpp"

#include "twofour/sim/describe.hpp"
#include "twofour/sim/spec/layout.hpp"

#include <cstdio>
#include <exception>
#include <span>

namespace twofour::validate {
namespace {

namespace spec = sim::spec;

std::size_t at(int i) { return static_cast<std::size_t>(i); }

std::string hex(std::uint32_t v, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*x", digits, v);
  return buf;
}

int hex_digits(const spec::FormatSpec& f) { return (f.container_bits + 3) / 4; }

}  // namespace

std::vector<ElementMismatch> compare_outputs(const spec::Instruction& instr, const sim::WarpOutput& observed,
                                             const sim::WarpOutput& simulated) {
  std::vector<ElementMismatch> out;
  const spec::FormatSpec& f = *instr.d;
  const int per = 32 / f.container_bits;
  for (int lane = 0; lane < instr.threads; ++lane) {
    for (int r = 0; r < instr.d_registers(); ++r) {
      for (int e = 0; e < per; ++e) {
        const int shift = e * f.container_bits;
        const std::uint32_t o = (observed[at(lane)][at(r)] >> shift) & f.container_mask();
        const std::uint32_t s = (simulated[at(lane)][at(r)] >> shift) & f.container_mask();
        if (o == s) continue;
        const spec::Coord rc = spec::c_coord(instr, lane, r, e);
        out.push_back({lane, r, e, rc.row, rc.col, o, s});
      }
    }
  }
  return out;
}

CaseComparison compare_case(const spec::Instruction& instr, spec::Arch arch, int selector,
                            const sim::WarpRegisters& regs, const sim::WarpOutput& observed,
                            const sim::ExecutionOptions& options, const sim::SharedOperands* shared) {
  CaseComparison c;
  try {
    const sim::WarpResult r = sim::run_warp(instr, arch, regs, selector, options, shared);
    c.unconfirmed = r.unconfirmed;
    c.mismatches = compare_outputs(instr, observed, r.d);
  } catch (const std::exception& e) {
    c.error = std::string("cannot simulate: ") + e.what();
  }
  return c;
}

std::string describe_mismatch(const spec::Instruction& instr, int selector, const sim::WarpRegisters& regs,
                              const ElementMismatch& m, const std::string& observed_name,
                              const sim::SharedOperands* shared) {
  std::string s = "  D lane " + std::to_string(m.lane) + " register " + std::to_string(m.reg) + " element " +
                  std::to_string(m.element) + " (row " + std::to_string(m.row) + ", col " + std::to_string(m.col) + ")\n";
  // The inputs of this one dot product, from the same registers the instruction saw.
  sim::TileOperands t;
  std::vector<int> cols;
  try {
    t = sim::unpack_operands(instr, regs, selector, nullptr, nullptr, shared);
    if (instr.is_sparse()) {
      bool unconfirmed = false;
      const auto chunks = static_cast<std::size_t>(instr.chunks_per_row());
      sim::metadata_columns(instr, std::span<const std::uint8_t>(t.metadata).subspan(at(m.row) * chunks, chunks), m.row,
                            cols, unconfirmed);
    }
  } catch (const std::exception& e) {
    return s + "    (inputs not decodable: " + e.what() + ")\n";
  }
  const int stored = t.a.cols;
  s += "    A row " + std::to_string(m.row) + " (" + std::string(instr.a->name) + ", stored value@dense col):";
  for (int q = 0; q < stored; ++q)
    s += " " + hex(t.a.at(m.row, q), hex_digits(*instr.a)) + "@" + std::to_string(instr.is_sparse() ? cols[at(q)] : q);
  s += "\n    B col " + std::to_string(m.col) + " (" + std::string(instr.b->name) + ", k = 0..):";
  for (int k = 0; k < instr.k; ++k) s += " " + hex(t.b.at(k, m.col), hex_digits(*instr.b));
  s += "\n    C " + sim::describe_bits(*instr.c, t.c.at(m.row, m.col)) + "\n";
  s += "    " + observed_name + " " + sim::describe_bits(*instr.d, m.observed) + "\n";
  s += "    sim " + sim::describe_bits(*instr.d, m.simulated) + "\n";
  return s;
}

}  // namespace twofour::validate
