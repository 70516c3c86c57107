// The warpgroup runner's kernels and host side. This file is also compiled for sm_90a
// (cuda/CMakeLists.txt): wgmma exists only there, and only that pass emits the instructions; the
// other architectures' passes compile kernels that report "no wgmma" instead.
#include "twofour/cuda/wgmma_instructions.cuh"
#include "twofour/cuda/wgmma_runner.hpp"

#include <cuda_runtime.h>

#include <array>
#include <stdexcept>
#include <string>
#include <utility>

namespace twofour::cuda {
namespace {

constexpr int kThreads = 128;
constexpr std::size_t kMaxSharedBytes = 48 * 1024;  // the default dynamic shared-memory limit

// Kernels exist for N = 8 of every warpgroup row kind and for N = 256 of f16 -> f32 (the largest
// accumulator, 128 registers per thread): a subset that keeps the sm_90a compile time reasonable.
constexpr bool has_kernel(std::size_t row) {
  const sim::spec::Instruction& in = sim::spec::instruction_table[row];
  return in.threads == kThreads &&
         (in.n == 8 || (in.n == 256 && *in.a == sim::spec::fp16 && *in.d == sim::spec::fp32));
}

// Register counts as plain constants: device code cannot read the host-side table itself.
template <int Row>
inline constexpr int kARegisters = sim::spec::instruction_table[static_cast<std::size_t>(Row)].a_registers();
template <int Row>
inline constexpr int kCRegisters = sim::spec::instruction_table[static_cast<std::size_t>(Row)].c_registers();

template <int Row, int Selector>
__global__ void wgmma_runner_kernel(const std::uint32_t* inputs, const std::uint8_t* shared, std::uint32_t shared_bytes,
                                    const std::uint64_t* descriptors, std::uint32_t* d, int* bad) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr int na = kARegisters<Row>, nc = kCRegisters<Row>;
  extern __shared__ __align__(1024) std::uint8_t image[];
  const std::size_t c = blockIdx.x;
  const int t = static_cast<int>(threadIdx.x);
  for (std::uint32_t i = static_cast<std::uint32_t>(t); i < shared_bytes; i += kThreads)
    image[i] = shared[c * shared_bytes + i];
  // The swizzle acts on address bits: the image must start on a 1024-byte boundary.
  const auto base = static_cast<std::uint32_t>(__cvta_generic_to_shared(image));
  if (t == 0 && (base & 1023u) != 0) *bad = 2;
  // Generic-proxy stores must be visible to the asynchronous proxy that wgmma reads through.
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  __syncthreads();
  const std::uint32_t* w = inputs + (c * kThreads + static_cast<std::size_t>(t)) * (na + nc + 1);
  std::uint32_t a[4] = {0, 0, 0, 0};
  std::uint32_t acc[nc];
  for (int i = 0; i < na; ++i) a[i] = w[i];
  for (int i = 0; i < nc; ++i) acc[i] = w[na + i];
  const std::uint32_t e = w[na + nc];
  const std::uint64_t desc_a = descriptors[2 * c] + (base >> 4), desc_b = descriptors[2 * c + 1] + (base >> 4);
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
  WgmmaRow<Row>::template run<Selector>(a, desc_a, desc_b, e, 1, acc);
  asm volatile("wgmma.commit_group.sync.aligned;\nwgmma.wait_group.sync.aligned 0;\n" ::: "memory");
  for (int i = 0; i < nc; ++i) d[(c * kThreads + static_cast<std::size_t>(t)) * nc + i] = acc[i];
#else
  (void)inputs, (void)shared, (void)shared_bytes, (void)descriptors, (void)d;
  if (threadIdx.x == 0) *bad = 1;
#endif
}

using Launch = void (*)(int selector, unsigned cases, std::size_t shared_bytes, const std::uint32_t*, const std::uint8_t*,
                        const std::uint64_t*, std::uint32_t*, int*);

template <int Row>
void launch(int selector, unsigned cases, std::size_t shared_bytes, const std::uint32_t* in, const std::uint8_t* sh,
            const std::uint64_t* desc, std::uint32_t* d, int* bad) {
  const auto bytes = static_cast<std::uint32_t>(shared_bytes);
  if (selector == 0) wgmma_runner_kernel<Row, 0><<<cases, kThreads, shared_bytes>>>(in, sh, bytes, desc, d, bad);
  if constexpr (WgmmaRow<Row>::selectors > 1)
    if (selector == 1) wgmma_runner_kernel<Row, 1><<<cases, kThreads, shared_bytes>>>(in, sh, bytes, desc, d, bad);
}

template <std::size_t Row>
constexpr Launch launcher() {
  if constexpr (has_kernel(Row)) return &launch<static_cast<int>(Row)>;
  else return nullptr;
}

template <std::size_t... Rows>
constexpr std::array<Launch, sizeof...(Rows)> launchers(std::index_sequence<Rows...>) {
  return {launcher<Rows>()...};
}

constexpr std::size_t kRows = sim::spec::instruction_table.size();
const std::array<Launch, kRows> kLaunchers = launchers(std::make_index_sequence<kRows>{});

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

const sim::spec::Instruction& warpgroup_row(int row) {
  if (row < 0 || static_cast<std::size_t>(row) >= kRows || sim::spec::instruction_table[static_cast<std::size_t>(row)].threads != kThreads)
    throw std::invalid_argument("instruction row " + std::to_string(row) + " is not a warpgroup row");
  return sim::spec::instruction_table[static_cast<std::size_t>(row)];
}

}  // namespace

