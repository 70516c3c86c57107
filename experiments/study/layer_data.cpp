#include "study/layer_data.hpp"

#include "twofour/prune/taylor.hpp"

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace twofour::experiments {
namespace {

nn::Tensor batch_of(const nn::Model& model, const nn::Dataset& data, std::size_t first, std::size_t count) {
  std::vector<std::size_t> idx(count);
  std::iota(idx.begin(), idx.end(), first);
  return nn::make_batch(data, idx, model.image_shape);
}

// Concatenates tensors along the first dimension.
void append_rows(nn::Tensor& all, const nn::Tensor& part) {
  if (all.shape.empty()) {
    all = part;
    return;
  }
  all.shape[0] += part.shape[0];
  all.data.insert(all.data.end(), part.data.begin(), part.data.end());
}

}  // namespace

std::vector<TargetLayer> target_layers(nn::Model& model) {
  std::vector<TargetLayer> out;
  for (std::size_t i = 0; i < model.net.layers.size(); ++i) {
    nn::Layer* layer = model.net.layers[i].get();
    TargetLayer t;
    if (auto* lin = dynamic_cast<nn::Linear*>(layer); lin && lin->weight.prunable) t.weight = &lin->weight;
    if (auto* conv = dynamic_cast<nn::Conv2d*>(layer); conv && conv->weight.prunable) {
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

std::unique_ptr<nn::Model> clone_model(nn::Model& model) {
  auto copy = nn::make_model(model.kind);
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

nn::Dataset slice(const nn::Dataset& data, std::size_t first, std::size_t count) {
  nn::Dataset out;
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

nn::Tensor layer_input(nn::Model& model, const TargetLayer& t, const nn::Dataset& data) {
  nn::Tensor all;
  for (std::size_t first = 0; first < data.size(); first += 256) {
    nn::Tensor x = batch_of(model, data, first, std::min<std::size_t>(256, data.size() - first));
    for (std::size_t i = 0; i < t.index; ++i) x = model.net.layers[i]->forward(x, false);
    append_rows(all, x);
  }
  if (all.shape.empty()) throw std::invalid_argument("no calibration examples");
  return all;
}

std::vector<float> gemm_rows(const TargetLayer& t, const nn::Tensor& input, std::size_t& samples, std::size_t& features) {
  if (!t.conv) {
    samples = input.dim(0);
    features = input.numel() / samples;
    return input.data;
  }
  const auto& c = *t.conv;
  const std::size_t n = input.dim(0), C = input.dim(1), H = input.dim(2), W = input.dim(3);
  const std::size_t oh = (H + 2 * c.pad - c.k) / c.stride + 1, ow = (W + 2 * c.pad - c.k) / c.stride + 1;
  samples = n * oh * ow;
  features = c.k * c.k * C;
  std::vector<float> rows(samples * features, 0.0f);
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t y = 0; y < oh; ++y)
      for (std::size_t x = 0; x < ow; ++x) {
        float* row = rows.data() + ((b * oh + y) * ow + x) * features;
        for (std::size_t r = 0; r < c.k; ++r)
          for (std::size_t s = 0; s < c.k; ++s) {
            const auto iy = static_cast<std::ptrdiff_t>(y * c.stride + r) - static_cast<std::ptrdiff_t>(c.pad);
            const auto ix = static_cast<std::ptrdiff_t>(x * c.stride + s) - static_cast<std::ptrdiff_t>(c.pad);
            if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(H) || ix >= static_cast<std::ptrdiff_t>(W)) continue;
            for (std::size_t ch = 0; ch < C; ++ch)
              row[(r * c.k + s) * C + ch] =
                  input.data[((b * C + ch) * H + static_cast<std::size_t>(iy)) * W + static_cast<std::size_t>(ix)];
          }
      }
  return rows;
}

std::vector<float> to_krsc(std::span<const float> w, std::span<const std::size_t> shape) {
  if (shape.size() != 4) return {w.begin(), w.end()};
  const std::size_t K = shape[0], C = shape[1], RS = shape[2] * shape[3];
  std::vector<float> out(w.size());
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t rs = 0; rs < RS; ++rs) out[(k * RS + rs) * C + c] = w[(k * C + c) * RS + rs];
  return out;
}

std::vector<float> from_krsc(std::span<const float> w, std::span<const std::size_t> shape) {
  if (shape.size() != 4) return {w.begin(), w.end()};
  const std::size_t K = shape[0], C = shape[1], RS = shape[2] * shape[3];
  std::vector<float> out(w.size());
  for (std::size_t k = 0; k < K; ++k)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t rs = 0; rs < RS; ++rs) out[(k * C + c) * RS + rs] = w[(k * RS + rs) * C + c];
  return out;
}

std::vector<float> channel_norms(const nn::Tensor& input) {
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

double output_error(const TargetLayer& t, const nn::Tensor& input, std::span<const float> pruned) {
  const nn::Tensor y = t.layer->forward(input, false);
  std::vector<float> saved = t.weight->value.data;
  t.weight->value.data.assign(pruned.begin(), pruned.end());
  const nn::Tensor yp = t.layer->forward(input, false);
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

std::vector<std::vector<float>> mean_gradients(nn::Model& model, const nn::Dataset& data) {
  const auto targets = target_layers(model);
  const auto params = model.parameters();
  std::vector<prune::GradientAccumulator> acc;
  for (const auto& t : targets) acc.emplace_back(t.weight->value.numel());
  for (std::size_t first = 0; first + 1 < data.size(); first += 128) {
    const std::size_t count = std::min<std::size_t>(128, data.size() - first);
    nn::zero_grad(params);
    const nn::Tensor logits = model.net.forward(batch_of(model, data, first, count), false);
    nn::Tensor dlogits;
    nn::softmax_cross_entropy(logits, std::span<const std::uint8_t>(data.labels.data() + first, count), &dlogits);
    model.net.backward(dlogits);
    for (std::size_t i = 0; i < targets.size(); ++i) acc[i].add(targets[i].weight->grad.data);
  }
  nn::zero_grad(params);
  std::vector<std::vector<float>> out;
  for (const auto& a : acc) out.push_back(a.mean());
  return out;
}

}  // namespace twofour::experiments
