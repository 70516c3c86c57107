// twofour._core.sim: the instruction table, register layouts and the simulator at tile, warp and
// GEMM level. Operands are bit patterns (uint32 words, each holding one element in the low bits of
// its format's container), exactly as sim::Tile holds them.
#include "bindings.hpp"

#include "twofour/sim/compress.hpp"
#include "twofour/sim/find_instruction.hpp"
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/gemm_check.hpp"
#include "twofour/sim/gemm_order.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/kernel_isa.hpp"
#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/tile.hpp"
#include "twofour/sim/warp.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace twofour::python {
namespace {

namespace spec = sim::spec;

using Words = nb::ndarray<const std::uint32_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Nibbles = nb::ndarray<const std::uint8_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Lanes = nb::ndarray<const std::uint32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using OutWords = nb::ndarray<nb::numpy, std::uint32_t>;

const spec::Instruction& instruction_named(const std::string& name) { return sim::find_instruction_or_throw(name); }

std::string sparsity_name(spec::Sparsity s) {
  switch (s) {
    case spec::Sparsity::dense: return "dense";
    case spec::Sparsity::two_of_four: return "2:4";
    case spec::Sparsity::one_of_two: return "1:2";
    case spec::Sparsity::pairs_4of8: return "4:8 pairs";
  }
  return "?";
}

sim::SparseGrouping grouping_named(const std::string& name) {
  if (name == "stored") return sim::SparseGrouping::stored_products;
  if (name == "logical") return sim::SparseGrouping::logical_k;
  throw std::invalid_argument("grouping must be stored or logical, not '" + name + "'");
}

// A Tile from a (rows x cols) array of words; the shape must be exactly the expected one.
sim::Tile tile_of(const Words& w, int rows, int cols, const char* what) {
  if (w.shape(0) != static_cast<std::size_t>(rows) || w.shape(1) != static_cast<std::size_t>(cols))
    throw std::invalid_argument(std::string(what) + " must be " + std::to_string(rows) + "x" + std::to_string(cols) +
                                ", got " + std::to_string(w.shape(0)) + "x" + std::to_string(w.shape(1)));
  sim::Tile t(rows, cols);
  std::copy(w.data(), w.data() + w.size(), t.bits.begin());
  return t;
}

std::vector<std::uint8_t> nibbles_of(const Nibbles& e, int rows, int cols) {
  if (e.shape(0) != static_cast<std::size_t>(rows) || e.shape(1) != static_cast<std::size_t>(cols))
    throw std::invalid_argument("e (metadata nibbles) must be " + std::to_string(rows) + "x" + std::to_string(cols) +
                                ", got " + std::to_string(e.shape(0)) + "x" + std::to_string(e.shape(1)));
  std::vector<std::uint8_t> out(e.data(), e.data() + e.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i] > 0xfu) throw std::invalid_argument("e: metadata values are nibbles (0..15), element " + std::to_string(i) + " is " + std::to_string(out[i]));
  return out;
}

OutWords tile_out(sim::Tile&& t) {
  const auto rows = static_cast<std::size_t>(t.rows), cols = static_cast<std::size_t>(t.cols);
  return to_numpy(std::move(t.bits), {rows, cols});
}

nb::dict row_dict(const spec::Instruction& in) {
    nb::dict d;
    d["name"] = std::string(in.name);
    d["ptx"] = std::string(in.ptx);
    d["m"] = in.m;
    d["n"] = in.n;
    d["k"] = in.k;
    d["a"] = std::string(in.a->name);
    d["b"] = std::string(in.b->name);
    d["c"] = std::string(in.c->name);
    d["d"] = std::string(in.d->name);
    d["sparse"] = in.is_sparse();
    d["sparsity"] = sparsity_name(in.sparsity);
    d["ordered_metadata"] = in.order == spec::MetadataOrder::ordered;
    d["satfinite"] = in.satfinite;
    d["min_arch"] = std::string(spec::arch_name(in.min_arch));
    d["stored_k"] = in.is_sparse() ? in.stored_k() : in.k;
    d["chunks_per_row"] = in.is_sparse() ? in.chunks_per_row() : 0;
    d["selectors"] = in.selector_count();
    d["a_registers"] = in.a_registers();
    d["b_registers"] = in.b_registers();
    d["c_registers"] = in.c_registers();
    return d;
}

nb::list instructions() {
  nb::list rows;
  for (const spec::Instruction& in : spec::instruction_table) rows.append(row_dict(in));
  return rows;
}

