#pragma once
// What every study shares: the resolved settings of the mode (seeds, data slice, epochs), the
// data, the dense models (trained once per model and seed, checkpointed under OUT/dense/ and
// reused), retraining a mask from such a dense model, the run cache, the result metadata, plots
// and the REPORT.md section.
#include "common/progress.hpp"
#include "common/report.hpp"
#include "common/run_cache.hpp"
#include "study/study.hpp"
#include "twofour/nn/train.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>

namespace twofour::experiments {

class StudyContext {
 public:
  // Validates the options and loads the data. `name` is the study's folder under options.out.
  StudyContext(std::string name, const StudyOptions& options);

  const StudyOptions& options() const { return options_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& dir() const { return dir_; }  // OUT/NAME
  const RunCache& cache() const { return cache_; }
  int seeds() const { return seeds_; }
  // The seeds this run covers: first_seed .. first_seed + seeds - 1.
  std::vector<std::uint64_t> seed_list() const;
  const std::vector<std::string>& models() const { return options_.models; }
  // The study's grid: run(model, seed, item, progress) -> one results row, for every model, seed
  // and item in that order, under one progress bar named after the study.
  template <class Item, class Run>
  std::vector<nlohmann::json> run_grid(const std::vector<Item>& items, Run run) {
    ProgressReporter progress(name_, models().size() * static_cast<std::size_t>(seeds_) * items.size());
    std::vector<nlohmann::json> rows;
    for (const auto& model : models())
      for (const std::uint64_t seed : seed_list())
        for (const Item& item : items) rows.push_back(run(model, seed, item, progress));
    progress.finish();
    return rows;
  }
  int epochs(const std::string& model) const;
  const nn::Dataset& train_data() const { return train_; }
  const nn::Dataset& test_data() const { return test_; }
  // Calibration images for data-aware criteria (the first 512 training images) and held-out
  // images for reconstruction errors (the next 256, never calibrated on); halves of the slice
  // when it holds fewer than 1024.
  nn::Dataset calibration() const;
  nn::Dataset heldout() const;

  // The dense training config of (model, seed) (SGD momentum 0.9, lr 0.05, wd 5e-4, cosine, batch 128).
  nn::TrainConfig dense_config(const std::string& model, std::uint64_t seed) const;

  struct Dense {
    std::unique_ptr<nn::Model> model;
    double accuracy = 0;  // test accuracy
    std::filesystem::path checkpoint;
  };
  // Trains (or resumes, or reloads) the dense model; memoised per (model, seed).
  Dense& dense(const std::string& model, std::uint64_t seed, ProgressReporter& progress);

  // ASP from the dense checkpoint: prune with `provider` (named `mask_name`), evaluate (one-shot),
  // retrain the same epochs with the mask fixed. The run's checkpoint lives in the cache folder of
  // `key` while it runs (so an interruption resumes) and is deleted once the caller stores results.
  nn::TrainResult retrain(const std::string& model, std::uint64_t seed, const std::string& key,
                          const std::string& mask_name, nn::MaskProvider provider, ProgressReporter& progress,
                          sparse::NMPattern pattern = {2, 4});
  // Any workflow from scratch (SR-STE, longer dense), checkpointed under the cache folder of `key`.
  nn::TrainResult train_run(const nn::TrainConfig& config, const std::string& key, ProgressReporter& progress);
  // Removes the run folder of `key` (after its results were stored).
  void drop_run_files(const std::string& key) const;

  // Fields every row carries: study, model, seed, git revision, mode and data slice.
  nlohmann::json row_base(const std::string& model, std::uint64_t seed) const;
  // The results.json "meta" object.
  nlohmann::json meta() const;
  // One-line description of the setup for REPORT.md.
  std::string setup_text() const;

  // "holds" when a >= b - tolerance (accuracies in %), else "**differs**"; either way followed by
  // "(within noise)" when |a - b| is below the 95% half-width of the difference of two test
  // accuracies on this test set and seed count (binomial: 1.96 sqrt(2 p (1 - p) / (n * seeds))).
  std::string verdict(double a, double b, double tolerance = 0.0) const;

  // Writes results.json/.csv, runs `plot_script` (if any) and merges the REPORT.md section.
  void finish(const std::vector<nlohmann::json>& rows, const std::string& plot_script, const ReportSection& section);

 private:
  nn::TrainHooks hooks(ProgressReporter& progress) const;
  std::string name_;
  StudyOptions options_;
  std::filesystem::path dir_;
  RunCache cache_;
  int seeds_ = 1;
  std::size_t train_limit_ = 0, test_limit_ = 0;
  nn::Dataset train_, test_;
  std::map<std::string, Dense> dense_;
};

}  // namespace twofour::experiments
