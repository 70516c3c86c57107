#include "twofour/nn/layers.hpp"

#include "conv_chunks.hpp"
#include "gemm.hpp"
#include "sparse_layer_impl.hpp"
#include "twofour/nn/conv_gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>

namespace twofour::nn {
namespace {

using detail::kMinParallelWork;

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

Parameter make_param(const std::string& layer, const char* suffix, std::vector<std::size_t> shape, bool decay) {
  Parameter p;
  p.name = layer + "." + suffix;
  p.value = Tensor(shape);
  p.grad = Tensor(std::move(shape));
  p.decay = decay;
  return p;
}

void he_normal(Parameter& p, std::size_t fan_in, Rng& rng) {
  const double std_dev = std::sqrt(2.0 / static_cast<double>(fan_in));
  for (auto& w : p.value.data) w = static_cast<float>(rng.normal() * std_dev);
}

}  // namespace

// ---------------------------------------------------------------- Linear
Linear::Linear(std::string layer_name, std::size_t in, std::size_t out, bool bias_on) : has_bias(bias_on) {
  name = std::move(layer_name);
  weight = make_param(name, "weight", {out, in}, true);
  if (has_bias) bias = make_param(name, "bias", {out}, false);
}

void Linear::initialize(Rng& rng) {
  he_normal(weight, weight.value.dim(1), rng);
  std::fill(bias.value.data.begin(), bias.value.data.end(), 0.0f);
}

Tensor Linear::forward(const Tensor& x, bool) {
  const std::size_t in = weight.value.dim(1), out = weight.value.dim(0);
  require(x.rank() == 2 && x.dim(1) == in, name + ": input " + x.shape_string() + " is not (N, " + std::to_string(in) + ")");
  if (Tensor y; sparse && sparse->forward(*this, x, y)) return y;
  const std::size_t n = x.dim(0);
  x_ = x;
  Tensor y({n, out});
  detail::gemm(false, true, n, out, in, 1.0f, x.data.data(), in, weight.value.data.data(), in, 0.0f, y.data.data(), out);
  if (has_bias) {
#pragma omp parallel for schedule(static) if (n * out >= kMinParallelWork)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t o = 0; o < out; ++o) y.data[i * out + o] += bias.value.data[o];
  }
  return y;
}

Tensor Linear::backward(const Tensor& dy) {
  if (sparse && sparse->ran_forward()) return sparse->backward(*this, dy);
  const std::size_t in = weight.value.dim(1), out = weight.value.dim(0), n = x_.dim(0);
  require(dy.rank() == 2 && dy.dim(0) == n && dy.dim(1) == out, name + ": gradient shape " + dy.shape_string());
  detail::gemm(true, false, out, in, n, 1.0f, dy.data.data(), out, x_.data.data(), in, 1.0f, weight.grad.data.data(), in);
  if (has_bias) detail::add_column_sums(dy.data.data(), n, out, bias.grad.data.data());  // in batch order
  if (!input_grad) return {};
  Tensor dx({n, in});
  detail::gemm(false, false, n, in, out, 1.0f, dy.data.data(), out, weight.value.data.data(), in, 0.0f, dx.data.data(), in);
  return dx;
}

std::vector<Parameter*> Linear::parameters() {
  if (has_bias) return {&weight, &bias};
  return {&weight};
}

std::string Linear::describe() const {
  return "Linear(" + std::to_string(weight.value.dim(1)) + " -> " + std::to_string(weight.value.dim(0)) + ")";
}

// ---------------------------------------------------------------- Conv2d
Conv2d::Conv2d(std::string layer_name, std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
               std::size_t stride_, std::size_t padding, bool bias_on)
    : in_c(in_channels), out_c(out_channels), k(kernel), stride(stride_), pad(padding), has_bias(bias_on) {
  require(kernel > 0 && stride_ > 0, "Conv2d: kernel and stride must be positive");
  name = std::move(layer_name);
  weight = make_param(name, "weight", {out_c, in_c, k, k}, true);
  if (has_bias) bias = make_param(name, "bias", {out_c}, false);
}

void Conv2d::initialize(Rng& rng) {
  he_normal(weight, in_c * k * k, rng);
  std::fill(bias.value.data.begin(), bias.value.data.end(), 0.0f);
}

Tensor Conv2d::forward(const Tensor& x, bool) {
  require(x.rank() == 4 && x.dim(1) == in_c,
          name + ": input " + x.shape_string() + " is not (N, " + std::to_string(in_c) + ", H, W)");
  const std::size_t n = x.dim(0), h = x.dim(2), w = x.dim(3);
  require(h + 2 * pad >= k && w + 2 * pad >= k, name + ": input " + x.shape_string() + " smaller than the kernel");
  if (Tensor y; sparse && sparse->forward(*this, x, y)) return y;
  const std::size_t oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
  const std::size_t p = oh * ow, crs = in_c * k * k;
  in_shape_ = x.shape;
  x_ = x.data;  // backward rebuilds the columns chunk by chunk
  Tensor y({n, out_c, oh, ow});
  const std::size_t chunk = detail::conv_chunk_images(crs, p);
  detail::one_buffer_per_thread(col_, ym_);
  detail::for_each_chunk(n, chunk, crs * n * p, [&](std::size_t /*chunk index*/, std::size_t first, std::size_t count) {
    const std::size_t np = count * p;
    std::vector<float>& col = detail::thread_buffer(col_, crs * np);
    std::vector<float>& ym = detail::thread_buffer(ym_, out_c * np);
    conv_patch_block(*this, x.data.data(), first, count, h, w, PatchRows::crs, col.data(), np);
    detail::gemm(false, false, out_c, np, crs, 1.0f, weight.value.data.data(), crs, col.data(), np, 0.0f, ym.data(), np);
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t o = 0; o < out_c; ++o) {
        const float b = has_bias ? bias.value.data[o] : 0.0f;
        const float* src = ym.data() + o * np + i * p;
        float* dst = y.data.data() + ((first + i) * out_c + o) * p;
        for (std::size_t j = 0; j < p; ++j) dst[j] = src[j] + b;
      }
  });
  return y;
}

