#pragma once
// Tiled GEMM on the GPU, D = A B + C, built on ONE mma row of sim's instruction table, so that
// sim::run_gemm with the same row reproduces the GPU's D bit for bit. Host-only header (no CUDA
// headers), usable from plain C++.
//
// Rows (sim/spec/registry.hpp):
//   sparse  SM80_SP_16x8x32_F32F16F16F32_TN,  SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN,
//           SM80_SP_16x8x32_F32BF16BF16F32_TN, SM80_SP_ORDERED_16x8x32_F32BF16BF16F32_TN
//           (mma.sp / mma.sp::ordered_metadata m16n8k32, fp16 or bf16 in, fp32 accumulate)
//   dense   SM80_16x8x16_F32F16F16F32_TN, SM80_16x8x16_F32BF16BF16F32_TN (mma.sync m16n8k16,
//           the "dense twin": same kernel skeleton, same tiles, same pipeline)
//
// K-ORDER (the contract with sim/gemm.hpp): D is cut into 16 x 8 tiles (one mma each). Every
// such tile is owned by exactly one warp and has exactly one accumulator chain: the warp loads C
// into the accumulator registers, then issues one mma per k-step s = 0, 1, ..., K/instr.k - 1 in
// ascending order, step s covering dense K [s*instr.k, (s+1)*instr.k) (compressed A columns
// [s*instr.k/2, ...)); the D of step s is the C of step s+1 (fp32 registers, so each step's result
// is rounded by the instruction itself and nothing else); the last D is stored unchanged. No
// split-K, no reordering of k-steps, no extra instructions on the accumulators (k-steps beyond K
// in a partial CTA k-tile are skipped, not run on zeros, since even a zero step can change -0 or
// a NaN payload). This is exactly the order stated in sim/gemm.hpp.
//
// Kernel: CTA tile 128 x 128 x 64 (dense K), 8 warps (2 along M x 4 along N, 64 x 32 per warp),
// a 3-stage cp.async shared-memory pipeline, fragments loaded with ldmatrix (.trans for B).
// Shapes: any M % 16 == 0, N % 8 == 0, K % instr.k == 0 (32 sparse, 16 dense); partial CTA tiles
// are handled by predication (zero-filled loads, skipped k-steps, guarded stores; mma tiles past M
// or N run on zeros and are never stored).
// Other shapes throw std::invalid_argument. Shared memory per block: 84 KiB (sparse), 105 KiB (dense),
// so sm_80 / sm_90 class GPUs (sm_86 / sm_89 allow 99 KiB: std::runtime_error says so).
//
// METADATA LAYOUT the sparse kernel reads ("per-lane layout"): for each block of 32 A rows
// (mb = row / 32, M rounded up to 32) and each k-step s (32 dense K), 32 consecutive uint32 words,
// word[(mb * (K/32) + s) * 32 + lane] = the e register of `lane` for the two m16 tiles of that
// block, the CUTLASS SM80 arrangement (isa.md §2.1: one E register feeds two m16 tiles):
//   lane = 4g + q, m16 tile h = q >> 1 (rows 32mb + 16h ..), window w = q & 1;
//   bits [15:0]  = row 32mb + 16h + g,     chunks 8s + 4w .. 8s + 4w + 3 (nibble j at bits 4j),
//   bits [31:16] = row 32mb + 16h + g + 8, same chunks.
// The kernel issues m16 tile h with sparsity selector h, so lanes 4g+{0,1} supply E for tile 0
// and 4g+{2,3} for tile 1: exactly sim/spec/layout.hpp's metadata_coord for the m16n8k32 row
// (pair shape). Each 16-bit half is one uint16 word of lib's rowmajor layout
// (twofour/sparse/rowmajor_layout.hpp, word 2s + w of that row). Rows past M hold 0x4444
// (idx0 = 0, idx1 = 1), so that the mma of an m16 tile past M is defined behaviour too (its D is
// discarded); the kernel substitutes the same word for 32-row blocks wholly past M.
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
// layout above. Throws std::invalid_argument on sizes that do not match or K % 32 != 0.
std::vector<std::uint32_t> reorder_metadata_for_gpu(int m, int k, std::span<const std::uint8_t> nibbles);
// lib's rowmajor compressed metadata (M x ceil(K/16) uint16 words, as sparse::compress and
// prune_compress_on_gpu write it) -> the same layout.
std::vector<std::uint32_t> reorder_rowmajor_metadata_for_gpu(int m, int k, std::span<const std::uint16_t> words);

// Raw device pointers, for benchmarks and callers that keep operands on the GPU. All row-major,
// densely packed; 16-bit elements as their bit patterns.
struct GemmDeviceOperands {
  int m = 0, n = 0, k = 0;
  const void* a = nullptr;                 // sparse: M x K/2 compressed (idx0 value first); dense: M x K
  const std::uint32_t* metadata = nullptr;  // sparse: gpu_metadata_words(m, k) words, layout above; dense: unused
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
