#include "twofour/prune/permutation.hpp"

#include "permutation_progress.hpp"
#include "permutation_swaps.hpp"
#include "swap_gain_kernel.hpp"
#include "twofour/prune/finite.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <cstdio>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace twofour::prune {
namespace {

using detail::Clock;

// Largest stripe group handled: g * M columns as a bit mask (65536-entry lookup at most).
constexpr std::size_t kMaxGroupColumns = 16;

void check_weights(std::span<const float> weights, const sparse::GroupedShape& shape, sparse::NMPattern p) {
  sparse::validate(p);
  if (weights.size() != shape.numel())
    throw std::invalid_argument("permutation: weights have " + std::to_string(weights.size()) + " elements, shape " +
                                sparse::shape_string(shape.shape()) + " needs " + std::to_string(shape.numel()));
  if (shape.in() % static_cast<std::size_t>(p.m) != 0)
    throw std::invalid_argument("permutation: input channels (" + std::to_string(shape.in()) +
                                ") are not a multiple of M = " + std::to_string(p.m));
  require_finite_weights(weights, shape.shape());
}

// |w| of the ASP view, column-major: column c is rows() contiguous floats, so one stripe's
// kept magnitude is a vectorisable loop over rows.
std::vector<float> column_magnitudes(std::span<const float> weights, const sparse::GroupedShape& shape) {
  const std::size_t rows = shape.rows();
  std::vector<float> mag(shape.numel());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < shape.in(); ++c) mag[c * rows + r] = std::fabs(weights[shape.offset(r, c)]);
  return mag;
}

// Work of the stripe-group search's first pass, in subset-cost row evaluations: C(S, g) groups
// times C(gM, M) subsets times rows. Above kStripeGroupWork the automatic method swaps channels
// instead. Measured with 10 s bounds on Gaussian layers (2-core machine, busy): 128 x 512 (7e7)
// stripe groups 42.0% in 3.8 s, swaps 42.7% in 8.2 s; 64 x 1024 (1.5e8) 58.6% vs 57.6%; 512 x 512
// (2.9e8) 22.4% vs 22.9%; 256 x 1024 (5.8e8) 30.1% vs 31.8%; wider layers only swaps improve.
constexpr double kStripeGroupWork = 2e8;
// Up to this much first-pass work (a few seconds), the automatic method follows the channel swaps'
// first local optimum with stripe groups. Measured with 10 s bounds (same machine): 300 x 784
// (4e8) groups alone 29.2%, swaps with regressions 28.9%, swaps then groups 30.1%; 256 x 1024
// 30.1% / 31.8% / 32.0%; 64 x 1024 with the method forced: 58.6% in 7.6 s / 57.6% / 58.6% in 4.7 s.
constexpr double kRefineWork = 1.5e9;

double stripe_group_work(std::size_t stripes, std::size_t g, std::size_t m, std::size_t rows) {
  double groups = 1, subsets = 1;
  for (std::size_t i = 0; i < g; ++i) groups = groups * static_cast<double>(stripes - i) / static_cast<double>(i + 1);
  for (std::size_t i = 0; i < m; ++i) subsets = subsets * static_cast<double>(g * m - i) / static_cast<double>(i + 1);
  return groups * subsets * static_cast<double>(rows);
}

// Sum over rows of the N largest of the M columns `cols`. The result depends only on the SET of
// columns (max/min and a commutative sum per row, then the same row order), so the current state
// and a candidate are compared without rounding artefacts.
class SetCost {
 public:
  SetCost(const std::vector<float>& mag, std::size_t rows, sparse::NMPattern p)
      : mag_(mag), rows_(rows), n_(static_cast<std::size_t>(p.n)), m_(static_cast<std::size_t>(p.m)) {}

