// GEMM level: the fast path is bit-identical to the generic chain of run_tile calls, for every
// row family, both groupings, with specials and overflow; the chain equals explicit tiles.
#include "twofour/sim/gemm.hpp"

#include "sim/mma_support.hpp"
#include "support/seed.hpp"
#include "twofour/sim/spec/rounding.hpp"
#include "twofour/sim/vectors.hpp"

#include <gtest/gtest.h>

#include <random>

namespace twofour::sim {
namespace {

using spec::Arch;
using spec::Instruction;

GemmOperands random_gemm(const Instruction& in, int m, int n, int k, std::mt19937_64& rng, bool specials) {
  GemmOperands g;
  const int steps = k / in.k;
  g.a = Tile(m, in.is_sparse() ? steps * in.stored_k() : k);
  g.b = Tile(k, n);
  g.c = Tile(m, n);
  for (auto& v : g.a.bits) v = random_element(*in.a, rng);
  for (auto& v : g.b.bits) v = random_element(*in.b, rng);
  for (auto& v : g.c.bits) v = random_element(*in.c, rng);
  if (in.is_sparse()) {
    g.metadata.resize(static_cast<std::size_t>(m * steps * in.chunks_per_row()));
    for (auto& v : g.metadata) v = random_nibble(in, rng);
  }
  if (specials && !in.a->is_integer) {
    // A few Inf/NaN inputs, huge values that overflow, and an Inf C.
    const spec::FormatSpec& fa = *in.a;
    const std::uint32_t big = spec::max_finite_bits(fa, false);
    for (int i = 0; i < 6; ++i) {
      g.a.bits[rng() % g.a.bits.size()] = big;
      g.b.bits[rng() % g.b.bits.size()] = spec::max_finite_bits(*in.b, (rng() & 1u) != 0);
    }
    g.a.bits[rng() % g.a.bits.size()] = spec::infinity_bits(fa, false);
    g.b.bits[rng() % g.b.bits.size()] = in.b->canonical_nan;
    g.c.bits[rng() % g.c.bits.size()] = spec::infinity_bits(*in.c, true);
    g.c.bits[rng() % g.c.bits.size()] = spec::max_finite_bits(*in.c, false);
  }
  return g;
}

TEST(Gemm, FastPathIsBitIdenticalToGenericChain) {
  std::mt19937_64 rng(testing::test_seed("Gemm.FastPathIsBitIdenticalToGenericChain", 31));
  int runs = 0;
  for (Arch arch : testing::kArchs) {
    for (const Instruction* in : testing::rows_on(arch)) {
      if (in->order == spec::MetadataOrder::ordered || in->satfinite) continue;  // same datapath as a listed row
      ASSERT_TRUE(gemm_fast_path_available(*in, arch)) << in->name;
      for (const bool specials : {false, true}) {
        for (const SparseGrouping grouping : {SparseGrouping::stored_products, SparseGrouping::logical_k}) {
          if (!in->is_sparse() && grouping == SparseGrouping::logical_k) continue;
          const GemmOperands g = random_gemm(*in, 32, 16, 2 * in->k, rng, specials);
          GemmOptions generic, fast;
          generic.path = GemmPath::generic;
          fast.path = GemmPath::fast;
          generic.threads = fast.threads = 1;  // many tiny GEMMs: no thread start-up per call
          generic.execution.grouping = fast.execution.grouping = grouping;
          const GemmResult want = run_gemm(*in, arch, g, generic);
          const GemmResult got = run_gemm(*in, arch, g, fast);
          ASSERT_EQ(got.path_used, GemmPath::fast);
          for (std::size_t e = 0; e < want.d.bits.size(); ++e) {
            ASSERT_EQ(got.d.bits[e], want.d.bits[e]) << in->name << " " << spec::arch_name(arch) << " element " << e
                                                     << " specials " << specials;
          }
          if (specials && !in->a->is_integer) {
            EXPECT_GT(got.generic_fallbacks, 0u) << in->name;
          }
          ++runs;
        }
      }
    }
  }
  EXPECT_GT(runs, 60);
}

TEST(Gemm, ThreadCountDoesNotChangeBits) {
  const Instruction& in = testing::row_named("SM80_SP_16x8x32_F32F16F16F32_TN");
  std::mt19937_64 rng(testing::test_seed("Gemm.ThreadCountDoesNotChangeBits", 35));
  const GemmOperands g = random_gemm(in, 64, 64, 128, rng, true);
  GemmOptions one, two;
  one.threads = 1;
  two.threads = 2;
  EXPECT_EQ(run_gemm(in, Arch::sm80, g, one).d, run_gemm(in, Arch::sm80, g, two).d);
  two.path = GemmPath::generic;
  EXPECT_EQ(run_gemm(in, Arch::sm80, g, one).d, run_gemm(in, Arch::sm80, g, two).d);
}

TEST(Gemm, SatfiniteClampsInFastPath) {
  const Instruction& in = testing::row_named("SM80_SP_16x8x32_S32S8S8S32_SATFINITE_TN");
  std::mt19937_64 rng(twofour::testing::test_seed("Gemm.SatfiniteClampsInFastPath", 32));
  GemmOperands g = random_gemm(in, 16, 8, 64, rng, false);
  for (auto& v : g.c.bits) v = 0x7fffff00u;
  GemmOptions generic, fast;
  generic.path = GemmPath::generic;
  fast.path = GemmPath::fast;
  EXPECT_EQ(run_gemm(in, Arch::sm80, g, fast).d, run_gemm(in, Arch::sm80, g, generic).d);
}

// The chain is D = mma(A_s, B_s, D_{s-1}) in ascending s: check against explicit run_tile calls.
TEST(Gemm, ChainFollowsStatedKOrder) {
  const Instruction& in = testing::row_named("SM80_SP_16x8x32_F16F16F16F16_TN");
  std::mt19937_64 rng(testing::test_seed("Gemm.ChainFollowsStatedKOrder", 33));
  const GemmOperands g = random_gemm(in, 16, 8, 96, rng, false);
  Tile acc = g.c;
  for (int s = 0; s < 3; ++s) {
    TileOperands t;
    t.a = Tile(16, 16);
    t.b = Tile(32, 8);
    t.c = acc;
    for (int r = 0; r < 16; ++r)
      for (int c = 0; c < 16; ++c) t.a.at(r, c) = g.a.at(r, s * 16 + c);
    for (int r = 0; r < 32; ++r)
      for (int c = 0; c < 8; ++c) t.b.at(r, c) = g.b.at(s * 32 + r, c);
    for (int r = 0; r < 16; ++r)
      for (int ch = 0; ch < 8; ++ch) t.metadata.push_back(g.metadata[static_cast<std::size_t>(r * 24 + s * 8 + ch)]);
    acc = run_tile(in, Arch::sm80, t).d;
  }
  EXPECT_EQ(run_gemm(in, Arch::sm80, g).d, acc);
}

TEST(Gemm, RejectsBadShapesAndUndefinedMetadata) {
  const Instruction& in = testing::row_named("SM80_SP_16x8x32_F32F16F16F32_TN");
  std::mt19937_64 rng(twofour::testing::test_seed("Gemm.RejectsBadShapesAndUndefinedMetadata", 34));
  GemmOperands g = random_gemm(in, 32, 16, 64, rng, false);
  GemmOperands bad = g;
  bad.c = Tile(24, 16);
  EXPECT_THROW((void)run_gemm(in, Arch::sm80, bad), std::invalid_argument);
  bad = g;
  bad.metadata[static_cast<std::size_t>(17 * 16 + 11)] = 0x5;  // equal indices, row 17, chunk 11
  try {
    (void)run_gemm(in, Arch::sm80, bad);
    ADD_FAILURE() << "ran";
  } catch (const MetadataError& e) {
    EXPECT_NE(std::string(e.what()).find("A row 17, chunk 11 (k-step 1)"), std::string::npos) << e.what();
  }
  bad = g;
  bad.metadata[3] = 0x1;  // descending: legal under plain mma.sp, flagged
  const GemmResult r = run_gemm(in, Arch::sm80, bad);
  EXPECT_TRUE(r.unconfirmed);
  EXPECT_EQ(r.unconfirmed_chunks, 1u);
}

}  // namespace
}  // namespace twofour::sim
