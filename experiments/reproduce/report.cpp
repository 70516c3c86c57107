#include "reproduce/report.hpp"

#include "common/perf_report.hpp"

#include "common/plot.hpp"
#include "common/report.hpp"
#include "common/results.hpp"
#include "twofour/build_info.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

const std::vector<std::string> kVariants = {"dense", "oneshot", "retrained"};
const std::vector<std::string> kArithmetics = {"fp32", "fp16-sm80", "fp16-sm90", "int8"};

std::string variant_title(const std::string& v) {
  return v == "dense" ? "dense" : v == "oneshot" ? "2:4 one-shot (pruned, not retrained)" : "2:4 retrained (ASP)";
}

// Accuracies (in %) of `model`/`variant`/`arithmetic` over the seeds.
std::vector<double> accuracies(const ReproduceSummary& s, const std::string& model, const std::string& variant,
                               const std::string& arithmetic) {
  std::vector<double> out;
  for (const auto& r : s.runs)
    if (r.at("model") == model) out.push_back(100.0 * r.at("evaluation").at(variant).at(arithmetic).get<double>());
  return out;
}

std::vector<double> logit_differences(const ReproduceSummary& s, const std::string& model, const std::string& variant) {
  std::vector<double> out;
  for (const auto& r : s.runs)
    if (r.at("model") == model) out.push_back(100.0 * r.at("evaluation").at(variant).at("logits_differ_sm80_sm90").get<double>());
  return out;
}

struct Verdict {
  double dense = NAN, retrained = NAN, oneshot = NAN;
  bool held = false;
};

Verdict verdict(const ReproduceSummary& s, const std::string& model, const std::string& arithmetic) {
  Verdict v;
  v.dense = mean_of(accuracies(s, model, "dense", arithmetic));
  v.retrained = mean_of(accuracies(s, model, "retrained", arithmetic));
  v.oneshot = mean_of(accuracies(s, model, "oneshot", arithmetic));
  v.held = v.retrained >= v.dense - kMatchTolerancePoints;
  return v;
}

std::string accuracy_table(const ReproduceSummary& s) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& plan : s.plans)
    for (const auto& variant : kVariants) {
      std::vector<std::string> row = {plan.model, variant_title(variant)};
      for (const auto& a : kArithmetics) row.push_back(mean_pm_std(accuracies(s, plan.model, variant, a)));
      row.push_back(mean_pm_std(logit_differences(s, plan.model, variant), 3));
      cells.push_back(row);
    }
  return markdown_table({"model", "network", "fp32", "fp16 sm_80", "fp16 sm_90", "int8", "logits differing sm_80 vs sm_90 (%)"},
                        cells);
}

std::string layers_text(const ReproduceSummary& s) {
  std::ostringstream out;
  for (const auto& plan : s.plans)
    for (const auto& r : s.runs) {
      if (r.at("model") != plan.model) continue;
      out << "- **" << plan.model << "**: 2:4-pruned layers ";
      bool first = true;
      for (const auto& l : r.at("evaluation").at("retrained").at("layers_fp16-sm80")) {
        out << (first ? "" : ", ") << "`" << l.at("name").get<std::string>() << "` on `"
            << l.at("instruction").get<std::string>() << "`";
        first = false;
      }
      out << " (the dense network's same layers run on the dense twins: ";
      first = true;
      for (const auto& l : r.at("evaluation").at("dense").at("layers_fp16-sm80")) {
        out << (first ? "" : ", ") << "`" << l.at("instruction").get<std::string>() << "`";
        first = false;
      }
      out << "); int8 uses `" << r.at("evaluation").at("retrained").at("layers_int8").at(0).at("instruction").get<std::string>()
          << "`. Every other layer runs in fp32.\n";
      break;
    }
  return out.str();
}

