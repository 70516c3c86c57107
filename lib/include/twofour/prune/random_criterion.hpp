#pragma once
// Random scores: the chance baseline every criterion must beat. Scores come from std::mt19937_64
// (whose output sequence the C++ standard fixes), not from std::uniform_real_distribution (whose
// algorithm is implementation-defined), so a seed gives the same mask on every platform.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace twofour::prune {

// `count` scores in [0, 2^24), exact in float; with the shared N:M selection this keeps N uniformly
// chosen weights of each group.
std::vector<float> random_scores(std::size_t count, std::uint64_t seed);

}  // namespace twofour::prune
