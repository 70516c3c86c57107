// Random, Wanda and Taylor criteria (docs/pruning-methods.md): each is a score plus the shared N:M selection.
#include "lib/prune/prune_data_support.hpp"
#include "support/seed.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/metrics.hpp"
#include "twofour/prune/random_criterion.hpp"
#include "twofour/prune/taylor.hpp"
#include "twofour/prune/wanda.hpp"
#include "twofour/sparse/mask.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace twofour::prune {
namespace {

using sparse::GroupedShape;
using sparse::NMPattern;

const std::vector<std::size_t> kShape = {16, 32};

TEST(Wanda, EqualsMagnitudeWhenAllNormsAreEqual) {
  const auto seed = testing::test_seed("Wanda.EqualsMagnitude", 11);
  const GroupedShape shape(kShape);
  const auto w = testing::gaussian(shape.numel(), seed);
  for (float norm : {1.0f, 0.37f, 12.5f}) {
    const std::vector<float> norms(shape.in(), norm);
    for (NMPattern p : {NMPattern{2, 4}, NMPattern{1, 4}, NMPattern{4, 8}})
      EXPECT_EQ(sparse::nm_mask(wanda_scores(w, shape, norms), shape, p), sparse::nm_magnitude_mask(w, shape, p));
  }
}

TEST(Wanda, NormsComeFromTheCalibrationColumns) {
  // Feature j of every sample is j+1, so ||X_j|| = (j+1) * sqrt(samples).
  const std::size_t samples = 9, in = 4;
  std::vector<float> x(samples * in);
  for (std::size_t s = 0; s < samples; ++s)
    for (std::size_t j = 0; j < in; ++j) x[s * in + j] = static_cast<float>(j + 1) * (s % 2 ? -1.0f : 1.0f);
  const auto norms = activation_norms({x, samples, in});
  for (std::size_t j = 0; j < in; ++j) EXPECT_FLOAT_EQ(norms[j], static_cast<float>(j + 1) * 3.0f);
  // A smaller weight on a much larger input wins: |0.5 * 4| > |1.0 * 1|.
  const std::vector<float> w = {1.0f, 0.9f, 0.1f, 0.5f};
  const std::vector<std::size_t> shape = {1, 4};
  const auto mask = sparse::nm_mask(wanda_scores(w, GroupedShape(shape), norms), GroupedShape(shape), {2, 4});
  EXPECT_EQ(mask, (sparse::Mask{0, 1, 0, 1}));  // scores 3, 5.4, 0.9, 6
}

TEST(Wanda, ConvolutionUsesOneNormPerInputChannel) {
  const std::vector<std::size_t> shape = {2, 4, 3, 3};
  const GroupedShape g(shape);
  const auto w = testing::gaussian(g.numel(), 5);
  const std::vector<float> norms = {1.0f, 2.0f, 3.0f, 4.0f};
  const auto s = wanda_scores(w, g, norms);
  for (std::size_t r = 0; r < g.rows(); ++r)
    for (std::size_t c = 0; c < g.in(); ++c)
      EXPECT_FLOAT_EQ(s[g.offset(r, c)], std::fabs(w[g.offset(r, c)]) * norms[c]);
}

TEST(Taylor, RanksByAbsoluteWeightTimesGradient) {
  // Large weights with tiny gradients lose to small weights with large gradients.
  const std::vector<float> w = {4.0f, -3.0f, 0.5f, -0.25f, 1.0f, 2.0f, -1.0f, 0.1f};
  const std::vector<float> g = {0.01f, 0.0f, -4.0f, 8.0f, 1.0f, -0.2f, 0.3f, 50.0f};
  const std::vector<std::size_t> shape = {2, 4};
  const GroupedShape gs(shape);
  const auto s = taylor_scores(w, g);
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_FLOAT_EQ(s[i], std::fabs(w[i] * g[i]));
  EXPECT_EQ(sparse::nm_mask(s, gs, {2, 4}), (sparse::Mask{0, 0, 1, 1, 1, 0, 0, 1}));
  // Magnitude would keep the opposite (ties: the earlier of 1.0 / -1.0).
  EXPECT_EQ(sparse::nm_magnitude_mask(w, gs, {2, 4}), (sparse::Mask{1, 1, 0, 0, 1, 1, 0, 0}));
}

TEST(Taylor, AccumulatorAveragesBatches) {
  GradientAccumulator acc(3);
  acc.add(std::vector<float>{1.0f, -2.0f, 0.0f});
  acc.add(std::vector<float>{3.0f, 2.0f, 1.0f});
  EXPECT_EQ(acc.batches(), 2u);
  EXPECT_EQ(acc.mean(), (std::vector<float>{2.0f, 0.0f, 0.5f}));
  EXPECT_THROW(acc.add(std::vector<float>{1.0f}), std::invalid_argument);
  EXPECT_THROW(GradientAccumulator(2).mean(), std::logic_error);
}

TEST(Random, SeededDeterministicAndNM) {
  const auto seed = testing::test_seed("Random.Seeded", 3);
  const GroupedShape shape(kShape);
  const auto a = random_scores(shape.numel(), seed);
  EXPECT_EQ(a, random_scores(shape.numel(), seed));
  EXPECT_NE(a, random_scores(shape.numel(), seed + 1));
  // The definition: the top 24 bits of std::mt19937_64 (a sequence the standard fixes).
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(a[i], static_cast<float>(rng() >> 40));
  for (NMPattern p : {NMPattern{2, 4}, NMPattern{1, 4}, NMPattern{3, 8}}) {
    const auto mask = sparse::nm_mask(a, shape, p);
    std::size_t kept = 0;
    for (auto v : mask) kept += v;
    EXPECT_EQ(kept, shape.numel() / static_cast<std::size_t>(p.m) * static_cast<std::size_t>(p.n));
    EXPECT_TRUE(sparse::check_nm(mask, shape, p).ok);
  }
  // Roughly uniform: each position of a 2:4 group is kept about half the time.
  const std::vector<std::size_t> big = {256, 256};
  const auto mask = sparse::nm_mask(random_scores(256 * 256, seed), GroupedShape(big), {2, 4});
  for (std::size_t t = 0; t < 4; ++t) {
    double kept = 0;
    for (std::size_t i = t; i < mask.size(); i += 4) kept += mask[i];
    EXPECT_NEAR(kept / (256.0 * 64.0), 0.5, 0.02) << "position " << t;
  }
}

TEST(Registry, ScoreCriteriaRunThroughPruneNM) {
  for (const char* name : {"magnitude", "random", "wanda", "taylor", "sparsegpt"})
    EXPECT_NE(find_criterion(name), nullptr) << name;
  const GroupedShape shape(kShape);
  const auto w = testing::gaussian(shape.numel(), 21);
  const auto x = testing::correlated_activations(64, shape.in(), 22);
  const auto norms = activation_norms({x, 64, shape.in()});
  const auto g = testing::gaussian(shape.numel(), 23);

  PruneSpec spec;
  spec.criterion = "wanda";
  CriterionInputs in;
  in.input_norms = norms;
  EXPECT_EQ(prune_nm(w, kShape, spec, in).mask, sparse::nm_mask(wanda_scores(w, shape, norms), shape, {2, 4}));
  spec.criterion = "taylor";
  in.gradients = g;
  EXPECT_EQ(prune_nm(w, kShape, spec, in).mask, sparse::nm_mask(taylor_scores(w, g), shape, {2, 4}));
  spec.criterion = "random";
  in.seed = 99;
  EXPECT_EQ(prune_nm(w, kShape, spec, in).mask, sparse::nm_mask(random_scores(w.size(), 99), shape, {2, 4}));

  // Missing data: clear errors naming what is needed.
  spec.criterion = "wanda";
  try {
    prune_nm(w, kShape, spec, {});
    FAIL() << "wanda without norms must throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("calibration"), std::string::npos) << e.what();
  }
  spec.criterion = "taylor";
  EXPECT_THROW(prune_nm(w, kShape, spec, {}), std::invalid_argument);
  spec.criterion = "sparsegpt";
  EXPECT_THROW(prune_nm(w, kShape, spec, in), std::invalid_argument);
}

TEST(BadInputs, ClearErrors) {
  const GroupedShape shape(kShape);
  const auto w = testing::gaussian(shape.numel(), 1);
  // Calibration columns != weight inputs.
  const auto x = testing::correlated_activations(8, shape.in() + 4, 2);
  try {
    validate_activations({x, 8, shape.in() + 4}, shape.in(), "calibration activations");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("36 features"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("32 input channels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(wanda_scores(w, shape, activation_norms({x, 8, shape.in() + 4})), std::invalid_argument);
  // NaN in calibration data names the sample and feature.
  auto bad = testing::correlated_activations(8, shape.in(), 2);
  bad[3 * shape.in() + 7] = std::numeric_limits<float>::quiet_NaN();
  try {
    activation_norms({bad, 8, shape.in()});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("NaN at sample 3, feature 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(activation_norms({bad, 7, shape.in()}), std::invalid_argument);  // size mismatch
  EXPECT_THROW(activation_norms({{}, 0, shape.in()}), std::invalid_argument);   // empty
  // Norms and gradients of the wrong size or value.
  EXPECT_THROW(wanda_scores(w, shape, std::vector<float>(shape.in() - 1, 1.0f)), std::invalid_argument);
  EXPECT_THROW(wanda_scores(w, shape, std::vector<float>(shape.in(), -1.0f)), std::invalid_argument);
  EXPECT_THROW(taylor_scores(w, std::vector<float>(w.size() - 1, 1.0f)), std::invalid_argument);
  auto g = std::vector<float>(w.size(), 1.0f);
  g[5] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(taylor_scores(w, g), std::invalid_argument);
}

TEST(Metrics, ReconstructionErrorEndpoints) {
  const GroupedShape shape(kShape);
  const auto w = testing::gaussian(shape.numel(), 4);
  const auto x = testing::correlated_activations(40, shape.in(), 5);
  const Activations xs{x, 40, shape.in()};
  EXPECT_DOUBLE_EQ(reconstruction_error(w, w, kShape, xs), 0.0);
  EXPECT_NEAR(reconstruction_error(w, std::vector<float>(w.size(), 0.0f), kShape, xs), 1.0, 1e-12);
  std::vector<float> half(w);
  for (auto& v : half) v *= 0.5f;
  EXPECT_NEAR(reconstruction_error(w, half, kShape, xs), 0.5, 1e-9);
  const auto mask = sparse::nm_magnitude_mask(w, shape, {2, 4});
  std::vector<float> pruned(w);
  sparse::apply_mask(pruned, mask);
  const auto m = evaluate_pruning(w, pruned, mask, kShape, &xs);
  EXPECT_DOUBLE_EQ(m.kept_l1, sparse::kept_l1_fraction(w, mask));
  EXPECT_GT(m.reconstruction_error, 0.0);
  EXPECT_LT(m.reconstruction_error, 1.0);
  EXPECT_LT(evaluate_pruning(w, pruned, mask, kShape, nullptr).reconstruction_error, 0.0);
  const std::vector<std::size_t> conv = {4, 8, 1, 4};
  EXPECT_THROW(reconstruction_error(w, w, conv, xs), std::invalid_argument);
  EXPECT_EQ(sample_range(xs, 30, 10).samples, 10u);
  EXPECT_THROW(sample_range(xs, 30, 11), std::invalid_argument);
}

}  // namespace
}  // namespace twofour::prune
