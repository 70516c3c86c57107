// Channel permutations (Pool & Yu 2021): search efficacy, time bound, and that applying a
// permutation to a layer and its producer leaves the network function unchanged.
#include "lib/prune/prune_data_support.hpp"
#include "support/seed.hpp"
#include "twofour/prune/baselines.hpp"
#include "twofour/prune/permutation.hpp"
#include "twofour/sparse/mask.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace twofour::prune {
namespace {

using sparse::GroupedShape;

// y = W2 relu(W1 x + b1) + b2 for one input x.
std::vector<float> two_layer(const std::vector<float>& w1, const std::vector<float>& b1, const std::vector<float>& w2,
                             const std::vector<float>& b2, const std::vector<float>& x, std::size_t in,
                             std::size_t hidden, std::size_t out) {
  std::vector<float> h(hidden), y(out);
  for (std::size_t j = 0; j < hidden; ++j) {
    double s = b1[j];
    for (std::size_t i = 0; i < in; ++i) s += static_cast<double>(w1[j * in + i]) * static_cast<double>(x[i]);
    h[j] = static_cast<float>(std::max(0.0, s));
  }
  for (std::size_t k = 0; k < out; ++k) {
    double s = b2[k];
    for (std::size_t j = 0; j < hidden; ++j) s += static_cast<double>(w2[k * hidden + j]) * static_cast<double>(h[j]);
    y[k] = static_cast<float>(s);
  }
  return y;
}

TEST(Permutation, PreservesTheFunctionOfATwoLayerNetwork) {
  const auto seed = testing::test_seed("Permutation.PreservesFunction", 17);
  const std::size_t in = 12, hidden = 32, out = 16;
  const auto w1 = testing::gaussian(hidden * in, seed);
  const auto b1 = testing::gaussian(hidden, seed + 1);
  const auto w2 = testing::gaussian(out * hidden, seed + 2);
  const auto b2 = testing::gaussian(out, seed + 3);
  const std::vector<std::size_t> s1 = {hidden, in}, s2 = {out, hidden};

  PermutationOptions opt;
  opt.seed = seed;
  const auto r = search_permutation(w2, GroupedShape(s2), opt);
  ASSERT_NO_THROW(validate_permutation(r.permutation, hidden));
  ASSERT_GT(r.kept_permuted, r.kept_default);  // a non-trivial permutation was found
  ASSERT_FALSE(std::is_sorted(r.permutation.begin(), r.permutation.end()));

  // The consumer's input channels and the producer's output channels (weights and bias) move together.
  const auto w2p = permute_input_channels(w2, s2, r.permutation);
  const auto w1p = permute_output_channels(w1, s1, r.permutation);
  const auto b1p = permute_vector(b1, r.permutation);
  EXPECT_NEAR(nm_kept_magnitude(w2p, GroupedShape(s2), {2, 4}), r.kept_permuted, 1e-9);

  // The pruned networks agree too: pruning W2' is pruning W2 with the mask mapped back.
  auto w2p_pruned = w2p;
  sparse::apply_mask(w2p_pruned, sparse::nm_magnitude_mask(w2p, GroupedShape(s2), {2, 4}));
  const auto w2_pruned_equiv = permute_input_channels(w2p_pruned, s2, invert_permutation(r.permutation));

  for (std::uint64_t t = 0; t < 20; ++t) {
    const auto x = testing::gaussian(in, 1000 + t);
    const auto y = two_layer(w1, b1, w2, b2, x, in, hidden, out);
    const auto yp = two_layer(w1p, b1p, w2p, b2, x, in, hidden, out);
    const auto yq = two_layer(w1p, b1p, w2p_pruned, b2, x, in, hidden, out);
    const auto yq0 = two_layer(w1, b1, w2_pruned_equiv, b2, x, in, hidden, out);
    for (std::size_t k = 0; k < out; ++k) {
      EXPECT_NEAR(yp[k], y[k], 1e-5f * (1.0f + std::fabs(y[k])));
      EXPECT_NEAR(yq[k], yq0[k], 1e-5f * (1.0f + std::fabs(yq0[k])));
    }
  }
}

TEST(Permutation, EfficacyOnRandom64x128AtLeast30Percent) {
  const auto seed = testing::test_seed("Permutation.Efficacy", 1);
  const std::vector<std::size_t> shape = {64, 128};
  for (std::uint64_t s = seed; s < seed + 4; ++s) {
    const auto w = testing::gaussian(64 * 128, s);
    PermutationOptions opt;
    opt.seed = s;
    opt.time_limit_seconds = 120;  // a quality test: ~0.3 s release, ~5 s under sanitizers
    const auto r = search_permutation(w, GroupedShape(shape), opt);
    std::printf("[ efficacy ] seed %llu: %.1f%% (kept %.1f -> %.1f, bound %.1f, total %.1f) in %.3f s, %zu steps, "
                "%zu escapes%s\n",
                static_cast<unsigned long long>(s), 100 * r.efficacy, r.kept_default, r.kept_permuted, r.kept_bound,
                r.total_l1, r.seconds, r.improvements, r.escapes, r.timed_out ? " (timed out)" : "");
    EXPECT_GE(r.efficacy, 0.42);  // 48.7-53.8% measured for seeds 1-4; the published search: 35-37%
    EXPECT_EQ(r.method, PermutationMethod::stripe_groups);  // narrow layers keep the stripe-group search
    EXPECT_FALSE(r.timed_out);
    EXPECT_NO_THROW(validate_permutation(r.permutation, 128));
    // Cross-check the reported figures with the library's own mask code.
    const auto wp = permute_input_channels(w, shape, r.permutation);
    const auto mask = sparse::nm_magnitude_mask(wp, GroupedShape(shape), {2, 4});
    EXPECT_NEAR(sparse::kept_l1_fraction(wp, mask) * r.total_l1, r.kept_permuted, 1e-6 * r.total_l1);
  }
}

TEST(Permutation, DeterministicForASeed) {
  const std::vector<std::size_t> shape = {32, 64};
  const auto w = testing::gaussian(32 * 64, 77);
  PermutationOptions opt;
  opt.seed = 5;
  opt.escape_attempts = 20;
  EXPECT_EQ(search_permutation(w, GroupedShape(shape), opt).permutation,
            search_permutation(w, GroupedShape(shape), opt).permutation);
}

TEST(Permutation, TimeBoundIsHonoured) {
  const std::vector<std::size_t> shape = {64, 512};
  const auto w = testing::gaussian(64 * 512, 3);
  PermutationOptions opt;
  opt.time_limit_seconds = 0.05;
  const auto r = search_permutation(w, GroupedShape(shape), opt);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.seconds, 1.0);
  EXPECT_NO_THROW(validate_permutation(r.permutation, 512));
  EXPECT_GE(r.kept_permuted, r.kept_default);
  opt.time_limit_seconds = 0;
  const auto z = search_permutation(w, GroupedShape(shape), opt);
  EXPECT_TRUE(z.timed_out);
  EXPECT_EQ(z.kept_permuted, z.kept_default);
}