// For one operand: lane, register and element-in-register of every tile element.
template <typename CoordFn>
nb::dict operand_layout(const spec::Instruction& in, int rows, int cols, int registers, int per_register, CoordFn coord) {
  const std::size_t n = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  std::vector<std::int32_t> lane(n, -1), reg(n, -1), elem(n, -1);
  for (int l = 0; l < in.threads; ++l)
    for (int r = 0; r < registers; ++r)
      for (int e = 0; e < per_register; ++e) {
        const spec::Coord c = coord(in, l, r, e);
        const std::size_t at = static_cast<std::size_t>(c.row) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c.col);
        lane[at] = l;
        reg[at] = r;
        elem[at] = e;
      }
  const auto ur = static_cast<std::size_t>(rows), uc = static_cast<std::size_t>(cols);
  nb::dict d;
  d["lane"] = to_numpy(std::move(lane), {ur, uc});
  d["register"] = to_numpy(std::move(reg), {ur, uc});
  d["element"] = to_numpy(std::move(elem), {ur, uc});
  return d;
}

nb::dict layout(const std::string& name, int selector) {
  const spec::Instruction& in = instruction_named(name);
  sim::check_selector(in, selector);
  nb::dict d;
  d["a"] = operand_layout(in, in.m, in.is_sparse() ? in.stored_k() : in.k, in.a_registers(), in.a_elements_per_register(),
                          spec::a_coord);
  d["b"] = operand_layout(in, in.k, in.n, in.b_registers(), in.b_elements_per_register(), spec::b_coord);
  d["c"] = operand_layout(in, in.m, in.n, in.c_registers(), in.c_elements_per_register(), spec::c_coord);
  if (in.is_sparse()) {
    // Metadata: the lane and nibble of E that carry each (row, chunk).
    const int chunks = in.chunks_per_row();
    const std::size_t n = static_cast<std::size_t>(in.m) * static_cast<std::size_t>(chunks);
    std::vector<std::int32_t> lane(n, -1), nibble(n, -1);
    for (int g = 0; g < in.threads / 4; ++g)
      for (int u = 0; u < in.metadata.lanes_per_quad; ++u)
        for (int j = 0; j < spec::metadata_nibbles_used(in); ++j) {
          const spec::MetaCoord c = spec::metadata_coord(in, g, u, j);
          const std::size_t at = static_cast<std::size_t>(c.row) * static_cast<std::size_t>(chunks) + static_cast<std::size_t>(c.chunk);
          lane[at] = spec::metadata_thread(in, g, selector, u);
          nibble[at] = j;
        }
    nb::dict e;
    const auto ur = static_cast<std::size_t>(in.m), uc = static_cast<std::size_t>(chunks);
    e["lane"] = to_numpy(std::move(lane), {ur, uc});
    e["nibble"] = to_numpy(std::move(nibble), {ur, uc});
    d["e"] = e;
  }
  return d;
}

nb::dict notes_dict(OutWords d, bool unconfirmed, const std::vector<std::string>& notes) {
  nb::dict out;
  out["d"] = d;
  out["unconfirmed"] = unconfirmed;
  out["notes"] = notes;
  return out;
}

nb::dict tile(const std::string& name, const std::string& arch_name, Words a, Words b, std::optional<Words> c,
              std::optional<Nibbles> e, int selector, const std::string& grouping) {
  const spec::Instruction& in = instruction_named(name);
  const spec::Arch arch = sim::parse_arch(arch_name);
  sim::check_selector(in, selector);  // at tile level the selector only names lanes: checked, no effect
  sim::ExecutionOptions exec;
  exec.grouping = grouping_named(grouping);
  if (in.is_sparse() && !e) throw std::invalid_argument(std::string(in.name) + " is sparse: give the metadata e");
  if (!in.is_sparse() && e) throw std::invalid_argument(std::string(in.name) + " is dense: it takes no e");
  sim::TileOperands ops;
  ops.a = tile_of(a, in.m, in.is_sparse() ? in.stored_k() : in.k, "a");
  ops.b = tile_of(b, in.k, in.n, "b");
  ops.c = c ? tile_of(*c, in.m, in.n, "c") : sim::Tile(in.m, in.n);
  if (e) ops.metadata = nibbles_of(*e, in.m, in.chunks_per_row());
  sim::TileResult r;
  {
    nb::gil_scoped_release release;
    r = sim::run_tile(in, arch, ops, exec);
  }
  return notes_dict(tile_out(std::move(r.d)), r.unconfirmed, r.notes);
}