  double operator()(const std::size_t* cols) const {
    if (n_ == 2 && m_ == 4) return two_of_four(cols);
    std::array<float, sparse::kMaxGroupSize> v{};
    double total = 0;
    for (std::size_t r = 0; r < rows_; ++r) {
      for (std::size_t t = 0; t < m_; ++t) v[t] = mag_[cols[t] * rows_ + r];
      std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n_), v.begin() + static_cast<std::ptrdiff_t>(m_),
                        std::greater<float>());
      float s = 0;
      for (std::size_t t = 0; t < n_; ++t) s += v[t];
      total += static_cast<double>(s);
    }
    return total;
  }

 private:
  double two_of_four(const std::size_t* cols) const {
    const float* a = mag_.data() + cols[0] * rows_;
    const float* b = mag_.data() + cols[1] * rows_;
    const float* c = mag_.data() + cols[2] * rows_;
    const float* d = mag_.data() + cols[3] * rows_;
    double total = 0;
    // Blocks of 64 rows summed in float (vectorised), blocks in double.
    for (std::size_t r0 = 0; r0 < rows_; r0 += 64) {
      const std::size_t r1 = std::min(rows_, r0 + 64);
      float s = 0;
      for (std::size_t r = r0; r < r1; ++r) {
        const float hi1 = a[r] > b[r] ? a[r] : b[r], lo1 = a[r] > b[r] ? b[r] : a[r];
        const float hi2 = c[r] > d[r] ? c[r] : d[r], lo2 = c[r] > d[r] ? d[r] : c[r];
        const float top = hi1 > hi2 ? hi1 : hi2, mid = hi1 > hi2 ? hi2 : hi1;
        const float lo = lo1 > lo2 ? lo1 : lo2;
        s += top + (mid > lo ? mid : lo);
      }
      total += static_cast<double>(s);
    }
    return total;
  }

  const std::vector<float>& mag_;
  std::size_t rows_, n_, m_;
};

// All distinct partitions of g*M local columns into g sets of M (the order of sets and of columns
// inside a set does not matter): set k holds the smallest column not in sets < k. For 2:4,
// g = 2 gives C(8,4)/2 = 35, g = 3 gives 5775. Partitions are stored as g subset indices into
// `subsets` (bit masks of the local columns), so every subset's cost is computed once per group.
struct PartitionTable {
  std::vector<std::uint32_t> subsets;        // C(gM, M) masks
  std::vector<std::uint32_t> parts;          // partitions * g subset indices; partition 0 = identity
  std::vector<std::vector<std::size_t>> members;  // local columns of each subset, ascending
  std::size_t g = 0;

  PartitionTable(std::size_t groups, std::size_t m) : g(groups) {
    const std::size_t width = g * m;
    std::vector<std::int32_t> index(std::size_t{1} << width, -1);
    for (std::uint32_t mask = 0; mask < (1u << width); ++mask)
      if (static_cast<std::size_t>(__builtin_popcount(mask)) == m) {
        index[mask] = static_cast<std::int32_t>(subsets.size());
        subsets.push_back(mask);
        std::vector<std::size_t> cols;
        for (std::size_t b = 0; b < width; ++b)
          if ((mask >> b) & 1u) cols.push_back(b);
        members.push_back(std::move(cols));
      }
    std::vector<std::uint32_t> current;
    // Depth-first in increasing mask order of each set, so the first partition is the identity.
    std::function<void(std::uint32_t)> rec = [&](std::uint32_t used) {
      if (current.size() == g) {
        for (auto s : current) parts.push_back(static_cast<std::uint32_t>(index[s]));
        return;
      }
      const auto lowest = static_cast<std::uint32_t>(__builtin_ctz(~used));
      const std::uint32_t free = ((1u << width) - 1u) & ~used;
      // Sets containing `lowest`, drawn from the free columns, in increasing order of their masks.
      std::vector<std::uint32_t> choices;
      for (std::uint32_t s : subsets)
        if ((s & ~free) == 0 && ((s >> lowest) & 1u)) choices.push_back(s);
      std::sort(choices.begin(), choices.end(), [](std::uint32_t x, std::uint32_t y) {
        // Lexicographic on the ascending column lists = prefer the lower columns.
        const std::uint32_t diff = x ^ y;
        if (diff == 0) return false;
        const auto low = __builtin_ctz(diff);
        return ((x >> low) & 1u) != 0;
      });
      for (std::uint32_t s : choices) {
        current.push_back(s);
        rec(used | s);
        current.pop_back();
      }
    };
    rec(0);
  }
  std::size_t count() const { return parts.size() / g; }
};

struct GroupBest {
  double gain = 0;            // best partition total - current total
  std::uint32_t partition = 0;
};

}  // namespace

