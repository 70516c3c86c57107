// 16-bit weights: fp32 -> fp16 / bf16 rounding (round_to_half) against independent oracles, and
// the small-N (GEMV) summation order, bit-identical on every instruction set to an independent
// implementation of the order that sparse_gemm.hpp defines.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lib/gemm/gemm_support.hpp"
#include "support/seed.hpp"
#include "twofour/gemm/dense_gemv.hpp"
#include "twofour/gemm/reference.hpp"
#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/rounding.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace twofour::gemm {
namespace {

// The inputs of the rounding tests: every value of the top 16 bits (sign, exponent, the bits
// bf16 keeps) with low halves chosen to hit each rounding case of both formats (exact, below,
// at and above the tie, with an even and an odd kept bit, sticky bits alone), plus random low
// halves. TWOFOUR_EXHAUSTIVE=1: all 2^32 patterns.
std::vector<std::uint32_t> rounding_inputs(std::uint32_t hi_begin, std::uint32_t hi_end, std::mt19937_64& rng) {
  static constexpr std::uint16_t kLow[] = {0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x3000,
                                           0x3001, 0x7fff, 0x8000, 0x8001, 0xbfff, 0xe000, 0xf000, 0xffff};
  std::vector<std::uint32_t> out;
  for (std::uint32_t hi = hi_begin; hi < hi_end; ++hi) {
    if (testing::exhaustive_requested()) {
      for (std::uint32_t lo = 0; lo < 0x10000; ++lo) out.push_back(hi << 16 | lo);
      continue;
    }
    for (std::uint16_t lo : kLow) out.push_back(hi << 16 | lo);
    for (int i = 0; i < 2; ++i) out.push_back(hi << 16 | static_cast<std::uint32_t>(rng() & 0xffff));
  }
  return out;
}

// Oracle for every non-NaN input: the simulator's IEEE rounding function (an exact
// significand-and-exponent implementation, a different algorithm from the library's bit tricks).
// NaN: the library's documented patterns (bf16: ml_dtypes' canonical quiet NaN with the sign;
// fp16: sign, quiet bit, top 10 payload bits, as F16C).
std::uint16_t oracle(std::uint32_t bits, HalfType type) {
  const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  if (type == HalfType::bf16) {
    if (nan) return static_cast<std::uint16_t>(sign | 0x7fc0u);
    return static_cast<std::uint16_t>(sim::spec::convert_from_fp32(sim::spec::bf16, bits));
  }
  if (nan) return static_cast<std::uint16_t>(sign | 0x7e00u | ((bits >> 13) & 0x3ffu));
  return static_cast<std::uint16_t>(sim::spec::convert_from_fp32(sim::spec::fp16, bits));
}

#if defined(__x86_64__)
// The CPU's own fp32 -> fp16 conversion (vcvtps2ph, round to nearest even by immediate).
__attribute__((target("f16c"))) std::uint16_t cpu_fp16(std::uint32_t bits) {
  return static_cast<std::uint16_t>(
      _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(std::bit_cast<float>(bits)), _MM_FROUND_TO_NEAREST_INT), 0));
}
bool cpu_has_f16c() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("f16c");
}
#endif

TEST(RoundToHalf, EveryIsaMatchesOraclesOnEveryExponentAndRoundingCase) {
  std::mt19937_64 rng(testing::test_seed("RoundToHalf.Oracles", 0xbf16));
  std::size_t checked = 0;
  // Blocks of top halves keep the buffers small (2^24 inputs per block in the exhaustive mode).
  const std::uint32_t step = testing::exhaustive_requested() ? 0x100 : 0x1000;
  for (std::uint32_t hi0 = 0; hi0 < 0x10000; hi0 += step) {
    const std::vector<std::uint32_t> in_bits = rounding_inputs(hi0, hi0 + step, rng);
    std::vector<float> in(in_bits.size());
    std::memcpy(in.data(), in_bits.data(), in.size() * sizeof(float));
    for (HalfType type : {HalfType::bf16, HalfType::fp16}) {
      const char* name = type == HalfType::bf16 ? "bf16" : "fp16";
      std::vector<std::uint16_t> want(in.size());
      for (std::size_t i = 0; i < in.size(); ++i) {
        want[i] = oracle(in_bits[i], type);
        const std::uint16_t one = round_to_half(in[i], type);
        if (one != want[i]) {
          FAIL() << name << " round_to_half(0x" << std::hex << in_bits[i] << ") = 0x" << one << ", oracle 0x" << want[i];
        }
#if defined(__x86_64__)
        if (type == HalfType::fp16 && cpu_has_f16c() && cpu_fp16(in_bits[i]) != want[i]) {
          FAIL() << "fp16 of 0x" << std::hex << in_bits[i] << ": oracle 0x" << want[i] << ", F16C 0x"
                 << cpu_fp16(in_bits[i]);
        }
#endif
      }
      for (Isa isa : supported_isas()) {
        // Odd offsets and lengths: the SIMD bodies and the scalar tails both run.
        std::vector<std::uint16_t> got(in.size() + 1, 0xdead);
        round_to_half(in.data() + 1, got.data() + 1, in.size() - 1, type, isa);
        ASSERT_EQ(got[0], 0xdead);
        for (std::size_t i = 1; i < in.size(); ++i) {
          if (got[i] != want[i]) {
            FAIL() << name << " " << isa_name(isa) << ": 0x" << std::hex << in_bits[i] << " -> 0x" << got[i]
                   << ", oracle 0x" << want[i];
          }
        }
      }
      checked += in.size();
    }
  }
  EXPECT_GE(checked, 2u * 65536u * 18u);
}