// Registers: (threads, count) words per operand, thread-major, as the `twofour mma` text files.
void fill_registers(sim::WarpRegisters& regs, const Words& w, int count, std::vector<std::uint32_t> sim::LaneRegisters::*field,
                    const char* what) {
  const std::size_t threads = regs.size();
  if (w.shape(0) != threads || w.shape(1) != static_cast<std::size_t>(count))
    throw std::invalid_argument(std::string(what) + " registers must be " + std::to_string(threads) + "x" + std::to_string(count) +
                                " (threads x registers), got " + std::to_string(w.shape(0)) + "x" + std::to_string(w.shape(1)));
  for (std::size_t lane = 0; lane < threads; ++lane)
    for (std::size_t r = 0; r < static_cast<std::size_t>(count); ++r) (regs[lane].*field)[r] = w(lane, r);
}

nb::dict run_warp(const std::string& name, const std::string& arch_name, Words a, Words b, std::optional<Words> c,
                  std::optional<Lanes> e, int selector, const std::string& grouping) {
  const spec::Instruction& in = instruction_named(name);
  const spec::Arch arch = sim::parse_arch(arch_name);
  sim::ExecutionOptions exec;
  exec.grouping = grouping_named(grouping);
  if (in.is_sparse() && !e) throw std::invalid_argument(std::string(in.name) + " is sparse: give the metadata registers e");
  if (!in.is_sparse() && e) throw std::invalid_argument(std::string(in.name) + " is dense: it takes no e");
  if (in.a_source != spec::OperandSource::registers || in.b_source != spec::OperandSource::registers)
    throw std::invalid_argument(std::string(in.name) + " reads operands from shared memory: use twofour.sim.mma (tile level)");
  sim::WarpRegisters regs = sim::make_registers(in);
  const auto threads = static_cast<std::size_t>(in.threads);
  fill_registers(regs, a, in.a_registers(), &sim::LaneRegisters::a, "a");
  fill_registers(regs, b, in.b_registers(), &sim::LaneRegisters::b, "b");
  if (c) fill_registers(regs, *c, in.c_registers(), &sim::LaneRegisters::c, "c");
  if (e) {
    if (e->shape(0) != threads)
      throw std::invalid_argument("e registers must be " + std::to_string(threads) + " words (one per thread), got " +
                                  std::to_string(e->shape(0)));
    for (std::size_t lane = 0; lane < threads; ++lane) regs[lane].e = (*e)(lane);
  }
  sim::WarpResult r;
  {
    nb::gil_scoped_release release;
    r = sim::run_warp(in, arch, regs, selector, exec);
  }
  const auto dr = static_cast<std::size_t>(in.d_registers());
  std::vector<std::uint32_t> d(threads * dr);
  for (std::size_t lane = 0; lane < threads; ++lane)
    for (std::size_t i = 0; i < dr; ++i) d[lane * dr + i] = r.d[lane][i];
  return notes_dict(to_numpy(std::move(d), {threads, dr}), r.unconfirmed, r.notes);
}

// The GEMM's operands, options and order from the arguments both `gemm` and `check_gemm` take.
struct GemmCall {
  const spec::Instruction* in = nullptr;
  spec::Arch arch{};
  sim::GemmOperands ops;
  sim::GemmOptions options;
  sim::GemmOrder order;
};

const spec::FormatSpec& output_format(const spec::Instruction& in, const std::optional<std::string>& name) {
  if (!name) return *in.d;
  if (*name == "fp32") return spec::fp32;
  if (*name == "fp16") return spec::fp16;
  if (*name == "int32") return spec::s32;
  throw std::invalid_argument("out_type must be fp32, fp16 or int32, not '" + *name + "'");
}

// The order as `twofour gemm --order` reads it, with the output type; errors name the argument.
sim::GemmOrder order_named(const spec::Instruction& in, const std::string& text, const std::optional<std::string>& out_type) {
  sim::GemmOrder order;
  try {
    order = sim::parse_gemm_order(text);
    order.output = &output_format(in, out_type);
    sim::check_gemm_order(in, order);
  } catch (const std::invalid_argument& err) {
    throw std::invalid_argument(std::string("order: ") + err.what());
  }
  return order;
}

