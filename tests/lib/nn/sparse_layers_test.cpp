// The 2:4 execution of Linear layers (sparse_layers.hpp) against the dense layer on W*M. Oracle:
// with small-integer inputs, weights and gradients every product and sum is exact in fp32, so
// the sparse kernels (any order) must equal the dense GEMM bit for bit; with random floats they
// agree to rounding. Training: ASP retraining and SR-STE on the 2:4 kernels stay deterministic,
// keep pruned weights exactly zero and learn as well as the dense execution.
#include "twofour/nn/sparse_layers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/nn/nn_support.hpp"
#include "lib/nn/sparse_support.hpp"
#include "support/seed.hpp"
#include "twofour/nn/train.hpp"
#include "twofour/sparse/mask.hpp"

namespace twofour::nn {
namespace {

struct LayerRun {
  Tensor y, dx, dw, db;
  SparseLayerStatus status;
};

// One forward/backward of a fresh Linear (in -> out) with the given weights and mask, dense or on
// the 2:4 kernels.
LayerRun run_linear(const std::vector<float>& w, const std::vector<std::uint8_t>& mask, std::size_t in, std::size_t out,
               const Tensor& x, const Tensor& dy, bool sparse_exec, SparseWeightGrad grad) {
  Model model;
  auto& lin = static_cast<Linear&>(model.net.add(std::make_unique<Linear>("fc", in, out)));
  lin.weight.prunable = true;
  lin.weight.value.data = w;
  lin.weight.mask = mask;
  if (!mask.empty()) sparse::apply_mask(lin.weight.value.data, mask);
  for (std::size_t o = 0; o < out; ++o) lin.bias.value.data[o] = static_cast<float>(o % 3) - 1.0f;
  LayerRun r;
  std::optional<SparseExecutionScope> scope;
  if (sparse_exec) scope.emplace(model, grad);
  r.y = model.net.forward(x, true);
  r.dx = model.net.backward(dy);
  r.dw = lin.weight.grad;
  r.db = lin.bias.grad;
  if (scope) r.status = scope->status().at(0);
  return r;
}

Tensor integer_tensor(std::vector<std::size_t> shape, std::mt19937_64& rng, int lo, int hi) {
  Tensor t(std::move(shape));
  std::uniform_int_distribution<int> d(lo, hi);
  for (auto& v : t.data) v = static_cast<float>(d(rng));
  return t;
}



// On integer data every product is exact, so the run on the 2:4 kernels equals the dense layer
// bit for bit; the weight gradient of a pruned weight is 0 unless the mode computes it (dense dW).
void expect_equals_dense(const LayerRun& sp, const LayerRun& dense, const std::vector<std::uint8_t>& mask,
                         SparseWeightGrad grad, bool transposable, const std::string& what) {
  EXPECT_TRUE(sp.status.sparse_forward) << what;
  EXPECT_EQ(sp.status.sparse_input_grad, transposable) << what;
  EXPECT_TRUE(testing::same_bits(sp.y, dense.y)) << what;
  EXPECT_TRUE(testing::same_bits(sp.dx, dense.dx)) << what;
  EXPECT_TRUE(testing::same_bits(sp.db, dense.db)) << what;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    if (mask[i] || grad == SparseWeightGrad::dense) {
      ASSERT_EQ(sp.dw.data[i], dense.dw.data[i]) << what << " at " << i;
    } else {
      ASSERT_EQ(sp.dw.data[i], 0.0f) << what << ": a pruned weight got a gradient at " << i;
    }
  }
}

TEST(NnSparseLinear, ExactOnIntegersForEveryMaskKindAndGradientMode) {
  std::mt19937_64 rng(testing::test_seed("NnSparseLinear.Exact", 0x24a));
  const std::size_t in = 52, out = 12, n = 37;  // n not a multiple of 16: the padded path
  for (bool transposable : {false, true}) {
    for (SparseWeightGrad grad : {SparseWeightGrad::kept_only, SparseWeightGrad::dense}) {
      const Tensor w = integer_tensor({out, in}, rng, -4, 4);
      const auto mask = testing::mask_24(integer_tensor({out, in}, rng, 0, 1000), transposable);
      const Tensor x = integer_tensor({n, in}, rng, -4, 4), dy = integer_tensor({n, out}, rng, -3, 3);
      const LayerRun dense = run_linear(w.data, mask, in, out, x, dy, false, grad);
      const LayerRun sp = run_linear(w.data, mask, in, out, x, dy, true, grad);
      const std::string what = std::string(transposable ? "transposable" : "magnitude") +
                               (grad == SparseWeightGrad::dense ? ", dense dW" : ", kept dW");
      expect_equals_dense(sp, dense, mask, grad, transposable, what);
    }
  }
}

// A mask that keeps fewer than 2 of some groups (a weight that was already zero, another mask
// provider's pattern) leaves filler slots in the compressed form: computed by the kernels, but the
// gradient of those pruned weights must stay what it was (0 here), and the rest equal dense.
TEST(NnSparseLinear, GroupsKeepingFewerThanTwoLeaveThePrunedGradientsAlone) {
  std::mt19937_64 rng(testing::test_seed("NnSparseLinear.Fillers", 0x24f));
  const std::size_t in = 40, out = 24, n = 64;
  const Tensor w = integer_tensor({out, in}, rng, -4, 4);
  auto mask = testing::mask_24(integer_tensor({out, in}, rng, 0, 1000), false);
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i] != 0 && i % 5 == 0) {
      mask[i] = 0;
      ++dropped;
    }
  ASSERT_GT(dropped, 10u);
  const Tensor x = integer_tensor({n, in}, rng, -4, 4), dy = integer_tensor({n, out}, rng, -3, 3);
  const LayerRun dense = run_linear(w.data, mask, in, out, x, dy, false, SparseWeightGrad::kept_only);
  const LayerRun sp = run_linear(w.data, mask, in, out, x, dy, true, SparseWeightGrad::kept_only);
  expect_equals_dense(sp, dense, mask, SparseWeightGrad::kept_only, false, "fillers");
}

