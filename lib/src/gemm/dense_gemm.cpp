// Driver of the dense GEMM (twofour/gemm/dense_gemm.hpp): argument checks, dispatch, packing,
// blocking and OpenMP; the kernels are in kernels_dense.inl.
//
// Outer form (BLIS-like): A is packed into MR-row micro-panels (k-major), B into NR-column
// strips (k-major; a block of strips at a time, so that B's rows are read in long runs), K in
// blocks of kOuterKc. Each thread owns a contiguous range of strips (or of panels when there are
// few strips), packs what it needs into its own scratch and runs the MR x NR micro-kernel: no
// barrier inside the product. The K blocks of a tile are visited in order and continue its
// chains from C, so blocking does not change the bits.
//
// Dot form: no packing (both operands are K-contiguous); threads own contiguous ranges of
// MI x NJ output blocks, column-block major (a block of B rows stays in L1 while the A rows, the
// smaller operand in the layers' products, cycle through L2). Long K runs in blocks of kDotKc;
// the 16 lanes of each output are kept in a scratch buffer between blocks (exact fp32 copies).
#include "twofour/gemm/dense_gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "blocked_gemm.hpp"
#include "kernels.hpp"

namespace twofour::gemm {
namespace {

using detail::DenseTileArgs;
using detail::DotArgs;
using detail::KernelTable;

static_assert(kDenseDotLanes == detail::kDotLanes);

constexpr std::size_t kOuterKc = 256;
constexpr std::size_t kOuterPanelsPerBlock = 48;  // A rows packed at once: 48 MR
constexpr std::size_t kOuterBlockColumns = 384;   // B columns packed at once (kc x 384 floats)
constexpr std::size_t kDotKc = 512;              // a multiple of the 16 lanes
constexpr std::size_t kDotSingleBlockMax = 2048;  // up to this K, one block (no lane buffer)
// Below this many multiply-adds a product runs on the calling thread (a fork costs more).
constexpr std::size_t kMinParallelMacs = std::size_t{1} << 18;

struct Range {
  std::size_t begin, end;
};

Range share(std::size_t count, std::size_t part, std::size_t parts) {
  return {count * part / parts, count * (part + 1) / parts};
}

// dst[k * mr + r] = op(A)(i0 + r, k0 + k), rows past m zero.
void pack_a(bool trans_a, const float* a, std::size_t lda, std::size_t m, std::size_t i0, std::size_t mr,
            std::size_t k0, std::size_t kc, float* dst) {
  const std::size_t rows = std::min(mr, m - i0);
  if (trans_a) {
    for (std::size_t k = 0; k < kc; ++k) {
      const float* src = a + (k0 + k) * lda + i0;
      float* out = dst + k * mr;
      for (std::size_t r = 0; r < rows; ++r) out[r] = src[r];
      for (std::size_t r = rows; r < mr; ++r) out[r] = 0.0f;
    }
  } else {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* src = a + (i0 + r) * lda + k0;
      for (std::size_t k = 0; k < kc; ++k) dst[k * mr + r] = src[k];
    }
    for (std::size_t r = rows; r < mr; ++r)
      for (std::size_t k = 0; k < kc; ++k) dst[k * mr + r] = 0.0f;
  }
}

// `count` strips of nr columns from column j0: strip q at dst + q * kc * nr, dst[k * nr + j] =
// op(B)(k0 + k, j0 + q * nr + j), columns past n zero. Untransposed B is read row by row across
// all the strips (long contiguous runs).
void pack_b(bool trans_b, const float* b, std::size_t ldb, std::size_t n, std::size_t j0, std::size_t nr,
            std::size_t count, std::size_t k0, std::size_t kc, float* dst) {
  for (std::size_t q = 0; q < count; ++q) {
    const std::size_t col0 = j0 + q * nr, cols = std::min(nr, n - col0);
    float* strip = dst + q * kc * nr;
    if (trans_b) {
      for (std::size_t j = 0; j < cols; ++j) {
        const float* src = b + (col0 + j) * ldb + k0;
        for (std::size_t k = 0; k < kc; ++k) strip[k * nr + j] = src[k];
      }
    }
    for (std::size_t j = cols; j < nr; ++j)
      for (std::size_t k = 0; k < kc; ++k) strip[k * nr + j] = 0.0f;
  }
  if (trans_b) return;
  for (std::size_t k = 0; k < kc; ++k) {
    const float* src = b + (k0 + k) * ldb;
    for (std::size_t q = 0; q < count; ++q) {
      const std::size_t col0 = j0 + q * nr, cols = std::min(nr, n - col0);
      std::copy_n(src + col0, cols, dst + q * kc * nr + k * nr);
    }
  }
}

void outer_form(const KernelTable& kt, bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                const float* a, std::size_t lda, const float* b, std::size_t ldb, float* c, std::size_t ldc,
                bool accumulate, int threads) {
  const std::size_t mr = static_cast<std::size_t>(kt.dense.mr), nr = static_cast<std::size_t>(kt.dense.nr);
  const std::size_t panels = (m + mr - 1) / mr, strips = (n + nr - 1) / nr;
  const auto team = static_cast<std::size_t>(threads);
  // Split the strips when each thread gets a few (B is then packed once); else the panels.
  const bool split_strips = strips >= 2 * team || strips >= panels;
  const std::size_t kcmax = std::min(kOuterKc, k);
  const std::size_t strips_per_block = std::max<std::size_t>(1, kOuterBlockColumns / nr);
#pragma omp parallel num_threads(threads)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    const auto parts = static_cast<std::size_t>(omp_get_num_threads());
    const Range s = split_strips ? share(strips, t, parts) : Range{0, strips};
    const Range p = split_strips ? Range{0, panels} : share(panels, t, parts);
    float* const apack = detail::scratch<float>(std::min(p.end - p.begin, kOuterPanelsPerBlock) * mr * kcmax, 0);
    float* const bpack = detail::scratch<float>(kcmax * nr * strips_per_block, 1);
    for (std::size_t pb = p.begin; pb < p.end; pb += kOuterPanelsPerBlock) {
      const std::size_t pe = std::min(p.end, pb + kOuterPanelsPerBlock);
      for (std::size_t sb = s.begin; sb < s.end; sb += strips_per_block) {
        const std::size_t se = std::min(s.end, sb + strips_per_block);
        for (std::size_t k0 = 0; k0 < k; k0 += kOuterKc) {
          const std::size_t kc = std::min(kOuterKc, k - k0);
          // Re-packing A per strip block costs panels * kc copies against strips * panels * kc
          // tile steps; packing B a block of strips at a time reads B's rows in long runs.
          for (std::size_t q = pb; q < pe; ++q) pack_a(trans_a, a, lda, m, q * mr, mr, k0, kc, apack + (q - pb) * mr * kc);
          pack_b(trans_b, b, ldb, n, sb * nr, nr, se - sb, k0, kc, bpack);
          for (std::size_t st = sb; st < se; ++st) {
            const std::size_t j0 = st * nr;
            for (std::size_t q = pb; q < pe; ++q) {
              const std::size_t i0 = q * mr;
              const DenseTileArgs args{apack + (q - pb) * mr * kc, bpack + (st - sb) * kc * nr, kc, c + i0 * ldc + j0,
                                       ldc, std::min(mr, m - i0), std::min(nr, n - j0), accumulate || k0 > 0};
              kt.dense.run(args);
            }
          }
        }
      }
    }
  }
}

