// Kernel output checks (gemm_check.hpp). The explanation replays one element's chain with the
// tile level's own building blocks (metadata_columns, element_dot, block_fma) and re-derives each
// block's alignment exponent and truncation from the datapath parameters (blockfma.hpp's model).
#include "twofour/sim/gemm_check.hpp"

#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/describe.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <map>
#include <span>
#include <stdexcept>
#include <tuple>

namespace twofour::sim {
namespace {

std::size_t sz(int i) { return static_cast<std::size_t>(i); }

bool nan_bits(const spec::FormatSpec& f, std::uint32_t bits) { return spec::classify(f, bits) == spec::FpClass::nan; }
bool is_special(const spec::FormatSpec& f, std::uint32_t bits) {
  const spec::FpClass c = spec::classify(f, bits);
  return c == spec::FpClass::nan || c == spec::FpClass::infinity;
}

std::string num(double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string k_list(const std::vector<int>& ks) {
  std::string s;
  for (std::size_t i = 0; i < ks.size(); ++i) s += (i == 0 ? "" : ",") + std::to_string(ks[i]);
  return "{" + s + "}";
}

// A finite value of a float format as sig * 2^lsb, with the model's exponent x (floor(log2) for
// normals, e_min for subnormals): the Unpacker of blockfma.cpp.
struct Unpacked {
  std::uint64_t sig = 0;
  int lsb = 0, x = 0;
  bool negative = false;
};
Unpacked unpack(const spec::FormatSpec& f, std::uint32_t bits) {
  Unpacked u;
  const std::uint32_t e = (bits >> (f.ignored_low_bits + f.mantissa_bits)) & ((1u << f.exponent_bits) - 1u);
  const std::uint32_t m = (bits >> f.ignored_low_bits) & ((1u << f.mantissa_bits) - 1u);
  u.negative = ((bits >> (f.container_bits - 1)) & 1u) != 0;
  u.x = e == 0 ? f.min_exponent() : static_cast<int>(e) - f.bias;
  u.sig = e == 0 ? m : (m | (1u << f.mantissa_bits));
  u.lsb = u.x - f.mantissa_bits;
  return u;
}

// One datapath block of an element: what aligned it and what the alignment cut off.
struct BlockAccount {
  std::string text;
  bool inexact = false;
};
BlockAccount account_block(const spec::DatapathSpec& d, std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                           std::span<const int> ks, std::uint32_t c, std::uint32_t result) {
  struct Term {
    std::uint64_t sig;
    int lsb;
    bool negative;
    std::string name;
  };
  std::vector<Term> terms;
  int e_max = d.min_exp_limit;
  std::string e_from = "the datapath's minimum";
  std::vector<int> block_ks;
  for (std::size_t t = 0; t < a.size(); ++t) {
    block_ks.push_back(ks[t]);
    const Unpacked ua = unpack(*d.a_format, a[t]), ub = unpack(*d.b_format, b[t]);
    if (ua.sig == 0 || ub.sig == 0) continue;
    const int e = ua.x + ub.x;
    if (e > e_max) {
      e_max = e;
      e_from = "K " + std::to_string(ks[t]);
    }
    terms.push_back({ua.sig * ub.sig, ua.lsb + ub.lsb, ua.negative != ub.negative, "K " + std::to_string(ks[t])});
  }
  const Unpacked uc = unpack(*d.out_format, c);
  if (uc.sig != 0) {
    const int e = std::max((63 - std::countl_zero(uc.sig)) + uc.lsb, -126);
    if (e > e_max) {
      e_max = e;
      e_from = "C";
    }
    terms.push_back({uc.sig, uc.lsb, uc.negative, "C"});
  }
  const int unit = e_max - d.fraction_bits();
  std::vector<std::string> cut;
  long double lost = 0, kept = 0;
  for (const Term& t : terms) {
    const int shift = unit - t.lsb;  // low bits below 2^unit are dropped (truncation of |term|)
    const std::uint64_t low = shift <= 0 ? 0 : shift >= 64 ? t.sig : (t.sig & ((std::uint64_t{1} << shift) - 1u));
    const long double sign = t.negative ? -1.0L : 1.0L;
    const long double whole = sign * std::ldexp(static_cast<long double>(t.sig), t.lsb);
    const long double dropped = sign * std::ldexp(static_cast<long double>(low), t.lsb);
    if (low != 0) cut.push_back(t.name);
    lost += dropped;
    kept += whole - dropped;
  }
  const double value = spec::decode_to_double(*d.out_format, result);
  const bool rounded = static_cast<long double>(value) != kept;
  BlockAccount acc;
  acc.inexact = !cut.empty() || rounded;
  acc.text = "block K " + k_list(block_ks) + ": aligned to 2^" + std::to_string(e_max) + " (from " + e_from +
             "), kept down to 2^" + std::to_string(unit);
  if (cut.empty()) {
    acc.text += ", nothing cut";
  } else {
    std::string names;
    for (std::size_t i = 0; i < cut.size(); ++i) names += (i == 0 ? "" : ", ") + cut[i];
    acc.text += ", low bits cut from " + names + " (lost " + num(static_cast<double>(lost)) + ")";
  }
  acc.text += "; aligned sum " + num(static_cast<double>(kept)) + (rounded ? " rounded to " : " = ") +
              describe_bits(*d.out_format, result);
  return acc;
}

// The inputs of one element's k-step as the datapath receives them, in datapath order.
struct StepTerms {
  std::vector<std::uint32_t> a, b;  // row formats
  std::vector<int> k;               // global K of each term
};
StepTerms step_terms(const spec::Instruction& instr, const GemmOperands& ops, SparseGrouping grouping, int row,
                     int col, int k0, std::vector<int>& columns) {
  StepTerms t;
  const int step = k0 / instr.k;
  if (!instr.is_sparse()) {
    for (int kk = 0; kk < instr.k; ++kk) {
      t.a.push_back(ops.a.at(row, k0 + kk));
      t.b.push_back(ops.b.at(k0 + kk, col));
      t.k.push_back(k0 + kk);
    }
    return t;
  }
  const int chunks = instr.chunks_per_row(), total_chunks = ops.b.rows / instr.chunk_width();
  const std::span<const std::uint8_t> nibbles(ops.metadata.data() + sz(row) * sz(total_chunks) + sz(step * chunks), sz(chunks));
  bool unconfirmed = false;
  metadata_columns(instr, nibbles, row, columns, unconfirmed);
  const int a0 = step * instr.stored_k();
  if (grouping == SparseGrouping::stored_products) {
    for (int s = 0; s < instr.stored_k(); ++s) {
      t.a.push_back(ops.a.at(row, a0 + s));
      t.b.push_back(ops.b.at(k0 + columns[sz(s)], col));
      t.k.push_back(k0 + columns[sz(s)]);
    }
    return t;
  }
  t.a.assign(sz(instr.k), 0u);
  for (int kk = 0; kk < instr.k; ++kk) t.k.push_back(k0 + kk);
  t.b.assign(sz(instr.k), 0u);
  for (int s = 0; s < instr.stored_k(); ++s) {
    t.a[sz(columns[sz(s)])] = ops.a.at(row, a0 + s);
    t.b[sz(columns[sz(s)])] = ops.b.at(k0 + columns[sz(s)], col);
  }
  return t;
}

}  // namespace

std::optional<std::uint64_t> ulp_distance(const spec::FormatSpec& f, std::uint32_t x, std::uint32_t y) {
  x &= f.container_mask();
  y &= f.container_mask();
  if (f.is_integer) {
    const int unused = 32 - f.bits;
    const std::int64_t a = f.is_signed ? (static_cast<std::int32_t>(x << unused) >> unused) : static_cast<std::int64_t>(x);
    const std::int64_t b = f.is_signed ? (static_cast<std::int32_t>(y << unused) >> unused) : static_cast<std::int64_t>(y);
    return static_cast<std::uint64_t>(a > b ? a - b : b - a);
  }
  if (nan_bits(f, x) || nan_bits(f, y)) return std::nullopt;
  // Sign-magnitude -> a line of integers on which neighbours differ by one (+0 and -0 both 0).
  const std::uint32_t sign = 1u << (f.container_bits - 1);
  const auto ordered = [&](std::uint32_t v) {
    const std::int64_t mag = static_cast<std::int64_t>((v & (sign - 1u)) >> f.ignored_low_bits);
    return (v & sign) != 0 ? -mag : mag;
  };
  const std::int64_t a = ordered(x), b = ordered(y);
  return static_cast<std::uint64_t>(a > b ? a - b : b - a);
}

GemmCheckReport compare_gemm_outputs(const spec::FormatSpec& f, const Tile& simulated, const Tile& actual, std::size_t keep) {
  if (simulated.rows != actual.rows || simulated.cols != actual.cols)
    throw std::invalid_argument("GEMM check: D is " + std::to_string(actual.rows) + "x" + std::to_string(actual.cols) +
                                ", the simulated D " + std::to_string(simulated.rows) + "x" + std::to_string(simulated.cols));
  GemmCheckReport r;
  r.elements = simulated.bits.size();
  for (int i = 0; i < simulated.rows; ++i)
    for (int j = 0; j < simulated.cols; ++j) {
      const std::uint32_t s = simulated.at(i, j) & f.container_mask(), a = actual.at(i, j) & f.container_mask();
      if (s == a) continue;
      ++r.differing;
      const std::optional<std::uint64_t> u = ulp_distance(f, s, a);
      if (u) r.max_ulps = std::max(r.max_ulps, *u);
      else ++r.nan_mismatches;
      if (r.first.size() < keep) r.first.push_back({i, j, s, a, u});
    }
  return r;
}

std::vector<std::string> explain_gemm_element(const spec::Instruction& stated_row, spec::Arch arch, const GemmOperands& ops,
                                              const GemmOrder& order_in, int row, int col, const GemmOptions& options,
                                              int max_steps) {
  const spec::Instruction& instr = ordered_instruction(stated_row, order_in);
  GemmOrder o = order_in;
  if (o.tile_k == 0) o.tile_k = instr.k;
  // Validates everything (shapes, metadata, order) the way the GEMM does.
  const OrderedGemmResult whole = run_ordered_gemm(instr, arch, ops, o, options);
  if (row < 0 || row >= ops.c.rows || col < 0 || col >= ops.c.cols)
    throw std::out_of_range("GEMM explanation: element (" + std::to_string(row) + ", " + std::to_string(col) +
                            ") is outside D");
  const InstructionDatapath dp(instr, arch);
  const spec::FormatSpec& acc_f = *instr.d;
  const spec::FormatSpec& out_f = *whole.output;
  const SparseGrouping grouping = options.execution.grouping;
  std::vector<std::string> lines;
  const std::uint32_t c_bits = ops.c.at(row, col);

  // A near-exact reference: every product and C summed in long double (64-bit significand).
  long double exact = static_cast<long double>(acc_f.is_integer ? static_cast<double>(static_cast<std::int32_t>(c_bits))
                                                                  : spec::decode_to_double(acc_f, c_bits));
  std::vector<int> columns;
  bool finite = !is_special(acc_f, c_bits) || acc_f.is_integer;
  for (int k0 = 0; k0 < ops.b.rows; k0 += instr.k) {
    const StepTerms t = step_terms(instr, ops, SparseGrouping::stored_products, row, col, k0, columns);
    for (std::size_t i = 0; i < t.a.size(); ++i) {
      if (!instr.a->is_integer && (is_special(*instr.a, t.a[i]) || is_special(*instr.b, t.b[i]))) finite = false;
      exact += static_cast<long double>(spec::decode_to_double(*instr.a, t.a[i])) *
               static_cast<long double>(spec::decode_to_double(*instr.b, t.b[i]));
    }
  }
  lines.push_back("D[" + std::to_string(row) + "][" + std::to_string(col) + "] under " + describe_order(order_in) + " = " +
                  describe_bits(out_f, whole.d.at(row, col)));
  lines.push_back(finite ? "  exact A*B + C (products summed in long double): " + num(static_cast<double>(exact))
                         : "  Inf or NaN among this element's operands: each instruction applies the special-value rule");
  if (dp.lowering() != Lowering::native)
    lines.push_back("  " + std::string(instr.name) + " is lowered on " + std::string(spec::arch_name(arch)) +
                    " (fp8 -> fp16, two fp16 passes, then C added): per-block detail not shown");

  const std::vector<KRange> ranges = split_k_ranges(instr, o, ops.b.rows);
  std::vector<std::uint32_t> partials;
  ElementScratch scratch;
  for (std::size_t s = 0; s < ranges.size(); ++s) {
    const bool from_c = s == 0 && o.c_entry == CEntry::first;
    std::uint32_t c = from_c ? c_bits : 0u;
    const std::string head = "  slice " + std::to_string(s) + " (K " + std::to_string(ranges[s].begin) + ".." +
                             std::to_string(ranges[s].end) + "), from " + (from_c ? "C = " + describe_bits(acc_f, c) : std::string("+0"));
    std::vector<std::string> shown;
    int inexact_steps = 0, steps = 0, shown_steps = 0;
    for (int k0 = ranges[s].begin; k0 < ranges[s].end; k0 += instr.k, ++steps) {
      const StepTerms t = step_terms(instr, ops, grouping, row, col, k0, columns);
      const std::vector<std::uint32_t> b_column = [&] {
        std::vector<std::uint32_t> v;
        for (int kk = 0; kk < instr.k; ++kk) v.push_back(ops.b.at(k0 + kk, col));
        return v;
      }();
      const int step = k0 / instr.k;
      std::vector<std::uint32_t> a_row;
      const int a_step = instr.is_sparse() ? instr.stored_k() : instr.k;
      for (int p = 0; p < a_step; ++p) a_row.push_back(ops.a.at(row, step * a_step + p));
      // `columns` now holds the dense column of every stored value (sparse rows), as element_dot wants.
      const std::span<const int> stored_columns(columns.data(), instr.is_sparse() ? columns.size() : 0u);
      const std::uint32_t d = element_dot(instr, dp, grouping, a_row, stored_columns, b_column, c, scratch);
      // Block detail on the finite, native float path (integer sums are exact; specials are rules).
      std::vector<std::string> blocks;
      bool inexact = false;
      bool specials = is_special(acc_f, c);
      for (std::size_t i = 0; i < t.a.size() && !acc_f.is_integer; ++i)
        specials = specials || is_special(*instr.a, t.a[i]) || is_special(*instr.b, t.b[i]);
      if (!acc_f.is_integer && !specials && dp.lowering() == Lowering::native) {
        const spec::DatapathSpec& ds = dp.spec();
        std::uint32_t cb = c;
        const std::size_t n = sz(ds.block_size);
        for (std::size_t b0 = 0; b0 < t.a.size(); b0 += n) {
          const std::size_t count = std::min(n, t.a.size() - b0);
          const std::span<const std::uint32_t> ab(t.a.data() + b0, count), bb(t.b.data() + b0, count);
          const std::uint32_t next = block_fma(ds, ab, bb, cb);
          const BlockAccount a = account_block(ds, ab, bb, std::span<const int>(t.k.data() + b0, count), cb, next);
          inexact = inexact || a.inexact;
          blocks.push_back(a.text);
          cb = next;
        }
      }
      if (inexact) ++inexact_steps;
      if (inexact && shown_steps < max_steps) {
        ++shown_steps;
        std::string line = "    k-step " + std::to_string(step) + " (K " + std::to_string(k0) + ".." + std::to_string(k0 + instr.k - 1) +
                           "): C " + describe_bits(acc_f, c) + " -> D " + describe_bits(acc_f, d);
        shown.push_back(line);
        for (const std::string& b : blocks) shown.push_back("      " + b);
      }
      c = d;
    }
    partials.push_back(c);
    const std::string analysed = acc_f.is_integer ? "exact integer sums"
                                 : dp.lowering() != Lowering::native
                                     ? "not analysed"
                                     : std::to_string(inexact_steps) + " of them inexact";
    lines.push_back(head + ", " + std::to_string(steps) + " k-steps of K " + std::to_string(instr.k) + ", " + analysed +
                    "; partial " + describe_bits(acc_f, c));
    lines.insert(lines.end(), shown.begin(), shown.end());
    const int not_shown = inexact_steps - shown_steps;
    if (not_shown > 0) lines.push_back("    ... " + std::to_string(not_shown) + " more inexact k-steps");
  }
  // The reduction and the epilogue, through the same function the GEMM uses.
  if (o.reduction == SplitReduction::serial) {
    for (std::size_t s = 0; s < partials.size(); ++s) {
      const std::uint32_t r = reduce_and_finish(instr, o, std::span<const std::uint32_t>(partials.data(), s + 1), c_bits);
      lines.push_back("  epilogue of slice " + std::to_string(s) + " (serial, in " + std::string(out_f.name) + "): " +
                      (s == 0 ? (o.c_entry == CEntry::epilogue ? "alpha*partial + beta*C" : "alpha*partial")
                              : "alpha*partial + D of slice " + std::to_string(s - 1)) +
                      " = " + describe_bits(out_f, r));
    }
  } else {
    lines.push_back("  fp32 reduction of " + std::to_string(partials.size()) + " partial(s), then " +
                    (o.c_entry == CEntry::epilogue ? "alpha*sum + beta*C" : "alpha*sum") + " in fp32, to " +
                    std::string(out_f.name) + " = " + describe_bits(out_f, reduce_and_finish(instr, o, partials, c_bits)));
  }
  return lines;
}

std::vector<GemmOrder> candidate_orders(const spec::Instruction& instr, int k, const GemmOrder& stated) {
  std::vector<GemmOrder> all;
  for (const std::string& name : gemm_order_preset_names()) all.push_back(gemm_order_preset(name));
  // The row's own K first, then its siblings' (the same instruction with another K).
  std::vector<int> instr_ks = {0};
  for (const spec::Instruction& r : spec::instruction_table) {
    GemmOrder probe;
    probe.instr_k = r.k;
    if (r.k == instr.k || r.name == instr.name) continue;
    try {
      if (&ordered_instruction(instr, probe) == &r && k % r.k == 0) instr_ks.push_back(r.k);
    } catch (const std::invalid_argument&) {
    }
  }
  for (int ik : instr_ks)
    for (CEntry c : {CEntry::epilogue, CEntry::first})
      for (int split : {1, 2, 3, 4, 8, 16})
        for (SplitReduction red : {SplitReduction::serial, SplitReduction::fp32})
          for (int tile : {32, 64, 128, 256}) {
            if (tile % (ik == 0 ? instr.k : ik) != 0) continue;
            GemmOrder o;
            o.preset = "cutlass";
            o.instr_k = ik;
            o.c_entry = c;
            o.split_k = split;
            o.reduction = red;
            o.tile_k = tile;
            all.push_back(o);
          }
  std::vector<GemmOrder> out;
  std::vector<std::tuple<int, std::vector<std::pair<int, int>>, SplitReduction, CEntry>> seen;
  for (GemmOrder o : all) {
    o.alpha = stated.alpha;
    o.beta = o.c_entry == CEntry::first ? 1.0f : stated.beta;
    if (o.c_entry == CEntry::first && stated.beta != 1.0f) continue;
    o.output = stated.output;
    try {
      check_gemm_order(instr, o);
    } catch (const std::invalid_argument&) {
      continue;
    }
    // Empty slices (more slices than K tiles) add nothing: orders that differ only by them are one.
    std::vector<std::pair<int, int>> ranges;
    for (const KRange& r : split_k_ranges(instr, o, k))
      if (r.begin != r.end) ranges.emplace_back(r.begin, r.end);
    auto key = std::make_tuple(ordered_instruction(instr, o).k, ranges, o.reduction, o.c_entry);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    out.push_back(o);
  }
  return out;
}

OrderSearch find_matching_orders(const spec::Instruction& instr, spec::Arch arch, const GemmOperands& ops,
                                 const Tile& actual, const GemmOrder& stated, const GemmOptions& options) {
  OrderSearch search;
  const std::vector<GemmOrder> candidates = candidate_orders(instr, ops.b.rows, stated);
  if (candidates.empty()) return search;
  // Validates the operands once, with the GEMM's own messages, and fixes the output format.
  const OrderedGemmResult first = run_ordered_gemm(instr, arch, ops, candidates[0], options);
  if (actual.rows != first.d.rows || actual.cols != first.d.cols) (void)compare_gemm_outputs(*first.output, first.d, actual, 0);
  const std::uint32_t mask = first.output->container_mask();
  // Candidates that slice K alike share their slices' partial sums: each slice is run once from
  // +0, and slice 0 once more from C, for all the reductions and C entries of that slicing.
  std::vector<bool> done(candidates.size(), false);
  const Tile zero(ops.c.rows, ops.c.cols);
  for (std::size_t g = 0; g < candidates.size(); ++g) {
    if (done[g]) continue;
    const spec::Instruction& runs = ordered_instruction(instr, candidates[g]);
    const std::vector<KRange> ranges = split_k_ranges(instr, candidates[g], ops.b.rows);
    std::vector<Tile> from_zero;
    Tile slice0_from_c;
    bool have_from_c = false;
    for (const KRange& r : ranges)
      from_zero.push_back(r.begin == r.end ? zero : run_gemm(runs, arch, slice_operands(runs, ops, r, zero), options).d);
    for (std::size_t i = g; i < candidates.size(); ++i) {
      const GemmOrder& o = candidates[i];
      const std::vector<KRange> own = split_k_ranges(instr, o, ops.b.rows);
      if (done[i] || &ordered_instruction(instr, o) != &runs || own.size() != ranges.size() ||
          !std::equal(own.begin(), own.end(), ranges.begin(), [](const KRange& x, const KRange& y) {
            return x.begin == y.begin && x.end == y.end;
          }))
        continue;
      done[i] = true;
      ++search.tried;
      if (o.c_entry == CEntry::first && !have_from_c) {
        slice0_from_c = ranges[0].begin == ranges[0].end ? ops.c : run_gemm(runs, arch, slice_operands(runs, ops, ranges[0], ops.c), options).d;
        have_from_c = true;
      }
      std::vector<std::uint32_t> column(ranges.size());
      bool equal = true;
      for (std::size_t e = 0; e < actual.bits.size() && equal; ++e) {
        for (std::size_t s = 0; s < ranges.size(); ++s) column[s] = from_zero[s].bits[e];
        if (o.c_entry == CEntry::first) column[0] = slice0_from_c.bits[e];
        equal = (reduce_and_finish(instr, o, column, ops.c.bits[e]) & mask) == (actual.bits[e] & mask);
      }
      if (equal) search.matching.push_back(o);
    }
  }
  // Report matches in candidate order (the grouping above may visit them out of order).
  std::vector<GemmOrder> ordered;
  for (const GemmOrder& c : candidates)
    if (std::find(search.matching.begin(), search.matching.end(), c) != search.matching.end()) ordered.push_back(c);
  search.matching = std::move(ordered);
  return search;
}

}  // namespace twofour::sim
