#pragma once
// The research studies (docs/studies.md), each run by `twofour study NAME` and by `twofour reproduce
// --full` through run_study():
//   mask-quality  kept-L1 fraction and output reconstruction error of 2:4 (1-D, transposable
//                 exact and greedy, channel-permuted), 4:8 and unstructured 50% masks on every
//                 prunable layer of the trained dense models (no retraining);
//   criteria      magnitude, random, Wanda, SparseGPT, Taylor, magnitude + permutation at 2:4,
//                 one-shot and after the whitepaper's retraining, both models, over seeds;
//   sparsity      accuracy at 50 / 75 / 87.5% sparsity of unstructured, N:M (1:2, 2:4, 4:8, 8:16;
//                 1:4, 2:8; 1:8), transposable 2:4, 1x4 / 4x4 blocks and filter pruning, one-shot
//                 and retrained, plus an unstructured sweep 0-95% as the reference curve;
//   recipe        dense vs ASP (fixed mask after dense training) vs SR-STE from scratch at 2:4 and
//                 1:4, with the share of mask entries that change per epoch.
// Every study writes OUT/NAME/results.json, results.csv and PNG plots, and merges its section into
// OUT/REPORT.md. Dense models are trained once per (model, seed) under OUT/dense/ and shared by
// the studies; finished runs are cached under OUT/NAME/runs/, so an interrupted or repeated study
// redoes only what is missing.
#include "twofour/nn/data.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace twofour::experiments {

struct StudyOptions {
  bool full = false;            // full schedules and data, 3 seeds; else the quick variant
  int seeds = 0;                // 0: the mode's default (quick 1, full 3)
  int first_seed = 0;           // runs seeds first_seed .. first_seed + seeds - 1 (to split a study
                                // across processes sharing one `out`; a later run over all seeds
                                // reuses their cached runs and merges the tables)
  std::filesystem::path data = nn::kFashionMnistDir;
  std::size_t limit = 0;        // training images; 0: the mode's default (quick 4000, full all)
  std::size_t test_limit = 0;   // test images; 0: the mode's default (quick 2000, full all)
  std::filesystem::path out;    // required
  int threads = 0;              // OpenMP threads for training (0: OpenMP's default)
  std::vector<std::string> models = {"mlp", "cnn"};
  bool plots = true;            // draw PNGs (needs python3 + matplotlib; skipped with a warning)
};

// "mask-quality", "criteria", "sparsity", "recipe" (the order `reproduce --full` runs them).
const std::vector<std::string>& study_names();

// Runs one study; returns 0. Throws std::invalid_argument for an unknown name or bad options,
// nn::DataMissing when Fashion-MNIST is absent, io::FormatError for malformed data or checkpoints,
// std::runtime_error when outputs cannot be written.
int run_study(const std::string& name, const StudyOptions& options);

}  // namespace twofour::experiments
