// The layers whose loops are written for speed (ReLU as a select, BatchNorm's statistics over
// several channels at once) against plain one-element / one-channel references written here,
// bit for bit. The references are the layers' numerical contract: ReLU keeps x only when x > 0
// (NaN, -0 and negatives give +0), and BatchNorm sums each channel in double over 8 lanes (the
// value at plane position j in lane j mod 8, each lane in (image, position) order, then the tree
// lane l += lane l + w, w = 4, 2, 1). (Double sums of floats seldom round differently enough to
// change a float result, so these tests mostly catch wrong channels, lanes and formulas.)
#include "twofour/nn/layers.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace twofour::nn;

std::uint32_t bits(float v) { return std::bit_cast<std::uint32_t>(v); }

void expect_same_bits(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(bits(got[i]), bits(want[i])) << what << " element " << i << ": " << got[i] << " vs " << want[i];
}

// Magnitudes spread over 2^-20..2^20, so that the double sums actually round.
Tensor spread_tensor(std::vector<std::size_t> shape, Rng& rng) {
  Tensor t(std::move(shape));
  for (auto& v : t.data) v = static_cast<float>(rng.normal() * std::ldexp(1.0, static_cast<int>(rng.below(41)) - 20));
  return t;
}

TEST(NnExact, ReLUKeepsOnlyPositiveValuesAndTheirGradients) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float denorm = std::numeric_limits<float>::denorm_min();
  Tensor x({9});
  x.data = {-2.0f, -0.0f, 0.0f, denorm, -denorm, 3.5f, nan, inf, -inf};
  ReLU relu("relu");
  const Tensor y = relu.forward(x, true);
  expect_same_bits(y.data, {0.0f, 0.0f, 0.0f, denorm, 0.0f, 3.5f, 0.0f, inf, 0.0f}, "forward");
  Tensor dy({9});
  for (std::size_t i = 0; i < 9; ++i) dy.data[i] = static_cast<float>(i) + 0.25f;
  const Tensor dx = relu.backward(dy);
  expect_same_bits(dx.data, {0.0f, 0.0f, 0.0f, 3.25f, 0.0f, 5.25f, 0.0f, 7.25f, 0.0f}, "backward");
}

struct BnReference {
  std::vector<float> y, dx, dgamma, dbeta, running_mean, running_var;
};

// One channel at a time, exactly as the formulas read (PyTorch's training-mode BatchNorm).
BnReference reference_batchnorm(const Tensor& x, const Tensor& dy, const std::vector<float>& gamma,
                                const std::vector<float>& beta, float eps, float momentum) {
  const std::size_t n = x.dim(0), channels = x.dim(1), sp = x.rank() == 4 ? x.dim(2) * x.dim(3) : 1;
  const std::size_t count = n * sp;
  BnReference r{std::vector<float>(x.numel()), std::vector<float>(x.numel()), std::vector<float>(channels),
                std::vector<float>(channels), std::vector<float>(channels), std::vector<float>(channels)};
  // Sum over (image, position) of term(i, j), in the layer's 8-lane order.
  const auto lane_sum = [&](auto term) {
    double lanes[8] = {};
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < sp; ++j) lanes[j % 8] += term(i, j);
    for (std::size_t w = 4; w >= 1; w /= 2)
      for (std::size_t l = 0; l < w; ++l) lanes[l] += lanes[l + w];
    return lanes[0];
  };
  for (std::size_t c = 0; c < channels; ++c) {
    const auto at = [&](std::size_t i, std::size_t j) { return (i * channels + c) * sp + j; };
    const double s = lane_sum([&](std::size_t i, std::size_t j) { return static_cast<double>(x.data[at(i, j)]); });
    const double m = s / static_cast<double>(count);
    const double s2 = lane_sum([&](std::size_t i, std::size_t j) {
      const double d = static_cast<double>(x.data[at(i, j)]) - m;
      return d * d;
    });
    const float mean = static_cast<float>(m), var = static_cast<float>(s2 / static_cast<double>(count));
    r.running_mean[c] = (1.0f - momentum) * 0.0f + momentum * mean;
    r.running_var[c] = (1.0f - momentum) * 1.0f + momentum * static_cast<float>(s2 / static_cast<double>(count - 1));
    const float inv = 1.0f / std::sqrt(var + eps);
    std::vector<float> xhat(count);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < sp; ++j) {
        xhat[i * sp + j] = (x.data[at(i, j)] - mean) * inv;
        r.y[at(i, j)] = gamma[c] * xhat[i * sp + j] + beta[c];
      }
    const double sum_dy = lane_sum([&](std::size_t i, std::size_t j) { return static_cast<double>(dy.data[at(i, j)]); });
    const double sum_dy_xh = lane_sum([&](std::size_t i, std::size_t j) {
      return static_cast<double>(dy.data[at(i, j)]) * static_cast<double>(xhat[i * sp + j]);
    });
    r.dgamma[c] = static_cast<float>(sum_dy_xh);
    r.dbeta[c] = static_cast<float>(sum_dy);
    const float scale = gamma[c] * inv;
    const float mean_dy = static_cast<float>(sum_dy / static_cast<double>(count));
    const float mean_dy_xh = static_cast<float>(sum_dy_xh / static_cast<double>(count));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < sp; ++j)
        r.dx[at(i, j)] = scale * (dy.data[at(i, j)] - mean_dy - xhat[i * sp + j] * mean_dy_xh);
  }
  return r;
}