TEST(NnSparseLinear, FloatsAgreeWithTheDenseLayerToRounding) {
  std::mt19937_64 rng(testing::test_seed("NnSparseLinear.Floats", 0x24b));
  std::normal_distribution<float> normal;
  const std::size_t in = 300, out = 100, n = 128;
  Tensor w({out, in}), x({n, in}), dy({n, out});
  for (auto* t : {&w, &x, &dy})
    for (auto& v : t->data) v = normal(rng);
  for (bool transposable : {false, true}) {
    const auto mask = testing::mask_24(w, transposable);
    const LayerRun dense = run_linear(w.data, mask, in, out, x, dy, false, SparseWeightGrad::kept_only);
    const LayerRun sp = run_linear(w.data, mask, in, out, x, dy, true, SparseWeightGrad::kept_only);
    // |error| <= about n_terms * eps * sum|terms|; sum|terms| is ~ sqrt(terms) * typical size here,
    // so a relative 1e-4 of the largest magnitude is a loose, order-independent bound.
    const auto close = [](const Tensor& a, const Tensor& b, const char* name) {
      float scale = 0;
      for (float v : b.data) scale = std::max(scale, std::abs(v));
      for (std::size_t i = 0; i < a.data.size(); ++i)
        ASSERT_NEAR(a.data[i], b.data[i], 1e-4f * scale) << name << " " << i;
    };
    close(sp.y, dense.y, "y");
    close(sp.dx, dense.dx, "dx");
    Tensor kept_dw = dense.dw;  // the dense layer's dW where the mask keeps, 0 elsewhere
    for (std::size_t i = 0; i < mask.size(); ++i)
      if (!mask[i]) kept_dw.data[i] = 0.0f;
    close(sp.dw, kept_dw, "dw");
  }
}

