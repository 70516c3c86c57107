// experiments/study building blocks: the masks of the pattern study hit their sparsity, permuted
// masks map back to the original channel order, the conv GEMM view used by SparseGPT reproduces
// the convolution, and each criterion leaves every target 2:4 with pruned weights at zero.
#include "twofour/nn/layer_data.hpp"
#include "study/masks.hpp"
#include "study/study.hpp"
#include "twofour/nn/models.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/model_prune.hpp"
#include "twofour/prune/permutation.hpp"
#include "twofour/sparse/mask.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using namespace twofour;
using namespace twofour::experiments;

std::vector<float> gaussian(std::size_t n, std::uint64_t seed) {
  nn::Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

nn::Dataset random_images(std::size_t count, std::uint64_t seed) {
  nn::Dataset d;
  d.rows = d.cols = 28;
  d.images = gaussian(count * 784, seed);
  nn::Rng rng(seed + 1);
  for (std::size_t i = 0; i < count; ++i) d.labels.push_back(static_cast<std::uint8_t>(rng.below(10)));
  return d;
}

double zero_share(const sparse::Mask& m) {
  std::size_t z = 0;
  for (auto v : m) z += v == 0;
  return static_cast<double>(z) / static_cast<double>(m.size());
}

TEST(StudyMasks, PatternsHitTheirSparsity) {
  const std::vector<std::size_t> shape = {32, 64};
  const auto w = gaussian(32 * 64, 1);
  for (double s : {0.5, 0.75, 0.875}) {
    for (const auto& [family, rows, cols] : {std::tuple{"unstructured", 1, 1}, {"block", 1, 4}, {"block", 4, 4}, {"channel", 1, 1}}) {
      PatternSpec p;
      p.family = family;
      p.sparsity = s;
      p.block_rows = static_cast<std::size_t>(rows);
      p.block_cols = static_cast<std::size_t>(cols);
      EXPECT_NEAR(zero_share(pattern_mask(p, w, shape)), s, 0.02) << family << " " << rows << "x" << cols << " @" << s;
    }
  }
  for (auto [n, m] : {std::pair{1, 2}, {2, 4}, {4, 8}, {8, 16}, {1, 4}, {2, 8}, {1, 8}}) {
    PatternSpec p;
    p.family = "n:m";
    p.nm = {n, m};
    const auto mask = pattern_mask(p, w, shape);
    EXPECT_DOUBLE_EQ(zero_share(mask), 1.0 - static_cast<double>(n) / m);
    EXPECT_TRUE(sparse::check_nm(mask, sparse::GroupedShape(shape), p.nm).ok);
  }
  PatternSpec t;
  t.family = "transposable";
  EXPECT_TRUE(sparse::check_transposable_24(pattern_mask(t, w, shape), sparse::GroupedShape(shape)).ok);
  // M not dividing the channels (mlp fc2 has 300 inputs) pads instead of failing.
  PatternSpec p8;
  p8.family = "n:m";
  p8.nm = {1, 8};
  EXPECT_NO_THROW(pattern_mask(p8, gaussian(4 * 300, 2), std::vector<std::size_t>{4, 300}));
}

TEST(StudyMasks, UnpermutedMaskKeepsThePermutedMagnitude) {
  const std::vector<std::size_t> shape = {16, 32};
  const auto w = gaussian(16 * 32, 3);
  const sparse::GroupedShape g(shape);
  const auto search = prune::search_permutation(w, g, {});
  const auto permuted = prune::permute_input_channels(w, shape, search.permutation);
  const auto mask = prune::unpermute_mask(sparse::nm_magnitude_mask(permuted, g, {2, 4}), shape, search.permutation);
  double kept = 0;
  for (std::size_t i = 0; i < w.size(); ++i) kept += mask[i] ? std::fabs(static_cast<double>(w[i])) : 0.0;
  EXPECT_NEAR(kept, search.kept_permuted, 1e-3 * kept);
  // In the permuted order the mask is 2:4.
  const std::vector<float> mf(mask.begin(), mask.end());
  const auto back = prune::permute_input_channels(mf, shape, search.permutation);
  EXPECT_TRUE(sparse::check_nm(back, g, {2, 4}).ok);
}

TEST(StudyLayers, ConvGemmViewReproducesTheConvolution) {
  auto model = nn::make_model("cnn");
  nn::initialize(*model, 7);
  const auto targets = nn::target_layers(*model);
  ASSERT_EQ(targets.size(), 3u);
  const auto data = random_images(3, 9);
  for (const auto& t : targets) {
    const nn::Tensor x = nn::layer_input(*model, t, data);
    const nn::Tensor y = t.layer->forward(x, false);
    std::size_t samples = 0, features = 0;
    const auto rows = nn::gemm_rows(t, x, samples, features);
    const auto& shape = t.weight->value.shape;
    const auto w = nn::to_krsc(t.weight->value.data, shape);
    EXPECT_EQ(nn::from_krsc(w, shape), t.weight->value.data);
    const std::size_t K = shape[0];
    ASSERT_EQ(samples * K, y.numel());
    const std::size_t spatial = samples / x.dim(0);
    for (std::size_t s = 0; s < samples; s += 37)
      for (std::size_t k = 0; k < K; ++k) {
        double dot = 0;
        for (std::size_t f = 0; f < features; ++f) dot += static_cast<double>(rows[s * features + f]) * static_cast<double>(w[k * features + f]);
        // y is (N, K, H, W) for a conv and (N, K) for a Linear; sample s = (n, position).
        const std::size_t n = s / spatial, pos = s % spatial;
        EXPECT_NEAR(dot, y.data[(n * K + k) * spatial + pos], 1e-3) << t.weight->name;
      }
    EXPECT_DOUBLE_EQ(nn::output_error(t, x, t.weight->value.data), 0.0);
  }
}

TEST(StudyMasks, EveryCriterionLeavesExact24Targets) {
  const auto calib = random_images(24, 11);
  for (const char* kind : {"mlp", "cnn"}) {
    auto dense = nn::make_model(kind);
    nn::initialize(*dense, 5);
    for (const auto& criterion : prune::criteria()) {
      const std::string& c = criterion.name;
      auto m = nn::clone_model(*dense);
      prune::ModelPruneOptions options;
      options.seed = 1;
      options.time_limit_seconds = 0.2;
      prune::prune_model(*m, c, calib, options);
      for (auto* p : m->pruned_parameters()) {
        ASSERT_EQ(p->mask.size(), p->value.numel()) << kind << " " << c;
        for (std::size_t i = 0; i < p->mask.size(); ++i)
          if (!p->mask[i]) {
            ASSERT_EQ(p->value.data[i], 0.0f) << kind << " " << c << " " << p->name;
          }
        if (c != "magnitude+permutation") {
          EXPECT_TRUE(sparse::check_nm(p->mask, sparse::GroupedShape(p->value.shape), {2, 4}).ok) << kind << " " << c;
        }
      }
      // SparseGPT also zeroes the weights of inputs that are always 0 on the calibration data (dead
      // ReLUs of this untrained net), as its reference code does, so it may exceed 50%.
      if (c == "sparsegpt") {
        EXPECT_GE(prune::target_sparsity(*m), 0.5 - 1e-9) << kind;
      } else {
        EXPECT_NEAR(prune::target_sparsity(*m), 0.5, 1e-9) << kind << " " << c;
      }
    }
  }
  auto m = nn::make_model("mlp");
  EXPECT_THROW(prune::prune_model(*m, "nonsense", calib), std::invalid_argument);
}

TEST(Study, UnknownNamesAndBadOptionsThrow) {
  StudyOptions o;
  o.out = "/tmp/unused";
  EXPECT_THROW(run_study("nonsense", o), std::invalid_argument);
  o.models = {"resnet"};
  EXPECT_THROW(run_study("mask-quality", o), std::invalid_argument);
  StudyOptions no_out;
  EXPECT_THROW(run_study("mask-quality", no_out), std::invalid_argument);
  EXPECT_EQ(study_names().size(), 4u);
}

}  // namespace
