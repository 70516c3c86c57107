// The generic N:M path (nm_gemm.hpp) against its scalar reference on every instruction set, and
// against the fast 2:4 path on 2:4 inputs.
#include "twofour/gemm/nm_gemm.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/gemm/gemm_support.hpp"
#include "support/seed.hpp"
#include "twofour/gemm/reference.hpp"

namespace twofour::gemm {
namespace {

// Random N:M matrix: each group keeps a uniformly random N-subset of its M columns (ascending).
CompressedNM random_nm(std::mt19937_64& rng, std::size_t rows, std::size_t k, sparse::NMPattern p) {
  CompressedNM a;
  a.rows = rows;
  a.cols = k;
  a.pattern = p;
  const std::size_t kept = nm_kept_cols(k, p);
  a.values = testing::random_dense_fp32(rng, rows * kept);
  a.indices.resize(rows * kept);
  std::vector<std::uint8_t> cols(static_cast<std::size_t>(p.m));
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t g = 0; g < k / static_cast<std::size_t>(p.m); ++g) {
      std::iota(cols.begin(), cols.end(), std::uint8_t{0});
      std::shuffle(cols.begin(), cols.end(), rng);
      std::sort(cols.begin(), cols.begin() + p.n);
      std::copy(cols.begin(), cols.begin() + p.n, a.indices.begin() + static_cast<std::ptrdiff_t>(r * kept + g * static_cast<std::size_t>(p.n)));
    }
  }
  return a;
}