// Channel counts 1-9, both ranks, planes of 15 and 20 positions (lanes with and without a partial
// last group of 8), and magnitudes spread widely enough that the order of the sums shows.
TEST(NnExact, BatchNormTrainingEqualsThePerChannelReferenceBitForBit) {
  Rng rng(20261129);
  for (const std::size_t channels : {1u, 3u, 4u, 5u, 6u, 9u}) {
    for (const std::size_t plane : {0u, 3u, 4u}) {
      const bool spatial = plane != 0;
      std::vector<std::size_t> shape{7, channels};
      if (spatial) shape.insert(shape.end(), {5, plane});
      const std::string what = std::to_string(channels) + (spatial ? " channels, rank 4, 5x" + std::to_string(plane) : " channels, rank 2");
      const Tensor x = spread_tensor(shape, rng);
      const Tensor dy = spread_tensor(shape, rng);
      BatchNorm bn("bn", channels);
      for (std::size_t c = 0; c < channels; ++c) {
        bn.gamma.value.data[c] = static_cast<float>(0.5 + rng.uniform());
        bn.beta.value.data[c] = static_cast<float>(rng.normal());
      }
      const BnReference want = reference_batchnorm(x, dy, bn.gamma.value.data, bn.beta.value.data, bn.eps, bn.momentum);
      const Tensor y = bn.forward(x, true);
      const Tensor dx = bn.backward(dy);
      expect_same_bits(y.data, want.y, what + ": y");
      expect_same_bits(dx.data, want.dx, what + ": dx");
      expect_same_bits(bn.gamma.grad.data, want.dgamma, what + ": dgamma");
      expect_same_bits(bn.beta.grad.data, want.dbeta, what + ": dbeta");
      expect_same_bits(bn.running_mean.data, want.running_mean, what + ": running mean");
      expect_same_bits(bn.running_var.data, want.running_var, what + ": running variance");
    }
  }
}

}  // namespace

namespace {

// MaxPool2d 2x2 / stride 2 (an unrolled path) against the plain window scan: ties go to the first
// maximum in (row, column) order and NaN never wins, for the forward values and for where the
// backward pass sends each gradient.
// Linear's bias gradient: each output's gradients summed in batch order from +0 (float), then
// added to the existing gradient once; across output counts on both sides of the 512-column
// passes and of the OpenMP threshold, with a gradient that was not zero.
TEST(NnExact, LinearBiasGradientIsTheBatchOrderSumPerOutput) {
  Rng rng(77);
  for (const auto& [n, out] : {std::pair<std::size_t, std::size_t>{37, 10}, {128, 300}, {200, 700}, {129, 1030}}) {
    Linear lin("fc", 8, out);
    const Tensor x = spread_tensor({n, 8}, rng), dy = spread_tensor({n, out}, rng);
    for (std::size_t o = 0; o < out; ++o) lin.bias.grad.data[o] = static_cast<float>(o % 7) - 3.0f;
    std::vector<float> want = lin.bias.grad.data;
    for (std::size_t o = 0; o < out; ++o) {
      float s = 0.0f;
      for (std::size_t i = 0; i < n; ++i) s += dy.data[i * out + o];
      want[o] += s;
    }
    lin.forward(x, true);
    lin.backward(dy);
    expect_same_bits(lin.bias.grad.data, want, "bias gradient n " + std::to_string(n) + " out " + std::to_string(out));
  }
}

TEST(NnExact, MaxPoolTwoByTwoEqualsThePlainWindowScan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> pattern = {1.0f, 1.0f, 0.5f, 2.0f, nan, -1.0f, 3.0f, 3.0f, -0.0f, 0.0f, 2.0f, nan};
  Tensor x({2, 3, 6, 4});
  for (std::size_t i = 0; i < x.numel(); ++i) x.data[i] = pattern[(i * 7) % pattern.size()];
  MaxPool2d pool("pool", 2, 2);
  const Tensor y = pool.forward(x, true);
  Tensor dy(y.shape);
  for (std::size_t i = 0; i < dy.numel(); ++i) dy.data[i] = static_cast<float>(i + 1);
  const Tensor dx = pool.backward(dy);
  std::vector<float> want_y(y.numel()), want_dx(x.numel(), 0.0f);
  for (std::size_t pl = 0; pl < 6; ++pl)
    for (std::size_t yo = 0; yo < 3; ++yo)
      for (std::size_t xo = 0; xo < 2; ++xo) {
        std::size_t best = pl * 24 + 2 * yo * 4 + 2 * xo;
        for (std::size_t r = 0; r < 2; ++r)
          for (std::size_t s = 0; s < 2; ++s) {
            const std::size_t at = pl * 24 + (2 * yo + r) * 4 + 2 * xo + s;
            if (x.data[at] > x.data[best]) best = at;
          }
        const std::size_t o = pl * 6 + yo * 2 + xo;
        want_y[o] = x.data[best];
        want_dx[best] += dy.data[o];
      }
  expect_same_bits(y.data, want_y, "forward");
  expect_same_bits(dx.data, want_dx, "backward");
}

}  // namespace
