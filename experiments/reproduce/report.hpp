#pragma once
// The outputs of `twofour reproduce`: results.json / results.csv (one row per model, seed, model
// variant and arithmetic), plots (experiments/plots/reproduce.py) and REPORT.md with the claim,
// the setup, the table (mean ± std over seeds), the plots and whether the claim held.
#include "reproduce/reproduce.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace twofour::experiments {

struct ReproduceSummary {
  std::string mode;  // "quick" or "full"
  int seeds = 0;
  int threads = 0;
  std::vector<ReproducePlan> plans;
  std::vector<nlohmann::json> runs;  // the per-(model, seed) records of run_reproduce
};

// The claim's test: the retrained 2:4 model's mean fp32 accuracy is at most this many percentage
// points below the dense model's (the bar; the whitepaper reports differences of this size).
inline constexpr double kMatchTolerancePoints = 0.3;

// One result row per (run, variant, arithmetic).
std::vector<nlohmann::json> reproduce_rows(const ReproduceSummary& summary);

void write_reproduce_outputs(const std::filesystem::path& out, const ReproduceSummary& summary, bool plots);

// The accuracy table and verdicts as plain text (the command's stdout).
std::string summary_text(const ReproduceSummary& summary);

}  // namespace twofour::experiments