GemmCall gemm_call(const std::string& name, const std::string& arch_name, const Words& a, const Words& b,
                   const std::optional<Words>& c, const std::optional<Nibbles>& e, const std::string& grouping,
                   const std::string& path, int threads, const std::string& order, const std::optional<std::string>& out_type,
                   const std::string& isa) {
  GemmCall call;
  const spec::Instruction& in = instruction_named(name);
  call.in = &in;
  call.arch = sim::parse_arch(arch_name);
  if (in.is_sparse() && !e) throw std::invalid_argument(std::string(in.name) + " is sparse: give the metadata e");
  if (!in.is_sparse() && e) throw std::invalid_argument(std::string(in.name) + " is dense: it takes no e");
  if (threads < 0) throw std::invalid_argument("threads must be >= 0 (0: OpenMP's default)");
  call.options.execution.grouping = grouping_named(grouping);
  call.options.threads = threads;
  if (path == "auto") call.options.path = sim::GemmPath::automatic;
  else if (path == "generic") call.options.path = sim::GemmPath::generic;
  else if (path == "fast") call.options.path = sim::GemmPath::fast;
  else throw std::invalid_argument("path must be auto, generic or fast, not '" + path + "'");
  call.options.isa = sim::parse_kernel_isa(isa);
  call.order = order_named(in, order, out_type);
  const auto m = static_cast<int>(a.shape(0)), k = static_cast<int>(b.shape(0)), n = static_cast<int>(b.shape(1));
  const int a_cols = in.is_sparse() ? k / in.chunk_width() * in.stored_per_chunk() : k;
  call.ops.a = tile_of(a, m, a_cols, "a");
  call.ops.b = tile_of(b, k, n, "b");
  call.ops.c = c ? tile_of(*c, m, n, "c") : sim::Tile(m, n);
  if (e) call.ops.metadata = nibbles_of(*e, m, k / in.chunk_width());
  return call;
}

nb::dict gemm(const std::string& name, const std::string& arch_name, Words a, Words b, std::optional<Words> c,
              std::optional<Nibbles> e, const std::string& grouping, const std::string& path, int threads,
              const std::string& order, std::optional<std::string> out_type, const std::string& isa) {
  GemmCall call = gemm_call(name, arch_name, a, b, c, e, grouping, path, threads, order, out_type, isa);
  sim::OrderedGemmResult r;
  {
    nb::gil_scoped_release release;
    r = sim::run_ordered_gemm(*call.in, call.arch, call.ops, call.order, call.options);
  }
  std::vector<std::string> notes;
  if (r.unconfirmed) notes.emplace_back("the metadata uses descending index pairs, unconfirmed on hardware");
  nb::dict out = notes_dict(tile_out(std::move(r.d)), r.unconfirmed, notes);
  out["order"] = sim::describe_order(call.order);
  out["output"] = std::string(r.output->name);
  return out;
}

// D under the order compared with the kernel's D (bits of the output type), bit for bit; the first
// `explain` differing elements explained, and optionally the orders that reproduce the kernel's D.
nb::dict check_gemm(const std::string& name, const std::string& arch_name, Words a, Words b, std::optional<Words> c,
                    std::optional<Nibbles> e, Words actual, const std::string& grouping, const std::string& path, int threads,
                    const std::string& order, std::optional<std::string> out_type, int keep, int explain, int steps,
                    bool search, const std::string& isa) {
  if (keep < 0 || explain < 0 || steps < 0) throw std::invalid_argument("keep, explain and steps must be at least 0");
  GemmCall call = gemm_call(name, arch_name, a, b, c, e, grouping, path, threads, order, out_type, isa);
  const sim::Tile kernel = tile_of(actual, call.ops.c.rows, call.ops.c.cols, "d_actual");
  sim::GemmCheckReport report;
  std::vector<std::vector<std::string>> explanations;
  std::optional<sim::OrderSearch> found;
  bool unconfirmed = false;
  {
    nb::gil_scoped_release release;
    sim::OrderedGemmResult r = sim::run_ordered_gemm(*call.in, call.arch, call.ops, call.order, call.options);
    unconfirmed = r.unconfirmed;
    report = sim::compare_gemm_outputs(*r.output, r.d, kernel, static_cast<std::size_t>(std::max(keep, explain)));
    for (std::size_t i = 0; i < report.first.size() && i < static_cast<std::size_t>(explain); ++i)
      explanations.push_back(sim::explain_gemm_element(*call.in, call.arch, call.ops, call.order, report.first[i].row,
                                                       report.first[i].col, call.options, steps));
    if (search) found = sim::find_matching_orders(*call.in, call.arch, call.ops, kernel, call.order, call.options);
  }
  nb::list mismatches;
  for (std::size_t i = 0; i < report.first.size(); ++i) {
    const sim::GemmMismatch& mm = report.first[i];
    nb::dict d;
    d["row"] = mm.row;
    d["col"] = mm.col;
    d["simulated"] = mm.simulated;
    d["actual"] = mm.actual;
    d["ulps"] = mm.ulps;
    d["explanation"] = i < explanations.size() ? explanations[i] : std::vector<std::string>{};
    mismatches.append(d);
  }
  nb::dict out;
  out["order"] = sim::describe_order(call.order);
  out["output"] = std::string(call.order.output->name);
  out["unconfirmed"] = unconfirmed;
  out["elements"] = report.elements;
  out["differing"] = report.differing;
  out["max_ulps"] = report.max_ulps;
  out["nan_mismatches"] = report.nan_mismatches;
  out["mismatches"] = mismatches;
  if (found) {
    out["orders_tried"] = found->tried;
    std::vector<std::string> matching;
    for (const sim::GemmOrder& o : found->matching) matching.push_back(sim::describe_order(o));
    out["matching_orders"] = matching;
  }
  return out;
}

