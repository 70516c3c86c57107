#pragma once
// Optimisers and learning-rate schedules.
//   SGD with momentum (PyTorch's form): v <- mu v + (g + wd w); w <- w - lr v.
//   AdamW (Loshchilov & Hutter 2019): decoupled decay w <- w - lr wd w, then the Adam step with
//   bias-corrected moments.
// Weight decay applies only to parameters with decay == true (weights, not biases or BN affine).
#include "twofour/nn/tensor.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace twofour::nn {

enum class OptimizerKind { sgd, adamw };
enum class ScheduleKind { constant, step, cosine };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  float lr = 0.05f;
  float momentum = 0.9f;       // SGD
  float weight_decay = 5e-4f;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;  // AdamW
};

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::cosine;
  double step_epochs = 1;  // step: multiply by gamma every step_epochs epochs
  double gamma = 0.1;
  double min_factor = 0.0;  // cosine: final lr = base * min_factor
};

// Learning rate after `progress` epochs of a run lasting `total_epochs` (fractional: schedules
// advance every iteration).
float learning_rate(const OptimizerConfig& opt, const ScheduleConfig& schedule, double progress, double total_epochs);

OptimizerKind parse_optimizer(const std::string& name);  // "sgd", "adamw"
ScheduleKind parse_schedule(const std::string& name);    // "constant", "step", "cosine"
std::string to_string(OptimizerKind k);
std::string to_string(ScheduleKind k);

class Optimizer {
 public:
  Optimizer(OptimizerConfig config, std::span<Parameter* const> params);
  // One update of every parameter with its current gradient.
  void step(float lr);
  // The same update for ASP retraining: a parameter with a mask updates as if its gradient were
  // masked before the step and its value after it (sparse::apply_mask both times), bit for bit,
  // in the step's own pass over memory (the two extra passes were 3% of an MLP retraining step).
  // The stored gradient is left as it is.
  void step_masked(float lr);
  // State for checkpoints: one or two tensors per parameter ("<name>.m", "<name>.v").
  std::vector<std::pair<std::string, Tensor*>> state();
  std::uint64_t steps() const { return t_; }
  void set_steps(std::uint64_t t) { t_ = t; }
  const OptimizerConfig& config() const { return config_; }

 private:
  OptimizerConfig config_;
  std::vector<Parameter*> params_;
  std::vector<Tensor> m_, v_;
  void update(float lr, bool masked);
  std::uint64_t t_ = 0;
};

}  // namespace twofour::nn
