// A Conv2d on its compressed 2:4 weight (sparse_layers.hpp). The weight (K, C, R, S) is viewed
// (K, R*S*C) with the channel innermost, so ASP's groups of 4 input channels at one kernel
// position are 4 consecutive columns; the patches are built in the same (r, s, c) order
// (conv_gemm.hpp). Y (K x N*OH*OW) = W' * patches is the 2:4 GEMM; dW' = dY * patches^T at the
// kept positions is the sampled GEMM with both operands as they are (N*OH*OW contiguous).
#include "sparse_layer_impl.hpp"

#include "gemm.hpp"
#include "twofour/gemm/sampled_gemm.hpp"
#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/nn/conv_gemm.hpp"

#include <algorithm>
#include <stdexcept>

namespace twofour::nn {
namespace {

// Offset in the (K, C, R, S) tensor of element (row k, column (r*S + s)*C + c) of the view.
struct KrscView {
  std::size_t c, rs;
  std::size_t operator()(std::size_t k, std::size_t col) const { return (k * c + col % c) * rs + col / c; }
};

}  // namespace

bool SparseConv::forward(Conv2d& layer, const Tensor& x, Tensor& y) {
  const std::size_t kk = layer.out_c, rs = layer.k * layer.k, crs = layer.in_c * rs;
  const std::size_t oh = (x.dim(2) + 2 * layer.pad - layer.k) / layer.stride + 1;
  const std::size_t ow = (x.dim(3) + 2 * layer.pad - layer.k) / layer.stride + 1;
  // At most kSmallNMax output positions: dense (see SparseLinear::forward).
  ran_ = x.dim(0) * oh * ow > gemm::kSmallNMax && forms_.refresh(layer.weight, kk, crs, KrscView{layer.in_c, rs});
  if (!ran_) return false;
  in_shape_ = x.shape;
  conv_patch_columns(layer, x, col_, oh_, ow_);
  const std::size_t n = x.dim(0), p = oh_ * ow_, np = n * p;
  ym_.resize(kk * np);
  gemm::gemm(forms_.w.view(), col_.data(), np, ym_.data(), np, np, detail::kTrusted24);
  y = Tensor({n, kk, oh_, ow_});
  const bool big = kk * np >= (std::size_t{1} << 16);
#pragma omp parallel for schedule(static) if (big)
  for (std::size_t img = 0; img < n; ++img)
    for (std::size_t o = 0; o < kk; ++o) {
      const float b = layer.has_bias ? layer.bias.value.data[o] : 0.0f;
      const float* src = ym_.data() + o * np + img * p;
      float* dst = y.data.data() + (img * kk + o) * p;
      for (std::size_t i = 0; i < p; ++i) dst[i] = src[i] + b;
    }
  return true;
}

Tensor SparseConv::backward(Conv2d& layer, const Tensor& dy) {
  const std::size_t kk = layer.out_c, rs = layer.k * layer.k, crs = layer.in_c * rs;
  const std::size_t n = in_shape_.at(0), p = oh_ * ow_, np = n * p;
  if (dy.shape != std::vector<std::size_t>{n, kk, oh_, ow_})
    throw std::invalid_argument(layer.name + ": gradient shape " + dy.shape_string());
  dym_.resize(kk * np);
  const bool big = kk * np >= (std::size_t{1} << 16);
#pragma omp parallel for schedule(static) if (big)
  for (std::size_t o = 0; o < kk; ++o)
    for (std::size_t img = 0; img < n; ++img)
      std::copy_n(dy.data.data() + (img * kk + o) * p, p, dym_.data() + o * np + img * p);
  if (layer.has_bias) {
    for (std::size_t o = 0; o < kk; ++o) {
      float s = 0.0f;
      for (std::size_t i = 0; i < np; ++i) s += dym_[o * np + i];
      layer.bias.grad.data[o] += s;
    }
  }
  float* grad = layer.weight.grad.data.data();
  if (grad_ == SparseWeightGrad::kept_only) {
    dwc_.resize(kk * crs / 2);
    gemm::sampled_gemm({forms_.w.metadata(), kk, crs, dwc_.data()}, dym_.data(), np, col_.data(), np, np, detail::kTrusted24);
    forms_.w.scatter_add(dwc_.data(), grad);
  } else {
    dw_.resize(kk * crs);  // dW' (K x R*S*C), then added into the (K, C, R, S) gradient
    detail::gemm(false, true, kk, crs, np, 1.0f, dym_.data(), np, col_.data(), np, 0.0f, dw_.data(), crs);
    const KrscView at{layer.in_c, rs};
    for (std::size_t o = 0; o < kk; ++o)
      for (std::size_t j = 0; j < crs; ++j) grad[at(o, j)] += dw_[o * crs + j];
  }
  if (!layer.input_grad) return {};
  // The column gradient overwrites the patches (no longer needed).
  if (forms_.transposable) {
    gemm::gemm(forms_.wt.view(), dym_.data(), np, col_.data(), np, np, detail::kTrusted24);
  } else {
    forms_.w.decompress(wm_);
    detail::gemm(true, false, crs, np, kk, 1.0f, wm_.data(), crs, dym_.data(), np, 0.0f, col_.data(), np);
  }
  return conv_patch_columns_backward(layer, col_, in_shape_);
}

SparseLayerStatus SparseConv::status(const Conv2d& layer) const { return {layer.name, ran_, ran_ && forms_.transposable}; }

}  // namespace twofour::nn
