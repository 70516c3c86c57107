#include "validate/gpu.hpp"

#include "twofour/sim/spec/registry.hpp"

#ifdef TWOFOUR_HAVE_CUDA
#include "twofour/cuda/device.hpp"
#include "twofour/cuda/instruction_runner.hpp"
#if __has_include("twofour/cuda/gemm.hpp")
#include "twofour/cuda/gemm.hpp"
#define TWOFOUR_VALIDATE_HAVE_GPU_GEMM 1
#endif
#endif

#include <stdexcept>
#include <vector>

namespace twofour::validate {

std::optional<sim::spec::Arch> arch_for_compute_capability(int cc) {
  // 8.7/8.8 (Jetson Orin and later GA10x parts) and 10.3 (B300) are taken as their family's
  // measured architecture [I]; 11.x and 12.x (Thor, RTX 50) have no simulator model.
  if (cc == 80) return sim::spec::Arch::sm80;
  if (cc >= 86 && cc <= 88) return sim::spec::Arch::sm86;
  if (cc == 89) return sim::spec::Arch::sm89;
  if (cc == 90) return sim::spec::Arch::sm90;
  if (cc >= 100 && cc <= 103) return sim::spec::Arch::sm100;
  return std::nullopt;
}

#ifdef TWOFOUR_HAVE_CUDA
namespace {

int row_index(const sim::spec::Instruction& instr) {
  for (std::size_t i = 0; i < std::size(sim::spec::instruction_table); ++i)
    if (&sim::spec::instruction_table[i] == &instr) return static_cast<int>(i);
  throw std::invalid_argument(std::string(instr.name) + " is not a row of the instruction table");
}

class CudaGpu final : public Gpu {
 public:
  CudaGpu(std::string name, sim::spec::Arch arch) : name_(std::move(name)), arch_(arch) {}
  std::string name() const override { return name_; }
  sim::spec::Arch arch() const override { return arch_; }

  void run(const sim::spec::Instruction& instr, int selector, std::span<const sim::LaneRegisters> lanes,
           std::span<std::array<std::uint32_t, 4>> d) override {
    // sim::LaneRegisters and cuda::GpuLaneRegisters hold the same words in the same order.
    std::vector<cuda::GpuLaneRegisters> gpu(lanes.size());
    for (std::size_t i = 0; i < lanes.size(); ++i) {
      for (int r = 0; r < 4; ++r) {
        gpu[i].a[r] = lanes[i].a[static_cast<std::size_t>(r)];
        gpu[i].b[r] = lanes[i].b[static_cast<std::size_t>(r)];
        gpu[i].c[r] = lanes[i].c[static_cast<std::size_t>(r)];
      }
      gpu[i].e = lanes[i].e;
    }
    cuda::run_instruction_on_gpu(row_index(instr), selector, gpu, d);
  }

  std::optional<sim::Tile> run_gemm(const sim::spec::Instruction& instr, const sim::GemmOperands& operands) override {
#ifdef TWOFOUR_VALIDATE_HAVE_GPU_GEMM
    if (!cuda::gemm_row_supported(instr)) return std::nullopt;
    return cuda::run_gemm_on_gpu(instr, operands);
#else
    (void)instr;
    (void)operands;
    return std::nullopt;
#endif
  }

 private:
  std::string name_;
  sim::spec::Arch arch_;
};

}  // namespace
#endif

std::unique_ptr<Gpu> open_cuda_gpu(std::string& why_not) {
#ifdef TWOFOUR_HAVE_CUDA
  const cuda::DeviceInfo info = cuda::query_devices();
  if (info.count == 0) {
    why_not = "no GPU available: " + info.reason;
    return nullptr;
  }
  const auto arch = arch_for_compute_capability(info.compute_capability);
  if (!arch) {
    why_not = "GPU " + info.name + " is sm_" + std::to_string(info.compute_capability) + ", which the simulator does not model";
    return nullptr;
  }
  return std::make_unique<CudaGpu>(info.name, *arch);
#else
  why_not = "no GPU available: twofour was built without the CUDA backend";
  return nullptr;
#endif
}

}  // namespace twofour::validate
