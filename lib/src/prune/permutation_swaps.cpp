// Channel-swap search for wide layers (the neighbourhood of TETRIS and Apex's greedy channel swap,
// Pool & Yu 2021's baseline): blocks of channels are scored against every channel of another
// stripe in O(rows) per swap, their best swaps applied after an exact re-check, until no swap
// helps; then bounded regressions. docs/pruning-methods.md "Channel swaps for wide layers" derives
// the score and gives the measured efficacy against time.
#include "permutation_swaps.hpp"

#include "swap_gain_kernel.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

namespace twofour::prune::detail {
namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kTileCols = 128;  // candidate channels y per work item
// Rows per chunk: a block's x data (2 * kScoreBlock * 128 floats, 16 KiB) stays in L1 while the
// tile's channels y stream past; the accumulators wait in a per-thread buffer (256 KiB).
constexpr std::size_t kSwapRowChunk = 128;
constexpr std::size_t kKernelCalls = 2;  // kernel calls per y and chunk (the second reads y from L1)
constexpr std::size_t kScoreBlock = kKernelCalls * kSwapBlock;  // channels x scored together
// A second thread joins a block's scoring only for this much work (max-adds, ~1 ms): below it
// the fork and barrier cost more than they save (measured: 64 x 1024 converged in 0.4 s on one
// thread, 4.7 s on two of a busy 2-core machine).
constexpr double kWorkPerThread = 16e6;
constexpr std::size_t kKickSwaps = 4;  // swaps of one bounded regression

// The best swap known for a channel: the partner and the exact-up-to-float-rounding gain.
struct Best {
  double gain = -std::numeric_limits<double>::infinity();
  std::uint32_t partner = kNone;
};
// Total order (gain, then the lower partner), so merging per-thread results is order-free.
bool better(const Best& a, const Best& b) { return a.gain > b.gain || (a.gain == b.gain && a.partner < b.partner); }

// Stripes as sets of original channels, and for every channel c what its removal leaves:
// thr_c[r], the N-th largest |w| of row r among its M - 1 stripe-mates, and loss_c, the kept
// magnitude its stripe loses without it (each row then keeps the N largest of the mates).
// Putting channel y in c's place keeps sum_r (top-N of mates) + max(|w_y[r]| - thr_c[r], 0): the
// newcomer enters a row's kept set exactly when it beats the N-th largest mate. So a swap of x and
// y changes the kept total by
//   gain(x, y) = sum_r relu(|w_y| - thr_x) + sum_r relu(|w_x| - thr_y) - loss_x - loss_y
//              = sum_r max(|w_y|, thr_x) + sum_r max(|w_x|, thr_y) - offset_x - offset_y,
// offset_c = loss_c + sum_r thr_c, the form the kernel computes (swap_gain_kernel.hpp).
class SwapState {
 public:
  SwapState(const ChannelMagnitudes& in, sparse::NMPattern p)
      : in_(in), n_(static_cast<std::size_t>(p.n)), m_(static_cast<std::size_t>(p.m)), stripes_(in.cols / m_),
        members_(in.cols), stripe_of_(in.cols), thr_(in.mag.size(), 0.0f), offset_(in.cols), cost_(stripes_) {
    for (std::size_t c = 0; c < in.cols; ++c) {
      members_[c] = static_cast<std::uint32_t>(c);
      stripe_of_[c] = static_cast<std::uint32_t>(c / m_);
    }
    for (std::size_t s = 0; s < stripes_; ++s) refresh(s);
  }

  std::size_t stripes() const { return stripes_; }
  std::size_t m() const { return m_; }
  std::uint32_t stripe_of(std::size_t c) const { return stripe_of_[c]; }
  const std::uint32_t* members(std::size_t s) const { return members_.data() + s * m_; }
  // Channel c's rows of chunk k.
  const float* thr(std::size_t c, std::size_t k) const { return thr_.data() + in_.chunk(c, k); }
  const float* mag(std::size_t c, std::size_t k) const { return in_.mag.data() + in_.chunk(c, k); }
  double offset(std::size_t c) const { return offset_[c]; }
  double total() const { return std::accumulate(cost_.begin(), cost_.end(), 0.0); }

