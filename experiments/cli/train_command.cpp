// `twofour train`: trains the MLP or the CNN on Fashion-MNIST, densely, with NVIDIA's ASP
// prune-once-and-retrain recipe, or with SR-STE from scratch (lib/include/twofour/nn/train.hpp).
// With --out DIR it checkpoints after every epoch (DIR/checkpoint.safetensors, resumed when the
// same command is run again) and writes DIR/results.json. Progress goes to stderr.
#include "cli/command.hpp"
#include "twofour/io/output_set.hpp"
#include "common/progress.hpp"
#include "twofour/build_info.hpp"
#include "twofour/io/array.hpp"
#include "twofour/io/atomic_file.hpp"
#include "twofour/nn/layer_data.hpp"
#include "twofour/nn/train.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/model_prune.hpp"

#include <nlohmann/json.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

namespace twofour::cli {
namespace {

using json = nlohmann::json;

json num(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

json results_json(const nn::TrainConfig& config, const nn::TrainResult& r, double seconds, int threads) {
  json history = json::array();
  for (const auto& e : r.history)
    history.push_back({{"phase", e.phase}, {"epoch", e.epoch}, {"lr", e.lr}, {"train_loss", e.train_loss},
                       {"train_accuracy", e.train_accuracy}, {"test_accuracy", e.test_accuracy}, {"seconds", e.seconds}});
  json layers = json::array();
  json pruned = json::array();
  for (const auto& l : r.layers) {
    layers.push_back({{"name", l.name}, {"shape", l.shape}, {"pruned", l.pruned}, {"zero_fraction", l.zero_fraction},
                      {"is_2_4", l.is_2_4}});
    if (l.pruned) pruned.push_back(l.name);
  }
  return {{"command", "train"},
          {"config", json::parse(nn::config_json(config))},
          {"seed", config.seed},
          {"git_revision", build_info::git_revision},
          {"threads", threads},
          {"model", {{"kind", config.model}, {"parameters", r.model->parameter_count()}}},
          {"workflow", nn::to_string(config.workflow)},
          {"pruned_layers", pruned},
          {"history", history},
          {"dense_accuracy", num(r.dense_accuracy)},
          {"oneshot_accuracy", num(r.oneshot_accuracy)},
          {"final_accuracy", num(r.final_accuracy)},
          {"layers", layers},
          {"resumed_from_epoch", r.resumed_from_epoch},
          {"completed", r.completed},
          {"seconds_this_invocation", seconds}};
}

RegisterCommand reg{{"train", "Train the MLP or CNN on Fashion-MNIST: dense, ASP prune-and-retrain (2:4), or SR-STE",
  [](CLI::App& sub) -> std::function<int()> {
    struct Options {
      std::string model = "mlp", workflow = "dense", data = nn::kFashionMnistDir, out, optimizer = "sgd",
                  schedule = "cosine", criterion = "magnitude";
      int epochs = 5, threads = 0;
      bool dense_retrain = false;
      std::uint64_t seed = 0;
      std::size_t limit = 0, test_limit = 0, batch_size = 128;
      double lr = 0, weight_decay = 5e-4, momentum = 0.9, srste_lambda = 2e-4, step_epochs = 0, gamma = 0.1;
    };
    auto o = std::make_shared<Options>();
    sub.add_option("--model", o->model, "mlp (784-300-100-10) or cnn")->capture_default_str();
    sub.add_option("--workflow", o->workflow, "dense, asp (train, prune 2:4 once, retrain) or srste")->capture_default_str();
    sub.add_option("--epochs", o->epochs, "epochs (asp: per phase)")->capture_default_str();
    sub.add_option("--seed", o->seed, "random seed")->capture_default_str();
    sub.add_option("--data", o->data, "folder of the Fashion-MNIST IDX files")->capture_default_str();
    sub.add_option("--limit", o->limit, "use only the first N training images (0: all)");
    sub.add_option("--test-limit", o->test_limit, "use only the first N test images (0: all)");
    sub.add_option("--batch-size", o->batch_size, "mini-batch size")->capture_default_str();
    sub.add_option("--optimizer", o->optimizer, "sgd (momentum) or adamw")->capture_default_str();
    sub.add_option("--lr", o->lr, "base learning rate (default 0.05 for sgd, 0.001 for adamw)");
    sub.add_option("--weight-decay", o->weight_decay, "weight decay (weights only)")->capture_default_str();
    sub.add_option("--momentum", o->momentum, "SGD momentum")->capture_default_str();
    sub.add_option("--schedule", o->schedule, "cosine, step or constant")->capture_default_str();
    sub.add_option("--step-epochs", o->step_epochs, "step schedule: epochs between drops (default epochs/3)");
    sub.add_option("--gamma", o->gamma, "step schedule: factor per drop")->capture_default_str();
    sub.add_option("--srste-lambda", o->srste_lambda, "SR-STE decay on pruned weights")->capture_default_str();
    sub.add_option("--criterion", o->criterion,
                   "asp: how to choose the 2:4 mask (" + prune::criterion_names() +
                       "); data-aware criteria calibrate on the first 512 training images")
        ->capture_default_str();
    sub.add_option("--threads", o->threads, "OpenMP threads (0: all cores)");
    sub.add_flag("--dense-retrain", o->dense_retrain,
                 "asp retraining and srste: run the 2:4 layers as dense GEMMs on W*M instead of the 2:4 kernels "
                 "(for comparison; other bits, docs/training.md)");
    sub.add_option("--out", o->out, "folder for results.json and the checkpoint (resumed when present)");
    return [o]() {
      nn::TrainConfig c;
      if (o->model != "mlp" && o->model != "cnn") throw UsageError("--model must be mlp or cnn, not '" + o->model + "'");
      c.model = o->model;
      try {
        c.workflow = nn::parse_workflow(o->workflow);
        c.optimizer.kind = nn::parse_optimizer(o->optimizer);
        c.schedule.kind = nn::parse_schedule(o->schedule);
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
      if (o->epochs < 1 || o->epochs > 10000) throw UsageError("--epochs must be in 1..10000");
      if (o->batch_size < 2) throw UsageError("--batch-size must be at least 2");
      if (o->limit == 1) throw UsageError("--limit must be 0 (all) or at least 2");
      if (o->threads < 0) throw UsageError("--threads must be >= 0");
      if (o->lr < 0 || !std::isfinite(o->lr)) throw UsageError("--lr must be positive");
      if (o->weight_decay < 0 || o->momentum < 0 || o->momentum >= 1 || o->srste_lambda < 0 || o->gamma <= 0)
        throw UsageError("--weight-decay, --srste-lambda >= 0, 0 <= --momentum < 1 and --gamma > 0 are required");
      c.epochs = o->epochs;
      c.seed = o->seed;
      c.batch_size = o->batch_size;
      c.train_limit = o->limit;
      c.test_limit = o->test_limit;
      c.optimizer.lr = static_cast<float>(o->lr > 0 ? o->lr : (c.optimizer.kind == nn::OptimizerKind::sgd ? 0.05 : 0.001));
      c.optimizer.weight_decay = static_cast<float>(o->weight_decay);
      c.optimizer.momentum = static_cast<float>(o->momentum);
      c.schedule.step_epochs = o->step_epochs > 0 ? o->step_epochs : std::max(1.0, o->epochs / 3.0);
      c.schedule.gamma = o->gamma;
      c.srste_lambda = static_cast<float>(o->srste_lambda);
      c.threads = o->threads;
      c.sparse_kernels = !o->dense_retrain;
      if (prune::find_criterion(o->criterion) == nullptr)
        throw UsageError("unknown --criterion '" + o->criterion + "' (known: " + prune::criterion_names() + ")");
      if (o->criterion != "magnitude") {
        if (c.workflow != nn::Workflow::asp) throw UsageError("--criterion applies to --workflow asp only");
        // Layer by layer on the dense-trained model, each layer seeing the already-pruned earlier
        // ones (prune/model_prune.hpp); the retraining then keeps exactly these masks.
        c.mask_name = o->criterion;
        c.mask_provider = [criterion = o->criterion, seed = o->seed](nn::Model& m, const nn::Dataset& data) {
          prune::ModelPruneOptions options;
          options.seed = seed;
          prune::prune_model(m, criterion, nn::slice(data, 0, 512), options);
        };
      }
      const int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
      if (!o->out.empty()) io::require_output_folder(o->out);

      nn::Dataset train_data, test_data;
      try {
        train_data = nn::load_fashion_mnist(o->data, true, o->limit);
        test_data = nn::load_fashion_mnist(o->data, false, o->test_limit);
      } catch (const nn::DataMissing& e) {
        throw CommandFailed(e.what());
      } catch (const io::FormatError& e) {
        throw CommandFailed(e.what());
      }

      nn::CheckpointOptions ck;
      std::filesystem::path out;
      if (!o->out.empty()) {
        out = o->out;
        std::error_code ec;
        std::filesystem::create_directories(out, ec);
        if (ec) throw CommandFailed("cannot create " + out.string() + ": " + ec.message());
        ck.path = out / "checkpoint.safetensors";
        ck.git_revision = build_info::git_revision;
      }

      std::cerr << "twofour train: " << c.model << ", " << o->workflow << ", " << c.epochs << " epoch(s)"
                << (c.workflow == nn::Workflow::asp ? " per phase" : "") << ", seed " << c.seed << ", "
                << train_data.size() << " training / " << test_data.size() << " test images, " << threads
                << " thread(s)\n";
      const auto start = std::chrono::steady_clock::now();
      double start_fraction = -1;
      auto last_print = start - std::chrono::seconds(10);
      nn::TrainHooks hooks;
      hooks.log = [](const std::string& line) { std::cerr << "  " << line << "\n"; };
      hooks.on_batch = [&](const nn::Progress& p) {
        const auto now = std::chrono::steady_clock::now();
        if (start_fraction < 0) start_fraction = p.fraction_done - 1e-9;
        if (now - last_print < std::chrono::seconds(5) && p.batch != p.batches) return;
        last_print = now;
        const double elapsed = std::chrono::duration<double>(now - start).count();
        // No estimate until 0.2% of the run has been timed (the first batch alone says little).
        const double done = p.fraction_done - start_fraction;
        const double eta = done >= 2e-3 ? elapsed / done * (1.0 - p.fraction_done) : -1.0;
        char line[200];
        std::snprintf(line, sizeof line, "  [%s] epoch %d/%d batch %zu/%zu  loss %.4f  acc %.2f%%  ETA %s\n",
                      p.phase.c_str(), p.epoch, p.epochs, p.batch, p.batches, p.loss, 100 * p.accuracy,
                      experiments::duration_text(eta).c_str());
        std::cerr << line;
      };
      hooks.on_epoch = [](const nn::EpochRecord& e) {
        char line[200];
        std::snprintf(line, sizeof line, "  [%s] epoch %d done: loss %.4f, train acc %.2f%%, test acc %.2f%% (%.1f s)\n",
                      e.phase.c_str(), e.epoch, e.train_loss, 100 * e.train_accuracy, 100 * e.test_accuracy, e.seconds);
        std::cerr << line;
      };

      nn::TrainResult r;
      try {
        r = nn::train(c, train_data, test_data, ck, hooks);
      } catch (const io::FormatError& e) {
        throw CommandFailed(e.what());
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      } catch (const std::runtime_error& e) {
        throw CommandFailed(e.what());
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!out.empty()) io::write_file_atomically(out / "results.json", results_json(c, r, seconds, threads).dump(2) + "\n");

      std::printf("model %s, workflow %s, seed %llu\n", c.model.c_str(), o->workflow.c_str(),
                  static_cast<unsigned long long>(c.seed));
      if (!std::isnan(r.dense_accuracy)) std::printf("dense test accuracy:        %.2f%%\n", 100 * r.dense_accuracy);
      if (!std::isnan(r.oneshot_accuracy)) std::printf("2:4 one-shot test accuracy: %.2f%%\n", 100 * r.oneshot_accuracy);
      if (c.workflow != nn::Workflow::dense)
        std::printf("2:4 %s test accuracy: %.2f%%\n", c.workflow == nn::Workflow::asp ? "retrained" : "SR-STE   ",
                    100 * r.final_accuracy);
      for (const auto& l : r.layers)
        if (l.pruned) std::printf("  %-14s 2:4 %s, %.1f%% zeros\n", l.name.c_str(), l.is_2_4 ? "yes" : "NO", 100 * l.zero_fraction);
      if (!out.empty()) std::printf("results: %s\n", (out / "results.json").string().c_str());
      return 0;
    };
  }}};

}  // namespace
}  // namespace twofour::cli
