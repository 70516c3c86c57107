#include "twofour/prune/model_prune.hpp"

#include "twofour/nn/layer_data.hpp"
#include "twofour/prune/criterion.hpp"

#include <stdexcept>

namespace twofour::prune {

void prune_model(nn::Model& model, const std::string& name, const nn::Dataset& calibration,
                 const ModelPruneOptions& options) {
  const Criterion* criterion = find_criterion(name);
  if (criterion == nullptr)
    throw std::invalid_argument("unknown criterion '" + name + "' (known: " + criterion_names() + ")");
  const auto targets = nn::target_layers(model);
  // Gradients come from the dense model, for every layer at once.
  std::vector<std::vector<float>> gradients;
  if (criterion->needs.gradients) gradients = nn::mean_gradients(model, calibration);
  PruneSpec spec;
  spec.criterion = name;
  spec.pattern = options.pattern;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    nn::Parameter& p = *targets[i].weight;
    CriterionInputs in;
    in.seed = options.seed * 1000003 + i;
    in.time_limit_seconds = options.time_limit_seconds;
    if (criterion->needs.gradients) in.gradients = gradients[i];
    std::vector<float> norms, rows;
    if (criterion->needs.calibration) {
      const nn::Tensor input = nn::layer_input(model, targets[i], calibration);
      norms = nn::channel_norms(input);
      std::size_t samples = 0, features = 0;
      rows = nn::gemm_rows(targets[i], input, samples, features);
      in.input_norms = norms;
      in.calibration = {rows, samples, features};
    }
    PruneResult r = prune_nm(p.value.data, p.value.shape, spec, in);
    if (criterion->updates_weights) p.value.data = std::move(r.pruned);
    p.mask = std::move(r.mask);
    sparse::apply_mask(p.value.data, p.mask);
  }
}

double target_sparsity(nn::Model& model) {
  std::size_t zeros = 0, total = 0;
  for (auto* p : model.pruned_parameters()) {
    for (float w : p->value.data) zeros += w == 0.0f;
    total += p->value.numel();
  }
  return total ? static_cast<double>(zeros) / static_cast<double>(total) : 0.0;
}

}  // namespace twofour::prune
