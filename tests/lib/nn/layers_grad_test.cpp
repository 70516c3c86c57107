// Every layer's backward pass against central finite differences of L = sum(forward(x) * R) for a
// random R (so dL/dy = R). Float forward passes, loss summed in double.
//
// Tolerance: with step h = 1e-2 the truncation error is O(h^2 |f'''|) ~ 1e-4 for these smooth
// maps, and float rounding of the outputs contributes ~ 1e-7 * |y| * sqrt(#y) / h ~ 1e-4; we allow
// 2e-3 + 1e-2 |g|. Inputs keep clear of ReLU's and max-pool's kinks by more than h, so the
// difference quotient never straddles one.
#include "twofour/nn/layers.hpp"
#include "support/seed.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace {

using namespace twofour::nn;

constexpr float kStep = 1e-2f;

Tensor random_tensor(std::vector<std::size_t> shape, Rng& rng, double scale = 1.0) {
  Tensor t(std::move(shape));
  for (auto& v : t.data) v = static_cast<float>(rng.normal() * scale);
  return t;
}

double weighted_sum(const Tensor& y, const Tensor& r) {
  double s = 0;
  for (std::size_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y.data[i]) * static_cast<double>(r.data[i]);
  return s;
}

void expect_close(double analytic, double numeric, const std::string& what) {
  EXPECT_NEAR(analytic, numeric, 2e-3 + 1e-2 * std::abs(numeric)) << what;
}

// Checks dL/dx at up to `samples` positions and dL/dparam for every parameter likewise.
void check_layer(Layer& layer, Tensor x, Rng& rng, bool training = true, std::size_t samples = 40) {
  Tensor y = layer.forward(x, training);
  const Tensor r = random_tensor(y.shape, rng);
  auto params = layer.parameters();
  zero_grad(params);
  // Re-run forward so cached state matches x exactly (BN running stats do not affect training output).
  y = layer.forward(x, training);
  const Tensor dx = layer.backward(r);
  ASSERT_EQ(dx.shape, x.shape);
  const auto loss = [&] { return weighted_sum(layer.forward(x, training), r); };
  const auto probe = [&](std::vector<float>& values, const std::vector<float>& grads, const std::string& what) {
    const std::size_t n = values.size();
    for (std::size_t s = 0; s < std::min(samples, n); ++s) {
      const std::size_t i = n <= samples ? s : static_cast<std::size_t>(rng.below(n));
      const float saved = values[i];
      values[i] = saved + kStep;
      const double up = loss();
      values[i] = saved - kStep;
      const double down = loss();
      values[i] = saved;
      expect_close(static_cast<double>(grads[i]), (up - down) / (2.0 * static_cast<double>(kStep)),
                   layer.name + " " + what + "[" + std::to_string(i) + "]");
    }
  };
  probe(x.data, dx.data, "dx");
  for (auto* p : params) probe(p->value.data, p->grad.data, p->name);
}

TEST(NnGrad, Linear) {
  Rng rng(twofour::testing::test_seed("NnGrad.Linear", 11));
  Linear fc("fc", 12, 7);
  fc.initialize(rng);
  for (auto& b : fc.bias.value.data) b = static_cast<float>(rng.normal());
  check_layer(fc, random_tensor({5, 12}, rng), rng);
}

TEST(NnGrad, LinearWithoutBias) {
  Rng rng(twofour::testing::test_seed("NnGrad.LinearWithoutBias", 12));
  Linear fc("fc", 8, 4, false);
  fc.initialize(rng);
  EXPECT_EQ(fc.parameters().size(), 1u);
  check_layer(fc, random_tensor({3, 8}, rng), rng);
}

TEST(NnGrad, Conv2dPaddedStride1) {
  Rng rng(twofour::testing::test_seed("NnGrad.Conv2dPaddedStride1", 13));
  Conv2d conv("conv", 3, 4, 3, 1, 1, true);
  conv.initialize(rng);
  for (auto& b : conv.bias.value.data) b = static_cast<float>(rng.normal());
  check_layer(conv, random_tensor({2, 3, 6, 5}, rng), rng, true, 60);
}

TEST(NnGrad, Conv2dStride2NoPadNoBias) {
  Rng rng(twofour::testing::test_seed("NnGrad.Conv2dStride2NoPadNoBias", 14));
  Conv2d conv("conv", 2, 3, 3, 2, 0, false);
  conv.initialize(rng);
  check_layer(conv, random_tensor({2, 2, 7, 7}, rng), rng, true, 60);
}

