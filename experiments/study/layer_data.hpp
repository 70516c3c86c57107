#pragma once
// What the studies need from a model beyond training: its prunable layers, the inputs those
// layers see on a set of images (for data-aware criteria and for reconstruction errors), those
// inputs as a (samples, features) matrix, gradients for the Taylor criterion, and copies.
#include "twofour/nn/data.hpp"
#include "twofour/nn/layers.hpp"
#include "twofour/nn/models.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace twofour::experiments {

// A 2:4 target of the model (Linear or Conv2d weight) and its place in model.net.layers.
struct TargetLayer {
  nn::Parameter* weight = nullptr;
  nn::Layer* layer = nullptr;
  nn::Conv2d* conv = nullptr;  // null for a Linear
  std::size_t index = 0;       // position in model.net.layers
};
std::vector<TargetLayer> target_layers(nn::Model& model);

// A deep copy (parameters, masks, BatchNorm statistics).
std::unique_ptr<nn::Model> clone_model(nn::Model& model);

// Examples [first, first + count) of `data` (clamped to its size) as one dataset.
nn::Dataset slice(const nn::Dataset& data, std::size_t first, std::size_t count);

// The input of target layer `t` for every example of `data`, in eval mode (batches of 256).
nn::Tensor layer_input(nn::Model& model, const TargetLayer& t, const nn::Dataset& data);

// The layer's input as (samples, features) rows in the column order of the layer's GEMM with the
// weight viewed (out, features): a Linear's input as it is; a convolution's im2col patches with
// features ordered (kernel position, input channel), so that N:M groups along input channels are
// consecutive features (the weight must then be viewed as (K, R, S, C), see to_krsc).
std::vector<float> gemm_rows(const TargetLayer& t, const nn::Tensor& input, std::size_t& samples, std::size_t& features);

// Conv weight (K, C, R, S) <-> (K, R*S*C) with the channel innermost; identity for rank 2.
std::vector<float> to_krsc(std::span<const float> w, std::span<const std::size_t> shape);
std::vector<float> from_krsc(std::span<const float> w, std::span<const std::size_t> shape);

// Per input channel L2 norm of the layer's input ((N, C) or (N, C, H, W)): Wanda's ||X_j||.
std::vector<float> channel_norms(const nn::Tensor& input);

// ||f(X; W) - f(X; W')|| / ||f(X; W)|| for the layer on `input` (Frobenius, in double): the
// output reconstruction error of replacing the weights by `pruned`.
double output_error(const TargetLayer& t, const nn::Tensor& input, std::span<const float> pruned);

// Mean gradient of the loss with respect to every target weight over `data` (eval mode, batches
// of 128): the Taylor criterion's input. One vector per target, in target order.
std::vector<std::vector<float>> mean_gradients(nn::Model& model, const nn::Dataset& data);

}  // namespace twofour::experiments
