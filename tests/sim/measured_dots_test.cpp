// Replays every GPU-measured dot product in tests/data/tensor-core-hw (A100, A2, Ada, L40S, H100,
// B200, measured by Khattak & Mikaitis, arXiv 2512.07004) through the datapath of that GPU, bit for
// bit. Oracle: the GPU itself. The fp8 cases other than H100's fp32 output ran the warp-level
// mma.sync m16n8k32, native on sm_89 and lowered by ptxas on sm_90 and sm_100 (fp8_lowering.hpp);
// they replay through that instruction.
#include "support/paths.hpp"
#include "twofour/sim/blockfma.hpp"
#include "twofour/sim/describe.hpp"
#include "twofour/sim/fp8_lowering.hpp"
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/measured_dots.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace twofour::sim {
namespace {

const std::filesystem::path kData = std::filesystem::path(twofour::testing::test_data_dir()) / "tensor-core-hw";

struct Set {
  const char* gpu;
  const char* format;
  const char* out;
  std::size_t k;
};

// Every (GPU, format, output) in the data, with its K (data README); DataFolder.EverySetIsListed
// checks that nothing in the folder is left out.
constexpr Set kSets[] = {
    {"A100", "fp16", "fp32", 8}, {"A100", "fp16", "fp16", 8}, {"A100", "bf16", "fp32", 8},
    {"A100", "tf32", "fp32", 4},
    {"A2", "fp16", "fp32", 8},   {"A2", "fp16", "fp16", 8},   {"A2", "bf16", "fp32", 8},
    {"A2", "tf32", "fp32", 4},
    {"Ada", "fp16", "fp32", 8},  {"Ada", "fp16", "fp16", 8},  {"Ada", "bf16", "fp32", 8},
    {"Ada", "tf32", "fp32", 4},  {"Ada", "e4m3", "fp32", 32}, {"Ada", "e5m2", "fp32", 32},
    {"Ada", "e4m3", "fp16", 32}, {"Ada", "e5m2", "fp16", 32},
    {"L40S", "fp16", "fp32", 8}, {"L40S", "fp16", "fp16", 8}, {"L40S", "bf16", "fp32", 8},
    {"L40S", "tf32", "fp32", 4}, {"L40S", "e4m3", "fp32", 32}, {"L40S", "e5m2", "fp32", 32},
    {"H100", "fp16", "fp32", 16}, {"H100", "fp16", "fp16", 16}, {"H100", "bf16", "fp32", 16},
    {"H100", "tf32", "fp32", 4}, {"H100", "e4m3", "fp32", 32}, {"H100", "e5m2", "fp32", 32},
    {"H100", "e4m3", "fp16", 32}, {"H100", "e5m2", "fp16", 32},
    {"B200", "fp16", "fp32", 16}, {"B200", "fp16", "fp16", 16}, {"B200", "bf16", "fp32", 16},
    {"B200", "tf32", "fp32", 4}, {"B200", "e4m3", "fp32", 32}, {"B200", "e5m2", "fp32", 32},
    {"B200", "e4m3", "fp16", 32}, {"B200", "e5m2", "fp16", 32},
};

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

class Replay : public ::testing::TestWithParam<Set> {};

TEST_P(Replay, EveryCaseBitExact) {
  const Set set = GetParam();
  const MeasuredDots dots = read_measured_dots(kData, set.gpu, set.format, set.out);
  ASSERT_EQ(dots.cases.size(), 2500u);
  std::size_t passed = 0, shown = 0;
  for (std::size_t i = 0; i < dots.cases.size(); ++i) {
    const MeasuredCase& mc = dots.cases[i];
    ASSERT_EQ(mc.a.size(), set.k);
    const std::uint32_t d = simulate_case(dots, mc);
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

// Every d_GPU_OUT.txt under tests/data/tensor-core-hw is one of kSets, so a data set added to the
// folder cannot go unreplayed.
TEST(DataFolder, EverySetIsListed) {
  std::size_t files = 0;
  for (const auto& gpu_dir : std::filesystem::directory_iterator(kData)) {
    if (!gpu_dir.is_directory()) continue;
    for (const auto& fmt_dir : std::filesystem::directory_iterator(gpu_dir.path())) {
      for (const auto& file : std::filesystem::directory_iterator(fmt_dir.path())) {
        const std::string name = file.path().filename().string();
        if (name.rfind("d_", 0) != 0) continue;
        const std::string gpu = gpu_dir.path().filename().string();
        const std::string fmt = lower(fmt_dir.path().filename().string());
        const std::string out = name.substr(name.size() - 8, 4);  // "fp32" of "..._fp32.txt"
        bool listed = false;
        for (const Set& set : kSets) listed = listed || (set.gpu == gpu && set.format == fmt && set.out == out);
        EXPECT_TRUE(listed) << gpu << "/" << fmt << "/" << name << " is not replayed";
        ++files;
      }
    }
  }
  EXPECT_EQ(files, std::size(kSets));
}

// ---- GPU names ---------------------------------------------------------------------------------

// Measured GPUs have data; the aliases users know resolve to their architecture, marked unmeasured.
TEST(KnownGpus, AliasesResolveAsDocumented) {
  struct Expect {
    const char* name;
    spec::Arch arch;
    bool measured;
  };
  for (const Expect e : {Expect{"A100", spec::Arch::sm80, true}, Expect{"A2", spec::Arch::sm86, true},
                         Expect{"RTX3090", spec::Arch::sm86, false}, Expect{"Ada", spec::Arch::sm89, true},
                         Expect{"L40S", spec::Arch::sm89, true}, Expect{"RTX4090", spec::Arch::sm89, false},
                         Expect{"H100", spec::Arch::sm90, true}, Expect{"H200", spec::Arch::sm90, false},
                         Expect{"B200", spec::Arch::sm100, true}}) {
    const GpuInfo* info = find_gpu(e.name);
    ASSERT_NE(info, nullptr) << e.name;
    EXPECT_EQ(info->arch, e.arch) << e.name;
    EXPECT_EQ(info->measured, e.measured) << e.name;
    EXPECT_EQ(std::filesystem::is_directory(kData / e.name), e.measured) << e.name;
    EXPECT_FALSE(info->note.empty()) << e.name;
  }
  EXPECT_EQ(find_gpu("ada"), find_gpu("ADA"));
  EXPECT_EQ(find_gpu("rtx4090"), find_gpu("RTX4090"));
  EXPECT_EQ(find_gpu("V100"), nullptr);
  EXPECT_EQ(std::size(known_gpus), 9u);
}

// ---- The evidence tags of spec::datapath_rows ----------------------------------------------------

// A row that names GPUs ([V]) reproduces every case of each one's data for its (input, output),
// through the row itself (not through an instruction); an unmeasured row ([I]) says why.
TEST(DatapathRows, VerifiedRowsReplayTheirDataAndInferredRowsSayWhy) {
  std::size_t checked = 0;
  for (const spec::DatapathRow& row : spec::datapath_rows) {
    if (!row.verified()) {
      EXPECT_FALSE(row.note.empty()) << spec::arch_name(row.arch) << " " << row.in->name << " -> " << row.out->name;
      continue;
    }
    std::istringstream gpus{std::string(row.measured_on)};
    for (std::string gpu; gpus >> gpu;) {
      const GpuInfo* info = find_gpu(gpu);
      ASSERT_NE(info, nullptr) << gpu;
      EXPECT_TRUE(info->measured) << gpu;
      EXPECT_EQ(info->arch, row.arch) << gpu;
      const MeasuredDots dots = read_measured_dots(kData, gpu, row.in->name, row.out->name);
      const auto spec = spec::find_datapath(row.arch, *row.in, *row.in, *row.out);
      ASSERT_TRUE(spec.has_value());
      std::size_t passed = 0;
      for (const MeasuredCase& mc : dots.cases) passed += dot(*spec, mc.a, mc.b, mc.c) == mc.d;
      EXPECT_EQ(passed, dots.cases.size()) << gpu << " " << row.in->name << " -> " << row.out->name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 32u);  // 4 A100 + 4 A2 + 2 x 8 Ada/L40S - 2 (no L40S fp8 -> fp16) + 6 H100 + 4 B200
}

// Rows of different architectures that measure alike share one parameter set (one home per fact).
TEST(DatapathRows, SameFamilySharesParameters) {
  const auto params = [](spec::Arch arch, const spec::FormatSpec& in, const spec::FormatSpec& out) {
    const spec::DatapathRow* row = spec::find_datapath_row(arch, in, out);
    return row == nullptr ? nullptr : row->params;
  };
  for (const auto* in : {&spec::fp16, &spec::bf16, &spec::tf32}) {
    EXPECT_EQ(params(spec::Arch::sm86, *in, spec::fp32), params(spec::Arch::sm80, *in, spec::fp32));
    EXPECT_EQ(params(spec::Arch::sm89, *in, spec::fp32), params(spec::Arch::sm80, *in, spec::fp32));
    EXPECT_EQ(params(spec::Arch::sm100, *in, spec::fp32), params(spec::Arch::sm90, *in, spec::fp32));
  }
  EXPECT_EQ(params(spec::Arch::sm100, spec::fp16, spec::fp16), &spec::params::hopper_fp16_fp16);
  EXPECT_EQ(params(spec::Arch::sm89, spec::e4m3, spec::fp16), &spec::params::ada_fp8);
  // sm_86 has no fp8; sm_100's warp-level fp8 is lowered, its native fp8 (tcgen05) not modelled.
  EXPECT_FALSE(spec::find_datapath(spec::Arch::sm86, spec::e4m3, spec::e4m3, spec::fp32).has_value());
  EXPECT_FALSE(spec::find_datapath(spec::Arch::sm100, spec::e4m3, spec::e4m3, spec::fp32).has_value());
}

// The data decides between the two families: each GPU's 16-bit sets under the other family's
// parameters (blocks of 8 and F = 24 against blocks of 16 and F = 25) fall short.
TEST(DatapathRows, TheOtherFamilysParametersDoNotExplainTheData) {
  struct Probe {
    const char* gpu;
    spec::Arch other;
  };
  for (const Probe p : {Probe{"A2", spec::Arch::sm90}, Probe{"Ada", spec::Arch::sm90}, Probe{"L40S", spec::Arch::sm90},
                        Probe{"B200", spec::Arch::sm80}}) {
    for (const char* fmt : {"fp16", "bf16"}) {
      const MeasuredDots dots = read_measured_dots(kData, p.gpu, fmt, "fp32");
      const auto other = *spec::find_datapath(p.other, *dots.in_format, *dots.in_format, spec::fp32);
      std::size_t matched = 0;
      for (const MeasuredCase& mc : dots.cases) matched += dot(other, mc.a, mc.b, mc.c) == mc.d;
      std::printf("[ family   ] %s %s -> fp32 under %s: %zu of %zu\n", p.gpu, fmt,
                  std::string(spec::arch_name(p.other)).c_str(), matched, dots.cases.size());
      EXPECT_LT(matched, dots.cases.size() * 95 / 100) << p.gpu << " " << fmt;
    }
  }
}

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

// ---- H100 fp8 -> fp16: the data pins the lowering down ------------------------------------------

// The same cases under models that differ from the lowering in one respect each: one native fp8
// tensor-core operation (the wgmma-style row, C in the alignment), and the two HMMAs cut as
// consecutive K halves instead of low / high register halves. Both fall well short of the
// lowering's 2,500 of 2,500 per format (Replay above), so the data decides between them.
TEST(Fp8ToFp16, AlternativeModelsDoNotExplainTheData) {
  for (const char* fmt : {"e4m3", "e5m2"}) {
    const MeasuredDots dots = read_measured_dots(kData, "H100", fmt, "fp16");
    ASSERT_NE(dots.instruction, nullptr);
    EXPECT_EQ(lowering_of(*dots.instruction, spec::Arch::sm90), Lowering::fp8_via_fp16_sm90);
    const auto native = spec::find_datapath(spec::Arch::sm90, *dots.in_format, *dots.in_format, spec::fp16);
    const auto fp16_row = spec::find_datapath(spec::Arch::sm90, spec::fp16, spec::fp16, spec::fp16);
    ASSERT_TRUE(native.has_value() && fp16_row.has_value());
    std::size_t lowered = 0, one_native_op = 0, consecutive_halves = 0;
    for (const MeasuredCase& mc : dots.cases) {
      lowered += simulate_case(dots, mc) == mc.d;
      one_native_op += dot(*native, mc.a, mc.b, mc.c) == mc.d;
      std::vector<std::uint32_t> a16, b16;
      for (std::size_t k = 0; k < mc.a.size(); ++k) {
        a16.push_back(fp8_to_fp16(*dots.in_format, mc.a[k]));
        b16.push_back(fp8_to_fp16(*dots.in_format, mc.b[k]));
      }
      // The fp16 row's blocks of 16 over K in order are the consecutive halves, chained.
      const std::uint32_t halves = dot(*fp16_row, a16, b16, 0u);
      consecutive_halves += float_add_rn(spec::fp16, halves, mc.c) == mc.d;
    }
    std::printf("[ fp8->f16 ] %s: lowering %zu, one native fp8 operation %zu, consecutive K halves %zu of %zu\n", fmt,
                lowered, one_native_op, consecutive_halves, dots.cases.size());
    EXPECT_EQ(lowered, dots.cases.size());
    EXPECT_LT(one_native_op, dots.cases.size() * 9 / 10);
    EXPECT_LT(consecutive_halves, dots.cases.size() * 9 / 10);
  }
}

// ---- Ada and B200 fp8: what the data decides -------------------------------------------------------

// Ada (native QMMA): the published Ada parameters (blocks of 16, 13 fraction bits) replay every
// case (Replay above); the same with Hopper's wgmma block of 32 does not.
TEST(Fp8Ada, BlocksOf16NotWgmmas32) {
  for (const char* fmt : {"e4m3", "e5m2"}) {
    const MeasuredDots dots = read_measured_dots(kData, "Ada", fmt, "fp32");
    const auto ada = *spec::find_datapath(spec::Arch::sm89, *dots.in_format, *dots.in_format, spec::fp32);
    const auto wgmma = *spec::find_datapath(spec::Arch::sm90, *dots.in_format, *dots.in_format, spec::fp32);
    ASSERT_EQ(ada.block_size, 16);
    ASSERT_EQ(wgmma.block_size, 32);
    ASSERT_EQ(ada.fraction_bits(), wgmma.fraction_bits());
    std::size_t with_ada = 0, with_32 = 0;
    for (const MeasuredCase& mc : dots.cases) {
      with_ada += dot(ada, mc.a, mc.b, mc.c) == mc.d;
      with_32 += dot(wgmma, mc.a, mc.b, mc.c) == mc.d;
    }
    std::printf("[ Ada fp8  ] %s -> fp32: blocks of 16 %zu, blocks of 32 %zu of %zu\n", fmt, with_ada, with_32,
                dots.cases.size());
    EXPECT_EQ(with_ada, dots.cases.size());
    EXPECT_LT(with_32, dots.cases.size() * 9 / 10);
  }
}

// B200 fp8 ran mma.sync, which ptxas lowers for sm_100 exactly as for sm_90 (docs/isa-findings.md).
// The lowering replays every case (Replay above). Neither a native fp8 operation with the
// published B200 parameters (blocks of 32, neab = 2, C in the alignment, RZ) nor Hopper's wgmma
// row does. The register-half grouping is decided by the fp16-output cases only: with fp32 D the
// consecutive-halves cut also fits every case (fp32 keeps every bit the fp8 products have).
TEST(Fp8B200, LoweredAsOnHopperAndNotANativeFp8Operation) {
  constexpr spec::BlockFmaParams published_b200{32, 2, -133};
  for (const char* fmt : {"e4m3", "e5m2"}) {
    for (const char* out : {"fp32", "fp16"}) {
      const MeasuredDots dots = read_measured_dots(kData, "B200", fmt, out);
      ASSERT_NE(dots.instruction, nullptr);
      EXPECT_EQ(lowering_of(*dots.instruction, spec::Arch::sm100), Lowering::fp8_via_fp16_sm90);
      const spec::DatapathRow published_row{spec::Arch::sm100, dots.in_format, dots.out_format, &published_b200, "", ""};
      const spec::DatapathSpec published = spec::detail::fp_spec(published_row);
      const auto wgmma = *spec::find_datapath(spec::Arch::sm90, *dots.in_format, *dots.in_format, *dots.out_format);
      const auto fp16_row = *spec::find_datapath(spec::Arch::sm100, spec::fp16, spec::fp16, *dots.out_format);
      std::size_t lowered = 0, native_published = 0, native_wgmma = 0, consecutive = 0;
      for (const MeasuredCase& mc : dots.cases) {
        lowered += simulate_case(dots, mc) == mc.d;
        native_published += dot(published, mc.a, mc.b, mc.c) == mc.d;
        native_wgmma += dot(wgmma, mc.a, mc.b, mc.c) == mc.d;
        std::vector<std::uint32_t> a16, b16;
        for (std::size_t k = 0; k < mc.a.size(); ++k) {
          a16.push_back(fp8_to_fp16(*dots.in_format, mc.a[k]));
          b16.push_back(fp8_to_fp16(*dots.in_format, mc.b[k]));
        }
        const std::uint32_t halves = dot(fp16_row, a16, b16, spec::zero_bits(*dots.out_format, false));
        consecutive += float_add_rn(*dots.out_format, halves, mc.c) == mc.d;
      }
      std::printf("[ B200 fp8 ] %s -> %s: lowering %zu, published B200 parameters %zu, wgmma row %zu, consecutive "
                  "K halves %zu of %zu\n",
                  fmt, out, lowered, native_published, native_wgmma, consecutive, dots.cases.size());
      EXPECT_EQ(lowered, dots.cases.size());
      EXPECT_LT(native_published, dots.cases.size() * 9 / 10);
      EXPECT_LT(native_wgmma, dots.cases.size() * 9 / 10);
      if (std::string(out) == "fp16") {
        EXPECT_LT(consecutive, dots.cases.size() * 9 / 10);
      }
    }
  }
}

// ---- Reader errors -------------------------------------------------------------------------------

TEST(MeasuredDotsReader, MissingFolderAndFileAreClearErrors) {
  EXPECT_THROW(read_measured_dots(kData, "H200", "fp16", "fp32"), MeasuredDotsError);
  EXPECT_THROW(read_measured_dots(kData, "A100", "bf16", "fp16"), MeasuredDotsError);  // no d_A100_fp16 for bf16
  EXPECT_THROW(read_measured_dots(kData, "RTX4090", "fp16", "fp32"), MeasuredDotsError);  // known, no data
  EXPECT_THROW(read_measured_dots(kData, "V100", "fp16", "fp32"), std::invalid_argument);
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
