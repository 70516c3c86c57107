// `twofour mma`: simulate one mma / mma.sp instruction bit for bit. Operands come as .npy tiles
// (A compressed M x K/2 for sparse rows, B K x N, C M x N, E = metadata nibbles M x K/chunk,
// uint8) or as per-thread hex text (threads x registers words, thread-major, '#' comments; the
// row's thread count, 32 for a warp); D is printed (values, or per-thread words with --hex) or
// written (--out .npy tile or text words).
#include "cli/command.hpp"
#include "cli/instruction_choice.hpp"
#include "twofour/io/input_file.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/io/output_set.hpp"
#include "twofour/sim/describe.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"
#include "twofour/sim/warp.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

namespace twofour::cli {
namespace {

namespace spec = sim::spec;

bool is_npy(const std::string& path) { return path.size() > 4 && path.compare(path.size() - 4, 4, ".npy") == 0; }

// Per-lane hex words from a text file: exactly `count` words.
std::vector<std::uint32_t> read_words(const std::string& path, std::size_t count, int threads, const std::string& what) {
  std::istringstream in;
  try {
    in.str(io::read_text_file(path));
  } catch (const io::FormatError& e) {
    throw CommandFailed(std::string(what) + ": " + e.what());
  }
  std::vector<std::uint32_t> words;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    for (char& ch : line)
      if (ch == ',') ch = ' ';
    std::istringstream fields(line);
    std::string word;
    while (fields >> word) {
      std::size_t used = 0;
      unsigned long v = 0;
      try {
        v = std::stoul(word, &used, 16);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != word.size() || v > 0xffffffffUL)
        throw CommandFailed(path + ":" + std::to_string(line_no) + ": '" + word + "' is not a 32-bit hex word");
      words.push_back(static_cast<std::uint32_t>(v));
    }
  }
  if (words.size() != count)
    throw CommandFailed(path + ": " + what + " needs " + std::to_string(count) + " hex words (" + std::to_string(threads) +
                        " threads x " + std::to_string(count / static_cast<std::size_t>(threads)) +
                        " registers, thread-major), got " + std::to_string(words.size()));
  return words;
}

// A .npy tile as bit patterns of `f`: raw bits for same-size or integer dtypes, values converted
// (round to nearest even) when a float array of another width is given for a float format.
sim::Tile read_tile(const std::string& path, const spec::FormatSpec& f, int rows, int cols, const std::string& what) {
  io::Array a;
  try {
    a = io::read_npy(path);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  if (a.shape.size() != 2 || a.shape[0] != static_cast<std::size_t>(rows) || a.shape[1] != static_cast<std::size_t>(cols))
    throw CommandFailed(path + ": " + what + " must be a " + std::to_string(rows) + "x" + std::to_string(cols) + " array");
  const std::size_t size = io::dtype_size(a.dtype);
  sim::Tile t(rows, cols);
  const bool float_dtype = io::is_floating(a.dtype);
  const bool same_width = static_cast<int>(size * 8) == f.container_bits ||
                          (f.container_bits < 8 && size == 1) || (f == spec::tf32 && size == 4);
  if (float_dtype && !f.is_integer && !same_width) {
    const std::vector<float> values = io::to_float32(a);
    for (std::size_t i = 0; i < values.size(); ++i) t.bits[i] = spec::encode(f, static_cast<double>(values[i]));
    return t;
  }
  if (size > 4 || (float_dtype && f.is_integer))
    throw CommandFailed(path + ": dtype " + std::string(io::dtype_name(a.dtype)) + " cannot hold " + std::string(f.name) + " values");
  for (std::size_t i = 0; i < t.bits.size(); ++i) {
    std::uint32_t v = 0;
    std::memcpy(&v, a.data.data() + i * size, size);  // little-endian host
    t.bits[i] = v & f.container_mask();
  }
  return t;
}

io::Array d_array(const spec::FormatSpec& f, const sim::Tile& d) {
  const io::DType dtype = f == spec::fp32 ? io::DType::f32 : f == spec::fp16 ? io::DType::f16 : io::DType::i32;
  const std::size_t size = io::dtype_size(dtype);
  std::vector<std::byte> bytes(d.bits.size() * size);
  for (std::size_t i = 0; i < d.bits.size(); ++i) std::memcpy(bytes.data() + i * size, &d.bits[i], size);
  return io::make_array(dtype, {static_cast<std::size_t>(d.rows), static_cast<std::size_t>(d.cols)}, bytes);
}

struct Options {
  std::string instr, arch = "sm80", a, b, c, e, out, grouping = "stored";
  int selector = 0;
  bool hex = false;
};

int run_mma(const Options& o) {
  const InstructionChoice choice = choose_instruction(o.instr, o.arch, o.grouping);
  const spec::Instruction& in = choice.instr;
  const spec::Arch arch = choice.arch;
  const sim::ExecutionOptions exec = choice.execution;
  if (o.a.empty() || o.b.empty()) throw UsageError("--a and --b are required");
  if (in.is_sparse() && o.e.empty()) throw UsageError(std::string(in.name) + " is sparse: give the metadata with --e");
  if (!in.is_sparse() && !o.e.empty()) throw UsageError(std::string(in.name) + " is dense: it takes no --e");
  try {
    sim::check_selector(in, o.selector);
  } catch (const sim::MetadataError& e) {
    throw UsageError(e.what());
  }

  // Outputs checked before any work: --out never overwrites an operand.
  io::OutputSet outputs({o.a, o.b, o.c, o.e}, {o.out});

  // Operands a warpgroup row reads from shared memory are given as tiles.
  const bool a_shared = in.a_source == spec::OperandSource::shared_descriptor;
  const bool b_shared = in.b_source == spec::OperandSource::shared_descriptor;
  if (a_shared && !is_npy(o.a))
    throw UsageError(std::string(in.name) + " reads A from shared memory: give A as a .npy tile (M x " +
                     std::to_string(in.is_sparse() ? in.stored_k() : in.k) + ")");
  if (b_shared && !is_npy(o.b))
    throw UsageError(std::string(in.name) + " reads B from shared memory: give B as a .npy tile (K x N)");

  // Everything text goes through registers (so UB reports name lanes); .npy goes into tiles.
  const bool all_text = !is_npy(o.a) && !is_npy(o.b) && (o.c.empty() || !is_npy(o.c)) && (o.e.empty() || !is_npy(o.e));
  const int threads = in.threads;
  sim::WarpRegisters regs = sim::make_registers(in);
  auto fill = [&](const std::string& path, int count, std::vector<std::uint32_t> sim::LaneRegisters::*field, const char* what) {
    const auto w = read_words(path, static_cast<std::size_t>(threads * count), threads, what);
    for (int lane = 0; lane < threads; ++lane)
      for (int r = 0; r < count; ++r) (regs[static_cast<std::size_t>(lane)].*field)[static_cast<std::size_t>(r)] = w[static_cast<std::size_t>(lane * count + r)];
  };
  sim::TileOperands tiles;
  bool unconfirmed = false;
  std::vector<std::string> notes;
  try {
    if (!is_npy(o.a)) fill(o.a, in.a_registers(), &sim::LaneRegisters::a, "A");
    if (!is_npy(o.b)) fill(o.b, in.b_registers(), &sim::LaneRegisters::b, "B");
    if (!o.c.empty() && !is_npy(o.c)) fill(o.c, in.c_registers(), &sim::LaneRegisters::c, "C");
    if (!o.e.empty() && !is_npy(o.e)) {
      const auto w = read_words(o.e, static_cast<std::size_t>(threads), threads, "E");
      for (int lane = 0; lane < threads; ++lane) regs[static_cast<std::size_t>(lane)].e = w[static_cast<std::size_t>(lane)];
    }
    // Metadata from a .npy replaces the registers' below: give them a valid placeholder (0100 is
    // defined for every sparse kind) so that only the real metadata is checked.
    if (in.is_sparse() && is_npy(o.e))
      for (auto& lane : regs) lane.e = 0x44444444u;
    // Shared-memory operands come from the .npy tiles below; zeros stand in until then.
    sim::TileOperands zeros;
    zeros.a = sim::Tile(in.m, in.is_sparse() ? in.stored_k() : in.k);
    zeros.b = sim::Tile(in.k, in.n);
    const sim::SharedOperands placeholder = sim::pack_shared(in, zeros, spec::Swizzle::none);
    tiles = sim::unpack_operands(in, regs, o.selector, &unconfirmed, &notes, &placeholder);
    const int a_cols = in.is_sparse() ? in.stored_k() : in.k;
    if (is_npy(o.a)) tiles.a = read_tile(o.a, *in.a, in.m, a_cols, "A");
    if (is_npy(o.b)) tiles.b = read_tile(o.b, *in.b, in.k, in.n, "B");
    if (!o.c.empty() && is_npy(o.c)) tiles.c = read_tile(o.c, *in.c, in.m, in.n, "C");
    if (!o.e.empty() && is_npy(o.e)) {
      const sim::Tile e = read_tile(o.e, spec::u8, in.m, in.chunks_per_row(), "E (metadata nibbles)");
      for (std::uint32_t v : e.bits)
        if (v > 0xfu) throw CommandFailed(o.e + ": metadata values are nibbles (0..15)");
      tiles.metadata.assign(e.bits.begin(), e.bits.end());
    }
    sim::Tile d;
    if (all_text) {
      const sim::WarpResult r = sim::run_warp(in, arch, regs, o.selector, exec);
      d = sim::unpack_d(in, r.d);
    } else {
      const sim::TileResult r = sim::run_tile(in, arch, tiles, exec);
      d = r.d;
      unconfirmed = unconfirmed || r.unconfirmed;
      notes.insert(notes.end(), r.notes.begin(), r.notes.end());
    }
    for (const std::string& note : notes) std::cerr << "note: " << note << "\n";
    if (unconfirmed) std::cerr << "note: the result uses metadata whose behaviour is unconfirmed on hardware\n";

    const sim::WarpOutput words = sim::pack_d(in, d);
    if (!o.out.empty()) {
      if (is_npy(o.out)) {
        outputs.write(o.out, io::serialize_npy(d_array(*in.d, d)));
      } else {
        std::ostringstream out;
        for (int lane = 0; lane < threads; ++lane) {
          for (int r = 0; r < in.d_registers(); ++r) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "%s%08x", r == 0 ? "" : " ", words[static_cast<std::size_t>(lane)][static_cast<std::size_t>(r)]);
            out << buf;
          }
          out << "\n";
        }
        outputs.write(o.out, out.str());
      }
      outputs.commit();
      return 0;
    }
    if (o.hex) {
      for (int lane = 0; lane < threads; ++lane) {
        std::printf("lane %2d:", lane);
        for (int r = 0; r < in.d_registers(); ++r) std::printf(" d%d=%08x", r, words[static_cast<std::size_t>(lane)][static_cast<std::size_t>(r)]);
        std::printf("\n");
      }
      return 0;
    }
    std::printf("D (%dx%d, %s) of %s on %s\n", in.m, in.n, std::string(in.d->name).c_str(), std::string(in.name).c_str(),
                std::string(spec::arch_name(arch)).c_str());
    if (sim::lowering_of(in, arch) == sim::Lowering::fp8_via_fp16_sm90) {
      std::printf("(ptxas lowers it on %s: fp8 -> fp16, two fp16 HMMAs over the low then the high register halves, then %s of C;"
                  " docs/isa-findings.md)\n",
                  std::string(spec::arch_name(arch)).c_str(), *in.d == spec::fp16 ? "HADD2" : "FADD");
    }
    for (int r = 0; r < in.m; ++r) {
      for (int c = 0; c < in.n; ++c) std::printf("%s%14s", c == 0 ? "" : " ", sim::format_value(*in.d, d.at(r, c)).c_str());
      std::printf("\n");
    }
    return 0;
  } catch (const sim::MetadataError& e) {
    throw CommandFailed(e.what());
  } catch (const sim::DescriptorError& e) {
    throw CommandFailed(e.what());
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
}

RegisterCommand reg{{"mma", "Simulate one mma / mma.sp instruction bit for bit",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("--instr", o->instr, "instruction row name or PTX mnemonic (see `twofour explain --list`)")->required();
    sub.add_option("--arch", o->arch, "sm80, sm86, sm89, sm90 or sm100 (default sm80)");
    sub.add_option("--selector", o->selector, "sparsity selector f (default 0)");
    sub.add_option("--a", o->a, "A: .npy tile (compressed M x K/2 for sparse rows) or per-lane hex text");
    sub.add_option("--b", o->b, "B: .npy K x N tile or per-lane hex text");
    sub.add_option("--c", o->c, "C: .npy M x N tile or per-lane hex text (default zeros)");
    sub.add_option("--e", o->e, "metadata: .npy M x chunks uint8 nibbles, or one hex word per thread");
    sub.add_option("--grouping", o->grouping, "how sparse products form datapath blocks: stored (default) or logical");
    sub.add_option("--out", o->out, "write D: .npy tile, or per-lane hex text");
    sub.add_flag("--hex", o->hex, "print D as per-lane register words");
    return [o]() { return run_mma(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
