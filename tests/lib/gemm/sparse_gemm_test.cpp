// twofour::gemm against its scalar reference, on every instruction set this CPU supports.
#include "twofour/gemm/sparse_gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/gemm/gemm_support.hpp"
#include "support/seed.hpp"
#include "twofour/gemm/reference.hpp"
#include "twofour/sim/spec/format.hpp"

namespace twofour::gemm {
namespace {

using testing::Random24;

struct Shape {
  std::size_t m, k, n;
};

// Edge sizes around the block sizes of every path: MR 3/4/6, NR 4/32/64, KC 128/256/1024,
// MC 32*MR, NC 512; small-N chunks of 16 and 32 K columns.
const std::vector<Shape> kGemmShapes = {{1, 4, 17},   {5, 8, 33},     {7, 60, 64},     {13, 132, 65},
                                        {6, 64, 100}, {31, 260, 129}, {197, 136, 531}, {64, 516, 70},
                                        {9, 1032, 70}};
const std::vector<Shape> kSmallShapes = {{1, 4, 1},   {3, 12, 2},   {9, 32, 3},    {17, 36, 5},  {33, 100, 8},
                                         {70, 260, 9}, {5, 64, 16},  {130, 516, 13}, {8, 1028, 1}, {66, 48, 4}};

std::vector<Isa> isas() {
  std::vector<Isa> out = supported_isas();
  EXPECT_FALSE(out.empty());
  return out;
}

bool bit_equal(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// |got - ref| <= (|c0| + sum_k |a||b|) * (K + 2) * eps, per element.
template <class AbsProducts>
void expect_within_bound(const std::vector<float>& got, const std::vector<float>& ref, const std::vector<float>& c0,
                         bool accumulate, std::size_t m, std::size_t n, std::size_t ldc, std::size_t k,
                         AbsProducts abs_products, const std::string& what) {
  const double eps = std::numeric_limits<float>::epsilon();
  std::size_t bad = 0;
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const double mag = abs_products(i, j) + (accumulate ? std::fabs(static_cast<double>(c0[i * ldc + j])) : 0.0);
      const double bound = mag * static_cast<double>(k + 2) * eps;
      const double diff = std::fabs(static_cast<double>(got[i * ldc + j]) - static_cast<double>(ref[i * ldc + j]));
      if (!(diff <= bound) && bad++ < 3) {
        ADD_FAILURE() << what << ": C[" << i << "][" << j << "] = " << got[i * ldc + j] << ", reference "
                      << ref[i * ldc + j] << ", |diff| " << diff << " > bound " << bound;
      }
    }
  }
  EXPECT_EQ(bad, 0u) << what;
}

// sum_k |a_ik| |b_kj| over A's stored positions, from the dense copy.
struct AbsProducts {
  const std::vector<float>& dense;
  const std::vector<float>& b;
  std::size_t k, ldb;
  double operator()(std::size_t i, std::size_t j) const {
    double s = 0;
    for (std::size_t kk = 0; kk < k; ++kk)
      s += std::fabs(static_cast<double>(dense[i * k + kk])) * std::fabs(static_cast<double>(b[kk * ldb + j]));
    return s;
  }
};

std::string describe(Isa isa, const Shape& s, bool acc, const char* type) {
  return std::string(isa_name(isa)) + " " + type + " M=" + std::to_string(s.m) + " K=" + std::to_string(s.k) +
         " N=" + std::to_string(s.n) + (acc ? " C+=" : " C=");
}

// fp32: the GEMM path (N > 16) keeps K order: bit-equal to the reference on every ISA, with
// leading dimensions larger than N, both with and without accumulation.
TEST(SparseGemm, Fp32GemmBitEqualsReferenceOnEveryIsa) {
  std::mt19937_64 rng(testing::test_seed("SparseGemm.Fp32Gemm", 0x2424));
  int cases = 0;
  for (Isa isa : isas()) {
    for (const Shape& s : kGemmShapes) {
      for (bool acc : {false, true}) {
        const Random24<float> a = testing::random_24_fp32(rng, s.m, s.k);
        const std::size_t ldb = s.n + 3, ldc = s.n + 5;
        const std::vector<float> b = testing::random_dense_fp32(rng, s.k * ldb);
        std::vector<float> c = testing::random_dense_fp32(rng, s.m * ldc);
        std::vector<float> ref = c;
        reference_gemm(a.view(), b.data(), ldb, ref.data(), ldc, s.n, acc);
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        gemm(a.view(), b.data(), ldb, c.data(), ldc, s.n, o);
        EXPECT_TRUE(bit_equal(c, ref)) << describe(isa, s, acc, "fp32");
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 0);
}

// fp16 / bf16 values with fp32 accumulation: widening is exact, so still bit-equal; both the
// same-format B and the fp32 B variants.
TEST(SparseGemm, HalfGemmBitEqualsReferenceOnEveryIsa) {
  std::mt19937_64 rng(testing::test_seed("SparseGemm.HalfGemm", 0x1616));
  int cases = 0;
  for (Isa isa : isas()) {
    for (HalfType type : {HalfType::fp16, HalfType::bf16}) {
      for (const Shape& s : {kGemmShapes[1], kGemmShapes[3], kGemmShapes[5]}) {
        const bool acc = (cases % 2) == 1;
        const Random24<std::uint16_t> a = testing::random_24_half(rng, s.m, s.k, type);
        const std::vector<std::uint16_t> bh = testing::random_dense_half(rng, s.k * s.n, type);
        const std::vector<float> bf = testing::random_dense_fp32(rng, s.k * s.n);
        std::vector<float> c0 = testing::random_dense_fp32(rng, s.m * s.n);
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        std::vector<float> ref = c0, got = c0;
        reference_gemm(a.view(), type, bh.data(), s.n, ref.data(), s.n, s.n, acc);
        gemm(a.view(), type, bh.data(), s.n, got.data(), s.n, s.n, o);
        EXPECT_TRUE(bit_equal(got, ref)) << describe(isa, s, acc, type == HalfType::fp16 ? "fp16" : "bf16");
        ref = c0;
        got = c0;
        reference_gemm(a.view(), type, bf.data(), s.n, ref.data(), s.n, s.n, acc);
        gemm(a.view(), type, bf.data(), s.n, got.data(), s.n, s.n, o);
        EXPECT_TRUE(bit_equal(got, ref)) << describe(isa, s, acc, type == HalfType::fp16 ? "fp16 x fp32" : "bf16 x fp32");
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 0);
}

// Small N (GEMV): every path sums in the 16-lane order (bit-identical across paths:
// half_weights_test.cpp), a reordering of the reference's K order: within the bound.
TEST(SparseGemm, SmallNWithinBoundOnEveryIsa) {
  std::mt19937_64 rng(testing::test_seed("SparseGemm.SmallN", 0x0101));
  int cases = 0;
  for (Isa isa : isas()) {
    for (const Shape& s : kSmallShapes) {
      for (bool acc : {false, true}) {
        const Random24<float> a = testing::random_24_fp32(rng, s.m, s.k);
        const std::size_t ldb = s.n + (s.n % 2), ldc = s.n + 1;
        const std::vector<float> b = testing::random_dense_fp32(rng, s.k * ldb);
        const std::vector<float> c0 = testing::random_dense_fp32(rng, s.m * ldc);
        std::vector<float> ref = c0, got = c0;
        reference_gemm(a.view(), b.data(), ldb, ref.data(), ldc, s.n, acc);
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        gemm(a.view(), b.data(), ldb, got.data(), ldc, s.n, o);
        const std::string what = describe(isa, s, acc, "fp32 small-N");
        const std::vector<float> dense = decompress(a.view());
        expect_within_bound(got, ref, c0, acc, s.m, s.n, ldc, s.k, AbsProducts{dense, b, s.k, ldb}, what);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 0);
}

TEST(SparseGemm, SmallNHalfWithinBoundOnEveryIsa) {
  std::mt19937_64 rng(testing::test_seed("SparseGemm.SmallNHalf", 0x0202));
  int cases = 0;
  for (Isa isa : isas()) {
    for (HalfType type : {HalfType::fp16, HalfType::bf16}) {
      for (const Shape& s : {kSmallShapes[3], kSmallShapes[5], kSmallShapes[7], kSmallShapes[8]}) {
        const Random24<std::uint16_t> a = testing::random_24_half(rng, s.m, s.k, type);
        const std::vector<std::uint16_t> bh = testing::random_dense_half(rng, s.k * s.n, type);
        std::vector<float> bwide(bh.size());
        for (std::size_t i = 0; i < bh.size(); ++i) bwide[i] = half_to_float(bh[i], type);
        const std::vector<float> c0(s.m * s.n, 0.0f);
        std::vector<float> ref = c0, got = c0;
        reference_gemm(a.view(), type, bh.data(), s.n, ref.data(), s.n, s.n, false);
        GemmOptions o;
        o.isa = isa;
        gemm(a.view(), type, bh.data(), s.n, got.data(), s.n, s.n, o);
        const std::vector<float> dense = decompress(a.view(), type);
        expect_within_bound(got, ref, c0, false, s.m, s.n, s.n, s.k, AbsProducts{dense, bwide, s.k, s.n},
                            describe(isa, s, false, "half small-N"));
        // fp32 activations.
        ref = c0;
        got = c0;
        reference_gemm(a.view(), type, bwide.data(), s.n, ref.data(), s.n, s.n, false);
        gemm(a.view(), type, bwide.data(), s.n, got.data(), s.n, s.n, o);
        expect_within_bound(got, ref, c0, false, s.m, s.n, s.n, s.k, AbsProducts{dense, bwide, s.k, s.n},
                            describe(isa, s, false, "half x fp32 small-N"));
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 0);
}

// Thread count changes the partition, never the per-element order.
TEST(SparseGemm, ThreadCountDoesNotChangeBits) {
  std::mt19937_64 rng(testing::test_seed("SparseGemm.Threads", 0x0303));
  for (const Shape& s : {Shape{197, 136, 531}, Shape{130, 516, 8}}) {
    const Random24<float> a = testing::random_24_fp32(rng, s.m, s.k);
    const std::vector<float> b = testing::random_dense_fp32(rng, s.k * s.n);
    std::vector<float> c1(s.m * s.n), c2(s.m * s.n);
    GemmOptions o;
    o.threads = 1;
    gemm(a.view(), b.data(), s.n, c1.data(), s.n, s.n, o);
    o.threads = 2;
    gemm(a.view(), b.data(), s.n, c2.data(), s.n, s.n, o);
    EXPECT_TRUE(bit_equal(c1, c2));
  }
}

TEST(SparseGemm, GemvWrapper) {
  std::mt19937_64 rng(testing::test_seed("SparseGemm.Gemv", 0x0404));
  const Random24<float> a = testing::random_24_fp32(rng, 37, 96);
  const std::vector<float> x = testing::random_dense_fp32(rng, 96);
  for (Isa isa : isas()) {
    std::vector<float> y(37), ref(37);
    GemmOptions o;
    o.isa = isa;
    gemv(a.view(), x.data(), y.data(), o);
    gemm(a.view(), x.data(), 1, ref.data(), 1, 1, o);
    EXPECT_TRUE(bit_equal(y, ref)) << isa_name(isa);
  }
}

TEST(SparseGemm, KNotMultipleOf4IsAClearError) {
  std::vector<float> values(8 * 5, 1.0f);
  std::vector<std::uint16_t> meta(8, 0x4444);
  const sparse::RowMajor24View<float> a{values.data(), meta.data(), 8, 10};
  std::vector<float> b(10 * 3), c(8 * 3);
  try {
    gemm(a, b.data(), 3, c.data(), 3, 3);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("K = 10"), std::string::npos) << msg;
    EXPECT_NE(msg.find("multiple of 4"), std::string::npos) << msg;
    EXPECT_NE(msg.find("8 x 10"), std::string::npos) << msg;
  }
  EXPECT_THROW(reference_gemm(a, b.data(), 3, c.data(), 3, 3, false), std::invalid_argument);
}

TEST(SparseGemm, BadLeadingDimensionIsAClearError) {
  std::mt19937_64 rng(twofour::testing::test_seed("SparseGemm.BadLeadingDimensionIsAClearError", 5));
  const Random24<float> a = testing::random_24_fp32(rng, 4, 8);
  std::vector<float> b(8 * 20), c(4 * 20);
  EXPECT_THROW(gemm(a.view(), b.data(), 19, c.data(), 20, 20), std::invalid_argument);
  EXPECT_THROW(gemm(a.view(), b.data(), 20, c.data(), 19, 20), std::invalid_argument);
}

// Malformed metadata (equal indices, descending pair): rejected with the row and group, on
// both paths; with validation off, memory-safe (each value uses the column its index names).
TEST(SparseGemm, MalformedMetadataIsRejected) {
  std::mt19937_64 rng(testing::test_seed("SparseGemm.Malformed", 0x0505));
  // Group 5 lies in a full 16-nibble block of the validator, group 17 in the partial tail.
  for (std::size_t group : {std::size_t{5}, std::size_t{17}}) {
  for (unsigned bad_nibble : {sparse::make_nibble(1, 1), sparse::make_nibble(3, 0), sparse::make_nibble(2, 1)}) {
    for (std::size_t n : {std::size_t{1}, std::size_t{40}}) {
      Random24<float> a = testing::random_24_fp32(rng, 9, 76);
      const std::size_t row = 7;
      const std::size_t mw = sparse::meta_words_per_row(76);
      std::uint16_t& w = a.meta[row * mw + group / 4];
      const unsigned shift = 4 * (group % 4);
      w = static_cast<std::uint16_t>((w & ~(0xfu << shift)) | (bad_nibble << shift));
      const std::vector<float> b = testing::random_dense_fp32(rng, 76 * n);
      std::vector<float> c(9 * n);
      try {
        gemm(a.view(), b.data(), n, c.data(), n, n);
        ADD_FAILURE() << "expected std::invalid_argument for nibble " << bad_nibble;
      } catch (const std::invalid_argument& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("row 7"), std::string::npos) << msg;
        EXPECT_NE(msg.find("group " + std::to_string(group) + ":"), std::string::npos) << msg;
      }
      GemmOptions o;
      o.validate_metadata = false;
      for (Isa isa : isas()) {
        o.isa = isa;
        EXPECT_NO_THROW(gemm(a.view(), b.data(), n, c.data(), n, n, o));
        for (float x : c) EXPECT_TRUE(std::isfinite(x));
      }
    }
  }
  }
}

// A rejected call leaves C as it was, on both paths (small N validates inside its row loop and
// restores C), with several threads and a bad row in a late block.
TEST(SparseGemm, RejectedCallLeavesCUnchanged) {
  std::mt19937_64 rng(testing::test_seed("SparseGemm.RejectedCallLeavesCUnchanged", 0x0606));
  for (std::size_t n : {std::size_t{1}, std::size_t{5}, std::size_t{40}}) {
    for (bool acc : {false, true}) {
      for (Isa isa : isas()) {
        Random24<float> a = testing::random_24_fp32(rng, 300, 64);
        const std::size_t mw = sparse::meta_words_per_row(64);
        a.meta[250 * mw + 3] = static_cast<std::uint16_t>((a.meta[250 * mw + 3] & 0xff0fu) | 0x0050u);  // idx0 = idx1 = 1
        a.meta[290 * mw] = static_cast<std::uint16_t>((a.meta[290 * mw] & 0xfff0u) | 0x0003u);  // idx0 = 3 > idx1 = 0
        const std::vector<float> b = testing::random_dense_fp32(rng, 64 * n);
        const std::vector<float> c0 = testing::random_dense_fp32(rng, 300 * n);
        std::vector<float> c = c0;
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        o.threads = 2;
        try {
          gemm(a.view(), b.data(), n, c.data(), n, n, o);
          ADD_FAILURE() << "expected std::invalid_argument";
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("row 250, group 13:"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(bit_equal(c, c0)) << isa_name(isa) << " N=" << n << (acc ? " C+=" : " C=");
      }
    }
  }
}

TEST(SparseGemm, ValidateMetadataAcceptsEveryValidNibble) {
  // Every valid nibble in every position of a 64-bit block, and garbage in the unused tail.
  for (unsigned nib : {4u, 8u, 12u, 9u, 13u, 14u}) {
    std::vector<std::uint16_t> meta(5, static_cast<std::uint16_t>(nib * 0x1111u));
    meta[4] = static_cast<std::uint16_t>(0xff00u | (nib * 0x11u));  // 2 used nibbles, 2 garbage
    EXPECT_NO_THROW(validate_metadata(meta.data(), 1, 72));
  }
}

TEST(SparseGemm, IsaSelection) {
  EXPECT_EQ(parse_isa("scalar"), Isa::scalar);
  EXPECT_EQ(parse_isa("avx2"), Isa::avx2);
  EXPECT_EQ(parse_isa("avx512"), Isa::avx512);
  EXPECT_THROW(parse_isa("sse9"), std::invalid_argument);
  EXPECT_TRUE(isa_supported(Isa::scalar));
  const char* old = std::getenv("TWOFOUR_GEMM_ISA");
  const std::string saved = old != nullptr ? old : "";
  for (Isa isa : supported_isas()) {
    ::setenv("TWOFOUR_GEMM_ISA", std::string(isa_name(isa)).c_str(), 1);
    EXPECT_EQ(default_isa(), isa);
  }
  ::setenv("TWOFOUR_GEMM_ISA", "bogus", 1);
  EXPECT_THROW(default_isa(), std::invalid_argument);
  if (old != nullptr) {
    ::setenv("TWOFOUR_GEMM_ISA", saved.c_str(), 1);
  } else {
    ::unsetenv("TWOFOUR_GEMM_ISA");
  }
  for (Isa isa : {Isa::avx2, Isa::avx512}) {
    if (!isa_supported(isa)) {
      std::mt19937_64 rng(twofour::testing::test_seed("SparseGemm.IsaSelection", 1));
      const Random24<float> a = testing::random_24_fp32(rng, 2, 8);
      std::vector<float> b(8 * 2), c(4);
      GemmOptions o;
      o.isa = isa;
      EXPECT_THROW(gemm(a.view(), b.data(), 2, c.data(), 2, 2, o), std::runtime_error);
    }
  }
  std::printf("[ isa      ] supported:");
  for (Isa isa : supported_isas()) std::printf(" %s", std::string(isa_name(isa)).c_str());
  std::printf("; default %s\n", std::string(isa_name(default_isa())).c_str());
}

// The scalar widening against the exact decode of sim::spec, every pattern.
TEST(SparseGemm, HalfToFloatMatchesSpecDecode) {
  int checked = 0;
  for (std::uint32_t bits = 0; bits < 0x10000; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    for (HalfType type : {HalfType::fp16, HalfType::bf16}) {
      const auto& fmt = type == HalfType::fp16 ? sim::spec::fp16 : sim::spec::bf16;
      const float got = half_to_float(h, type);
      const double want = sim::spec::decode_to_double(fmt, bits);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << bits;
      } else {
        EXPECT_EQ(static_cast<double>(got), want) << bits;
        EXPECT_EQ(std::signbit(got), std::signbit(want)) << bits;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2 * 65536);
}

TEST(SparseGemm, EmptyAndZeroK) {
  std::vector<float> c(6, 5.0f);
  const sparse::RowMajor24View<float> a{nullptr, nullptr, 2, 0};
  std::vector<float> b(1);
  gemm(a, b.data(), 3, c.data(), 3, 3);
  for (float x : c) EXPECT_EQ(x, 0.0f);
}

}  // namespace
}  // namespace twofour::gemm
