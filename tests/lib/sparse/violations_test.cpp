// nm_violations (violations.hpp) against check_nm (mask.hpp): the same count, the first one is
// the group check_nm names, and every listed group really holds more than N non-zeros, on random
// Linear and convolution shapes.
#include "twofour/sparse/mask.hpp"
#include "twofour/sparse/violations.hpp"
#include "support/seed.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace twofour::sparse {
namespace {

TEST(NMViolations, AgreeWithCheckNm) {
  std::mt19937_64 rng(testing::test_seed("NMViolations.AgreeWithCheckNm", 11));
  const std::vector<std::vector<std::size_t>> shapes = {{8, 16}, {4, 8, 3}, {4, 8, 2, 3}, {3, 10}};
  for (const auto& dims : shapes)
    for (const NMPattern p : {NMPattern{2, 4}, NMPattern{1, 4}, NMPattern{4, 8}}) {
      const GroupedShape shape(dims);
      const Padding padding = shape.in() % static_cast<std::size_t>(p.m) == 0 ? Padding::none : Padding::zeros;
      std::vector<float> w(shape.numel());
      std::bernoulli_distribution keep(0.45);
      for (float& x : w) x = keep(rng) ? 1.0f : (keep(rng) ? -0.0f : 0.0f);
      const NMCheck check = check_nm(w, shape, p, padding);
      const std::vector<NMViolation> all = nm_violations(w, shape, p, padding);
      ASSERT_EQ(all.size(), check.bad_groups);
      if (!all.empty()) {
        EXPECT_EQ(all.front().row, check.first_row);
        EXPECT_EQ(all.front().col, check.first_col);
        EXPECT_EQ(all.front().nonzeros, check.first_nonzeros);
      }
      for (const NMViolation& v : all) {
        std::size_t count = 0;
        for (std::size_t c = v.col; c < std::min(shape.in(), v.col + static_cast<std::size_t>(p.m)); ++c)
          count += w[shape.offset(v.row, c)] != 0.0f;
        EXPECT_EQ(count, v.nonzeros);
        EXPECT_GT(count, static_cast<std::size_t>(p.n));
      }
    }
  EXPECT_THROW(nm_violations(std::vector<float>(12, 1.0f), GroupedShape(std::vector<std::size_t>{2, 6}), NMPattern{2, 4}),
               std::invalid_argument);
}

}  // namespace
}  // namespace twofour::sparse
