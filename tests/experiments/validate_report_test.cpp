// The validator's comparison and reporting, with the simulator standing in for the GPU: a clean
// run passes, one flipped output bit is reported as exactly one mismatch at the right lane,
// register, row and column, with decoded inputs and outputs; vector files round-trip; probes and
// the GEMM check read their answers correctly.
#include "support/paths.hpp"
#include "experiments/validate_support.hpp"
#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/vectors.hpp"
#include "validate/compare.hpp"
#include "validate/probes.hpp"
#include "validate/validator.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace twofour::validate {
namespace {

namespace spec = sim::spec;
using spec::Arch;
using spec::Instruction;
using testing::Corruption;
using testing::SimulatorGpu;

const Instruction& row(const char* name) {
  const Instruction* in = spec::find_instruction(name);
  if (in == nullptr) throw std::runtime_error(name);
  return *in;
}

std::string where(int lane, int reg, int element, const Instruction& in) {
  const spec::Coord rc = spec::c_coord(in, lane, reg, element);
  return "D lane " + std::to_string(lane) + " register " + std::to_string(reg) + " element " + std::to_string(element) +
         " (row " + std::to_string(rc.row) + ", col " + std::to_string(rc.col) + ")";
}

sim::VectorFile committed(const char* name) {
  return sim::read_vectors_file(twofour::testing::test_data_dir() + "/sim-vectors/" + name);
}

TEST(ValidateReport, CompareOutputsLocatesEveryFlippedElement) {
  const Instruction& f16out = row("SM80_SP_16x8x32_F16F16F16F16_TN");  // two D elements per register
  sim::WarpOutput a = sim::make_output(f16out), b = sim::make_output(f16out);
  b[9][1] ^= 0x00010000u;  // lane 9, register 1, element 1
  const auto m = compare_outputs(f16out, a, b);
  ASSERT_EQ(m.size(), 1u);
  const spec::Coord rc = spec::c_coord(f16out, 9, 1, 1);
  EXPECT_EQ(m[0].lane, 9);
  EXPECT_EQ(m[0].reg, 1);
  EXPECT_EQ(m[0].element, 1);
  EXPECT_EQ(m[0].row, rc.row);
  EXPECT_EQ(m[0].col, rc.col);
  EXPECT_EQ(m[0].observed, 0u);
  EXPECT_EQ(m[0].simulated, 1u);
}

// A committed vector file with one output bit flipped: exactly that case fails, reported at the
// right lane/register/row/col with its inputs decoded.
TEST(ValidateReport, CorruptedVectorIsReportedWithItsCoordinates) {
  for (const char* name : {"regression_sm80.txt", "regression_sm90.txt"}) {
    sim::VectorFile file = committed(name);
    ASSERT_GE(file.cases.size(), 4u);
    std::ostringstream clean_log;
    const Tally clean = replay_vectors(file, name, {}, {}, clean_log);
    EXPECT_EQ(clean.failed, 0u) << clean_log.str();
    EXPECT_EQ(clean.passed, file.cases.size());

    sim::VectorCase& victim = file.cases[2];
    const int lane = 13, reg = victim.instr->d_registers() - 1;
    victim.d[lane][static_cast<std::size_t>(reg)] ^= 0x4u;  // element 0, bit 2
    std::ostringstream log;
    const Tally t = replay_vectors(file, name, {}, {}, log);
    EXPECT_EQ(t.failed, 1u);
    EXPECT_EQ(t.passed, file.cases.size() - 1);
    EXPECT_EQ(t.mismatching_elements, 1u);
    const std::string text = log.str();
    EXPECT_NE(text.find(where(lane, reg, 0, *victim.instr)), std::string::npos) << text;
    EXPECT_NE(text.find(":" + std::to_string(victim.line) + " " + std::string(victim.instr->name)), std::string::npos) << text;
    EXPECT_NE(text.find("    A row "), std::string::npos) << text;
    EXPECT_NE(text.find("    B col "), std::string::npos) << text;
    EXPECT_NE(text.find("    C "), std::string::npos) << text;
    EXPECT_NE(text.find("    recorded ("), std::string::npos) << text;
    EXPECT_NE(text.find("    sim 0x"), std::string::npos) << text;
    EXPECT_EQ(summary_line(t), std::to_string(file.cases.size() - 1) + " passed, 1 failed");
  }
}

TEST(ValidateReport, CleanGpuRunPassesAndCorruptedRunFailsAtTheFlippedBit) {
  ValidateOptions o;
  o.rows = {&row("SM80_SP_16x8x32_F32F16F16F32_TN"), &row("SM80_SP_ORDERED_16x8x64_S32S8S8S32_TN")};
  o.cases_per_row = 40;
  o.seed = 9;
  o.batch = 16;
  SimulatorGpu clean(Arch::sm80);
  std::ostringstream log;
  const Tally t = validate_on_gpu(clean, o, log);
  EXPECT_EQ(t.passed, 80u) << log.str();
  EXPECT_EQ(t.failed, 0u);
  EXPECT_GT(t.unconfirmed, 0u);  // the f16 row's descending-metadata class

  // Third run() call = first row, second batch (cases 16..31), selector 0 launch: its first case
  // is case 16 (selector of case i is (i / classes) % 2).
  Corruption flip{2, 32 * 1 + 6, 3, 0x100u};
  SimulatorGpu corrupt(Arch::sm80, flip);
  std::ostringstream bad_log;
  const Tally bad = validate_on_gpu(corrupt, o, bad_log);
  EXPECT_EQ(bad.failed, 1u) << bad_log.str();
  EXPECT_EQ(bad.passed, 79u);
  const std::string text = bad_log.str();
  EXPECT_NE(text.find(where(6, 3, 0, *o.rows[0])), std::string::npos) << text;
  EXPECT_NE(text.find("    GPU 0x"), std::string::npos) << text;
  EXPECT_NE(text.find("SM80_SP_16x8x32_F32F16F16F32_TN: 39 passed, 1 failed"), std::string::npos) << text;
}

TEST(ValidateReport, GpuOutputsRoundTripThroughAVectorFile) {
  const auto path = std::filesystem::temp_directory_path() / ("twofour-validate-" + std::to_string(::getpid()) + ".txt");
  ValidateOptions o;
  o.rows = {&row("SM89_SP_16x8x64_F32E5M2E4M3F32_TN"), &row("SM80_16x8x32_S32S8S8S32_TN")};
  o.cases_per_row = 12;
  o.out = path;
  SimulatorGpu gpu(Arch::sm90);
  std::ostringstream log;
  EXPECT_EQ(validate_on_gpu(gpu, o, log).failed, 0u);
  const sim::VectorFile file = sim::read_vectors_file(path);
  EXPECT_EQ(file.cases.size(), 24u);
  EXPECT_EQ(file.header.arch, Arch::sm90);
  EXPECT_EQ(file.header.source, "GPU simulator stand-in");
  std::ostringstream replay_log;
  EXPECT_EQ(replay_vectors(file, path.string(), {}, {}, replay_log).passed, 24u);
  std::filesystem::remove(path);
}

TEST(ValidateReport, RowSelection) {
  const auto warp_rows = static_cast<std::size_t>(
      std::count_if(spec::instruction_table.begin(), spec::instruction_table.end(), [](const Instruction& in) { return in.threads == 32; }));
  EXPECT_EQ(select_rows("all", Arch::sm90).size(), warp_rows);
  EXPECT_LT(select_rows("all", Arch::sm80).size(), warp_rows);  // no fp8 on sm_80
  const auto f16 = select_rows("*F32F16F16F32*", Arch::sm80);
  EXPECT_EQ(f16.size(), 5u);  // sparse k16, k32, their ordered forms, dense k16
  EXPECT_EQ(select_rows("SM80_16x8x16_F32F16F16F32_TN,SM80_16x8x16_F32F16F16F32_TN", Arch::sm80).size(), 1u);
  EXPECT_THROW((void)select_rows("NOPE", Arch::sm80), std::invalid_argument);
  EXPECT_THROW((void)select_rows("SM89_SP_16x8x64_F32E4M3E4M3F32_TN", Arch::sm80), std::invalid_argument);
  EXPECT_THROW((void)select_rows("*E4M3*", Arch::sm80), std::invalid_argument);  // nothing runs there
  EXPECT_THROW((void)select_rows("", Arch::sm80), std::invalid_argument);
}

TEST(ValidateReport, GemmShapeParsing) {
  const GemmShape s = parse_gemm_shape("64x32x128");
  EXPECT_EQ(s.m, 64);
  EXPECT_EQ(s.n, 32);
  EXPECT_EQ(s.k, 128);
  for (const char* bad : {"", "64", "64x32", "64x32x", "0x8x16", "64x-8x16", "axbxc", "64x32x16x8"})
    EXPECT_THROW((void)parse_gemm_shape(bad), std::invalid_argument) << bad;
}

TEST(ValidateReport, GemmCheckAgainstSimGemm) {
  SimulatorGpu gpu(Arch::sm90);
  std::ostringstream log;
  const Tally t = validate_gemm_on_gpu(gpu, {&row("SM80_SP_16x8x32_F32F16F16F32_TN"), &row("SM80_16x8x16_F32BF16BF16F32_TN")},
                                       {32, 16, 64}, 3, {}, {}, log);
  EXPECT_EQ(t.passed, 2u * 32u * 16u) << log.str();
  EXPECT_EQ(t.failed, 0u);
}

// With the simulator as the GPU, every probe's answer is its first hypothesis (the model), and
// the hypotheses of the deciding probes really differ.
TEST(ValidateReport, ProbesReadTheirAnswers) {
  for (Arch arch : {Arch::sm80, Arch::sm90}) {
    SimulatorGpu gpu(arch);
    for (const std::string& name : probe_names()) {
      const Probe p = make_probe(name, arch);
      EXPECT_EQ(p.cases.empty(), name == "fp8" && arch != Arch::sm90) << name;
      for (const ProbeCase& c : p.cases) {
        sim::WarpOutput out = sim::make_output(*c.instr);
        gpu.run(*c.instr, c.selector, c.regs, out);
        const std::string answer = interpret(c, d_element(*c.instr, out, c.row, c.col));
        EXPECT_EQ(answer.rfind(c.hypotheses[0].first, 0), 0u) << name << " " << c.label << ": " << answer;
        EXPECT_NE(answer.find("(simulator)"), std::string::npos) << answer;
        if (name == "grouping" || name == "descending" || name == "fp8" || name == "negzero" || name == "overflow") {
          EXPECT_NE(c.hypotheses[0].second, c.hypotheses[1].second) << name << " " << c.label << " does not discriminate";
        }
      }
    }
    std::ostringstream log;
    run_probes(gpu, "all", log);
    EXPECT_NE(log.str().find("probe grouping:"), std::string::npos);
    EXPECT_EQ(log.str().find("none of"), std::string::npos) << log.str();
  }
  EXPECT_THROW((void)make_probe("nope", Arch::sm90), std::invalid_argument);
  ProbeCase c;
  c.instr = &row("SM80_SP_16x8x16_F32F16F16F32_TN");
  c.hypotheses = {{"one", 0x3f800000u}, {"two", 0x40000000u}};
  EXPECT_EQ(interpret(c, 0x40000000u), "two");
  EXPECT_EQ(interpret(c, 0x12345678u).rfind("none of:", 0), 0u);
}

}  // namespace
}  // namespace twofour::validate

