// Packed 2:4 matrices (packed_sparse_gemm.hpp) against the scalar reference of the K-ordered sum,
// on every instruction set this CPU supports.
#include "twofour/gemm/packed_sparse_gemm.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/gemm/gemm_support.hpp"
#include "support/seed.hpp"
#include "twofour/gemm/reference.hpp"

namespace twofour::gemm {
namespace {

struct Shape {
  std::size_t m, k, n;
};

// Around every kernel's MR (3, 4, 6), NR and KC (K blocks: 1032 and 2056 span two and three of
// the AVX-512 kernel's 1024), and N <= kSmallNMax, which a packed matrix also runs on the blocked
// kernel (so in K order, unlike the view's small-N path).
const std::vector<Shape> kShapes = {{1, 4, 17},    {5, 8, 33},  {7, 60, 64},  {13, 132, 65}, {31, 260, 129},
                                    {197, 136, 70}, {9, 1032, 70}, {6, 2056, 20}, {3, 12, 1},   {17, 36, 5},
                                    {70, 260, 16}};

bool bit_equal(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

std::string describe(Isa isa, const Shape& s, bool acc, int threads) {
  return std::string(isa_name(isa)) + " M=" + std::to_string(s.m) + " K=" + std::to_string(s.k) + " N=" +
         std::to_string(s.n) + (acc ? " C+=" : " C=") + " threads " + std::to_string(threads);
}

TEST(PackedSparseGemm, BitEqualsReferenceOnEveryIsaAndThreadCount) {
  std::mt19937_64 rng(testing::test_seed("PackedSparseGemm.BitEquals", 0x9ac4));
  int cases = 0;
  for (const Isa isa : supported_isas()) {
    for (const Shape& s : kShapes) {
      for (const bool acc : {false, true}) {
        const auto a = testing::random_24_fp32(rng, s.m, s.k);
        const std::size_t ldb = s.n + 3, ldc = s.n + 5;
        const std::vector<float> b = testing::random_dense_fp32(rng, s.k * ldb);
        const std::vector<float> c0 = testing::random_dense_fp32(rng, s.m * ldc);
        std::vector<float> ref = c0;
        reference_gemm(a.view(), b.data(), ldb, ref.data(), ldc, s.n, acc);
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        const PackedSparseMatrix packed(a.view(), o);
        EXPECT_EQ(packed.isa(), isa);
        for (const int threads : {1, 2, 3}) {
          o.threads = threads;
          std::vector<float> c = c0;
          gemm(packed, b.data(), ldb, c.data(), ldc, s.n, o);
          EXPECT_TRUE(bit_equal(c, ref)) << describe(isa, s, acc, threads);
          ++cases;
        }
      }
    }
  }
  EXPECT_GT(cases, 0);
}

// New values through set_values and through gather_values on sources() equal packing the new
// matrix afresh; the second shape is large enough for gather_values to use OpenMP threads.
TEST(PackedSparseGemm, SetValuesKeepsMetadataAndTakesTheNewValues) {
  std::mt19937_64 rng(testing::test_seed("PackedSparseGemm.SetValues", 0x5e7));
  for (const Isa isa : supported_isas()) {
    for (const Shape& s : {Shape{13, 132, 65}, Shape{140, 2056, 24}}) {
      auto a = testing::random_24_fp32(rng, s.m, s.k);
      GemmOptions o;
      o.isa = isa;
      PackedSparseMatrix packed(a.view(), o);
      const std::vector<float> b = testing::random_dense_fp32(rng, s.k * s.n);
      const std::vector<float> fresh = testing::random_dense_fp32(rng, a.values.size());
      a.values = fresh;
      std::vector<float> ref(s.m * s.n), c(s.m * s.n);
      reference_gemm(a.view(), b.data(), s.n, ref.data(), s.n, s.n, false);
      packed.set_values(fresh.data());
      gemm(packed, b.data(), s.n, c.data(), s.n, s.n, o);
      EXPECT_TRUE(bit_equal(c, ref)) << describe(isa, s, false, 0) << " set_values(pointer)";
      for (auto& v : a.values) v = -v;
      reference_gemm(a.view(), b.data(), s.n, ref.data(), s.n, s.n, false);
      std::vector<float> negated(fresh.size());
      for (std::size_t i = 0; i < fresh.size(); ++i) negated[i] = -fresh[i];
      const std::vector<std::uint32_t> from = packed.sources();
      packed.gather_values(negated.data(), from.data());
      gemm(packed, b.data(), s.n, c.data(), s.n, s.n, o);
      EXPECT_TRUE(bit_equal(c, ref)) << describe(isa, s, false, 0) << " gather_values(sources())";
    }
  }
}

TEST(PackedSparseGemm, BadInputIsAClearError) {
  std::mt19937_64 rng(testing::test_seed("PackedSparseGemm.Errors", 0xe7));
  auto a = testing::random_24_fp32(rng, 4, 16);
  const std::vector<float> b(16 * 20, 1.0f);
  std::vector<float> c(4 * 20, 7.0f);
  const PackedSparseMatrix packed(a.view());
  EXPECT_THROW(gemm(packed, b.data(), 19, c.data(), 20, 20), std::invalid_argument);  // ldb < N
  EXPECT_THROW(gemm(packed, nullptr, 20, c.data(), 20, 20), std::invalid_argument);
  for (const Isa isa : supported_isas()) {
    GemmOptions o;
    o.isa = isa;
    if (isa != packed.isa()) {
      EXPECT_THROW(gemm(packed, b.data(), 20, c.data(), 20, 20, o), std::invalid_argument) << isa_name(isa);
    }
  }
  EXPECT_EQ(c, std::vector<float>(4 * 20, 7.0f));  // a rejected call leaves C as it was
  PackedSparseMatrix refresh(a.view());
  EXPECT_THROW(refresh.gather_values(nullptr, refresh.sources().data()), std::invalid_argument);
  EXPECT_THROW(PackedSparseMatrix({a.values.data(), a.meta.data(), 4, 14}), std::invalid_argument);  // K % 4
  a.meta[0] = static_cast<std::uint16_t>((a.meta[0] & 0xfff0u) | 0x5u);  // idx0 = idx1 = 1
  EXPECT_THROW(PackedSparseMatrix{a.view()}, std::invalid_argument);
  GemmOptions trusted;
  trusted.validate_metadata = false;
  EXPECT_NO_THROW(PackedSparseMatrix(a.view(), trusted));  // memory-safe without validation
}

TEST(PackedSparseGemm, EmptyAndZeroK) {
  const PackedSparseMatrix none;
  std::vector<float> c(6, 3.0f);
  gemm(none, nullptr, 0, c.data(), 0, 0);
  const std::vector<std::uint16_t> meta(2, 0);
  const PackedSparseMatrix zero_k({nullptr, meta.data(), 2, 0});
  gemm(zero_k, nullptr, 3, c.data(), 3, 3);
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
  GemmOptions acc;
  acc.accumulate = true;
  std::fill(c.begin(), c.end(), 3.0f);
  gemm(zero_k, nullptr, 3, c.data(), 3, 3, acc);
  EXPECT_EQ(c, std::vector<float>(6, 3.0f));
}

}  // namespace
}  // namespace twofour::gemm
