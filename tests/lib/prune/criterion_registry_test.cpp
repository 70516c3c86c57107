// The criterion registry: every file in lib/src/prune/criteria/ is registered in this statically
// linked test program (nothing calls a registration function), declarations match what each
// criterion reads, SparseGPT runs through prune_nm exactly as sparsegpt_prune, and run-time
// registration works.
#include "lib/prune/prune_data_support.hpp"
#include "support/paths.hpp"
#include "support/seed.hpp"
#include "twofour/nn/conv_gemm.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/prune/sparsegpt.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <stdexcept>

namespace twofour::prune {
namespace {

TEST(CriterionRegistry, EveryCriterionFileSurvivesStaticLinking) {
  const std::filesystem::path folder = std::filesystem::path(testing::test_data_dir()) / ".." / ".." / "lib" / "src" /
                                       "prune" / "criteria";
  ASSERT_TRUE(std::filesystem::is_directory(folder)) << folder;
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    if (entry.path().extension() == ".cpp") ++files;
  EXPECT_GE(criteria().size(), files);
  EXPECT_GE(files, 6u);
  std::set<std::string> names;
  for (const auto& c : criteria()) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate " << c.name;
    EXPECT_NE(static_cast<bool>(c.score), static_cast<bool>(c.prune)) << c.name;
    EXPECT_FALSE(c.summary.empty()) << c.name;
  }
  for (const char* name : {"magnitude", "random", "wanda", "sparsegpt", "taylor", "magnitude+permutation"})
    EXPECT_NE(find_criterion(name), nullptr) << name;
}

TEST(CriterionRegistry, ListedInReportOrder) {
  std::vector<std::string> order;
  for (const auto& c : criteria()) order.push_back(c.name);
  const std::vector<std::string> expected = {"magnitude", "random", "wanda", "sparsegpt", "taylor", "magnitude+permutation"};
  ASSERT_GE(order.size(), expected.size());
  EXPECT_EQ(std::vector<std::string>(order.begin(), order.begin() + 6), expected);
  EXPECT_EQ(criterion_names().rfind("magnitude, random, wanda, sparsegpt, taylor", 0), 0u) << criterion_names();
}

TEST(CriterionRegistry, DeclaredInputsAndWeightUpdates) {
  EXPECT_FALSE(find_criterion("magnitude")->needs.calibration);
  EXPECT_TRUE(find_criterion("random")->needs.seed);
  EXPECT_TRUE(find_criterion("wanda")->needs.calibration);
  EXPECT_TRUE(find_criterion("taylor")->needs.gradients);
  EXPECT_TRUE(find_criterion("sparsegpt")->needs.calibration);
  for (const auto& c : criteria()) EXPECT_EQ(c.updates_weights, c.name == "sparsegpt") << c.name;
}

TEST(CriterionRegistry, SparseGptThroughTheRegistryEqualsSparseGptPrune) {
  const auto seed = testing::test_seed("CriterionRegistry.SparseGpt", 31);
  const std::vector<std::size_t> shape = {8, 32};
  const auto w = testing::gaussian(8 * 32, seed);
  const auto x = testing::correlated_activations(64, 32, seed + 1);
  CriterionInputs in;
  in.calibration = {x, 64, 32};
  in.block_size = 16;
  PruneSpec spec;
  spec.criterion = "sparsegpt";
  const PruneResult r = prune_nm(w, shape, spec, in);
  SparseGPTOptions options;
  options.block_size = 16;
  const SparseGPTResult direct = sparsegpt_prune(w, shape, Activations{x, 64, 32}, options);
  EXPECT_EQ(r.mask, direct.mask);
  EXPECT_EQ(r.pruned, direct.weights);
  EXPECT_DOUBLE_EQ(r.kept_l1, sparse::kept_l1_fraction(w, direct.mask));
  spec.transposable = true;
  EXPECT_THROW(prune_nm(w, shape, spec, in), std::invalid_argument);
}

TEST(CriterionRegistry, SparseGptOnAConvolutionUsesTheChannelInnermostView) {
  const auto seed = testing::test_seed("CriterionRegistry.SparseGptConv", 37);
  const std::vector<std::size_t> shape = {4, 8, 3, 3};  // K, C, R, S
  const auto w = testing::gaussian(4 * 72, seed);
  const auto rows = testing::correlated_activations(96, 72, seed + 1);  // im2col, (r, s, c) features
  CriterionInputs in;
  in.calibration = {rows, 96, 72};
  PruneSpec spec;
  spec.criterion = "sparsegpt";
  const PruneResult r = prune_nm(w, shape, spec, in);
  const std::vector<std::size_t> view = {4, 72};
  const SparseGPTResult direct = sparsegpt_prune(nn::to_krsc(w, shape), view, Activations{rows, 96, 72});
  EXPECT_EQ(r.pruned, nn::from_krsc(direct.weights, shape));
  // 2:4 along input channels in the weight's own (K, C, R, S) order.
  EXPECT_TRUE(sparse::check_nm(r.mask, sparse::GroupedShape(shape), {2, 4}).ok);
}

TEST(CriterionRegistry, RunTimeRegistrationAndBadEntries) {
  Criterion c;
  c.name = "test-smallest";
  c.summary = "keeps the smallest weights (test only)";
  c.listing_order = 1000;
  c.score = [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs&) {
    std::vector<float> s(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) s[i] = -std::fabs(w[i]);
    return s;
  };
  register_criterion(c);
  EXPECT_EQ(criteria().back().name, "test-smallest");
  const std::vector<float> w = {1, 2, 3, 4};
  const std::vector<std::size_t> shape = {1, 4};
  PruneSpec spec;
  spec.criterion = "test-smallest";
  EXPECT_EQ(prune_nm(w, shape, spec).mask, (sparse::Mask{1, 1, 0, 0}));
  Criterion neither;
  neither.name = "broken";
  EXPECT_THROW(register_criterion(neither), std::invalid_argument);
  spec.criterion = "no-such";
  EXPECT_THROW(prune_nm(w, shape, spec), std::invalid_argument);
}

}  // namespace
}  // namespace twofour::prune
