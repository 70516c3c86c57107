#pragma once
// Layers with hand-written backward passes (each checked against finite differences in
// tests/lib/nn/layers_grad_test.cpp). Images are NCHW. forward(x, training) caches what
// backward needs; backward(dy) ACCUMULATES parameter gradients (call zero_grad between steps)
// and returns dL/dx. Heavy loops run under OpenMP with every output element owned by one thread,
// and GEMMs go through twofour::gemm::dense_gemm (lib/src/nn/gemm.cpp), whose order ignores the
// thread split, so results depend only on the seed (not on the thread count).
#include "twofour/nn/tensor.hpp"

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace twofour::nn {

class SparseLinear;  // sparse_layers.hpp
class SparseConv;

class Layer {
 public:
  virtual ~Layer() = default;
  virtual Tensor forward(const Tensor& x, bool training) = 0;
  virtual Tensor backward(const Tensor& dy) = 0;
  virtual std::vector<Parameter*> parameters() { return {}; }
  // Non-trainable state saved in checkpoints (BatchNorm running statistics).
  virtual std::vector<std::pair<std::string, Tensor*>> buffers() { return {}; }
  virtual std::string describe() const = 0;
  // He-normal weights (std sqrt(2 / fan_in), for ReLU networks) and zero biases.
  virtual void initialize(Rng&) {}
  std::string name;
  // When false, backward() may skip dL/dx and return an empty tensor (Linear and Conv2d do): the
  // network's first layer, whose input is data, not a parameter (PyTorch's autograd skips it too).
  bool input_grad = true;
};

// y = x W^T + b; x (N, in), W (out, in) — PyTorch's layout, so 2:4 groups run along `in`.
class Linear : public Layer {
 public:
  Linear(std::string layer_name, std::size_t in, std::size_t out, bool bias = true);
  Tensor forward(const Tensor& x, bool training) override;
  Tensor backward(const Tensor& dy) override;
  std::vector<Parameter*> parameters() override;
  std::string describe() const override;
  void initialize(Rng& rng) override;
  Parameter weight, bias;
  bool has_bias;
  // Set by a SparseExecutionScope (sparse_layers.hpp): run on the compressed 2:4 weight.
  std::shared_ptr<SparseLinear> sparse;
 private:
  Tensor x_;
};

// Square kernel, stride and zero padding. W (K, C, R, S): 2:4 groups run along C (Apex ASP).
// Forward: im2col into (C*R*S, images*OH*OW) and one GEMM with W viewed (K, C*R*S), per chunk of
// images sized to stay in cache (threads take whole chunks); backward rebuilds each chunk's
// columns from the cached input (conv_gemm.hpp builds the columns).
class Conv2d : public Layer {
 public:
  Conv2d(std::string layer_name, std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
         std::size_t stride = 1, std::size_t padding = 0, bool bias = true);
  Tensor forward(const Tensor& x, bool training) override;
  Tensor backward(const Tensor& dy) override;
  std::vector<Parameter*> parameters() override;
  std::string describe() const override;
  void initialize(Rng& rng) override;
  Parameter weight, bias;
  std::size_t in_c, out_c, k, stride, pad;
  bool has_bias;
  // Set by a SparseExecutionScope (sparse_layers.hpp): run on the compressed 2:4 weight.
  std::shared_ptr<SparseConv> sparse;
 private:
  std::vector<std::size_t> in_shape_;
  std::vector<float> x_;                       // cached input
  std::vector<std::vector<float>> col_, ym_;   // per thread: a chunk's columns and (K, positions) block
  std::vector<float> dw_chunks_;               // per chunk: its weight gradient
};

class ReLU : public Layer {
 public:
  explicit ReLU(std::string layer_name) { name = std::move(layer_name); }
  Tensor forward(const Tensor& x, bool training) override;
  Tensor backward(const Tensor& dy) override;
  std::string describe() const override { return "ReLU"; }
 private:
  std::vector<std::size_t> shape_;
  std::vector<std::uint8_t> positive_;  // x > 0 per element (a quarter of the bytes of a copy of x)
};

// Non-overlapping or strided max pooling without padding; ties go to the first maximum.
class MaxPool2d : public Layer {
 public:
  MaxPool2d(std::string layer_name, std::size_t kernel, std::size_t stride);
  Tensor forward(const Tensor& x, bool training) override;
  Tensor backward(const Tensor& dy) override;
  std::string describe() const override;
  std::size_t k, stride;
 private:
  std::vector<std::size_t> in_shape_;
  std::vector<std::uint32_t> argmax_;
};

// Batch normalisation (Ioffe & Szegedy 2015) per channel: input (N, C) [1d] or (N, C, H, W) [2d];
// statistics over N (and H, W). Training uses the batch's biased variance and updates running
// mean / unbiased variance with momentum 0.1 (PyTorch's conventions); eval uses the running ones.
class BatchNorm : public Layer {
 public:
  BatchNorm(std::string layer_name, std::size_t channels, float eps = 1e-5f, float momentum = 0.1f);
  Tensor forward(const Tensor& x, bool training) override;
  // dL/dx of the network input; with input_grad false its first layer skips it (empty result).
  Tensor backward(const Tensor& dy) override;
  std::vector<Parameter*> parameters() override;
  std::vector<std::pair<std::string, Tensor*>> buffers() override;
  std::string describe() const override;
  void initialize(Rng& rng) override;
  Parameter gamma, beta;
  Tensor running_mean, running_var;
  std::size_t channels;
  float eps, momentum;
 private:
  std::vector<std::size_t> in_shape_;
  Tensor xhat_;
  std::vector<float> inv_std_;
  bool cached_training_ = false;
};

class Flatten : public Layer {
 public:
  explicit Flatten(std::string layer_name) { name = std::move(layer_name); }
  Tensor forward(const Tensor& x, bool training) override;
  Tensor backward(const Tensor& dy) override;
  std::string describe() const override { return "Flatten"; }
 private:
  std::vector<std::size_t> in_shape_;
};

class Sequential : public Layer {
 public:
  explicit Sequential(std::string layer_name = "net") { name = std::move(layer_name); }
  Layer& add(std::unique_ptr<Layer> layer);
  Tensor forward(const Tensor& x, bool training) override;
  // dL/dx of the network input; with input_grad false its first layer skips it (empty result).
  Tensor backward(const Tensor& dy) override;
  std::vector<Parameter*> parameters() override;
  std::vector<std::pair<std::string, Tensor*>> buffers() override;
  std::string describe() const override;
  void initialize(Rng& rng) override;
  std::vector<std::unique_ptr<Layer>> layers;
};

// Mean softmax cross-entropy over the batch; logits (N, classes), labels in [0, classes).
// Writes dL/dlogits = (softmax - onehot) / N when `dlogits` is given; counts argmax hits.
struct LossResult {
  double loss = 0;
  std::size_t correct = 0;
};
LossResult softmax_cross_entropy(const Tensor& logits, std::span<const std::uint8_t> labels, Tensor* dlogits);

void zero_grad(std::span<Parameter* const> params);

}  // namespace twofour::nn
