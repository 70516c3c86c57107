// `twofour gemm`: simulate a whole sparse (or dense) GEMM under a stated accumulation order, write
// D, or check a kernel's D bit for bit and explain the differences (docs/kernel-check.md).
#include "cli/command.hpp"
#include "cli/instruction_choice.hpp"
#include "cli/gemm_operands.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/io/output_set.hpp"
#include "twofour/sim/describe.hpp"
#include "twofour/sim/gemm_check.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

namespace twofour::cli {
namespace {

namespace spec = sim::spec;

struct Options {
  std::string instr, arch = "sm80", grouping = "stored", order = "chained", out_type;
  AInput a;
  std::string b, b_major = "row", c, c_major = "row", d_major = "row", out, check;
  bool explain_order = false;
  int show = 5, steps = 4;
};

const spec::FormatSpec& output_format(const spec::Instruction& in, const std::string& name) {
  if (name.empty()) return *in.d;
  if (name == "fp32") return spec::fp32;
  if (name == "fp16") return spec::fp16;
  if (name == "int32") return spec::s32;
  throw UsageError("--out-type must be fp32, fp16 or int32, not '" + name + "'");
}

io::Array to_array(const spec::FormatSpec& f, const sim::Tile& d, Major major) {
  const io::DType dtype = f == spec::fp32 ? io::DType::f32 : f == spec::fp16 ? io::DType::f16 : io::DType::i32;
  const std::size_t size = io::dtype_size(dtype);
  const std::size_t rows = static_cast<std::size_t>(major == Major::row ? d.rows : d.cols);
  const std::size_t cols = static_cast<std::size_t>(major == Major::row ? d.cols : d.rows);
  std::vector<std::byte> bytes(d.bits.size() * size);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const std::uint32_t v = major == Major::row ? d.at(static_cast<int>(r), static_cast<int>(c)) : d.at(static_cast<int>(c), static_cast<int>(r));
      std::memcpy(bytes.data() + (r * cols + c) * size, &v, size);
    }
  return io::make_array(dtype, {rows, cols}, bytes);
}

std::string element_text(const spec::FormatSpec& f, std::uint32_t bits) { return sim::describe_bits(f, bits); }

int run_gemm_command(const Options& o) {
  const InstructionChoice choice = choose_instruction(o.instr, o.arch, o.grouping);
  const spec::Instruction& in = choice.instr;
  const spec::Arch arch = choice.arch;
  sim::GemmOptions options;
  options.execution = choice.execution;
  sim::GemmOrder order;
  try {
    order = sim::parse_gemm_order(o.order);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--order: ") + e.what());
  }
  if (!o.out_type.empty() || order.output == nullptr) order.output = &output_format(in, o.out_type);
  try {
    sim::check_gemm_order(in, order);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--order: ") + e.what());
  }
  if (o.a.values.empty() || o.b.empty()) throw UsageError("--a and --b are required");
  if (o.explain_order && o.check.empty()) throw UsageError("--explain-order needs --check (the kernel's D)");
  if (o.show < 0 || o.steps < 0) throw UsageError("--show and --steps must be at least 0");
  const Major b_major = parse_major(o.b_major, "--b-major"), c_major = parse_major(o.c_major, "--c-major"),
              d_major = parse_major(o.d_major, "--d-major");

  // Outputs checked before any work: --out never overwrites an operand or the checked D.
  io::OutputSet outputs({o.a.values, o.a.metadata, o.b, o.c, o.check}, {o.out});

  sim::GemmOperands ops;
  ops.b = read_matrix(o.b, *in.b, -1, -1, b_major, "B (K x N)");
  read_a(in, o.a, ops.b.rows, ops);
  const int m = ops.a.rows, n = ops.b.cols, k = ops.b.rows;
  ops.c = o.c.empty() ? sim::Tile(m, n) : read_matrix(o.c, *in.d, m, n, c_major, "C (M x N)");

  sim::OrderedGemmResult result;
  try {
    result = sim::run_ordered_gemm(in, arch, ops, order, options);
  } catch (const std::invalid_argument& e) {
    throw CommandFailed(e.what());
  }
  const spec::FormatSpec& out_f = *result.output;
  std::printf("%s on %s, M x N x K = %dx%dx%d, D %s; order %s\n", std::string(in.name).c_str(),
              std::string(spec::arch_name(arch)).c_str(), m, n, k, std::string(out_f.name).c_str(),
              sim::describe_order(order).c_str());
  if (result.unconfirmed) std::cerr << "note: the metadata uses descending index pairs, unconfirmed on hardware\n";
  if (!o.out.empty()) {
    outputs.write(o.out, io::serialize_npy(to_array(out_f, result.d, d_major)));
    outputs.commit();
    std::printf("wrote %s\n", o.out.c_str());
  }
  if (o.check.empty()) return 0;

  const sim::Tile gpu = [&] {
    // D must be exactly the output type (no rounding of a kernel's bits).
    const io::DType want = out_f == spec::fp32 ? io::DType::f32 : out_f == spec::fp16 ? io::DType::f16 : io::DType::i32;
    io::Array d;
    try {
      d = io::read_npy(o.check);
    } catch (const std::runtime_error& e) {
      throw CommandFailed(e.what());
    }
    if (d.dtype != want)
      throw CommandFailed(o.check + ": the kernel's D has dtype " + std::string(io::dtype_name(d.dtype)) + ", the order's output type " +
                          std::string(out_f.name) + " needs " + std::string(io::dtype_name(want)) + " (see --out-type)");
    return read_matrix(o.check, out_f, m, n, d_major, "the kernel's D (M x N)");
  }();
  const sim::GemmCheckReport report = sim::compare_gemm_outputs(out_f, result.d, gpu, static_cast<std::size_t>(o.show));
  if (report.all_equal()) {
    std::printf("check %s: all %zu elements equal bit for bit\n", o.check.c_str(), report.elements);
    return 0;
  }
  std::printf("check %s: %zu of %zu elements differ; largest difference %llu ulp%s", o.check.c_str(), report.differing,
              report.elements, static_cast<unsigned long long>(report.max_ulps), report.max_ulps == 1 ? "" : "s");
  if (report.nan_mismatches != 0) std::printf(" (and %zu NaN against a number)", report.nan_mismatches);
  std::printf("\n");
  for (const sim::GemmMismatch& mm : report.first) {
    std::printf("\nD[%d][%d]: simulated %s\n          kernel    %s  (%s)\n", mm.row, mm.col, element_text(out_f, mm.simulated).c_str(),
                element_text(out_f, mm.actual).c_str(),
                mm.ulps ? (std::to_string(*mm.ulps) + (*mm.ulps == 1 ? " ulp" : " ulps")).c_str() : "NaN");
    for (const std::string& line : sim::explain_gemm_element(in, arch, ops, order, mm.row, mm.col, options, o.steps))
      std::printf("%s\n", line.c_str());
  }
  if (report.differing > report.first.size())
    std::printf("\n... %zu more differing elements\n", report.differing - report.first.size());
  if (o.explain_order) {
    const sim::OrderSearch search = sim::find_matching_orders(in, arch, ops, gpu, order, options);
    std::printf("\nexplain-order: tried %zu orders; ", search.tried);
    if (search.matching.empty() && in.is_sparse()) {
      // The other (unconfirmed) reading of how mma.sp forms datapath blocks (tile.hpp).
      sim::GemmOptions other = options;
      const bool stored = options.execution.grouping == sim::SparseGrouping::stored_products;
      other.execution.grouping = stored ? sim::SparseGrouping::logical_k : sim::SparseGrouping::stored_products;
      const sim::OrderSearch again = sim::find_matching_orders(in, arch, ops, gpu, order, other);
      if (!again.matching.empty()) {
        std::printf("none with --grouping %s, but with --grouping %s the kernel's D is reproduced exactly by\n  --order '%s'\n",
                    stored ? "stored" : "logical", stored ? "logical" : "stored",
                    sim::describe_order(again.matching[0]).c_str());
        return 1;
      }
    }
    if (search.matching.empty()) {
      std::printf("none reproduces the kernel's D (under either --grouping for sparse rows). The difference is not one of\n"
                  "these accumulation orders: check the operands and layout, the instruction row and --arch.\n");
    } else {
      std::printf("the kernel's D is reproduced exactly by\n  --order '%s'\n", sim::describe_order(search.matching[0]).c_str());
      for (std::size_t i = 1; i < search.matching.size() && i < 4; ++i)
        std::printf("  (also '%s')\n", sim::describe_order(search.matching[i]).c_str());
      if (search.matching.size() > 4) std::printf("  (and %zu more)\n", search.matching.size() - 4);
    }
  }
  return 1;
}

RegisterCommand reg{{"gemm", "Simulate a whole GEMM under a stated accumulation order; check a kernel's D bit for bit",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("--instr", o->instr, "instruction row the kernel issues (see `twofour explain --list`)")->required();
    sub.add_option("--arch", o->arch, "the GPU architecture, e.g. sm80 (default) or sm90");
    sub.add_option("--grouping", o->grouping, "how sparse products form datapath blocks: stored (default) or logical");
    sub.add_option("--a", o->a.values, "A: dense M x K with the 2:4 pattern (--layout dense), or the compressed values M x K/2");
    sub.add_option("--meta", o->a.metadata, "A's metadata for --layout nibbles (uint8 M x K/chunk), rowmajor or cutlass (int16/int32)");
    sub.add_option("--layout", o->a.layout, "A's form: dense (default), nibbles, rowmajor, cutlass (= PyTorch semi-structured)");
    sub.add_option("--b", o->b, "B: K x N .npy (or N x K with --b-major col)");
    sub.add_option("--b-major", o->b_major, "row (file is K x N, default) or col (file is N x K)");
    sub.add_option("--c", o->c, "C: M x N .npy in the accumulator type (default zeros)");
    sub.add_option("--c-major", o->c_major, "row (default) or col (file is N x M)");
    sub.add_option("--d-major", o->d_major, "how --out writes and --check reads D: row (default) or col");
    sub.add_option("--order", o->order,
                   "accumulation order: a preset (twofour, chained, cutlass) with key=value overrides, or key=value only;"
                   " keys tile_k, split_k, reduction=serial|fp32, c=first|epilogue, alpha, beta (default chained)");
    sub.add_option("--out-type", o->out_type, "D element type: fp32, fp16 or int32 (default: the row's D type)");
    sub.add_option("--out", o->out, "write the simulated D (.npy)");
    sub.add_option("--check", o->check, "the kernel's D (.npy, the output type): compare bit for bit, exit 1 on any difference");
    sub.add_flag("--explain-order", o->explain_order, "on a failed check, try the preset orders and name one that reproduces D");
    sub.add_option("--show", o->show, "differing elements to explain (default 5)");
    sub.add_option("--steps", o->steps, "inexact k-steps shown per slice in an explanation (default 4)");
    return [o]() { return run_gemm_command(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