std::string_view permutation_method_name(PermutationMethod method) {
  switch (method) {
    case PermutationMethod::stripe_groups: return "stripe-groups";
    case PermutationMethod::channel_swaps: return "channel-swaps";
    case PermutationMethod::automatic: break;
  }
  return "auto";
}

PermutationMethod parse_permutation_method(std::string_view name) {
  for (auto m : {PermutationMethod::automatic, PermutationMethod::stripe_groups, PermutationMethod::channel_swaps})
    if (name == permutation_method_name(m)) return m;
  throw std::invalid_argument("unknown permutation method '" + std::string(name) +
                              "' (expected auto, stripe-groups or channel-swaps)");
}

double efficacy_at(const PermutationResult& result, double seconds) {
  double e = 0;
  for (const PermutationProgress& p : result.progress)
    if (p.seconds <= seconds) e = p.efficacy;
  return e;
}

std::string progress_summary(const PermutationResult& result) {
  std::string s = "efficacy against time:";
  char buf[64];
  bool first = true;
  for (double t = 0.1, step = 3; t < result.seconds; t *= step, step = step == 3 ? 10.0 / 3 : 3) {
    std::snprintf(buf, sizeof buf, "%s %g s %.1f%%", first ? "" : ",", t, 100 * efficacy_at(result, t));
    s += buf;
    first = false;
  }
  std::snprintf(buf, sizeof buf, "%s %.1f s %.1f%% (final)", first ? "" : ",", result.seconds, 100 * result.efficacy);
  return s + buf;
}

void validate_permutation(std::span<const std::int64_t> perm, std::size_t n) {
  if (perm.size() != n)
    throw std::invalid_argument("permutation has " + std::to_string(perm.size()) + " entries, " + std::to_string(n) +
                                " channels need as many");
  std::vector<std::uint8_t> seen(n, 0);
  for (std::size_t j = 0; j < n; ++j) {
    const std::int64_t p = perm[j];
    if (p < 0 || static_cast<std::uint64_t>(p) >= n || seen[static_cast<std::size_t>(p)] != 0)
      throw std::invalid_argument("not a permutation of 0.." + std::to_string(n - 1) + ": entry " + std::to_string(j) +
                                  " is " + std::to_string(p) + (p >= 0 && static_cast<std::uint64_t>(p) < n ? " (repeated)" : ""));
    seen[static_cast<std::size_t>(p)] = 1;
  }
}

std::vector<std::int64_t> invert_permutation(std::span<const std::int64_t> perm) {
  validate_permutation(perm, perm.size());
  std::vector<std::int64_t> inv(perm.size());
  for (std::size_t j = 0; j < perm.size(); ++j) inv[static_cast<std::size_t>(perm[j])] = static_cast<std::int64_t>(j);
  return inv;
}

std::vector<float> permute_input_channels(std::span<const float> weights, std::span<const std::size_t> shape,
                                          std::span<const std::int64_t> perm) {
  const sparse::GroupedShape g(shape);
  if (weights.size() != g.numel())
    throw std::invalid_argument("permute_input_channels: " + std::to_string(weights.size()) + " weights for shape " +
                                sparse::shape_string(shape));
  validate_permutation(perm, g.in());
  const std::size_t sp = g.spatial(), in = g.in();
  std::vector<float> out(weights.size());
  for (std::size_t k = 0; k < g.out(); ++k)
    for (std::size_t j = 0; j < in; ++j) {
      const float* src = weights.data() + (k * in + static_cast<std::size_t>(perm[j])) * sp;
      std::copy(src, src + sp, out.data() + (k * in + j) * sp);
    }
  return out;
}

std::vector<float> permute_output_channels(std::span<const float> weights, std::span<const std::size_t> shape,
                                           std::span<const std::int64_t> perm) {
  if (shape.empty() || shape[0] == 0)
    throw std::invalid_argument("permute_output_channels: empty shape " + sparse::shape_string(shape));
  std::size_t numel = 1;
  for (auto d : shape) numel *= d;
  if (weights.size() != numel)
    throw std::invalid_argument("permute_output_channels: " + std::to_string(weights.size()) + " values for shape " +
                                sparse::shape_string(shape));
  validate_permutation(perm, shape[0]);
  const std::size_t inner = numel / shape[0];
  std::vector<float> out(weights.size());
  for (std::size_t j = 0; j < shape[0]; ++j) {
    const float* src = weights.data() + static_cast<std::size_t>(perm[j]) * inner;
    std::copy(src, src + inner, out.data() + j * inner);
  }
  return out;
}

