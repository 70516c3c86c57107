// GPU magnitude 2:4 prune-and-compress (twofour/cuda/prune_compress.hpp). One thread per output
// metadata word, i.e. up to 4 groups (16 columns) of one row: the thread owns its word outright,
// so no atomics, and the per-group rule is the header's prune_compress_group, shared with the
// CPU tests that compare it with lib.
#include "twofour/cuda/device.hpp"
#include "twofour/cuda/prune_compress.hpp"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace twofour::cuda {
namespace {

constexpr int kThreads = 256;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

template <typename Element>
__global__ void prune_compress_kernel(PruneElement type, const Element* dense, std::size_t rows, std::size_t cols,
                                      Element* values, std::uint16_t* metadata) {
  const std::size_t words_per_row = (cols + 15) / 16;
  const std::size_t word = blockIdx.x * static_cast<std::size_t>(kThreads) + threadIdx.x;
  if (word >= rows * words_per_row) return;
  const std::size_t row = word / words_per_row, first_group = (word % words_per_row) * 4;
  const std::size_t groups = cols / 4;
  std::uint16_t bits = 0;
  for (std::size_t g = first_group; g < first_group + 4 && g < groups; ++g) {
    const Element* in = dense + row * cols + 4 * g;
    const std::uint32_t x[4] = {in[0], in[1], in[2], in[3]};
    const PrunedGroup out = prune_compress_group(type, x);
    Element* v = values + row * (cols / 2) + 2 * g;
    v[0] = static_cast<Element>(out.value0);
    v[1] = static_cast<Element>(out.value1);
    bits = static_cast<std::uint16_t>(bits | (out.nibble << (4 * (g - first_group))));
  }
  metadata[word] = bits;
}

}  // namespace

std::size_t prune_element_bytes(PruneElement type) { return type == PruneElement::f32 ? 4 : 2; }

void prune_compress_on_device(PruneElement type, const void* dense, std::size_t rows, std::size_t cols, void* values,
                              std::uint16_t* metadata, void* stream) {
  if (rows == 0 || cols == 0 || cols % 4 != 0)
    throw std::invalid_argument("prune-compress needs rows > 0 and cols a positive multiple of 4, got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
  if (dense == nullptr || values == nullptr || metadata == nullptr)
    throw std::invalid_argument("prune_compress_on_device: null device pointer");
  const std::size_t words = rows * ((cols + 15) / 16);
  const unsigned blocks = static_cast<unsigned>((words + kThreads - 1) / kThreads);
  auto* s = static_cast<cudaStream_t>(stream);
  if (type == PruneElement::f32)
    prune_compress_kernel<std::uint32_t><<<blocks, kThreads, 0, s>>>(
        type, static_cast<const std::uint32_t*>(dense), rows, cols, static_cast<std::uint32_t*>(values), metadata);
  else
    prune_compress_kernel<std::uint16_t><<<blocks, kThreads, 0, s>>>(
        type, static_cast<const std::uint16_t*>(dense), rows, cols, static_cast<std::uint16_t*>(values), metadata);
  check(cudaGetLastError(), "prune-compress kernel launch");
}

PruneCompressed prune_compress_on_gpu(PruneElement type, std::span<const std::byte> dense, std::size_t rows,
                                      std::size_t cols) {
  const std::size_t eb = prune_element_bytes(type);
  if (dense.size() != rows * cols * eb)
    throw std::invalid_argument("prune-compress: dense buffer has " + std::to_string(dense.size()) + " bytes, " +
                                std::to_string(rows) + " x " + std::to_string(cols) + " needs " +
                                std::to_string(rows * cols * eb));
  if (rows == 0 || cols == 0 || cols % 4 != 0)
    throw std::invalid_argument("prune-compress needs rows > 0 and cols a positive multiple of 4, got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
  const DeviceInfo device = query_devices();
  if (device.count == 0) throw std::runtime_error("no GPU: " + device.reason);

  PruneCompressed out;
  out.values.resize(rows * (cols / 2) * eb);
  out.metadata.resize(rows * ((cols + 15) / 16));
  void *d_dense = nullptr, *d_values = nullptr, *d_meta = nullptr;
  try {
    check(cudaMalloc(&d_dense, dense.size()), "cudaMalloc");
    check(cudaMalloc(&d_values, out.values.size()), "cudaMalloc");
    check(cudaMalloc(&d_meta, out.metadata.size() * 2), "cudaMalloc");
    check(cudaMemcpy(d_dense, dense.data(), dense.size(), cudaMemcpyHostToDevice), "copy to GPU");
    prune_compress_on_device(type, d_dense, rows, cols, d_values, static_cast<std::uint16_t*>(d_meta));
    check(cudaDeviceSynchronize(), "prune-compress kernel execution");
    check(cudaMemcpy(out.values.data(), d_values, out.values.size(), cudaMemcpyDeviceToHost), "copy from GPU");
    check(cudaMemcpy(out.metadata.data(), d_meta, out.metadata.size() * 2, cudaMemcpyDeviceToHost), "copy from GPU");
  } catch (...) {
    cudaFree(d_dense);
    cudaFree(d_values);
    cudaFree(d_meta);
    throw;
  }
  cudaFree(d_dense);
  cudaFree(d_values);
  cudaFree(d_meta);
  return out;
}

}  // namespace twofour::cuda
