#pragma once
// Evaluation of one finished ASP run: its dense-phase model, the one-shot model (the dense model
// pruned to 2:4 by magnitude, not retrained) and the retrained model, each in fp32 and under exact
// tensor-core arithmetic (fp16 sm_80, fp16 sm_90, int8), on the same test images.
#include "twofour/nn/sim_inference.hpp"
#include "twofour/nn/train.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace twofour::experiments {

// Returns {"variants": {"dense"|"oneshot"|"retrained": {"fp32": acc, "fp16-sm80": acc, ...,
// "logits_differ_sm80_sm90": fraction, "layers": [{name, instruction, sparse}...]}}, "seconds": s}.
// `note` receives one line per evaluation (progress). Throws std::invalid_argument when the run
// has no dense-phase model (not an ASP run).
nlohmann::json evaluate_asp_run(const nn::TrainResult& run, const nn::Dataset& eval_data, const nn::Dataset& calibration,
                                const std::function<void(const std::string&)>& note);

}  // namespace twofour::experiments
