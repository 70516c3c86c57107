// The GEMM's accumulation order as data (gemm_order.hpp): slices through run_gemm, then the
// split-K reduction and the fp32 epilogue with the host's IEEE single-precision arithmetic
// (x86-64 SSE: round to nearest even, subnormals kept, no contraction: the fused step is an
// explicit std::fma).
#include "twofour/sim/gemm_order.hpp"

#include "twofour/sim/spec/metadata.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace twofour::sim {
namespace {

std::size_t sz(int i) { return static_cast<std::size_t>(i); }

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("GEMM order: " + what); }

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

int parse_int(const std::string& key, const std::string& value) {
  int v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc{} || end != value.data() + value.size()) bad(key + "=" + value + ": not an integer");
  return v;
}

float parse_float(const std::string& key, const std::string& value) {
  try {
    std::size_t used = 0;
    const float v = std::stof(value, &used);
    if (used == value.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  bad(key + "=" + value + ": not a finite number");
}

std::string number(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

float to_float(const spec::FormatSpec& f, std::uint32_t bits) {
  if (f == spec::fp32) return std::bit_cast<float>(bits);
  return static_cast<float>(spec::decode_to_double(f, bits));  // fp16: exact in fp32
}

std::uint32_t from_float(const spec::FormatSpec& out, float v) {
  if (out == spec::fp32) return std::bit_cast<std::uint32_t>(v);
  return spec::encode(out, static_cast<double>(v));  // round to nearest even (exact input)
}

// The GEMM level's checks on the whole operands, before any slicing, so that messages name global
// rows and chunks.
void check_operands(const spec::Instruction& instr, const GemmOperands& ops) {
  const auto fail = [&](const std::string& what) { throw std::invalid_argument(std::string(instr.name) + " GEMM: " + what); };
  const int m = ops.c.rows, n = ops.c.cols, k = ops.b.rows;
  if (m <= 0 || n <= 0 || k <= 0) fail("empty operands");
  if (m % instr.m != 0 || n % instr.n != 0 || k % instr.k != 0)
    fail("M x N x K = " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
         " must be multiples of the instruction's " + std::to_string(instr.m) + "x" + std::to_string(instr.n) + "x" +
         std::to_string(instr.k));
  const int a_cols = instr.is_sparse() ? k / instr.chunk_width() * instr.stored_per_chunk() : k;
  const int chunks = instr.is_sparse() ? k / instr.chunk_width() : 0;
  if (ops.c.bits.size() != sz(m) * sz(n)) fail("C storage does not match its shape");
  if (ops.b.cols != n || ops.b.bits.size() != sz(k) * sz(n)) fail("B must be K x N = " + std::to_string(k) + "x" + std::to_string(n));
  if (ops.a.rows != m || ops.a.cols != a_cols || ops.a.bits.size() != sz(m) * sz(a_cols))
    fail(std::string(instr.is_sparse() ? "compressed " : "") + "A must be " + std::to_string(m) + "x" + std::to_string(a_cols));
  if (!instr.is_sparse()) return;
  if (ops.metadata.size() != sz(m) * sz(chunks))
    fail("metadata must hold M x K/" + std::to_string(instr.chunk_width()) + " = " + std::to_string(m * chunks) + " nibbles");
  for (int i = 0; i < m; ++i)
    for (int ch = 0; ch < chunks; ++ch) {
      const unsigned nibble = ops.metadata[sz(i) * sz(chunks) + sz(ch)] & 0xfu;
      const spec::NibbleStatus status = spec::decode_nibble(instr, nibble).status;
      if (spec::is_undefined(status))
        throw MetadataError(std::string(instr.name) + " GEMM: metadata of A row " + std::to_string(i) + ", chunk " +
                            std::to_string(ch) + " (K " + std::to_string(ch * instr.chunk_width()) + ".." +
                            std::to_string((ch + 1) * instr.chunk_width() - 1) + ") is 0x" + "0123456789abcdef"[nibble] +
                            ": " + std::string(spec::nibble_status_text(status)));
    }
}

}  // namespace

std::vector<std::string> gemm_order_preset_names() { return {"twofour", "chained", "cutlass"}; }

GemmOrder gemm_order_preset(std::string_view name) {
  GemmOrder o;
  o.preset = std::string(name);
  if (name == "twofour") {
    o.output = &spec::fp32;
    return o;  // cuda/gemm.hpp: kGemmTileK = 64, C loaded into the accumulators, fp32 D
  }
  if (name == "chained") {
    o.tile_k = 0;  // resolved to instr.k by run_ordered_gemm
    return o;
  }
  if (name == "cutlass") {
    o.c_entry = CEntry::epilogue;
    return o;
  }
  std::string names;
  for (const std::string& n : gemm_order_preset_names()) names += (names.empty() ? "" : ", ") + n;
  bad("unknown preset '" + std::string(name) + "' (presets: " + names + ")");
}

GemmOrder parse_gemm_order(std::string_view text) {
  GemmOrder o;
  bool first = true;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t comma = text.find(',', pos);
    const std::string token = trim(text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos));
    pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    const std::size_t eq = token.find('=');
    if (eq == std::string::npos) {
      if (!first) bad("'" + token + "': a preset name comes first, then key=value overrides");
      if (token.empty()) bad("empty order (give a preset or key=value settings)");
      o = gemm_order_preset(token);
      first = false;
      continue;
    }
    first = false;
    const std::string key = trim(token.substr(0, eq)), value = trim(token.substr(eq + 1));
    if (key == "instr_k") o.instr_k = parse_int(key, value);
    else if (key == "tile_k") o.tile_k = parse_int(key, value);
    else if (key == "split_k") o.split_k = parse_int(key, value);
    else if (key == "reduction") {
      if (value == "serial") o.reduction = SplitReduction::serial;
      else if (value == "fp32") o.reduction = SplitReduction::fp32;
      else bad("reduction=" + value + ": serial or fp32");
    } else if (key == "c") {
      if (value == "first") o.c_entry = CEntry::first;
      else if (value == "epilogue") o.c_entry = CEntry::epilogue;
      else bad("c=" + value + ": first or epilogue");
    } else if (key == "alpha") o.alpha = parse_float(key, value);
    else if (key == "beta") o.beta = parse_float(key, value);
    else bad("unknown key '" + key + "' (instr_k, tile_k, split_k, reduction, c, alpha, beta)");
  }
  return o;
}