  // The exact change of the kept total if x and y trade places (recomputed from |w|, in double).
  double exact_gain(std::uint32_t x, std::uint32_t y) const {
    const std::uint32_t sx = stripe_of_[x], sy = stripe_of_[y];
    std::array<std::uint32_t, sparse::kMaxGroupSize> a{}, b{};
    for (std::size_t t = 0; t < m_; ++t) {
      const std::uint32_t cx = members_[sx * m_ + t], cy = members_[sy * m_ + t];
      a[t] = cx == x ? y : cx;
      b[t] = cy == y ? x : cy;
    }
    return (set_cost(a.data()) + set_cost(b.data())) - (cost_[sx] + cost_[sy]);
  }
  double stripe_cost(std::size_t s) const { return cost_[s]; }

  const std::vector<std::uint32_t>& all_members() const { return members_; }
  // Restores a saved arrangement (all_members()), recomputing every stripe.
  void assign(const std::vector<std::uint32_t>& members) {
    members_ = members;
    for (std::size_t j = 0; j < members_.size(); ++j) stripe_of_[members_[j]] = static_cast<std::uint32_t>(j / m_);
    for (std::size_t s = 0; s < stripes_; ++s) refresh(s);
  }

  void swap(std::uint32_t x, std::uint32_t y) {
    const std::uint32_t sx = stripe_of_[x], sy = stripe_of_[y];
    std::replace(members_.begin() + static_cast<std::ptrdiff_t>(sx * m_),
                 members_.begin() + static_cast<std::ptrdiff_t>((sx + 1) * m_), x, y);
    std::replace(members_.begin() + static_cast<std::ptrdiff_t>(sy * m_),
                 members_.begin() + static_cast<std::ptrdiff_t>((sy + 1) * m_), y, x);
    stripe_of_[x] = sy;
    stripe_of_[y] = sx;
  }

  // Recomputes cost, thresholds and offsets of stripe s from its members.
  void refresh(std::size_t s) {
    const std::uint32_t* mem = members(s);
    std::array<double, sparse::kMaxGroupSize> base{}, thr_sum{};
    double cost = 0;
    std::array<float, sparse::kMaxGroupSize> v{}, o{};
    for (std::size_t k = 0; k < in_.chunks; ++k) {
      std::array<const float*, sparse::kMaxGroupSize> col{};
      std::array<float*, sparse::kMaxGroupSize> thr{};
      for (std::size_t t = 0; t < m_; ++t) {
        col[t] = mag(mem[t], k);
        thr[t] = thr_.data() + in_.chunk(mem[t], k);
      }
      for (std::size_t r = 0; r < in_.rows_in(k); ++r) {
        for (std::size_t t = 0; t < m_; ++t) v[t] = col[t][r];
        for (std::size_t t = 0; t < m_; ++t) {
          std::size_t j = 0;
          for (std::size_t u = 0; u < m_; ++u)
            if (u != t) o[j++] = v[u];
          std::partial_sort(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(n_),
                            o.begin() + static_cast<std::ptrdiff_t>(m_ - 1), std::greater<float>());
          thr[t][r] = o[n_ - 1];
          thr_sum[t] += static_cast<double>(o[n_ - 1]);
          for (std::size_t u = 0; u < n_; ++u) base[t] += static_cast<double>(o[u]);
        }
        cost += top_sum(v.data(), m_);
      }
    }
    cost_[s] = cost;
    for (std::size_t t = 0; t < m_; ++t) offset_[mem[t]] = (cost - base[t]) + thr_sum[t];
  }