std::string setup_text(const ReproduceSummary& s) {
  std::ostringstream out;
  std::set<std::uint64_t> seeds;
  for (const auto& r : s.runs) seeds.insert(r.at("seed").get<std::uint64_t>());
  std::string seed_list;
  for (auto seed : seeds) seed_list += (seed_list.empty() ? "" : ", ") + std::to_string(seed);
  out << "Mode **" << s.mode << "**, " << s.seeds << " seed(s) (" << seed_list << "), " << s.threads
      << " OpenMP thread(s), git revision `" << build_info::git_revision << "`.\n\n";
  out << "Data: Fashion-MNIST (60,000 training and 10,000 test images of 28×28, 10 classes).\n\n";
  std::vector<std::vector<std::string>> cells;
  for (const auto& p : s.plans)
    cells.push_back({p.model, std::to_string(p.epochs) + " + " + std::to_string(p.epochs),
                     p.train_limit ? std::to_string(p.train_limit) : "60000 (all)",
                     p.eval_limit ? "first " + std::to_string(p.eval_limit) : "10000 (all)", std::to_string(p.calibration)});
  out << markdown_table({"model", "epochs dense + retrain", "training images", "test images evaluated", "int8 calibration images"},
                        cells);
  out << "\nRecipe (NVIDIA ASP): train dense with SGD (momentum 0.9, lr 0.05, weight decay 5e-4, cosine schedule, "
         "batch 128); prune every eligible layer once to 2:4 by magnitude along input channels; retrain with the same "
         "optimiser and schedule, the mask fixed (gradients of pruned weights zeroed, weights re-masked after every "
         "step).\n\n";
  out << "Arithmetic: *fp32* is the training stack's own forward pass. *fp16 sm_80 / sm_90*: every 2:4 target layer "
         "runs through twofour's bit-exact simulation of `mma.sp` (or of the dense twin `mma` when the weight is not "
         "2:4) with fp16 weights and inputs (round to nearest) and fp32 accumulation, on the A100 (sm_80) or H100 "
         "(sm_90) datapath. *int8*: symmetric per-output-channel weight scales, a static per-tensor input scale from the "
         "calibration images, s32 accumulation through the simulated `mma.sp` s8 instruction. The simulated accuracies "
         "use the test images listed above; the fp32 column uses the same images.\n\n";
  out << layers_text(s);
  return out.str();
}

std::string verdict_text(const ReproduceSummary& s) {
  std::ostringstream out;
  bool all = true;
  for (const auto& plan : s.plans) {
    const Verdict v = verdict(s, plan.model, "fp32");
    all = all && v.held;
    char line[400];
    std::snprintf(line, sizeof line,
                  "- **%s**: dense %.2f%%, 2:4 retrained %.2f%% (%+.2f points), 2:4 one-shot %.2f%% (%+.2f points): "
                  "**%s**.\n",
                  plan.model.c_str(), v.dense, v.retrained, v.retrained - v.dense, v.oneshot, v.oneshot - v.dense,
                  v.held ? "the claim held" : "the claim did not hold");
    out << line;
    for (const auto& a : {"fp16-sm80", "fp16-sm90", "int8"}) {
      const Verdict va = verdict(s, plan.model, a);
      std::snprintf(line, sizeof line, "  - under %s: retrained − dense = %+.2f points (%s)\n", a, va.retrained - va.dense,
                    va.held ? "within tolerance" : "outside tolerance");
      out << line;
    }
  }
  out << "\nCriterion: the retrained network's mean fp32 accuracy is no more than " << kMatchTolerancePoints
      << " percentage points below the dense network's. ";
  if (s.mode == "quick")
    out << "Quick mode uses short schedules (and, for the CNN, part of the data); its numbers show the workflow, "
           "`twofour reproduce --full` gives the reference figures.";
  out << "\n\n" << (all ? "Overall: the claim held for every model." : "Overall: the claim did not hold for every model.")
      << "\n";
  return out.str();
}

}  // namespace

std::vector<json> reproduce_rows(const ReproduceSummary& s) {
  std::vector<json> rows;
  for (const auto& r : s.runs)
    for (const auto& variant : kVariants)
      for (const auto& a : kArithmetics) {
        const json& e = r.at("evaluation").at(variant);
        json row = {{"model", r.at("model")}, {"seed", r.at("seed")},       {"variant", variant},
                    {"arithmetic", a},        {"accuracy", e.at(a)},        {"eval_images", r.at("eval_images")},
                    {"epochs", r.at("epochs")}, {"train_images", r.at("train_images")}, {"mode", s.mode},
                    {"git_revision", r.at("git_revision")}};
        if (a == "fp16-sm90") row["logits_differ_sm80_sm90"] = e.at("logits_differ_sm80_sm90");
        rows.push_back(row);
      }
  return rows;
}

