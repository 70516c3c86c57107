#include "twofour/sim/vectors.hpp"

#include "twofour/sim/describe.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <istream>
#include <ostream>
#include <sstream>

namespace twofour::sim {
namespace {

constexpr const char* kMagic = "twofour-vectors";
constexpr const char* kVersion = "v1";

std::size_t at(int i) { return static_cast<std::size_t>(i); }

void put_words(std::ostream& out, const char* key, const WarpRegisters& lanes, std::vector<std::uint32_t> LaneRegisters::*field,
               int regs) {
  out << ' ' << key << '=';
  char buf[16];
  bool first = true;
  for (const LaneRegisters& lane : lanes) {
    for (int r = 0; r < regs; ++r) {
      std::snprintf(buf, sizeof buf, "%08x", (lane.*field)[at(r)]);
      out << (first ? "" : ",") << buf;
      first = false;
    }
  }
}

[[noreturn]] void fail(const std::string& name, int line, const std::string& what) {
  throw VectorFormatError(name + ":" + std::to_string(line) + ": " + what);
}

std::vector<std::uint32_t> parse_words(const std::string& text, std::size_t expected, int threads, const std::string& name,
                                       int line, const std::string& key) {
  std::vector<std::uint32_t> words;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string_view word(text.data() + pos, comma - pos);
    std::uint32_t value = 0;
    const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), value, 16);
    if (word.empty() || word.size() > 8 || ec != std::errc() || ptr != word.data() + word.size())
      fail(name, line, key + ": word " + std::to_string(words.size()) + " '" + std::string(word) + "' is not a hex word");
    words.push_back(value);
    pos = comma + 1;
  }
  if (words.size() != expected)
    fail(name, line, key + ": expected " + std::to_string(expected) + " words (" + std::to_string(threads) + " threads x " +
                         std::to_string(expected / at(threads)) + " registers), got " + std::to_string(words.size()));
  return words;
}

}  // namespace

void write_vectors(std::ostream& out, const VectorFile& file) {
  const VectorHeader& h = file.header;
  out << kMagic << ' ' << kVersion << " generator=" << h.generator << " seed=" << h.seed
      << " arch=" << spec::arch_name(h.arch) << " source=" << h.source << '\n';
  for (const VectorCase& c : file.cases) {
    const spec::Instruction& in = *c.instr;
    out << in.name << ' ' << c.selector;
    put_words(out, "A", c.in, &LaneRegisters::a, in.a_registers());
    put_words(out, "B", c.in, &LaneRegisters::b, in.b_registers());
    put_words(out, "C", c.in, &LaneRegisters::c, in.c_registers());
    if (in.is_sparse()) {
      WarpRegisters e(c.in.size());
      for (std::size_t lane = 0; lane < e.size(); ++lane) e[lane].a = {c.in[lane].e};
      put_words(out, "E", e, &LaneRegisters::a, 1);
    } else {
      out << " E=-";
    }
    WarpRegisters d(c.d.size());
    for (std::size_t lane = 0; lane < d.size(); ++lane) d[lane].c = c.d[lane];
    put_words(out, "D", d, &LaneRegisters::c, in.d_registers());
    out << '\n';
  }
}

void write_vectors_file(const std::filesystem::path& path, const VectorFile& file) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  write_vectors(out, file);
  if (!out) throw std::runtime_error("error writing " + path.string());
}