Tensor Conv2d::backward(const Tensor& dy) {
  if (sparse && sparse->ran_forward()) return sparse->backward(*this, dy);
  const std::size_t n = in_shape_.at(0), h = in_shape_[2], w = in_shape_[3];
  const std::size_t oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
  const std::size_t p = oh * ow, crs = in_c * k * k;
  require(dy.shape == std::vector<std::size_t>{n, out_c, oh, ow}, name + ": gradient shape " + dy.shape_string());
  if (has_bias) {
#pragma omp parallel for schedule(static) if (out_c * n * p >= kMinParallelWork)
    for (std::size_t o = 0; o < out_c; ++o) {
      float s = 0.0f;
      for (std::size_t img = 0; img < n; ++img)
        for (std::size_t j = 0; j < p; ++j) s += dy.data[(img * out_c + o) * p + j];
      bias.grad.data[o] += s;
    }
  }
  Tensor dx;
  if (input_grad) dx = Tensor(in_shape_);
  const std::size_t chunk = detail::conv_chunk_images(crs, p), chunks = (n + chunk - 1) / chunk;
  const std::size_t wsize = out_c * crs;
  dw_chunks_.resize(chunks * wsize);  // each chunk's weight gradient, added in order below
  detail::one_buffer_per_thread(col_, ym_);
  detail::for_each_chunk(n, chunk, crs * n * p, [&](std::size_t ci, std::size_t first, std::size_t count) {
    const std::size_t np = count * p;
    std::vector<float>& col = detail::thread_buffer(col_, crs * np);
    std::vector<float>& ym = detail::thread_buffer(ym_, out_c * np);  // dy of the chunk as (out_c, image, position)
    for (std::size_t o = 0; o < out_c; ++o)
      for (std::size_t i = 0; i < count; ++i)
        std::copy_n(dy.data.data() + ((first + i) * out_c + o) * p, p, ym.data() + o * np + i * p);
    conv_patch_block(*this, x_.data(), first, count, h, w, PatchRows::crs, col.data(), np);
    detail::gemm(false, true, out_c, crs, np, 1.0f, ym.data(), np, col.data(), np, 0.0f, dw_chunks_.data() + ci * wsize, crs);
    if (!input_grad) return;
    // dcol overwrites the chunk's columns (no longer needed).
    detail::gemm(true, false, crs, np, out_c, 1.0f, weight.value.data.data(), crs, ym.data(), np, 0.0f, col.data(), np);
    conv_patch_block_backward(*this, col.data(), np, first, count, h, w, PatchRows::crs, dx.data.data());
  });
  float* grad = weight.grad.data.data();
  for (std::size_t ci = 0; ci < chunks; ++ci)
    for (std::size_t e = 0; e < wsize; ++e) grad[e] += dw_chunks_[ci * wsize + e];
  return dx;
}

