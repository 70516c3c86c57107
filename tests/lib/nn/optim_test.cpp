// Optimisers and schedules against hand-computed updates.
#include "twofour/nn/optim.hpp"

#include "twofour/sparse/mask.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace twofour::nn;

Parameter scalar_param(float w, float g, bool decay) {
  Parameter p;
  p.name = "p";
  p.value = Tensor({1}, w);
  p.grad = Tensor({1}, g);
  p.decay = decay;
  return p;
}

TEST(NnOptim, SgdMomentumAndWeightDecay) {
  Parameter w = scalar_param(1.0f, 0.5f, true), b = scalar_param(1.0f, 0.5f, false);
  OptimizerConfig c;
  c.kind = OptimizerKind::sgd;
  c.momentum = 0.9f;
  c.weight_decay = 0.1f;
  std::vector<Parameter*> ps{&w, &b};
  Optimizer opt(c, ps);
  opt.step(0.1f);
  // v = 0.5 + 0.1*1 = 0.6; w = 1 - 0.06. The bias does not decay: v = 0.5, b = 0.95.
  EXPECT_FLOAT_EQ(w.value.data[0], 0.94f);
  EXPECT_FLOAT_EQ(b.value.data[0], 0.95f);
  opt.step(0.1f);
  // v = 0.9*0.6 + 0.5 + 0.1*0.94 = 1.134; w = 0.94 - 0.1134.
  EXPECT_NEAR(w.value.data[0], 0.8266f, 1e-6);
  EXPECT_EQ(opt.steps(), 2u);
  EXPECT_EQ(opt.state().size(), 2u);
}

TEST(NnOptim, AdamWFirstStepIsSignTimesLrPlusDecoupledDecay) {
  Parameter w = scalar_param(2.0f, -3.0f, true);
  OptimizerConfig c;
  c.kind = OptimizerKind::adamw;
  c.weight_decay = 0.01f;
  std::vector<Parameter*> ps{&w};
  Optimizer opt(c, ps);
  opt.step(0.1f);
  // Decay first: 2 - 0.1*0.01*2 = 1.998; bias-corrected m/sqrt(v) = -1 -> +0.1.
  EXPECT_NEAR(w.value.data[0], 2.098f, 1e-5);
  EXPECT_EQ(opt.state().size(), 2u);  // m and v
}

// step_masked against its definition: mask the gradient, step, mask the value (ASP retraining as
// train() ran it before the fused pass), bit for bit, over several steps so that the momentum of
// pruned weights (left over from dense training) is exercised; a parameter without a mask updates
// as step() does. Sizes straddle the update's OpenMP threshold (2^16).
TEST(NnOptim, StepMaskedEqualsMaskingAroundTheStep) {
  for (const auto kind : {OptimizerKind::sgd, OptimizerKind::adamw}) {
    for (const std::size_t n : {std::size_t{37}, std::size_t{70000}}) {
      auto make = [n](const std::string& name, bool masked) {
        Parameter p;
        p.name = name;
        p.value = Tensor({n});
        p.grad = Tensor({n});
        for (std::size_t i = 0; i < n; ++i) p.value.data[i] = std::sin(0.37f * static_cast<float>(i) + (masked ? 1.0f : 2.0f));
        if (masked) {
          p.mask.resize(n);
          for (std::size_t i = 0; i < n; ++i) p.mask[i] = static_cast<std::uint8_t>((i * 7 + i / 5) % 3 != 0);
        }
        return p;
      };
      Parameter fused_w = make("w", true), fused_b = make("b", false), ref_w = make("w", true), ref_b = make("b", false);
      OptimizerConfig c;
      c.kind = kind;
      c.weight_decay = 0.01f;
      std::vector<Parameter*> fused{&fused_w, &fused_b}, ref{&ref_w, &ref_b};
      Optimizer fused_opt(c, fused), ref_opt(c, ref);
      for (int step = 0; step < 4; ++step) {
        for (auto* ps : {&fused, &ref})
          for (auto* p : *ps)
            for (std::size_t i = 0; i < n; ++i) p->grad.data[i] = std::cos(0.11f * static_cast<float>(i * (step + 1)));
        if (step < 2) {  // dense phase: momentum builds up at every position
          fused_opt.step(0.05f);
          ref_opt.step(0.05f);
          continue;
        }
        fused_opt.step_masked(0.05f);
        twofour::sparse::apply_mask(ref_w.grad.data, ref_w.mask);
        ref_opt.step(0.05f);
        twofour::sparse::apply_mask(ref_w.value.data, ref_w.mask);
      }
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::bit_cast<std::uint32_t>(fused_w.value.data[i]), std::bit_cast<std::uint32_t>(ref_w.value.data[i]))
            << to_string(kind) << " n " << n << " at " << i;
        ASSERT_EQ(std::bit_cast<std::uint32_t>(fused_b.value.data[i]), std::bit_cast<std::uint32_t>(ref_b.value.data[i]));
        if (ref_w.mask[i] == 0) {
          ASSERT_EQ(fused_w.value.data[i], 0.0f);
        }
      }
      for (std::size_t t = 0; t < fused_opt.state().size(); ++t)
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_EQ(std::bit_cast<std::uint32_t>(fused_opt.state()[t].second->data[i]),
                    std::bit_cast<std::uint32_t>(ref_opt.state()[t].second->data[i]))
              << fused_opt.state()[t].first << " at " << i;
    }
  }
}

TEST(NnOptim, Schedules) {
  OptimizerConfig o;
  o.lr = 0.1f;
  ScheduleConfig cosine{ScheduleKind::cosine, 1, 0.1, 0.0};
  EXPECT_FLOAT_EQ(learning_rate(o, cosine, 0, 10), 0.1f);
  EXPECT_NEAR(learning_rate(o, cosine, 5, 10), 0.05f, 1e-7);
  EXPECT_NEAR(learning_rate(o, cosine, 10, 10), 0.0f, 1e-7);
  ScheduleConfig step{ScheduleKind::step, 3, 0.5, 0.0};
  EXPECT_FLOAT_EQ(learning_rate(o, step, 2.9, 10), 0.1f);
  EXPECT_FLOAT_EQ(learning_rate(o, step, 3.0, 10), 0.05f);
  EXPECT_FLOAT_EQ(learning_rate(o, step, 6.5, 10), 0.025f);
  EXPECT_FLOAT_EQ(learning_rate(o, ScheduleConfig{ScheduleKind::constant, 1, 0.1, 0}, 7, 10), 0.1f);
  EXPECT_EQ(parse_schedule("step"), ScheduleKind::step);
  EXPECT_THROW(parse_schedule("linear"), std::invalid_argument);
  EXPECT_EQ(parse_optimizer("adamw"), OptimizerKind::adamw);
  EXPECT_THROW(parse_optimizer("adam"), std::invalid_argument);
}

TEST(NnOptim, RngIsPortableAndUnbiasedInRange) {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
  Rng r(7);
  int hist[3] = {0, 0, 0};
  for (int i = 0; i < 3000; ++i) ++hist[r.below(3)];
  for (int h : hist) EXPECT_NEAR(h, 1000, 120);
  double s = 0, s2 = 0;
  for (int i = 0; i < 20000; ++i) {
    const double x = r.normal();
    s += x;
    s2 += x * x;
  }
  EXPECT_NEAR(s / 20000, 0.0, 0.03);
  EXPECT_NEAR(s2 / 20000, 1.0, 0.05);
  EXPECT_NE(derive_seed(1, 2, 3), derive_seed(1, 2, 4));
}

}  // namespace
