// A Conv2d on its compressed 2:4 weight (sparse_layers.hpp). The weight (K, C, R, S) is viewed
// (K, R*S*C) with the channel innermost, so ASP's groups of 4 input channels at one kernel
// position are 4 consecutive columns; the patches are built in the same (r, s, c) order
// (conv_gemm.hpp). Like the dense layer, the batch runs in cache-sized chunks of images
// (conv_chunks.hpp), threads taking whole chunks with single-threaded kernels: per chunk,
// Y (K x chunk*OH*OW) = W' * patches is the 2:4 GEMM; dW' = dY * patches^T at the kept
// positions is the sampled GEMM with both operands as they are (chunk*OH*OW contiguous), the
// chunks' partial gradients added in chunk order afterwards; dpatches = W'^T * dY is the 2:4 GEMM
// on the transposed form when the mask is transposable, the dense GEMM otherwise.
#include "sparse_layer_impl.hpp"

#include "conv_chunks.hpp"
#include "gemm.hpp"
#include "twofour/gemm/sampled_gemm.hpp"
#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/nn/conv_gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <stdexcept>

namespace twofour::nn {
namespace {

// Offset in the (K, C, R, S) tensor of element (row k, column (r*S + s)*C + c) of the view.
struct KrscView {
  std::size_t c, rs;
  std::size_t operator()(std::size_t k, std::size_t col) const { return (k * c + col % c) * rs + col / c; }
};

// The 2:4 kernels' options inside a chunk: one thread when the chunks already run in parallel
// (like the dense GEMM's rule), else the whole team. The bits do not depend on it.
gemm::GemmOptions chunk_options() {
  gemm::GemmOptions o = detail::kTrusted24;
  o.threads = omp_in_parallel() ? 1 : 0;
  return o;
}

// Columns of a chunk's blocks as the kernels see them: np real ones, padded with zero columns to
// a multiple of the sampled GEMM's lane count (so that it needs no padded copies of its operands;
// zeros leave its sums unchanged) and to more than kSmallNMax (a tiny last chunk would otherwise
// take the 2:4 GEMM's small-N kernel, whose sums are ordered differently; the padded product's
// extra columns are zeros and are not read).
std::size_t kernel_columns(std::size_t np) {
  const std::size_t n = std::max(np, gemm::kSmallNMax + 1);
  return (n + gemm::kSampledLanes - 1) / gemm::kSampledLanes * gemm::kSampledLanes;
}

// Zero columns [np, ld) of a rows x ld block.
void zero_padding(float* block, std::size_t rows, std::size_t np, std::size_t ld) {
  if (ld != np)
    for (std::size_t r = 0; r < rows; ++r) std::fill(block + r * ld + np, block + (r + 1) * ld, 0.0f);
}

}  // namespace

bool SparseConv::forward(Conv2d& layer, const Tensor& x, Tensor& y) {
  const std::size_t kk = layer.out_c, rs = layer.k * layer.k, crs = layer.in_c * rs;
  const std::size_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
  const std::size_t oh = (h + 2 * layer.pad - layer.k) / layer.stride + 1;
  const std::size_t ow = (w + 2 * layer.pad - layer.k) / layer.stride + 1;
  const std::size_t p = oh * ow;
  const std::size_t chunk = detail::conv_chunk_images(crs, p);
  ran_ = forms_.refresh(layer.weight, kk, crs, KrscView{layer.in_c, rs});
  if (!ran_) return false;
  in_shape_ = x.shape;
  oh_ = oh;
  ow_ = ow;
  x_ = x.data;  // backward rebuilds the patches chunk by chunk
  y = Tensor({n, kk, oh, ow});
  detail::one_buffer_per_thread(col_, ym_);
  detail::for_each_chunk(n, chunk, crs * n * p, [&](std::size_t /*chunk index*/, std::size_t first, std::size_t count) {
    const std::size_t np = count * p, ld = kernel_columns(np);
    auto& col = detail::thread_buffer(col_, crs * ld);
    auto& ym = detail::thread_buffer(ym_, kk * ld);
    conv_patch_block(layer, x.data.data(), first, count, h, w, PatchRows::rsc, col.data(), ld);
    zero_padding(col.data(), crs, np, ld);
    gemm::gemm(forms_.w.packed(), col.data(), ld, ym.data(), ld, ld, chunk_options());
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t o = 0; o < kk; ++o) {
        const float b = layer.has_bias ? layer.bias.value.data[o] : 0.0f;
        const float* src = ym.data() + o * ld + i * p;
        float* dst = y.data.data() + ((first + i) * kk + o) * p;
        for (std::size_t j = 0; j < p; ++j) dst[j] = src[j] + b;
      }
  });
  return true;
}