std::vector<float> permute_vector(std::span<const float> values, std::span<const std::int64_t> perm) {
  const std::size_t shape[1] = {values.size()};
  return permute_output_channels(values, shape, perm);
}

double nm_kept_magnitude(std::span<const float> weights, const sparse::GroupedShape& shape, sparse::NMPattern pattern,
                         std::span<const std::int64_t> perm) {
  check_weights(weights, shape, pattern);
  if (!perm.empty()) validate_permutation(perm, shape.in());
  const std::size_t m = static_cast<std::size_t>(pattern.m), n = static_cast<std::size_t>(pattern.n);
  std::array<double, sparse::kMaxGroupSize> v{};
  double total = 0;
  for (std::size_t r = 0; r < shape.rows(); ++r)
    for (std::size_t c0 = 0; c0 < shape.in(); c0 += m) {
      for (std::size_t t = 0; t < m; ++t) {
        const std::size_t c = perm.empty() ? c0 + t : static_cast<std::size_t>(perm[c0 + t]);
        v[t] = std::fabs(static_cast<double>(weights[shape.offset(r, c)]));
      }
      std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.begin() + static_cast<std::ptrdiff_t>(m),
                        std::greater<double>());
      for (std::size_t t = 0; t < n; ++t) total += v[t];
    }
  return total;
}

double per_row_bound_magnitude(std::span<const float> weights, const sparse::GroupedShape& shape,
                               sparse::NMPattern pattern) {
  check_weights(weights, shape, pattern);
  const std::size_t keep = shape.in() / static_cast<std::size_t>(pattern.m) * static_cast<std::size_t>(pattern.n);
  std::vector<double> row(shape.in());
  double total = 0;
  for (std::size_t r = 0; r < shape.rows(); ++r) {
    for (std::size_t c = 0; c < shape.in(); ++c) row[c] = std::fabs(static_cast<double>(weights[shape.offset(r, c)]));
    std::nth_element(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(keep), row.end(), std::greater<double>());
    for (std::size_t c = 0; c < keep; ++c) total += row[c];
  }
  return total;
}

