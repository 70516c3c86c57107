// Test vectors: writer/reader round trip, malformed input with line numbers, and the checker
// reporting a deliberately corrupted D decoded.
#include "support/paths.hpp"
#include "twofour/sim/vectors.hpp"

#include "sim/mma_support.hpp"
#include "support/seed.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

namespace twofour::sim {
namespace {

VectorFile sample(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  VectorFile f;
  f.header.generator = "vectors_test";
  f.header.seed = seed;
  f.header.source = "sim";
  for (const char* name : {"SM80_SP_16x8x32_F32F16F16F32_TN", "SM80_SP_16x8x16_F16F16F16F16_TN",
                           "SM80_SP_ORDERED_16x8x128_S32S4U4S32_SATFINITE_TN", "SM80_16x8x8_F32TF32TF32F32_TN"}) {
    const spec::Instruction& in = testing::row_named(name);
    f.cases.push_back(make_random_case(in, spec::Arch::sm80, in.is_sparse() ? in.selector_count() - 1 : 0, rng));
  }
  return f;
}

TEST(Vectors, WriteReadRoundTripAndCheckPasses) {
  const VectorFile f = sample(testing::test_seed("Vectors.WriteReadRoundTripAndCheckPasses", 41));
  std::stringstream ss;
  write_vectors(ss, f);
  const VectorFile back = read_vectors(ss, "mem");
  EXPECT_EQ(back.header.generator, "vectors_test");
  EXPECT_EQ(back.header.seed, f.header.seed);
  EXPECT_EQ(back.header.source, "sim");
  ASSERT_EQ(back.cases.size(), f.cases.size());
  for (std::size_t i = 0; i < f.cases.size(); ++i) {
    EXPECT_EQ(back.cases[i].instr, f.cases[i].instr);
    EXPECT_EQ(back.cases[i].selector, f.cases[i].selector);
    EXPECT_EQ(back.cases[i].in, f.cases[i].in);
    EXPECT_EQ(back.cases[i].d, f.cases[i].d);
    EXPECT_EQ(back.cases[i].line, static_cast<int>(i) + 2);
  }
  const CheckReport report = check_vectors(back);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.cases, 4u);
}

TEST(Vectors, SourceWithSpacesSurvives) {
  VectorFile f = sample(42);
  f.header.source = "NVIDIA H200 (sm_90, driver 570)";
  f.header.arch = spec::Arch::sm80;
  std::stringstream ss;
  write_vectors(ss, f);
  EXPECT_EQ(read_vectors(ss).header.source, "NVIDIA H200 (sm_90, driver 570)");
}

TEST(Vectors, CorruptedVectorIsReportedDecoded) {
  VectorFile f = sample(43);
  f.cases[0].d[5][1] ^= 0x00400000u;  // lane 5, register 1 of the f32 row
  std::stringstream ss;
  write_vectors(ss, f);
  const CheckReport report = check_vectors(read_vectors(ss, "mem"));
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.failing_cases, 1u);
  ASSERT_EQ(report.mismatches, 1u);
  const std::string& line = report.lines.at(0);
  // lane 5: g = 1, t = 1; c1 at row 1, col 3.
  EXPECT_NE(line.find("line 2 SM80_SP_16x8x32_F32F16F16F32_TN"), std::string::npos) << line;
  EXPECT_NE(line.find("D lane 5 register 1 element 0 (row 1, col 3)"), std::string::npos) << line;
  EXPECT_NE(line.find(" vs sim 0x"), std::string::npos) << line;
  EXPECT_NE(line.find("* 2^"), std::string::npos) << line;  // decoded fields
}

TEST(Vectors, UndefinedMetadataInAVectorIsAnError) {
  VectorFile f = sample(44);
  f.cases[0].in[2].e = 0x00000005u;  // selector 1 of m16n8k32 f16 uses lanes 4g+2, 4g+3
  const CheckReport report = check_vectors(f);
  ASSERT_EQ(report.failing_cases, 1u);
  EXPECT_NE(report.lines.at(0).find("lane 2, register e, nibble 0"), std::string::npos) << report.lines[0];
}

