// Simulated inference (lib/nn/sim_inference): the layer mapping onto the simulator's GEMM is
// checked against independent oracles:
//  - integer-valued weights and inputs whose every partial sum is exact in fp32: the tensor-core
//    fp16 path must then equal the layer's own fp32 forward bit for bit (any layout, reorder or
//    im2col mistake changes the result);
//  - int8: a plain int64 dot product of the quantised operands, written here, dequantised in the
//    same order, must equal the simulated s32 result bit for bit.
#include "twofour/nn/sim_inference.hpp"

#include "lib/nn/nn_support.hpp"
#include "support/seed.hpp"
#include "twofour/nn/train.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace twofour::nn {
namespace {

// Values in {-1, 0, 1} (weights, with 2:4 masks applied when `prune`) or {-1, 0, 1, 2} (inputs).
void fill_small_integers(std::vector<float>& v, Rng& rng, int lo, int hi) {
  for (float& x : v) x = static_cast<float>(lo + static_cast<int>(rng.below(static_cast<std::uint64_t>(hi - lo + 1))));
}

Tensor random_integer_tensor(std::vector<std::size_t> shape, std::uint64_t seed) {
  Tensor t(std::move(shape));
  Rng rng(seed);
  fill_small_integers(t.data, rng, -1, 2);
  return t;
}

void prune_24(Parameter& p) {
  Parameter* ps[] = {&p};
  compute_magnitude_masks(ps);
  apply_masks(ps);
}

TEST(NnSimInference, ExactIntegerLinearMatchesFp32ForwardOnSparseAndDenseRows) {
  for (bool prune : {true, false}) {
    Linear lin("fc", 72, 20);  // K = 72: padded to 96 for m16n8k32, M = 20: padded to 32
    lin.weight.prunable = true;
    Rng rng(testing::test_seed("NnSimInferenceLinear", 3));
    fill_small_integers(lin.weight.value.data, rng, -1, 1);
    fill_small_integers(lin.bias.value.data, rng, -1, 1);
    if (prune) prune_24(lin.weight);
    const Tensor x = random_integer_tensor({13, 72}, 5);  // N = 13: padded to 16
    const Tensor expected = lin.forward(x, false);
    for (Arithmetic a : {Arithmetic::fp16_sm80, Arithmetic::fp16_sm90}) {
      SimulatedLayer info;
      std::uint64_t fallbacks = 0;
      const Tensor got = simulated_layer_forward(lin, x, a, 1.0f, info, fallbacks);
      EXPECT_EQ(info.sparse, prune) << to_string(a);
      EXPECT_EQ(info.instruction, prune ? "SM80_SP_16x8x32_F32F16F16F32_TN" : "SM80_16x8x16_F32F16F16F32_TN");
      ASSERT_EQ(got.shape, expected.shape);
      EXPECT_EQ(got.data, expected.data) << to_string(a) << (prune ? " sparse" : " dense");
      EXPECT_EQ(fallbacks, 0u);
    }
  }
}

TEST(NnSimInference, ExactIntegerConvMatchesFp32Forward) {
  // 16 input channels as the CNN's conv2; stride 1, padding 1: the (r, s, c) reorder and the
  // im2col must agree with the layer's own (c, r, s) im2col.
  Conv2d conv("conv", 16, 8, 3, 1, 1, true);
  conv.weight.prunable = true;
  Rng rng(testing::test_seed("NnSimInferenceConv", 4));
  fill_small_integers(conv.weight.value.data, rng, -1, 1);
  fill_small_integers(conv.bias.value.data, rng, -1, 1);
  prune_24(conv.weight);
  const Tensor x = random_integer_tensor({3, 16, 6, 5}, 6);
  const Tensor expected = conv.forward(x, false);
  SimulatedLayer info;
  std::uint64_t fallbacks = 0;
  const Tensor got = simulated_layer_forward(conv, x, Arithmetic::fp16_sm80, 1.0f, info, fallbacks);
  EXPECT_TRUE(info.sparse);
  ASSERT_EQ(got.shape, expected.shape);
  EXPECT_EQ(got.data, expected.data);
}

// The int8 oracle: quantise as documented, integer dot products, then the same float dequantisation.
TEST(NnSimInference, Int8ConvEqualsIntegerOracle) {
  Conv2d conv("conv", 16, 8, 3, 1, 1, false);
  conv.weight.prunable = true;
  Rng rng(testing::test_seed("NnSimInferenceInt8", 7));
  for (float& w : conv.weight.value.data) w = static_cast<float>(rng.normal());
  prune_24(conv.weight);
  Tensor x({2, 16, 5, 5});
  for (float& v : x.data) v = static_cast<float>(rng.normal());
  const float xs = 3.0f / 127.0f;
  SimulatedLayer info;
  std::uint64_t fallbacks = 0;
  const Tensor got = simulated_layer_forward(conv, x, Arithmetic::int8, xs, info, fallbacks);
  EXPECT_TRUE(info.sparse);
  EXPECT_EQ(info.instruction, "SM80_SP_16x8x64_S32S8S8S32_TN");
  const auto q = [](float v, float s) { return static_cast<int>(std::clamp(std::nearbyint(v / s), -127.0f, 127.0f)); };
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t o = 0; o < 8; ++o) {
      float mx = 0;
      for (std::size_t i = 0; i < 16 * 9; ++i) mx = std::max(mx, std::fabs(conv.weight.value.data[o * 144 + i]));
      const float ws = mx / 127.0f;
      for (std::size_t y = 0; y < 5; ++y)
        for (std::size_t xx = 0; xx < 5; ++xx) {
          std::int64_t acc = 0;
          for (std::size_t c = 0; c < 16; ++c)
            for (std::size_t r = 0; r < 3; ++r)
              for (std::size_t s = 0; s < 3; ++s) {
                const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(y + r) - 1, ix = static_cast<std::ptrdiff_t>(xx + s) - 1;
                if (iy < 0 || ix < 0 || iy >= 5 || ix >= 5) continue;
                acc += q(conv.weight.value.data[((o * 16 + c) * 3 + r) * 3 + s], ws) *
                       q(x.data[((n * 16 + c) * 5 + static_cast<std::size_t>(iy)) * 5 + static_cast<std::size_t>(ix)], xs);
              }
          const float expected = static_cast<float>(acc) * xs * ws;
          EXPECT_EQ(got.data[((n * 8 + o) * 5 + y) * 5 + xx], expected) << n << " " << o << " " << y << " " << xx;
        }
    }
}

