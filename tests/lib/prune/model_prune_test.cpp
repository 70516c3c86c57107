// Model-wide pruning through the registry gives the same masks and weights as the per-criterion
// code the studies ran before (written out below from lib's primitives as the oracle): layer by
// layer, each layer's calibration input taken with the earlier layers already pruned.
#include "lib/prune/prune_data_support.hpp"
#include "support/seed.hpp"
#include "twofour/nn/conv_gemm.hpp"
#include "twofour/nn/layer_data.hpp"
#include "twofour/nn/models.hpp"
#include "twofour/prune/model_prune.hpp"
#include "twofour/prune/random_criterion.hpp"
#include "twofour/prune/sparsegpt.hpp"
#include "twofour/prune/taylor.hpp"
#include "twofour/prune/wanda.hpp"

#include <gtest/gtest.h>

namespace twofour::prune {
namespace {

nn::Dataset random_images(std::size_t count, std::uint64_t seed) {
  nn::Dataset d;
  d.rows = d.cols = 28;
  d.images = testing::gaussian(count * 784, seed);
  for (std::size_t i = 0; i < count; ++i) d.labels.push_back(static_cast<std::uint8_t>(i % 10));
  return d;
}

void set_mask(nn::Parameter& p, sparse::Mask mask) {
  p.mask = std::move(mask);
  sparse::apply_mask(p.value.data, p.mask);
}

// The studies' former per-criterion code.
void reference_prune(nn::Model& model, const std::string& criterion, const nn::Dataset& calibration, std::uint64_t seed) {
  const auto targets = nn::target_layers(model);
  std::vector<std::vector<float>> grads;
  if (criterion == "taylor") grads = nn::mean_gradients(model, calibration);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    nn::Parameter& p = *targets[i].weight;
    const auto shape = p.value.shape;
    const sparse::GroupedShape g(shape);
    if (criterion == "magnitude") {
      set_mask(p, sparse::nm_magnitude_mask(p.value.data, g, {2, 4}));
    } else if (criterion == "random") {
      set_mask(p, sparse::nm_mask(random_scores(p.value.numel(), seed * 1000003 + i), g, {2, 4}));
    } else if (criterion == "taylor") {
      set_mask(p, sparse::nm_mask(taylor_scores(p.value.data, grads[i]), g, {2, 4}));
    } else {
      const nn::Tensor input = nn::layer_input(model, targets[i], calibration);
      if (criterion == "wanda") {
        set_mask(p, sparse::nm_mask(wanda_scores(p.value.data, g, nn::channel_norms(input)), g, {2, 4}));
      } else {
        std::size_t samples = 0, features = 0;
        const auto rows = nn::gemm_rows(targets[i], input, samples, features);
        const std::vector<std::size_t> view = {g.out(), features};
        auto r = sparsegpt_prune(nn::to_krsc(p.value.data, shape), view, Activations{rows, samples, features});
        p.value.data = nn::from_krsc(r.weights, shape);
        const auto back = nn::from_krsc(std::vector<float>(r.mask.begin(), r.mask.end()), shape);
        sparse::Mask m(back.size());
        for (std::size_t j = 0; j < back.size(); ++j) m[j] = back[j] != 0.0f;
        set_mask(p, m);
      }
    }
  }
}

TEST(ModelPrune, RegistryEqualsTheFormerStudyCode) {
  const auto seed = testing::test_seed("ModelPrune.RegistryEqualsTheFormerStudyCode", 5);
  const auto calibration = random_images(8, seed);
  for (const char* kind : {"mlp", "cnn"}) {
    auto dense = nn::make_model(kind);
    nn::initialize(*dense, seed);
    for (const char* criterion : {"magnitude", "random", "wanda", "sparsegpt", "taylor"}) {
      auto mine = nn::clone_model(*dense);
      auto theirs = nn::clone_model(*dense);
      ModelPruneOptions options;
      options.seed = seed;
      prune_model(*mine, criterion, calibration, options);
      reference_prune(*theirs, criterion, calibration, seed);
      const auto a = mine->pruned_parameters(), b = theirs->pruned_parameters();
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i]->mask, b[i]->mask) << kind << " " << criterion << " " << a[i]->name;
        EXPECT_EQ(a[i]->value.data, b[i]->value.data) << kind << " " << criterion << " " << a[i]->name;
      }
    }
  }
}

TEST(ModelPrune, UnknownCriterionNamesTheKnownOnes) {
  auto m = nn::make_model("mlp");
  try {
    prune_model(*m, "nonsense", random_images(2, 1));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sparsegpt"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace twofour::prune
