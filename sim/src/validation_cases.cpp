#include "twofour/sim/validation_cases.hpp"

#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"
#include "twofour/sim/tile.hpp"
#include "twofour/sim/vectors.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <utility>

namespace twofour::sim {
namespace {

using spec::FormatSpec;
using spec::Instruction;

std::size_t at(int i) { return static_cast<std::size_t>(i); }

// SplitMix64 (Steele, Lea, Flood 2014): decorrelates consecutive (seed, row, index) triples.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int row_index(const Instruction& instr) {
  for (std::size_t i = 0; i < std::size(spec::instruction_table); ++i)
    if (&spec::instruction_table[i] == &instr) return static_cast<int>(i);
  return 0;
}

int a_cols(const Instruction& instr) { return instr.is_sparse() ? instr.stored_k() : instr.k; }

// Dense column of every stored A value of row `r` (dense rows: the identity).
std::vector<int> columns_of(const Instruction& instr, const TileOperands& t, int r) {
  std::vector<int> cols;
  if (!instr.is_sparse()) {
    cols.resize(at(instr.k));
    std::iota(cols.begin(), cols.end(), 0);
    return cols;
  }
  bool unconfirmed = false;
  const auto chunks = static_cast<std::size_t>(instr.chunks_per_row());
  sim::metadata_columns(instr, std::span<const std::uint8_t>(t.metadata).subspan(at(r) * chunks, chunks), r, cols,
                        unconfirmed);
  return cols;
}

// A value in format f, clamped to its finite range (1e300 stands for "the largest finite").
std::uint32_t value(const FormatSpec& f, double v) {
  return spec::encode(f, v, spec::RoundingMode::nearest_even, /*satfinite=*/true);
}

// Any finite pattern of f: uniform over the encodings, so every exponent appears.
std::uint32_t any_finite(const FormatSpec& f, std::mt19937_64& rng) {
  for (;;) {
    std::uint32_t bits = static_cast<std::uint32_t>(rng()) & f.container_mask();
    bits &= ~((1u << f.ignored_low_bits) - 1u);
    const spec::FpClass c = spec::classify(f, bits);
    if (c != spec::FpClass::nan && c != spec::FpClass::infinity) return bits;
  }
}

std::uint32_t subnormal_or_tiny(const FormatSpec& f, std::mt19937_64& rng) {
  const std::uint64_t r = rng();
  const std::uint32_t sign = (r & 1u) != 0 ? f.sign_mask() : 0u;
  const std::uint32_t man = static_cast<std::uint32_t>(r >> 8) & ((1u << f.mantissa_bits) - 1u);
  const std::uint32_t exp_field = (r >> 40) % 4 == 0 ? 1u : 0u;  // mostly subnormal, some smallest normals
  return sign | (((exp_field << f.mantissa_bits) | man) << f.ignored_low_bits);
}

// Inf or a NaN with a random payload and sign (E4M3 has only S.1111.111).
std::uint32_t special_value(const FormatSpec& f, std::mt19937_64& rng) {
  const std::uint64_t r = rng();
  const bool negative = (r & 1u) != 0;
  if (f.has_infinity && (r & 2u) != 0) return spec::infinity_bits(f, negative);
  if (f.nan == spec::NanEncoding::mantissa_all_ones) return f.canonical_nan | (negative ? f.sign_mask() : 0u);
  const std::uint32_t man_mask = (1u << f.mantissa_bits) - 1u;
  std::uint32_t man = static_cast<std::uint32_t>(r >> 8) & man_mask;
  if (man == 0) man = 1;
  const std::uint32_t exp_ones = (1u << f.exponent_bits) - 1u;
  return (negative ? f.sign_mask() : 0u) | (((exp_ones << f.mantissa_bits) | man) << f.ignored_low_bits);
}

// FHMP's discriminating vectors (docs/ptx-facts.md) plus block size, grouping, -0 and overflow. Terms
// are (a, b) products; values are fp16-scaled and rounded to the row's formats.
struct Vector {
  std::vector<std::pair<double, double>> terms;
  double c;
};

const std::vector<Vector>& discriminating_vectors() {
  static const std::vector<Vector> vectors = [] {
    const double u = std::ldexp(1.0, -24), big = 1e300;
    std::vector<Vector> v = {
        {{{1 - std::ldexp(1.0, -11), 1 - std::ldexp(1.0, -11)}}, 0.0},      // exact products
        {{{u, 4.0}}, 0.0},                                                 // subnormal input
        {{}, std::ldexp(1.0, -149)},                                       // subnormal C kept
        {{{1.0, 1.0}}, -(1 - u)},                                          // alignment bit
        {{{1.0, 2.0}, {1.0, 3 * u}}, 0.0},                                 // truncation
        {{{-1.0, 2.0}, {-1.0, 3 * u}}, 0.0},                               // truncation, negative
        {{{u, 0.5}, {u, 0.25}}, 0.0},                                      // f16-out RNE
        {{{1.0, 1.0}, {1.0, 1.5}, {1.0, 1.75}, {1.0, 1.875}}, 1.875},      // carry bits
        {{{1.0, 1.0}, {1.0, 1.0}, {1.0, 1.0}, {1.0, 2 * u}}, 1 + 4 * u + 2 * u},
        {{{1.0, u}, {1.0, u}, {1.0, u}, {1.0, u}}, 1 - u},                 // normalization
        {{{1.0, 1.0}, {1.0, -u}}, -1 + u},
        {{{0.5, u}, {0.5, u}, {0.5, u}, {0.5, 3 * u}}, 1 - u},             // non-monotonicity
        {{{0.5, u}, {0.5, u}, {0.5, u}, {0.5, 3 * u}}, 1.0},
        {{{-0.0, 1.0}, {0.0, -1.0}}, -0.0},                                // -0 + -0
        {{{big, big}, {big, big}}, big},                                   // overflow
        {{{-big, big}, {big, 2.0}}, 0.0},                                  // huge cancelling products
    };
    Vector block{{{1.0, 1.0}}, 0.0};  // block size: small terms lost only within 1's block
    for (int i = 0; i < 15; ++i) block.terms.push_back({std::ldexp(1.0, -12), std::ldexp(1.0, -12)});
    v.push_back(block);
    for (int e : {-25, -26}) {  // grouping (tile.hpp): small terms first, then 1 (sm_80 / sm_90 sizes)
      Vector g{{}, 0.0};
      for (int i = 0; i < (e == -25 ? 4 : 8); ++i) g.terms.push_back({std::ldexp(1.0, e / 2), std::ldexp(1.0, e - e / 2)});
      g.terms.push_back({1.0, 1.0});
      v.push_back(g);
    }
    return v;
  }();
  return vectors;
}

void place_vector(const Instruction& instr, TileOperands& t, std::mt19937_64& rng) {
  const Vector& vec = discriminating_vectors()[rng() % discriminating_vectors().size()];
  const int i = static_cast<int>(rng() % at(instr.m)), j = static_cast<int>(rng() % at(instr.n));
  const std::vector<int> cols = columns_of(instr, t, i);
  for (int s = 0; s < a_cols(instr); ++s) t.a.at(i, s) = 0;
  for (int k = 0; k < instr.k; ++k) t.b.at(k, j) = 0;
  // Slots: spread over the row (random order, so terms land in different chunks and blocks) or
  // one contiguous run from a random start (terms in the same block).
  std::vector<int> slots(at(a_cols(instr)));
  std::iota(slots.begin(), slots.end(), 0);
  if ((rng() & 1u) != 0) {
    std::shuffle(slots.begin(), slots.end(), rng);
  } else {
    std::rotate(slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(rng() % slots.size()), slots.end());
  }
  const std::size_t n = std::min(vec.terms.size(), slots.size());
  for (std::size_t q = 0; q < n; ++q) {
    const int s = slots[q];
    t.a.at(i, s) = value(*instr.a, vec.terms[q].first);
    t.b.at(cols[at(s)], j) = value(*instr.b, vec.terms[q].second);
  }
  t.c.at(i, j) = value(*instr.c, vec.c);
}

// Every row gets the same nibbles, so that tying B rows pairs the same products in every row.
void cancellation(const Instruction& instr, TileOperands& t, std::mt19937_64& rng) {
  if (instr.is_sparse()) {
    const int chunks = instr.chunks_per_row();
    for (int r = 1; r < instr.m; ++r)
      for (int ch = 0; ch < chunks; ++ch) t.metadata[at(r * chunks + ch)] = t.metadata[at(ch)];
  }
  for (auto& v : t.a.bits) v = any_finite(*instr.a, rng);
  for (auto& v : t.b.bits) v = any_finite(*instr.b, rng);
  const std::vector<int> cols = columns_of(instr, t, 0);
  for (int s = 0; s + 1 < a_cols(instr); s += 2) {
    if (rng() % 4 == 0) continue;  // leave some terms uncancelled
    for (int r = 0; r < instr.m; ++r) t.a.at(r, s + 1) = t.a.at(r, s) ^ instr.a->sign_mask();
    for (int j = 0; j < instr.n; ++j) t.b.at(cols[at(s + 1)], j) = t.b.at(cols[at(s)], j);
  }
}

void integer_extremes(const Instruction& instr, TileOperands& t, std::mt19937_64& rng) {
  const auto pick = [&rng](const FormatSpec& f) -> std::uint32_t {
    const std::int64_t lo = f.is_signed ? -(std::int64_t{1} << (f.bits - 1)) : 0;
    const std::int64_t hi = f.is_signed ? (std::int64_t{1} << (f.bits - 1)) - 1 : (std::int64_t{1} << f.bits) - 1;
    const std::int64_t choices[] = {lo, hi, lo + 1, hi - 1, -1, 0, 1};
    const std::uint64_t r = rng();
    const std::int64_t v = r % 8 == 7 ? static_cast<std::int64_t>(r >> 8) : choices[r % 7];
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(std::clamp(v, lo, hi))) & f.container_mask();
  };
  for (auto& v : t.a.bits) v = pick(*instr.a);
  for (auto& v : t.b.bits) v = pick(*instr.b);
  constexpr std::int64_t lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
  const std::int64_t c_choices[] = {lo, hi, lo + 1, hi - 1, 0, -1, 1};
  for (auto& v : t.c.bits) {
    const std::uint64_t r = rng();
    v = r % 8 == 7 ? static_cast<std::uint32_t>(r >> 8) : static_cast<std::uint32_t>(c_choices[r % 7]);
  }
}

