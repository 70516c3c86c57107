#pragma once
// Adds random, wanda, taylor and sparsegpt to the criterion registry (criterion.hpp).
//
// The registry's score interface fits the three score-only criteria:
//   random    CriterionInputs::seed
//   wanda     CriterionInputs::input_norms  (activation_norms of the calibration data)
//   taylor    CriterionInputs::gradients    (the accumulated gradient)
// A missing input is a std::invalid_argument naming what to pass. SparseGPT also UPDATES the kept
// weights, which a score cannot express: its registry entry only throws, pointing to
// sparsegpt_prune (the tool routes --criterion sparsegpt there).
//
// Static libraries drop unreferenced object files, so registration is an explicit call (the tool
// makes it once at start-up). Idempotent.
namespace twofour::prune {

void register_extended_criteria();

}  // namespace twofour::prune