TEST(RoundToHalf, KnownValues) {
  EXPECT_EQ(round_to_half(1.0f, HalfType::bf16), 0x3f80);
  EXPECT_EQ(round_to_half(1.0f, HalfType::fp16), 0x3c00);
  EXPECT_EQ(round_to_half(std::bit_cast<float>(0x3f808000u), HalfType::bf16), 0x3f80);  // tie, even stays
  EXPECT_EQ(round_to_half(std::bit_cast<float>(0x3f818000u), HalfType::bf16), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(round_to_half(std::bit_cast<float>(0x00018000u), HalfType::bf16), 0x0002);  // subnormal kept
  EXPECT_EQ(round_to_half(65520.0f, HalfType::fp16), 0x7c00);                          // overflow tie -> inf
  EXPECT_EQ(round_to_half(65519.996f, HalfType::fp16), 0x7bff);
  EXPECT_EQ(round_to_half(std::ldexp(1.0f, -24), HalfType::fp16), 0x0001);  // smallest subnormal
  EXPECT_EQ(round_to_half(std::ldexp(1.0f, -25), HalfType::fp16), 0x0000);  // its half: tie to even
  EXPECT_EQ(round_to_half(-std::nanf(""), HalfType::bf16), 0xffc0);
}

TEST(RoundToHalf, OverlapAndNullAreErrors) {
  std::vector<float> buf(16, 1.0f);
  auto* alias = reinterpret_cast<std::uint16_t*>(buf.data() + 4);
  EXPECT_THROW(round_to_half(buf.data(), alias, 8, HalfType::bf16), std::invalid_argument);
  EXPECT_THROW(round_to_half(nullptr, alias, 8, HalfType::bf16), std::invalid_argument);
  EXPECT_NO_THROW(round_to_half(nullptr, nullptr, 0, HalfType::bf16));
}

// The fixed 16-lane tree of sparse_gemm.hpp: lanes j + (j + 8), then + 4, + 2, + 1.
float tree16(const float* p) {
  float q[8], r[4], t[2];
  for (int x = 0; x < 8; ++x) q[x] = p[x] + p[x + 8];
  for (int x = 0; x < 4; ++x) r[x] = q[x] + q[x + 4];
  for (int x = 0; x < 2; ++x) t[x] = r[x] + r[x + 2];
  return t[0] + t[1];
}

// The small-N order of sparse_gemm.hpp, written from its definition over the dense copy of A
// and its stored-position mask (not the compressed stream the kernels read).
std::vector<float> lane_order_oracle(const std::vector<float>& dense, const std::vector<std::uint8_t>& stored,
                                     std::size_t m, std::size_t k, const std::vector<float>& b, std::size_t ldb,
                                     std::size_t n, const std::vector<float>& c0, std::size_t ldc, bool accumulate) {
  std::vector<float> c = c0;
  const std::size_t lane_cols = k / 32 * 32;
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      float p[16] = {};
      std::size_t s = 0;  // kept-element number within the row
      float tail = 0.0f;
      bool reduced = false;
      for (std::size_t kk = 0; kk < k; ++kk) {
        if (stored[i * k + kk] == 0) continue;
        const float a = dense[i * k + kk], bb = b[kk * ldb + j];
        if (kk < lane_cols) {
          p[s % 16] = std::fma(a, bb, p[s % 16]);
        } else {
          if (!reduced) {
            tail = tree16(p);
            reduced = true;
          }
          tail = std::fma(a, bb, tail);
        }
        ++s;
      }
      if (!reduced) tail = tree16(p);
      float& out = c[i * ldc + j];
      out = accumulate ? out + tail : tail;
    }
  }
  return c;
}

