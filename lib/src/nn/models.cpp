#include "twofour/nn/models.hpp"

#include <stdexcept>

namespace twofour::nn {

std::vector<Parameter*> Model::pruned_parameters() {
  std::vector<Parameter*> out;
  for (auto* p : parameters())
    if (p->prunable) out.push_back(p);
  return out;
}

std::size_t Model::parameter_count() {
  std::size_t n = 0;
  for (auto* p : parameters()) n += p->value.numel();
  return n;
}

namespace {

template <class L, class... Args>
L& add(Sequential& net, Args&&... args) {
  return static_cast<L&>(net.add(std::make_unique<L>(std::forward<Args>(args)...)));
}

}  // namespace

std::unique_ptr<Model> make_model(const std::string& kind) {
  auto m = std::make_unique<Model>();
  m->kind = kind;
  Sequential& net = m->net;
  if (kind == "mlp") {
    m->image_shape = {784};
    add<Linear>(net, "fc1", 784, 300).weight.prunable = true;
    add<ReLU>(net, "relu1");
    add<Linear>(net, "fc2", 300, 100).weight.prunable = true;
    add<ReLU>(net, "relu2");
    add<Linear>(net, "fc3", 100, 10);
  } else if (kind == "cnn") {
    m->image_shape = {1, 28, 28};
    add<Conv2d>(net, "conv1", 1, 16, 3, 1, 1, false);
    add<BatchNorm>(net, "bn1", 16);
    add<ReLU>(net, "relu1");
    add<MaxPool2d>(net, "pool1", 2, 2);
    add<Conv2d>(net, "conv2", 16, 32, 3, 1, 1, false).weight.prunable = true;
    add<BatchNorm>(net, "bn2", 32);
    add<ReLU>(net, "relu2");
    add<MaxPool2d>(net, "pool2", 2, 2);
    add<Conv2d>(net, "conv3", 32, 64, 3, 1, 1, false).weight.prunable = true;
    add<BatchNorm>(net, "bn3", 64);
    add<ReLU>(net, "relu3");
    add<Flatten>(net, "flatten");
    add<Linear>(net, "fc1", 64 * 7 * 7, 128, false).weight.prunable = true;
    add<BatchNorm>(net, "bn4", 128);
    add<ReLU>(net, "relu4");
    add<Linear>(net, "fc2", 128, 10);
  } else {
    throw std::invalid_argument("unknown model '" + kind + "' (mlp, cnn)");
  }
  // The input is data: no gradient for it (the first layer skips its input-gradient GEMM).
  net.input_grad = false;
  initialize(*m, 0);
  return m;
}

void initialize(Model& model, std::uint64_t seed) {
  Rng rng(derive_seed(seed, 0x1417, 0));
  model.net.initialize(rng);
}

}  // namespace twofour::nn
