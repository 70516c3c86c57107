#pragma once
// Synthetic data for the criterion tests: Gaussian weights and correlated calibration activations.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace twofour::testing {

inline std::vector<float> gaussian(std::size_t count, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(count);
  for (auto& x : v) x = nd(rng);
  return v;
}

// (samples, in) activations with strongly correlated neighbouring features and unequal scales:
// x_j = s_j * (rho * x_{j-1}/s_{j-1} + sqrt(1 - rho^2) * z_j) (an AR(1) chain across features),
// s_j log-uniform in [0.25, 4]. This is the regime where second-order criteria matter.
inline std::vector<float> correlated_activations(std::size_t samples, std::size_t in, std::uint64_t seed,
                                                 double rho = 0.9) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  std::uniform_real_distribution<double> ud(std::log(0.25), std::log(4.0));
  std::vector<double> scale(in);
  for (auto& s : scale) s = std::exp(ud(rng));
  std::vector<float> x(samples * in);
  for (std::size_t n = 0; n < samples; ++n) {
    double prev = nd(rng);
    for (std::size_t j = 0; j < in; ++j) {
      const double cur = j == 0 ? prev : rho * prev + std::sqrt(1 - rho * rho) * nd(rng);
      x[n * in + j] = static_cast<float>(scale[j] * cur);
      prev = cur;
    }
  }
  return x;
}

}  // namespace twofour::testing
