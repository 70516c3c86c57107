// Baseline masks: oracle = the definitions (counts, structure, and lowest-score-first selection).
#include "twofour/prune/baselines.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace {

using namespace twofour::prune;
using twofour::sparse::GroupedShape;

std::vector<float> ramp(std::size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 1.0f);
  return v;
}

TEST(Baselines, UnstructuredPerLayerAndGlobal) {
  const auto s = ramp(10);
  const Mask m = unstructured_mask(s, 0.3);
  EXPECT_EQ(m, (Mask{0, 0, 0, 1, 1, 1, 1, 1, 1, 1}));
  const std::vector<float> a = {1, 10}, b = {2, 3, 4, 20};
  const std::vector<std::span<const float>> layers = {a, b};
  const auto g = global_unstructured_masks(layers, 0.5);
  EXPECT_EQ(g[0], (Mask{0, 1}));
  EXPECT_EQ(g[1], (Mask{0, 0, 1, 1}));
  EXPECT_THROW(unstructured_mask(s, 1.5), std::invalid_argument);
  // Ties: the later element is pruned first.
  EXPECT_EQ(unstructured_mask(std::vector<float>{1, 1, 1, 1}, 0.5), (Mask{1, 1, 0, 0}));
}

TEST(Baselines, PerRow) {
  const std::vector<std::size_t> shape = {2, 4};
  const std::vector<float> s = {4, 3, 2, 1, 1, 2, 3, 4};
  EXPECT_EQ(per_row_unstructured_mask(s, GroupedShape(shape), 0.5), (Mask{1, 1, 0, 0, 0, 0, 1, 1}));
}

TEST(Baselines, Blocks) {
  const std::vector<std::size_t> shape = {4, 8};
  const auto s = ramp(32);
  const Mask m = block_mask(s, GroupedShape(shape), 1, 4, 0.5);  // 8 blocks of 1x4, prune 4
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 8; ++c) EXPECT_EQ(m[r * 8 + c], r >= 2 ? 1 : 0);
  const Mask m44 = block_mask(s, GroupedShape(shape), 4, 4, 0.5);  // right 4x4 block wins
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 8; ++c) EXPECT_EQ(m44[r * 8 + c], c >= 4 ? 1 : 0);
  EXPECT_THROW(block_mask(s, GroupedShape(shape), 3, 4, 0.5), std::invalid_argument);
}

TEST(Baselines, ChannelsAndFilters) {
  const std::vector<std::size_t> shape = {4, 2, 1, 1};  // Conv2d K=4, C=2, 1x1
  const std::vector<float> s = {1, 1, 5, 5, 2, 2, 9, 9};
  const Mask f = channel_mask(s, GroupedShape(shape), ChannelAxis::output, 0.5);
  EXPECT_EQ(f, (Mask{0, 0, 1, 1, 0, 0, 1, 1}));
  const Mask c = channel_mask(s, GroupedShape(shape), ChannelAxis::input, 0.5);
  EXPECT_EQ(c, (Mask{1, 0, 1, 0, 1, 0, 1, 0}));  // equal totals: input channel 0 kept
}

}  // namespace
