#pragma once
// What pruning a whole model needs beyond training: its prunable layers, the inputs those layers
// see on a set of images (calibration data for data-aware criteria, and reconstruction errors),
// those inputs as a (samples, features) matrix, gradients for the Taylor criterion, and copies.
#include "twofour/nn/conv_gemm.hpp"
#include "twofour/nn/data.hpp"
#include "twofour/nn/layers.hpp"
#include "twofour/nn/models.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace twofour::nn {

// A 2:4 target of the model (Linear or Conv2d weight) and its place in model.net.layers.
struct TargetLayer {
  Parameter* weight = nullptr;
  Layer* layer = nullptr;
  Conv2d* conv = nullptr;  // null for a Linear
  std::size_t index = 0;       // position in model.net.layers
};
std::vector<TargetLayer> target_layers(Model& model);

// A deep copy (parameters, masks, BatchNorm statistics).
std::unique_ptr<Model> clone_model(Model& model);

// Examples [first, first + count) of `data` (clamped to its size) as one dataset.
Dataset slice(const Dataset& data, std::size_t first, std::size_t count);

// The input of target layer `t` for every example of `data`, in eval mode (batches of 256).
Tensor layer_input(Model& model, const TargetLayer& t, const Dataset& data);

// The layer's input as (samples, features) rows in the column order of the layer's GEMM with the
// weight viewed (out, features): a Linear's input as it is; a convolution's im2col patches with
// features ordered (kernel position, input channel), so that N:M groups along input channels are
// consecutive features (the weight must then be viewed as (K, R, S, C), see conv_gemm.hpp).
std::vector<float> gemm_rows(const TargetLayer& t, const Tensor& input, std::size_t& samples, std::size_t& features);

// Per input channel L2 norm of the layer's input ((N, C) or (N, C, H, W)): Wanda's ||X_j||.
std::vector<float> channel_norms(const Tensor& input);

// ||f(X; W) - f(X; W')|| / ||f(X; W)|| for the layer on `input` (Frobenius, in double): the
// output reconstruction error of replacing the weights by `pruned`.
double output_error(const TargetLayer& t, const Tensor& input, std::span<const float> pruned);

// Mean gradient of the loss with respect to every target weight over `data` (eval mode, batches
// of 128): the Taylor criterion's input. One vector per target, in target order.
std::vector<std::vector<float>> mean_gradients(Model& model, const Dataset& data);

}  // namespace twofour::nn
