// The validator's case generator: every class, selector and defined metadata nibble is covered,
// nothing it generates is undefined behaviour, and the adversarial classes hold what they promise.
#include "twofour/sim/validation_cases.hpp"

#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <set>
#include <string>

namespace twofour::sim {
namespace {

using spec::Arch;
using spec::Instruction;

const Instruction& row(const char* name) {
  const Instruction* in = spec::find_instruction(name);
  if (in == nullptr) throw std::runtime_error(name);
  return *in;
}

Arch arch_of(const Instruction& in) { return in.min_arch == Arch::sm89 ? Arch::sm90 : Arch::sm80; }

TEST(ValidateCases, EveryRowRunsEveryClassAndSelectorWithoutUndefinedBehaviour) {
  int cases = 0;
  for (const Instruction& in : spec::instruction_table) {
    const std::vector<CaseClass> classes = case_classes(in);
    const int selectors = in.is_sparse() ? in.selector_count() : 1;
    std::set<std::pair<int, int>> seen;  // (class, selector)
    for (std::uint64_t i = 0; i < 2 * classes.size() * static_cast<std::uint64_t>(selectors); ++i) {
      const GeneratedCase c = generate_case(in, 7, i);
      seen.insert({static_cast<int>(c.cls), c.selector});
      ASSERT_NO_THROW((void)run_warp(in, arch_of(in), c.regs, c.selector))
          << in.name << " case " << i << " " << case_class_name(c.cls);
      ++cases;
    }
    EXPECT_EQ(seen.size(), classes.size() * static_cast<std::size_t>(selectors)) << in.name;
  }
  EXPECT_GT(cases, 1500);
}

TEST(ValidateCases, ClassesDependOnTheRow) {
  const auto has = [](const std::vector<CaseClass>& v, CaseClass c) { return std::find(v.begin(), v.end(), c) != v.end(); };
  const auto f16 = case_classes(row("SM80_SP_16x8x32_F32F16F16F32_TN"));
  const auto ordered = case_classes(row("SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN"));
  const auto dense = case_classes(row("SM80_16x8x16_F32F16F16F32_TN"));
  const auto s8 = case_classes(row("SM80_SP_16x8x64_S32S8S8S32_TN"));
  const auto tf32 = case_classes(row("SM80_SP_16x8x8_F32TF32TF32F32_TN"));
  for (CaseClass c : {CaseClass::discriminating, CaseClass::exponent_spread, CaseClass::cancellation,
                      CaseClass::subnormals, CaseClass::specials, CaseClass::metadata_patterns, CaseClass::descending_metadata})
    EXPECT_TRUE(has(f16, c)) << case_class_name(c);
  EXPECT_FALSE(has(ordered, CaseClass::descending_metadata));
  EXPECT_FALSE(has(dense, CaseClass::metadata_patterns));
  EXPECT_FALSE(has(tf32, CaseClass::descending_metadata));  // tf32 has no descending nibble
  EXPECT_TRUE(has(s8, CaseClass::integer_extremes));
  EXPECT_FALSE(has(s8, CaseClass::specials));
}

// Over one cycle of the defined nibbles, metadata_patterns puts every nibble at every (row, chunk).
TEST(ValidateCases, MetadataPatternsCoverEveryNibbleAtEveryPosition) {
  for (const char* name : {"SM80_SP_16x8x32_F32F16F16F32_TN", "SM80_SP_16x8x16_F32TF32TF32F32_TN",
                           "SM80_SP_16x8x128_S32S4S4S32_TN", "SM89_SP_ORDERED_16x8x64_F32E4M3E5M2F32_TN"}) {
    const Instruction& in = row(name);
    const std::vector<CaseClass> classes = case_classes(in);
    const auto k = static_cast<std::uint64_t>(std::find(classes.begin(), classes.end(), CaseClass::metadata_patterns) - classes.begin());
    const std::vector<std::uint8_t> nibbles = defined_nibbles(in, false);
    std::map<std::pair<int, int>, std::set<int>> at;  // (row, chunk) -> nibbles seen
    for (std::size_t cycle = 0; cycle < nibbles.size() * static_cast<std::size_t>(in.selector_count()); ++cycle) {
      const GeneratedCase c = generate_case(in, 3, k + cycle * classes.size());
      ASSERT_EQ(c.cls, CaseClass::metadata_patterns);
      const TileOperands t = sim::unpack_operands(in, c.regs, c.selector);
      for (int r = 0; r < in.m; ++r)
        for (int ch = 0; ch < in.chunks_per_row(); ++ch)
          at[{r, ch}].insert(t.metadata[static_cast<std::size_t>(r * in.chunks_per_row() + ch)]);
    }
    ASSERT_EQ(at.size(), static_cast<std::size_t>(in.m * in.chunks_per_row())) << name;
    for (const auto& [pos, seen] : at) EXPECT_EQ(seen.size(), nibbles.size()) << name << " row " << pos.first;
  }
}

TEST(ValidateCases, DescendingMetadataIsFlaggedUnconfirmed) {
  const Instruction& in = row("SM80_SP_16x8x16_F32F16F16F32_TN");
  const std::vector<CaseClass> classes = case_classes(in);
  const auto k = static_cast<std::uint64_t>(std::find(classes.begin(), classes.end(), CaseClass::descending_metadata) - classes.begin());
  const GeneratedCase c = generate_case(in, 5, k);
  ASSERT_EQ(c.cls, CaseClass::descending_metadata);
  EXPECT_TRUE(run_warp(in, Arch::sm80, c.regs, c.selector).unconfirmed);
  EXPECT_EQ(defined_nibbles(in, true).size(), 12u);
  EXPECT_EQ(defined_nibbles(row("SM80_SP_ORDERED_16x8x16_F32F16F16F32_TN"), true).size(), 6u);
}

// Collects the operand tiles of the first `count` cases of one class.
std::vector<TileOperands> tiles_of(const Instruction& in, CaseClass cls, int count) {
  std::vector<TileOperands> out;
  for (std::uint64_t i = 0; out.size() < static_cast<std::size_t>(count) && i < 100000; ++i) {
    const GeneratedCase c = generate_case(in, 11, i);
    if (c.cls == cls) out.push_back(sim::unpack_operands(in, c.regs, c.selector));
  }
  return out;
}

TEST(ValidateCases, AdversarialClassesHoldWhatTheyPromise) {
  const Instruction& in = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  const auto count = [](const std::vector<std::uint32_t>& bits, const spec::FormatSpec& f, spec::FpClass cls) {
    int n = 0;
    for (std::uint32_t b : bits) n += spec::classify(f, b) == cls;
    return n;
  };
  int inf_or_nan = 0, subnormal = 0, spread_exponents = 0;
  for (const auto& t : tiles_of(in, CaseClass::specials, 10))
    inf_or_nan += count(t.a.bits, spec::fp16, spec::FpClass::nan) + count(t.a.bits, spec::fp16, spec::FpClass::infinity) +
                  count(t.c.bits, spec::fp32, spec::FpClass::nan) + count(t.c.bits, spec::fp32, spec::FpClass::infinity);
  for (const auto& t : tiles_of(in, CaseClass::subnormals, 10)) subnormal += count(t.a.bits, spec::fp16, spec::FpClass::subnormal);
  std::set<std::uint32_t> exps;
  for (const auto& t : tiles_of(in, CaseClass::exponent_spread, 10))
    for (std::uint32_t b : t.a.bits) exps.insert((b >> 10) & 0x1fu);
  spread_exponents = static_cast<int>(exps.size());
  EXPECT_GE(inf_or_nan, 30);
  EXPECT_GE(subnormal, 10 * 16 * 16 / 2);
  EXPECT_EQ(spread_exponents, 31);  // every exponent field but all-ones

  // Cancellation: some row of D is far smaller than the products that formed it.
  bool cancelled = false;
  for (const auto& t : tiles_of(in, CaseClass::cancellation, 5)) {
    const Tile d = run_tile(in, Arch::sm80, t).d;
    for (std::uint32_t b : d.bits) cancelled = cancelled || spec::bits_float(b) == 0.0f;
    // paired stored values are exact negatives
    cancelled = cancelled || (t.a.at(0, 1) == (t.a.at(0, 0) ^ 0x8000u));
  }
  EXPECT_TRUE(cancelled);

  // Discriminating: one element's A row holds only a few non-zero terms.
  int isolated = 0;
  for (const auto& t : tiles_of(in, CaseClass::discriminating, 20)) {
    for (int r = 0; r < in.m; ++r) {
      int nonzero = 0;
      for (int s = 0; s < t.a.cols; ++s) nonzero += (t.a.at(r, s) & 0x7fffu) != 0;
      if (nonzero <= 16 && nonzero < t.a.cols) {
        ++isolated;
        break;
      }
    }
  }
  EXPECT_GE(isolated, 18);

  // Integer extremes: min and max of s8 and the s32 limits in C.
  const Instruction& s8 = row("SM80_SP_16x8x32_S32S8S8S32_TN");
  std::set<std::uint32_t> a_values, c_values;
  for (const auto& t : tiles_of(s8, CaseClass::integer_extremes, 5)) {
    a_values.insert(t.a.bits.begin(), t.a.bits.end());
    c_values.insert(t.c.bits.begin(), t.c.bits.end());
  }
  EXPECT_TRUE(a_values.count(0x80u) && a_values.count(0x7fu) && a_values.count(0xffu));
  EXPECT_TRUE(c_values.count(0x80000000u) && c_values.count(0x7fffffffu));
}

TEST(ValidateCases, CasesAreReproducibleFromSeedAndIndex) {
  const Instruction& in = row("SM80_SP_16x8x64_S32S8S8S32_TN");
  EXPECT_EQ(generate_case(in, 42, 17).regs, generate_case(in, 42, 17).regs);
  EXPECT_NE(generate_case(in, 42, 17).regs, generate_case(in, 43, 17).regs);
  EXPECT_NE(generate_case(in, 42, 17).regs, generate_case(in, 42, 18).regs);
}

}  // namespace
}  // namespace twofour::sim
