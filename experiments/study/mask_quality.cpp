// Study 1, mask quality without training: on every prunable layer of the trained dense models,
// how much weight magnitude each 50%-sparse mask keeps (kept-L1 fraction) and how far the layer's
// output moves (||f(X;W) - f(X;W')|| / ||f(X;W)|| on held-out training images). Also the iid
// Gaussian 256x256 matrix of docs/pruning-methods.md §Gaussian kept-L1 oracle, with its expected values.
#include "common/results.hpp"
#include "study/context.hpp"
#include "twofour/nn/layer_data.hpp"
#include "study/masks.hpp"
#include "study/studies.hpp"
#include "twofour/nn/tensor.hpp"
#include "twofour/prune/baselines.hpp"
#include "twofour/prune/permutation.hpp"

#include <chrono>
#include <cmath>
#include <map>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

// The masks compared, in report order: label -> how to build it from |w|.
struct Method {
  std::string label;
  std::string kind;  // "nm", "transposable", "permuted", "unstructured", "per-row"
  sparse::NMPattern nm{2, 4};
  sparse::TransposableMethod method = sparse::TransposableMethod::best;
};

const std::vector<Method>& methods() {
  static const std::vector<Method> m = {
      {"unstructured 50%", "unstructured"},
      {"per-row 50%", "per-row"},
      {"4:8", "nm", {4, 8}},
      {"2:4 + permutation", "permuted", {2, 4}},
      {"2:4", "nm", {2, 4}},
      {"2:4 transposable (exact)", "transposable", {2, 4}, sparse::TransposableMethod::best},
      {"2:4 transposable (greedy)", "transposable", {2, 4}, sparse::TransposableMethod::greedy},
  };
  return m;
}

struct Built {
  sparse::Mask mask;
  double efficacy = std::nan("");
  bool timed_out = false;  // the permutation search hit its time bound
  double seconds = 0;
};

Built build(const Method& m, std::span<const float> w, std::span<const std::size_t> shape, double permute_seconds) {
  const sparse::GroupedShape g(shape);
  std::vector<float> scores(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) scores[i] = std::fabs(w[i]);
  Built b;
  const auto t0 = std::chrono::steady_clock::now();
  if (m.kind == "unstructured") b.mask = prune::unstructured_mask(scores, 0.5);
  else if (m.kind == "per-row") b.mask = prune::per_row_unstructured_mask(scores, g, 0.5);
  else if (m.kind == "transposable") b.mask = sparse::transposable_24_mask(scores, g, m.method);
  else if (m.kind == "nm") {
    const auto pad = g.in() % static_cast<std::size_t>(m.nm.m) == 0 ? sparse::Padding::none : sparse::Padding::zeros;
    b.mask = sparse::nm_mask(scores, g, m.nm, pad);
  } else {  // permuted: search, mask in the permuted order, map the mask back
    prune::PermutationOptions po;
    po.pattern = m.nm;
    po.time_limit_seconds = permute_seconds;
    const auto search = prune::search_permutation(w, g, po);
    b.efficacy = search.efficacy;
    b.timed_out = search.timed_out;
    const auto permuted = prune::permute_input_channels(w, shape, search.permutation);
    b.mask = prune::unpermute_mask(sparse::nm_magnitude_mask(permuted, g, m.nm), shape, search.permutation);
  }
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return b;
}

json measure(const Method& m, const nn::TargetLayer* t, const nn::Tensor* input, std::span<const float> w,
             std::span<const std::size_t> shape, double permute_seconds) {
  const Built b = build(m, w, shape, permute_seconds);
  std::vector<float> pruned(w.begin(), w.end());
  sparse::apply_mask(pruned, b.mask);
  std::size_t kept = 0;
  for (auto v : b.mask) kept += v != 0;
  json r = {{"method", m.label},
            {"kept_l1", sparse::kept_l1_fraction(w, b.mask)},
            {"density", static_cast<double>(kept) / static_cast<double>(b.mask.size())},
            {"output_error", t ? json(nn::output_error(*t, *input, pruned)) : json(nullptr)},
            {"permutation_efficacy", std::isnan(b.efficacy) ? json(nullptr) : json(b.efficacy)},
            {"permutation_timed_out", b.timed_out},
            {"seconds", b.seconds}};
  return r;
}