// `occurrence`: how many cases of this class came before (the case index / number of classes),
// so that consecutive metadata_patterns cases shift every position by one nibble.
void fill_metadata(const Instruction& instr, TileOperands& t, CaseClass cls, std::uint64_t occurrence,
                   std::mt19937_64& rng) {
  if (!instr.is_sparse()) return;
  const int chunks = instr.chunks_per_row();
  if (cls == CaseClass::metadata_patterns) {
    const std::vector<std::uint8_t> nibbles = defined_nibbles(instr, false);
    for (int r = 0; r < instr.m; ++r)
      for (int ch = 0; ch < chunks; ++ch)
        t.metadata[at(r * chunks + ch)] = nibbles[(occurrence + at(r * chunks + ch)) % nibbles.size()];
  } else if (cls == CaseClass::descending_metadata) {
    const std::vector<std::uint8_t> all = defined_nibbles(instr, true);
    const std::size_t ascending = defined_nibbles(instr, false).size();
    for (auto& v : t.metadata)  // half descending
      v = (rng() & 1u) != 0 ? all[ascending + rng() % (all.size() - ascending)] : all[rng() % ascending];
  }
}

}  // namespace

std::string_view case_class_name(CaseClass c) {
  switch (c) {
    case CaseClass::random: return "random";
    case CaseClass::discriminating: return "discriminating";
    case CaseClass::exponent_spread: return "exponent-spread";
    case CaseClass::cancellation: return "cancellation";
    case CaseClass::subnormals: return "subnormals";
    case CaseClass::specials: return "specials";
    case CaseClass::metadata_patterns: return "metadata-patterns";
    case CaseClass::descending_metadata: return "descending-metadata";
    case CaseClass::integer_extremes: return "integer-extremes";
  }
  return "?";
}

