#pragma once
// Wanda (Sun, Liu, Bair, Kolter, "A Simple and Effective Pruning Approach for Large Language
// Models", ICLR 2024, arXiv 2306.11695; reference code lib/prune.py):
//   S_ij = |W_ij| * ||X_j||_2
// where X_j is input feature j over all calibration tokens. Scores are compared within each
// output row (the paper's "per output" comparison group); under N:M this is automatic, since
// every group of M lies in one row. No weights are updated.
// Data needed: calibration activations (samples, in), or their per-feature L2 norms. (The
// reference code uses ||X_j||^2 / n_tokens under a square root; the 1/sqrt(n) factor is the same for
// every j and does not change any ranking.)
#include "twofour/prune/metrics.hpp"
#include "twofour/sparse/pattern.hpp"

#include <span>
#include <vector>

namespace twofour::prune {

// ||X_j||_2 for each feature j, accumulated in double. Validates the activations (NaN -> error).
std::vector<float> activation_norms(const Activations& x);

// |W| * norm of the weight's input channel (the grouped axis of the ASP view, so convolutions use
// one norm per input channel C). Throws std::invalid_argument unless norms.size() == shape.in() and
// every norm is finite and >= 0, or when weights.size() != shape.numel().
std::vector<float> wanda_scores(std::span<const float> weights, const sparse::GroupedShape& shape,
                                std::span<const float> input_norms);

}  // namespace twofour::prune
