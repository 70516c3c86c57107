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

// A GPU that `verify-dots` knows, by the name its data folder has. Measured GPUs have data in
// tests/data/tensor-core-hw; the others are aliases by architecture, so simulating them with that
// architecture's datapath is inferred [I], not verified (`note` says from what).
struct GpuInfo {
  std::string_view name;  // folder and file spelling: "A100", "Ada", "L40S", "RTX4090"
  spec::Arch arch;
  bool measured;
  std::string_view note;
};

inline constexpr GpuInfo known_gpus[] = {
    {"A100", spec::Arch::sm80, true, "GA100"},
    {"A2", spec::Arch::sm86, true, "GA107"},
    {"RTX3090", spec::Arch::sm86, false, "GA102, compute capability 8.6 like the A2; not measured"},
    {"Ada", spec::Arch::sm89, true, "an Ada-generation RTX GPU (K&M's model: RTX 1000 Ada)"},
    {"L40S", spec::Arch::sm89, true, "AD102"},
    {"RTX4090", spec::Arch::sm89, false, "AD102, compute capability 8.9 like Ada and L40S; not measured"},
    {"H100", spec::Arch::sm90, true, "GH100"},
    {"H200", spec::Arch::sm90, false, "GH100 with more memory, compute capability 9.0; not measured"},
    {"B200", spec::Arch::sm100, true, "GB100"},
};

// The known GPU of that name, in any letter case; nullptr when unknown.
const GpuInfo* find_gpu(std::string_view name);

// "A100, A2, RTX3090, ..." for messages.
std::string known_gpu_names();

struct MeasuredDots {
  std::string gpu;                       // the known name: "A100", "Ada", "B200", ...
  spec::Arch arch;                       // known_gpus' architecture
  const spec::FormatSpec* in_format;     // fp16, bf16, tf32, e4m3, e5m2
  const spec::FormatSpec* out_format;    // fp32 or fp16
  bool c_forced_zero;                    // fp8 -> fp32 on sm_90: measured with wgmma and C = 0
  // The warp-level instruction the cases ran, for the fp8 cases measured with mma.sync m16n8k32
  // (every fp8 set except sm_90's fp32 output, which is wgmma): native QMMA on sm_89, lowered to
  // two fp16 HMMAs and an FADD / HADD2 on sm_90 and sm_100 (fp8_lowering.hpp). nullptr: the cases
  // are the datapath row itself (the wmma drivers of 16/32-bit inputs, and wgmma).
  const spec::Instruction* instruction = nullptr;
  std::filesystem::path folder;
  std::vector<MeasuredCase> cases;
};

// GPU name -> architecture (known_gpus); nullopt when unknown.
std::optional<spec::Arch> gpu_arch(std::string_view gpu);

// Reads every case of DIR/GPU/FORMAT (GPU spelled as in known_gpus). `format` is fp16|bf16|tf32|e4m3|e5m2 in any case; `out` fp32|fp16.
// C as the GPU saw it: fp32 output uses the c file; fp16 output converts it float32 -> fp16 with
// round-to-nearest-even (the drivers did that on the GPU); fp8 inputs with fp32 output use C = 0
// on sm_90 (data README: wgmma). The other fp8 sets ran mma.sync with C from the c file
// (__float2half(c) for fp16 output; docs/datapath.md).
// Throws std::invalid_argument for an unknown gpu/format/out, MeasuredDotsError for a missing or
// malformed file (wrong word count, bad digits, unequal line counts, an input that is not exactly
// representable in the input format).
MeasuredDots read_measured_dots(const std::filesystem::path& dir, std::string_view gpu, std::string_view format,
                                std::string_view out);

// The simulator's D for one case: through `dots.instruction` (InstructionDatapath, lowering
// included) when set, else through the datapath row of (arch, format, format, out).
std::uint32_t simulate_case(const MeasuredDots& dots, const MeasuredCase& mc);

}  // namespace twofour::sim
