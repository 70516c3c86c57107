// N:M masks, transposable 2:4 masks, the checker and kept-L1 expectations.
// Oracles: brute-force definitions written here (N largest per group with the documented tie rule;
// exhaustive 4x4 search), and the computed kept-L1 table of docs/pruning-methods.md for iid Gaussian
// 256x256 matrices. That table was computed with a different RNG than ours, so the comparison
// uses a tolerance of 0.5 percentage points (the sampling spread at 65536 weights is ~0.1 pp).
#include "twofour/prune/baselines.hpp"
#include "twofour/prune/criterion.hpp"
#include "twofour/sparse/mask.hpp"

#include "support/seed.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <tuple>

namespace {

using namespace twofour::sparse;

std::vector<float> gaussian(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<std::size_t> dims(std::initializer_list<std::size_t> d) { return d; }

TEST(NMMask, EveryPatternKeepsTheNLargestOfEachGroup) {
  const auto seed = twofour::testing::test_seed("NMMask.EveryPattern", 1);
  std::size_t patterns = 0;
  for (int m = 2; m <= 32; ++m) {
    for (int n = 1; n < m; ++n) {
      const std::vector<std::size_t> shape = {3, static_cast<std::size_t>(2 * m)};
      const auto w = gaussian(shape[0] * shape[1], seed + static_cast<std::uint64_t>(m * 64 + n));
      const GroupedShape g(shape);
      const Mask mask = nm_magnitude_mask(w, g, {n, m});
      for (std::size_t r = 0; r < shape[0]; ++r)
        for (std::size_t c0 = 0; c0 < shape[1]; c0 += static_cast<std::size_t>(m)) {
          // Brute force: the kept ones are exactly N, and every kept |w| >= every pruned |w|.
          int kept = 0;
          float min_kept = INFINITY, max_pruned = -1;
          for (std::size_t i = 0; i < static_cast<std::size_t>(m); ++i) {
            const std::size_t at = r * shape[1] + c0 + i;
            if (mask[at]) {
              ++kept;
              min_kept = std::min(min_kept, std::fabs(w[at]));
            } else {
              max_pruned = std::max(max_pruned, std::fabs(w[at]));
            }
          }
          ASSERT_EQ(kept, n) << n << ":" << m;
          ASSERT_GE(min_kept, max_pruned) << n << ":" << m;
        }
      EXPECT_TRUE(check_nm(mask, g, {n, m}).ok);
      ++patterns;
    }
  }
  EXPECT_EQ(patterns, 496u);  // all 1 <= N < M <= 32
}

TEST(NMMask, TiesKeepTheLowerInputChannel) {
  const std::vector<float> w = {1, -1, 1, 1, 0, 0, 0, 0};
  const GroupedShape g(dims({2, 4}));
  const Mask mask = nm_magnitude_mask(w, g, {2, 4});
  EXPECT_EQ(mask, (Mask{1, 1, 0, 0, 1, 1, 0, 0}));
  const std::vector<float> nan = {0.5f, NAN, 2.0f, 1.0f};
  EXPECT_EQ(nm_magnitude_mask(nan, GroupedShape(dims({1, 4})), {1, 4}), (Mask{0, 1, 0, 0}));
}

TEST(NMMask, ConvolutionsGroupAlongInputChannels) {
  // Conv2d (K, C, R, S) = (2, 8, 3, 3): a group is w[k, c0..c0+3, r, s] (ASP: (R*S*K, C) view).
  const std::vector<std::size_t> shape = {2, 8, 3, 3};
  const auto w = gaussian(2 * 8 * 9, 7);
  const GroupedShape g(shape);
  EXPECT_EQ(g.rows(), 18u);
  const Mask mask = nm_magnitude_mask(w, g, {2, 4});
  for (std::size_t k = 0; k < 2; ++k)
    for (std::size_t rs = 0; rs < 9; ++rs)
      for (std::size_t c0 = 0; c0 < 8; c0 += 4) {
        int kept = 0;
        for (std::size_t c = c0; c < c0 + 4; ++c) kept += mask[(k * 8 + c) * 9 + rs];
        EXPECT_EQ(kept, 2);
      }
  // Conv1d (K, C, R).
  const std::vector<std::size_t> s1 = {4, 4, 5};
  const auto w1 = gaussian(80, 8);
  const Mask m1 = nm_magnitude_mask(w1, GroupedShape(s1), {1, 4});
  for (std::size_t k = 0; k < 4; ++k)
    for (std::size_t r = 0; r < 5; ++r) {
      int kept = 0;
      for (std::size_t c = 0; c < 4; ++c) kept += m1[(k * 4 + c) * 5 + r];
      EXPECT_EQ(kept, 1);
    }
}

TEST(NMMask, NonDividingShapesFailOrPadOnRequest) {
  const auto w = gaussian(2 * 6, 3);
  const GroupedShape g(dims({2, 6}));
  try {
    nm_magnitude_mask(w, g, {2, 4});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("not a multiple of M = 4"), std::string::npos) << e.what();
  }
  const Mask padded = nm_magnitude_mask(w, g, {2, 4}, Padding::zeros);
  for (std::size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(padded[r * 6 + 0] + padded[r * 6 + 1] + padded[r * 6 + 2] + padded[r * 6 + 3], 2);
    EXPECT_EQ(padded[r * 6 + 4] + padded[r * 6 + 5], 2);  // a partial group of 2 keeps min(N, 2)
  }
  EXPECT_THROW(GroupedShape(dims({5})), std::invalid_argument);
  EXPECT_THROW(parse_pattern("4:4"), std::invalid_argument);
  EXPECT_THROW(parse_pattern("1:33"), std::invalid_argument);
  EXPECT_THROW(parse_pattern("2-4"), std::invalid_argument);
  EXPECT_EQ(parse_pattern("16:32"), (NMPattern{16, 32}));
}

TEST(NMCheck, NamesTheFirstBadGroup) {
  std::vector<float> w(2 * 8, 0.0f);
  w[1 * 8 + 4] = w[1 * 8 + 5] = w[1 * 8 + 7] = 1.0f;  // row 1, columns 4..7: 3 non-zeros
  const auto r = check_nm(w, GroupedShape(dims({2, 8})), {2, 4});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_row, 1u);
  EXPECT_EQ(r.first_col, 4u);
  EXPECT_EQ(r.first_nonzeros, 3u);
  EXPECT_NE(r.message.find("row 1, columns 4..7"), std::string::npos) << r.message;
  std::vector<float> conv(2 * 4 * 2 * 2, 0.0f);
  for (std::size_t c = 0; c < 3; ++c) conv[(1 * 4 + c) * 4 + 3] = 1.0f;  // k = 1, (r, s) = (1, 1)
  const auto rc = check_nm(conv, GroupedShape(dims({2, 4, 2, 2})), {2, 4});
  EXPECT_NE(rc.message.find("output channel 1, input channels 0..3, kernel position (1, 1)"), std::string::npos) << rc.message;
  EXPECT_TRUE(check_nm(std::vector<float>(16, 0.0f), GroupedShape(dims({2, 8})), {1, 8}).ok);
}