struct SmallShape {
  std::size_t m, k, n;
};
// K below, at and around multiples of 32 (lanes only, tail only, both); N over every column
// block (8, 4, 2, 1) and their combinations; M over every row block (8, 4, 3, 2, 1) and 48.
const std::vector<SmallShape> kShapes = {{1, 4, 1},    {3, 28, 2},   {9, 32, 3},    {17, 36, 5},  {33, 100, 8},
                                         {70, 260, 9}, {5, 64, 16},  {130, 516, 13}, {8, 1028, 1}, {66, 48, 4},
                                         {50, 96, 7},  {11, 1024, 1}, {97, 2080, 1}, {19, 160, 15}};

bool bits_equal(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

TEST(SmallNOrder, Fp32BitIdenticalOnEveryIsa) {
  std::mt19937_64 rng(testing::test_seed("SmallNOrder.Fp32", 0x1a9e));
  int cases = 0;
  for (const SmallShape& s : kShapes) {
    for (bool acc : {false, true}) {
      const testing::Random24<float> a = testing::random_24_fp32(rng, s.m, s.k);
      std::vector<std::uint8_t> stored;
      const std::vector<float> dense = decompress(a.view(), &stored);
      const std::size_t ldb = s.n + 1, ldc = s.n + 2;
      const std::vector<float> b = testing::random_dense_fp32(rng, s.k * ldb);
      const std::vector<float> c0 = testing::random_dense_fp32(rng, s.m * ldc);
      const std::vector<float> want = lane_order_oracle(dense, stored, s.m, s.k, b, ldb, s.n, c0, ldc, acc);
      for (Isa isa : supported_isas()) {
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        std::vector<float> got = c0;
        gemm(a.view(), b.data(), ldb, got.data(), ldc, s.n, o);
        EXPECT_TRUE(bits_equal(got, want)) << isa_name(isa) << " M=" << s.m << " K=" << s.k << " N=" << s.n
                                           << (acc ? " C+=" : " C=");
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 0);
}

// 16-bit weights with fp32 activations (the inference case) and with same-format activations.
TEST(SmallNOrder, HalfWeightsBitIdenticalOnEveryIsa) {
  std::mt19937_64 rng(testing::test_seed("SmallNOrder.Half", 0x1a9f));
  int cases = 0;
  for (HalfType type : {HalfType::bf16, HalfType::fp16}) {
    for (const SmallShape& s : kShapes) {
      const bool acc = (cases % 2) == 1;
      const testing::Random24<std::uint16_t> a = testing::random_24_half(rng, s.m, s.k, type);
      std::vector<std::uint8_t> stored;
      const std::vector<float> dense = decompress(a.view(), type, &stored);
      const std::vector<float> bf = testing::random_dense_fp32(rng, s.k * s.n);
      const std::vector<std::uint16_t> bh = testing::random_dense_half(rng, s.k * s.n, type);
      std::vector<float> bh_wide(bh.size());
      for (std::size_t i = 0; i < bh.size(); ++i) bh_wide[i] = half_to_float(bh[i], type);
      const std::vector<float> c0 = testing::random_dense_fp32(rng, s.m * s.n);
      const std::vector<float> want_f = lane_order_oracle(dense, stored, s.m, s.k, bf, s.n, s.n, c0, s.n, acc);
      const std::vector<float> want_h = lane_order_oracle(dense, stored, s.m, s.k, bh_wide, s.n, s.n, c0, s.n, acc);
      for (Isa isa : supported_isas()) {
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        const std::string what = std::string(isa_name(isa)) + (type == HalfType::bf16 ? " bf16" : " fp16") +
                                 " M=" + std::to_string(s.m) + " K=" + std::to_string(s.k) + " N=" + std::to_string(s.n);
        std::vector<float> got = c0;
        gemm(a.view(), type, bf.data(), s.n, got.data(), s.n, s.n, o);
        EXPECT_TRUE(bits_equal(got, want_f)) << what << " x fp32";
        got = c0;
        gemm(a.view(), type, bh.data(), s.n, got.data(), s.n, s.n, o);
        EXPECT_TRUE(bits_equal(got, want_h)) << what << " x same format";
        if (s.n == 1) {
          got = c0;
          gemv(a.view(), type, bf.data(), got.data(), o);
          EXPECT_TRUE(bits_equal(got, want_f)) << what << " gemv";
        }
      }
      ++cases;
    }
  }
  EXPECT_GT(cases, 0);
}

// Weights rounded by round_to_half multiply as the rounded values: the bf16 GEMV of rounded
// weights equals the fp32 GEMV of the same values widened back (exact widening), bit for bit.
TEST(SmallNOrder, RoundedWeightsEqualTheirWidenedFp32) {
  std::mt19937_64 rng(testing::test_seed("SmallNOrder.Rounded", 0x1aa0));
  const testing::Random24<float> a = testing::random_24_fp32(rng, 64, 544);
  const std::vector<float> x = testing::random_dense_fp32(rng, 544);
  for (HalfType type : {HalfType::bf16, HalfType::fp16}) {
    std::vector<std::uint16_t> half(a.values.size());
    round_to_half(a.values.data(), half.data(), half.size(), type);
    std::vector<float> widened(half.size());
    for (std::size_t i = 0; i < half.size(); ++i) widened[i] = half_to_float(half[i], type);
    const sparse::RowMajor24View<std::uint16_t> ah{half.data(), a.meta.data(), a.rows, a.cols};
    const sparse::RowMajor24View<float> aw{widened.data(), a.meta.data(), a.rows, a.cols};
    for (Isa isa : supported_isas()) {
      GemmOptions o;
      o.isa = isa;
      std::vector<float> y_half(64), y_wide(64);
      gemv(ah, type, x.data(), y_half.data(), o);
      gemv(aw, x.data(), y_wide.data(), o);
      EXPECT_TRUE(bits_equal(y_half, y_wide)) << isa_name(isa);
    }
  }
}

// The dense 16-bit GEMV (the benchmark's dense bf16 peer): the same order with every column
// kept, written out here from the definition; bit-identical on every instruction set.
TEST(DenseGemv, BitIdenticalOnEveryIsaToTheLaneOrder) {
  std::mt19937_64 rng(testing::test_seed("DenseGemv.LaneOrder", 0xd16));
  int cases = 0;
  for (HalfType type : {HalfType::bf16, HalfType::fp16}) {
    for (const auto& [m, k] : {std::pair<std::size_t, std::size_t>{1, 4}, {9, 31}, {17, 32}, {70, 100}, {8, 1029},
                               {130, 64}}) {
      const bool acc = (cases % 2) == 1;
      const std::size_t lda = k + 3;
      const std::vector<std::uint16_t> a = testing::random_dense_half(rng, m * lda, type);
      const std::vector<float> x = testing::random_dense_fp32(rng, k);
      const std::vector<float> y0 = testing::random_dense_fp32(rng, m);
      std::vector<float> want = y0;
      const std::size_t lane_cols = k / 32 * 32;
      for (std::size_t i = 0; i < m; ++i) {
        float p[16] = {};
        for (std::size_t kk = 0; kk < lane_cols; ++kk)
          p[kk % 16] = std::fma(half_to_float(a[i * lda + kk], type), x[kk], p[kk % 16]);
        float sum = tree16(p);
        for (std::size_t kk = lane_cols; kk < k; ++kk) sum = std::fma(half_to_float(a[i * lda + kk], type), x[kk], sum);
        want[i] = acc ? want[i] + sum : sum;
      }
      for (Isa isa : supported_isas()) {
        GemmOptions o;
        o.isa = isa;
        o.accumulate = acc;
        std::vector<float> y = y0;
        dense_gemv(a.data(), type, m, k, lda, x.data(), y.data(), o);
        EXPECT_TRUE(bits_equal(y, want)) << isa_name(isa) << " M=" << m << " K=" << k;
      }
      ++cases;
    }
  }
  std::vector<std::uint16_t> a(8);
  std::vector<float> x(8), y(2);
  EXPECT_THROW(dense_gemv(a.data(), HalfType::bf16, 2, 8, 4, x.data(), y.data()), std::invalid_argument);
  EXPECT_THROW(dense_gemv(nullptr, HalfType::bf16, 2, 4, 4, x.data(), y.data()), std::invalid_argument);
}

}  // namespace
}  // namespace twofour::gemm