std::string describe_order(const GemmOrder& o) {
  return o.preset + ": " + (o.instr_k != 0 ? "instr_k=" + std::to_string(o.instr_k) + "," : std::string()) + "tile_k=" + (o.tile_k == 0 ? std::string("instr") : std::to_string(o.tile_k)) +
         ",split_k=" + std::to_string(o.split_k) +
         ",reduction=" + (o.reduction == SplitReduction::serial ? "serial" : "fp32") +
         ",c=" + (o.c_entry == CEntry::first ? "first" : "epilogue") + ",alpha=" + number(o.alpha) +
         ",beta=" + number(o.beta);
}

const spec::Instruction& ordered_instruction(const spec::Instruction& instr, const GemmOrder& o) {
  if (o.instr_k == 0 || o.instr_k == instr.k) return instr;
  for (const spec::Instruction& row : spec::instruction_table) {
    if (row.k == o.instr_k && row.m == instr.m && row.n == instr.n && *row.a == *instr.a && *row.b == *instr.b &&
        *row.c == *instr.c && *row.d == *instr.d && row.sparsity == instr.sparsity && row.order == instr.order &&
        row.satfinite == instr.satfinite)
      return row;
  }
  bad("instr_k=" + std::to_string(o.instr_k) + ": no instruction like " + std::string(instr.name) + " with K = " +
      std::to_string(o.instr_k));
}

void check_gemm_order(const spec::Instruction& row, const GemmOrder& o) {
  const spec::Instruction& instr = ordered_instruction(row, o);
  if (o.tile_k != 0 && (o.tile_k < 0 || o.tile_k % instr.k != 0))
    bad("tile_k=" + std::to_string(o.tile_k) + " must be a positive multiple of the instruction's K (" +
        std::to_string(instr.k) + ")");
  if (o.split_k < 1) bad("split_k=" + std::to_string(o.split_k) + " must be at least 1");
  if (o.c_entry == CEntry::first && o.beta != 1.0f)
    bad("beta=" + number(o.beta) + " with c=first: C is already in the accumulators (use c=epilogue)");
  const spec::FormatSpec& acc = *instr.d;
  const spec::FormatSpec& out = o.output != nullptr ? *o.output : acc;
  if (acc.is_integer) {
    if (!(out == spec::s32)) bad(std::string("integer rows write int32 D, not ") + std::string(out.name));
    if (o.alpha != 1.0f || o.beta != 1.0f) bad("alpha and beta must be 1 on integer rows (an fp32 epilogue of int32 is not modelled)");
  } else if (!(out == spec::fp32) && !(out == spec::fp16)) {
    bad(std::string("float rows write fp32 or fp16 D, not ") + std::string(out.name));
  }
}

std::vector<KRange> split_k_ranges(const spec::Instruction& instr, const GemmOrder& o, int k) {
  const int tile = o.tile_k > 0 ? o.tile_k : ordered_instruction(instr, o).k;
  const int tiles = (k + tile - 1) / tile;
  const int per_slice = (tiles + o.split_k - 1) / o.split_k * tile;  // whole K tiles per slice
  std::vector<KRange> ranges;
  for (int s = 0; s < o.split_k; ++s) {
    const int begin = std::min(k, s * per_slice), end = std::min(k, (s + 1) * per_slice);
    ranges.push_back({begin, end});
  }
  return ranges;
}

