#pragma once
// The channel-swap search for wide layers (internal to lib; called by search_permutation).
#include "permutation_progress.hpp"
#include "twofour/prune/permutation.hpp"

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

namespace twofour::prune::detail {

// |w| of the ASP view in row chunks: chunk k holds rows [k * chunk_rows, (k + 1) * chunk_rows) of
// every channel, channel after channel, so the search streams the channels of one chunk from
// contiguous memory while a block's chunk stays in L1. Rows past `rows` are zeros.
struct ChannelMagnitudes {
  std::vector<float> mag;
  std::size_t rows = 0, cols = 0;
  std::size_t chunk_rows = 0, chunks = 0;  // chunk_rows: a multiple of kSwapLanes, at most kSwapRowChunk

  std::size_t padded_rows() const { return chunk_rows * chunks; }
  // Offset of (channel c, chunk k)'s chunk_rows floats in mag (or in any array of this layout).
  std::size_t chunk(std::size_t c, std::size_t k) const { return (k * cols + c) * chunk_rows; }
  // Rows of chunk k that are real (not padding).
  std::size_t rows_in(std::size_t k) const { return std::min(chunk_rows, rows - k * chunk_rows); }
};

ChannelMagnitudes channel_magnitudes(std::span<const float> weights, const sparse::GroupedShape& shape);

struct SwapSearchOutcome {
  std::vector<std::size_t> perm;  // perm[j] = original channel at position j
  double kept = 0;                // N:M-kept magnitude of perm (the search's running total)
  std::size_t swaps = 0, escapes = 0;
  bool timed_out = false;
};

SwapSearchOutcome channel_swap_search(const ChannelMagnitudes& in, const PermutationOptions& options,
                                      Clock::time_point deadline, ProgressLog& progress);

}  // namespace twofour::prune::detail
