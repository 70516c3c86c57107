#include "study/study.hpp"

#include "study/studies.hpp"

#include <stdexcept>

namespace twofour::experiments {

const std::vector<std::string>& study_names() {
  static const std::vector<std::string> names = {"mask-quality", "criteria", "sparsity", "recipe"};
  return names;
}

std::filesystem::path plan_results_dir(const std::filesystem::path& out) { return out / "plan-runs"; }

int run_study(const std::string& name, const StudyOptions& options) {
  try {
    if (name == "mask-quality") return run_mask_quality_study(options);
    if (name == "criteria") return run_criteria_study(options);
    if (name == "sparsity") return run_sparsity_study(options);
    if (name == "recipe") return run_recipe_study(options);
  } catch (const GridStepDone&) {
    return 0;
  }
  throw std::invalid_argument("unknown study '" + name + "' (mask-quality, criteria, sparsity, recipe)");
}

}  // namespace twofour::experiments
