#include "common/progress.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace twofour::experiments {

std::string duration_text(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
  const auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

ProgressReporter::ProgressReporter(std::string stage, std::size_t total) : ProgressReporter(std::move(stage), total, std::cerr) {}

ProgressReporter::ProgressReporter(std::string stage, std::size_t total, std::ostream& out)
    : stage_(std::move(stage)), total_(total), out_(out), begin_(std::chrono::steady_clock::now()) {}

double ProgressReporter::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
}

double ProgressReporter::eta_seconds() const {
  if (recent_.empty()) return -1;
  const std::size_t left = total_ > done_ ? total_ - done_ : 0;
  // The item in progress counts as half done on average.
  const double pending = static_cast<double>(left) + (item_open_ ? 0.5 : 0.0);
  double sum = 0;
  for (double s : recent_) sum += s;
  return sum / static_cast<double>(recent_.size()) * pending;
}

void ProgressReporter::close_timed_item() {
  if (!item_open_) return;
  recent_.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - item_begin_).count());
  if (recent_.size() > 8) recent_.pop_front();
  item_open_ = false;
}

void ProgressReporter::start(const std::string& label) {
  close_timed_item();
  ++done_;
  out_ << "[" << stage_ << "] " << done_ << "/" << total_ << " " << label << " (elapsed "
       << duration_text(elapsed_seconds()) << ", ETA " << duration_text(eta_seconds()) << ")\n";
  out_.flush();
  item_open_ = true;
  item_begin_ = std::chrono::steady_clock::now();
}

void ProgressReporter::reuse(const std::string& label) {
  close_timed_item();
  ++done_;
  out_ << "[" << stage_ << "] " << done_ << "/" << total_ << " " << label << " (reused)\n";
  out_.flush();
}

void ProgressReporter::note(const std::string& text) {
  out_ << "  [" << stage_ << "] " << text << "\n";
  out_.flush();
}

void ProgressReporter::finish() {
  if (finished_) return;
  close_timed_item();
  finished_ = true;
  out_ << "[" << stage_ << "] done: " << done_ << "/" << total_ << " in " << duration_text(elapsed_seconds()) << "\n";
  out_.flush();
}

}  // namespace twofour::experiments
