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

// Runs body(chunk_index, first_image, image_count) over the chunks of a batch of n images, in
// parallel when conv_chunks_in_parallel says so (threads take whole chunks, dynamically: a thread
// descheduled on a shared machine does not hold the others back). `work` sizes the pass.
template <class Body>
void for_each_chunk(std::size_t n, std::size_t chunk, std::size_t work, Body body) {
  const std::size_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(dynamic, 1) if (conv_chunks_in_parallel(chunks, work))
  for (std::size_t ci = 0; ci < chunks; ++ci) body(ci, ci * chunk, std::min(chunk, n - ci * chunk));
}

// One buffer per OpenMP thread in each of `buffers` (each grown on demand by thread_buffer).
template <class... Buffers>
void one_buffer_per_thread(Buffers&... buffers) {
  (buffers.resize(static_cast<std::size_t>(omp_get_max_threads())), ...);
}

// The calling thread's buffer of a pass (one per OpenMP thread, grown on demand).
template <class Buffer>
Buffer& thread_buffer(std::vector<Buffer>& buffers, std::size_t size) {
  auto& b = buffers[static_cast<std::size_t>(omp_get_thread_num())];
  b.resize(size);
  return b;
}

}  // namespace twofour::nn::detail
