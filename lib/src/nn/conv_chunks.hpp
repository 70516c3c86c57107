#pragma once
// Internal: how a convolution pass (Conv2d, and SparseConv on the 2:4 kernels) splits its batch.
//
// The batch runs in chunks of images whose im2col block (C*R*S rows, chunk*OH*OW columns) stays
// in L2 (kConvChunkFloats floats): the columns are written, multiplied and (backward) read back
// from cache instead of memory. Threads take whole chunks (each with its own buffers and
// single-threaded GEMMs: one parallel region per pass instead of one per chunk and step). The
// chunk size depends on the layer's shape only, and the weight gradient adds the chunks' products
// in chunk order after the parallel pass, so results do not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace twofour::nn::detail {

inline constexpr std::size_t kConvChunkFloats = std::size_t{1} << 17;  // 512 KiB

// Below this many elements a loop runs on one thread: an OpenMP fork/join costs more than it
// saves, and far more when the cores are shared.
inline constexpr std::size_t kMinParallelWork = std::size_t{1} << 16;

// Images per chunk for patches of `patch_rows` (C*R*S) rows and `positions` (OH*OW) per image.
inline std::size_t conv_chunk_images(std::size_t patch_rows, std::size_t positions) {
  return std::max<std::size_t>(1, kConvChunkFloats / (patch_rows * positions));
}

// Whether a pass over `chunks` chunks of `work` elements in all runs its chunks in parallel.
inline bool conv_chunks_in_parallel(std::size_t chunks, std::size_t work) {
  return chunks > 1 && work >= kMinParallelWork;
}

// The calling thread's buffer of a pass (one per OpenMP thread, grown on demand).
template <class Buffer>
Buffer& thread_buffer(std::vector<Buffer>& buffers, std::size_t size) {
  auto& b = buffers[static_cast<std::size_t>(omp_get_thread_num())];
  b.resize(size);
  return b;
}

}  // namespace twofour::nn::detail