void dot_form(const KernelTable& kt, std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
              const float* b, std::size_t ldb, float* c, std::size_t ldc, bool accumulate, int threads) {
  const std::size_t mi = static_cast<std::size_t>(kt.dot.mi), nj = static_cast<std::size_t>(kt.dot.nj);
  const std::size_t kb = k <= kDotSingleBlockMax ? k : kDotKc;
  const std::size_t lanes_ld = n * kDenseDotLanes;
  float* const lanes = k > kb ? detail::scratch<float>(m * lanes_ld, 1) : nullptr;
  const std::size_t bi = (m + mi - 1) / mi, bj = (n + nj - 1) / nj;
#pragma omp parallel num_threads(threads)
  {
    const Range r = share(bi * bj, static_cast<std::size_t>(omp_get_thread_num()),
                          static_cast<std::size_t>(omp_get_num_threads()));
    for (std::size_t k0 = 0; k0 < k; k0 += kb) {
      const std::size_t kc = std::min(kb, k - k0);
      const bool first = k0 == 0, last = k0 + kc == k;
      for (std::size_t task = r.begin; task < r.end; ++task) {
        const std::size_t j0 = task / bi * nj, i0 = task % bi * mi;
        const auto args = [&](std::size_t i, std::size_t j) {
          return DotArgs{a + i * lda + k0, lda, b + j * ldb + k0, ldb, kc,
                         lanes ? lanes + i * lanes_ld + j * kDenseDotLanes : nullptr, lanes_ld,
                         c + i * ldc + j, ldc, first, last, accumulate};
        };
        if (i0 + mi <= m && j0 + nj <= n) {
          kt.dot.run(args(i0, j0));
        } else {
          for (std::size_t i = i0; i < std::min(m, i0 + mi); ++i)
            for (std::size_t j = j0; j < std::min(n, j0 + nj); ++j) kt.dot.one(args(i, j));
        }
      }
    }
  }
}

}  // namespace

void dense_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                std::size_t lda, const float* b, std::size_t ldb, float* c, std::size_t ldc,
                const DenseGemmOptions& o) {
  const auto need = [](std::size_t ld, std::size_t row, const char* what) {
    if (ld < row)
      throw std::invalid_argument(std::string("dense_gemm: ") + what + " " + std::to_string(ld) +
                                  " is smaller than its row of " + std::to_string(row));
  };
  need(lda, trans_a ? m : k, "lda");
  need(ldb, trans_b ? k : n, "ldb");
  need(ldc, n, "ldc");
  const KernelTable& kt = detail::resolve_kernels(o.isa);
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!o.accumulate)
      for (std::size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  int threads = o.threads > 0 ? o.threads : (omp_in_parallel() ? 1 : omp_get_max_threads());
  if (m * n * k < kMinParallelMacs) threads = 1;
  if (!trans_a && trans_b) {
    dot_form(kt, m, n, k, a, lda, b, ldb, c, ldc, o.accumulate, threads);
  } else {
    outer_form(kt, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, o.accumulate, threads);
  }
}

}  // namespace twofour::gemm
