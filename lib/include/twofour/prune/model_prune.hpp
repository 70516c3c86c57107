#pragma once
// Model-wide pruning: every prunable weight of an nn::Model (its Linear and Conv2d targets) pruned
// by one registered criterion (criterion.hpp), layer by layer in network order. Each layer sees
// the inputs of the already-pruned earlier layers, as SparseGPT's and Wanda's reference code do.
// The data a criterion declares it needs is gathered here: calibration inputs (per-channel norms
// and the GEMM rows, im2col for convolutions), the dense model's mean gradients, a seed per layer.
#include "twofour/nn/data.hpp"
#include "twofour/nn/models.hpp"
#include "twofour/sparse/pattern.hpp"

#include <cstdint>
#include <string>

namespace twofour::prune {

struct ModelPruneOptions {
  sparse::NMPattern pattern{2, 4};  // N kept of every M along input channels
  std::uint64_t seed = 0;           // layer i gets seed * 1000003 + i
  double time_limit_seconds = 5.0;  // per layer, for criteria with a bounded search
};

// Sets each target's mask, zeroes its pruned weights and, for criteria that update weights,
// writes the updated kept weights. Throws std::invalid_argument for an unknown criterion or
// missing calibration data.
void prune_model(nn::Model& model, const std::string& criterion, const nn::Dataset& calibration,
                 const ModelPruneOptions& options = {});

// Fraction of the targets' weights that are zero, over all targets.
double target_sparsity(nn::Model& model);

}  // namespace twofour::prune