TEST(Permutation, ThreeStripeGroupsAndOtherPatterns) {
  const std::vector<std::size_t> shape = {32, 48};
  const auto w = testing::gaussian(32 * 48, 8);
  PermutationOptions opt;
  opt.stripes_per_group = 3;
  opt.escape_attempts = 10;
  const auto r3 = search_permutation(w, GroupedShape(shape), opt);
  EXPECT_GT(r3.efficacy, 0.2);
  opt.stripes_per_group = 2;
  opt.pattern = {4, 8};
  opt.escape_attempts = 0;  // 4:8 pairs have C(16,8)/2 = 6435 re-partitions: keep the test small
  const std::vector<std::size_t> small = {8, 32};
  const auto w48 = testing::gaussian(8 * 32, 9);
  const auto r48 = search_permutation(w48, GroupedShape(small), opt);
  EXPECT_FALSE(r48.timed_out);
  EXPECT_GT(r48.kept_permuted, r48.kept_default);
  EXPECT_LE(r48.kept_permuted, r48.kept_bound + 1e-9);
  opt.pattern = {1, 4};
  opt.escape_attempts = 10;
  const auto r14 = search_permutation(w, GroupedShape(shape), opt);
  EXPECT_GT(r14.efficacy, 0.2);
}

TEST(Permutation, ConvolutionPermutesChannelsAtEveryKernelPosition) {
  const std::vector<std::size_t> shape = {4, 8, 3, 3};
  const GroupedShape g(shape);
  const auto w = testing::gaussian(g.numel(), 12);
  const auto r = search_permutation(w, g);
  const auto wp = permute_input_channels(w, shape, r.permutation);
  for (std::size_t row = 0; row < g.rows(); ++row)
    for (std::size_t c = 0; c < g.in(); ++c)
      EXPECT_EQ(wp[g.offset(row, c)], w[g.offset(row, static_cast<std::size_t>(r.permutation[c]))]);
  EXPECT_NEAR(nm_kept_magnitude(wp, g, {2, 4}), r.kept_permuted, 1e-9);
}

TEST(Permutation, MagnitudesAgreeWithTheMaskLibrary) {
  const std::vector<std::size_t> shape = {16, 32};
  const GroupedShape g(shape);
  const auto w = testing::gaussian(g.numel(), 2);
  double total = 0;
  for (float v : w) total += std::fabs(static_cast<double>(v));
  EXPECT_NEAR(nm_kept_magnitude(w, g, {2, 4}), sparse::kept_l1_fraction(w, sparse::nm_magnitude_mask(w, g, {2, 4})) * total,
              1e-9 * total);
  EXPECT_GE(per_row_bound_magnitude(w, g, {2, 4}), nm_kept_magnitude(w, g, {2, 4}));
  std::vector<float> mag(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) mag[i] = std::fabs(w[i]);
  EXPECT_NEAR(per_row_bound_magnitude(w, g, {2, 4}),
              sparse::kept_l1_fraction(w, per_row_unstructured_mask(mag, g, 0.5)) * total, 1e-9 * total);
}

TEST(Permutation, BadInputs) {
  const std::vector<std::size_t> shape = {8, 10};
  const auto w = testing::gaussian(80, 1);
  EXPECT_THROW(search_permutation(w, GroupedShape(shape)), std::invalid_argument);  // 10 % 4 != 0
  const std::vector<std::size_t> ok = {8, 16};
  auto nan_w = testing::gaussian(128, 1);
  nan_w[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(search_permutation(nan_w, GroupedShape(ok)), std::invalid_argument);
  PermutationOptions opt;
  opt.stripes_per_group = 4;
  EXPECT_THROW(search_permutation(testing::gaussian(128, 1), GroupedShape(ok), opt), std::invalid_argument);
  const std::vector<std::int64_t> dup = {0, 1, 1, 3};
  EXPECT_THROW(validate_permutation(dup, 4), std::invalid_argument);
  const std::vector<std::int64_t> neg = {0, -1, 2, 3};
  EXPECT_THROW(validate_permutation(neg, 4), std::invalid_argument);
  EXPECT_THROW(permute_input_channels(testing::gaussian(128, 1), ok, dup), std::invalid_argument);
  // One stripe: nothing to permute.
  const std::vector<std::size_t> one = {8, 4};
  const auto r = search_permutation(testing::gaussian(32, 1), GroupedShape(one));
  EXPECT_EQ(r.permutation, (std::vector<std::int64_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace twofour::prune