namespace {

// Warpgroup rows go through the validator too: selected by pattern (names or PTX mnemonics, never
// by "all"), run with their shared-memory operands, and a flipped D bit is found and located.
TEST(ValidateWarpgroup, PatternSelectsAndTheStandInAgrees) {
  using twofour::validate::select_rows;
  const auto rows = select_rows("wgmma.mma_async.sp.sync.aligned.m64n8k*", twofour::sim::spec::Arch::sm90);
  EXPECT_EQ(rows.size(), 2u * 20u);  // SS and RS of the 20 sparse type rows at N = 8
  EXPECT_THROW((void)select_rows("wgmma*", twofour::sim::spec::Arch::sm80), std::invalid_argument);
  twofour::validate::ValidateOptions o;
  o.rows = {rows.front(), rows.back()};
  o.cases_per_row = 12;
  std::ostringstream log;
  twofour::testing::SimulatorGpu gpu(twofour::sim::spec::Arch::sm90);
  const auto clean = twofour::validate::validate_on_gpu(gpu, o, log);
  EXPECT_EQ(clean.failed, 0u) << log.str();
  EXPECT_EQ(clean.passed, 24u) << log.str();
  std::ostringstream bad_log;
  twofour::testing::SimulatorGpu bad(twofour::sim::spec::Arch::sm90, twofour::testing::Corruption{0, 128 + 5, 1, 0x4u});
  const auto flipped = twofour::validate::validate_on_gpu(bad, o, bad_log);
  EXPECT_EQ(flipped.failed, 1u) << bad_log.str();
  EXPECT_NE(bad_log.str().find("lane 5 register 1"), std::string::npos) << bad_log.str();
}

}  // namespace
