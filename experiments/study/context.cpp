#include "study/context.hpp"

#include "common/plot.hpp"
#include "common/results.hpp"
#include "twofour/nn/layer_data.hpp"
#include "twofour/build_info.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

constexpr std::size_t kQuickTrain = 4000, kQuickTest = 2000;

std::string percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * v);
  return buf;
}

}  // namespace

StudyContext::StudyContext(std::string name, const StudyOptions& options)
    : name_(std::move(name)), options_(options), dir_(options.out / name_), cache_(dir_ / "runs") {
  if (options_.out.empty()) throw std::invalid_argument("an output folder is required (--out DIR)");
  if (options_.seeds < 0 || options_.seeds > 100) throw std::invalid_argument("seeds must be in 1..100");
  if (options_.first_seed < 0) throw std::invalid_argument("the first seed must be >= 0");
  if (options_.threads < 0) throw std::invalid_argument("threads must be >= 0");
  if (options_.limit == 1) throw std::invalid_argument("the training limit must be 0 (default) or at least 2");
  if (options_.models.empty()) throw std::invalid_argument("no model selected");
  for (const auto& m : options_.models)
    if (m != "mlp" && m != "cnn") throw std::invalid_argument("unknown model '" + m + "' (mlp, cnn)");
  seeds_ = options_.seeds > 0 ? options_.seeds : (options_.full ? 3 : 1);
  train_limit_ = options_.limit > 0 ? options_.limit : (options_.full ? 0 : kQuickTrain);
  test_limit_ = options_.test_limit > 0 ? options_.test_limit : (options_.full ? 0 : kQuickTest);
  train_ = nn::load_fashion_mnist(options_.data, true, train_limit_);
  test_ = nn::load_fashion_mnist(options_.data, false, test_limit_);
  // The configs record the slice actually used (0 would mean "all" and hide a short file).
  train_limit_ = train_.size();
  test_limit_ = test_.size();
  if (train_.size() < 2) throw std::invalid_argument("need at least 2 training images");
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
}

// Full mode uses `twofour reproduce --full`'s schedules (mlp 20, cnn 5 epochs per phase); quick
// mode is sized so that the four studies together stay well under 30 minutes on 2 cores.
int StudyContext::epochs(const std::string& model) const {
  if (model == "cnn") return options_.full ? 5 : 1;
  return options_.full ? 20 : 3;
}

nn::Dataset StudyContext::calibration() const {
  return nn::slice(train_, 0, std::min<std::size_t>(512, train_.size() / 2));
}

nn::Dataset StudyContext::heldout() const {
  const std::size_t first = std::min<std::size_t>(512, train_.size() / 2);
  return nn::slice(train_, first, std::min<std::size_t>(256, train_.size() - first));
}

nn::TrainConfig StudyContext::dense_config(const std::string& model, std::uint64_t seed) const {
  nn::TrainConfig c;
  c.model = model;
  c.workflow = nn::Workflow::dense;
  c.epochs = epochs(model);
  c.seed = seed;
  c.train_limit = train_limit_;
  c.test_limit = test_limit_;
  c.threads = options_.threads;
  return c;
}

nn::TrainHooks StudyContext::hooks(ProgressReporter& progress) const {
  nn::TrainHooks h;
  h.log = [&progress](const std::string& line) { progress.note(line); };
  h.on_epoch = [&progress](const nn::EpochRecord& e) {
    char line[160];
    std::snprintf(line, sizeof line, "%s epoch %d: train loss %.4f, test accuracy %.2f%% (%.1f s)", e.phase.c_str(),
                  e.epoch, e.train_loss, 100 * e.test_accuracy, e.seconds);
    progress.note(line);
  };
  return h;
}

StudyContext::Dense& StudyContext::dense(const std::string& model, std::uint64_t seed, ProgressReporter& progress) {
  const nn::TrainConfig config = dense_config(model, seed);
  const std::string key = run_key(model + " seed " + std::to_string(seed), json::parse(nn::config_json(config)));
  if (auto it = dense_.find(key); it != dense_.end()) return it->second;
  const auto folder = options_.out / "dense" / key;
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw std::runtime_error("cannot create " + folder.string() + ": " + ec.message());
  nn::CheckpointOptions ck;
  ck.path = folder / "checkpoint.safetensors";
  ck.git_revision = build_info::git_revision;
  progress.note("dense " + model + " seed " + std::to_string(seed) + " (" + ck.path.string() + ")");
  nn::TrainResult r = nn::train(config, train_, test_, ck, hooks(progress));
  Dense d;
  d.model = std::move(r.model);
  d.accuracy = r.final_accuracy;
  d.checkpoint = ck.path;
  progress.note("dense " + model + " seed " + std::to_string(seed) + ": test accuracy " + percent(d.accuracy));
  return dense_.emplace(key, std::move(d)).first->second;
}

