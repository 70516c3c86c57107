#include "reproduce/reproduce.hpp"

#include "common/progress.hpp"
#include "common/run_cache.hpp"
#include "reproduce/evaluate_run.hpp"
#include "reproduce/report.hpp"
#include "study/study.hpp"
#include "twofour/build_info.hpp"
#include "twofour/nn/train.hpp"

#include <nlohmann/json.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

nn::Dataset head(const nn::Dataset& d, std::size_t n) {
  if (n == 0 || n >= d.size()) return d;
  nn::Dataset out;
  out.rows = d.rows;
  out.cols = d.cols;
  out.labels.assign(d.labels.begin(), d.labels.begin() + static_cast<std::ptrdiff_t>(n));
  out.images.assign(d.images.begin(), d.images.begin() + static_cast<std::ptrdiff_t>(n * d.rows * d.cols));
  return out;
}

// The whitepaper's recipe with this project's defaults (docs/training.md): SGD with momentum 0.9,
// lr 0.05, weight decay 5e-4, cosine schedule, batch 128; retraining repeats the schedule.
nn::TrainConfig asp_config(const ReproducePlan& plan, std::uint64_t seed, int threads) {
  nn::TrainConfig c;
  c.model = plan.model;
  c.workflow = nn::Workflow::asp;
  c.epochs = plan.epochs;
  c.seed = seed;
  c.batch_size = 128;
  c.train_limit = plan.train_limit;
  c.test_limit = plan.eval_limit;  // per-epoch test accuracy on the same images as the final table
  c.optimizer.kind = nn::OptimizerKind::sgd;
  c.optimizer.lr = 0.05f;
  c.optimizer.momentum = 0.9f;
  c.optimizer.weight_decay = 5e-4f;
  c.schedule.kind = nn::ScheduleKind::cosine;
  c.schedule.step_epochs = std::max(1.0, plan.epochs / 3.0);
  c.threads = threads;
  return c;
}

json history_json(const std::vector<nn::EpochRecord>& history) {
  json out = json::array();
  for (const auto& e : history)
    out.push_back({{"phase", e.phase}, {"epoch", e.epoch}, {"lr", e.lr}, {"train_loss", e.train_loss},
                   {"train_accuracy", e.train_accuracy}, {"test_accuracy", e.test_accuracy}, {"seconds", e.seconds}});
  return out;
}

// Training progress inside one run: a line at most every 20 s.
nn::TrainHooks training_hooks(ProgressReporter& progress, const std::string& label) {
  nn::TrainHooks hooks;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  auto start = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  auto start_fraction = std::make_shared<double>(-1.0);
  hooks.on_batch = [&progress, label, last, start, start_fraction](const nn::Progress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (*start_fraction < 0) *start_fraction = p.fraction_done;
    if (now - *last < std::chrono::seconds(20)) return;
    *last = now;
    const double elapsed = std::chrono::duration<double>(now - *start).count();
    const double done = p.fraction_done - *start_fraction;
    const double eta = done > 1e-3 ? elapsed / done * (1.0 - p.fraction_done) : -1.0;
    char line[200];
    std::snprintf(line, sizeof line, "%s: %s epoch %d/%d, batch %zu/%zu, loss %.3f (training ETA %s)", label.c_str(),
                  p.phase.c_str(), p.epoch, p.epochs, p.batch, p.batches, p.loss, duration_text(eta).c_str());
    progress.note(line);
  };
  hooks.on_epoch = [&progress, label](const nn::EpochRecord& e) {
    char line[200];
    std::snprintf(line, sizeof line, "%s: %s epoch %d done, test accuracy %.2f%% (%.0f s)", label.c_str(), e.phase.c_str(),
                  e.epoch, 100 * e.test_accuracy, e.seconds);
    progress.note(line);
  };
  hooks.log = [&progress, label](const std::string& text) { progress.note(label + ": " + text); };
  return hooks;
}

}  // namespace

ReproducePlan reproduce_plan(const std::string& model, const ReproduceOptions& o) {
  ReproducePlan p;
  p.model = model;
  if (model == "mlp") {
    p.epochs = o.full ? 20 : 3;
  } else if (model == "cnn") {
    // Quick: a third of the training set and 2000 test images keep `reproduce --quick` within
    // ~10 minutes on 2 cores (the simulated CNN costs ~2.2 M multiply-adds per image and mode).
    p.epochs = o.full ? 5 : 2;
    p.train_limit = o.full ? 0 : 20000;
    p.eval_limit = o.full ? 0 : 2000;
  } else {
    throw std::invalid_argument("unknown model '" + model + "' (mlp, cnn)");
  }
  if (o.epochs > 0) p.epochs = o.epochs;
  if (o.train_limit > 0) p.train_limit = o.train_limit;
  if (o.eval_limit > 0) p.eval_limit = o.eval_limit;
  p.calibration = std::min<std::size_t>(1000, p.train_limit == 0 ? 1000 : p.train_limit);
  return p;
}