std::vector<Parameter*> Conv2d::parameters() {
  if (has_bias) return {&weight, &bias};
  return {&weight};
}

std::string Conv2d::describe() const {
  return "Conv2d(" + std::to_string(in_c) + " -> " + std::to_string(out_c) + ", " + std::to_string(k) + "x" +
         std::to_string(k) + ", stride " + std::to_string(stride) + ", padding " + std::to_string(pad) + ")";
}

// ---------------------------------------------------------------- ReLU
// Both directions are written as selects, not as a conditional store: on activations that are
// positive about half the time the branch mispredicted often enough to cost 12% of a CNN training
// step (perf, one thread). NaN inputs map to 0 either way.
Tensor ReLU::forward(const Tensor& x, bool) {
  shape_ = x.shape;
  positive_.resize(x.numel());
  Tensor y(x.shape);
  const float* in = x.data.data();
  float* out = y.data.data();
  std::uint8_t* pos = positive_.data();
  const std::size_t count = y.data.size();
  // Two simple loops: each compiles to selects / compares (one loop storing both became a branch).
#pragma omp parallel if (count >= kMinParallelWork)
  {
#pragma omp for schedule(static) nowait
    for (std::size_t i = 0; i < count; ++i) {
      const float v = in[i];
      out[i] = v > 0.0f ? v : 0.0f;
    }
#pragma omp for schedule(static)
    for (std::size_t i = 0; i < count; ++i) pos[i] = static_cast<std::uint8_t>(in[i] > 0.0f);
  }
  return y;
}

Tensor ReLU::backward(const Tensor& dy) {
  require(dy.shape == shape_, name + ": gradient shape " + dy.shape_string());
  Tensor dx(dy.shape);
  const std::uint8_t* pos = positive_.data();
  const float* g = dy.data.data();
  float* out = dx.data.data();
  const std::size_t count = dx.data.size();
#pragma omp parallel for schedule(static) if (count >= kMinParallelWork)
  for (std::size_t i = 0; i < count; ++i) {
    const float gi = g[i];  // loaded unconditionally so that the compiler can select, not branch
    out[i] = pos[i] ? gi : 0.0f;
  }
  return dx;
}

// ---------------------------------------------------------------- MaxPool2d
MaxPool2d::MaxPool2d(std::string layer_name, std::size_t kernel, std::size_t stride_) : k(kernel), stride(stride_) {
  require(kernel > 0 && stride_ > 0, "MaxPool2d: kernel and stride must be positive");
  name = std::move(layer_name);
}

Tensor MaxPool2d::forward(const Tensor& x, bool) {
  require(x.rank() == 4 && x.dim(2) >= k && x.dim(3) >= k, name + ": input " + x.shape_string() + " is not (N, C, H>=k, W>=k)");
  const std::size_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
  const std::size_t oh = (h - k) / stride + 1, ow = (w - k) / stride + 1;
  in_shape_ = x.shape;
  Tensor y({x.dim(0), x.dim(1), oh, ow});
  argmax_.resize(y.numel());  // every element is written below
  if (k == 2 && stride == 2) {
    // The models' pooling: the same four comparisons in the same order, unrolled.
#pragma omp parallel for schedule(static) if (x.numel() >= kMinParallelWork)
    for (std::size_t pl = 0; pl < planes; ++pl) {
      const float* src = x.data.data() + pl * h * w;
      float* out = y.data.data() + pl * oh * ow;
      std::uint32_t* arg = argmax_.data() + pl * oh * ow;
      for (std::size_t yo = 0; yo < oh; ++yo)
        for (std::size_t xo = 0; xo < ow; ++xo) {
          const auto at = static_cast<std::uint32_t>(2 * yo * w + 2 * xo);
          const auto wi = static_cast<std::uint32_t>(w);
          // Selects, not branches: which element wins is data-dependent and unpredictable.
          std::uint32_t best = at;
          float v = src[at];
          const float v1 = src[at + 1], v2 = src[at + wi], v3 = src[at + wi + 1];
          best = v1 > v ? at + 1 : best;
          v = v1 > v ? v1 : v;
          best = v2 > v ? at + wi : best;
          v = v2 > v ? v2 : v;
          best = v3 > v ? at + wi + 1 : best;
          v = v3 > v ? v3 : v;
          out[yo * ow + xo] = v;
          arg[yo * ow + xo] = best;
        }
    }
    return y;
  }
#pragma omp parallel for schedule(static) if (x.numel() >= kMinParallelWork)
  for (std::size_t pl = 0; pl < planes; ++pl) {
    const float* src = x.data.data() + pl * h * w;
    for (std::size_t yo = 0; yo < oh; ++yo)
      for (std::size_t xo = 0; xo < ow; ++xo) {
        std::size_t best = (yo * stride) * w + xo * stride;
        for (std::size_t r = 0; r < k; ++r)
          for (std::size_t s = 0; s < k; ++s) {
            const std::size_t at = (yo * stride + r) * w + xo * stride + s;
            if (src[at] > src[best]) best = at;
          }
        const std::size_t out = pl * oh * ow + yo * ow + xo;
        y.data[out] = src[best];
        argmax_[out] = static_cast<std::uint32_t>(best);
      }
  }
  return y;
}

