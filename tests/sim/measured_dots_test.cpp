// Replays every GPU-measured dot product in tests/data/tensor-core-hw (A100 and H100, measured by
// Khattak & Mikaitis, arXiv 2512.07004) through the datapath of that GPU, bit for bit.
// Oracle: the GPU itself. The H100 fp8 -> fp16 cases are an open question (isa.md §3.1): they are
// scored against hypotheses instead, and a floor on the best rate guards against regressions.
#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/describe.hpp"
#include "twofour/sim/measured_dots.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace twofour::sim {
namespace {

const std::filesystem::path kData = std::filesystem::path(TWOFOUR_TEST_DATA_DIR) / "tensor-core-hw";

struct Set {
  const char* gpu;
  const char* format;
  const char* out;
  std::size_t k;
};

// Every (GPU, format, output) in the data, with its K (data README).
constexpr Set kSets[] = {
    {"A100", "fp16", "fp32", 8}, {"A100", "fp16", "fp16", 8}, {"A100", "bf16", "fp32", 8},
    {"A100", "tf32", "fp32", 4}, {"H100", "fp16", "fp32", 16}, {"H100", "fp16", "fp16", 16},
    {"H100", "bf16", "fp32", 16}, {"H100", "tf32", "fp32", 4}, {"H100", "e4m3", "fp32", 32},
    {"H100", "e5m2", "fp32", 32},
};

class Replay : public ::testing::TestWithParam<Set> {};

TEST_P(Replay, EveryCaseBitExact) {
  const Set set = GetParam();
  const MeasuredDots dots = read_measured_dots(kData, set.gpu, set.format, set.out);
  const auto spec = spec::find_datapath(dots.arch, *dots.in_format, *dots.in_format, *dots.out_format);
  ASSERT_TRUE(spec.has_value());
  ASSERT_EQ(dots.cases.size(), 2500u);
  std::size_t passed = 0, shown = 0;
  for (std::size_t i = 0; i < dots.cases.size(); ++i) {
    const MeasuredCase& mc = dots.cases[i];
    ASSERT_EQ(mc.a.size(), set.k);
    const std::uint32_t d = dot(*spec, mc.a, mc.b, mc.c);
    if (d == mc.d) {
      ++passed;
    } else if (++shown <= 3) {
      ADD_FAILURE() << set.gpu << " " << set.format << "->" << set.out << " case " << i << ": simulated "
                    << describe_bits(*dots.out_format, d) << ", GPU " << describe_bits(*dots.out_format, mc.d);
    }
  }
  std::printf("[ replay   ] %s %s -> %s: %zu of %zu bit-exact\n", set.gpu, set.format, set.out, passed, dots.cases.size());
  EXPECT_EQ(passed, dots.cases.size());
}

INSTANTIATE_TEST_SUITE_P(TensorCoreHw, Replay, ::testing::ValuesIn(kSets), [](const auto& param_info) {
  return std::string(param_info.param.gpu) + "_" + param_info.param.format + "_" + param_info.param.out;
});

// The data README says fp8 ran with C = 0; for fp32 output the c file indeed does not explain the
// outputs (C = 0 replays all of them above), which is why the reader ignores it there.
TEST(Fp8Fp32, MeasuredWithCZeroNotTheCFile) {
  for (const char* fmt : {"e4m3", "e5m2"}) {
    const MeasuredDots dots = read_measured_dots(kData, "H100", fmt, "fp32");
    const auto row = *spec::find_datapath(spec::Arch::sm90, *dots.in_format, *dots.in_format, spec::fp32);
    std::size_t with_c = 0;
    for (const MeasuredCase& mc : dots.cases) with_c += dot(row, mc.a, mc.b, mc.c_file_fp32) == mc.d;
    std::printf("[ fp8->f32 ] %s with C from the c file: %zu of %zu\n", fmt, with_c, dots.cases.size());
    EXPECT_LT(with_c, dots.cases.size() / 2);
  }
}

// ---- H100 fp8 -> fp16: hypotheses ------------------------------------------------------------

struct Inputs {
  std::vector<std::uint32_t> a, b;
};

Inputs interleave(const MeasuredCase& mc) {  // even products first, then odd: two 16-vectors
  Inputs in;
  for (std::size_t start : {0u, 1u})
    for (std::size_t k = start; k < mc.a.size(); k += 2) {
      in.a.push_back(mc.a[k]);
      in.b.push_back(mc.b[k]);
    }
  return in;
}

spec::DatapathSpec variant(const spec::DatapathSpec& base, const spec::FormatSpec& out, int n, int neab, int result_bits,
                           spec::RoundingMode mode) {
  spec::DatapathSpec s = base;
  s.out_format = &out;
  s.block_size = n;
  s.neab = neab;
  s.result_fraction_bits = result_bits;
  s.rounding = mode;
  return s;
}

constexpr auto RNE = spec::RoundingMode::nearest_even;
constexpr auto RZ = spec::RoundingMode::toward_zero;

std::uint32_t fp32_to_fp16(std::uint32_t x, spec::RoundingMode m) { return spec::convert_from_fp32(spec::fp16, x, m); }

struct Hypothesis {
  std::string name;
  std::function<std::uint32_t(const spec::DatapathSpec& fp16_row, const MeasuredCase&)> run;
};

std::vector<Hypothesis> hypotheses() {
  std::vector<Hypothesis> h;
  auto add = [&](std::string name, auto fn) { h.push_back({std::move(name), fn}); };
  // H0: the published parameter set as it stands (n = 32, F = 13, one RNE rounding to fp16).
  add("H0 published: one block of 32, F=13, RNE to fp16, C = 0", [](const spec::DatapathSpec& s, const MeasuredCase& mc) {
    return dot(s, mc.a, mc.b, 0u);
  });
  for (bool use_c : {false, true})
  for (int neab : {-10, 0, 2}) {
    const std::string f = "F=" + std::to_string(23 + neab) + (use_c ? ", C from file" : ", C=0");
    // fp16 paths see C converted fp32 -> fp16 (RNE, as the drivers did); fp32 paths see it as is.
    auto c16 = [use_c](const MeasuredCase& mc) { return use_c ? fp32_to_fp16(mc.c_file_fp32, RNE) : 0u; };
    auto c32 = [use_c](const MeasuredCase& mc) { return use_c ? mc.c_file_fp32 : 0u; };
    add("one block of 32, " + f + ", RNE to fp16", [=](const spec::DatapathSpec& s, const MeasuredCase& mc) {
      return dot(variant(s, spec::fp16, 32, neab, 10, RNE), mc.a, mc.b, c16(mc));
    });
    add("two sequential blocks of 16, " + f + ", fp16 RNE between", [=](const spec::DatapathSpec& s, const MeasuredCase& mc) {
      return dot(variant(s, spec::fp16, 16, neab, 10, RNE), mc.a, mc.b, c16(mc));
    });
    add("two interleaved blocks of 16, " + f + ", fp16 RNE between", [=](const spec::DatapathSpec& s, const MeasuredCase& mc) {
      const Inputs in = interleave(mc);
      return dot(variant(s, spec::fp16, 16, neab, 10, RNE), in.a, in.b, c16(mc));
    });
    for (int rbits : {13, 23}) {
      for (auto cvt : {RNE, RZ}) {
        const std::string tail = std::string(", fp32 RZ with ") + std::to_string(rbits) + " fraction bits, then cvt." +
                                 (cvt == RNE ? "rn" : "rz") + " to fp16";
        add("one block of 32, " + f + tail, [=](const spec::DatapathSpec& s, const MeasuredCase& mc) {
          return fp32_to_fp16(dot(variant(s, spec::fp32, 32, neab, rbits, RZ), mc.a, mc.b, c32(mc)), cvt);
        });
        add("two sequential blocks of 16, " + f + ", fp32 c between" + tail, [=](const spec::DatapathSpec& s, const MeasuredCase& mc) {
          return fp32_to_fp16(dot(variant(s, spec::fp32, 16, neab, rbits, RZ), mc.a, mc.b, c32(mc)), cvt);
        });
        add("two interleaved blocks of 16, " + f + ", fp32 c between" + tail, [=](const spec::DatapathSpec& s, const MeasuredCase& mc) {
          const Inputs in = interleave(mc);
          return fp32_to_fp16(dot(variant(s, spec::fp32, 16, neab, rbits, RZ), in.a, in.b, c32(mc)), cvt);
        });
      }
    }
  }
  // C from the c file (the README says C = 0 for fp8; test that it really was).
  add("H0 with C = the c file converted to fp16 (RNE), as the reader and verify-dots do", [](const spec::DatapathSpec& s, const MeasuredCase& mc) {
    EXPECT_EQ(mc.c, fp32_to_fp16(mc.c_file_fp32, RNE));
    return dot(s, mc.a, mc.b, mc.c);
  });
  add("fp32 path (32, F=13, 13 bits RZ) with C = the c file, then cvt.rn to fp16", [](const spec::DatapathSpec& s, const MeasuredCase& mc) {
    return fp32_to_fp16(dot(variant(s, spec::fp32, 32, -10, 13, RZ), mc.a, mc.b, mc.c_file_fp32), RNE);
  });
  return h;
}

// Best rate found so far (per mille, over both fp8 formats); update when a better hypothesis
// lands, never lower it without a documented reason (docs/datapath.md).
constexpr int kBestRatePerMilleFloor = 647;  // "one block of 32, F=23, C from file, RNE to fp16"

TEST(Fp8ToFp16OpenQuestion, HypothesisMatchRates) {
  struct Data {
    MeasuredDots dots;
    spec::DatapathSpec row;
  };
  std::vector<Data> data;
  for (const char* fmt : {"e4m3", "e5m2"}) {
    MeasuredDots dots = read_measured_dots(kData, "H100", fmt, "fp16");
    const auto row = spec::find_datapath(spec::Arch::sm90, *dots.in_format, *dots.in_format, spec::fp16);
    ASSERT_TRUE(row.has_value());
    data.push_back({std::move(dots), *row});
  }
  int best = -1;
  std::string best_name;
  for (const Hypothesis& h : hypotheses()) {
    std::size_t hits[2] = {0, 0}, total = 0;
    for (std::size_t f = 0; f < data.size(); ++f) {
      for (const MeasuredCase& mc : data[f].dots.cases) hits[f] += h.run(data[f].row, mc) == mc.d;
      total += data[f].dots.cases.size();
    }
    const int per_mille = static_cast<int>((hits[0] + hits[1]) * 1000 / total);
    std::printf("[ fp8->f16 ] %5.1f%% (e4m3 %4zu, e5m2 %4zu of 2500)  %s\n", static_cast<double>(hits[0] + hits[1]) * 100.0 / static_cast<double>(total),
                hits[0], hits[1], h.name.c_str());
    if (per_mille > best) {
      best = per_mille;
      best_name = h.name;
    }
  }
  std::printf("[ fp8->f16 ] best: %d per mille: %s\n", best, best_name.c_str());
  EXPECT_GE(best, kBestRatePerMilleFloor);
}

// ---- Reader errors -------------------------------------------------------------------------------

TEST(MeasuredDotsReader, MissingFolderAndFileAreClearErrors) {
  EXPECT_THROW(read_measured_dots(kData, "H200", "fp16", "fp32"), MeasuredDotsError);
  EXPECT_THROW(read_measured_dots(kData, "A100", "bf16", "fp16"), MeasuredDotsError);  // no d_A100_fp16 for bf16
  EXPECT_THROW(read_measured_dots(kData, "B200", "fp16", "fp32"), std::invalid_argument);
  EXPECT_THROW(read_measured_dots(kData, "A100", "fp64", "fp32"), std::invalid_argument);
  try {
    read_measured_dots(kData, "A100", "bf16", "fp16");
  } catch (const MeasuredDotsError& e) {
    EXPECT_NE(std::string(e.what()).find("d_A100_fp16.txt"), std::string::npos) << e.what();
  }
}

TEST(MeasuredDotsReader, MalformedLinesNameFileAndLine) {
  const auto dir = std::filesystem::temp_directory_path() / ("twofour-measured-" + std::to_string(::getpid()));
  const auto folder = dir / "A100" / "tf32";
  std::filesystem::create_directories(folder);
  auto write = [&](const char* name, const std::string& text) { std::ofstream(folder / name) << text; };
  write("a_A100_tf32.txt", "3f800000 3f800000 3f800000 3f800000\n3f800000 3f800000 3f800000\n");
  write("b_A100_tf32.txt", "3f800000 3f800000 3f800000 3f800000\n3f800000 3f800000 3f800000 3f800000\n");
  const std::string one = "00111111100000000000000000000000\n";
  write("c_A100_fp32.txt", one + one);
  write("d_A100_fp32.txt", one + one);
  try {
    read_measured_dots(dir, "A100", "tf32", "fp32");
    ADD_FAILURE() << "no error for a short line";
  } catch (const MeasuredDotsError& e) {
    EXPECT_NE(std::string(e.what()).find("a_A100_tf32.txt:2"), std::string::npos) << e.what();
  }
  write("a_A100_tf32.txt", "3f800000 3f800000 3f800000 3f800000\n3f800000 3f800000 3f80000g 3f800000\n");
  EXPECT_THROW(read_measured_dots(dir, "A100", "tf32", "fp32"), MeasuredDotsError);
  write("a_A100_tf32.txt", "3f800000 3f800000 3f800000 3f800000\n");
  EXPECT_THROW(read_measured_dots(dir, "A100", "tf32", "fp32"), MeasuredDotsError);  // line counts differ
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace twofour::sim