GemmOperands slice_operands(const spec::Instruction& instr, const GemmOperands& ops, KRange range, const Tile& c) {
  GemmOperands s;
  const int m = ops.c.rows, n = ops.c.cols, k = range.end - range.begin;
  const int a_per_k = instr.is_sparse() ? instr.stored_per_chunk() : 1, cw = instr.is_sparse() ? instr.chunk_width() : 1;
  const int a0 = range.begin / cw * a_per_k, a_cols = k / cw * a_per_k;
  s.a = Tile(m, a_cols);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < a_cols; ++j) s.a.at(i, j) = ops.a.at(i, a0 + j);
  if (instr.is_sparse()) {
    const int chunks = ops.b.rows / cw, c0 = range.begin / cw, count = k / cw;
    s.metadata.resize(sz(m) * sz(count));
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < count; ++j) s.metadata[sz(i) * sz(count) + sz(j)] = ops.metadata[sz(i) * sz(chunks) + sz(c0 + j)];
  }
  s.b = Tile(k, n);
  for (int r = 0; r < k; ++r)
    for (int j = 0; j < n; ++j) s.b.at(r, j) = ops.b.at(range.begin + r, j);
  s.c = c;
  return s;
}

std::uint32_t reduce_and_finish(const spec::Instruction& instr, const GemmOrder& o,
                                std::span<const std::uint32_t> partials, std::uint32_t c_bits) {
  const spec::FormatSpec& acc = *instr.d;
  const spec::FormatSpec& out = o.output != nullptr ? *o.output : acc;
  const bool add_c = o.c_entry == CEntry::epilogue;
  if (acc.is_integer) {
    std::uint32_t sum = add_c ? c_bits : 0u;  // int32 adds wrap (two's complement)
    for (std::uint32_t p : partials) sum += p;
    return sum;
  }
  const float c = to_float(acc, c_bits);
  // One epilogue: D = out(fma(alpha, acc, source)), or out(alpha * acc) without a source.
  const auto epilogue = [&](float value, bool with_source, float source) {
    return from_float(out, with_source ? std::fma(o.alpha, value, source) : o.alpha * value);
  };
  const bool beta_c = add_c && o.beta != 0.0f;
  if (o.reduction == SplitReduction::serial) {
    std::uint32_t r = epilogue(to_float(acc, partials[0]), beta_c, beta_c ? o.beta * c : 0.0f);
    for (std::size_t s = 1; s < partials.size(); ++s)
      r = epilogue(to_float(acc, partials[s]), true, to_float(out, r));  // later slices: beta = 1 on D
    return r;
  }
  float sum = 0.0f;  // the reduction kernel clears its accumulator, then adds slice by slice
  for (std::uint32_t p : partials) sum = sum + to_float(acc, p);
  return epilogue(sum, beta_c, beta_c ? o.beta * c : 0.0f);
}

OrderedGemmResult run_ordered_gemm(const spec::Instruction& row, spec::Arch arch, const GemmOperands& ops,
                                   const GemmOrder& order_in, const GemmOptions& options) {
  const spec::Instruction& instr = ordered_instruction(row, order_in);
  GemmOrder o = order_in;
  if (o.tile_k == 0) o.tile_k = instr.k;
  check_gemm_order(instr, o);
  check_operands(instr, ops);
  const int m = ops.c.rows, n = ops.c.cols, k = ops.b.rows;
  const spec::FormatSpec& acc = *instr.d;
  const spec::FormatSpec& out = o.output != nullptr ? *o.output : acc;
  const Tile zero(m, n);

  OrderedGemmResult result;
  result.output = &out;
  std::vector<Tile> partials;
  const std::vector<KRange> ranges = split_k_ranges(instr, o, k);
  for (std::size_t s = 0; s < ranges.size(); ++s) {
    const Tile& start = s == 0 && o.c_entry == CEntry::first ? ops.c : zero;
    if (ranges[s].begin == ranges[s].end) {
      partials.push_back(start);  // an empty slice contributes its starting value
      continue;
    }
    const bool whole = ranges[s].begin == 0 && ranges[s].end == k;
    GemmResult r;
    if (whole && &start == &ops.c) {
      r = run_gemm(instr, arch, ops, options);
    } else {
      r = run_gemm(instr, arch, slice_operands(instr, ops, ranges[s], start), options);
    }
    result.unconfirmed = result.unconfirmed || r.unconfirmed;
    partials.push_back(std::move(r.d));
  }

  result.d = Tile(m, n);
  std::vector<std::uint32_t> column(partials.size());
  for (std::size_t e = 0; e < result.d.bits.size(); ++e) {
    for (std::size_t s = 0; s < partials.size(); ++s) column[s] = partials[s].bits[e];
    result.d.bits[e] = reduce_and_finish(instr, o, column, ops.c.bits[e]);
  }
  return result;
}

}  // namespace twofour::sim
