#include "twofour/nn/optim.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
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

void Optimizer::step(float lr) { update(lr, false); }
void Optimizer::step_masked(float lr) { update(lr, true); }

namespace {

// x where keep is all ones, +0.0f where it is zero: the select of sparse::apply_mask as bit
// arithmetic, so that the update loops stay vectorised (as a select or a branch per element the
// masked loop ran scalar, 9x slower).
inline float keep_bits(float x, std::uint32_t keep) { return std::bit_cast<float>(std::bit_cast<std::uint32_t>(x) & keep); }

// All ones where the mask keeps element j (kMasked false: everywhere, the mask is not read).
template <bool kMasked>
std::uint32_t keep_of(const std::uint8_t* mask, std::size_t j) {
  if constexpr (kMasked) return std::uint32_t{0} - static_cast<std::uint32_t>(mask[j] != 0);
  return ~std::uint32_t{0};
}

template <bool kMasked>
void sgd(float* w, const float* g, float* m, const std::uint8_t* mask, std::size_t n, float lr, float mu, float decay) {
#pragma omp parallel for schedule(static) if (n >= (std::size_t{1} << 16))
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint32_t keep = keep_of<kMasked>(mask, j);
    m[j] = mu * m[j] + keep_bits(g[j], keep) + decay * w[j];
    w[j] = keep_bits(w[j] - lr * m[j], keep);
  }
}

template <bool kMasked>
void adamw(float* w, const float* g, float* m, float* v, const std::uint8_t* mask, std::size_t n, float lr, float decay,
           float b1, float b2, float c1, float c2, float eps) {
#pragma omp parallel for schedule(static) if (n >= (std::size_t{1} << 16))
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint32_t keep = keep_of<kMasked>(mask, j);
    const float gj = keep_bits(g[j], keep);
    float wj = w[j] - lr * decay * w[j];
    m[j] = b1 * m[j] + (1.0f - b1) * gj;
    v[j] = b2 * v[j] + (1.0f - b2) * gj * gj;
    wj -= lr * (m[j] / c1) / (std::sqrt(v[j] / c2) + eps);
    w[j] = keep_bits(wj, keep);
  }
}

}  // namespace

void Optimizer::update(float lr, bool masked) {
  ++t_;
  const float wd = config_.weight_decay;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Parameter& p = *params_[i];
    const std::size_t n = p.value.numel();
    const float decay = p.decay ? wd : 0.0f;
    const std::uint8_t* mask = masked && !p.mask.empty() ? p.mask.data() : nullptr;
    if (mask != nullptr && p.mask.size() != n)
      throw std::invalid_argument("Optimizer::step_masked: " + p.name + "'s mask does not match its value");
    float* w = p.value.data.data();
    const float* g = p.grad.data.data();
    float* m = m_[i].data.data();
    if (config_.kind == OptimizerKind::sgd) {
      if (mask != nullptr)
        sgd<true>(w, g, m, mask, n, lr, config_.momentum, decay);
      else
        sgd<false>(w, g, m, nullptr, n, lr, config_.momentum, decay);
    } else {
      const auto tt = static_cast<double>(t_);
      const float c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(config_.beta1), tt));
      const float c2 = static_cast<float>(1.0 - std::pow(static_cast<double>(config_.beta2), tt));
      if (mask != nullptr)
        adamw<true>(w, g, m, v_[i].data.data(), mask, n, lr, decay, config_.beta1, config_.beta2, c1, c2, config_.eps);
      else
        adamw<false>(w, g, m, v_[i].data.data(), nullptr, n, lr, decay, config_.beta1, config_.beta2, c1, c2, config_.eps);
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