// The Gaussian oracle of docs/pruning-methods.md (computed with NumPy there; ours is lib's Rng, so values
// agree to sampling noise, about 0.1 points, not digit for digit).
std::vector<json> gaussian_rows(const StudyContext& ctx, double permute_seconds) {
  nn::Rng rng(0);
  const std::vector<std::size_t> shape = {256, 256};
  std::vector<float> w(256 * 256);
  for (auto& v : w) v = static_cast<float>(rng.normal());
  std::vector<json> rows;
  for (const auto& m : methods()) {
    json r = ctx.row_base("gaussian", 0);
    r["layer"] = "iid N(0,1) 256x256";
    r["epochs"] = nullptr;
    r.update(measure(m, nullptr, nullptr, w, shape, permute_seconds));
    rows.push_back(r);
  }
  return rows;
}

// Expected kept-L1 of the Gaussian matrix (docs/pruning-methods.md §Gaussian kept-L1 oracle).
const std::map<std::string, double>& literature_gaussian() {
  static const std::map<std::string, double> v = {{"unstructured 50%", 0.7967}, {"per-row 50%", 0.7957},
                                                  {"4:8", 0.7681}, {"2:4", 0.7442},
                                                  {"2:4 transposable (exact)", 0.7023},
                                                  {"2:4 transposable (greedy)", 0.6918}};
  return v;
}

std::string pct(double v, int digits = 2) { return fixed(100 * v, digits); }

ReportSection report(const StudyContext& ctx, const std::vector<json>& rows) {
  // Mean over seeds per (model, layer, method).
  std::map<std::string, std::map<std::string, std::vector<double>>> kept, err, eff;
  std::vector<std::string> layer_order;
  for (const auto& r : rows) {
    const std::string layer = r["model"].get<std::string>() + " " + r["layer"].get<std::string>();
    if (std::find(layer_order.begin(), layer_order.end(), layer) == layer_order.end()) layer_order.push_back(layer);
    const std::string m = r["method"];
    kept[layer][m].push_back(r["kept_l1"].get<double>());
    if (!r["output_error"].is_null()) err[layer][m].push_back(r["output_error"].get<double>());
    if (!r["permutation_efficacy"].is_null()) eff[layer][m].push_back(r["permutation_efficacy"].get<double>());
  }
  std::vector<std::string> header = {"layer"};
  for (const auto& m : methods()) header.push_back(m.label);
  std::vector<std::vector<std::string>> kept_cells, err_cells;
  for (const auto& layer : layer_order) {
    std::vector<std::string> k = {layer}, e = {layer};
    for (const auto& m : methods()) {
      std::vector<double> kv = kept[layer][m.label];
      for (auto& v : kv) v *= 100;
      k.push_back(mean_pm_std(kv, 2));
      e.push_back(err[layer].count(m.label) ? mean_pm_std(err[layer][m.label], 4) : "–");
    }
    kept_cells.push_back(k);
    if (layer.rfind("gaussian", 0) != 0) err_cells.push_back(e);
  }

  // The expected ordering, checked layer by layer.
  const std::vector<std::string> order = {"unstructured 50%", "4:8", "2:4", "2:4 transposable (exact)",
                                          "2:4 transposable (greedy)"};
  std::string ordering;
  int held = 0, total = 0;
  for (const auto& layer : layer_order) {
    ++total;
    std::string broken;
    for (std::size_t i = 0; i + 1 < order.size(); ++i)
      if (mean_of(kept[layer][order[i]]) + 1e-12 < mean_of(kept[layer][order[i + 1]]))
        broken += (broken.empty() ? "" : ", ") + order[i] + " < " + order[i + 1];
    if (broken.empty()) ++held;
    else ordering += "- " + layer + ": **differs**: " + broken + "\n";
  }
  std::string efficacy;
  int below = 0, measured = 0;
  std::map<std::string, bool> timed_out;
  for (const auto& r : rows)
    if (r.contains("permutation_timed_out") && r["permutation_timed_out"].get<bool>())
      timed_out[r["model"].get<std::string>() + " " + r["layer"].get<std::string>()] = true;
  for (const auto& layer : layer_order)
    if (eff[layer].count("2:4 + permutation")) {
      const double e = mean_of(eff[layer]["2:4 + permutation"]);
      ++measured;
      below += e < 0.35;
      efficacy += (efficacy.empty() ? "" : ", ") + layer + " " + pct(e, 1) + "%" + (timed_out[layer] ? " (time bound hit)" : "");
    }

  std::string gauss;
  for (const auto& [m, v] : literature_gaussian()) {
    const std::string layer = "gaussian iid N(0,1) 256x256";
    gauss += "| " + m + " | " + pct(v) + " | " + pct(mean_of(kept[layer][m])) + " |\n";
  }

  std::string body;
  body += ctx.setup_text() + " Masks are built from |w| of the dense models (one per seed); the output error uses 256 held-out training images.\n\n";
  body += "**Expected (docs/pruning-methods.md §Expected outcomes):** kept magnitude orders unstructured ≥ per-row > 4:8 > 2:4 > "
          "transposable 2:4 exact > transposable greedy (iid Gaussian: 79.67 / 79.57 / 76.81 / 74.42 / 70.23 / 69.18%); "
          "a channel permutation recovers 35–37% of the gap between 2:4 and the per-row bound (Pool & Yu 2021).\n\n";
  body += "**Measured:** the ordering unstructured ≥ 4:8 ≥ 2:4 ≥ transposable exact ≥ greedy holds on " + std::to_string(held) +
          " of " + std::to_string(total) + " layers" + (held == total ? ".\n" : "; where it differs:\n" + ordering);
  body += "Permutation efficacy (share of the 2:4-to-per-row gap recovered): " + (efficacy.empty() ? std::string("–") : efficacy) +
          ". " + (below == 0 ? std::string("At or above the published 35–37% everywhere.")
                             : "**Differs:** below the published 35–37% on " + std::to_string(below) + " of " +
                                   std::to_string(measured) + " matrices. The search runs under a wall-clock bound (" +
                                   std::string(ctx.options().full ? "10" : "2") +
                                   " s per layer here; the library reaches ~48–52% on a 64x128 matrix without a bound), so wide "
                                   "layers (many 4-column stripes) stop early; trained layers also start closer to the bound.") +
          "\n\n";
  body += "Gaussian oracle, expected vs measured kept-L1 (%):\n\n| mask | expected | measured |\n|---|---|---|\n" + gauss + "\n";
  body += "Kept-L1 fraction (%), mean ± std over seeds:\n\n" + markdown_table(header, kept_cells) + "\n";
  body += "Output reconstruction error ||f(X;W) − f(X;W')|| / ||f(X;W)||:\n\n" + markdown_table(header, err_cells) + "\n";
  body += "Plot: `mask-quality/mask_quality.png` (kept-L1 and output error per layer and mask).\n";
  return {"Study 1: mask quality without training", body};
}

}  // namespace

