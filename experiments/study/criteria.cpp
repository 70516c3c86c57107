// Study 2, pruning criteria at 2:4: magnitude, random, Wanda, SparseGPT, Taylor and magnitude
// after a channel permutation, applied layer by layer to the trained dense models; accuracy
// one-shot (pruned, not retrained) and after the whitepaper's retraining (mask fixed, same
// epochs), plus each mask's kept-L1 fraction and mean layer output error on held-out images.
#include "common/results.hpp"
#include "study/context.hpp"
#include "twofour/nn/layer_data.hpp"
#include "study/masks.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/model_prune.hpp"
#include "study/studies.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

// Copies the pruned model's target weights and masks into `model` (the retraining's provider: the
// criterion ran once, on a copy, and its result is reused rather than recomputed).
nn::MaskProvider copy_from(std::shared_ptr<nn::Model> pruned) {
  return [pruned](nn::Model& model, const nn::Dataset&) {
    auto src = pruned->pruned_parameters();
    auto dst = model.pruned_parameters();
    for (std::size_t i = 0; i < dst.size(); ++i) {
      dst[i]->value = src[i]->value;
      dst[i]->mask = src[i]->mask;
    }
  };
}

json run_one(StudyContext& ctx, const std::string& model, std::uint64_t seed, const std::string& criterion,
             ProgressReporter& progress) {
  const double permute_seconds = ctx.options().full ? 10.0 : 2.0;
  const std::string label = model + " seed " + std::to_string(seed) + " " + criterion;
  const std::string mask_name = "criterion " + criterion + " 2:4";
  const json key_config = {{"study", "criteria"}, {"dense", nn::config_json(ctx.dense_config(model, seed))},
                           {"mask", mask_name}, {"permute_seconds", permute_seconds}, {"v", 2}};
  const std::string key = run_key(model + " s" + std::to_string(seed) + " " + criterion, key_config);
  if (auto cached = ctx.cache().find(key)) {
    progress.reuse(label);
    return *cached;
  }
  progress.start(label);
  auto& dense = ctx.dense(model, seed, progress);
  std::shared_ptr<nn::Model> pruned = nn::clone_model(*dense.model);
  const auto t0 = std::chrono::steady_clock::now();
  prune::ModelPruneOptions prune_options;
  prune_options.seed = seed;
  prune_options.time_limit_seconds = permute_seconds;
  prune::prune_model(*pruned, criterion, ctx.calibration(), prune_options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Mask statistics against the dense weights, layer by layer on held-out inputs.
  double kept = 0, total = 0, err_sum = 0;
  const auto dense_targets = nn::target_layers(*dense.model);
  const auto pruned_params = pruned->pruned_parameters();
  const nn::Dataset held = ctx.heldout();
  for (std::size_t i = 0; i < dense_targets.size(); ++i) {
    const auto& w = dense_targets[i].weight->value.data;
    for (std::size_t j = 0; j < w.size(); ++j) {
      total += std::fabs(static_cast<double>(w[j]));
      if (pruned_params[i]->mask[j]) kept += std::fabs(static_cast<double>(w[j]));
    }
    err_sum += nn::output_error(dense_targets[i], nn::layer_input(*dense.model, dense_targets[i], held), pruned_params[i]->value.data);
  }

  const auto r = ctx.retrain(model, seed, key, mask_name, copy_from(pruned), progress);
  json row = ctx.row_base(model, seed);
  row.update({{"criterion", criterion},
              {"pattern", "2:4"},
              {"kept_l1", total > 0 ? kept / total : 1.0},
              {"actual_sparsity", prune::target_sparsity(*pruned)},
              {"mean_output_error", err_sum / static_cast<double>(dense_targets.size())},
              {"prune_seconds", seconds},
              {"dense_accuracy", dense.accuracy},
              {"oneshot_accuracy", r.oneshot_accuracy},
              {"retrained_accuracy", r.final_accuracy}});
  ctx.cache().store(key, row);
  ctx.drop_run_files(key);
  return row;
}

ReportSection report(const StudyContext& ctx, const std::vector<json>& rows) {
  std::string body = ctx.setup_text() +
                     " Every criterion prunes the same layers to 2:4 (mlp fc1, fc2; cnn conv2, conv3, fc1) in layer "
                     "order, data-aware ones seeing the already-pruned earlier layers' outputs on 512 calibration "
                     "images (Wanda: |w|·||X_c||; SparseGPT: OBS with weight update, convolutions through im2col; "
                     "Taylor: |w·g| with the mean gradient of those images). Output error: mean over layers of "
                     "||f(X;W) − f(X;W')|| / ||f(X;W)|| on 256 held-out training images. Accuracies in %, mean ± std over seeds.\n\n";
  body += "**Expected (docs/pruning-methods.md §Expected outcomes):** Hessian- and activation-aware criteria (SparseGPT, Wanda) are much better "
          "than magnitude one-shot; the gap mostly closes after retraining; random is the floor.\n\n";
  for (const auto& model : ctx.models()) {
    std::map<std::string, std::map<std::string, std::vector<double>>> v;
    double dense = std::nan("");
    for (const auto& r : rows) {
      if (r["model"] != model) continue;
      const std::string c = r["criterion"];
      v[c]["kept"].push_back(100 * r["kept_l1"].get<double>());
      v[c]["sparsity"].push_back(100 * r.value("actual_sparsity", std::nan("")));
      v[c]["err"].push_back(r["mean_output_error"].get<double>());
      v[c]["one"].push_back(100 * r["oneshot_accuracy"].get<double>());
      v[c]["re"].push_back(100 * r["retrained_accuracy"].get<double>());
      v[c]["dense"].push_back(100 * r["dense_accuracy"].get<double>());
    }
    std::vector<std::vector<std::string>> cells;
    for (const auto& criterion : prune::criteria()) {
      const std::string& c = criterion.name;
      if (!v.count(c)) continue;
      dense = mean_of(v[c]["dense"]);
      cells.push_back({c, fixed(mean_of(v[c]["sparsity"]), 2), fixed(mean_of(v[c]["kept"]), 2), fixed(mean_of(v[c]["err"]), 4), mean_pm_std(v[c]["one"]),
                       mean_pm_std(v[c]["re"])});
    }
    body += "**" + model + "** (dense " + fixed(dense, 2) + "%):\n\n" +
            markdown_table({"criterion", "sparsity (%)", "kept L1 (%)", "output error", "one-shot", "retrained"}, cells) + "\n";
    const auto m = [&](const std::string& c, const std::string& k) { return v.count(c) ? mean_of(v[c][k]) : std::nan(""); };
    const auto line = [&](const std::string& claim, double a, double b) {
      if (std::isnan(a) || std::isnan(b)) return std::string();
      return "- " + claim + ": " + fixed(a, 2) + " vs " + fixed(b, 2) + " — " + ctx.verdict(a, b) + "\n";
    };
    body += line("SparseGPT one-shot > magnitude one-shot", m("sparsegpt", "one"), m("magnitude", "one"));
    body += line("Wanda one-shot > magnitude one-shot", m("wanda", "one"), m("magnitude", "one"));
    body += line("magnitude one-shot > random one-shot", m("magnitude", "one"), m("random", "one"));
    body += line("magnitude+permutation one-shot > magnitude one-shot", m("magnitude+permutation", "one"), m("magnitude", "one"));
    double spread_one = 0, spread_re = 0;
    for (const auto& criterion : prune::criteria()) {
      const std::string& c = criterion.name;
      if (c == "random") continue;  // the chance baseline is not expected to close the gap
      spread_one = std::max(spread_one, std::fabs(m(c, "one") - m("magnitude", "one")));
      spread_re = std::max(spread_re, std::fabs(m(c, "re") - m("magnitude", "re")));
    }
    body += "- the criteria's gap to magnitude shrinks after retraining: largest gap one-shot " + fixed(spread_one, 2) +
            " points, retrained " + fixed(spread_re, 2) + " — " + (spread_re < spread_one ? "holds" : "**differs**") + "\n\n";
  }
  body += "Plot: `criteria/criteria.png` (grouped bars, one-shot vs retrained per criterion, error bars over seeds).\n";
  return {"Study 2: pruning criteria at 2:4", body};
}

}  // namespace

int run_criteria_study(const StudyOptions& options) {
  StudyContext ctx("criteria", options);
  std::vector<std::string> names;
  for (const auto& c : prune::criteria()) names.push_back(c.name);
  const std::vector<json> rows =
      ctx.run_grid(names, [&ctx](const std::string& model, std::uint64_t seed, const auto& item, ProgressReporter& p) {
        return run_one(ctx, model, seed, item, p);
      });
  ctx.finish(rows, "criteria.py", report(ctx, rows));
  return 0;
}

}  // namespace twofour::experiments