TEST(Transposable, MaximalMasksContainTheNinety) {
  const auto& m = transposable_24_maximal_masks();
  EXPECT_GT(m.size(), 90u);
  for (std::size_t i = 0; i < 90; ++i) EXPECT_EQ(m[i], transposable_24_patterns()[i]);
  std::printf("[ masks    ] %zu maximal transposable 4x4 masks\n", m.size());
}

TEST(Transposable, NinetyPatternsAllDoublyTwoOfFour) {
  const auto& p = transposable_24_patterns();
  std::set<std::array<std::uint8_t, 16>> unique(p.begin(), p.end());
  EXPECT_EQ(unique.size(), 90u);
  for (const auto& q : p)
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(q[4 * i] + q[4 * i + 1] + q[4 * i + 2] + q[4 * i + 3], 2);
      EXPECT_EQ(q[i] + q[4 + i] + q[8 + i] + q[12 + i], 2);
    }
}

TEST(Transposable, BestIsExactAndAtLeastGreedy) {
  const auto seed = twofour::testing::test_seed("Transposable.BestIsExact", 11);
  const std::vector<std::size_t> shape = {16, 32};
  const auto w = gaussian(16 * 32, seed);
  const GroupedShape g(shape);
  std::vector<float> s(w.size());
  std::transform(w.begin(), w.end(), s.begin(), [](float x) { return std::fabs(x); });
  const Mask best = transposable_24_mask(s, g, TransposableMethod::best);
  const Mask greedy = transposable_24_mask(s, g, TransposableMethod::greedy);
  const Mask best90 = transposable_24_mask(s, g, TransposableMethod::best90);
  EXPECT_TRUE(check_transposable_24(best90, g).ok);
  EXPECT_TRUE(check_transposable_24(best, g).ok);
  EXPECT_TRUE(check_transposable_24(greedy, g).ok);
  EXPECT_TRUE(check_nm(best, g, {2, 4}).ok);
  // Brute force over all 2^16 4x4 masks with <= 2 per row and column: best is the maximum.
  for (std::size_t r0 = 0; r0 < 16; r0 += 4)
    for (std::size_t c0 = 0; c0 < 32; c0 += 4) {
      double brute = 0, brute90 = 0, got_best = 0, got_greedy = 0, got_best90 = 0;
      for (unsigned bits = 0; bits < 65536; ++bits) {
        bool ok = true;
        double sum = 0;
        for (int i = 0; i < 4 && ok; ++i) {
          int rn = 0, cn = 0;
          for (int j = 0; j < 4; ++j) {
            rn += (bits >> (4 * i + j)) & 1;
            cn += (bits >> (4 * j + i)) & 1;
          }
          ok = rn <= 2 && cn <= 2;
        }
        if (!ok) continue;
        for (int i = 0; i < 16; ++i)
          if ((bits >> i) & 1) sum += static_cast<double>(s[(r0 + static_cast<std::size_t>(i / 4)) * 32 + c0 + static_cast<std::size_t>(i % 4)]);
        brute = std::max(brute, sum);
        if (__builtin_popcount(bits) == 8) brute90 = std::max(brute90, sum);
      }
      for (std::size_t i = 0; i < 16; ++i) {
        const std::size_t at = (r0 + i / 4) * 32 + c0 + i % 4;
        got_best += best[at] ? static_cast<double>(s[at]) : 0.0;
        got_greedy += greedy[at] ? static_cast<double>(s[at]) : 0.0;
        got_best90 += best90[at] ? static_cast<double>(s[at]) : 0.0;
      }
      EXPECT_NEAR(got_best90, brute90, 1e-9);
      EXPECT_NEAR(got_best, brute, 1e-9);
      EXPECT_GE(got_best + 1e-12, got_greedy);
    }
  EXPECT_THROW(transposable_24_mask(std::vector<float>(6 * 8), GroupedShape(dims({6, 8})), TransposableMethod::best),
               std::invalid_argument);
}

