#pragma once
// The two models of the experiments, for 28x28 single-channel images (Fashion-MNIST), 10 classes.
//
//   mlp: Linear 784-300, ReLU, Linear 300-100, ReLU, Linear 100-10 (LeCun et al. 1998's
//        LeNet-300-100, the classic pruning benchmark). 2:4-pruned: fc1 (in 784) and fc2 (in 300);
//        the classifier fc3 stays dense.
//   cnn: conv1 1->16 3x3 pad 1, BN, ReLU, maxpool 2  (28 -> 14)
//        conv2 16->32 3x3 pad 1, BN, ReLU, maxpool 2 (14 -> 7)
//        conv3 32->64 3x3 pad 1, BN, ReLU
//        flatten (64*7*7 = 3136), fc1 3136->128, BN1d, ReLU, fc2 128->10.
//        2:4-pruned: conv2, conv3, fc1 — input-channel counts 16, 32, 3136 are multiples of 16 and
//        output counts multiples of 8 (Apex ASP's eligibility rule). conv1 (one input channel)
//        and the classifier fc2 stay dense, as the whitepaper leaves first and last layers.
// Convolutions followed by BatchNorm have no bias (BN's shift replaces it).
#include "twofour/nn/layers.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace twofour::nn {

struct Model {
  std::string kind;                       // "mlp" or "cnn"
  std::vector<std::size_t> image_shape;   // per example: {784} (mlp) or {1, 28, 28} (cnn)
  Sequential net;

  std::vector<Parameter*> parameters() { return net.parameters(); }
  std::vector<Parameter*> pruned_parameters();  // the 2:4 targets, in layer order
  std::size_t parameter_count();
};

// Throws std::invalid_argument for an unknown kind.
std::unique_ptr<Model> make_model(const std::string& kind);
// Re-initialises every layer from `seed` (He-normal weights, zero biases, fresh BN statistics).
void initialize(Model& model, std::uint64_t seed);

}  // namespace twofour::nn