// Conv2d's forward pass against the definition (a double sum over the window, skipping taps in
// the padding).
void expect_direct_convolution(Conv2d& conv, const Tensor& x) {
  const std::size_t n = x.dim(0), c_in = conv.in_c, h = x.dim(2), w = x.dim(3), k = conv.k, st = conv.stride;
  const std::size_t oh = (h + 2 * conv.pad - k) / st + 1, ow = (w + 2 * conv.pad - k) / st + 1;
  const Tensor y = conv.forward(x, false);
  ASSERT_EQ(y.shape, (std::vector<std::size_t>{n, conv.out_c, oh, ow}));
  for (std::size_t img = 0; img < n; ++img)
    for (std::size_t o = 0; o < conv.out_c; ++o)
      for (std::size_t oy = 0; oy < oh; ++oy)
        for (std::size_t ox = 0; ox < ow; ++ox) {
          double s = conv.has_bias ? static_cast<double>(conv.bias.value.data[o]) : 0.0;
          for (std::size_t c = 0; c < c_in; ++c)
            for (std::size_t r = 0; r < k; ++r)
              for (std::size_t q = 0; q < k; ++q) {
                const auto iy = static_cast<long>(oy * st + r) - static_cast<long>(conv.pad);
                const auto ix = static_cast<long>(ox * st + q) - static_cast<long>(conv.pad);
                if (iy < 0 || ix < 0 || iy >= static_cast<long>(h) || ix >= static_cast<long>(w)) continue;
                s += static_cast<double>(conv.weight.value.data[((o * c_in + c) * k + r) * k + q]) *
                     static_cast<double>(x.data[((img * c_in + c) * h + static_cast<std::size_t>(iy)) * w + static_cast<std::size_t>(ix)]);
              }
          EXPECT_NEAR(static_cast<double>(y.data[((img * conv.out_c + o) * oh + oy) * ow + ox]), s, 1e-5)
              << "image " << img << " channel " << o << " at (" << oy << ", " << ox << ")";
        }
}

TEST(NnGrad, Conv2dMatchesDirectConvolution) {
  // The im2col path against the definition, including padding at every border.
  Rng rng(twofour::testing::test_seed("NnGrad.Conv2dMatchesDirectConvolution", 15));
  Conv2d conv("conv", 2, 3, 3, 2, 1, true);
  conv.initialize(rng);
  for (auto& b : conv.bias.value.data) b = static_cast<float>(rng.normal());
  expect_direct_convolution(conv, random_tensor({2, 2, 5, 6}, rng));
}

TEST(NnGrad, Conv2dWithWidePaddingReusedOnSmallerInputs) {
  // Padding wider than a stride, so whole windows fall in the padding, and one layer run on
  // successively smaller inputs: its im2col buffer is reused, never cleared, so every element
  // must be rewritten each call.
  Rng rng(twofour::testing::test_seed("NnGrad.Conv2dWithWidePaddingReusedOnSmallerInputs", 16));
  Conv2d conv("conv", 2, 3, 3, 3, 2, false);
  conv.initialize(rng);
  expect_direct_convolution(conv, random_tensor({3, 2, 7, 8}, rng));
  expect_direct_convolution(conv, random_tensor({2, 2, 4, 5}, rng));
  expect_direct_convolution(conv, random_tensor({1, 2, 1, 2}, rng));
  check_layer(conv, random_tensor({2, 2, 5, 4}, rng), rng, true, 40);
}

TEST(NnGrad, ReLUAwayFromTheKink) {
  Rng rng(twofour::testing::test_seed("NnGrad.ReLUAwayFromTheKink", 16));
  Tensor x = random_tensor({4, 9}, rng);
  for (auto& v : x.data) v = std::copysign(0.05f + std::abs(v), v);  // |x| > 5 h
  ReLU relu("relu");
  check_layer(relu, x, rng);
}

TEST(NnGrad, MaxPoolWithDistinctValues) {
  Rng rng(twofour::testing::test_seed("NnGrad.MaxPoolWithDistinctValues", 17));
  // Values 0.05 apart in random order: no two inside a window are within 2 h of each other.
  Tensor x({2, 3, 6, 6});
  for (std::size_t i = 0; i < x.numel(); ++i) x.data[i] = 0.05f * static_cast<float>(i);
  for (std::size_t i = x.numel() - 1; i > 0; --i) std::swap(x.data[i], x.data[rng.below(i + 1)]);
  MaxPool2d pool("pool", 2, 2);
  check_layer(pool, x, rng, true, 80);
  MaxPool2d overlapping("pool3s2", 3, 2);
  check_layer(overlapping, x, rng, true, 80);
}

