#pragma once
// The efficacy-against-time record shared by the permutation searches (internal to lib).
#include "twofour/prune/permutation.hpp"

#include <chrono>
#include <vector>

namespace twofour::prune::detail {

using Clock = std::chrono::steady_clock;

// Records the best kept magnitude as the search improves it, thinned so that a long search keeps
// a readable curve (about 60 points per factor of 20 in time) without a clock read per step.
class ProgressLog {
 public:
  ProgressLog(Clock::time_point start, double kept_default, double kept_bound)
      : start_(start), kept_default_(kept_default), gap_(kept_bound - kept_default) {}

  double efficacy(double kept) const { return gap_ > 0 ? (kept - kept_default_) / gap_ : 1.0; }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  // The search proper starts (after the set-up): efficacy 0 at this time.
  void begin() { points_.push_back({seconds(), 0.0}); last_kept_ = kept_default_; }
  // The best kept magnitude is now `kept`.
  void improved(double kept) {
    if (!(kept > last_kept_)) return;
    const double t = seconds();
    if (!points_.empty() && t - points_.back().seconds < std::max(1e-3, 0.05 * points_.back().seconds)) return;
    points_.push_back({t, efficacy(kept)});
    last_kept_ = kept;
  }
  // The final point is the result's own efficacy (recomputed from the weights by the caller), so
  // a point recorded for the same state is replaced rather than repeated; `final_kept` is the
  // search's own running total for that state.
  std::vector<PermutationProgress> finish(double final_kept, double final_efficacy, double final_seconds) {
    if (!points_.empty() && points_.size() > 1 && final_kept <= last_kept_) points_.pop_back();
    if (points_.empty() || final_efficacy > points_.back().efficacy)
      points_.push_back({std::max(final_seconds, points_.empty() ? 0.0 : points_.back().seconds), final_efficacy});
    return std::move(points_);
  }

 private:
  Clock::time_point start_;
  double kept_default_, gap_;
  double last_kept_ = 0;
  std::vector<PermutationProgress> points_;
};

}  // namespace twofour::prune::detail
