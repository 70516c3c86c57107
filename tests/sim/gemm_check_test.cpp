// Checking a kernel's D (gemm_check.hpp): ulp distances against a count of the representable
// values between two patterns, the mismatch report, the explanation of one element, and the order
// search on a D produced by a known order.
#include "twofour/sim/compress.hpp"
#include "twofour/sim/gemm_check.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

namespace {

namespace sim = twofour::sim;
namespace spec = twofour::sim::spec;

const spec::Instruction& f16_row() { return *spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN"); }

sim::GemmOperands wide_operands(unsigned seed, int m, int n, int k) {
  const spec::Instruction& in = f16_row();
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> expo(-8, 8);
  sim::Tile dense(m, k);
  for (int i = 0; i < m; ++i)
    for (int g = 0; g < k / 4; ++g)
      for (int e : {0, 2}) dense.at(i, 4 * g + e + (g % 2)) = spec::encode(spec::fp16, normal(rng) * std::ldexp(1.0, expo(rng)));
  sim::GemmOperands ops;
  sim::CompressedA c = sim::compress_a(in, dense);
  ops.a = c.values;
  ops.metadata = c.metadata;
  ops.b = sim::Tile(k, n);
  for (auto& v : ops.b.bits) v = spec::encode(spec::fp16, normal(rng) * std::ldexp(1.0, expo(rng)));
  ops.c = sim::Tile(m, n);
  for (auto& v : ops.c.bits) v = std::bit_cast<std::uint32_t>(static_cast<float>(normal(rng)));
  return ops;
}

TEST(GemmCheck, UlpDistanceCountsRepresentableValuesBetween) {
  // Oracle: std::nextafter steps between two floats.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-4.0f, 4.0f);
  for (int t = 0; t < 200; ++t) {
    const float x = u(rng);
    float y = x;
    const int steps = t % 7;
    for (int s = 0; s < steps; ++s) y = std::nextafter(y, t % 2 ? 10.0f : -10.0f);
    EXPECT_EQ(sim::ulp_distance(spec::fp32, std::bit_cast<std::uint32_t>(x), std::bit_cast<std::uint32_t>(y)),
              static_cast<std::uint64_t>(steps));
  }
  EXPECT_EQ(sim::ulp_distance(spec::fp32, 0x80000000u, 0u), 0u);                     // -0, +0
  EXPECT_EQ(sim::ulp_distance(spec::fp32, 0x80000001u, 0x00000001u), 2u);            // across zero
  EXPECT_EQ(sim::ulp_distance(spec::fp16, 0x3c00u, 0x3c01u), 1u);
  EXPECT_FALSE(sim::ulp_distance(spec::fp32, 0x7fc00000u, 0x3f800000u).has_value());  // NaN
  EXPECT_EQ(sim::ulp_distance(spec::s32, static_cast<std::uint32_t>(-3), 4u), 7u);
}

TEST(GemmCheck, ReportCountsLocatesAndMeasuresDifferences) {
  sim::Tile sim_d(2, 3), gpu(2, 3);
  for (std::size_t i = 0; i < 6; ++i) sim_d.bits[i] = gpu.bits[i] = std::bit_cast<std::uint32_t>(1.0f + static_cast<float>(i));
  gpu.at(0, 2) += 3;
  gpu.at(1, 1) = 0x7fc00000u;
  const sim::GemmCheckReport r = sim::compare_gemm_outputs(spec::fp32, sim_d, gpu);
  EXPECT_EQ(r.elements, 6u);
  EXPECT_EQ(r.differing, 2u);
  EXPECT_EQ(r.max_ulps, 3u);
  EXPECT_EQ(r.nan_mismatches, 1u);
  ASSERT_EQ(r.first.size(), 2u);
  EXPECT_EQ(r.first[0].row, 0);
  EXPECT_EQ(r.first[0].col, 2);
  EXPECT_EQ(r.first[1].row, 1);
  EXPECT_FALSE(r.first[1].ulps.has_value());
  EXPECT_THROW(sim::compare_gemm_outputs(spec::fp32, sim_d, sim::Tile(3, 2)), std::invalid_argument);
}

TEST(GemmCheck, ExplanationNamesSlicesBlocksAlignmentAndTheResult) {
  const sim::GemmOperands ops = wide_operands(5, 16, 8, 128);
  const sim::GemmOrder o = sim::parse_gemm_order("cutlass,tile_k=32,split_k=2");
  const sim::Tile d = sim::run_ordered_gemm(f16_row(), spec::Arch::sm80, ops, o).d;
  const auto lines = sim::explain_gemm_element(f16_row(), spec::Arch::sm80, ops, o, 3, 5, {}, 100);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  EXPECT_NE(text.find("slice 0 (K 0..64), from +0"), std::string::npos) << text;
  EXPECT_NE(text.find("slice 1 (K 64..128)"), std::string::npos) << text;
  EXPECT_NE(text.find("block K {"), std::string::npos) << text;
  EXPECT_NE(text.find("aligned to 2^"), std::string::npos) << text;
  EXPECT_NE(text.find("epilogue of slice 1 (serial, in fp32)"), std::string::npos) << text;
  // The first line states the element's simulated bits, which are the GEMM's.
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08x", d.at(3, 5));
  EXPECT_NE(lines[0].find(hex), std::string::npos) << lines[0];
  EXPECT_THROW(sim::explain_gemm_element(f16_row(), spec::Arch::sm80, ops, o, 16, 0), std::out_of_range);
}

TEST(GemmCheck, OrderSearchNamesTheOrderThatProducedD) {
  const sim::GemmOperands ops = wide_operands(6, 32, 16, 256);
  for (const char* text : {"cutlass,tile_k=64,split_k=2,reduction=fp32", "twofour", "cutlass,tile_k=32,split_k=3"}) {
    const sim::GemmOrder truth = sim::parse_gemm_order(text);
    sim::GemmOrder stated = sim::gemm_order_preset("chained");
    stated.output = &spec::fp32;
    const sim::Tile kernel_d = sim::run_ordered_gemm(f16_row(), spec::Arch::sm80, ops, truth).d;
    const sim::OrderSearch s = sim::find_matching_orders(f16_row(), spec::Arch::sm80, ops, kernel_d, stated);
    ASSERT_FALSE(s.matching.empty()) << text;
    // The first match computes exactly the true order's D.
    EXPECT_EQ(sim::run_ordered_gemm(f16_row(), spec::Arch::sm80, ops, s.matching[0]).d, kernel_d) << text;
    EXPECT_EQ(s.matching[0].c_entry, truth.c_entry) << text;
    EXPECT_EQ(sim::split_k_ranges(f16_row(), s.matching[0], 256).size() > 1, truth.split_k > 1) << text;
  }
  // A kernel issuing the k16 instruction on sm_90 (where it rounds differently from k32).
  const sim::Tile k16_d = sim::run_ordered_gemm(f16_row(), spec::Arch::sm90, ops, sim::parse_gemm_order("chained,instr_k=16")).d;
  const sim::OrderSearch k16 = sim::find_matching_orders(f16_row(), spec::Arch::sm90, ops, k16_d, sim::gemm_order_preset("twofour"));
  ASSERT_FALSE(k16.matching.empty());
  EXPECT_EQ(k16.matching[0].instr_k, 16);
  // A D no order produces: one element off by one ulp.
  sim::Tile d = sim::run_ordered_gemm(f16_row(), spec::Arch::sm80, ops, sim::gemm_order_preset("twofour")).d;
  d.at(7, 7) += 1;
  EXPECT_TRUE(sim::find_matching_orders(f16_row(), spec::Arch::sm80, ops, d, sim::gemm_order_preset("twofour")).matching.empty());
}

}  // namespace