Tensor MaxPool2d::backward(const Tensor& dy) {
  require(dy.numel() == argmax_.size() && dy.rank() == 4, name + ": gradient shape " + dy.shape_string());
  Tensor dx(in_shape_);
  const std::size_t planes = in_shape_[0] * in_shape_[1], hw = in_shape_[2] * in_shape_[3];
  const std::size_t per = dy.dim(2) * dy.dim(3);
#pragma omp parallel for schedule(static) if (dx.numel() >= kMinParallelWork)
  for (std::size_t pl = 0; pl < planes; ++pl)
    for (std::size_t i = 0; i < per; ++i) dx.data[pl * hw + argmax_[pl * per + i]] += dy.data[pl * per + i];
  return dx;
}

std::string MaxPool2d::describe() const {
  return "MaxPool2d(" + std::to_string(k) + "x" + std::to_string(k) + ", stride " + std::to_string(stride) + ")";
}

// ---------------------------------------------------------------- BatchNorm
// The per-channel statistics are sums in double over kLanes lanes: the value at position j of an
// image plane goes to lane j mod kLanes, each lane adds in (image, position) order, and the lanes
// are combined by a fixed pairwise tree (lane l += lane l + w for w = 4, 2, 1). Independent lanes
// let the adds overlap (and vectorise) instead of waiting on one chain; the order is written out,
// so it is the same on every compiler, instruction set and thread count.
namespace {
constexpr std::size_t kLanes = 8;

double lane_total(const double (&lanes)[kLanes]) {
  double t[kLanes];
  for (std::size_t l = 0; l < kLanes; ++l) t[l] = lanes[l];
  for (std::size_t w = kLanes / 2; w >= 1; w /= 2)
    for (std::size_t l = 0; l < w; ++l) t[l] = t[l] + t[l + w];
  return t[0];
}

// f(lane, offset) for every value of channel c in lane order (see above).
template <class F>
void for_channel(std::size_t n, std::size_t channels, std::size_t sp, std::size_t c, F&& f) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t base = (i * channels + c) * sp;
    std::size_t j = 0;
    for (; j + kLanes <= sp; j += kLanes)
      for (std::size_t l = 0; l < kLanes; ++l) f(l, base + j + l);
    for (; j < sp; ++j) f(j % kLanes, base + j);
  }
}
}  // namespace

BatchNorm::BatchNorm(std::string layer_name, std::size_t channels_, float eps_, float momentum_)
    : running_mean({channels_}, 0.0f), running_var({channels_}, 1.0f), channels(channels_), eps(eps_), momentum(momentum_) {
  name = std::move(layer_name);
  gamma = make_param(name, "weight", {channels}, false);
  beta = make_param(name, "bias", {channels}, false);
  std::fill(gamma.value.data.begin(), gamma.value.data.end(), 1.0f);
}

void BatchNorm::initialize(Rng&) {
  std::fill(gamma.value.data.begin(), gamma.value.data.end(), 1.0f);
  std::fill(beta.value.data.begin(), beta.value.data.end(), 0.0f);
  std::fill(running_mean.data.begin(), running_mean.data.end(), 0.0f);
  std::fill(running_var.data.begin(), running_var.data.end(), 1.0f);
}

