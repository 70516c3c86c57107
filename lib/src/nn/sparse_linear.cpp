// A Linear layer on its compressed 2:4 weight (sparse_layers.hpp). The kernels want the batch
// as columns (features x N): X^T is the B operand of the forward GEMM and, with dY^T, the two
// feature-major operands of the sampled dW; both transposes are O(N * features), small next to
// the O(N * in * out) products.
#include "sparse_layer_impl.hpp"

#include "gemm.hpp"
#include "twofour/gemm/sampled_gemm.hpp"
#include "twofour/gemm/sparse_gemm.hpp"

#include <stdexcept>

namespace twofour::nn {

bool SparseLinear::forward(Linear& layer, const Tensor& x, Tensor& y) {
  const std::size_t in = layer.weight.value.dim(1), out = layer.weight.value.dim(0);
  if (x.rank() != 2 || x.dim(1) != in)
    throw std::invalid_argument(layer.name + ": input " + x.shape_string() + " is not (N, " + std::to_string(in) + ")");
  const std::size_t n = x.dim(0);
  // A batch of at most kSmallNMax would take the 2:4 GEMM's small-N kernel, whose sums are
  // reordered per instruction set; training keeps its bits independent of the CPU, so such
  // tiny batches run dense.
  ran_ = n > gemm::kSmallNMax &&
         forms_.refresh(layer.weight, out, in, [in](std::size_t r, std::size_t c) { return r * in + c; });
  if (!ran_) return false;
  n_ = n;
  xt_.resize(in * n);
  detail::transpose(x.data.data(), n, in, xt_.data());
  yt_.resize(out * n);
  gemm::gemm(forms_.w.packed(), xt_.data(), n, yt_.data(), n, n, detail::kTrusted24);  // Y^T = (W*M) X^T
  y = Tensor({n, out});
  detail::transpose(yt_.data(), out, n, y.data.data());
  if (layer.has_bias)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t o = 0; o < out; ++o) y.data[i * out + o] += layer.bias.value.data[o];
  return true;
}

Tensor SparseLinear::backward(Linear& layer, const Tensor& dy) {
  const std::size_t in = layer.weight.value.dim(1), out = layer.weight.value.dim(0), n = n_;
  if (dy.rank() != 2 || dy.dim(0) != n || dy.dim(1) != out)
    throw std::invalid_argument(layer.name + ": gradient shape " + dy.shape_string());
  dyt_.resize(out * n);
  detail::transpose(dy.data.data(), n, out, dyt_.data());
  if (layer.has_bias) detail::add_column_sums(dy.data.data(), n, out, layer.bias.grad.data.data());  // as the dense layer
  float* grad = layer.weight.grad.data.data();
  if (grad_ == SparseWeightGrad::kept_only) {
    // Added straight into the gradient tensor (W's row-major layout is the 2:4 view's): no
    // compressed copy, no scatter pass.
    gemm::GemmOptions add = detail::kTrusted24;
    add.accumulate = true;
    forms_.w.preserving_fillers(grad, [&] {
      gemm::sampled_gemm_dense({forms_.w.metadata(), out, in, grad, in}, dyt_.data(), n, xt_.data(), n, n, add);
    });
  } else {
    // dW = dY^T X, with X held as X^T.
    detail::gemm(false, true, out, in, n, 1.0f, dyt_.data(), n, xt_.data(), n, 1.0f, grad, in);
  }
  if (!layer.input_grad) return {};  // the network input's gradient, when nobody needs it
  Tensor dx({n, in});
  if (forms_.transposable) {
    dxt_.resize(in * n);
    gemm::gemm(forms_.wt.packed(), dyt_.data(), n, dxt_.data(), n, n, detail::kTrusted24);  // dX^T = (W*M)^T dY^T
    detail::transpose(dxt_.data(), in, n, dx.data.data());
  } else {
    forms_.w.decompress(layer.weight.value.data.data(), wm_);
    detail::gemm(false, false, n, in, out, 1.0f, dy.data.data(), out, wm_.data(), in, 0.0f, dx.data.data(), in);
  }
  return dx;
}

SparseLayerStatus SparseLinear::status(const Linear& layer) const {
  return {layer.name, ran_, ran_ && forms_.transposable};
}

}  // namespace twofour::nn