int run_reproduce(const ReproduceOptions& o) {
  if (o.models.empty()) throw std::invalid_argument("no model to run");
  if (o.seeds < 0 || o.seeds > 100) throw std::invalid_argument("--seeds must be in 1..100");
  if (o.first_seed < 0) throw std::invalid_argument("--first-seed must be >= 0");
  if (o.threads < 0) throw std::invalid_argument("--threads must be >= 0");
  if (o.epochs < 0 || o.epochs > 1000) throw std::invalid_argument("--epochs must be in 1..1000");
  if (o.out.empty()) throw std::invalid_argument("--out is required");
  std::vector<ReproducePlan> plans;
  for (const auto& m : o.models) plans.push_back(reproduce_plan(m, o));
  const int seeds = o.seeds > 0 ? o.seeds : (o.full ? 3 : 2);
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();

  const nn::Dataset train_all = nn::load_fashion_mnist(o.data, true);
  const nn::Dataset test_all = nn::load_fashion_mnist(o.data, false);
  std::filesystem::create_directories(o.out);
  const RunCache cache(o.out / "runs");

  ProgressReporter progress("reproduce", plans.size() * static_cast<std::size_t>(seeds));
  std::vector<json> runs;
  for (const auto& plan : plans) {
    for (int s = 0; s < seeds; ++s) {
      const auto seed = static_cast<std::uint64_t>(o.first_seed + s);
      const nn::TrainConfig config = asp_config(plan, seed, o.threads);
      const json key_config = {{"experiment", "reproduce/1"},
                               {"train", json::parse(nn::config_json(config))},
                               {"eval_limit", plan.eval_limit},
                               {"calibration", plan.calibration}};
      const std::string key = run_key(key_config);
      char label[96];
      std::snprintf(label, sizeof label, "%s seed %d (%d+%d epochs%s)", plan.model.c_str(), o.first_seed + s, plan.epochs, plan.epochs,
                    plan.train_limit ? (", " + std::to_string(plan.train_limit) + " images").c_str() : "");
      if (o.dry_run) {
        const bool started = std::filesystem::exists(cache.dir_for(key) / "checkpoint.safetensors");
        std::printf("%-44s %s  %s\n", label, cache.find(key) ? "cached  " : started ? "resumes " : "to run  ",
                    cache.dir_for(key).string().c_str());
        continue;
      }
      if (auto cached = cache.find(key)) {
        progress.reuse(label);
        runs.push_back(*cached);
        continue;
      }
      progress.start(label);
      const auto t0 = std::chrono::steady_clock::now();
      std::filesystem::create_directories(cache.dir_for(key));
      nn::CheckpointOptions ck{cache.dir_for(key) / "checkpoint.safetensors", build_info::git_revision};
      const nn::TrainResult r = nn::train(config, train_all, test_all, ck, training_hooks(progress, label));
      const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const json evaluation = evaluate_asp_run(r, head(test_all, plan.eval_limit), head(train_all, plan.calibration),
                                               [&](const std::string& line) { progress.note(std::string(label) + ": " + line); });
      json layers = json::array();
      for (const auto& l : r.layers)
        layers.push_back({{"name", l.name}, {"shape", l.shape}, {"pruned", l.pruned}, {"zero_fraction", l.zero_fraction},
                          {"is_2_4", l.is_2_4}});
      json record = {{"key", key},
                     {"config", key_config},
                     {"model", plan.model},
                     {"seed", seed},
                     {"epochs", plan.epochs},
                     {"train_images", plan.train_limit ? plan.train_limit : train_all.size()},
                     {"eval_images", plan.eval_limit ? std::min(plan.eval_limit, test_all.size()) : test_all.size()},
                     {"threads", threads},
                     {"git_revision", build_info::git_revision},
                     {"history", history_json(r.history)},
                     {"test_accuracy",
                      {{"dense", r.dense_accuracy}, {"oneshot", r.oneshot_accuracy}, {"retrained", r.final_accuracy}}},
                     {"layers", layers},
                     {"evaluation", evaluation.at("variants")},
                     {"seconds", {{"train", train_seconds}, {"evaluate", evaluation.at("seconds")}}}};
      cache.store(key, record);
      runs.push_back(record);
    }
  }
  if (o.dry_run) return 0;
  progress.finish();

  ReproduceSummary summary{o.full ? "full" : "quick", seeds, threads, plans, runs};
  write_reproduce_outputs(o.out, summary, o.plots);
  std::printf("%s", summary_text(summary).c_str());
  std::printf("report: %s\n", (o.out / "REPORT.md").string().c_str());

  if (o.studies) {
    StudyOptions so;
    so.full = o.full;
    so.seeds = o.seeds;
    so.data = o.data;
    so.out = o.out;
    so.threads = o.threads;
    so.models = o.models;
    so.plots = o.plots;
    for (const auto& name : study_names()) run_study(name, so);
  }
  return 0;
}

}  // namespace twofour::experiments