std::vector<CaseClass> case_classes(const Instruction& instr) {
  std::vector<CaseClass> classes = {CaseClass::random};
  if (instr.a->is_integer) {
    classes.push_back(CaseClass::integer_extremes);
  } else {
    for (CaseClass c : {CaseClass::discriminating, CaseClass::exponent_spread, CaseClass::cancellation,
                        CaseClass::subnormals, CaseClass::specials})
      classes.push_back(c);
  }
  if (instr.is_sparse()) {
    classes.push_back(CaseClass::metadata_patterns);
    if (instr.order == spec::MetadataOrder::any && instr.sparsity != spec::Sparsity::one_of_two)
      classes.push_back(CaseClass::descending_metadata);
  }
  return classes;
}

std::vector<std::uint8_t> defined_nibbles(const Instruction& instr, bool with_descending) {
  if (instr.sparsity == spec::Sparsity::one_of_two) return {0x4, 0xe};
  // idx0 < idx1 first, then (plain mma.sp only) idx0 > idx1.
  static constexpr std::uint8_t ascending_then_descending[] = {0x4, 0x8, 0x9, 0xc, 0xd, 0xe, 0x1, 0x2, 0x3, 0x6, 0x7, 0xb};
  const bool descending = with_descending && instr.order == spec::MetadataOrder::any;
  return std::vector<std::uint8_t>(std::begin(ascending_then_descending), std::begin(ascending_then_descending) + (descending ? 12 : 6));
}

