#pragma once
// Runs MMA instruction rows on the GPU with exactly the per-thread register words of sim's
// thread-level API (sim/warp.hpp). Host-only header (no CUDA headers), usable from plain C++.
//
// Buffers, for a row with T = threads, and per-thread register counts A, B, C (= D):
//   inputs: per case, per thread (thread-major): A words, B words, C words, then the metadata word e
//           (input_words_per_thread(row) = A + B + C + 1 words);
//   d:      per case, per thread: D words (d_words_per_thread(row) = C).
#include <cstddef>
#include <cstdint>
#include <span>

namespace twofour::cuda {

int input_words_per_thread(int row);
int d_words_per_thread(int row);

// row = index into sim::spec::instruction_table. Throws std::runtime_error when there is no GPU,
// the device is older than the row needs, or a CUDA call fails; std::invalid_argument for a bad
// row/selector or buffer sizes.
void run_instruction_on_gpu(int row, int selector, std::span<const std::uint32_t> inputs, std::span<std::uint32_t> d);

}  // namespace twofour::cuda