int run_mask_quality_study(const StudyOptions& options) {
  StudyContext ctx("mask-quality", options);
  const double permute_seconds = options.full ? 10.0 : 2.0;
  ProgressReporter progress("mask-quality", ctx.models().size() * static_cast<std::size_t>(ctx.seeds()) + 1);
  std::vector<json> rows;
  {
    const json key_config = {{"study", "mask-quality"}, {"what", "gaussian"}, {"permute_seconds", permute_seconds}, {"v", 1}};
    const std::string key = run_key(key_config);
    if (auto cached = ctx.cache().find(key)) {
      progress.reuse("gaussian 256x256");
      for (const auto& r : *cached) rows.push_back(r);
    } else {
      progress.start("gaussian 256x256");
      auto g = gaussian_rows(ctx, permute_seconds);
      ctx.cache().store(key, g);
      rows.insert(rows.end(), g.begin(), g.end());
    }
  }
  for (const auto& model : ctx.models()) {
    for (const std::uint64_t seed : ctx.seed_list()) {
      const json key_config = {{"study", "mask-quality"}, {"dense", nn::config_json(ctx.dense_config(model, seed))},
                               {"permute_seconds", permute_seconds}, {"v", 1}};
      const std::string key = run_key(key_config);
      const std::string label = model + " seed " + std::to_string(seed);
      if (auto cached = ctx.cache().find(key)) {
        progress.reuse(label);
        for (const auto& r : *cached) rows.push_back(r);
        continue;
      }
      progress.start(label);
      auto& dense = ctx.dense(model, seed, progress);
      const nn::Dataset held = ctx.heldout();
      std::vector<json> mine;
      for (const auto& t : nn::target_layers(*dense.model)) {
        const nn::Tensor input = nn::layer_input(*dense.model, t, held);
        for (const auto& m : methods()) {
          json r = ctx.row_base(model, seed);
          r["layer"] = t.weight->name;
          r["shape"] = t.weight->value.shape;
          r["dense_accuracy"] = dense.accuracy;
          r.update(measure(m, &t, &input, t.weight->value.data, t.weight->value.shape, permute_seconds));
          mine.push_back(r);
        }
      }
      ctx.cache().store(key, mine);
      rows.insert(rows.end(), mine.begin(), mine.end());
    }
  }
  progress.finish();
  ctx.finish(rows, "mask_quality.py", report(ctx, rows));
  return 0;
}

}  // namespace twofour::experiments