std::string describe_order(const std::string& name, const std::string& text) {
  const spec::Instruction& in = instruction_named(name);
  return sim::describe_order(order_named(in, text, std::nullopt));
}

nb::tuple compress(const std::string& name, Words dense) {
  const spec::Instruction& in = instruction_named(name);
  const auto rows = static_cast<int>(dense.shape(0)), cols = static_cast<int>(dense.shape(1));
  sim::Tile t = tile_of(dense, rows, cols, "dense");
  sim::CompressedA c;
  {
    nb::gil_scoped_release release;
    c = sim::compress_a(in, t);
  }
  const auto r = static_cast<std::size_t>(rows), chunks = static_cast<std::size_t>(cols / 4);
  return nb::make_tuple(tile_out(std::move(c.values)), to_numpy(std::move(c.metadata), {r, chunks}));
}

}  // namespace

void bind_sim(nb::module_& m) {
  m.def("instructions", &instructions, "Every row of the instruction table as a dict.");
  m.def("instruction", [](const std::string& name) { return row_dict(instruction_named(name)); }, nb::arg("instr"),
        "One row, by atom name or PTX mnemonic.");
  m.def("layout", &layout, nb::arg("instr"), nb::arg("selector"), "Lane / register / element of every operand element.");
  m.def("tile", &tile, nb::arg("instr"), nb::arg("arch"), nb::arg("a"), nb::arg("b"), nb::arg("c").none(),
        nb::arg("e").none(), nb::arg("selector"), nb::arg("grouping"), "sim::run_tile on uint32 bit-pattern tiles.");
  m.def("run_warp", &run_warp, nb::arg("instr"), nb::arg("arch"), nb::arg("a"), nb::arg("b"), nb::arg("c").none(),
        nb::arg("e").none(), nb::arg("selector"), nb::arg("grouping"), "sim::run_warp on per-lane registers.");
  m.def("compress", &compress, nb::arg("instr"), nb::arg("dense"),
        "sim::compress_a: dense bit patterns -> (compressed A, metadata nibbles).");
  m.def("gemm", &gemm, nb::arg("instr"), nb::arg("arch"), nb::arg("a"), nb::arg("b"), nb::arg("c").none(),
        nb::arg("e").none(), nb::arg("grouping"), nb::arg("path"), nb::arg("threads"), nb::arg("order"),
        nb::arg("out_type").none(), nb::arg("isa"), "sim::run_ordered_gemm on uint32 bit-pattern matrices.");
  m.def("check_gemm", &check_gemm, nb::arg("instr"), nb::arg("arch"), nb::arg("a"), nb::arg("b"), nb::arg("c").none(),
        nb::arg("e").none(), nb::arg("d_actual"), nb::arg("grouping"), nb::arg("path"), nb::arg("threads"), nb::arg("order"),
        nb::arg("out_type").none(), nb::arg("keep"), nb::arg("explain"), nb::arg("steps"), nb::arg("search"), nb::arg("isa"),
        "sim::compare_gemm_outputs of the ordered GEMM against a kernel's D, with explanations and the order search.");
  m.def("sim_isas", [] {
    std::vector<std::string> names;
    for (sim::KernelIsa i : sim::supported_kernel_isas()) names.emplace_back(sim::kernel_isa_name(i));
    return names;
  }, "The instruction sets the GEMM fast path's kernels run on here (sim/kernel_isa.hpp), scalar first.");
  m.def("describe_order", &describe_order, nb::arg("instr"), nb::arg("order"),
        "sim::describe_order of an order string, checked against the row.");
}

}  // namespace twofour::python