TEST(NnGrad, BatchNorm2dTraining) {
  Rng rng(twofour::testing::test_seed("NnGrad.BatchNorm2dTraining", 18));
  BatchNorm bn("bn", 3);
  for (auto& g : bn.gamma.value.data) g = static_cast<float>(0.5 + rng.uniform());
  for (auto& b : bn.beta.value.data) b = static_cast<float>(rng.normal());
  check_layer(bn, random_tensor({4, 3, 3, 2}, rng, 2.0), rng, true, 60);
}

TEST(NnGrad, BatchNorm1dTraining) {
  Rng rng(twofour::testing::test_seed("NnGrad.BatchNorm1dTraining", 19));
  BatchNorm bn("bn", 5);
  for (auto& g : bn.gamma.value.data) g = static_cast<float>(0.5 + rng.uniform());
  check_layer(bn, random_tensor({6, 5}, rng, 2.0), rng, true, 60);
}

TEST(NnGrad, BatchNormEvalUsesRunningStatistics) {
  Rng rng(twofour::testing::test_seed("NnGrad.BatchNormEvalUsesRunningStatistics", 20));
  BatchNorm bn("bn", 2);
  bn.running_mean.data = {0.5f, -1.0f};
  bn.running_var.data = {4.0f, 0.25f};
  const Tensor x = random_tensor({3, 2}, rng);
  const Tensor y = bn.forward(x, false);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(y.data[i * 2], (x.data[i * 2] - 0.5f) / std::sqrt(4.0f + 1e-5f), 1e-6);
    EXPECT_NEAR(y.data[i * 2 + 1], (x.data[i * 2 + 1] + 1.0f) / std::sqrt(0.25f + 1e-5f), 1e-5);
  }
  check_layer(bn, x, rng, false);
}

TEST(NnGrad, BatchNormRunningStatisticsFollowPyTorch) {
  BatchNorm bn("bn", 1);
  Tensor x({4, 1});
  x.data = {1, 2, 3, 6};  // mean 3, biased var 3.5, unbiased 14/3
  bn.forward(x, true);
  EXPECT_NEAR(bn.running_mean.data[0], 0.1f * 3.0f, 1e-6);
  EXPECT_NEAR(bn.running_var.data[0], 0.9f + 0.1f * 14.0f / 3.0f, 1e-6);
}

TEST(NnGrad, FlattenAndSequential) {
  Rng rng(twofour::testing::test_seed("NnGrad.FlattenAndSequential", 21));
  Sequential net;
  net.add(std::make_unique<Conv2d>("conv", 2, 4, 3, 1, 1, false));
  net.add(std::make_unique<Flatten>("flatten"));
  net.add(std::make_unique<Linear>("fc", 4 * 4 * 4, 3));
  net.initialize(rng);
  check_layer(net, random_tensor({2, 2, 4, 4}, rng), rng, true, 40);
}

TEST(NnGrad, SoftmaxCrossEntropy) {
  Rng rng(twofour::testing::test_seed("NnGrad.SoftmaxCrossEntropy", 22));
  Tensor logits = random_tensor({4, 5}, rng, 3.0);
  const std::vector<std::uint8_t> labels{0, 4, 2, 2};
  Tensor d;
  const auto r = softmax_cross_entropy(logits, labels, &d);
  for (std::size_t i = 0; i < logits.numel(); ++i) {
    const float saved = logits.data[i];
    logits.data[i] = saved + kStep;
    const double up = softmax_cross_entropy(logits, labels, nullptr).loss;
    logits.data[i] = saved - kStep;
    const double down = softmax_cross_entropy(logits, labels, nullptr).loss;
    logits.data[i] = saved;
    expect_close(static_cast<double>(d.data[i]), (up - down) / (2.0 * static_cast<double>(kStep)), "dlogits");
  }
  // Huge logits stay finite (log-sum-exp with the max subtracted).
  Tensor big({1, 2});
  big.data = {1000.0f, -1000.0f};
  const std::vector<std::uint8_t> one{1};
  EXPECT_NEAR(softmax_cross_entropy(big, one, nullptr).loss, 2000.0, 1e-3);
  EXPECT_GE(r.loss, 0.0);
}

TEST(NnGrad, ShapeMismatchesThrow) {
  Linear fc("fc", 4, 2);
  EXPECT_THROW(fc.forward(Tensor({2, 3}), true), std::invalid_argument);
  Conv2d conv("conv", 3, 2, 3);
  EXPECT_THROW(conv.forward(Tensor({1, 2, 5, 5}), true), std::invalid_argument);
  BatchNorm bn("bn", 2);
  EXPECT_THROW(bn.forward(Tensor({1, 2}), true), std::invalid_argument);  // one value per channel
}

}  // namespace
