#include "twofour/cuda/instruction_runner.hpp"
#include "twofour/cuda/mma_instructions.cuh"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace twofour::cuda {
namespace {

constexpr int kThreadsPerBlock = 256;

// Per-thread buffer sizes over the rows this runner has wrappers for (the warp-level rows; the
// warpgroup rows run through wgmma_runner.cu), so that 128-register wgmma accumulators do not
// size these kernels' local arrays.
constexpr sim::spec::RegisterLimits warp_row_limits() {
  sim::spec::RegisterLimits l{0, 0, 0, 0};
  for (int row = 0; row < kInstructionRows; ++row) {
    const sim::spec::Instruction& in = sim::spec::instruction_table[static_cast<std::size_t>(row)];
    l.threads = l.threads > in.threads ? l.threads : in.threads;
    l.a = l.a > in.a_registers() ? l.a : in.a_registers();
    l.b = l.b > in.b_registers() ? l.b : in.b_registers();
    l.c = l.c > in.c_registers() ? l.c : in.c_registers();
  }
  return l;
}
constexpr sim::spec::RegisterLimits kLimits = warp_row_limits();
static_assert(kLimits.threads == 32 && kThreadsPerBlock % kLimits.threads == 0, "a block must hold whole instructions");

// Operand geometry of one row, passed by value (the table itself lives on the host).
struct RowShape {
  int threads, a, b, c;
  __host__ __device__ int words() const { return a + b + c + 1; }
};

RowShape shape_of(int row) {
  const sim::spec::Instruction& in = sim::spec::instruction_table[static_cast<std::size_t>(row)];
  return {in.threads, in.a_registers(), in.b_registers(), in.c_registers()};
}

__global__ void instruction_runner_kernel(int row, int selector, RowShape shape, const std::uint32_t* inputs,
                                          std::size_t threads_total, std::uint32_t* d, int* bad) {
  // Whole instructions exit together (a block holds whole instructions and threads_total is a
  // multiple of shape.threads): mma.sync needs every thread of its warp.
  const std::size_t thread = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (thread >= threads_total) return;
  const std::uint32_t* in = inputs + thread * static_cast<std::size_t>(shape.words());
  std::uint32_t a[kLimits.a > 0 ? kLimits.a : 1] = {};
  std::uint32_t b[kLimits.b > 0 ? kLimits.b : 1] = {};
  std::uint32_t c[kLimits.c] = {};
  std::uint32_t out[kLimits.c] = {};
  for (int i = 0; i < shape.a; ++i) a[i] = in[i];
  for (int i = 0; i < shape.b; ++i) b[i] = in[shape.a + i];
  for (int i = 0; i < shape.c; ++i) c[i] = in[shape.a + shape.b + i];
  const std::uint32_t e = in[shape.a + shape.b + shape.c];
  if (!mma_dispatch(row, selector, a, b, c, e, out)) *bad = 1;
  for (int i = 0; i < shape.c; ++i) d[thread * static_cast<std::size_t>(shape.c) + i] = out[i];
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

void check_row(int row) {
  if (row < 0 || row >= kInstructionRows)
    throw std::invalid_argument("instruction row " + std::to_string(row) +
                                " has no warp-level wrapper (warpgroup rows run through run_warpgroup_on_gpu)");
}

}  // namespace

int input_words_per_thread(int row) {
  check_row(row);
  return shape_of(row).words();
}

int d_words_per_thread(int row) {
  check_row(row);
  return shape_of(row).c;
}

void run_instruction_on_gpu(int row, int selector, std::span<const std::uint32_t> inputs, std::span<std::uint32_t> d) {
  check_row(row);
  const sim::spec::Instruction& instr = sim::spec::instruction_table[static_cast<std::size_t>(row)];
  const int selectors = instr.selector_count();
  if (selector < 0 || selector >= (selectors == 0 ? 1 : selectors))
    throw std::invalid_argument("selector " + std::to_string(selector) + " is undefined behaviour for this instruction");
  const RowShape shape = shape_of(row);
  const std::size_t per_case_in = static_cast<std::size_t>(shape.threads) * static_cast<std::size_t>(shape.words());
  const std::size_t per_case_d = static_cast<std::size_t>(shape.threads) * static_cast<std::size_t>(shape.c);
  if (inputs.size() % per_case_in != 0 || d.size() != inputs.size() / per_case_in * per_case_d)
    throw std::invalid_argument("register buffers must hold " + std::to_string(shape.threads) + " threads x " +
                                std::to_string(shape.words()) + " input words per case and " +
                                std::to_string(shape.c) + " D words per thread");
  const std::size_t cases = inputs.size() / per_case_in;
  if (cases == 0) return;

  int devices = 0;
  check(cudaGetDeviceCount(&devices), "no usable GPU");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cannot query the GPU");
  const int cc = prop.major * 10 + prop.minor;
  const int needs = static_cast<int>(instr.min_arch);
  if (cc < needs)
    throw std::runtime_error("the GPU is sm_" + std::to_string(cc) + "; this instruction needs sm_" + std::to_string(needs));

  std::uint32_t* d_in = nullptr;
  std::uint32_t* d_out = nullptr;
  int* d_bad = nullptr;
  try {
    check(cudaMalloc(&d_in, inputs.size_bytes()), "cudaMalloc");
    check(cudaMalloc(&d_out, d.size_bytes()), "cudaMalloc");
    check(cudaMalloc(&d_bad, sizeof(int)), "cudaMalloc");
    check(cudaMemcpy(d_in, inputs.data(), inputs.size_bytes(), cudaMemcpyHostToDevice), "copy to GPU");
    check(cudaMemset(d_bad, 0, sizeof(int)), "cudaMemset");
    const std::size_t threads_total = cases * static_cast<std::size_t>(shape.threads);
    const unsigned blocks = static_cast<unsigned>((threads_total + kThreadsPerBlock - 1) / kThreadsPerBlock);
    instruction_runner_kernel<<<blocks, kThreadsPerBlock>>>(row, selector, shape, d_in, threads_total, d_out, d_bad);
    check(cudaGetLastError(), "kernel launch");
    check(cudaDeviceSynchronize(), "kernel execution");
    int bad = 0;
    check(cudaMemcpy(&bad, d_bad, sizeof(int), cudaMemcpyDeviceToHost), "copy from GPU");
    check(cudaMemcpy(d.data(), d_out, d.size_bytes(), cudaMemcpyDeviceToHost), "copy from GPU");
    if (bad != 0) throw std::runtime_error("the kernel has no wrapper for this (row, selector)");
  } catch (...) {
    cudaFree(d_in);
    cudaFree(d_out);
    cudaFree(d_bad);
    throw;
  }
  cudaFree(d_in);
  cudaFree(d_out);
  cudaFree(d_bad);
}

}  // namespace twofour::cuda
