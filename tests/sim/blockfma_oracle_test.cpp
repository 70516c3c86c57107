// Fast block-FMA datapath (sim/blockfma.hpp) against the slow literal oracle
// (tests/sim/support/reference_datapath_support.cpp, written from Khattak & Mikaitis's published
// model), on random and adversarial cases for every row of the parameter table.
// Oracle: reference_dot / reference_dot_int. Seed: printed, TWOFOUR_SEED overrides.
#include "sim/support/reference_datapath.hpp"
#include "support/seed.hpp"
#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/describe.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace twofour::sim {
namespace {

using spec::DatapathSpec;
using spec::FormatSpec;

// A pattern with the given exponent field (clamped to the finite range) and random fraction/sign.
std::uint32_t make(const FormatSpec& f, std::uint32_t exp_field, std::mt19937_64& rng, bool allow_special = false) {
  const std::uint32_t all = (1u << f.exponent_bits) - 1u;
  if (!allow_special && exp_field >= all) exp_field = all - 1u;
  std::uint32_t man = static_cast<std::uint32_t>(rng()) & ((1u << f.mantissa_bits) - 1u);
  if (f.nan == spec::NanEncoding::mantissa_all_ones && exp_field == all && man == (1u << f.mantissa_bits) - 1u && !allow_special)
    man -= 1u;
  const std::uint32_t sign = (rng() & 1u) ? 1u << (f.container_bits - 1) : 0u;
  return sign | (((exp_field << f.mantissa_bits) | man) << f.ignored_low_bits);
}

enum class Kind { uniform_bits, clustered, cancel, subnormal, spread, specials, ties };
constexpr Kind kKinds[] = {Kind::uniform_bits, Kind::clustered, Kind::cancel, Kind::subnormal,
                           Kind::spread,       Kind::specials,  Kind::ties};

struct Case {
  std::vector<std::uint32_t> a, b;
  std::uint32_t c;
};

Case generate(const DatapathSpec& s, Kind kind, std::mt19937_64& rng) {
  const FormatSpec& fa = *s.a_format;
  const FormatSpec& fb = *s.b_format;
  const FormatSpec& fo = *s.out_format;
  const std::size_t n = static_cast<std::size_t>(s.block_size);
  const std::size_t k = kind == Kind::uniform_bits ? 1 + rng() % (3 * n) : (rng() % 4 == 0 ? 2 * n : n);
  Case cs;
  cs.a.resize(k);
  cs.b.resize(k);
  const std::uint32_t ea_all = (1u << fa.exponent_bits) - 1u, eb_all = (1u << fb.exponent_bits) - 1u;
  const std::uint32_t eo_all = (1u << fo.exponent_bits) - 1u;
  const std::uint32_t ca = static_cast<std::uint32_t>(rng() % ea_all), cb = static_cast<std::uint32_t>(rng() % eb_all);
  for (std::size_t i = 0; i < k; ++i) {
    std::uint32_t xa = 0, xb = 0;
    switch (kind) {
      case Kind::uniform_bits:
      case Kind::specials:
        xa = static_cast<std::uint32_t>(rng()) & fa.container_mask();
        xb = static_cast<std::uint32_t>(rng()) & fb.container_mask();
        break;
      case Kind::clustered:
      case Kind::cancel:
      case Kind::ties: {  // exponents within a few binades: heavy overlap and carries
        const auto ja = static_cast<std::uint32_t>(rng() % 3), jb = static_cast<std::uint32_t>(rng() % 3);
        xa = make(fa, ca > ja ? ca - ja : ca, rng);
        xb = make(fb, cb > jb ? cb - jb : cb, rng);
        break;
      }
      case Kind::subnormal:
        xa = make(fa, rng() % 2 ? 0u : static_cast<std::uint32_t>(rng() % 3), rng);
        xb = make(fb, static_cast<std::uint32_t>(rng() % 4), rng);
        break;
      case Kind::spread:
        xa = make(fa, static_cast<std::uint32_t>(rng() % ea_all), rng);
        xb = make(fb, static_cast<std::uint32_t>(rng() % eb_all), rng);
        break;
    }
    if (kind == Kind::ties) {  // few significant bits: sums land exactly on rounding boundaries
      const std::uint32_t keep = ~((1u << (fa.mantissa_bits / 2 + fa.ignored_low_bits)) - 1u);
      xa &= keep;
      xb &= ~((1u << (fb.mantissa_bits / 2 + fb.ignored_low_bits)) - 1u);
    }
    if (rng() % 16 == 0) xa &= fa.sign_mask();  // some zero products (signed zeros)
    cs.a[i] = xa;
    cs.b[i] = xb;
  }
  if (kind == Kind::specials) {  // sprinkle Inf/NaN patterns and signed zeros
    const std::size_t i = rng() % k;
    const std::uint32_t sign = (rng() & 1u) ? fa.sign_mask() : 0u;
    switch (rng() % 4) {
      case 0: cs.a[i] = sign | (ea_all << (fa.mantissa_bits + fa.ignored_low_bits)); break;       // Inf (E4M3: finite)
      case 1: cs.a[i] = fa.canonical_nan; break;
      case 2: cs.a[i] = sign; break;
      default: cs.b[i] = spec::infinity_bits(fb, rng() & 1u); break;
    }
  }
  // c
  switch (rng() % 6) {
    case 0: cs.c = 0; break;
    case 1: cs.c = static_cast<std::uint32_t>(rng()) & fo.container_mask(); break;
    case 2: cs.c = make(fo, static_cast<std::uint32_t>(rng() % 3), rng); break;  // subnormal / tiny c
    default: {
      // c near minus the product sum: cancellation (computed in double; any rounding is fine).
      double sum = 0;
      for (std::size_t i = 0; i < k && i < n; ++i) {
        const double pa = spec::decode_to_double(fa, cs.a[i]), pb = spec::decode_to_double(fb, cs.b[i]);
        if (std::isfinite(pa) && std::isfinite(pb)) sum += pa * pb;
      }
      if (kind != Kind::cancel) sum = -sum * std::ldexp(1.0, static_cast<int>(rng() % 9) - 4);
      cs.c = std::isfinite(sum) ? spec::encode(fo, -sum, spec::RoundingMode::toward_zero) : 0u;
      if (rng() % 3 == 0) cs.c = make(fo, static_cast<std::uint32_t>(rng() % eo_all), rng);
      break;
    }
  }
  if (kind == Kind::specials && rng() % 4 == 0) cs.c = spec::infinity_bits(fo, rng() & 1u);
  return cs;
}

std::string show(const DatapathSpec& s, const Case& cs) {
  std::string text = std::string(spec::arch_name(s.arch)) + " " + std::string(s.a_format->name) + "x" +
                     std::string(s.b_format->name) + "->" + std::string(s.out_format->name) + "\n";
  for (std::size_t i = 0; i < cs.a.size(); ++i)
    text += "  a" + std::to_string(i) + " " + describe_bits(*s.a_format, cs.a[i]) + "  b " + describe_bits(*s.b_format, cs.b[i]) + "\n";
  return text + "  c " + describe_bits(*s.out_format, cs.c) + "\n";
}

std::vector<DatapathSpec> float_rows() {
  std::vector<DatapathSpec> rows;
  // Architectures that share a parameter set (sm_86 and sm_89 with sm_80, sm_100 with sm_90) give
  // the same arithmetic: each distinct datapath is checked once.
  const auto same_arithmetic = [](const DatapathSpec& x, const DatapathSpec& y) {
    return *x.a_format == *y.a_format && *x.b_format == *y.b_format && *x.out_format == *y.out_format &&
           x.block_size == y.block_size && x.neab == y.neab && x.min_exp_limit == y.min_exp_limit &&
           x.result_fraction_bits == y.result_fraction_bits && x.rounding == y.rounding;
  };
  for (const DatapathSpec& r : spec::datapath_table) {
    if (r.is_integer()) continue;
    bool seen = false;
    for (const DatapathSpec& kept : rows) seen = seen || same_arithmetic(kept, r);
    if (!seen) rows.push_back(r);
  }
  // Mixed fp8 operands use the fp8 parameters with two input formats.
  rows.push_back(*spec::find_datapath(spec::Arch::sm90, spec::e4m3, spec::e5m2, spec::fp32));
  rows.push_back(*spec::find_datapath(spec::Arch::sm89, spec::e5m2, spec::e4m3, spec::fp16));
  return rows;
}

TEST(BlockFmaOracle, FastPathEqualsLiteralModelOnRandomAndAdversarialCases) {
  const std::uint64_t seed = twofour::testing::test_seed("BlockFmaOracle", 0x5eed0003u);
  std::mt19937_64 rng(seed);
  const auto rows = float_rows();
  const int per_kind = twofour::testing::sanitizer_build() ? 1500 : 8000;
  long long cases = 0, mismatches = 0;
  for (const DatapathSpec& s : rows) {
    for (Kind kind : kKinds) {
      for (int i = 0; i < per_kind; ++i) {
        const Case cs = generate(s, kind, rng);
        const std::uint32_t fast = dot(s, cs.a, cs.b, cs.c);
        const std::uint32_t slow = twofour::testing::reference_dot(s, cs.a, cs.b, cs.c);
        ++cases;
        if (fast != slow && ++mismatches <= 5) {
          ADD_FAILURE() << show(s, cs) << "  fast " << describe_bits(*s.out_format, fast) << "\n  oracle "
                        << describe_bits(*s.out_format, slow);
        }
      }
    }
  }
  std::printf("[ oracle   ] %lld cases over %zu datapaths, %lld mismatches\n", cases, rows.size(), mismatches);
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(cases, 0);
}

TEST(BlockFmaOracle, IntegerPathEqualsWideSumIncludingLimits) {
  const std::uint64_t seed = twofour::testing::test_seed("BlockFmaOracleInt", 0x5eed0004u);
  std::mt19937_64 rng(seed);
  const FormatSpec* formats[] = {&spec::s8, &spec::u8, &spec::s4, &spec::u4};
  const int per_pair = twofour::testing::sanitizer_build() ? 2000 : 20000;
  long long cases = 0;
  for (const FormatSpec* fa : formats) {
    for (const FormatSpec* fb : formats) {
      if (fa->bits != fb->bits) continue;
      for (bool sat : {false, true}) {
        const auto s = spec::find_datapath(spec::Arch::sm80, *fa, *fb, spec::s32, sat);
        ASSERT_TRUE(s.has_value());
        for (int i = 0; i < per_pair; ++i) {
          const std::size_t k = 1 + rng() % 128;
          std::vector<std::uint32_t> a(k), b(k);
          for (auto& x : a) x = static_cast<std::uint32_t>(rng()) & fa->container_mask();
          for (auto& x : b) x = static_cast<std::uint32_t>(rng()) & fb->container_mask();
          std::uint32_t c = static_cast<std::uint32_t>(rng());
          if (i % 3 == 0) c = (rng() & 1u) ? 0x7fffffffu - static_cast<std::uint32_t>(rng() % 4096) : 0x80000000u + static_cast<std::uint32_t>(rng() % 4096);
          ASSERT_EQ(dot_int(*s, a, b, c), twofour::testing::reference_dot_int(*s, a, b, c))
              << fa->name << "x" << fb->name << " sat=" << sat << " k=" << k;
          ++cases;
        }
      }
    }
  }
  std::printf("[ oracle   ] %lld integer cases\n", cases);
  EXPECT_GT(cases, 0);
}

}  // namespace
}  // namespace twofour::sim
