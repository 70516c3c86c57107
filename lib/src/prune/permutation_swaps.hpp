#pragma once
// The channel-swap search for wide layers (internal to lib; called by search_permutation).
#include "permutation_progress.hpp"
#include "twofour/prune/permutation.hpp"

#include <cstddef>
#include <vector>

namespace twofour::prune::detail {

// |w| of the ASP view by channel: channel c's rows at [c * padded_rows, c * padded_rows + rows),
// zeros up to padded_rows (a multiple of kSwapLanes).
struct ChannelMagnitudes {
  std::vector<float> mag;
  std::size_t rows = 0, padded_rows = 0, cols = 0;
};

struct SwapSearchOutcome {
  std::vector<std::size_t> perm;  // perm[j] = original channel at position j
  double kept = 0;                // N:M-kept magnitude of perm (the search's running total)
  std::size_t swaps = 0, escapes = 0;
  bool timed_out = false;
};

SwapSearchOutcome channel_swap_search(const ChannelMagnitudes& in, const PermutationOptions& options,
                                      Clock::time_point deadline, ProgressLog& progress);

}  // namespace twofour::prune::detail
