#include "twofour/nn/layer_data.hpp"

#include "twofour/prune/taylor.hpp"

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace twofour::nn {
namespace {

Tensor batch_of(const Model& model, const Dataset& data, std::size_t first, std::size_t count) {
  std::vector<std::size_t> idx(count);
  std::iota(idx.begin(), idx.end(), first);
  return make_batch(data, idx, model.image_shape);
}

// Concatenates tensors along the first dimension.
void append_rows(Tensor& all, const Tensor& part) {
  if (all.shape.empty()) {
    all = part;
    return;
  }
  all.shape[0] += part.shape[0];
  all.data.insert(all.data.end(), part.data.begin(), part.data.end());
}

}  // namespace

std::vector<TargetLayer> target_layers(Model& model) {
  std::vector<TargetLayer> out;
  for (std::size_t i = 0; i < model.net.layers.size(); ++i) {
    Layer* layer = model.net.layers[i].get();
    TargetLayer t;
    if (auto* lin = dynamic_cast<Linear*>(layer); lin && lin->weight.prunable) t.weight = &lin->weight;
    if (auto* conv = dynamic_cast<Conv2d*>(layer); conv && conv->weight.prunable) {
      t.weight = &conv->weight;
      t.conv = conv;
    }
    if (!t.weight) continue;
    t.layer = layer;
    t.index = i;
    out.push_back(t);
  }
  return out;
}

std::unique_ptr<Model> clone_model(Model& model) {
  auto copy = make_model(model.kind);
  auto src = model.parameters();
  auto dst = copy->parameters();
  for (std::size_t i = 0; i < src.size(); ++i) {
    dst[i]->value = src[i]->value;
    dst[i]->mask = src[i]->mask;
  }
  auto sb = model.net.buffers();
  auto db = copy->net.buffers();
  for (std::size_t i = 0; i < sb.size(); ++i) *db[i].second = *sb[i].second;
  return copy;
}

Dataset slice(const Dataset& data, std::size_t first, std::size_t count) {
  Dataset out;
  out.rows = data.rows;
  out.cols = data.cols;
  first = std::min(first, data.size());
  count = std::min(count, data.size() - first);
  const std::size_t px = data.rows * data.cols;
  out.labels.assign(data.labels.begin() + static_cast<std::ptrdiff_t>(first),
                    data.labels.begin() + static_cast<std::ptrdiff_t>(first + count));
  out.images.assign(data.images.begin() + static_cast<std::ptrdiff_t>(first * px),
                    data.images.begin() + static_cast<std::ptrdiff_t>((first + count) * px));
  return out;
}

Tensor layer_input(Model& model, const TargetLayer& t, const Dataset& data) {
  Tensor all;
  for (std::size_t first = 0; first < data.size(); first += 256) {
    Tensor x = batch_of(model, data, first, std::min<std::size_t>(256, data.size() - first));
    for (std::size_t i = 0; i < t.index; ++i) x = model.net.layers[i]->forward(x, false);
    append_rows(all, x);
  }
  if (all.shape.empty()) throw std::invalid_argument("no calibration examples");
  return all;
}

std::vector<float> gemm_rows(const TargetLayer& t, const Tensor& input, std::size_t& samples, std::size_t& features) {
  if (!t.conv) {
    samples = input.dim(0);
    features = input.numel() / samples;
    return input.data;
  }
  std::size_t oh = 0, ow = 0;
  std::vector<float> rows = conv_patches(*t.conv, input, PatchLayout::rows, oh, ow);
  samples = input.dim(0) * oh * ow;
  features = t.conv->k * t.conv->k * t.conv->in_c;
  return rows;
}

std::vector<float> channel_norms(const Tensor& input) {
  const std::size_t n = input.dim(0), C = input.dim(1);
  const std::size_t inner = input.numel() / (n * C);
  std::vector<double> sq(C, 0.0);
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t i = 0; i < inner; ++i) {
        const double v = input.data[(b * C + c) * inner + i];
        sq[c] += v * v;
      }
  std::vector<float> out(C);
  for (std::size_t c = 0; c < C; ++c) out[c] = static_cast<float>(std::sqrt(sq[c]));
  return out;
}

double output_error(const TargetLayer& t, const Tensor& input, std::span<const float> pruned) {
  const Tensor y = t.layer->forward(input, false);
  std::vector<float> saved = t.weight->value.data;
  t.weight->value.data.assign(pruned.begin(), pruned.end());
  const Tensor yp = t.layer->forward(input, false);
  t.weight->value.data.swap(saved);
  double num = 0, den = 0;
  for (std::size_t i = 0; i < y.numel(); ++i) {
    const double a = y.data[i], b = yp.data[i];
    num += (a - b) * (a - b);
    den += a * a;
  }
  if (den == 0) return num == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(num / den);
}

std::vector<std::vector<float>> mean_gradients(Model& model, const Dataset& data) {
  const auto targets = target_layers(model);
  const auto params = model.parameters();
  std::vector<prune::GradientAccumulator> acc;
  for (const auto& t : targets) acc.emplace_back(t.weight->value.numel());
  for (std::size_t first = 0; first + 1 < data.size(); first += 128) {
    const std::size_t count = std::min<std::size_t>(128, data.size() - first);
    zero_grad(params);
    const Tensor logits = model.net.forward(batch_of(model, data, first, count), false);
    Tensor dlogits;
    softmax_cross_entropy(logits, std::span<const std::uint8_t>(data.labels.data() + first, count), &dlogits);
    model.net.backward(dlogits);
    for (std::size_t i = 0; i < targets.size(); ++i) acc[i].add(targets[i].weight->grad.data);
  }
  zero_grad(params);
  std::vector<std::vector<float>> out;
  for (const auto& a : acc) out.push_back(a.mean());
  return out;
}

}  // namespace twofour::nn
