#include "twofour/nn/optim.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace twofour::nn {

float learning_rate(const OptimizerConfig& opt, const ScheduleConfig& schedule, double progress, double total_epochs) {
  const double base = opt.lr;
  switch (schedule.kind) {
    case ScheduleKind::constant:
      return opt.lr;
    case ScheduleKind::step: {
      const double drops = std::floor(progress / schedule.step_epochs);
      return static_cast<float>(base * std::pow(schedule.gamma, drops));
    }
    case ScheduleKind::cosine: {
      const double t = total_epochs > 0 ? std::min(1.0, std::max(0.0, progress / total_epochs)) : 1.0;
      const double f = schedule.min_factor + (1.0 - schedule.min_factor) * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
      return static_cast<float>(base * f);
    }
  }
  return opt.lr;
}

OptimizerKind parse_optimizer(const std::string& name) {
  if (name == "sgd") return OptimizerKind::sgd;
  if (name == "adamw") return OptimizerKind::adamw;
  throw std::invalid_argument("unknown optimizer '" + name + "' (sgd, adamw)");
}

ScheduleKind parse_schedule(const std::string& name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "step") return ScheduleKind::step;
  if (name == "cosine") return ScheduleKind::cosine;
  throw std::invalid_argument("unknown schedule '" + name + "' (constant, step, cosine)");
}

std::string to_string(OptimizerKind k) { return k == OptimizerKind::sgd ? "sgd" : "adamw"; }
std::string to_string(ScheduleKind k) {
  return k == ScheduleKind::constant ? "constant" : k == ScheduleKind::step ? "step" : "cosine";
}

Optimizer::Optimizer(OptimizerConfig config, std::span<Parameter* const> params)
    : config_(config), params_(params.begin(), params.end()) {
  for (auto* p : params_) {
    m_.emplace_back(p->value.shape);
    if (config_.kind == OptimizerKind::adamw) v_.emplace_back(p->value.shape);
  }
}

void Optimizer::step(float lr) {
  ++t_;
  const float wd = config_.weight_decay;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    float* w = p.value.data.data();
    const float* g = p.grad.data.data();
    float* m = m_[i].data.data();
    const std::size_t n = p.value.numel();
    const float decay = p.decay ? wd : 0.0f;
    if (config_.kind == OptimizerKind::sgd) {
      const float mu = config_.momentum;
#pragma omp parallel for schedule(static) if (n >= (std::size_t{1} << 16))
      for (std::size_t j = 0; j < n; ++j) {
        m[j] = mu * m[j] + g[j] + decay * w[j];
        w[j] -= lr * m[j];
      }
    } else {
      float* v = v_[i].data.data();
      const float b1 = config_.beta1, b2 = config_.beta2, eps = config_.eps;
      const auto tt = static_cast<double>(t_);
      const float c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(b1), tt));
      const float c2 = static_cast<float>(1.0 - std::pow(static_cast<double>(b2), tt));
#pragma omp parallel for schedule(static) if (n >= (std::size_t{1} << 16))
      for (std::size_t j = 0; j < n; ++j) {
        w[j] -= lr * decay * w[j];
        m[j] = b1 * m[j] + (1.0f - b1) * g[j];
        v[j] = b2 * v[j] + (1.0f - b2) * g[j] * g[j];
        w[j] -= lr * (m[j] / c1) / (std::sqrt(v[j] / c2) + eps);
      }
    }
  }
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::state() {
  std::vector<std::pair<std::string, Tensor*>> s;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    s.emplace_back(params_[i]->name + ".m", &m_[i]);
    if (!v_.empty()) s.emplace_back(params_[i]->name + ".v", &v_[i]);
  }
  return s;
}

}  // namespace twofour::nn