VectorFile read_vectors(std::istream& in, const std::string& name) {
  VectorFile file;
  std::string text;
  int line = 0;
  bool have_header = false;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const std::size_t first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] == '#') continue;
    std::istringstream fields(text);
    if (!have_header) {
      std::string magic, version;
      fields >> magic >> version;
      if (magic != kMagic) fail(name, line, "expected the header 'twofour-vectors v1 generator=... seed=... arch=... source=...'");
      if (version != kVersion) fail(name, line, "unsupported version '" + version + "' (this reader knows v1)");
      bool seen_source = false;
      std::string field;
      while (!seen_source && fields >> field) {
        const std::size_t eq = field.find('=');
        if (eq == std::string::npos) fail(name, line, "header field '" + field + "' is not key=value");
        const std::string key = field.substr(0, eq), value = field.substr(eq + 1);
        if (key == "generator") {
          file.header.generator = value;
        } else if (key == "seed") {
          const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), file.header.seed);
          if (ec != std::errc() || ptr != value.data() + value.size()) fail(name, line, "seed '" + value + "' is not a number");
        } else if (key == "arch") {
          try {
            file.header.arch = parse_arch(value);
          } catch (const std::invalid_argument& e) {
            fail(name, line, e.what());
          }
        } else if (key == "source") {
          std::string rest;
          std::getline(fields, rest);
          file.header.source = value + rest;
          seen_source = true;
        } else {
          fail(name, line, "unknown header field '" + key + "'");
        }
      }
      if (!seen_source) fail(name, line, "header lacks source=");
      have_header = true;
      continue;
    }
    VectorCase c;
    c.line = line;
    std::string row, selector;
    fields >> row >> selector;
    c.instr = spec::find_instruction(row);
    if (c.instr == nullptr) fail(name, line, "unknown instruction '" + row + "'");
    const spec::Instruction& instr = *c.instr;
    const int threads = instr.threads;
    c.in = make_registers(instr);
    c.d = make_output(instr);
    {
      const auto [ptr, ec] = std::from_chars(selector.data(), selector.data() + selector.size(), c.selector);
      if (selector.empty() || ec != std::errc() || ptr != selector.data() + selector.size())
        fail(name, line, "selector '" + selector + "' is not a number");
    }
    const char* keys[] = {"A", "B", "C", "E", "D"};
    for (const char* key : keys) {
      std::string field;
      if (!(fields >> field)) fail(name, line, std::string("missing ") + key + "=");
      if (field.rfind(std::string(key) + "=", 0) != 0) fail(name, line, std::string("expected ") + key + "=..., got '" + field.substr(0, 20) + "'");
      const std::string value = field.substr(2);
      const std::string k = key;
      if (k == "E") {
        if (!instr.is_sparse()) {
          if (value != "-") fail(name, line, "E must be '-' for the dense row " + row);
          continue;
        }
        const std::vector<std::uint32_t> w = parse_words(value, at(threads), threads, name, line, k);
        for (int lane = 0; lane < threads; ++lane) c.in[at(lane)].e = w[at(lane)];
        continue;
      }
      const int regs = k == "A" ? instr.a_registers() : k == "B" ? instr.b_registers() : instr.c_registers();
      const std::vector<std::uint32_t> w = parse_words(value, at(threads * regs), threads, name, line, k);
      for (int lane = 0; lane < threads; ++lane) {
        for (int r = 0; r < regs; ++r) {
          const std::uint32_t v = w[at(lane * regs + r)];
          if (k == "A") c.in[at(lane)].a[at(r)] = v;
          if (k == "B") c.in[at(lane)].b[at(r)] = v;
          if (k == "C") c.in[at(lane)].c[at(r)] = v;
          if (k == "D") c.d[at(lane)][at(r)] = v;
        }
      }
    }
    std::string extra;
    if (fields >> extra) fail(name, line, "unexpected text after D: '" + extra.substr(0, 20) + "'");
    file.cases.push_back(c);
  }
  if (!have_header) fail(name, line, "empty file: no 'twofour-vectors v1' header");
  return file;
}

VectorFile read_vectors_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw VectorFormatError(path.string() + ":0: cannot open");
  return read_vectors(in, path.string());
}

std::uint32_t random_element(const spec::FormatSpec& f, std::mt19937_64& rng) {
  const std::uint64_t r = rng();
  if (f.is_integer) return static_cast<std::uint32_t>(r) & f.container_mask();
  const std::uint32_t sign = (r & 1u) != 0 ? 1u << (f.container_bits - 1) : 0u;
  const std::uint32_t man = static_cast<std::uint32_t>(r >> 8) & ((1u << f.mantissa_bits) - 1u);
  const unsigned kind = static_cast<unsigned>((r >> 40) % 32u);
  std::uint32_t exp_field = 0;
  if (kind == 0) return sign;                       // zero
  if (kind == 1) {
    exp_field = 0;                                  // subnormal (or zero)
  } else {
    // Moderate exponents around 1 so that products and sums interact; fp8 gets its whole range.
    const int max_field = (1 << f.exponent_bits) - 2;
    const int spread = std::min(6, max_field / 2);
    const int centre = std::min(f.bias, max_field);
    const int offset = static_cast<int>((r >> 48) % static_cast<std::uint64_t>(2 * spread + 1)) - spread;
    exp_field = static_cast<std::uint32_t>(std::clamp(centre + offset, 1, max_field));
  }
  std::uint32_t bits = sign | (exp_field << f.mantissa_bits) | man;
  if (f.nan == spec::NanEncoding::mantissa_all_ones && spec::is_nan(f, bits << f.ignored_low_bits)) bits &= ~1u;
  return bits << f.ignored_low_bits;
}

