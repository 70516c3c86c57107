// twofour::gemm::dense_gemm against an independent scalar oracle of the documented summation
// order (std::fma chains in K order; for A * B^T, 16 lanes by k mod 16 and the pairwise tree),
// bit for bit, on every instruction set this CPU runs, every transpose combination, edge shapes,
// long K (the dot form's lane buffer between K blocks), padded strides and 1-3 threads. The
// oracle itself is checked against double-precision products within the reordering bound.
#include "twofour/gemm/dense_gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace twofour::gemm {
namespace {

struct Problem {
  bool ta, tb;
  std::size_t m, n, k, pad;  // pad: extra floats per stored row (strides larger than rows)
  bool accumulate;
};

struct Operands {
  std::vector<float> a, b, c0;
  std::size_t lda, ldb, ldc;
};

Operands make(const Problem& p, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Operands o;
  o.lda = (p.ta ? p.m : p.k) + p.pad;
  o.ldb = (p.tb ? p.k : p.n) + p.pad;
  o.ldc = p.n + p.pad;
  o.a.resize((p.ta ? p.k : p.m) * o.lda);
  o.b.resize((p.tb ? p.n : p.k) * o.ldb);
  o.c0.resize(p.m * o.ldc);
  for (auto* v : {&o.a, &o.b, &o.c0})
    for (auto& x : *v) x = u(rng);
  return o;
}

float at_a(const Problem& p, const Operands& o, std::size_t i, std::size_t k) {
  return p.ta ? o.a[k * o.lda + i] : o.a[i * o.lda + k];
}
float at_b(const Problem& p, const Operands& o, std::size_t k, std::size_t j) {
  return p.tb ? o.b[j * o.ldb + k] : o.b[k * o.ldb + j];
}

// The order of twofour/gemm/dense_gemm.hpp, written out directly.
std::vector<float> oracle(const Problem& p, const Operands& o) {
  std::vector<float> c = o.c0;
  for (std::size_t i = 0; i < p.m; ++i)
    for (std::size_t j = 0; j < p.n; ++j) {
      float& out = c[i * o.ldc + j];
      if (!p.ta && p.tb) {
        float lanes[16] = {};
        for (std::size_t k = 0; k < p.k; ++k) lanes[k % 16] = std::fma(at_a(p, o, i, k), at_b(p, o, k, j), lanes[k % 16]);
        for (std::size_t w = 8; w >= 1; w /= 2)
          for (std::size_t l = 0; l < w; ++l) lanes[l] = lanes[l] + lanes[l + w];
        out = p.accumulate ? out + lanes[0] : lanes[0];
      } else {
        float s = p.accumulate ? out : 0.0f;
        for (std::size_t k = 0; k < p.k; ++k) s = std::fma(at_a(p, o, i, k), at_b(p, o, k, j), s);
        out = s;
      }
    }
  return c;
}

std::vector<float> run(const Problem& p, const Operands& o, Isa isa, int threads) {
  std::vector<float> c = o.c0;
  DenseGemmOptions opt;
  opt.accumulate = p.accumulate;
  opt.isa = isa;
  opt.threads = threads;
  dense_gemm(p.ta, p.tb, p.m, p.n, p.k, o.a.data(), o.lda, o.b.data(), o.ldb, c.data(), o.ldc, opt);
  return c;
}

std::string name(const Problem& p, Isa isa, int threads) {
  return std::string(isa_name(isa)) + " ta=" + std::to_string(p.ta) + " tb=" + std::to_string(p.tb) +
         " m=" + std::to_string(p.m) + " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k) +
         " pad=" + std::to_string(p.pad) + " acc=" + std::to_string(p.accumulate) + " threads=" + std::to_string(threads);
}

TEST(DenseGemm, BitEqualToTheDocumentedOrderOnEveryPathAndThreadCount) {
  std::mt19937_64 rng(23);
  const std::size_t sizes[][3] = {{1, 1, 1},    {3, 5, 7},     {8, 48, 16},  {9, 49, 17},   {17, 100, 33},
                                  {16, 9, 300}, {70, 130, 64}, {5, 3, 2100}, {13, 21, 2600}, {40, 400, 9},
                                  {2, 2, 0}};
  int checked = 0;
  for (const auto& s : sizes)
    for (int t = 0; t < 4; ++t)
      for (int acc = 0; acc < 2; ++acc) {
        const Problem p{(t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], static_cast<std::size_t>(acc * 3), acc != 0};
        const Operands o = make(p, rng);
        const std::vector<float> want = oracle(p, o);
        for (Isa isa : supported_isas())
          for (int threads : {1, 2, 3}) {
            const std::vector<float> got = run(p, o, isa, threads);
            ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float))) << name(p, isa, threads);
            ++checked;
          }
      }
  EXPECT_GT(checked, 0);
}

// The oracle is a reordering of the exact sum: within K * eps * sum |a||b| of it (double products).
TEST(DenseGemm, OracleWithinTheReorderingBoundOfExactProducts) {
  std::mt19937_64 rng(5);
  for (int t = 0; t < 4; ++t) {
    const Problem p{(t & 1) != 0, (t & 2) != 0, 7, 11, 3000, 0, false};
    const Operands o = make(p, rng);
    const std::vector<float> c = oracle(p, o);
    for (std::size_t i = 0; i < p.m; ++i)
      for (std::size_t j = 0; j < p.n; ++j) {
        double exact = 0, mag = 0;
        for (std::size_t k = 0; k < p.k; ++k) {
          const double prod = static_cast<double>(at_a(p, o, i, k)) * static_cast<double>(at_b(p, o, k, j));
          exact += prod;
          mag += std::fabs(prod);
        }
        const double bound = static_cast<double>(p.k) * static_cast<double>(std::numeric_limits<float>::epsilon()) * mag;
        EXPECT_LE(std::fabs(static_cast<double>(c[i * o.ldc + j]) - exact), bound) << i << "," << j;
      }
  }
}

TEST(DenseGemm, RejectsStridesSmallerThanRows) {
  std::vector<float> a(64), b(64), c(64);
  EXPECT_THROW(dense_gemm(false, false, 4, 4, 4, a.data(), 3, b.data(), 4, c.data(), 4), std::invalid_argument);
  EXPECT_THROW(dense_gemm(false, true, 4, 4, 4, a.data(), 4, b.data(), 3, c.data(), 4), std::invalid_argument);
  EXPECT_THROW(dense_gemm(true, false, 4, 5, 4, a.data(), 4, b.data(), 5, c.data(), 4), std::invalid_argument);
}

TEST(DenseGemm, EmptyKClearsOrKeepsC) {
  std::vector<float> a(1), b(1), c(6, 2.0f);
  DenseGemmOptions acc;
  acc.accumulate = true;
  dense_gemm(false, false, 2, 3, 0, a.data(), 1, b.data(), 3, c.data(), 3, acc);
  EXPECT_EQ(c, std::vector<float>(6, 2.0f));
  dense_gemm(false, false, 2, 3, 0, a.data(), 1, b.data(), 3, c.data(), 3);
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

}  // namespace
}  // namespace twofour::gemm
