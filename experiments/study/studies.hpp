#pragma once
// The four studies, one file each (mask_quality.cpp, criteria.cpp, sparsity.cpp, recipe.cpp);
// run_study() in study.cpp dispatches by name.
#include "study/study.hpp"

namespace twofour::experiments {

// Thrown by StudyContext::run_grid at the end of a `plan` or `unit` step: the study's own code after
// its grid (tables, plots, REPORT.md) must not run; run_study() catches it.
struct GridStepDone {};

int run_mask_quality_study(const StudyOptions& options);
int run_criteria_study(const StudyOptions& options);
int run_sparsity_study(const StudyOptions& options);
int run_recipe_study(const StudyOptions& options);

}  // namespace twofour::experiments
