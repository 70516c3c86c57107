#include "twofour/cuda/instruction_runner.hpp"
#include "twofour/cuda/mma_instructions.cuh"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace twofour::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;

__global__ void instruction_runner_kernel(int row, int selector, const GpuLaneRegisters* lanes, std::size_t cases,
                                          std::uint32_t* d, int* bad) {
  const std::size_t warp = blockIdx.x * static_cast<std::size_t>(kWarpsPerBlock) + threadIdx.x / 32;
  if (warp >= cases) return;  // whole warps exit together: mma.sync needs all 32 lanes
  const GpuLaneRegisters in = lanes[warp * 32 + threadIdx.x % 32];
  std::uint32_t out[4] = {0, 0, 0, 0};
  if (!mma_dispatch(row, selector, in.a, in.b, in.c, in.e, out)) *bad = 1;
  for (int i = 0; i < 4; ++i) d[(warp * 32 + threadIdx.x % 32) * 4 + i] = out[i];
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

}  // namespace

void run_instruction_on_gpu(int row, int selector, std::span<const GpuLaneRegisters> lanes,
                            std::span<std::array<std::uint32_t, 4>> d) {
  if (row < 0 || row >= kInstructionRows) throw std::invalid_argument("instruction row " + std::to_string(row) + " out of range");
  const int selectors = sim::spec::instruction_table[static_cast<std::size_t>(row)].selector_count();
  if (selector < 0 || selector >= (selectors == 0 ? 1 : selectors))
    throw std::invalid_argument("selector " + std::to_string(selector) + " is undefined behaviour for this instruction");
  if (lanes.size() % 32 != 0 || d.size() != lanes.size())
    throw std::invalid_argument("register buffers must hold 32 lanes per case, with one D entry per lane");
  const std::size_t cases = lanes.size() / 32;
  if (cases == 0) return;

  int devices = 0;
  check(cudaGetDeviceCount(&devices), "no usable GPU");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cannot query the GPU");
  const int cc = prop.major * 10 + prop.minor;
  const int needs = static_cast<int>(sim::spec::instruction_table[static_cast<std::size_t>(row)].min_arch);
  if (cc < needs)
    throw std::runtime_error("the GPU is sm_" + std::to_string(cc) + "; this instruction needs sm_" + std::to_string(needs));

  GpuLaneRegisters* d_lanes = nullptr;
  std::uint32_t* d_out = nullptr;
  int* d_bad = nullptr;
  const std::size_t out_bytes = lanes.size() * 4 * sizeof(std::uint32_t);
  try {
    check(cudaMalloc(&d_lanes, lanes.size_bytes()), "cudaMalloc");
    check(cudaMalloc(&d_out, out_bytes), "cudaMalloc");
    check(cudaMalloc(&d_bad, sizeof(int)), "cudaMalloc");
    check(cudaMemcpy(d_lanes, lanes.data(), lanes.size_bytes(), cudaMemcpyHostToDevice), "copy to GPU");
    check(cudaMemset(d_bad, 0, sizeof(int)), "cudaMemset");
    const unsigned blocks = static_cast<unsigned>((cases + kWarpsPerBlock - 1) / kWarpsPerBlock);
    instruction_runner_kernel<<<blocks, 32 * kWarpsPerBlock>>>(row, selector, d_lanes, cases, d_out, d_bad);
    check(cudaGetLastError(), "kernel launch");
    check(cudaDeviceSynchronize(), "kernel execution");
    int bad = 0;
    check(cudaMemcpy(&bad, d_bad, sizeof(int), cudaMemcpyDeviceToHost), "copy from GPU");
    check(cudaMemcpy(d.data(), d_out, out_bytes, cudaMemcpyDeviceToHost), "copy from GPU");
    if (bad != 0) throw std::runtime_error("the kernel has no wrapper for this (row, selector)");
  } catch (...) {
    cudaFree(d_lanes);
    cudaFree(d_out);
    cudaFree(d_bad);
    throw;
  }
  cudaFree(d_lanes);
  cudaFree(d_out);
  cudaFree(d_bad);
}

}  // namespace twofour::cuda
