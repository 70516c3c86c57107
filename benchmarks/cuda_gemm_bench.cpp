// The tiled GPU GEMM (twofour/cuda/gemm.hpp) against its peers, fp16 in, fp32 out, D = A B:
//   sparse  SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN (mma.sp::ordered_metadata, 2:4 A compressed)
//   dense   SM80_16x8x16_F32F16F16F32_TN (the dense twin: same kernel skeleton, mma.sync)
//   cublas  cublasGemmEx, CUDA_R_16F inputs, CUDA_R_32F output, CUBLAS_COMPUTE_32F
// at M = N = K = 4096 and 8192. TFLOP/s counts 2*M*N*K for every peer (the logical dense product),
// so TFLOP/s ratios are time ratios; they are printed after the run (sparse/dense, sparse/cuBLAS,
// dense/cuBLAS). Times are CUDA-event times of the kernel alone (operands stay on the GPU).
// Without a GPU the program says so in one line and exits 0.
// Suggested run: twofour_cuda_gemm_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "twofour/cuda/device.hpp"
#include "twofour/cuda/gemm.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace spec = twofour::sim::spec;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}
void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": cuBLAS status " + std::to_string(static_cast<int>(status)));
}

// fp16 values in [-1, 1) from a cheap generator: the timing does not depend on them, but random
// bits would include NaN/Inf.
std::vector<std::uint16_t> random_halves(std::size_t count, std::uint32_t seed) {
  std::vector<std::uint16_t> out(count);
  std::uint32_t x = seed;
  for (auto& h : out) {
    x = x * 1664525u + 1013904223u;
    h = static_cast<std::uint16_t>(((x >> 16) & 0x8000u) | (0x3000u + ((x >> 8) & 0x0bffu)));
  }
  return out;
}

