// The sampled 2:4 GEMM (sampled_gemm.hpp; and its dense-target form): every instruction set bit-equal to the scalar
// reference (forced through GemmOptions::isa), independent of the thread count; the positions it
// evaluates checked against exact integer dot products (small integers: every product and partial
// sum is exact in fp32, so any order gives the int64 result), and rounding checked against a
// double-precision dot product.
#include "twofour/gemm/sampled_gemm.hpp"
#include "twofour/gemm/dense_gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/gemm/gemm_support.hpp"
#include "support/seed.hpp"

namespace twofour::gemm {
namespace {

struct Case {
  std::size_t rows, cols, n, lda, ldb;
};

// Around the kernel's blocks: 16-row blocks, 32-column blocks, reductions split into even slices
// of 256 to 511 elements (one, two, three with a shorter last one, four), 16 lanes, runs of 4, 2
// and 1 groups (6 and 7 groups: a unit of four then a pair, then a single), an odd group count
// (the single-group tail), n not a multiple of 16 (zero padding).
const std::vector<Case> kCases = {{1, 4, 1, 1, 1},          {3, 8, 16, 16, 16},        {9, 12, 17, 20, 19},
                                  {8, 64, 128, 128, 128},    {13, 68, 255, 255, 260},   {17, 132, 256, 256, 256},
                                  {5, 20, 257, 257, 300},    {30, 300, 128, 128, 128},  {4, 36, 600, 601, 640},
                                  {2, 24, 33, 33, 33},       {7, 28, 40, 40, 40},       {17, 36, 784, 784, 800},
                                  {33, 44, 1100, 1100, 1100}};

bool bit_equal(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

std::string describe(Isa isa, const Case& c, bool acc) {
  return std::string(isa_name(isa)) + " rows=" + std::to_string(c.rows) + " cols=" + std::to_string(c.cols) +
         " n=" + std::to_string(c.n) + (acc ? " +=" : " =");
}

TEST(SampledGemm, BitEqualsReferenceOnEveryIsaAndThreadCount) {
  std::mt19937_64 rng(testing::test_seed("SampledGemm.BitEquals", 0x5d0));
  for (Isa isa : supported_isas()) {
    for (const Case& c : kCases) {
      for (bool acc : {false, true}) {
        const auto meta = testing::random_metadata(rng, c.rows, c.cols);
        const auto a = testing::random_dense_fp32(rng, c.rows * c.lda);
        const auto b = testing::random_dense_fp32(rng, c.cols * c.ldb);
        std::vector<float> ref = testing::random_dense_fp32(rng, c.rows * c.cols / 2);
        const std::vector<float> start = ref;
        reference_sampled_gemm({meta.data(), c.rows, c.cols, ref.data()}, a.data(), c.lda, b.data(), c.ldb, c.n, acc);
        for (int threads : {1, 2, 3}) {
          std::vector<float> got = start;
          GemmOptions o;
          o.isa = isa;
          o.threads = threads;
          o.accumulate = acc;
          sampled_gemm({meta.data(), c.rows, c.cols, got.data()}, a.data(), c.lda, b.data(), c.ldb, c.n, o);
          EXPECT_TRUE(bit_equal(got, ref)) << describe(isa, c, acc) << " threads=" << threads;
        }
      }
    }
  }
}

// Integers in [-8, 8]: |products| <= 64 and |sums| < 2^24, so fp32 is exact in every order and the
// result must equal the int64 dot product at the position the metadata names.
TEST(SampledGemm, EvaluatesExactlyTheStoredPositions) {
  std::mt19937_64 rng(testing::test_seed("SampledGemm.Positions", 0x5d1));
  std::uniform_int_distribution<int> small(-8, 8);
  for (Isa isa : supported_isas()) {
    for (const Case& c : kCases) {
      const auto meta = testing::random_metadata(rng, c.rows, c.cols);
      std::vector<float> a(c.rows * c.lda), b(c.cols * c.ldb);
      for (auto& v : a) v = static_cast<float>(small(rng));
      for (auto& v : b) v = static_cast<float>(small(rng));
      std::vector<float> got(c.rows * c.cols / 2, -1.0f);
      GemmOptions o;
      o.isa = isa;
      sampled_gemm({meta.data(), c.rows, c.cols, got.data()}, a.data(), c.lda, b.data(), c.ldb, c.n, o);
      const std::size_t mw = sparse::meta_words_per_row(c.cols);
      for (std::size_t r = 0; r < c.rows; ++r)
        for (std::size_t s = 0; s < c.cols / 2; ++s) {
          const unsigned nib = sparse::meta_nibble(meta.data() + r * mw, s / 2);
          const std::size_t col = 4 * (s / 2) + (s % 2 ? sparse::nibble_idx1(nib) : sparse::nibble_idx0(nib));
          std::int64_t exact = 0;
          for (std::size_t i = 0; i < c.n; ++i)
            exact += static_cast<std::int64_t>(a[r * c.lda + i]) * static_cast<std::int64_t>(b[col * c.ldb + i]);
          ASSERT_EQ(got[r * c.cols / 2 + s], static_cast<float>(exact)) << describe(isa, c, false) << " row " << r << " slot " << s;
        }
    }
  }
}

// The dense GEMM's dot form (dense_gemm.hpp: A * B^T with both operands K-contiguous) documents
// the same 16-lane order and tree, in a separately written kernel: at every stored position the
// two agree bit for bit.
TEST(SampledGemm, EqualsTheDenseDotFormAtEveryStoredPosition) {
  std::mt19937_64 rng(testing::test_seed("SampledGemm.DenseDot", 0x5d3));
  for (const Case& c : kCases) {
    const auto meta = testing::random_metadata(rng, c.rows, c.cols);
    const auto a = testing::random_dense_fp32(rng, c.rows * c.lda);
    const auto b = testing::random_dense_fp32(rng, c.cols * c.ldb);
    std::vector<float> dense(c.rows * c.cols), got(c.rows * c.cols / 2);
    dense_gemm(false, true, c.rows, c.cols, c.n, a.data(), c.lda, b.data(), c.ldb, dense.data(), c.cols);
    sampled_gemm({meta.data(), c.rows, c.cols, got.data()}, a.data(), c.lda, b.data(), c.ldb, c.n);
    const std::size_t mw = sparse::meta_words_per_row(c.cols);
    for (std::size_t r = 0; r < c.rows; ++r)
      for (std::size_t s = 0; s < c.cols / 2; ++s) {
        const unsigned nib = sparse::meta_nibble(meta.data() + r * mw, s / 2);
        const std::size_t col = 4 * (s / 2) + (s % 2 ? sparse::nibble_idx1(nib) : sparse::nibble_idx0(nib));
        const float x = got[r * c.cols / 2 + s], y = dense[r * c.cols + col];
        ASSERT_EQ(std::memcmp(&x, &y, sizeof x), 0) << describe(Isa::automatic, c, false) << " row " << r << " slot " << s
                                                     << ": " << x << " vs " << y;
      }
  }
}

// The 16-chain order is a rounding order, not an approximation: within the usual
// n * eps * sum|a||b| bound of the exact (double) dot product.
TEST(SampledGemm, WithinRoundingBoundOfDoubleDot) {
  std::mt19937_64 rng(testing::test_seed("SampledGemm.Bound", 0x5d2));
  const std::size_t rows = 6, cols = 40, n = 1000;
  const auto meta = testing::random_metadata(rng, rows, cols);
  const auto a = testing::random_dense_fp32(rng, rows * n);
  const auto b = testing::random_dense_fp32(rng, cols * n);
  std::vector<float> got(rows * cols / 2);
  sampled_gemm({meta.data(), rows, cols, got.data()}, a.data(), n, b.data(), n, n);
  const std::size_t mw = sparse::meta_words_per_row(cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t s = 0; s < cols / 2; ++s) {
      const unsigned nib = sparse::meta_nibble(meta.data() + r * mw, s / 2);
      const std::size_t col = 4 * (s / 2) + (s % 2 ? sparse::nibble_idx1(nib) : sparse::nibble_idx0(nib));
      double exact = 0, mag = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double p = static_cast<double>(a[r * n + i]) * static_cast<double>(b[col * n + i]);
        exact += p;
        mag += std::abs(p);
      }
      EXPECT_LE(std::abs(static_cast<double>(got[r * cols / 2 + s]) - exact), static_cast<double>(n) * 0x1p-24 * mag) << r << " " << s;
    }
}

// sampled_gemm_dense: each stored position's sum written (or added) at its dense place, and
// nothing else touched. Oracle: the scalar reference's compressed values, placed by the test's own
// decoding of the metadata, slot by slot. Also with validation off and arbitrary metadata words
// (malformed nibbles, idx0 >= idx1, name a column twice or out of order): every path places the
// two values where the nibble names them, in slot order.
TEST(SampledGemm, DenseTargetGetsTheCompressedSumsAtTheirPositions) {
  std::mt19937_64 rng(testing::test_seed("SampledGemm.Dense", 0x5d3));
  for (Isa isa : supported_isas()) {
    for (const Case& c : kCases) {
      for (const int variant : {0, 1, 2}) {
        const bool acc = variant == 1, malformed = variant == 2;
        auto meta = testing::random_metadata(rng, c.rows, c.cols);
        if (malformed)
          for (auto& w : meta) w = static_cast<std::uint16_t>(rng());
        const auto a = testing::random_dense_fp32(rng, c.rows * c.lda);
        const auto b = testing::random_dense_fp32(rng, c.cols * c.ldb);
        std::vector<float> sums(c.rows * c.cols / 2);
        reference_sampled_gemm({meta.data(), c.rows, c.cols, sums.data()}, a.data(), c.lda, b.data(), c.ldb, c.n, false);
        const std::size_t ld = c.cols + 3, mw = sparse::meta_words_per_row(c.cols);
        const std::vector<float> start = testing::random_dense_fp32(rng, c.rows * ld);
        std::vector<float> want = start;
        for (std::size_t r = 0; r < c.rows; ++r)
          for (std::size_t s = 0; s < c.cols / 2; ++s) {
            const unsigned nib = sparse::meta_nibble(meta.data() + r * mw, s / 2);
            float& x = want[r * ld + 4 * (s / 2) + (s % 2 ? sparse::nibble_idx1(nib) : sparse::nibble_idx0(nib))];
            x = acc ? x + sums[r * c.cols / 2 + s] : sums[r * c.cols / 2 + s];
          }
        for (int threads : {1, 2, 3}) {
          std::vector<float> got = start;
          GemmOptions o;
          o.isa = isa;
          o.threads = threads;
          o.accumulate = acc;
          o.validate_metadata = !malformed;
          sampled_gemm_dense({meta.data(), c.rows, c.cols, got.data(), ld}, a.data(), c.lda, b.data(), c.ldb, c.n, o);
          EXPECT_TRUE(bit_equal(got, want)) << describe(isa, c, acc) << (malformed ? " malformed" : "") << " threads=" << threads;
        }
      }
    }
  }
}

// n = 0: every sum is +0, so the stored positions become +0 (or keep their value when
// accumulating) and nothing else changes.
TEST(SampledGemm, DenseTargetOfAnEmptyReductionZeroesOnlyTheStoredPositions) {
  std::mt19937_64 rng(testing::test_seed("SampledGemm.DenseEmpty", 0x5d4));
  const std::size_t rows = 5, cols = 20, ld = 23, mw = sparse::meta_words_per_row(cols);
  const auto meta = testing::random_metadata(rng, rows, cols);
  const std::vector<float> start = testing::random_dense_fp32(rng, rows * ld);
  for (Isa isa : supported_isas()) {
    for (bool acc : {false, true}) {
      std::vector<float> got = start, want = start;
      if (!acc)
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t g = 0; g < cols / 4; ++g) {
            const unsigned nib = sparse::meta_nibble(meta.data() + r * mw, g);
            want[r * ld + 4 * g + sparse::nibble_idx0(nib)] = 0.0f;
            want[r * ld + 4 * g + sparse::nibble_idx1(nib)] = 0.0f;
          }
      GemmOptions o;
      o.isa = isa;
      o.accumulate = acc;
      sampled_gemm_dense({meta.data(), rows, cols, got.data(), ld}, nullptr, 0, nullptr, 0, 0, o);
      EXPECT_TRUE(bit_equal(got, want)) << isa_name(isa) << (acc ? " +=" : " =");
    }
  }
}

TEST(SampledGemm, BadArgumentsAreClearErrors) {
  std::vector<std::uint16_t> meta(4, 0x4444);  // every nibble 0b0100: idx0 = 0, idx1 = 1
  std::vector<float> a(64), b(64), v(16);
  EXPECT_THROW(sampled_gemm({meta.data(), 2, 6, v.data()}, a.data(), 4, b.data(), 4, 4), std::invalid_argument);
  EXPECT_THROW(sampled_gemm({meta.data(), 2, 8, v.data()}, a.data(), 3, b.data(), 4, 4), std::invalid_argument);
  EXPECT_THROW(sampled_gemm({meta.data(), 2, 8, nullptr}, a.data(), 4, b.data(), 4, 4), std::invalid_argument);
  std::vector<float> dense(2 * 8, 5.0f);
  EXPECT_THROW(sampled_gemm_dense({meta.data(), 2, 8, nullptr, 8}, a.data(), 4, b.data(), 4, 4), std::invalid_argument);
  EXPECT_THROW(sampled_gemm_dense({meta.data(), 2, 8, dense.data(), 7}, a.data(), 4, b.data(), 4, 4), std::invalid_argument);
  EXPECT_THROW(sampled_gemm_dense({meta.data(), 2, 6, dense.data(), 8}, a.data(), 4, b.data(), 4, 4), std::invalid_argument);
  EXPECT_EQ(dense, std::vector<float>(2 * 8, 5.0f));
  std::vector<std::uint16_t> bad(4, 0x0000);  // idx0 = idx1 = 0: malformed
  try {
    sampled_gemm({bad.data(), 2, 8, v.data()}, a.data(), 4, b.data(), 4, 4);
    FAIL() << "malformed metadata accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("row 0, group 0"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace twofour::gemm