 private:
  // Sum of the N largest of k floats, in double (exact for N <= 2; one fixed order otherwise).
  double top_sum(float* v, std::size_t k) const {
    std::partial_sort(v, v + n_, v + k, std::greater<float>());
    double s = 0;
    for (std::size_t u = 0; u < n_; ++u) s += static_cast<double>(v[u]);
    return s;
  }
  // The same row order as refresh(), so a stripe's cost does not depend on which computed it.
  double set_cost(const std::uint32_t* chans) const {
    std::array<float, sparse::kMaxGroupSize> v{};
    double cost = 0;
    for (std::size_t k = 0; k < in_.chunks; ++k) {
      std::array<const float*, sparse::kMaxGroupSize> col{};
      for (std::size_t t = 0; t < m_; ++t) col[t] = mag(chans[t], k);
      for (std::size_t r = 0; r < in_.rows_in(k); ++r) {
        for (std::size_t t = 0; t < m_; ++t) v[t] = col[t][r];
        cost += top_sum(v.data(), m_);
      }
    }
    return cost;
  }

  const ChannelMagnitudes& in_;
  std::size_t n_, m_, stripes_;
  std::vector<std::uint32_t> members_;    // stripe s holds members_[s*M .. s*M + M)
  std::vector<std::uint32_t> stripe_of_;  // by channel
  std::vector<float> thr_;                // by channel, in ChannelMagnitudes' layout (zeros past `rows`)
  std::vector<double> offset_;            // by channel: loss_c + sum_r thr_c
  std::vector<double> cost_;              // by stripe: its N:M-kept magnitude
};

// Finds, for each channel of a block of kScoreBlock, its best swap partner over all channels in
// other stripes. The candidates are split into tiles over the threads; each tile's best is merged
// in the total order of better(), so the result does not depend on the thread count.
class BlockScorer {
 public:
  BlockScorer(const SwapState& state, const ChannelMagnitudes& in, int threads, SwapGainFn kernel)
      : state_(state), in_(in), threads_(threads), kernel_(kernel), zeros_(in.chunk_rows, 0.0f),
        local_(static_cast<std::size_t>(threads)),
        acc_(static_cast<std::size_t>(threads), std::vector<float>(kTileCols * kKernelCalls * kSwapAccFloats)) {}

  // xs: up to kScoreBlock channels (kNone = unused slot); partners y with frozen[y] != 0 are left
  // out. Returns false when the deadline stopped it.
  bool score(const std::array<std::uint32_t, kScoreBlock>& xs, const std::vector<std::uint8_t>& frozen,
             std::array<Best, kScoreBlock>& best, Clock::time_point deadline) {
    const std::size_t cols = in_.cols, tiles = (cols + kTileCols - 1) / kTileCols;
    const double work = 2.0 * kScoreBlock * static_cast<double>(cols) * static_cast<double>(in_.padded_rows());
    const int threads = std::max(1, std::min({threads_, static_cast<int>(work / kWorkPerThread), static_cast<int>(tiles)}));
    std::atomic<bool> late{false};
    for (auto& mine : local_) mine.fill(Best{});  // also those of threads the runtime may not start
#pragma omp parallel num_threads(threads)
    {
      const auto me = static_cast<std::size_t>(omp_get_thread_num());
      auto& mine = local_[me];
      std::vector<float>& acc = acc_[me];
      std::array<SwapBlock, kKernelCalls> blk{};
#pragma omp for schedule(dynamic, 1)
      for (std::size_t tile = 0; tile < tiles; ++tile) {
        if (late.load(std::memory_order_relaxed)) continue;
        if (Clock::now() > deadline) {
          late.store(true, std::memory_order_relaxed);
          continue;
        }
        const std::size_t y0 = tile * kTileCols, y1 = std::min(cols, y0 + kTileCols);
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (std::size_t k = 0; k < in_.chunks; ++k) {
          for (std::size_t i = 0; i < kScoreBlock; ++i) {
            SwapBlock& b = blk[i / kSwapBlock];
            b.thr_x[i % kSwapBlock] = xs[i] == kNone ? zeros_.data() : state_.thr(xs[i], k);
            b.mag_x[i % kSwapBlock] = xs[i] == kNone ? zeros_.data() : state_.mag(xs[i], k);
          }
          for (std::size_t y = y0; y < y1; ++y)
            for (std::size_t call = 0; call < kKernelCalls; ++call)
              kernel_(state_.thr(y, k), state_.mag(y, k), blk[call], in_.chunk_rows,
                      acc.data() + ((y - y0) * kKernelCalls + call) * kSwapAccFloats);
        }
        for (std::size_t y = y0; y < y1; ++y) {
          if (frozen[y] != 0) continue;
          const std::uint32_t sy = state_.stripe_of(y);
          for (std::size_t i = 0; i < kScoreBlock; ++i) {
            const std::uint32_t x = xs[i];
            if (x == kNone || state_.stripe_of(x) == sy) continue;
            const float* a = acc.data() + ((y - y0) * kKernelCalls + i / kSwapBlock) * kSwapAccFloats;
            const std::size_t slot = i % kSwapBlock;
            const double g = (static_cast<double>(fold_lanes(a + slot * kSwapLanes)) +
                              static_cast<double>(fold_lanes(a + (kSwapBlock + slot) * kSwapLanes))) -
                             (state_.offset(x) + state_.offset(y));
            const Best cand{g, static_cast<std::uint32_t>(y)};
            if (better(cand, mine[i])) mine[i] = cand;
          }
        }
      }
    }
    if (late.load()) return false;
    for (std::size_t i = 0; i < kScoreBlock; ++i) {
      best[i] = Best{};
      for (const auto& mine : local_)
        if (better(mine[i], best[i])) best[i] = mine[i];
    }
    return true;
  }

