#include "twofour/prune/random_criterion.hpp"

#include <random>

namespace twofour::prune {

std::vector<float> random_scores(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> s(count);
  // The top 24 bits of each draw: an integer float, exactly representable, platform-independent.
  for (auto& v : s) v = static_cast<float>(rng() >> 40);
  return s;
}

}  // namespace twofour::prune