// The same for a Conv2d (K, C, R, S), its mask grouped along C (ASP's view).
LayerRun run_conv(const Tensor& w, const std::vector<std::uint8_t>& mask, std::size_t stride, std::size_t pad,
                  const Tensor& x, const Tensor& dy, bool sparse_exec, SparseWeightGrad grad) {
  Model model;
  auto& conv = static_cast<Conv2d&>(
      model.net.add(std::make_unique<Conv2d>("conv", w.dim(1), w.dim(0), w.dim(2), stride, pad, true)));
  conv.weight.prunable = true;
  conv.weight.value.data = w.data;
  conv.weight.mask = mask;
  sparse::apply_mask(conv.weight.value.data, mask);
  for (std::size_t o = 0; o < w.dim(0); ++o) conv.bias.value.data[o] = static_cast<float>(o % 3) - 1.0f;
  LayerRun r;
  std::optional<SparseExecutionScope> scope;
  if (sparse_exec) scope.emplace(model, grad);
  r.y = model.net.forward(x, true);
  if (r.y.shape != dy.shape) throw std::logic_error("test: dy shape");
  r.dx = model.net.backward(dy);
  r.dw = conv.weight.grad;
  r.db = conv.bias.grad;
  if (scope) r.status = scope->status().at(0);
  return r;
}

TEST(NnSparseConv, ExactOnIntegersForEveryMaskKindAndGradientMode) {
  std::mt19937_64 rng(testing::test_seed("NnSparseConv.Exact", 0x24e));
  const std::size_t k_out = 8, c_in = 12, n = 3;
  struct Geometry {
    std::size_t stride, pad, out;  // 9x9 input, 3x3 kernel
  };
  for (const Geometry geo : {Geometry{1, 1, 9}, Geometry{2, 0, 4}}) {
    for (bool transposable : {false, true}) {
      for (SparseWeightGrad grad : {SparseWeightGrad::kept_only, SparseWeightGrad::dense}) {
        const Tensor w = integer_tensor({k_out, c_in, 3, 3}, rng, -3, 3);
        const auto mask = testing::mask_24(integer_tensor({k_out, c_in, 3, 3}, rng, 0, 1000), transposable);
        const Tensor x = integer_tensor({n, c_in, 9, 9}, rng, 0, 3);
        const Tensor dy = integer_tensor({n, k_out, geo.out, geo.out}, rng, -2, 2);
        const LayerRun dense = run_conv(w, mask, geo.stride, geo.pad, x, dy, false, grad);
        const LayerRun sp = run_conv(w, mask, geo.stride, geo.pad, x, dy, true, grad);
        const std::string what = "stride " + std::to_string(geo.stride) + (transposable ? ", transposable" : ", magnitude") +
                                 (grad == SparseWeightGrad::dense ? ", dense dW" : ", kept dW");
        expect_equals_dense(sp, dense, mask, grad, transposable, what);
      }
    }
  }
}

TEST(NnSparseLinear, AFirstLayerWithoutInputGradientSkipsIt) {
  std::mt19937_64 rng(testing::test_seed("NnSparseLinear.First", 0x24d));
  Model model;
  auto& lin = static_cast<Linear&>(model.net.add(std::make_unique<Linear>("fc", 8, 4)));
  lin.weight.prunable = true;
  lin.weight.value = integer_tensor({4, 8}, rng, -2, 2);
  lin.weight.mask = testing::mask_24(integer_tensor({4, 8}, rng, 0, 99), false);
  const SparseExecutionScope scope(model, SparseWeightGrad::kept_only);
  const Tensor x = integer_tensor({20, 8}, rng, -2, 2), dy = integer_tensor({20, 4}, rng, -2, 2);
  model.net.input_grad = true;
  model.net.forward(x, true);
  EXPECT_EQ(model.net.backward(dy).shape, x.shape);
  model.net.input_grad = false;  // as make_model sets it
  model.net.forward(x, true);
  EXPECT_TRUE(model.net.backward(dy).data.empty());
  EXPECT_TRUE(scope.status().at(0).sparse_forward);
}