nn::TrainResult StudyContext::retrain(const std::string& model, std::uint64_t seed, const std::string& key,
                                      const std::string& mask_name, nn::MaskProvider provider,
                                      ProgressReporter& progress, sparse::NMPattern pattern) {
  const Dense& d = dense(model, seed, progress);
  nn::TrainConfig c = dense_config(model, seed);
  c.workflow = nn::Workflow::asp;
  c.pattern = pattern;
  c.mask_name = mask_name;
  c.mask_provider = std::move(provider);
  const auto folder = cache_.dir_for(key);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw std::runtime_error("cannot create " + folder.string() + ": " + ec.message());
  nn::CheckpointOptions ck;
  ck.path = folder / "checkpoint.safetensors";
  ck.git_revision = build_info::git_revision;
  ck.start_from = d.checkpoint;
  return nn::train(c, train_, test_, ck, hooks(progress));
}

nn::TrainResult StudyContext::train_run(const nn::TrainConfig& config, const std::string& key, ProgressReporter& progress) {
  const auto folder = cache_.dir_for(key);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) throw std::runtime_error("cannot create " + folder.string() + ": " + ec.message());
  nn::CheckpointOptions ck;
  ck.path = folder / "checkpoint.safetensors";
  ck.git_revision = build_info::git_revision;
  return nn::train(config, train_, test_, ck, hooks(progress));
}

void StudyContext::drop_run_files(const std::string& key) const {
  std::error_code ec;
  std::filesystem::remove_all(cache_.dir_for(key), ec);  // best effort: the results are already stored
}

json StudyContext::row_base(const std::string& model, std::uint64_t seed) const {
  return {{"study", name_},
          {"model", model},
          {"seed", seed},
          {"git_revision", build_info::git_revision},
          {"mode", options_.full ? "full" : "quick"},
          {"train_images", train_limit_},
          {"test_images", test_limit_},
          {"epochs", epochs(model)}};
}

std::vector<std::uint64_t> StudyContext::seed_list() const {
  std::vector<std::uint64_t> seeds;
  for (int s = 0; s < seeds_; ++s) seeds.push_back(static_cast<std::uint64_t>(options_.first_seed + s));
  return seeds;
}

json StudyContext::meta() const {
  json epochs_by_model = json::object();
  for (const auto& m : options_.models) epochs_by_model[m] = epochs(m);
  return {{"study", name_},
          {"mode", options_.full ? "full" : "quick"},
          {"seeds", seeds_},
          {"seed_list", seed_list()},
          {"models", options_.models},
          {"train_images", train_limit_},
          {"test_images", test_limit_},
          {"epochs", epochs_by_model},
          {"optimizer", "sgd momentum 0.9, lr 0.05, weight decay 5e-4, cosine, batch 128"},
          {"data", options_.data.string()},
          {"threads", options_.threads > 0 ? options_.threads : omp_get_max_threads()},
          {"git_revision", build_info::git_revision},
          {"version", build_info::version}};
}

std::string StudyContext::setup_text() const {
  std::string s = std::string("Setup: ") + (options_.full ? "full" : "quick") + " mode, " + std::to_string(seeds_) +
                  " seed(s), Fashion-MNIST " + std::to_string(train_limit_) + " training / " +
                  std::to_string(test_limit_) + " test images, epochs per phase:";
  for (const auto& m : options_.models) s += " " + m + " " + std::to_string(epochs(m));
  s += "; SGD momentum 0.9, lr 0.05, weight decay 5e-4, cosine schedule, batch 128; git " +
       std::string(build_info::git_revision) + ".";
  if (!options_.full) s += " Quick mode: small data slice and short schedules, so absolute accuracies are low and seed noise is large; read the orderings, not the decimals.";
  return s;
}

std::string StudyContext::verdict(double a, double b, double tolerance) const {
  const double p = std::clamp((a + b) / 200.0, 0.0, 1.0);
  const double n = static_cast<double>(test_limit_) * seeds_;
  const double noise = 100 * 1.96 * std::sqrt(2 * p * (1 - p) / std::max(n, 1.0));
  std::string v = a >= b - tolerance ? "holds" : "**differs**";
  if (std::fabs(a - b) < noise) v += " (within noise, ±" + fixed(noise, 2) + ")";
  return v;
}

void StudyContext::finish(const std::vector<json>& rows, const std::string& plot_script, const ReportSection& section) {
  write_results(dir_, meta(), rows);
  if (options_.plots && !plot_script.empty()) run_plot(plot_script, {(dir_ / "results.json").string(), dir_.string()});
  merge_report_section(options_.out / "REPORT.md", "twofour studies", section);
  std::fprintf(stderr, "[%s] wrote %s/results.json, results.csv and the REPORT.md section\n", name_.c_str(),
               dir_.string().c_str());
}

}  // namespace twofour::experiments