bool bit_equal(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

struct Shape {
  std::size_t m, k_groups, n;  // K = k_groups * M of the pattern
};

// Edge sizes around the tile sizes (MR 3/4/6/8, NR 1/4/8/16/32/64, KC 128/256/1024 rounded down to
// a multiple of M, MC 32*MR) and the narrow/wide switch (N <= 16 on AVX-512, 8 on AVX2).
const std::vector<Shape> kShapes = {{1, 1, 1},   {7, 3, 2},    {9, 17, 8},     {13, 33, 9},   {17, 40, 16},
                                    {5, 9, 17},  {33, 70, 33}, {70, 20, 65},   {197, 35, 100}, {260, 12, 3},
                                    {11, 300, 40}};
const std::vector<sparse::NMPattern> kPatterns = {{1, 4}, {2, 8}, {2, 4}, {4, 8}, {3, 5}, {1, 2}};

std::string describe(Isa isa, sparse::NMPattern p, std::size_t m, std::size_t k, std::size_t n, bool acc) {
  return std::string(isa_name(isa)) + " " + sparse::to_string(p) + " M=" + std::to_string(m) + " K=" +
         std::to_string(k) + " N=" + std::to_string(n) + (acc ? " C+=" : " C=");
}

// K order is kept by every path: bit-equal to the reference, with leading dimensions > N.
TEST(NmGemm, BitEqualsReferenceOnEveryIsa) {
  std::mt19937_64 rng(testing::test_seed("NmGemm.BitEquals", 0x4848));
  int cases = 0;
  for (Isa isa : supported_isas()) {
    for (sparse::NMPattern p : kPatterns) {
      for (const Shape& s : kShapes) {
        const bool acc = (cases % 2) == 1;
        const std::size_t k = s.k_groups * static_cast<std::size_t>(p.m);
        const CompressedNM a = random_nm(rng, s.m, k, p);
        const std::size_t ldb = s.n + 2, ldc = s.n + 3;
        const std::vector<float> b = testing::random_dense_fp32(rng, k * ldb);
        std::vector<float> got = testing::random_dense_fp32(rng, s.m * ldc);
        std::vector<float> ref = got;
        reference_nm_gemm(a.view(), b.data(), ldb, ref.data(), ldc, s.n, acc);
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        nm_gemm(a.view(), b.data(), ldb, got.data(), ldc, s.n, o);
        EXPECT_TRUE(bit_equal(got, ref)) << describe(isa, p, s.m, k, s.n, acc);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 0);
}

// 2:4 through the generic path equals the fast 2:4 path: bit for bit on the GEMM path (both keep K
// order) and the 2:4 reference everywhere.
TEST(NmGemm, TwoFourMatchesFastPath) {
  std::mt19937_64 rng(testing::test_seed("NmGemm.TwoFour", 0x2442));
  for (Isa isa : supported_isas()) {
    for (const auto& [m, k, n] : {std::array<std::size_t, 3>{37, 132, 40}, {64, 516, 70}, {13, 64, 1}, {70, 260, 9}}) {
      const testing::Random24<float> a24 = testing::random_24_fp32(rng, m, k);
      // The same matrix in the N:M layout: slot s of group g is nibble field s.
      CompressedNM a;
      a.rows = m;
      a.cols = k;
      a.pattern = {2, 4};
      a.values = a24.values;
      a.indices = std::vector<std::uint8_t>(a.values.size(), 0);
      for (std::size_t r = 0; r < m; ++r) {
        const std::uint16_t* meta = a24.view().row_metadata(r);
        for (std::size_t g = 0; g < k / 4; ++g) {
          const unsigned nib = sparse::meta_nibble(meta, g);
          a.indices[r * (k / 2) + 2 * g] = static_cast<std::uint8_t>(sparse::nibble_idx0(nib));
          a.indices[r * (k / 2) + 2 * g + 1] = static_cast<std::uint8_t>(sparse::nibble_idx1(nib));
        }
      }
      const std::vector<float> b = testing::random_dense_fp32(rng, k * n);
      std::vector<float> generic(m * n), fast(m * n), ref(m * n);
      GemmOptions o;
      o.isa = isa;
      nm_gemm(a.view(), b.data(), n, generic.data(), n, n, o);
      gemm(a24.view(), b.data(), n, fast.data(), n, n, o);
      reference_gemm(a24.view(), b.data(), n, ref.data(), n, n, false);
      const std::string what = describe(isa, a.pattern, m, k, n, false);
      EXPECT_TRUE(bit_equal(generic, ref)) << what;
      if (n > kSmallNMax) {
        EXPECT_TRUE(bit_equal(fast, generic)) << what;
      } else {
        // The fast small-N path sums in its 16-lane order on every instruction set:
        // |diff| <= sum |a||b| * (K + 2) * eps.
        const std::vector<float> dense = decompress(a24.view());
        for (std::size_t i = 0; i < m; ++i) {
          for (std::size_t j = 0; j < n; ++j) {
            double mag = 0;
            for (std::size_t kk = 0; kk < k; ++kk) mag += std::fabs(double{dense[i * k + kk]} * double{b[kk * n + j]});
            const double bound =
                mag * static_cast<double>(k + 2) * static_cast<double>(std::numeric_limits<float>::epsilon());
            EXPECT_LE(std::fabs(double{fast[i * n + j]} - double{generic[i * n + j]}), bound) << what;
          }
        }
      }
    }
  }
}

TEST(NmGemm, ThreadCountDoesNotChangeBits) {
  std::mt19937_64 rng(testing::test_seed("NmGemm.Threads", 0x3131));
  for (std::size_t n : {std::size_t{5}, std::size_t{90}}) {
    const CompressedNM a = random_nm(rng, 301, 96, {2, 8});
    const std::vector<float> b = testing::random_dense_fp32(rng, 96 * n);
    std::vector<float> c1(301 * n), c2(301 * n);
    GemmOptions o;
    o.threads = 1;
    nm_gemm(a.view(), b.data(), n, c1.data(), n, n, o);
    o.threads = 2;
    nm_gemm(a.view(), b.data(), n, c2.data(), n, n, o);
    EXPECT_TRUE(bit_equal(c1, c2));
  }
}

std::string error_of(const RowMajorNMView& a, const float* b, std::size_t ldb, float* c, std::size_t ldc,
                     std::size_t n) {
  try {
    nm_gemm(a, b, ldb, c, ldc, n);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(NmGemm, ShapeErrorsAreClear) {
  std::mt19937_64 rng(twofour::testing::test_seed("NmGemm.ShapeErrorsAreClear", 7));
  CompressedNM a = random_nm(rng, 3, 16, {2, 8});
  std::vector<float> b(16 * 4), c(3 * 4);
  a.cols = 12;  // not a multiple of 8
  std::string msg = error_of(a.view(), b.data(), 4, c.data(), 4, 4);
  EXPECT_NE(msg.find("K = 12 is not a multiple of M = 8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 x 12 (2:8 along K)"), std::string::npos) << msg;
  EXPECT_THROW(reference_nm_gemm(a.view(), b.data(), 4, c.data(), 4, 4, false), std::invalid_argument);
  a.cols = 16;
  msg = error_of(a.view(), b.data(), 3, c.data(), 4, 4);
  EXPECT_NE(msg.find("leading dimensions"), std::string::npos) << msg;
  msg = error_of(a.view(), b.data(), 4, c.data(), 3, 4);
  EXPECT_NE(msg.find("leading dimensions"), std::string::npos) << msg;
  msg = error_of(a.view(), nullptr, 4, c.data(), 4, 4);
  EXPECT_NE(msg.find("null operand"), std::string::npos) << msg;
  RowMajorNMView bad = a.view();
  bad.pattern = {4, 4};
  msg = error_of(bad, b.data(), 4, c.data(), 4, 4);
  EXPECT_NE(msg.find("4:4"), std::string::npos) << msg;
}

// Out-of-range, duplicate and descending indices: rejected naming row, group and slot; with
// validation off, memory-safe on every path.
TEST(NmGemm, MalformedIndicesAreRejected) {
  std::mt19937_64 rng(testing::test_seed("NmGemm.Malformed", 0x0b0b));
  struct Case {
    std::uint8_t slot0, slot1;
    const char* text;
  };
  for (const Case& bad : {Case{0, 8, "out of range"}, Case{200, 3, "out of range"}, Case{5, 5, "duplicates"},
                          Case{6, 2, "below the previous"}}) {
    for (std::size_t n : {std::size_t{1}, std::size_t{40}}) {
      CompressedNM a = random_nm(rng, 9, 8 * 11, {2, 8});
      const std::size_t row = 6, group = 7;
      a.indices[row * a.values.size() / 9 + 2 * group] = bad.slot0;
      a.indices[row * a.values.size() / 9 + 2 * group + 1] = bad.slot1;
      const std::vector<float> b = testing::random_dense_fp32(rng, a.cols * n);
      std::vector<float> c(9 * n);
      const std::string msg = error_of(a.view(), b.data(), n, c.data(), n, n);
      EXPECT_NE(msg.find("row 6, group 7"), std::string::npos) << msg;
      EXPECT_NE(msg.find(bad.text), std::string::npos) << msg;
      EXPECT_THROW(decompress_nm(a.view()), std::invalid_argument);
      GemmOptions o;
      o.validate_metadata = false;
      for (Isa isa : supported_isas()) {
        o.isa = isa;
        EXPECT_NO_THROW(nm_gemm(a.view(), b.data(), n, c.data(), n, n, o));
        for (float x : c) EXPECT_TRUE(std::isfinite(x));
      }
    }
  }
}

TEST(NmGemm, CompressRoundTripsAndRejectsDenseGroups) {
  std::mt19937_64 rng(testing::test_seed("NmGemm.Compress", 0x0c0c));
  const sparse::NMPattern p{2, 8};
  const CompressedNM a = random_nm(rng, 5, 32, p);
  std::vector<float> dense = decompress_nm(a.view());
  dense[3] = 0.0f;  // a group with fewer than N non-zeros is fine (zeros stored)
  const CompressedNM back = compress_nm(dense, 5, 32, p);
  EXPECT_NO_THROW(validate_nm(back.view()));
  EXPECT_EQ(decompress_nm(back.view()), dense);
  // Row 2, group 1 gets a third non-zero.
  for (std::size_t i = 8; i < 16; ++i)
    if (dense[2 * 32 + i] == 0.0f) {
      dense[2 * 32 + i] = std::numeric_limits<float>::quiet_NaN();
      break;
    }
  try {
    (void)compress_nm(dense, 5, 32, p);
    ADD_FAILURE() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("row 2, columns 8..15 hold 3 non-zeros"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)compress_nm(dense, 5, 31, p), std::invalid_argument);
  EXPECT_THROW((void)compress_nm(std::vector<float>(10), 5, 32, p), std::invalid_argument);
}

TEST(NmGemm, EmptyAndZeroK) {
  std::vector<float> c(6, 5.0f);
  const RowMajorNMView a{nullptr, nullptr, 2, 0, {1, 4}};
  std::vector<float> b(1);
  nm_gemm(a, b.data(), 3, c.data(), 3, 3);
  for (float x : c) EXPECT_EQ(x, 0.0f);
}

}  // namespace
}  // namespace twofour::gemm
