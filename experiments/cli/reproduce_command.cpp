// `twofour reproduce`: the whitepaper's table for both models (experiments/reproduce/). The
// default --quick run is README command (1)'s main job: under 20 minutes on 2 cores.
#include "cli/command.hpp"
#include "twofour/io/output_set.hpp"
#include "reproduce/reproduce.hpp"
#include "twofour/io/array.hpp"

#include <memory>

namespace twofour::cli {
namespace {

RegisterCommand reg{{"reproduce", "Reproduce the whitepaper: dense vs 2:4 one-shot vs 2:4 retrained, fp32 and simulated fp16/int8",
  [](CLI::App& sub) -> std::function<int()> {
    struct Options {
      bool quick = false, full = false, no_plots = false, studies = false, no_studies = false;
      experiments::ReproduceOptions r;
    };
    auto o = std::make_shared<Options>();
    sub.add_flag("--quick", o->quick, "short schedules (default; under 20 minutes on 2 cores)");
    sub.add_flag("--full", o->full, "full schedules on all data, 3 seeds, and every `twofour study`");
    sub.add_option("--seeds", o->r.seeds, "seeds per model (default: quick 2, full 3)");
    sub.add_option("--first-seed", o->r.first_seed, "first seed (runs seeds S..S+N-1; results of other seeds in the same --out are not merged)")
        ->capture_default_str();
    sub.add_option("--out", o->r.out, "output folder (results, plots, REPORT.md, cached runs)")->capture_default_str();
    sub.add_option("--data", o->r.data, "folder of the Fashion-MNIST IDX files")->capture_default_str();
    sub.add_option("--models", o->r.models, "models to run: mlp, cnn (comma-separated)")
        ->delimiter(',')
        ->check(CLI::IsMember({"mlp", "cnn"}));
    sub.add_option("--threads", o->r.threads, "OpenMP threads (0: all cores)");
    sub.add_option("--epochs", o->r.epochs, "epochs per phase instead of the mode's");
    sub.add_option("--limit", o->r.train_limit, "training images instead of the mode's");
    sub.add_option("--eval-limit", o->r.eval_limit, "test images evaluated instead of the mode's");
    sub.add_flag("--no-plots", o->no_plots, "skip the matplotlib plots");
    sub.add_flag("--studies", o->studies, "also run every `twofour study` (default with --full)");
    sub.add_flag("--no-studies", o->no_studies, "do not run the studies, even with --full");
    sub.add_flag("--dry-run", o->r.dry_run, "print each run, its folder and whether it is cached, then stop");
    return [o]() {
      if (o->quick && o->full) throw UsageError("--quick and --full exclude each other");
      if (o->studies && o->no_studies) throw UsageError("--studies and --no-studies exclude each other");
      if (o->r.seeds < 0 || o->r.seeds > 100) throw UsageError("--seeds must be in 1..100");
      if (o->r.threads < 0) throw UsageError("--threads must be >= 0");
      if (o->r.epochs < 0 || o->r.epochs > 1000) throw UsageError("--epochs must be in 1..1000");
      if (o->r.train_limit == 1) throw UsageError("--limit must be at least 2");
      if (o->r.out.empty()) throw UsageError("--out must not be empty");
      io::require_output_folder(o->r.out);
      o->r.full = o->full;
      o->r.plots = !o->no_plots;
      o->r.studies = o->studies || (o->full && !o->no_studies);
      try {
        return experiments::run_reproduce(o->r);
      } catch (const nn::DataMissing& e) {
        throw CommandFailed(e.what());
      } catch (const io::FormatError& e) {
        throw CommandFailed(e.what());
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      } catch (const std::runtime_error& e) {
        throw CommandFailed(e.what());
      }
    };
  }}};

}  // namespace
}  // namespace twofour::cli