 private:
  const SwapState& state_;
  const ChannelMagnitudes& in_;
  int threads_;
  SwapGainFn kernel_;
  std::vector<float> zeros_;
  std::vector<std::array<Best, kScoreBlock>> local_;
  std::vector<std::vector<float>> acc_;  // per thread: a tile's accumulators
};

}  // namespace

SwapSearchOutcome channel_swap_search(const ChannelMagnitudes& in, const PermutationOptions& options,
                                      Clock::time_point deadline, ProgressLog& progress) {
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  SwapState state(in, options.pattern);
  BlockScorer scorer(state, in, threads, swap_gain_kernel(options.isa));
  SwapSearchOutcome out;
  const std::size_t cols = in.cols;
  double kept = state.total();
  progress.begin();

  // Channels visit in a seeded random order, kScoreBlock at a time: each block's best partners
  // are scored against the current stripes, then applied best first, each re-checked exactly
  // (an earlier swap of the block may have changed its stripes). A pass without a swap is a
  // local optimum: no single swap raises the kept magnitude.
  std::vector<std::uint32_t> order(cols);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(options.seed);
  for (std::size_t i = cols - 1; i > 0; --i) std::swap(order[i], order[static_cast<std::size_t>(rng() % (i + 1))]);

  std::array<std::uint32_t, kScoreBlock> xs{};
  std::array<Best, kScoreBlock> best{};
  std::array<std::size_t, kScoreBlock> rank{};
  std::vector<std::uint8_t> frozen(cols, 0);
  // One pass over all channels; returns the swaps applied.
  const auto pass = [&]() {
    std::size_t applied = 0;
    for (std::size_t b0 = 0; b0 < cols && !out.timed_out; b0 += kScoreBlock) {
      for (std::size_t i = 0; i < kScoreBlock; ++i)
        xs[i] = b0 + i < cols && frozen[order[b0 + i]] == 0 ? order[b0 + i] : kNone;
      if (!scorer.score(xs, frozen, best, deadline)) {
        out.timed_out = true;
        break;
      }
      std::iota(rank.begin(), rank.end(), std::size_t{0});
      std::sort(rank.begin(), rank.end(), [&](std::size_t a, std::size_t b) {
        return better(best[a], best[b]) || (!better(best[b], best[a]) && a < b);
      });
      for (std::size_t i : rank) {
        if (!(best[i].gain > 0) || best[i].partner == kNone) break;
        const std::uint32_t x = xs[i], y = best[i].partner, sx = state.stripe_of(x), sy = state.stripe_of(y);
        if (sx == sy) continue;
        const double exact = state.exact_gain(x, y);
        // The gain must beat the rounding of the two stripes' double sums to count.
        if (!(exact > 1e-12 * (state.stripe_cost(sx) + state.stripe_cost(sy)))) continue;
        state.swap(x, y);
        state.refresh(sx);
        state.refresh(sy);
        kept += exact;
        ++out.swaps;
        ++applied;
        progress.improved(kept);
      }
    }
    return applied;
  };

  // Bounded regressions (iterated local search): at a local optimum, kKickSwaps random channels
  // each take their least damaging swap and are frozen, the search re-converges around them,
  // then once more with everything free; the better optimum is kept, the other abandoned.
  double best_kept = kept;
  std::vector<std::uint32_t> best_members = state.all_members();
  std::size_t escapes_left = options.escape_attempts;
  bool any_frozen = false;
  while (!out.timed_out) {
    if (pass() > 0) continue;
    if (out.timed_out) break;
    if (any_frozen) {
      std::fill(frozen.begin(), frozen.end(), 0);
      any_frozen = false;
      continue;
    }
    if (kept > best_kept) {
      best_kept = kept;
      best_members = state.all_members();
    } else if (kept < best_kept) {
      state.assign(best_members);
      kept = best_kept;
    }
    if (escapes_left == 0) break;
    --escapes_left;
    ++out.escapes;
    for (std::size_t k = 0; k < kKickSwaps && !out.timed_out; ++k) {
      xs.fill(kNone);
      xs[0] = static_cast<std::uint32_t>(rng() % cols);
      if (frozen[xs[0]] != 0) continue;
      if (!scorer.score(xs, frozen, best, deadline)) {
        out.timed_out = true;
        break;
      }
      if (best[0].partner == kNone) continue;
      const std::uint32_t x = xs[0], y = best[0].partner;
      const std::uint32_t sx = state.stripe_of(x), sy = state.stripe_of(y);
      kept += state.exact_gain(x, y);
      state.swap(x, y);
      state.refresh(sx);
      state.refresh(sy);
      frozen[x] = frozen[y] = 1;
      any_frozen = true;
    }
  }
  if (kept > best_kept) {
    best_kept = kept;
    best_members = state.all_members();
  }
  state.assign(best_members);
  kept = best_kept;

  out.perm.resize(cols);
  for (std::size_t s = 0; s < state.stripes(); ++s)
    for (std::size_t t = 0; t < state.m(); ++t) out.perm[s * state.m() + t] = state.members(s)[t];
  out.kept = kept;
  return out;
}

}  // namespace twofour::prune::detail

namespace twofour::prune::detail {

ChannelMagnitudes channel_magnitudes(std::span<const float> weights, const sparse::GroupedShape& shape) {
  ChannelMagnitudes out;
  out.rows = shape.rows();
  out.cols = shape.in();
  const std::size_t padded = (out.rows + kSwapLanes - 1) / kSwapLanes * kSwapLanes;
  out.chunk_rows = std::min(kSwapRowChunk, padded);
  out.chunks = (out.rows + out.chunk_rows - 1) / out.chunk_rows;
  out.mag.assign(out.cols * out.padded_rows(), 0.0f);
  for (std::size_t r = 0; r < out.rows; ++r) {
    const std::size_t k = r / out.chunk_rows, rr = r % out.chunk_rows;
    for (std::size_t c = 0; c < out.cols; ++c) out.mag[out.chunk(c, k) + rr] = std::fabs(weights[shape.offset(r, c)]);
  }
  return out;
}

}  // namespace twofour::prune::detail
