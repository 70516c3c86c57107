// SparseGPT for N:M (Frantar & Alistarh 2023): selection by w^2/[H^-1]_cc^2 plus OBS updates.
#include "lib/prune/prune_data_support.hpp"
#include "support/seed.hpp"
#include "twofour/prune/metrics.hpp"
#include "twofour/prune/sparsegpt.hpp"
#include "twofour/prune/wanda.hpp"
#include "twofour/sparse/mask.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace twofour::prune {
namespace {

using sparse::GroupedShape;

struct Problem {
  std::vector<std::size_t> shape;
  std::vector<float> w, x;
  Activations calib, heldout;
};

Problem make_problem(std::uint64_t seed, std::size_t out = 32, std::size_t in = 64, std::size_t calib = 512,
                     std::size_t held = 256) {
  Problem p;
  p.shape = {out, in};
  p.w = testing::gaussian(out * in, seed);
  p.x = testing::correlated_activations(calib + held, in, seed + 1);
  const Activations all{p.x, calib + held, in};
  p.calib = sample_range(all, 0, calib);
  p.heldout = sample_range(all, calib, held);
  return p;
}

double error_of_mask(const Problem& p, const sparse::Mask& mask) {
  std::vector<float> pruned(p.w);
  sparse::apply_mask(pruned, mask);
  return reconstruction_error(p.w, pruned, p.shape, p.heldout);
}

TEST(SparseGPT, BeatsMagnitudeAndWandaOnCorrelatedInputs) {
  const auto seed = testing::test_seed("SparseGPT.BeatsMagnitude", 41);
  for (std::uint64_t s = seed; s < seed + 3; ++s) {
    const Problem p = make_problem(s);
    const GroupedShape g(p.shape);
    const auto result = sparsegpt_prune(p.w, p.shape, p.calib);
    ASSERT_TRUE(sparse::check_nm(result.mask, g, {2, 4}).ok);
    ASSERT_TRUE(sparse::check_nm(result.weights, g, {2, 4}).ok);
    for (std::size_t i = 0; i < result.mask.size(); ++i)
      if (result.mask[i] == 0) {
        ASSERT_EQ(result.weights[i], 0.0f);
      }
    const double e_sgpt = reconstruction_error(p.w, result.weights, p.shape, p.heldout);
    const double e_mag = error_of_mask(p, sparse::nm_magnitude_mask(p.w, g, {2, 4}));
    const double e_wanda = error_of_mask(p, sparse::nm_mask(wanda_scores(p.w, g, activation_norms(p.calib)), g, {2, 4}));
    // The same mask without the OBS update: the update itself must help.
    const double e_mask_only = error_of_mask(p, result.mask);
    std::printf("[ metrics  ] seed %llu: held-out error magnitude %.4f wanda %.4f sparsegpt %.4f (mask only %.4f)\n",
                static_cast<unsigned long long>(s), e_mag, e_wanda, e_sgpt, e_mask_only);
    EXPECT_LT(e_sgpt, 0.8 * e_mag);
    EXPECT_LT(e_sgpt, e_wanda);
    EXPECT_LT(e_sgpt, e_mask_only);
  }
}

TEST(SparseGPT, IdentityHessianIsMagnitudePruning) {
  // H = c I: H^-1 is diagonal, no update reaches another column, and w^2 / U_cc^2 orders like |w|.
  const std::vector<std::size_t> shape = {8, 16};
  const auto w = testing::gaussian(8 * 16, 7);
  std::vector<double> h(16 * 16, 0.0);
  for (std::size_t i = 0; i < 16; ++i) h[i * 16 + i] = 3.0;
  const auto r = sparsegpt_prune_hessian(w, shape, h);
  const auto mask = sparse::nm_magnitude_mask(w, GroupedShape(shape), {2, 4});
  EXPECT_EQ(r.mask, mask);
  std::vector<float> pruned(w);
  sparse::apply_mask(pruned, mask);
  EXPECT_EQ(r.weights, pruned);
}

TEST(SparseGPT, BlockSizeIsOnlyAnImplementationDetail) {
  // Lazy block updates are an exact re-association of the column-by-column algorithm.
  const Problem p = make_problem(testing::test_seed("SparseGPT.BlockSize", 5), 16, 48, 256, 16);
  SparseGPTOptions a, b;
  a.block_size = 4;
  b.block_size = 128;
  const auto ra = sparsegpt_prune(p.w, p.shape, p.calib, a);
  const auto rb = sparsegpt_prune(p.w, p.shape, p.calib, b);
  EXPECT_EQ(ra.mask, rb.mask);
  for (std::size_t i = 0; i < ra.weights.size(); ++i) EXPECT_NEAR(ra.weights[i], rb.weights[i], 1e-4f) << i;
}

TEST(SparseGPT, OtherPatternsAndDeadInputs) {
  Problem p = make_problem(9, 16, 32, 256, 16);
  // Input 5 is never active: its column is zeroed and the Hessian stays factorable.
  std::vector<float> x(p.calib.values.begin(), p.calib.values.end());
  for (std::size_t s = 0; s < p.calib.samples; ++s) x[s * 32 + 5] = 0.0f;
  SparseGPTOptions o;
  o.pattern = {4, 8};
  const auto r = sparsegpt_prune(p.w, p.shape, {x, p.calib.samples, 32}, o);
  EXPECT_TRUE(sparse::check_nm(r.mask, GroupedShape(p.shape), {4, 8}).ok);
  for (std::size_t row = 0; row < 16; ++row) EXPECT_EQ(r.weights[row * 32 + 5], 0.0f);
}

TEST(SparseGPT, BadInputsGiveClearErrors) {
  const Problem p = make_problem(3, 8, 16, 64, 8);
  const auto expect_error = [](auto&& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no exception, expected one mentioning '" << needle << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // X columns != W inputs.
  const auto wide = testing::correlated_activations(64, 20, 1);
  expect_error([&] { sparsegpt_prune(p.w, p.shape, {wide, 64, 20}); }, "20 features");
  // NaN in calibration data.
  std::vector<float> nan_x(p.calib.values.begin(), p.calib.values.end());
  nan_x[2 * 16 + 9] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { sparsegpt_prune(p.w, p.shape, {nan_x, 64, 16}); }, "NaN at sample 2, feature 9");
  const std::vector<std::size_t> conv = {8, 4, 2, 2};
  expect_error([&] { sparsegpt_prune(p.w, conv, p.calib); }, "Linear");
  const std::vector<std::size_t> odd = {8, 16};
  SparseGPTOptions o;
  o.block_size = 6;
  expect_error([&] { sparsegpt_prune(p.w, odd, p.calib, o); }, "block size");
  o.block_size = 128;
  o.damping = -1;
  expect_error([&] { sparsegpt_prune(p.w, odd, p.calib, o); }, "damping");
  const std::vector<std::size_t> not_multiple = {16, 10};
  expect_error([&] { sparsegpt_prune(std::vector<float>(160, 1.0f), not_multiple, {std::vector<float>(10, 1.0f), 1, 10}); },
               "multiple of M");
  std::vector<float> nan_w(p.w);
  nan_w[3] = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { sparsegpt_prune(nan_w, p.shape, p.calib); }, "weight (0, 3) is NaN");
  expect_error([&] { sparsegpt_prune_hessian(p.w, p.shape, std::vector<double>(15, 1.0)); }, "Hessian");
  // All-zero activations with zero damping: H = I after the dead-input rule, so it still works.
  EXPECT_NO_THROW(sparsegpt_prune(p.w, p.shape, {std::vector<float>(64 * 16, 0.0f), 64, 16}));
}

}  // namespace
}  // namespace twofour::prune