GeneratedCase generate_case(const Instruction& instr, std::uint64_t seed, std::uint64_t index) {
  std::mt19937_64 rng(mix(mix(seed) ^ (static_cast<std::uint64_t>(row_index(instr)) << 40) ^ index));
  const std::vector<CaseClass> classes = case_classes(instr);
  GeneratedCase out;
  out.instr = &instr;
  out.cls = classes[index % classes.size()];
  const int selectors = instr.is_sparse() ? instr.selector_count() : 1;
  out.selector = static_cast<int>((index / classes.size()) % static_cast<std::uint64_t>(selectors));

  TileOperands t = random_tile_operands(instr, rng);
  fill_metadata(instr, t, out.cls, index / classes.size(), rng);
  switch (out.cls) {
    case CaseClass::random:
    case CaseClass::metadata_patterns:
    case CaseClass::descending_metadata: break;
    case CaseClass::discriminating: place_vector(instr, t, rng); break;
    case CaseClass::exponent_spread:
      for (auto& v : t.a.bits) v = any_finite(*instr.a, rng);
      for (auto& v : t.b.bits) v = any_finite(*instr.b, rng);
      for (auto& v : t.c.bits) v = any_finite(*instr.c, rng);
      break;
    case CaseClass::cancellation: cancellation(instr, t, rng); break;
    case CaseClass::subnormals:
      for (auto& v : t.a.bits) v = subnormal_or_tiny(*instr.a, rng);
      for (auto& v : t.b.bits) v = (rng() & 1u) != 0 ? subnormal_or_tiny(*instr.b, rng) : random_element(*instr.b, rng);
      for (auto& v : t.c.bits) v = subnormal_or_tiny(*instr.c, rng);
      break;
    case CaseClass::specials:
      for (int q = 0; q < 3; ++q) {
        t.a.bits[rng() % t.a.bits.size()] = special_value(*instr.a, rng);
        t.b.bits[rng() % t.b.bits.size()] = special_value(*instr.b, rng);
      }
      for (int q = 0; q < 2; ++q) t.c.bits[rng() % t.c.bits.size()] = special_value(*instr.c, rng);
      break;
    case CaseClass::integer_extremes: integer_extremes(instr, t, rng); break;
  }
  out.regs = sim::pack_registers(instr, t, out.selector);
  return out;
}

}  // namespace twofour::sim