// docs/pruning-methods.md §Gaussian kept-L1 oracle, iid Gaussian 256x256 (different RNG).
TEST(KeptL1, GaussianMatchesPruningDocTable) {
  const auto seed = twofour::testing::test_seed("KeptL1.Gaussian", 0);
  const std::vector<std::size_t> shape = {256, 256};
  const auto w = gaussian(256 * 256, seed);
  const GroupedShape g(shape);
  std::vector<float> s(w.size());
  std::transform(w.begin(), w.end(), s.begin(), [](float x) { return std::fabs(x); });
  struct Row {
    const char* name;
    Mask mask;
    double expected;
  };
  std::vector<Row> rows;
  for (auto [n, m, e] : {std::tuple{16, 32, 78.91}, {8, 16, 78.19}, {4, 8, 76.81}, {2, 4, 74.42}, {2, 8, 48.44}, {1, 4, 45.91}}) {
    rows.push_back({nullptr, nm_mask(s, g, {n, m}), e});
  }
  const char* names[] = {"16:32", "8:16", "4:8", "2:4", "2:8", "1:4"};
  for (std::size_t i = 0; i < 6; ++i) rows[i].name = names[i];
  rows.push_back({"unstructured 50%", twofour::prune::unstructured_mask(s, 0.5), 79.67});
  rows.push_back({"per-row 50%", twofour::prune::per_row_unstructured_mask(s, g, 0.5), 79.57});
  rows.push_back({"unstructured 75%", twofour::prune::unstructured_mask(s, 0.75), 51.65});
  rows.push_back({"2:4 transposable best", transposable_24_mask(s, g, TransposableMethod::best), 70.23});
  rows.push_back({"2:4 transposable best90", transposable_24_mask(s, g, TransposableMethod::best90), 70.23});
  rows.push_back({"2:4 transposable greedy", transposable_24_mask(s, g, TransposableMethod::greedy), 69.18});
  for (const auto& r : rows) {
    const double kept = 100.0 * kept_l1_fraction(w, r.mask);
    std::printf("[ kept L1  ] %-24s %6.2f%%  (expected: %.2f%%)\n", r.name, kept, r.expected);
    EXPECT_NEAR(kept, r.expected, 0.5) << r.name;
  }
}

TEST(Criterion, RegistryDrivesPruning) {
  EXPECT_NE(twofour::prune::find_criterion("magnitude"), nullptr);
  EXPECT_EQ(twofour::prune::find_criterion("nope"), nullptr);
  // A plug-in criterion: prefer the last input channel of every group.
  twofour::prune::Criterion position;
  position.name = "test-position";
  position.summary = "scores = input channel";
  position.score = [](std::span<const float> w, const GroupedShape& g, const twofour::prune::CriterionInputs&) {
    std::vector<float> s(w.size());
    for (std::size_t r = 0; r < g.rows(); ++r)
      for (std::size_t c = 0; c < g.cols(); ++c) s[g.offset(r, c)] = static_cast<float>(c);
    return s;
  };
  twofour::prune::register_criterion(position);
  twofour::prune::PruneSpec spec;
  spec.criterion = "test-position";
  const std::vector<float> w = {9, 9, 1, 1};
  const auto r = twofour::prune::prune_nm(w, dims({1, 4}), spec);
  EXPECT_EQ(r.mask, (Mask{0, 0, 1, 1}));
  EXPECT_EQ(r.pruned, (std::vector<float>{0, 0, 1, 1}));
  spec.criterion = "magnitude";
  spec.transposable = true;
  spec.pattern = {1, 4};
  EXPECT_THROW(twofour::prune::prune_nm(std::vector<float>(16), dims({4, 4}), spec), std::invalid_argument);
  spec.criterion = "unknown";
  EXPECT_THROW(twofour::prune::prune_nm(w, dims({1, 4}), spec), std::invalid_argument);
}

}  // namespace