PermutationResult search_permutation(std::span<const float> weights, const sparse::GroupedShape& shape,
                                     const PermutationOptions& options) {
  const auto start = Clock::now();
  check_weights(weights, shape, options.pattern);
  if (options.stripes_per_group != 2 && options.stripes_per_group != 3)
    throw std::invalid_argument("permutation: stripes_per_group must be 2 or 3, not " +
                                std::to_string(options.stripes_per_group));
  if (!(options.time_limit_seconds >= 0.0))
    throw std::invalid_argument("permutation: time_limit_seconds must be >= 0");
  const std::size_t m = static_cast<std::size_t>(options.pattern.m);
  const std::size_t cols = shape.in(), rows = shape.rows(), stripes = cols / m;
  if (options.threads < 0) throw std::invalid_argument("permutation: threads must be >= 0 (0 = all)");
  (void)detail::swap_gain_kernel(options.isa);  // an unsupported instruction set fails up front
  const std::size_t g = std::min(options.stripes_per_group, stripes);

  PermutationResult res;
  res.permutation.resize(cols);
  std::iota(res.permutation.begin(), res.permutation.end(), std::int64_t{0});
  for (float w : weights) res.total_l1 += std::fabs(static_cast<double>(w));
  res.kept_default = nm_kept_magnitude(weights, shape, options.pattern);
  res.kept_bound = per_row_bound_magnitude(weights, shape, options.pattern);
  res.method = options.method != PermutationMethod::automatic ? options.method
               : stripe_group_work(stripes, std::max<std::size_t>(g, 2), m, rows) > kStripeGroupWork
                   ? PermutationMethod::channel_swaps
                   : PermutationMethod::stripe_groups;
  detail::ProgressLog progress(start, res.kept_default, res.kept_bound);
  double tracked_kept = res.kept_default;  // the search's own total for res.permutation
  const auto finish = [&]() {
    res.kept_permuted = nm_kept_magnitude(weights, shape, options.pattern, res.permutation);
    const double gap = res.kept_bound - res.kept_default;
    res.efficacy = gap > 0 ? (res.kept_permuted - res.kept_default) / gap : 1.0;
    res.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    res.progress = progress.finish(tracked_kept, res.efficacy, res.seconds);
    return res;
  };
  // Clamped so that an "unbounded" request (1e300, infinity) still converts to clock ticks.
  const double bound_seconds = std::min(options.time_limit_seconds, 1e9);
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(bound_seconds));
  if (stripes < 2) {
    progress.begin();
    return finish();
  }
  // Channel swaps; on a layer whose stripe-group pass is affordable, they run to their first local
  // optimum and the stripe-group search continues from there (a larger neighbourhood: every
  // re-partition of two stripes), else their own bounded regressions use the time left.
  const bool stripe_groups_possible = g >= 2 && g * m <= kMaxGroupColumns;
  const bool refine = res.method == PermutationMethod::channel_swaps && options.method == PermutationMethod::automatic &&
                      stripe_groups_possible && stripe_group_work(stripes, g, m, rows) <= kRefineWork;
  double start_kept = res.kept_default;  // of the arrangement the stripe-group search starts from
  if (res.method == PermutationMethod::channel_swaps) {
    PermutationOptions swap_options = options;
    if (refine) swap_options.escape_attempts = 0;
    const auto swaps = detail::channel_swap_search(detail::channel_magnitudes(weights, shape), swap_options, deadline, progress);
    for (std::size_t j = 0; j < cols; ++j) res.permutation[j] = static_cast<std::int64_t>(swaps.perm[j]);
    tracked_kept = start_kept = swaps.kept;
    res.improvements = swaps.swaps;
    res.escapes = swaps.escapes;
    res.timed_out = swaps.timed_out;
    if (!refine || swaps.timed_out) return finish();
    res.refined_by_stripe_groups = true;
  }
  if (g * m > kMaxGroupColumns)
    throw std::invalid_argument("permutation: a group of " + std::to_string(g) + " stripes of " + std::to_string(m) +
                                " columns exceeds the " + std::to_string(kMaxGroupColumns) + "-column search limit");

  const std::vector<float> mag = column_magnitudes(weights, shape);
  const SetCost cost(mag, rows, options.pattern);
  const PartitionTable table(g, m);
  if (!res.refined_by_stripe_groups) progress.begin();  // the swaps began the record otherwise

  std::vector<std::size_t> perm(cols);
  for (std::size_t j = 0; j < cols; ++j) perm[j] = static_cast<std::size_t>(res.permutation[j]);  // identity or swaps'
  std::vector<double> stripe_kept(stripes);
  for (std::size_t s = 0; s < stripes; ++s) stripe_kept[s] = cost(perm.data() + s * m);

  // Every combination of g stripes, ascending.
  std::vector<std::uint32_t> combos;
  {
    std::vector<std::uint32_t> c(g);
    std::function<void(std::size_t, std::uint32_t)> rec = [&](std::size_t depth, std::uint32_t from) {
      if (depth == g) {
        combos.insert(combos.end(), c.begin(), c.end());
        return;
      }
      for (std::uint32_t s = from; s < stripes; ++s) {
        c[depth] = s;
        rec(depth + 1, s + 1);
      }
    };
    rec(0, 0);
  }
  const std::size_t ncombos = combos.size() / g;

  std::vector<double> subset_kept(table.subsets.size());
  std::vector<std::size_t> local(g * m), cols_of(m);
  // Fills subset_kept for the current columns of combo k; returns the current total of its stripes.
  const auto eval_subsets = [&](std::size_t k) {
    double current = 0;
    for (std::size_t i = 0; i < g; ++i) {
      const std::size_t s = combos[k * g + i];
      current += stripe_kept[s];
      for (std::size_t t = 0; t < m; ++t) local[i * m + t] = perm[s * m + t];
    }
    for (std::size_t q = 0; q < table.subsets.size(); ++q) {
      for (std::size_t t = 0; t < m; ++t) cols_of[t] = local[table.members[q][t]];
      subset_kept[q] = cost(cols_of.data());
    }
    return current;
  };
  const auto partition_total = [&](std::size_t p) {
    double t = 0;
    for (std::size_t i = 0; i < g; ++i) t += subset_kept[table.parts[p * g + i]];
    return t;
  };
  std::vector<GroupBest> best(ncombos);
  const auto evaluate = [&](std::size_t k) {
    const double current = eval_subsets(k);
    GroupBest b;
    double top = partition_total(0);
    for (std::size_t p = 1; p < table.count(); ++p) {
      const double t = partition_total(p);
      if (t > top) {
        top = t;
        b.partition = static_cast<std::uint32_t>(p);
      }
    }
    b.gain = top - current;
    best[k] = b;
  };
  // Rewrites the stripes of combo k with partition p (subset_kept must hold combo k's values).
  const auto apply = [&](std::size_t k, std::size_t p) {
    for (std::size_t i = 0; i < g; ++i) {
      const std::size_t s = combos[k * g + i];
      for (std::size_t t = 0; t < m; ++t) local[i * m + t] = perm[s * m + t];
    }
    for (std::size_t i = 0; i < g; ++i) {
      const std::size_t s = combos[k * g + i];
      const std::uint32_t q = table.parts[p * g + i];
      for (std::size_t t = 0; t < m; ++t) perm[s * m + t] = local[table.members[q][t]];
      stripe_kept[s] = subset_kept[q];
    }
    // Re-evaluate only the groups sharing a stripe with k (incremental update).
    for (std::size_t j = 0; j < ncombos; ++j) {
      bool touched = false;
      for (std::size_t a = 0; a < g && !touched; ++a)
        for (std::size_t b = 0; b < g && !touched; ++b) touched = combos[j * g + a] == combos[k * g + b];
      if (touched) evaluate(j);
    }
  };

  for (std::size_t k = 0; k < ncombos; ++k) {
    if ((k & 255u) == 0 && Clock::now() > deadline) {
      res.timed_out = true;
      return finish();
    }
    evaluate(k);
  }

  double current_total = std::accumulate(stripe_kept.begin(), stripe_kept.end(), 0.0);
  double best_total = current_total;
  const double initial_total = current_total;  // progress is reported relative to start_kept
  std::vector<std::size_t> best_perm = perm;
  // A gain must beat accumulated rounding of the float row sums to count as an improvement.
  const double eps = 1e-9 * std::max(1.0, res.total_l1);
  std::mt19937_64 rng(options.seed);
  std::size_t escapes_left = options.escape_attempts;
  std::size_t tabu = ncombos;  // the group just regressed may not be undone at once

  while (true) {
    if (Clock::now() > deadline) {
      res.timed_out = true;
      break;
    }
    std::size_t arg = ncombos;
    double top = eps;
    for (std::size_t k = 0; k < ncombos; ++k)
      if (k != tabu && best[k].gain > top) {
        top = best[k].gain;
        arg = k;
      }
    if (arg < ncombos) {
      eval_subsets(arg);
      apply(arg, best[arg].partition);
      current_total += top;
      ++res.improvements;
      tabu = ncombos;
      if (current_total > best_total + eps) {
        best_total = current_total;
        best_perm = perm;
        progress.improved(start_kept + (best_total - initial_total));
      }
      continue;
    }
    if (escapes_left == 0) break;
    --escapes_left;
    // Bounded regression: a random group takes its least damaging non-identity re-partition.
    const std::size_t k = static_cast<std::size_t>(rng() % ncombos);
    const double current = eval_subsets(k);
    std::size_t pick = 1;
    double pick_total = partition_total(1);
    for (std::size_t p = 2; p < table.count(); ++p) {
      const double t = partition_total(p);
      if (t > pick_total) {
        pick_total = t;
        pick = p;
      }
    }
    apply(k, pick);
    current_total += pick_total - current;
    tabu = k;
    ++res.escapes;
  }

  for (std::size_t j = 0; j < cols; ++j) res.permutation[j] = static_cast<std::int64_t>(best_perm[j]);
  tracked_kept = start_kept + (best_total - initial_total);
  return finish();
}

sparse::Mask unpermute_mask(const sparse::Mask& permuted, std::span<const std::size_t> shape,
                            std::span<const std::int64_t> perm) {
  const std::vector<float> as_float(permuted.begin(), permuted.end());
  const std::vector<float> back = permute_input_channels(as_float, shape, invert_permutation(perm));
  sparse::Mask out(back.size());
  for (std::size_t i = 0; i < back.size(); ++i) out[i] = back[i] != 0.0f ? 1 : 0;
  return out;
}

}  // namespace twofour::prune