Tensor BatchNorm::forward(const Tensor& x, bool training) {
  require((x.rank() == 2 || x.rank() == 4) && x.dim(1) == channels,
          name + ": input " + x.shape_string() + " is not (N, " + std::to_string(channels) + "[, H, W])");
  const std::size_t n = x.dim(0), sp = x.rank() == 4 ? x.dim(2) * x.dim(3) : 1, count = n * sp;
  require(!training || count > 1, name + ": training needs more than one value per channel");
  in_shape_ = x.shape;
  cached_training_ = training;
  // Reused across steps (resize keeps the memory); every element is written below.
  xhat_.shape = x.shape;
  xhat_.data.resize(x.numel());
  inv_std_.assign(channels, 0.0f);
  Tensor y(x.shape);
  const float* in = x.data.data();
#pragma omp parallel for schedule(static) if (x.numel() >= kMinParallelWork)
  for (std::size_t c = 0; c < channels; ++c) {
    float mean = running_mean.data[c], var = running_var.data[c];
    if (training) {
      double s[kLanes] = {};
      for_channel(n, channels, sp, c, [&](std::size_t l, std::size_t at) { s[l] += static_cast<double>(in[at]); });
      const double m = lane_total(s) / static_cast<double>(count);
      double s2[kLanes] = {};
      for_channel(n, channels, sp, c, [&](std::size_t l, std::size_t at) {
        const double d = static_cast<double>(in[at]) - m;
        s2[l] += d * d;
      });
      const double sq = lane_total(s2);
      mean = static_cast<float>(m);
      var = static_cast<float>(sq / static_cast<double>(count));
      running_mean.data[c] = (1.0f - momentum) * running_mean.data[c] + momentum * mean;
      const float unbiased = static_cast<float>(sq / static_cast<double>(count - 1));
      running_var.data[c] = (1.0f - momentum) * running_var.data[c] + momentum * unbiased;
    }
    const float inv = 1.0f / std::sqrt(var + eps);
    inv_std_[c] = inv;
    const float g = gamma.value.data[c], b = beta.value.data[c];
    float* xh = xhat_.data.data();
    float* out = y.data.data();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t base = (i * channels + c) * sp;
      for (std::size_t j = base; j < base + sp; ++j) {
        const float v = (in[j] - mean) * inv;
        xh[j] = v;
        out[j] = g * v + b;
      }
    }
  }
  return y;
}

Tensor BatchNorm::backward(const Tensor& dy) {
  require(dy.shape == in_shape_, name + ": gradient shape " + dy.shape_string());
  const std::size_t n = in_shape_[0], sp = in_shape_.size() == 4 ? in_shape_[2] * in_shape_[3] : 1;
  const double count = static_cast<double>(n * sp);
  Tensor dx(in_shape_);
  const float* g = dy.data.data();
  const float* xh = xhat_.data.data();
  float* out = dx.data.data();
#pragma omp parallel for schedule(static) if (dy.numel() >= kMinParallelWork)
  for (std::size_t c = 0; c < channels; ++c) {
    double sum_dy[kLanes] = {}, sum_dy_xh[kLanes] = {};
    for_channel(n, channels, sp, c, [&](std::size_t l, std::size_t at) {
      sum_dy[l] += static_cast<double>(g[at]);
      sum_dy_xh[l] += static_cast<double>(g[at]) * static_cast<double>(xh[at]);
    });
    const double s_dy = lane_total(sum_dy), s_dy_xh = lane_total(sum_dy_xh);
    gamma.grad.data[c] += static_cast<float>(s_dy_xh);
    beta.grad.data[c] += static_cast<float>(s_dy);
    const float scale = gamma.value.data[c] * inv_std_[c];
    // Training: the batch statistics depend on x, dx = g/sigma (dy - mean(dy) - xhat mean(dy xhat)).
    const float mean_dy = cached_training_ ? static_cast<float>(s_dy / count) : 0.0f;
    const float mean_dy_xh = cached_training_ ? static_cast<float>(s_dy_xh / count) : 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t base = (i * channels + c) * sp;
      for (std::size_t j = base; j < base + sp; ++j) out[j] = scale * (g[j] - mean_dy - xh[j] * mean_dy_xh);
    }
  }
  return dx;
}

