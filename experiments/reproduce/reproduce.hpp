#pragma once
// `twofour reproduce`: the whitepaper's claim (Mishra et al. 2021, "Accelerating Sparse Deep
// Neural Networks", arXiv 2104.08378, §4 and Table 1–2): a network trained dense, pruned once to
// 2:4 by magnitude and retrained with the mask fixed (NVIDIA's ASP recipe) matches the dense
// network's accuracy, while the pruned-but-not-retrained ("one-shot") network loses accuracy.
// For each model (the MLP and the CNN of lib/nn/models.hpp) and seed it trains one ASP run
// (dense phase, prune, retrain; the dense-phase model is kept in the checkpoint), then evaluates
// the dense, one-shot and retrained models in fp32 and under exact tensor-core arithmetic
// (lib/nn/sim_inference.hpp: fp16 on sm_80 and sm_90, int8). Writes OUT/results.json,
// OUT/results.csv, OUT/*.png and OUT/REPORT.md; finished (model, seed) runs are cached under
// OUT/runs/ and reused, interrupted training resumes from its checkpoint.
#include "twofour/nn/data.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace twofour::experiments {

struct ReproduceOptions {
  bool full = false;           // full schedules (and, with --studies, the studies of docs/studies.md)
  int seeds = 0;               // 0: the mode's default (quick 2, full 3)
  int first_seed = 0;          // seeds first_seed .. first_seed + seeds - 1 (to split runs across machines)
  std::filesystem::path out = "twofour-reproduce";
  std::filesystem::path data = nn::kFashionMnistDir;
  std::vector<std::string> models = {"mlp", "cnn"};
  int threads = 0;             // OpenMP threads (0: OpenMP's default)
  // Overrides of the mode's data slices (0: the mode's choice); for CI and experiments.
  std::size_t train_limit = 0;  // training images
  std::size_t eval_limit = 0;   // test images: per-epoch accuracy and the final table (all arithmetics)
  int epochs = 0;               // epochs per phase (0: the mode's choice)
  bool plots = true;
  bool studies = false;         // also run every `twofour study` (in --full: on by default)
  bool dry_run = false;         // print the plan (runs, their folders, cached or not) and stop
};

// The schedule of one model in one mode.
struct ReproducePlan {
  std::string model;
  int epochs = 0;                 // per phase: dense, then retrain
  std::size_t train_limit = 0;    // 0: all 60000
  std::size_t eval_limit = 0;     // 0: all 10000 test images
  std::size_t calibration = 1000; // training images for the int8 activation scales
};
ReproducePlan reproduce_plan(const std::string& model, const ReproduceOptions& options);

// Runs everything; returns 0 when the report was written. Throws std::invalid_argument for bad
// options, nn::DataMissing when the data is absent, io::FormatError for corrupt data or
// checkpoints, std::runtime_error when outputs cannot be written.
int run_reproduce(const ReproduceOptions& options);

}  // namespace twofour::experiments
