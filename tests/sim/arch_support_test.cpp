// Which instruction rows run on which architecture, and how: every row from its minimum
// architecture on (PTX ISA 9.1 §9.7.14: mma / mma.sp with e4m3/e5m2 need sm_89, every other row
// here sm_80), fp8 native on sm_89 and lowered on sm_90 and sm_100 (docs/isa-findings.md, SASS).
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <gtest/gtest.h>

#include <string>

namespace twofour::sim {
namespace {

bool is_fp8(const spec::FormatSpec& f) { return f == spec::e4m3 || f == spec::e5m2; }

TEST(ArchSupport, EveryRowRunsFromItsMinimumArchitectureOn) {
  int runs = 0;
  for (const spec::Instruction& row : spec::instruction_table) {
    if (row.threads != 32) continue;  // warpgroup rows: WarpgroupRowsRunOnHopperOnly
    const bool fp8 = is_fp8(*row.a);
    EXPECT_EQ(row.min_arch, fp8 ? spec::Arch::sm89 : spec::Arch::sm80) << row.name;
    for (const spec::Arch arch : spec::all_archs) {
      const bool allowed = static_cast<int>(arch) >= static_cast<int>(row.min_arch);
      ASSERT_EQ(instruction_supported(row, arch), allowed) << row.name << " on " << spec::arch_name(arch);
      if (!allowed) {
        EXPECT_THROW(InstructionDatapath(row, arch), UnsupportedInstruction) << row.name;
        continue;
      }
      const InstructionDatapath dp(row, arch);
      const bool lowered = fp8 && (arch == spec::Arch::sm90 || arch == spec::Arch::sm100);
      EXPECT_EQ(dp.lowering(), lowered ? Lowering::fp8_via_fp16_sm90 : Lowering::native)
          << row.name << " on " << spec::arch_name(arch);
      EXPECT_EQ(dp.spec().arch, arch) << row.name;
      EXPECT_EQ(*dp.spec().a_format == spec::fp16, lowered || *row.a == spec::fp16) << row.name;
      ++runs;
    }
  }
  EXPECT_GT(runs, 500);
}

// wgmma rows need sm_90a (PTX ISA §9.7.15): not before Hopper, and not on Blackwell either.
TEST(ArchSupport, WarpgroupRowsRunOnHopperOnly) {
  int rows = 0;
  for (const spec::Instruction& row : spec::instruction_table) {
    if (row.threads == 32) continue;
    for (const spec::Arch arch : spec::all_archs)
      ASSERT_EQ(instruction_supported(row, arch), arch == spec::Arch::sm90) << row.name << " on " << spec::arch_name(arch);
    EXPECT_EQ(lowering_of(row, spec::Arch::sm90), Lowering::native) << row.name;
    ++rows;
  }
  EXPECT_GT(rows, 2000);
}

// The parameters each architecture's rows run: sm_86 and sm_89 Ampere's for 16/32-bit inputs,
// sm_100 Hopper's (and Hopper's fp16 rows under its fp8 lowering).
TEST(ArchSupport, ArchitecturesRunTheirFamilysDatapath) {
  const auto block = [](const char* name, spec::Arch arch) {
    return InstructionDatapath(*spec::find_instruction(name), arch).spec().block_size;
  };
  EXPECT_EQ(block("SM80_SP_16x8x32_F32F16F16F32_TN", spec::Arch::sm86), 8);
  EXPECT_EQ(block("SM80_SP_16x8x32_F32F16F16F32_TN", spec::Arch::sm89), 8);
  EXPECT_EQ(block("SM80_SP_16x8x32_F32F16F16F32_TN", spec::Arch::sm100), 16);
  EXPECT_EQ(block("SM80_SP_16x8x16_F32TF32TF32F32_TN", spec::Arch::sm100), 8);
  EXPECT_EQ(block("SM89_SP_16x8x64_F32E4M3E4M3F32_TN", spec::Arch::sm89), 16);
  EXPECT_EQ(block("SM89_SP_16x8x64_F32E4M3E4M3F32_TN", spec::Arch::sm100), 16);  // the fp16 row
  EXPECT_EQ(InstructionDatapath(*spec::find_instruction("SM89_SP_16x8x64_F32E4M3E4M3F32_TN"), spec::Arch::sm100)
                .spec()
                .fraction_bits(),
            25);
}

TEST(ArchSupport, ArchitectureSpellings) {
  EXPECT_EQ(parse_arch("sm86"), spec::Arch::sm86);
  EXPECT_EQ(parse_arch("sm_100"), spec::Arch::sm100);
  EXPECT_EQ(parse_arch("89"), spec::Arch::sm89);
  EXPECT_THROW(parse_arch("sm87"), std::invalid_argument);
  EXPECT_THROW(parse_arch("sm1000"), std::invalid_argument);
  for (const spec::Arch arch : spec::all_archs) EXPECT_EQ(parse_arch(spec::arch_name(arch)), arch);
}

}  // namespace
}  // namespace twofour::sim
