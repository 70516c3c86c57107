// `twofour explain NAME`: where every element of A, B, C/D and the metadata lives in the warp's
// registers, from the row's layouts (sim/spec/layout.hpp, PTX ISA "Matrix fragments for mma").
#include "cli/command.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/find_instruction.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace twofour::cli {
namespace {

namespace spec = sim::spec;

using Grid = std::vector<std::vector<std::string>>;

template <typename CoordFn>
Grid grid(int rows, int cols, int regs, int per, const char* reg, CoordFn coord) {
  Grid g(static_cast<std::size_t>(rows), std::vector<std::string>(static_cast<std::size_t>(cols), "?"));
  for (int lane = 0; lane < 32; ++lane)
    for (int r = 0; r < regs; ++r)
      for (int e = 0; e < per; ++e) {
        const spec::Coord c = coord(lane, r, e);
        g[static_cast<std::size_t>(c.row)][static_cast<std::size_t>(c.col)] =
            "T" + std::to_string(lane) + "." + reg + std::to_string(r) + (per > 1 ? "[" + std::to_string(e) + "]" : "");
      }
  return g;
}

void print_grid(const std::string& title, const Grid& g) {
  std::printf("\n%s\n", title.c_str());
  std::size_t width = 0;
  for (const auto& row : g)
    for (const auto& cell : row) width = std::max(width, cell.size());
  std::printf("%5s", "");
  for (std::size_t c = 0; c < g[0].size(); ++c) std::printf(" %*zu", static_cast<int>(width), c);
  std::printf("\n");
  for (std::size_t r = 0; r < g.size(); ++r) {
    std::printf("%4zu:", r);
    for (const auto& cell : g[r]) std::printf(" %*s", static_cast<int>(width), cell.c_str());
    std::printf("\n");
  }
}

struct Options {
  std::string name;
  bool list = false;
};

int run_explain(const Options& o) {
  if (o.list || o.name.empty()) {
    if (!o.list) throw UsageError("give an instruction name (or --list)");
    for (const auto& row : spec::instruction_table)
      std::printf("%-52s %s\n", std::string(row.name).c_str(), std::string(row.ptx).c_str());
    return 0;
  }
  const spec::Instruction& in = sim::find_instruction_or_throw<UsageError>(o.name);
  std::printf("%s\n  %s\n", std::string(in.name).c_str(), std::string(in.ptx).c_str());
  std::printf("  m%dn%dk%d  A %s  B %s  C %s  D %s  min arch %s%s\n", in.m, in.n, in.k, std::string(in.a->name).c_str(),
              std::string(in.b->name).c_str(), std::string(in.c->name).c_str(), std::string(in.d->name).c_str(),
              std::string(spec::arch_name(in.min_arch)).c_str(), in.satfinite ? "  .satfinite" : "");
  std::printf("  registers per lane: A %d, B %d, C/D %d%s\n", in.a_registers(), in.b_registers(), in.c_registers(),
              in.is_sparse() ? ", E 1" : "");
  if (in.is_sparse()) {
    std::printf("  sparse: %d of every %d A values stored (A is %dx%d compressed), metadata %s, selector 0..%d\n",
                in.stored_per_chunk(), in.chunk_width(), in.m, in.stored_k(),
                in.order == spec::MetadataOrder::ordered ? "::ordered_metadata (idx0 < idx1)" : "plain (equal indices UB)",
                in.selector_count() - 1);
  }
  std::printf("Cells read Tlane.register[element] (element = position within the 32-bit register, low bits first).\n");
  const int a_cols = in.is_sparse() ? in.stored_k() : in.k;
  print_grid(std::string("A") + (in.is_sparse() ? " (compressed, stored values in storage order)" : "") + ": " +
                 std::to_string(in.m) + "x" + std::to_string(a_cols),
             grid(in.m, a_cols, in.a_registers(), in.a_elements_per_register(), "a",
                  [&](int l, int r, int e) { return spec::a_coord(in, l, r, e); }));
  print_grid("B: " + std::to_string(in.k) + "x" + std::to_string(in.n),
             grid(in.k, in.n, in.b_registers(), in.b_elements_per_register(), "b",
                  [&](int l, int r, int e) { return spec::b_coord(in, l, r, e); }));
  print_grid("C and D: " + std::to_string(in.m) + "x" + std::to_string(in.n),
             grid(in.m, in.n, in.c_registers(), in.c_elements_per_register(), "c",
                  [&](int l, int r, int e) { return spec::c_coord(in, l, r, e); }));
  if (!in.is_sparse()) return 0;
  std::printf("\nE (metadata): nibble j = bits 4j+3..4j of the e register; each covers one chunk of %d dense "
              "columns of one A row\n", in.chunk_width());
  for (int sel = 0; sel < in.selector_count(); ++sel) {
    std::printf("  selector %d: lanes", sel);
    for (int g = 0; g < 8; ++g)
      for (int u = 0; u < in.metadata.lanes_per_quad; ++u) std::printf(" %d", 4 * g + spec::metadata_lane_in_quad(in, sel, u));
    std::printf("\n");
  }
  for (int sel = 0; sel < in.selector_count(); ++sel) {
    std::printf("\n  selector %d:\n", sel);
    for (int g = 0; g < 8; ++g) {
      for (int u = 0; u < in.metadata.lanes_per_quad; ++u) {
        const int lane = 4 * g + spec::metadata_lane_in_quad(in, sel, u);
        std::printf("    T%-2d e:", lane);
        for (int j = 0; j < spec::metadata_nibbles_used(in); ++j) {
          const spec::MetaCoord mc = spec::metadata_coord(in, g, u, j);
          std::printf("  n%d=row %d cols %d-%d", j, mc.row, mc.chunk * in.chunk_width(), mc.chunk * in.chunk_width() + in.chunk_width() - 1);
        }
        std::printf("\n");
      }
    }
  }
  return 0;
}

RegisterCommand reg{{"explain", "Show which lane and register hold each element of an instruction's A, B, C/D and E",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("name", o->name, "instruction row name or PTX mnemonic");
    sub.add_flag("--list", o->list, "list every instruction row");
    return [o]() { return run_explain(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