TEST(NnSparseLinear, LayersWithoutA24MaskRunDense) {
  std::mt19937_64 rng(testing::test_seed("NnSparseLinear.Fallback", 0x24c));
  const std::size_t in = 16, out = 8, n = 5;
  const Tensor w = integer_tensor({out, in}, rng, -4, 4), x = integer_tensor({n, in}, rng, -4, 4);
  const Tensor dy = integer_tensor({n, out}, rng, -3, 3);
  std::vector<std::uint8_t> three_of_four(in * out, 1);  // 3:4 kept: not 2:4
  for (std::size_t i = 0; i < three_of_four.size(); i += 4) three_of_four[i] = 0;
  // Empty, not 2:4, and a 2:4 mask at a batch of 5 (<= 16 columns: the small-N kernel's order
  // depends on the instruction set, so training keeps such products dense).
  const auto two_of_four = testing::mask_24(integer_tensor({out, in}, rng, 0, 99), false);
  for (const auto& mask : {std::vector<std::uint8_t>{}, three_of_four, two_of_four}) {
    const LayerRun dense = run_linear(w.data, mask, in, out, x, dy, false, SparseWeightGrad::kept_only);
    const LayerRun sp = run_linear(w.data, mask, in, out, x, dy, true, SparseWeightGrad::kept_only);
    EXPECT_FALSE(sp.status.sparse_forward);
    EXPECT_TRUE(testing::same_bits(sp.y, dense.y));
    EXPECT_TRUE(testing::same_bits(sp.dx, dense.dx));
    EXPECT_TRUE(testing::same_bits(sp.dw, dense.dw));
  }
}

TrainConfig small_run(Workflow w, const std::string& model = "mlp") {
  TrainConfig c;
  c.model = model;
  c.workflow = w;
  c.epochs = 2;
  c.batch_size = 32;
  c.optimizer.lr = 0.05f;
  c.threads = 1;
  return c;
}

TEST(NnSparseTraining, RetrainingOnThe24KernelsIsDeterministicAndLearnsLikeDense) {
  const auto data = testing::synthetic_dataset(600, 31);
  const auto test = testing::synthetic_dataset(300, 32);
  for (Workflow w : {Workflow::asp, Workflow::srste}) {
    TrainConfig c = small_run(w);
    std::vector<std::string> log;
    TrainHooks hooks;
    hooks.log = [&](const std::string& line) { log.push_back(line); };
    const auto a = train(c, data, test, {}, hooks);
    const auto b = train(c, data, test);
    for (std::size_t i = 0; i < a.history.size(); ++i) EXPECT_EQ(a.history[i].train_loss, b.history[i].train_loss);
    EXPECT_EQ(a.final_accuracy, b.final_accuracy);
    bool logged = false;
    for (const auto& l : log) logged |= l.find("fc1 (forward 2:4") != std::string::npos;
    EXPECT_TRUE(logged) << to_string(w);
    for (const auto& layer : a.layers) EXPECT_TRUE(!layer.pruned || layer.is_2_4) << layer.name;

    c.sparse_kernels = false;
    const auto d = train(c, data, test);
    EXPECT_NE(config_json(c), config_json(small_run(w)));
    // The summation order differs, so the bits may; what is learned may not.
    EXPECT_NEAR(a.final_accuracy, d.final_accuracy, 0.05) << to_string(w);
    EXPECT_GT(a.final_accuracy, 0.5) << to_string(w);
  }
}

TEST(NnSparseTraining, CnnRetrainingRunsItsConvolutionsOnThe24Kernels) {
  const auto data = testing::synthetic_dataset(256, 33);
  const auto test = testing::synthetic_dataset(128, 34);
  TrainConfig c = small_run(Workflow::asp, "cnn");
  c.epochs = 1;
  std::vector<std::string> log;
  TrainHooks hooks;
  hooks.log = [&](const std::string& line) { log.push_back(line); };
  const auto a = train(c, data, test, {}, hooks);
  const auto b = train(c, data, test);
  EXPECT_EQ(a.history.back().train_loss, b.history.back().train_loss);
  std::string line;
  for (const auto& l : log)
    if (l.find("2:4 kernels:") != std::string::npos) line = l;
  for (const char* name : {"conv2 (forward 2:4", "conv3 (forward 2:4", "fc1 (forward 2:4"})
    EXPECT_NE(line.find(name), std::string::npos) << line;
  for (const auto& layer : a.layers) EXPECT_TRUE(!layer.pruned || layer.is_2_4) << layer.name;
  c.sparse_kernels = false;
  const auto d = train(c, data, test);
  EXPECT_NEAR(a.history.back().train_loss, d.history.back().train_loss, 0.05 * d.history.back().train_loss);
}

}  // namespace
}  // namespace twofour::nn
