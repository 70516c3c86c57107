// `twofour study NAME`: the research studies of experiments/study/ (mask-quality, criteria,
// sparsity, recipe, or all of them), writing OUT/NAME/results.{json,csv}, plots and a section of
// OUT/REPORT.md. Progress goes to stderr; re-running reuses every finished run.
#include "cli/command.hpp"
#include "twofour/io/output_set.hpp"
#include "study/study.hpp"
#include "twofour/io/array.hpp"

#include <algorithm>
#include <iostream>
#include <memory>

namespace twofour::cli {
namespace {

std::vector<std::string> split_models(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item != "mlp" && item != "cnn") throw UsageError("--models takes mlp, cnn or mlp,cnn, not '" + text + "'");
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

RegisterCommand reg{{"study", "Research studies: mask quality, pruning criteria, accuracy vs sparsity, training recipes",
  [](CLI::App& sub) -> std::function<int()> {
    struct Options {
      std::string name, out, data = nn::kFashionMnistDir, models = "mlp,cnn";
      bool quick = false, full = false, no_plots = false;
      int seeds = 0, first_seed = 0, threads = 0;
      std::size_t limit = 0, test_limit = 0;
    };
    auto o = std::make_shared<Options>();
    sub.add_option("name", o->name, "mask-quality, criteria, sparsity, recipe, or all")->required();
    sub.add_flag("--quick", o->quick, "short schedules on a data slice (default)");
    sub.add_flag("--full", o->full, "full schedules and data, 3 seeds");
    sub.add_option("--seeds", o->seeds, "seeds per configuration (default: quick 1, full 3)");
    sub.add_option("--first-seed", o->first_seed,
                   "first seed: runs seeds S..S+N-1, to split a study across processes sharing --out; "
                   "rerun over all seeds afterwards to merge (finished runs are reused)");
    sub.add_option("--data", o->data, "folder of the Fashion-MNIST IDX files")->capture_default_str();
    sub.add_option("--limit", o->limit, "training images (default: quick 4000, full all)");
    sub.add_option("--test-limit", o->test_limit, "test images (default: quick 2000, full all)");
    sub.add_option("--models", o->models, "mlp, cnn or mlp,cnn")->capture_default_str();
    sub.add_option("--threads", o->threads, "OpenMP threads for training (0: all cores)");
    sub.add_flag("--no-plots", o->no_plots, "skip the matplotlib plots");
    sub.add_option("--out", o->out, "output folder (results per study in OUT/NAME, OUT/REPORT.md)")->required();
    return [o]() {
      const auto& names = experiments::study_names();
      std::vector<std::string> run;
      if (o->name == "all") run = names;
      else if (std::find(names.begin(), names.end(), o->name) != names.end()) run = {o->name};
      else throw UsageError("unknown study '" + o->name + "' (mask-quality, criteria, sparsity, recipe, all)");
      if (o->quick && o->full) throw UsageError("--quick and --full exclude each other");
      if (o->seeds < 0 || o->seeds > 100) throw UsageError("--seeds must be in 1..100");
      if (o->first_seed < 0) throw UsageError("--first-seed must be >= 0");
      if (o->threads < 0) throw UsageError("--threads must be >= 0");
      if (o->limit == 1) throw UsageError("--limit must be at least 2");
      if (o->out.empty()) throw UsageError("--out DIR is required");
      io::require_output_folder(o->out);
      experiments::StudyOptions so;
      so.full = o->full;
      so.seeds = o->seeds;
      so.first_seed = o->first_seed;
      so.data = o->data;
      so.limit = o->limit;
      so.test_limit = o->test_limit;
      so.out = o->out;
      so.threads = o->threads;
      so.models = split_models(o->models);
      so.plots = !o->no_plots;
      for (const auto& name : run) {
        try {
          experiments::run_study(name, so);
        } catch (const nn::DataMissing& e) {
          throw CommandFailed(e.what());
        } catch (const io::FormatError& e) {
          throw CommandFailed(e.what());
        } catch (const std::exception& e) {
          throw CommandFailed("study " + name + ": " + e.what());
        }
      }
      std::cout << "studies done: " << (std::filesystem::path(o->out) / "REPORT.md").string() << "\n";
      return 0;
    };
  }}};

}  // namespace
}  // namespace twofour::cli
