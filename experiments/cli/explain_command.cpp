// `twofour explain NAME`: where every element of A, B, C/D and the metadata lives in the threads'
// registers, from the row's layouts (sim/spec/layout.hpp, PTX ISA "Matrix fragments for mma").
#include "cli/command.hpp"
#include "common/picture.hpp"
#include "common/picture_data.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/shared_operands.hpp"
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
Grid grid(int rows, int cols, int threads, int regs, int per, const char* reg, CoordFn coord) {
  Grid g(static_cast<std::size_t>(rows), std::vector<std::string>(static_cast<std::size_t>(cols), "?"));
  for (int lane = 0; lane < threads; ++lane)
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

// Shared-memory operand: each cell is the byte address of the element through `descriptor`.
Grid shared_grid(const spec::Instruction& in, sim::Operand which, std::uint64_t descriptor, int rows, int cols) {
  Grid g(static_cast<std::size_t>(rows), std::vector<std::string>(static_cast<std::size_t>(cols)));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      g[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] =
          "s" + std::to_string(sim::shared_element_address(in, which, descriptor, r, c));
  return g;
}

std::string hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t parse_descriptor(const std::string& text) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw UsageError("descriptor '" + text + "' is not a number (e.g. 0x4000004000010000)");
  return v;
}

struct Options {
  std::string name, png;
  bool list = false;
  std::string swizzle = "128B", a_desc, b_desc;
};

