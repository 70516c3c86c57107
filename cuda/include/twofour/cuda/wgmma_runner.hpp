#pragma once
// Runs warpgroup (wgmma) instruction rows on the GPU: one 128-thread block per case, the case's
// shared-memory image copied into the block's shared memory, its descriptors rebased onto it.
// Host-only header (no CUDA headers), usable from plain C++.
//
// Buffers, for a row with per-thread register counts A (4 for RS rows, 0 for SS) and C (= D):
//   inputs:      per case, per thread (thread-major): A words, C words, then the metadata word e
//                (warpgroup_input_words_per_thread(row) = A + C + 1);
//   shared:      per case, `shared_bytes` bytes: shared address 0 is the first byte;
//   descriptors: per case, the A descriptor (ignored by RS rows) then the B descriptor, with
//                start addresses relative to the image;
//   d:           per case, per thread: D words (C of them).
#include <cstddef>
#include <cstdint>
#include <span>

namespace twofour::cuda {

int warpgroup_input_words_per_thread(int row);

// Whether this build has a kernel for `row`: N = 8 of every warpgroup row kind (type, sparsity,
// operand source) and N = 256 of f16 -> f32, a subset that keeps the sm_90a compile time reasonable.
bool warpgroup_row_on_gpu(int row);

// Throws std::invalid_argument for a bad row/selector/buffer size or a row without a kernel in
// this build; std::runtime_error when there is no sm_90 GPU or a CUDA call fails.
void run_warpgroup_on_gpu(int row, int selector, std::span<const std::uint32_t> inputs,
                          std::span<const std::uint8_t> shared, std::size_t shared_bytes,
                          std::span<const std::uint64_t> descriptors, std::span<std::uint32_t> d);

}  // namespace twofour::cuda