TEST(NnSimInference, ModelsRunTheirTargetLayersOnTheDocumentedRows) {
  const auto data = testing::synthetic_dataset(40, 21);
  for (const char* kind : {"mlp", "cnn"}) {
    auto model = make_model(kind);
    initialize(*model, 5);
    const double fp32 = evaluate(*model, data);
    const auto ref = evaluate_simulated(*model, data, Arithmetic::fp32);
    EXPECT_EQ(ref.accuracy, fp32) << kind;
    EXPECT_EQ(ref.logits.size(), 40u * 10u);
    // Dense (untrained) model: the dense twins run.
    auto dense16 = evaluate_simulated(*model, data, Arithmetic::fp16_sm80, nullptr, 16);
    ASSERT_EQ(dense16.layers.size(), model->pruned_parameters().size()) << kind;
    for (const auto& l : dense16.layers) EXPECT_FALSE(l.sparse) << kind << " " << l.name;
    // fp16 inputs and weights: close to fp32, rarely bit-identical.
    EXPECT_LT(fraction_bits_differ(ref.logits, dense16.logits), 1.01);
    for (std::size_t i = 0; i < ref.logits.size(); ++i)
      EXPECT_NEAR(dense16.logits[i], ref.logits[i], 0.02 * (1.0 + std::fabs(static_cast<double>(ref.logits[i])))) << kind << " " << i;
    // Pruned: mma.sp runs every target layer.
    const auto targets = model->pruned_parameters();
    compute_magnitude_masks(targets);
    apply_masks(targets);
    const auto cal = calibrate_int8(*model, data, 20);
    EXPECT_EQ(cal.activation_scale.size(), targets.size());
    for (Arithmetic a : {Arithmetic::fp16_sm90, Arithmetic::int8}) {
      const auto ev = evaluate_simulated(*model, data, a, &cal, 16);
      for (const auto& l : ev.layers) EXPECT_TRUE(l.sparse) << kind << " " << l.name << " " << to_string(a);
      EXPECT_EQ(ev.logits.size(), 400u);
      EXPECT_GE(ev.accuracy, 0.0);
    }
  }
}

TEST(NnSimInference, RejectsMissingCalibrationAndBadArguments) {
  auto model = make_model("mlp");
  initialize(*model, 1);
  const auto data = testing::synthetic_dataset(4, 2);
  EXPECT_THROW(evaluate_simulated(*model, data, Arithmetic::int8), std::invalid_argument);
  Int8Calibration partial;
  partial.activation_scale["fc1.weight"] = 0.1f;
  EXPECT_THROW(evaluate_simulated(*model, data, Arithmetic::int8, &partial), std::invalid_argument);
  EXPECT_THROW(parse_arithmetic("fp8"), std::invalid_argument);
  EXPECT_EQ(parse_arithmetic("fp16-sm90"), Arithmetic::fp16_sm90);
  const float a[] = {1.0f, -0.0f}, b[] = {1.0f, 0.0f};
  EXPECT_EQ(fraction_bits_differ(a, b), 0.5);
  ReLU relu("relu");
  SimulatedLayer info;
  std::uint64_t f = 0;
  EXPECT_THROW(simulated_layer_forward(relu, Tensor({1, 4}), Arithmetic::fp16_sm80, 1.0f, info, f), std::invalid_argument);
}

}  // namespace
}  // namespace twofour::nn
