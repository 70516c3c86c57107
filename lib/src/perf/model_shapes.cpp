#include "twofour/perf/model_shapes.hpp"

#include <stdexcept>

namespace twofour::perf {

NetworkShape network_of(nn::Model& model) {
  NetworkShape net;
  net.name = model.kind;
  net.source = "twofour's " + model.kind + " (lib/include/twofour/nn/models.hpp), shapes read off the model";
  // Run one zero example through the layers in eval mode to learn each layer's input and output shape.
  std::vector<std::size_t> shape = {1};
  shape.insert(shape.end(), model.image_shape.begin(), model.image_shape.end());
  nn::Tensor x(shape);
  for (auto& layer : model.net.layers) {
    nn::Tensor y = layer->forward(x, false);
    if (auto* fc = dynamic_cast<nn::Linear*>(layer.get())) {
      GemmShape g;
      g.name = fc->name;
      g.m = static_cast<std::int64_t>(fc->weight.value.dim(0));
      g.k = static_cast<std::int64_t>(fc->weight.value.dim(1));
      g.n_per_example = 1;
      g.sparse = fc->weight.prunable;
      net.gemms.push_back(g);
    } else if (auto* conv = dynamic_cast<nn::Conv2d*>(layer.get())) {
      GemmShape g;
      g.name = conv->name;
      g.m = static_cast<std::int64_t>(conv->out_c);
      g.k = static_cast<std::int64_t>(conv->in_c * conv->k * conv->k);
      g.n_per_example = static_cast<std::int64_t>(y.dim(2) * y.dim(3));
      g.input_per_example = static_cast<std::int64_t>(x.numel());
      g.sparse = conv->weight.prunable;
      net.gemms.push_back(g);
    }
    x = std::move(y);
  }
  if (net.gemms.empty()) throw std::invalid_argument("model '" + model.kind + "' has no Linear or Conv2d layer");
  return net;
}

}  // namespace twofour::perf