int run_explain(const Options& o) {
  if (o.list || o.name.empty()) {
    if (!o.list) throw UsageError("give an instruction name (or --list)");
    for (const auto& row : spec::instruction_table)
      std::printf("%-52s %s\n", std::string(row.name).c_str(), std::string(row.ptx).c_str());
    return 0;
  }
  const spec::Instruction& in = sim::find_instruction_or_throw<UsageError>(o.name);
  if (!o.png.empty()) {
    nlohmann::json panels;
    try {
      panels = experiments::fragment_panels(in);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    try {
      experiments::draw_picture_from_json("fragments.py", panels.dump(), o.png);
    } catch (const std::runtime_error& e) {
      throw CommandFailed(e.what());
    }
    std::printf("wrote %s (%s: A, B, C/D%s fragments by lane and register)\n", o.png.c_str(),
                std::string(in.name).c_str(), in.is_sparse() ? ", E" : "");
    return 0;
  }
  std::printf("%s\n  %s\n", std::string(in.name).c_str(), std::string(in.ptx).c_str());
  std::printf("  m%dn%dk%d  A %s  B %s  C %s  D %s  min arch %s%s\n", in.m, in.n, in.k, std::string(in.a->name).c_str(),
              std::string(in.b->name).c_str(), std::string(in.c->name).c_str(), std::string(in.d->name).c_str(),
              std::string(spec::arch_name(in.min_arch)).c_str(), in.satfinite ? "  .satfinite" : "");
  std::printf("  registers per lane: A %d, B %d, C/D %d%s\n", in.a_registers(), in.b_registers(), in.c_registers(),
              in.is_sparse() ? ", E 1" : "");
  if (in.threads != 32)
    std::printf("  threads: %d (%d warps; warp w holds rows 16w..16w+15 of A, C/D and the metadata), A from %s, B from %s\n",
                in.threads, in.warps(), in.a_source == spec::OperandSource::registers ? "registers" : "shared memory",
                in.b_source == spec::OperandSource::registers ? "registers" : "shared memory");
  if (in.is_sparse()) {
    std::printf("  sparse: %d of every %d A values stored (A is %dx%d compressed), metadata %s, selector 0..%d\n",
                in.stored_per_chunk(), in.chunk_width(), in.m, in.stored_k(),
                in.order == spec::MetadataOrder::ordered ? "::ordered_metadata (idx0 < idx1)" : "plain (equal indices UB)",
                in.selector_count() - 1);
  }
  std::printf("Cells read Tlane.register[element] (element = position within the 32-bit register, low bits first)%s.\n",
              in.threads != 32 ? "; lane = thread 0..127 of the warpgroup" : "");
  const int a_cols = in.is_sparse() ? in.stored_k() : in.k;
  const std::string a_title = std::string("A") + (in.is_sparse() ? " (compressed, stored values in storage order)" : "") +
                              ": " + std::to_string(in.m) + "x" + std::to_string(a_cols);
  // Shared-memory operands: the given descriptors, or canonical K-major ones (A at 0, B after it).
  std::uint64_t a_desc = 0, b_desc = 0;
  const bool a_shared = in.a_source == spec::OperandSource::shared_descriptor;
  const bool b_shared = in.b_source == spec::OperandSource::shared_descriptor;
  if (a_shared || b_shared) {
    spec::Swizzle sw = spec::Swizzle::none;
    if (o.swizzle == "32B") sw = spec::Swizzle::b32;
    else if (o.swizzle == "64B") sw = spec::Swizzle::b64;
    else if (o.swizzle == "128B") sw = spec::Swizzle::b128;
    else if (o.swizzle != "none") throw UsageError("--swizzle must be none, 32B, 64B or 128B");
    sim::TileOperands zeros;
    zeros.a = sim::Tile(in.m, a_cols);
    zeros.b = sim::Tile(in.k, in.n);
    try {
      const sim::SharedOperands canonical = sim::pack_shared(in, zeros, sw);
      a_desc = canonical.a_descriptor;
      b_desc = canonical.b_descriptor;
    } catch (const sim::DescriptorError& e) {
      if (o.a_desc.empty() || o.b_desc.empty()) throw CommandFailed(std::string(e.what()) + " (choose --swizzle)");
    }
    if (!o.a_desc.empty()) a_desc = parse_descriptor(o.a_desc);
    if (!o.b_desc.empty()) b_desc = parse_descriptor(o.b_desc);
    // The descriptors must place every element inside the 18-bit shared address range they can
    // encode, without two elements sharing a byte: loading from a zeroed window checks both.
    sim::SharedOperands window;
    window.bytes.assign(std::size_t{1} << 18, 0);
    window.a_descriptor = a_desc;
    window.b_descriptor = b_desc;
    try {
      if (a_shared) (void)sim::load_shared_operand(in, sim::Operand::a, window);
      if (b_shared) (void)sim::load_shared_operand(in, sim::Operand::b, window);
    } catch (const sim::DescriptorError& e) {
      throw CommandFailed(e.what());
    }
    std::printf("Shared-memory operands: cells read s<byte address> through the matrix descriptor (K-major; "
                "docs/wgmma.md).\n");
  }
  try {
    if (a_shared) {
      const spec::MatrixDescriptor d = spec::decode_descriptor(a_desc);
      print_grid(a_title + ", shared memory, descriptor " + hex64(a_desc) + " (start " + std::to_string(d.start) + ", LBO " +
                     std::to_string(d.lbo) + ", SBO " + std::to_string(d.sbo) + ", swizzle " + spec::swizzle_name(d.swizzle) + ")",
                 shared_grid(in, sim::Operand::a, a_desc, in.m, a_cols));
    } else {
      print_grid(a_title, grid(in.m, a_cols, in.threads, in.a_registers(), in.a_elements_per_register(), "a",
                               [&](int l, int r, int e) { return spec::a_coord(in, l, r, e); }));
    }
    if (b_shared) {
      const spec::MatrixDescriptor d = spec::decode_descriptor(b_desc);
      print_grid("B: " + std::to_string(in.k) + "x" + std::to_string(in.n) + ", shared memory, descriptor " + hex64(b_desc) +
                     " (start " + std::to_string(d.start) + ", LBO " + std::to_string(d.lbo) + ", SBO " +
                     std::to_string(d.sbo) + ", swizzle " + spec::swizzle_name(d.swizzle) + ")",
                 shared_grid(in, sim::Operand::b, b_desc, in.k, in.n));
    } else {
      print_grid("B: " + std::to_string(in.k) + "x" + std::to_string(in.n),
                 grid(in.k, in.n, in.threads, in.b_registers(), in.b_elements_per_register(), "b",
                      [&](int l, int r, int e) { return spec::b_coord(in, l, r, e); }));
    }
  } catch (const sim::DescriptorError& e) {
    throw CommandFailed(e.what());
  }
  print_grid("C and D: " + std::to_string(in.m) + "x" + std::to_string(in.n),
             grid(in.m, in.n, in.threads, in.c_registers(), in.c_elements_per_register(), "c",
                  [&](int l, int r, int e) { return spec::c_coord(in, l, r, e); }));
  if (!in.is_sparse()) return 0;
  std::printf("\nE (metadata): nibble j = bits 4j+3..4j of the e register; each covers one chunk of %d dense "
              "columns of one A row\n", in.chunk_width());
  for (int sel = 0; sel < in.selector_count(); ++sel) {
    std::printf("  selector %d: lanes", sel);
    for (int q = 0; q < in.quads(); ++q)
      for (int u = 0; u < in.metadata.lanes_per_quad; ++u) std::printf(" %d", spec::metadata_thread(in, q, sel, u));
    std::printf("\n");
  }
  for (int sel = 0; sel < in.selector_count(); ++sel) {
    std::printf("\n  selector %d:\n", sel);
    for (int q = 0; q < in.quads(); ++q) {
      for (int u = 0; u < in.metadata.lanes_per_quad; ++u) {
        const int lane = spec::metadata_thread(in, q, sel, u);
        std::printf("    T%-2d e:", lane);
        for (int j = 0; j < spec::metadata_nibbles_used(in); ++j) {
          const spec::MetaCoord mc = spec::metadata_coord(in, q, u, j);
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
    sub.add_option("--png", o->png, "draw the fragments as coloured grids (lane and register per element) instead");
    sub.add_option("--swizzle", o->swizzle, "shared-memory operands: canonical K-major layout with none, 32B, 64B or 128B (default)");
    sub.add_option("--a-desc", o->a_desc, "shared-memory A: this 64-bit matrix descriptor instead of the canonical one");
    sub.add_option("--b-desc", o->b_desc, "shared-memory B: this 64-bit matrix descriptor instead of the canonical one");
    return [o]() { return run_explain(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