Tensor SparseConv::backward(Conv2d& layer, const Tensor& dy) {
  const std::size_t kk = layer.out_c, rs = layer.k * layer.k, crs = layer.in_c * rs;
  const std::size_t n = in_shape_.at(0), h = in_shape_[2], w = in_shape_[3], p = oh_ * ow_;
  if (dy.shape != std::vector<std::size_t>{n, kk, oh_, ow_})
    throw std::invalid_argument(layer.name + ": gradient shape " + dy.shape_string());
  if (layer.has_bias) {
    for (std::size_t o = 0; o < kk; ++o) {
      float s = 0.0f;
      for (std::size_t img = 0; img < n; ++img)
        for (std::size_t j = 0; j < p; ++j) s += dy.data[(img * kk + o) * p + j];
      layer.bias.grad.data[o] += s;
    }
  }
  const bool kept_only = grad_ == SparseWeightGrad::kept_only;
  const std::size_t part = kept_only ? kk * crs / 2 : kk * crs;  // one chunk's dW' (compressed or dense)
  const std::size_t chunk = detail::conv_chunk_images(crs, p), chunks = (n + chunk - 1) / chunk;
  dw_chunks_.resize(chunks * part);
  const bool dx_dense = layer.input_grad && !forms_.transposable;
  if (dx_dense) forms_.w.decompress(layer.weight.value.data.data(), wm_);
  Tensor dx;
  if (layer.input_grad) dx = Tensor(in_shape_);
  detail::one_buffer_per_thread(col_, ym_);
  detail::for_each_chunk(n, chunk, crs * n * p, [&](std::size_t ci, std::size_t first, std::size_t count) {
    const std::size_t np = count * p, ld = kernel_columns(np);
    const gemm::GemmOptions one = chunk_options();
    // dY of the chunk as (K, image, position), and its patches.
    auto& ym = detail::thread_buffer(ym_, kk * ld);
    auto& col = detail::thread_buffer(col_, crs * ld);
    for (std::size_t o = 0; o < kk; ++o)
      for (std::size_t i = 0; i < count; ++i)
        std::copy_n(dy.data.data() + ((first + i) * kk + o) * p, p, ym.data() + o * ld + i * p);
    zero_padding(ym.data(), kk, np, ld);
    conv_patch_block(layer, x_.data(), first, count, h, w, PatchRows::rsc, col.data(), ld);
    zero_padding(col.data(), crs, np, ld);
    float* dw = dw_chunks_.data() + ci * part;
    if (kept_only) gemm::sampled_gemm({forms_.w.metadata(), kk, crs, dw}, ym.data(), ld, col.data(), ld, ld, one);
    else detail::gemm(false, true, kk, crs, np, 1.0f, ym.data(), ld, col.data(), ld, 0.0f, dw, crs);
    if (!layer.input_grad) return;
    // The patches' gradient overwrites the patches (no longer needed).
    if (dx_dense) detail::gemm(true, false, crs, np, kk, 1.0f, wm_.data(), crs, ym.data(), ld, 0.0f, col.data(), ld);
    else gemm::gemm(forms_.wt.packed(), ym.data(), ld, col.data(), ld, ld, one);
    conv_patch_block_backward(layer, col.data(), ld, first, count, h, w, PatchRows::rsc, dx.data.data());
  });
  float* grad = layer.weight.grad.data.data();
  const KrscView at{layer.in_c, rs};
  for (std::size_t ci = 0; ci < chunks; ++ci) {
    const float* dw = dw_chunks_.data() + ci * part;
    if (kept_only) {
      forms_.w.scatter_add(dw, grad);
    } else {
      for (std::size_t o = 0; o < kk; ++o)
        for (std::size_t j = 0; j < crs; ++j) grad[at(o, j)] += dw[o * crs + j];
    }
  }
  return dx;
}

SparseLayerStatus SparseConv::status(const Conv2d& layer) const { return {layer.name, ran_, ran_ && forms_.transposable}; }

}  // namespace twofour::nn
