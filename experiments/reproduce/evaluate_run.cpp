#include "reproduce/evaluate_run.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

// A model of the same kind with `source`'s parameters and BatchNorm statistics.
std::unique_ptr<nn::Model> clone(nn::Model& source) {
  auto copy = nn::make_model(source.kind);
  const auto from = source.parameters();
  const auto to = copy->parameters();
  for (std::size_t i = 0; i < from.size(); ++i) {
    to[i]->value = from[i]->value;
    to[i]->mask = from[i]->mask;
  }
  auto from_buffers = source.net.buffers();
  auto to_buffers = copy->net.buffers();
  for (std::size_t i = 0; i < from_buffers.size(); ++i) *to_buffers[i].second = *from_buffers[i].second;
  return copy;
}

json evaluate_variant(nn::Model& model, const nn::Dataset& eval_data, const nn::Dataset& calibration,
                      const std::string& variant, const std::function<void(const std::string&)>& note) {
  json out;
  const nn::Int8Calibration cal = nn::calibrate_int8(model, calibration, calibration.size());
  std::vector<float> sm80_logits;
  for (nn::Arithmetic a : {nn::Arithmetic::fp32, nn::Arithmetic::fp16_sm80, nn::Arithmetic::fp16_sm90, nn::Arithmetic::int8}) {
    const auto t0 = std::chrono::steady_clock::now();
    const nn::SimulatedEvaluation ev = nn::evaluate_simulated(model, eval_data, a, &cal);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out[nn::to_string(a)] = ev.accuracy;
    if (a == nn::Arithmetic::fp16_sm80) sm80_logits = ev.logits;
    if (a == nn::Arithmetic::fp16_sm90) out["logits_differ_sm80_sm90"] = nn::fraction_bits_differ(sm80_logits, ev.logits);
    if (a != nn::Arithmetic::fp32) {
      json layers = json::array();
      for (const auto& l : ev.layers) layers.push_back({{"name", l.name}, {"instruction", l.instruction}, {"sparse", l.sparse}});
      out["layers_" + nn::to_string(a)] = layers;
    }
    char line[160];
    std::snprintf(line, sizeof line, "%-9s %-9s accuracy %.2f%% (%zu images, %.1f s)", variant.c_str(),
                  nn::to_string(a).c_str(), 100 * ev.accuracy, eval_data.size(), seconds);
    note(line);
  }
  return out;
}

}  // namespace

json evaluate_asp_run(const nn::TrainResult& run, const nn::Dataset& eval_data, const nn::Dataset& calibration,
                      const std::function<void(const std::string&)>& note) {
  if (!run.dense_model || !run.model) throw std::invalid_argument("evaluate_asp_run needs a finished ASP run");
  const auto t0 = std::chrono::steady_clock::now();
  json variants;
  variants["dense"] = evaluate_variant(*run.dense_model, eval_data, calibration, "dense", note);
  // One-shot: exactly what the ASP run's retraining started from (magnitude 2:4 of the dense model).
  auto oneshot = clone(*run.dense_model);
  const auto targets = oneshot->pruned_parameters();
  nn::compute_magnitude_masks(targets);
  nn::apply_masks(targets);
  variants["oneshot"] = evaluate_variant(*oneshot, eval_data, calibration, "one-shot", note);
  variants["retrained"] = evaluate_variant(*run.model, eval_data, calibration, "retrained", note);
  return {{"variants", variants},
          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
}

}  // namespace twofour::experiments
