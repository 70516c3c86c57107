// twofour::gemm against OpenBLAS, an independent dense BLAS, on the decompressed A: the same
// products summed in another order, so the results agree within the reordering bound
// (sum_k |a||b|) * (K + 2) * eps. This also checks that the build links the benchmark's peer.
#include <cblas.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "lib/gemm/gemm_support.hpp"
#include "support/seed.hpp"
#include "twofour/gemm/reference.hpp"
#include "twofour/gemm/sparse_gemm.hpp"

namespace twofour::gemm {
namespace {

TEST(OpenBlasPeer, SgemmOnDecompressedAAgreesWithinReorderingBound) {
  std::mt19937_64 rng(testing::test_seed("OpenBlasPeer.Sgemm", 0xb1a5));
  struct Shape {
    std::size_t m, k, n;
  };
  for (const Shape& s : {Shape{37, 132, 1}, Shape{64, 256, 8}, Shape{45, 520, 70}}) {
    const testing::Random24<float> a = testing::random_24_fp32(rng, s.m, s.k);
    const std::vector<float> b = testing::random_dense_fp32(rng, s.k * s.n);
    const std::vector<float> dense = decompress(a.view());
    std::vector<float> blas(s.m * s.n), got(s.m * s.n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(s.m), static_cast<int>(s.n),
                static_cast<int>(s.k), 1.0f, dense.data(), static_cast<int>(s.k), b.data(), static_cast<int>(s.n),
                0.0f, blas.data(), static_cast<int>(s.n));
    for (Isa isa : supported_isas()) {
      GemmOptions o;
      o.isa = isa;
      gemm(a.view(), b.data(), s.n, got.data(), s.n, s.n, o);
      const double eps = std::numeric_limits<float>::epsilon();
      for (std::size_t i = 0; i < s.m; ++i) {
        for (std::size_t j = 0; j < s.n; ++j) {
          double mag = 0;
          for (std::size_t kk = 0; kk < s.k; ++kk) mag += std::fabs(double{dense[i * s.k + kk]} * double{b[kk * s.n + j]});
          const double diff = std::fabs(double{got[i * s.n + j]} - double{blas[i * s.n + j]});
          ASSERT_LE(diff, mag * static_cast<double>(s.k + 2) * eps)
              << isa_name(isa) << " M=" << s.m << " K=" << s.k << " N=" << s.n << " C[" << i << "][" << j << "]";
        }
      }
    }
  }
}

}  // namespace
}  // namespace twofour::gemm
