#pragma once
// Reader for GPU-measured tensor-core dot products in the layout of tests/data/tensor-core-hw
// (Khattak & Mikaitis `model_validation`, see that folder's README.md):
//   DIR/GPU/FORMAT/a_GPU_FORMAT.txt, b_GPU_FORMAT.txt  K hex words per line (float32 bits of
//                                                       the exact input value)
//   DIR/GPU/FORMAT/c_GPU_fp32.txt, d_GPU_OUT.txt        one 32-digit binary float32 word per line
// FORMAT folders are fp16, bf16, tf32, E4M3, E5M2 (fp8 upper case); OUT is fp32 or fp16 (fp16
// output written as the float32 bits of the fp16 value).
#include "twofour/sim/spec/datapath.hpp"
#include "twofour/sim/spec/instruction.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::sim {

// A missing or malformed file: the message names the file and, where it applies, the line.
struct MeasuredDotsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct MeasuredCase {
  std::vector<std::uint32_t> a, b;  // input-format bit patterns
  std::uint32_t c = 0;              // output-format bits, as the GPU saw C (see read_measured_dots)
  std::uint32_t d = 0;              // output-format bits the GPU returned
  std::uint32_t c_file_fp32 = 0;    // the c file's word (float32 bits), for hypotheses
};

struct MeasuredDots {
  std::string gpu;                       // "A100", "H100", "H200"
  spec::Arch arch;                       // A100 -> sm_80, H100/H200 -> sm_90
  const spec::FormatSpec* in_format;     // fp16, bf16, tf32, e4m3, e5m2
  const spec::FormatSpec* out_format;    // fp32 or fp16
  bool c_forced_zero;                    // fp8 -> fp32 on H100: measured with wgmma and C = 0
  // The warp-level instruction the cases ran, where that is not one tensor-core operation with the
  // data's formats: fp8 -> fp16 on H100/H200 ran mma.sync m16n8k32 .f16, which ptxas lowers to
  // two fp16 HMMAs and an HADD2 (fp8_lowering.hpp). nullptr: the cases are the datapath row itself.
  const spec::Instruction* instruction = nullptr;
  std::filesystem::path folder;
  std::vector<MeasuredCase> cases;
};

// GPU name -> architecture (A100: sm_80; H100, H200: sm_90); nullopt when unknown.
std::optional<spec::Arch> gpu_arch(std::string_view gpu);

// Reads every case. `format` is fp16|bf16|tf32|e4m3|e5m2 in any case; `out` fp32|fp16.
// C as the GPU saw it: fp32 output uses the c file; fp16 output converts it float32 -> fp16 with
// round-to-nearest-even (the drivers did that on the GPU); fp8 inputs with fp32 output use C = 0
// (data README: wgmma). fp8 with fp16 output used the c file: its driver runs mma.sync with
// C = __float2half(c) (docs/datapath.md).
// Throws std::invalid_argument for an unknown gpu/format/out, MeasuredDotsError for a missing or
// malformed file (wrong word count, bad digits, unequal line counts, an input that is not exactly
// representable in the input format).
MeasuredDots read_measured_dots(const std::filesystem::path& dir, std::string_view gpu, std::string_view format,
                                std::string_view out);

// The simulator's D for one case: through `dots.instruction` (InstructionDatapath, lowering
// included) when set, else through the datapath row of (arch, format, format, out).
std::uint32_t simulate_case(const MeasuredDots& dots, const MeasuredCase& mc);

}  // namespace twofour::sim
