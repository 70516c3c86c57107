// The GEMM fast path's kernels, forced onto every instruction set this CPU has (scalar, AVX2,
// AVX-512), are bit-identical to the generic path (run_tile per tile and k-step, whose arithmetic
// is the reference block FMA of blockfma.cpp, or dot_int for integer rows) on every row of every
// architecture (warp level and warpgroup), both sparse groupings, on random and adversarial
// operands: subnormals, few-bit values that cancel and tie, the widest exponent spread, overflow
// to Inf, Inf/NaN inputs, and integer extremes that wrap or saturate the s32 accumulator.
#include "twofour/sim/gemm.hpp"

#include "sim/mma_support.hpp"
#include "support/seed.hpp"
#include "twofour/sim/spec/rounding.hpp"
#include "twofour/sim/vectors.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iterator>
#include <random>
#include <string>

namespace twofour::sim {
namespace {

using spec::Arch;
using spec::FormatSpec;
using spec::Instruction;

enum class Mix { uniform, subnormal, few_bits, spread, specials };
constexpr Mix kMixes[] = {Mix::uniform, Mix::subnormal, Mix::few_bits, Mix::spread, Mix::specials};

const char* mix_name(Mix m) {
  switch (m) {
    case Mix::uniform: return "uniform";
    case Mix::subnormal: return "subnormal";
    case Mix::few_bits: return "few_bits";
    case Mix::spread: return "spread";
    case Mix::specials: return "specials";
  }
  return "?";
}

// A pattern of float format f from its fields, or 0 when the fields spell Inf/NaN (these come
// only from Mix::specials).
std::uint32_t pattern(const FormatSpec& f, bool negative, std::uint32_t exp_field, std::uint32_t man) {
  const std::uint32_t bits = (negative ? f.sign_mask() : 0u) |
                             (exp_field << (f.mantissa_bits + f.ignored_low_bits)) |
                             ((man & ((1u << f.mantissa_bits) - 1u)) << f.ignored_low_bits);
  const spec::FpClass c = spec::classify(f, bits);
  return c == spec::FpClass::nan || c == spec::FpClass::infinity ? 0u : bits;
}

// Integer formats: uniform patterns, or (Mix::spread) the extremes, which make the s32
// accumulator wrap or saturate within a few k-steps.
std::uint32_t integer_element(const FormatSpec& f, Mix mix, std::mt19937_64& rng) {
  if (mix != Mix::spread) return random_element(f, rng);
  const std::uint32_t top = f.is_signed ? (1u << (f.bits - 1)) - 1u : (1u << f.bits) - 1u;  // largest
  const std::uint32_t bottom = f.is_signed ? (1u << (f.bits - 1)) : 0u;                    // smallest
  switch (rng() % 4) {
    case 0: return top & f.container_mask();
    case 1: return bottom & f.container_mask();
    case 2: return f.bits == 32 ? (rng() % 2 != 0 ? 0x7ffff000u : 0x80000fffu) : top & f.container_mask();
    default: return random_element(f, rng);
  }
}

std::uint32_t element(const FormatSpec& f, Mix mix, std::mt19937_64& rng) {
  if (f.is_integer) return integer_element(f, mix, rng);
  const bool neg = (rng() & 1u) != 0;
  const std::uint32_t man = static_cast<std::uint32_t>(rng());
  switch (mix) {
    case Mix::uniform: return random_element(f, rng);
    case Mix::subnormal:  // half subnormal, half the smallest normals
      return pattern(f, neg, (rng() & 1u) != 0 ? 0u : 1u, man);
    case Mix::few_bits: {  // exponents within 2 of 1.0 and 2 significant bits: exact cancellation, ties
      const std::uint32_t e = static_cast<std::uint32_t>(f.bias) - 2u + static_cast<std::uint32_t>(rng() % 5);
      const std::uint32_t two_bits = static_cast<std::uint32_t>(rng() % 4) << (f.mantissa_bits - 2);
      return pattern(f, neg, e, two_bits);
    }
    case Mix::spread: {  // smallest subnormal, smallest normal, 1, largest finite, and zero
      switch (rng() % 5) {
        case 0: return pattern(f, neg, 0u, 1u);
        case 1: return pattern(f, neg, 1u, man);
        case 2: return pattern(f, neg, static_cast<std::uint32_t>(f.bias), man);
        case 3: return spec::max_finite_bits(f, neg);
        default: return neg ? f.sign_mask() : 0u;
      }
    }
    case Mix::specials: {
      switch (rng() % 256) {  // rare enough that most (element, k-step) pairs stay in the kernels
        case 0: return spec::infinity_bits(f, neg);  // E4M3: its NaN
        case 1: return f.canonical_nan;
        case 2:
        case 3: return spec::max_finite_bits(f, neg);  // overflowing products
        default:  // moderate values, so that few accumulators overflow and leave the kernels
          return pattern(f, neg, static_cast<std::uint32_t>(f.bias) - 4u + static_cast<std::uint32_t>(rng() % 9), man);
      }
    }
  }
  return 0u;
}

GemmOperands operands(const Instruction& in, int m, int n, int k, Mix mix, std::mt19937_64& rng) {
  GemmOperands g;
  const int steps = k / in.k;
  g.a = Tile(m, in.is_sparse() ? steps * in.stored_k() : k);
  g.b = Tile(k, n);
  g.c = Tile(m, n);
  for (auto& v : g.a.bits) v = element(*in.a, mix, rng);
  for (auto& v : g.b.bits) v = element(*in.b, mix, rng);
  for (auto& v : g.c.bits) v = element(*in.c, mix == Mix::specials && rng() % 4 != 0 ? Mix::uniform : mix, rng);
  if (in.is_sparse()) {
    g.metadata.resize(static_cast<std::size_t>(m) * static_cast<std::size_t>(steps * in.chunks_per_row()));
    for (auto& v : g.metadata) v = random_nibble(in, rng);
  }
  return g;
}

// Every warp-level row on `arch`, and the warpgroup (wgmma) rows of width 8 with A in shared
// memory: the other widths and A sources share their datapaths.
std::vector<const Instruction*> rows_for_kernels(Arch arch) {
  std::vector<const Instruction*> rows = testing::rows_on(arch);
  for (const auto& row : spec::instruction_table) {
    if (row.threads == 128 && row.n == 8 && row.name.ends_with("_SS") && instruction_supported(row, arch))
      rows.push_back(&row);
  }
  return rows;
}

std::string describe(const Instruction& in, Arch arch, KernelIsa isa, Mix mix, SparseGrouping grouping) {
  return std::string(in.name) + " " + std::string(spec::arch_name(arch)) + " isa " + std::string(kernel_isa_name(isa)) +
         " " + mix_name(mix) + (grouping == SparseGrouping::logical_k ? " logical_k" : " stored");
}

TEST(GemmKernels, EveryIsaIsBitIdenticalToTheReferenceOnEveryRow) {
  std::mt19937_64 rng(testing::test_seed("GemmKernels.EveryIsaIsBitIdenticalToTheReferenceOnEveryRow", 41));
  const std::vector<KernelIsa> isas = supported_kernel_isas();
  std::printf("[ isa      ] this CPU runs:");
  for (KernelIsa isa : isas) std::printf(" %s", std::string(kernel_isa_name(isa)).c_str());
  std::printf("\n");
  std::size_t elements = 0, fallbacks = 0;
  std::size_t mix_pairs[std::size(kMixes)] = {}, mix_fallbacks[std::size(kMixes)] = {};
  for (Arch arch : testing::kArchs) {
    for (const Instruction* in : rows_for_kernels(arch)) {
      if (in->order == spec::MetadataOrder::ordered) continue;  // same datapath as a listed row
      for (const Mix mix : kMixes) {
        if (in->a->is_integer && mix != Mix::uniform && mix != Mix::spread) continue;
        for (const SparseGrouping grouping : {SparseGrouping::stored_products, SparseGrouping::logical_k}) {
          if (!in->is_sparse() && grouping == SparseGrouping::logical_k) continue;
          // N = 24: one full 16-column group and one half-empty one; M two tiles; K three steps.
          const GemmOperands g = operands(*in, 2 * in->m, 24, 3 * in->k, mix, rng);
          GemmOptions reference;
          reference.path = GemmPath::generic;
          reference.threads = 1;
          reference.execution.grouping = grouping;
          const GemmResult want = run_gemm(*in, arch, g, reference);
          for (KernelIsa isa : isas) {
            GemmOptions fast = reference;
            fast.path = GemmPath::fast;
            fast.isa = isa;
            const GemmResult got = run_gemm(*in, arch, g, fast);
            ASSERT_EQ(got.isa_used, isa);
            for (std::size_t e = 0; e < want.d.bits.size(); ++e) {
              ASSERT_EQ(got.d.bits[e], want.d.bits[e])
                  << describe(*in, arch, isa, mix, grouping) << " element (" << e / 24 << ", " << e % 24 << ")";
            }
            elements += want.d.bits.size();
            fallbacks += got.generic_fallbacks;
            mix_pairs[static_cast<int>(mix)] += want.d.bits.size() * 3;
            mix_fallbacks[static_cast<int>(mix)] += got.generic_fallbacks;
          }
        }
      }
    }
  }
  std::printf("[ compared ] %zu elements, %zu (element, k-step) pairs through the generic fallback\n", elements,
              fallbacks);
  for (const Mix mix : kMixes) {
    const auto m = static_cast<std::size_t>(mix);
    std::printf("[ mix      ] %-9s %zu of %zu (element, k-step) pairs in the kernels\n", mix_name(mix),
                mix_pairs[m] - mix_fallbacks[m], mix_pairs[m]);
    // Most pairs ran in the kernels, not the fallback (with Inf/NaN inputs, a quarter at least).
    EXPECT_GT(mix_pairs[m] - mix_fallbacks[m], mix_pairs[m] / (mix == Mix::specials ? 4 : 2)) << mix_name(mix);
  }
  EXPECT_GT(elements, 100000u);
  EXPECT_GT(fallbacks, 0u);  // the specials mix reached the fallback
}

// Cases built to hit one rule each, on the sm_80 and sm_90 f16 -> f32 / f16 rows.
TEST(GemmKernels, PinnedCornerCasesOnEveryIsa) {
  struct Case {
    const char* what;
    std::uint32_t a, b, c;  // every A value, every B value, every C
  };
  // fp16 patterns: 0x3c00 = 1, 0x0001 = 2^-24 (smallest subnormal), 0x7bff = 65504, 0x8000 = -0.
  const Case f32_cases[] = {
      {"exact cancellation to +0", 0x3c00u, 0x3c00u, 0xc1800000u},         // 16 products of 1, C = -16
      {"overflow to Inf", 0x7bffu, 0x7bffu, 0x7f7fffffu},                  // C = FLT_MAX
      {"subnormal products against a huge C", 0x0001u, 0x0001u, 0x7f000000u},
      {"subnormal C", 0x0000u, 0x0000u, 0x00000001u},
      {"negative zeros", 0x8000u, 0x3c00u, 0x80000000u},
      // 16 products of 1.999^2 aligned at F = 25 (sm_90): a block sum of 2^31 - 2^21, past int32
      {"block sum beyond int32", 0x3fffu, 0x3fffu, 0x3f800000u},
      {"negative block sum beyond int32", 0xbfffu, 0x3fffu, 0xbf800000u},
  };
  for (const char* name : {"SM80_SP_16x8x32_F32F16F16F32_TN", "SM80_16x8x16_F32F16F16F32_TN"}) {
    const Instruction& in = testing::row_named(name);
    for (Arch arch : {Arch::sm80, Arch::sm90}) {
      for (const Case& c : f32_cases) {
        std::mt19937_64 rng(1);
        GemmOperands g = operands(in, 16, 16, 2 * in.k, Mix::uniform, rng);
        for (auto& v : g.a.bits) v = c.a;
        for (auto& v : g.b.bits) v = c.b;
        for (auto& v : g.c.bits) v = c.c;
        GemmOptions reference;
        reference.path = GemmPath::generic;
        reference.threads = 1;
        const Tile want = run_gemm(in, arch, g, reference).d;
        for (KernelIsa isa : supported_kernel_isas()) {
          GemmOptions fast = reference;
          fast.path = GemmPath::fast;
          fast.isa = isa;
          EXPECT_EQ(run_gemm(in, arch, g, fast).d, want) << name << " " << spec::arch_name(arch) << " "
                                                         << kernel_isa_name(isa) << ": " << c.what;
        }
      }
    }
  }
}

// Operands of at least 2^16 elements: 16-bit formats are then decoded through a table of every
// pattern (built per GEMM) instead of element by element.
TEST(GemmKernels, TableDecodedOperandsAgreeOnEveryIsa) {
  std::mt19937_64 rng(testing::test_seed("GemmKernels.TableDecodedOperandsAgreeOnEveryIsa", 43));
  for (const char* name : {"SM80_SP_16x8x32_F32F16F16F32_TN", "SM80_SP_16x8x32_F32BF16BF16F32_TN"}) {
    const Instruction& in = testing::row_named(name);
    for (const auto& [m, n] : {std::pair{4096, 16}, std::pair{16, 4096}}) {  // a large A, then a large B
      for (const Mix mix : {Mix::uniform, Mix::subnormal, Mix::specials}) {
        const GemmOperands g = operands(in, m, n, 32, mix, rng);
        GemmOptions reference;
        reference.path = GemmPath::generic;
        const Tile want = run_gemm(in, Arch::sm80, g, reference).d;
        for (KernelIsa isa : supported_kernel_isas()) {
          GemmOptions fast;
          fast.path = GemmPath::fast;
          fast.isa = isa;
          EXPECT_EQ(run_gemm(in, Arch::sm80, g, fast).d, want) << name << " " << m << "x" << n << " " << mix_name(mix)
                                                                << " " << kernel_isa_name(isa);
        }
      }
    }
  }
}

// A GEMM of realistic depth (many chained k-steps) on every instruction set.
TEST(GemmKernels, DeepGemmAgreesOnEveryIsa) {
  const Instruction& in = testing::row_named("SM80_SP_16x8x32_F32F16F16F32_TN");
  std::mt19937_64 rng(testing::test_seed("GemmKernels.DeepGemmAgreesOnEveryIsa", 42));
  const GemmOperands g = operands(in, 32, 48, 1024, Mix::uniform, rng);
  GemmOptions reference;
  reference.path = GemmPath::generic;
  const Tile want = run_gemm(in, Arch::sm80, g, reference).d;
  for (KernelIsa isa : supported_kernel_isas()) {
    GemmOptions fast;
    fast.path = GemmPath::fast;
    fast.isa = isa;
    fast.threads = 2;
    EXPECT_EQ(run_gemm(in, Arch::sm80, g, fast).d, want) << kernel_isa_name(isa);
  }
}

TEST(GemmKernels, IsaNamesAndTheOverride) {
  for (KernelIsa isa : {KernelIsa::scalar, KernelIsa::avx2, KernelIsa::avx512, KernelIsa::automatic})
    EXPECT_EQ(parse_kernel_isa(kernel_isa_name(isa)), isa);
  EXPECT_THROW((void)parse_kernel_isa("sse9"), std::invalid_argument);
  EXPECT_TRUE(kernel_isa_supported(KernelIsa::scalar));
  EXPECT_EQ(supported_kernel_isas().front(), KernelIsa::scalar);
  // TWOFOUR_SIM_ISA picks what `automatic` means; an automatic run reports what it used.
  const char* saved = std::getenv("TWOFOUR_SIM_ISA");
  const std::string keep = saved != nullptr ? saved : "";
  ::setenv("TWOFOUR_SIM_ISA", "scalar", 1);
  EXPECT_EQ(default_kernel_isa(), KernelIsa::scalar);
  const Instruction& in = testing::row_named("SM80_SP_16x8x32_F32F16F16F32_TN");
  std::mt19937_64 rng(3);
  EXPECT_EQ(run_gemm(in, Arch::sm80, operands(in, 16, 16, 32, Mix::uniform, rng)).isa_used, KernelIsa::scalar);
  if (saved != nullptr)
    ::setenv("TWOFOUR_SIM_ISA", keep.c_str(), 1);
  else
    ::unsetenv("TWOFOUR_SIM_ISA");
  const KernelIsa best = supported_kernel_isas().back();
  if (saved == nullptr) {
    EXPECT_EQ(default_kernel_isa(), best);
  }
  // Forcing an instruction set the CPU lacks is an error, not a silent fallback.
  for (KernelIsa isa : {KernelIsa::avx2, KernelIsa::avx512}) {
    if (kernel_isa_supported(isa)) continue;
    GemmOptions o;
    o.isa = isa;
    EXPECT_THROW((void)run_gemm(in, Arch::sm80, operands(in, 16, 16, 32, Mix::uniform, rng), o), std::runtime_error);
  }
}

}  // namespace
}  // namespace twofour::sim