int warpgroup_input_words_per_thread(int row) {
  const sim::spec::Instruction& in = warpgroup_row(row);
  return in.a_registers() + in.c_registers() + 1;
}

bool warpgroup_row_on_gpu(int row) {
  (void)warpgroup_row(row);
  return kLaunchers[static_cast<std::size_t>(row)] != nullptr;
}

void run_warpgroup_on_gpu(int row, int selector, std::span<const std::uint32_t> inputs, std::span<const std::uint8_t> shared,
                          std::size_t shared_bytes, std::span<const std::uint64_t> descriptors, std::span<std::uint32_t> d) {
  const sim::spec::Instruction& in = warpgroup_row(row);
  if (!warpgroup_row_on_gpu(row))
    throw std::invalid_argument(std::string(in.name) + " has no kernel in this build (the runner holds N = 8, and N = 256 for f16 -> f32)");
  const int selectors = in.is_sparse() ? in.selector_count() : 1;
  if (selector < 0 || selector >= selectors)
    throw std::invalid_argument("selector " + std::to_string(selector) + " is undefined behaviour for " + std::string(in.name));
  const auto per_thread = static_cast<std::size_t>(warpgroup_input_words_per_thread(row));
  const std::size_t cases = inputs.size() / (kThreads * per_thread);
  if (inputs.size() != cases * kThreads * per_thread || shared.size() != cases * shared_bytes ||
      descriptors.size() != 2 * cases || d.size() != cases * kThreads * static_cast<std::size_t>(in.c_registers()))
    throw std::invalid_argument("warpgroup buffers must hold 128 threads x " + std::to_string(per_thread) +
                                " words, the shared image and two descriptors per case");
  if (shared_bytes > kMaxSharedBytes)
    throw std::invalid_argument("a shared-memory image of " + std::to_string(shared_bytes) + " bytes exceeds 48 KiB");
  if (cases == 0) return;
  int devices = 0;
  check(cudaGetDeviceCount(&devices), "no usable GPU");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cannot query the GPU");
  if (prop.major * 10 + prop.minor != 90)
    throw std::runtime_error("wgmma needs an sm_90 GPU; this one is sm_" + std::to_string(prop.major * 10 + prop.minor));

  std::uint32_t* g_in = nullptr;
  std::uint8_t* g_shared = nullptr;
  std::uint64_t* g_desc = nullptr;
  std::uint32_t* g_d = nullptr;
  int* g_bad = nullptr;
  auto release = [&] {
    cudaFree(g_in);
    cudaFree(g_shared);
    cudaFree(g_desc);
    cudaFree(g_d);
    cudaFree(g_bad);
  };
  try {
    check(cudaMalloc(&g_in, inputs.size_bytes()), "cudaMalloc");
    check(cudaMalloc(&g_shared, shared.size_bytes() > 0 ? shared.size_bytes() : 1), "cudaMalloc");
    check(cudaMalloc(&g_desc, descriptors.size_bytes()), "cudaMalloc");
    check(cudaMalloc(&g_d, d.size_bytes()), "cudaMalloc");
    check(cudaMalloc(&g_bad, sizeof(int)), "cudaMalloc");
    check(cudaMemcpy(g_in, inputs.data(), inputs.size_bytes(), cudaMemcpyHostToDevice), "copy to GPU");
    check(cudaMemcpy(g_shared, shared.data(), shared.size_bytes(), cudaMemcpyHostToDevice), "copy to GPU");
    check(cudaMemcpy(g_desc, descriptors.data(), descriptors.size_bytes(), cudaMemcpyHostToDevice), "copy to GPU");
    check(cudaMemset(g_bad, 0, sizeof(int)), "cudaMemset");
    kLaunchers[static_cast<std::size_t>(row)](selector, static_cast<unsigned>(cases), shared_bytes, g_in, g_shared, g_desc,
                                               g_d, g_bad);
    check(cudaGetLastError(), "kernel launch");
    check(cudaDeviceSynchronize(), "kernel execution");
    int bad = 0;
    check(cudaMemcpy(&bad, g_bad, sizeof(int), cudaMemcpyDeviceToHost), "copy from GPU");
    check(cudaMemcpy(d.data(), g_d, d.size_bytes(), cudaMemcpyDeviceToHost), "copy from GPU");
    if (bad == 1) throw std::runtime_error("the wgmma kernels were not compiled for sm_90a");
    if (bad == 2) throw std::runtime_error("the shared-memory image is not 1024-byte aligned");
  } catch (...) {
    release();
    throw;
  }
  release();
}

}  // namespace twofour::cuda
