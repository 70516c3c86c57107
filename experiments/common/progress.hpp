#pragma once
// Progress of a long experiment on stderr, one line per item:
//   [criteria] 3/24 cnn wanda seed 1 (elapsed 2m10s, ETA 14m05s)
// The ETA uses the mean time of the last (up to) 8 items actually computed, so that it follows a
// change of pace (a study runs the fast MLP before the CNN); items found in the run cache are
// counted as done but do not shorten the estimate.
#include <chrono>
#include <cstddef>
#include <deque>
#include <iosfwd>
#include <string>

namespace twofour::experiments {

// "45s", "3m07s", "1h02m"; "?" for a negative or non-finite value.
std::string duration_text(double seconds);

class ProgressReporter {
 public:
  ProgressReporter(std::string stage, std::size_t total);
  ProgressReporter(std::string stage, std::size_t total, std::ostream& out);

  // Item `label` is about to be computed: prints its line with the running ETA.
  void start(const std::string& label);
  // Item `label` was found finished (reused): counted, reported, not timed.
  void reuse(const std::string& label);
  // A free-form line under the current stage ("  [stage] text").
  void note(const std::string& text);
  // Prints the stage's total time; further calls print nothing.
  void finish();

  std::size_t done() const { return done_; }
  double elapsed_seconds() const;
  // Seconds left by the recent mean time per computed item (negative when none was timed yet).
  double eta_seconds() const;

 private:
  void close_timed_item();
  std::string stage_;
  std::size_t total_;
  std::ostream& out_;
  std::chrono::steady_clock::time_point begin_;
  std::chrono::steady_clock::time_point item_begin_;
  bool item_open_ = false;
  bool finished_ = false;
  std::size_t done_ = 0;      // items started or reused
  std::deque<double> recent_;  // seconds of the last computed items
};

}  // namespace twofour::experiments