std::uint8_t random_nibble(const spec::Instruction& instr, std::mt19937_64& rng) {
  if (instr.sparsity == spec::Sparsity::one_of_two) return (rng() & 1u) != 0 ? 0x4 : 0xe;
  static constexpr std::uint8_t ascending[] = {0x4, 0x8, 0x9, 0xc, 0xd, 0xe};
  return ascending[rng() % 6];
}

TileOperands random_tile_operands(const spec::Instruction& instr, std::mt19937_64& rng) {
  TileOperands t;
  t.a = Tile(instr.m, instr.is_sparse() ? instr.stored_k() : instr.k);
  t.b = Tile(instr.k, instr.n);
  t.c = Tile(instr.m, instr.n);
  for (auto& v : t.a.bits) v = random_element(*instr.a, rng);
  for (auto& v : t.b.bits) v = random_element(*instr.b, rng);
  for (auto& v : t.c.bits) v = random_element(*instr.c, rng);
  if (instr.is_sparse()) {
    t.metadata.resize(static_cast<std::size_t>(instr.m * instr.chunks_per_row()));
    for (auto& v : t.metadata) v = random_nibble(instr, rng);
  }
  return t;
}

VectorCase make_random_case(const spec::Instruction& instr, spec::Arch arch, int selector, std::mt19937_64& rng,
                            const ExecutionOptions& options) {
  VectorCase c;
  c.instr = &instr;
  c.selector = selector;
  c.in = pack_registers(instr, random_tile_operands(instr, rng), selector);
  c.d = run_warp(instr, arch, c.in, selector, options).d;
  return c;
}

CheckReport check_vectors(const VectorFile& file, const ExecutionOptions& options) {
  CheckReport report;
  for (const VectorCase& c : file.cases) {
    ++report.cases;
    const spec::Instruction& instr = *c.instr;
    const std::string where = "line " + std::to_string(c.line) + " " + std::string(instr.name) + " selector " +
                              std::to_string(c.selector);
    WarpResult sim;
    try {
      sim = run_warp(instr, file.header.arch, c.in, c.selector, options);
    } catch (const std::exception& e) {
      ++report.failing_cases;
      report.lines.push_back(where + ": cannot simulate: " + e.what());
      continue;
    }
    bool failed = false;
    const spec::FormatSpec& f = *instr.d;
    const int per = 32 / f.container_bits;
    for (int lane = 0; lane < instr.threads; ++lane) {
      for (int r = 0; r < instr.d_registers(); ++r) {
        for (int e = 0; e < per; ++e) {
          const std::uint32_t want = (c.d[at(lane)][at(r)] >> (e * f.container_bits)) & f.container_mask();
          const std::uint32_t got = (sim.d[at(lane)][at(r)] >> (e * f.container_bits)) & f.container_mask();
          if (want == got) continue;
          failed = true;
          ++report.mismatches;
          const spec::Coord rc = spec::c_coord(instr, lane, r, e);
          report.lines.push_back(where + ": D lane " + std::to_string(lane) + " register " + std::to_string(r) +
                                 " element " + std::to_string(e) + " (row " + std::to_string(rc.row) + ", col " +
                                 std::to_string(rc.col) + "): " + file.header.source + " " + describe_bits(f, want) +
                                 " vs sim " + describe_bits(f, got));
        }
      }
    }
    if (failed) ++report.failing_cases;
  }
  return report;
}

}  // namespace twofour::sim
