#pragma once
// 2:4 layers on their compressed weights (docs/training.md, "Sparse retraining"). While a
// SparseExecutionScope is alive, every Linear and Conv2d of the model whose weight is a pruned
// target with a 2:4 mask runs on the lib's 2:4 kernels instead of dense GEMMs:
//   forward   Y = X (W*M)^T with W*M compressed (gemm::gemm, 2:4 along the input dimension);
//   dW        kept_only: only at the mask's kept positions, in compressed form
//             (gemm::sampled_gemm), then added into the dense gradient tensor there (pruned
//             entries are left untouched; ASP zeroes them anyway);
//             dense: the full dense dW (SR-STE's straight-through estimator needs the gradient of
//             pruned weights too);
//   dX        (W*M)^T is 2:4 only when the mask is transposable (every 4x4 block of the ASP view
//             keeps at most 2 per row and per column): then the 2:4 kernel on the compressed
//             transpose; otherwise the dense GEMM on W*M.
// dX is skipped where the layer's input_grad is false (the models' first layer, layers.hpp).
// The compressed forms are rebuilt from the weight and mask at every forward call, so they always
// follow the optimiser's updates and SR-STE's per-step masks. A layer whose mask is empty or not
// 2:4 (other N:M patterns, unstructured masks) keeps the dense path, and so does a product of at
// most gemm::kSmallNMax columns (a batch of <= 16): the 2:4 GEMM's small-N kernel reorders its sums
// per instruction set, and training's bits do not depend on the instruction set.
//
// The 2:4 kernels' bits depend on neither the thread count nor the instruction set, so training on
// them keeps that property of the dense stack.
#include "twofour/nn/models.hpp"

#include <memory>
#include <string>
#include <vector>

namespace twofour::nn {

enum class SparseWeightGrad {
  kept_only,  // ASP retraining: the mask is fixed and pruned gradients are discarded
  dense,      // SR-STE: the straight-through estimator applies the gradient to every weight
};

// What one layer ran in its last forward/backward (for logs and tests).
struct SparseLayerStatus {
  std::string layer;
  bool sparse_forward = false;      // false: the mask was empty or not 2:4, the dense path ran
  bool sparse_input_grad = false;   // the mask was transposable
};

// The per-layer state behind the hooks in Linear and Conv2d (defined in sparse_linear.cpp and
// sparse_conv.cpp).
class SparseLinear;
class SparseConv;

class SparseExecutionScope {
 public:
  SparseExecutionScope(Model& model, SparseWeightGrad weight_grad);
  ~SparseExecutionScope();  // the layers run dense again
  SparseExecutionScope(const SparseExecutionScope&) = delete;
  SparseExecutionScope& operator=(const SparseExecutionScope&) = delete;

  // The attached layers (prunable weights) and what their last call ran.
  std::vector<SparseLayerStatus> status() const;
  // One line: "sparse kernels: fc1 (dX dense: mask not transposable), fc2 (...)".
  std::string describe() const;

 private:
  SparseWeightGrad weight_grad_;
  std::vector<Layer*> layers_;  // the attached Linear and Conv2d layers, in model order
};

}  // namespace twofour::nn
