#pragma once
// First-order Taylor importance (Molchanov et al., "Importance Estimation for Neural Network
// Pruning", CVPR 2019; the SNIP/"gradient" criteria of Intel Neural Compressor use the same
// product): removing w changes the loss by about -g*w, so
//   S = |W * dL/dW|
// with the gradient accumulated (averaged) over a few calibration batches. Higher = more important.
// Data needed: gradients of the loss with respect to the weight, same shape as the weight.
#include <cstddef>
#include <span>
#include <vector>

namespace twofour::prune {

// Running mean of per-batch gradients (accumulated in double).
class GradientAccumulator {
 public:
  explicit GradientAccumulator(std::size_t numel);
  // Throws std::invalid_argument for a size mismatch or a non-finite value.
  void add(std::span<const float> gradient);
  std::size_t batches() const { return batches_; }
  // The mean gradient; throws std::logic_error when no batch was added.
  std::vector<float> mean() const;

 private:
  std::vector<double> sum_;
  std::size_t batches_ = 0;
};

// |w * g| element-wise. Throws std::invalid_argument when the sizes differ or a gradient is not
// finite (the message names the first bad index).
std::vector<float> taylor_scores(std::span<const float> weights, std::span<const float> gradients);

}  // namespace twofour::prune