void expect_error(const std::string& text, const std::string& fragment) {
  std::stringstream ss(text);
  try {
    (void)read_vectors(ss, "v.txt");
    ADD_FAILURE() << "accepted: " << text.substr(0, 80);
  } catch (const VectorFormatError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Vectors, MalformedLinesNameTheLine) {
  std::stringstream ss;
  write_vectors(ss, sample(45));
  const std::string good = ss.str();
  const std::string header = good.substr(0, good.find('\n') + 1);
  const std::string first = good.substr(header.size(), good.find('\n', header.size()) - header.size());
  expect_error("", "v.txt:0: empty file");
  expect_error("hello\n", "v.txt:1: expected the header");
  expect_error("twofour-vectors v9 source=sim\n", "v.txt:1: unsupported version");
  expect_error(header + "# comment\nNOPE 0 A=1\n", "v.txt:3: unknown instruction 'NOPE'");
  expect_error(header + first.substr(0, first.size() - 9) + "\n", "v.txt:2: D: expected 128 words");
  std::string bad = first;
  bad[bad.find("A=") + 2] = 'g';
  expect_error(header + "\n" + bad + "\n", "v.txt:3: A: word 0");
  expect_error(header + first + " extra\n", "v.txt:2: unexpected text after D");
  expect_error(header + "SM80_SP_16x8x32_F32F16F16F32_TN x A=\n", "v.txt:2: selector 'x'");
}

}  // namespace
}  // namespace twofour::sim

namespace twofour::sim {
namespace {

// A committed regression file: one case per sparse row family on sm_80 and sm_90 (the two
// architectures with measured datapaths), simulated when the file was generated. A change in
// layouts, metadata decoding or datapath shows up here as decoded mismatches. Regenerate after an
// intended change with TWOFOUR_REGENERATE_VECTORS=1 (and say why in the commit).
TEST(Vectors, CommittedRegressionFileStillMatches) {
  const std::string path = twofour::testing::test_data_dir() + "/sim-vectors/regression_sm80.txt";
  const std::string path90 = twofour::testing::test_data_dir() + "/sim-vectors/regression_sm90.txt";
  const char* regen = std::getenv("TWOFOUR_REGENERATE_VECTORS");
  if (regen != nullptr && std::string(regen) == "1") {
    for (const spec::Arch arch : {spec::Arch::sm80, spec::Arch::sm90}) {
      std::mt19937_64 rng(2024);
      VectorFile f;
      f.header.generator = "vectors_test";
      f.header.seed = 2024;
      f.header.arch = arch;
      for (const char* name : {"SM80_SP_16x8x16_F16F16F16F16_TN", "SM80_SP_16x8x32_F32F16F16F32_TN",
                               "SM80_SP_ORDERED_16x8x32_F32BF16BF16F32_TN", "SM80_SP_16x8x16_F32TF32TF32F32_TN",
                               "SM80_SP_16x8x64_S32S8U8S32_SATFINITE_TN", "SM80_SP_16x8x128_S32S4S4S32_TN",
                               "SM80_16x8x16_F32F16F16F32_TN"}) {
        const spec::Instruction& in = testing::row_named(name);
        f.cases.push_back(make_random_case(in, arch, in.is_sparse() ? in.selector_count() - 1 : 0, rng));
      }
      if (arch == spec::Arch::sm90)
        f.cases.push_back(make_random_case(testing::row_named("SM89_SP_16x8x64_F32E4M3E5M2F32_TN"), arch, 0, rng));
      write_vectors_file(arch == spec::Arch::sm80 ? path : path90, f);
    }
  }
  for (const std::string& p : {path, path90}) {
    const VectorFile f = read_vectors_file(p);
    ASSERT_GE(f.cases.size(), 7u) << p;
    const CheckReport report = check_vectors(f);
    for (const std::string& line : report.lines) ADD_FAILURE() << line;
    EXPECT_TRUE(report.ok()) << p;
  }
}

}  // namespace
}  // namespace twofour::sim
