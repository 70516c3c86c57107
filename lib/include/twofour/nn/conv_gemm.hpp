#pragma once
// A convolution as a GEMM with N:M groups along input channels: the weight (K, C, R, S) viewed as
// (K, R*S*C) with the channel innermost, and the input's im2col patches with features in the same
// (r, s, c) order. Used by pruning criteria that need the GEMM view (SparseGPT), by model-wide
// pruning and by simulated inference.
#include "twofour/nn/layers.hpp"
#include "twofour/nn/tensor.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace twofour::nn {

// Conv weight (K, C, R, S) <-> (K, R*S*C) with the channel innermost; a copy for any other rank.
std::vector<float> to_krsc(std::span<const float> weights, std::span<const std::size_t> shape);
std::vector<float> from_krsc(std::span<const float> weights, std::span<const std::size_t> shape);

enum class PatchLayout {
  rows,     // (N*OH*OW) x (R*S*C): one sample per row (activations as calibration data)
  columns,  // (R*S*C) x (N*OH*OW): the B operand of W (K x R*S*C) times patches
};

// The zero-padded im2col patches of `input` (N, C, H, W) for `conv`, features ordered (r, s, c).
// Sets out_h, out_w. Throws std::invalid_argument when the input is not (N, conv.in_c, H, W).
std::vector<float> conv_patches(const Conv2d& conv, const Tensor& input, PatchLayout layout, std::size_t& out_h,
                                std::size_t& out_w);
// The columns layout into `out` (resized; its capacity is reused across training steps), each
// patch row written as contiguous runs, images in parallel.
void conv_patch_columns(const Conv2d& conv, const Tensor& input, std::vector<float>& out, std::size_t& out_h,
                        std::size_t& out_w);
// The adjoint (col2im): the gradient of the input (input_shape) from the gradient of its columns
// ((R*S*C) x (N*OH*OW)); each input element sums its patch entries in (r, s, c) order.
Tensor conv_patch_columns_backward(const Conv2d& conv, const std::vector<float>& columns,
                                   const std::vector<std::size_t>& input_shape);

}  // namespace twofour::nn
