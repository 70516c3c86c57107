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
// The columns layout into `out` (resized; its capacity is reused), images in parallel.
void conv_patch_columns(const Conv2d& conv, const Tensor& input, std::vector<float>& out, std::size_t& out_h,
                        std::size_t& out_w);

// The order of a patch block's rows: (c, r, s) is the weight's own (K, C, R, S) order (the dense
// Conv2d's GEMM); (r, s, c) puts the channel innermost, the 2:4 view above.
enum class PatchRows { crs, rsc };

// The im2col block of images [first, first + count) of `x` ((N, conv.in_c, h, w) values): row f
// (in `rows` order) starts at out + f * ld, image first + i fills columns [i*OH*OW, (i+1)*OH*OW)
// in output-position order. Every element of columns [0, count*OH*OW) is written (zeros where
// the window lies in the padding); columns beyond are left alone. One thread: callers split the
// batch. The caller checks the shapes (ld >= count*OH*OW).
void conv_patch_block(const Conv2d& conv, const float* x, std::size_t first, std::size_t count, std::size_t h,
                      std::size_t w, PatchRows rows, float* out, std::size_t ld);
// Its adjoint (col2im): dx (N, conv.in_c, h, w) += the block's columns summed back onto the input
// positions they were copied from, each input element in (r, s) order per channel. The entries of
// `columns` that lie in the padding are overwritten with zeros (so that the stride-1 "same" case
// can add whole contiguous runs).
void conv_patch_block_backward(const Conv2d& conv, float* columns, std::size_t ld, std::size_t first,
                               std::size_t count, std::size_t h, std::size_t w, PatchRows rows, float* dx);

}  // namespace twofour::nn
