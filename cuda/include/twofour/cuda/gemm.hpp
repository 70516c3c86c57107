#pragma once
// Tiled GEMM on the GPU, D = A B + C, built on ONE mma row of sim's instruction table, so that
// sim::run_gemm with the same row reproduces the GPU's D bit for bit. Host-only header (no CUDA
// headers), usable from plain C++. The k-order contract with sim/gemm.hpp, the tiling, the shapes
// and the per-lane metadata layout the sparse kernel reads ("per-lane layout" below):
// docs/simulator.md §The GPU GEMM that follows this order.
//
// Rows (sim/spec/registry.hpp):
//   sparse  SM80_SP_16x8x32_F32F16F16F32_TN,  SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN,
//           SM80_SP_16x8x32_F32BF16BF16F32_TN, SM80_SP_ORDERED_16x8x32_F32BF16BF16F32_TN
//           (mma.sp / mma.sp::ordered_metadata m16n8k32, fp16 or bf16 in, fp32 accumulate)
//   dense   SM80_16x8x16_F32F16F16F32_TN, SM80_16x8x16_F32BF16BF16F32_TN (mma.sync m16n8k16,
//           the "dense twin": same kernel skeleton, same tiles, same pipeline)
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/spec/instruction.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace twofour::cuda {

inline constexpr int kGemmTileM = 128;
inline constexpr int kGemmTileN = 128;
inline constexpr int kGemmTileK = 64;  // dense K per pipeline stage
inline constexpr int kGemmStages = 3;

// True for the six rows listed above.
bool gemm_row_supported(const sim::spec::Instruction& instr);

// Throws std::invalid_argument naming the row unless gemm_row_supported, or naming the dimension
// unless M, N, K > 0 and M % 16 == 0, N % 8 == 0, K % instr.k == 0.
void check_gemm_shape(const sim::spec::Instruction& instr, int m, int n, int k);

// Words of the per-lane metadata buffer for an M x K sparse A: ceil(M/32) * (K/32) * 32.
std::size_t gpu_metadata_words(int m, int k);

// GemmOperands' metadata (M x K/4 nibbles, row-major, K order, low 4 bits used) -> the per-lane
// layout. Throws std::invalid_argument on sizes that do not match or K % 32 != 0.
std::vector<std::uint32_t> reorder_metadata_for_gpu(int m, int k, std::span<const std::uint8_t> nibbles);
// lib's rowmajor compressed metadata (M x ceil(K/16) uint16 words, as sparse::compress and
// prune_compress_on_gpu write it) -> the same layout.
std::vector<std::uint32_t> reorder_rowmajor_metadata_for_gpu(int m, int k, std::span<const std::uint16_t> words);

// Raw device pointers, for benchmarks and callers that keep operands on the GPU. All row-major,
// densely packed; 16-bit elements as their bit patterns.
struct GemmDeviceOperands {
  int m = 0, n = 0, k = 0;
  const void* a = nullptr;                 // sparse: M x K/2 compressed (idx0 value first); dense: M x K
  const std::uint32_t* metadata = nullptr;  // sparse: gpu_metadata_words(m, k) words, per-lane layout; dense: unused
  const void* b = nullptr;                 // K x N
  const float* c = nullptr;                // M x N, or nullptr for C = +0
  float* d = nullptr;                      // M x N (may be the same buffer as c)
};

// Enqueues the kernel on `stream` (a cudaStream_t; nullptr = the default stream) and returns
// without synchronising. Throws std::invalid_argument (row, shape, missing pointers) and
// std::runtime_error when the launch fails. Does not validate metadata nibbles.
void launch_gemm(const sim::spec::Instruction& instr, const GemmDeviceOperands& operands, void* stream = nullptr);

// The whole round trip: checks the row, shapes and metadata (undefined nibbles throw
// sim::MetadataError, a std::invalid_argument, naming A row and chunk, as sim does), copies the
// operands to the GPU, runs the kernel and returns D (M x N fp32 bit patterns). Throws
// std::runtime_error when there is no usable GPU (the message says why) or a CUDA call fails.
sim::Tile run_gemm_on_gpu(const sim::spec::Instruction& instr, const sim::GemmOperands& operands);

}  // namespace twofour::cuda