void write_reproduce_outputs(const std::filesystem::path& out, const ReproduceSummary& s, bool plots) {
  json histories = json::array();
  for (const auto& r : s.runs)
    histories.push_back({{"model", r.at("model")}, {"seed", r.at("seed")}, {"history", r.at("history")}});
  json plan_json = json::array();
  for (const auto& p : s.plans)
    plan_json.push_back({{"model", p.model}, {"epochs", p.epochs}, {"train_limit", p.train_limit}, {"eval_limit", p.eval_limit},
                         {"calibration", p.calibration}});
  const json meta = {{"experiment", "reproduce"},
                     {"claim", "2:4 sparse networks retrained with NVIDIA's ASP recipe match dense accuracy "
                               "(Mishra et al. 2021, arXiv 2104.08378)"},
                     {"mode", s.mode},
                     {"seeds", s.seeds},
                     {"threads", s.threads},
                     {"git_revision", build_info::git_revision},
                     {"tolerance_points", kMatchTolerancePoints},
                     {"plans", plan_json},
                     {"histories", histories}};
  write_results(out, meta, reproduce_rows(s));

  bool drew = false;
  if (plots) drew = run_plot("reproduce.py", {(out / "results.json").string(), out.string()});

  std::vector<ReportSection> sections;
  sections.push_back({"Claim",
                      "NVIDIA's whitepaper on sparse tensor cores (Mishra et al. 2021, *Accelerating Sparse Deep Neural "
                      "Networks*, arXiv 2104.08378) states that a network trained dense, pruned once to 2:4 by magnitude "
                      "and retrained with the mask fixed recovers the dense network's accuracy, while pruning without "
                      "retraining loses accuracy. This report tests the claim on two small Fashion-MNIST networks, in "
                      "fp32 and under the exact arithmetic of the sparse tensor cores that would run them.\n"});
  sections.push_back({"Setup", setup_text(s)});
  sections.push_back({"Results", "Test accuracy in %, mean ± sample standard deviation over seeds.\n\n" + accuracy_table(s)});
  std::string plot_text;
  if (drew) {
    for (const auto& p : s.plans)
      plot_text += "![" + p.model + ": test accuracy per epoch](curves_" + p.model + ".png)\n\n";
    plot_text += "![accuracy by network and arithmetic](accuracy.png)\n";
  } else {
    plot_text = "Plots were not drawn (python3 with matplotlib is missing, or --no-plots); results.json holds the data.\n";
  }
  sections.push_back({"Plots", plot_text});
  std::string perf_text;
  try {
    perf_text = perf_report_section(out, plots);
  } catch (const std::exception& e) {
    perf_text = std::string("Not written: ") + e.what() + "\n";
  }
  sections.push_back({"Performance: Table 1 and the roofline model", perf_text});
  sections.push_back({"Verdict", verdict_text(s)});
  write_report(out / "REPORT.md", "twofour: reproducing the 2:4 sparsity whitepaper",
               "Generated by `twofour reproduce`; results.json and results.csv hold every number.", sections);
}

std::string summary_text(const ReproduceSummary& s) {
  std::ostringstream out;
  out << "twofour reproduce (" << s.mode << ", " << s.seeds << " seed(s)): test accuracy %, mean ± std\n";
  char line[300];
  std::snprintf(line, sizeof line, "%-5s %-10s %16s %16s %16s %16s\n", "model", "network", "fp32", "fp16-sm80", "fp16-sm90", "int8");
  out << line;
  for (const auto& plan : s.plans)
    for (const auto& v : kVariants) {
      std::snprintf(line, sizeof line, "%-5s %-10s", plan.model.c_str(), v.c_str());
      out << line;
      for (const auto& a : kArithmetics) {
        std::snprintf(line, sizeof line, " %16s", mean_pm_std(accuracies(s, plan.model, v, a)).c_str());
        out << line;
      }
      out << "\n";
    }
  out << verdict_text(s);
  return out.str();
}

}  // namespace twofour::experiments