std::vector<Parameter*> BatchNorm::parameters() { return {&gamma, &beta}; }

std::vector<std::pair<std::string, Tensor*>> BatchNorm::buffers() {
  return {{name + ".running_mean", &running_mean}, {name + ".running_var", &running_var}};
}

std::string BatchNorm::describe() const { return "BatchNorm(" + std::to_string(channels) + ")"; }

// ---------------------------------------------------------------- Flatten
Tensor Flatten::forward(const Tensor& x, bool) {
  require(x.rank() >= 1, name + ": input has rank 0");
  in_shape_ = x.shape;
  Tensor y;
  y.shape = {x.dim(0), x.dim(0) ? x.numel() / x.dim(0) : 0};
  y.data = x.data;
  return y;
}

Tensor Flatten::backward(const Tensor& dy) {
  Tensor dx;
  dx.shape = in_shape_;
  dx.data = dy.data;
  require(dx.data.size() == Tensor(in_shape_).numel(), name + ": gradient shape " + dy.shape_string());
  return dx;
}

// ---------------------------------------------------------------- Sequential
Layer& Sequential::add(std::unique_ptr<Layer> layer) {
  layers.push_back(std::move(layer));
  return *layers.back();
}

Tensor Sequential::forward(const Tensor& x, bool training) {
  Tensor h = x;
  for (auto& l : layers) h = l->forward(h, training);
  return h;
}

Tensor Sequential::backward(const Tensor& dy) {
  Tensor g = dy;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    Layer& l = **it;
    const bool saved = l.input_grad;
    if (std::next(it) == layers.rend()) l.input_grad = input_grad;
    g = l.backward(g);
    l.input_grad = saved;
  }
  return g;
}

std::vector<Parameter*> Sequential::parameters() {
  std::vector<Parameter*> all;
  for (auto& l : layers)
    for (auto* p : l->parameters()) all.push_back(p);
  return all;
}

std::vector<std::pair<std::string, Tensor*>> Sequential::buffers() {
  std::vector<std::pair<std::string, Tensor*>> all;
  for (auto& l : layers)
    for (auto& b : l->buffers()) all.push_back(b);
  return all;
}

std::string Sequential::describe() const {
  std::string s;
  for (const auto& l : layers) s += l->name + ": " + l->describe() + "\n";
  return s;
}

void Sequential::initialize(Rng& rng) {
  for (auto& l : layers) l->initialize(rng);
}

// ---------------------------------------------------------------- loss
LossResult softmax_cross_entropy(const Tensor& logits, std::span<const std::uint8_t> labels, Tensor* dlogits) {
  require(logits.rank() == 2 && logits.dim(0) == labels.size() && logits.dim(0) > 0,
          "softmax_cross_entropy: logits " + logits.shape_string() + " vs " + std::to_string(labels.size()) + " labels");
  const std::size_t n = logits.dim(0), classes = logits.dim(1);
  if (dlogits) *dlogits = Tensor(logits.shape);
  LossResult r;
  for (std::size_t i = 0; i < n; ++i) {
    require(labels[i] < classes, "softmax_cross_entropy: label " + std::to_string(labels[i]) + " out of range");
    const float* z = logits.data.data() + i * classes;
    std::size_t arg = 0;
    for (std::size_t c = 1; c < classes; ++c)
      if (z[c] > z[arg]) arg = c;
    r.correct += arg == labels[i];
    const double zmax = static_cast<double>(z[arg]);
    double sum = 0;
    for (std::size_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c]) - zmax);
    const double lse = zmax + std::log(sum);
    r.loss += lse - static_cast<double>(z[labels[i]]);
    if (dlogits) {
      for (std::size_t c = 0; c < classes; ++c) {
        const double prob = std::exp(static_cast<double>(z[c]) - lse);
        dlogits->data[i * classes + c] =
            static_cast<float>((prob - (c == labels[i] ? 1.0 : 0.0)) / static_cast<double>(n));
      }
    }
  }
  r.loss /= static_cast<double>(n);
  return r;
}

void zero_grad(std::span<Parameter* const> params) {
  for (auto* p : params) std::fill(p->grad.data.begin(), p->grad.data.end(), 0.0f);
}

}  // namespace twofour::nn