template <typename T>
T* device_copy(const std::vector<T>& host) {
  void* p = nullptr;
  check(cudaMalloc(&p, host.size() * sizeof(T)), "cudaMalloc");
  check(cudaMemcpy(p, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "copy to GPU");
  return static_cast<T*>(p);
}

// Operands of one size, kept on the GPU across benchmarks of that size.
struct Problem {
  int n = 0;
  std::uint16_t *a_sparse = nullptr, *a_dense = nullptr, *b = nullptr;
  std::uint32_t* meta = nullptr;
  float* d = nullptr;

  explicit Problem(int size) : n(size) {
    const std::size_t nn = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
    a_sparse = device_copy(random_halves(nn / 2, 1));
    a_dense = device_copy(random_halves(nn, 2));
    b = device_copy(random_halves(nn, 3));
    // Valid ordered nibbles in lib's rowmajor words (cycling through the six pairs), reordered
    // into the kernel's per-lane layout.
    std::vector<std::uint16_t> words(nn / 16);
    constexpr std::array<std::uint16_t, 6> kOrdered = {0x4, 0x8, 0x9, 0xc, 0xd, 0xe};
    for (std::size_t i = 0; i < words.size(); ++i)
      for (std::size_t j = 0; j < 4; ++j)
        words[i] = static_cast<std::uint16_t>(words[i] | (kOrdered[(i * 4 + j) % 6] << (4 * j)));
    meta = device_copy(twofour::cuda::reorder_rowmajor_metadata_for_gpu(size, size, words));
    check(cudaMalloc(&d, nn * sizeof(float)), "cudaMalloc");
  }
  Problem(const Problem&) = delete;
  Problem& operator=(const Problem&) = delete;
  ~Problem() {
    cudaFree(a_sparse);
    cudaFree(a_dense);
    cudaFree(b);
    cudaFree(meta);
    cudaFree(d);
  }
};

Problem& problem(int size) {
  static std::map<int, std::unique_ptr<Problem>> problems;
  auto& p = problems[size];
  if (!p) {
    problems.clear();  // one size at a time on the GPU
    problems[size] = std::make_unique<Problem>(size);
  }
  return *problems[size];
}

std::map<std::string, std::map<int, double>>& best_tflops() {
  static std::map<std::string, std::map<int, double>> table;
  return table;
}

enum class Peer { sparse, dense, cublas };

const char* peer_name(Peer p) { return p == Peer::sparse ? "sparse" : p == Peer::dense ? "dense" : "cublas"; }

void BM_Gemm(benchmark::State& state, Peer peer) {
  const int size = static_cast<int>(state.range(0));
  Problem& p = problem(size);
  cublasHandle_t handle = nullptr;
  if (peer == Peer::cublas) check(cublasCreate(&handle), "cublasCreate");
  const float alpha = 1.0f, beta = 0.0f;
  auto run = [&] {
    twofour::cuda::GemmDeviceOperands ops;
    ops.m = ops.n = ops.k = size;
    ops.b = p.b;
    ops.d = p.d;
    if (peer == Peer::sparse) {
      ops.a = p.a_sparse;
      ops.metadata = p.meta;
      twofour::cuda::launch_gemm(*spec::find_instruction("SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN"), ops);
    } else if (peer == Peer::dense) {
      ops.a = p.a_dense;
      twofour::cuda::launch_gemm(*spec::find_instruction("SM80_16x8x16_F32F16F16F32_TN"), ops);
    } else {
      // Row-major D = A B is column-major D^T = B^T A^T: pass B first, ld = N, then A, ld = K.
      check(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, size, size, size, &alpha, p.b, CUDA_R_16F, size,
                         p.a_dense, CUDA_R_16F, size, &beta, p.d, CUDA_R_32F, size, CUBLAS_COMPUTE_32F,
                         CUBLAS_GEMM_DEFAULT),
            "cublasGemmEx");
    }
  };
  run();  // warm-up (and the one-time shared-memory opt-in)
  check(cudaDeviceSynchronize(), "warm-up");
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  double best = 0.0;
  const double flops = 2.0 * size * static_cast<double>(size) * size;
  for (auto _ : state) {
    check(cudaEventRecord(start), "cudaEventRecord");
    run();
    check(cudaEventRecord(stop), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    state.SetIterationTime(static_cast<double>(ms) / 1e3);
    best = std::max(best, flops / (static_cast<double>(ms) * 1e-3) / 1e12);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  if (handle != nullptr) cublasDestroy(handle);
  state.counters["TFLOPs"] = benchmark::Counter(flops * static_cast<double>(state.iterations()) / 1e12,
                                                benchmark::Counter::kIsRate);
  state.counters["best_TFLOPs"] = best;
  best_tflops()[peer_name(peer)][size] = best;
}

void print_ratios() {
  auto& t = best_tflops();
  std::printf("\nbest TFLOP/s (2*M*N*K per GEMM) and ratios:\n%6s %8s %8s %8s %14s %15s %14s\n", "size", "sparse",
              "dense", "cublas", "sparse/dense", "sparse/cublas", "dense/cublas");
  for (const auto& [size, sparse] : t["sparse"]) {
    const double dense = t["dense"][size], cublas = t["cublas"][size];
    std::printf("%6d %8.1f %8.1f %8.1f %14.2f %15.2f %14.2f\n", size, sparse, dense, cublas,
                dense > 0 ? sparse / dense : 0.0, cublas > 0 ? sparse / cublas : 0.0, cublas > 0 ? dense / cublas : 0.0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const twofour::cuda::DeviceInfo device = twofour::cuda::query_devices();
  if (device.count == 0) {
    std::printf("twofour_cuda_gemm_bench: no GPU (%s); nothing to measure\n", device.reason.c_str());
    return 0;
  }
  std::printf("GPU: %s (sm_%d)\n", device.name.c_str(), device.compute_capability);
  for (Peer peer : {Peer::sparse, Peer::dense, Peer::cublas})
    benchmark::RegisterBenchmark((std::string("BM_Gemm/") + peer_name(peer)).c_str(), BM_Gemm, peer)
        ->Arg(4096)
        ->Arg(8192)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  print_ratios();
  return 0;
}
