// Driver and reference of the sampled 2:4 GEMM (sampled_gemm.hpp): checks, zero padding of the
// reduction dimension to whole 16-lane chunks, blocking, OpenMP across row blocks, and the
// instruction-set dispatch to kernels_sampled.inl.
//
// Blocking: a block of kRowBlock rows runs over the reduction dimension in slices of kSlice to
// 2 kSlice elements (the reduction split evenly, so no short tail slice), and inside a slice over
// column blocks of kColBlock columns of B, so that the B block (kColBlock x slice floats, 32-64 KB)
// is reused by every row of the row block from cache. Between slices each stored slot keeps its
// 16 chain sums in a per-thread buffer; a reduction no longer than one slice (a linear layer's
// batch) never touches it. No block size changes the order of any chain, so none changes the
// bits. Measured (train_bench BM_Layer24, random 2:4 metadata, one thread, Zen 4, least of 3):
// at a convolution chunk's shapes (32 x 144 and 64 x 288 targets, reductions 784 and 448) 16
// rows, 32 columns, even slices and 8-slot units took 77 and 127 us where 8 rows, 64 columns,
// fixed 256-element slices (a 16-element tail) and 4-slot units took 100 and 216 us; at the
// linear layers' shapes (300 x 784 and 128 x 3136, batch 128) 499 and 913 against 545 and 968 us.
#include "twofour/gemm/sampled_gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "blocked_gemm.hpp"
#include "kernels.hpp"

namespace twofour::gemm {
namespace {

constexpr std::size_t kRowBlock = 16;
constexpr std::size_t kSlice = 256;     // the shortest slice of a split reduction, a multiple of kSampledLanes
constexpr std::size_t kColBlock = 32;   // columns of B per block, a multiple of 4

std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }

void check(const SampledTarget& out, const float* a, std::size_t lda, const float* b, std::size_t ldb, std::size_t n) {
  const std::string shape = "(target " + std::to_string(out.rows) + " x " + std::to_string(out.cols) +
                            ", reduction n = " + std::to_string(n) + ")";
  if (out.cols % 4 != 0)
    throw std::invalid_argument("twofour::gemm::sampled_gemm: cols = " + std::to_string(out.cols) +
                                " is not a multiple of 4 " + shape);
  if (lda < n || ldb < n)
    throw std::invalid_argument("twofour::gemm::sampled_gemm: leading dimensions lda = " + std::to_string(lda) +
                                ", ldb = " + std::to_string(ldb) + " are smaller than n " + shape);
  if (out.rows > 0 && out.cols > 0 && (out.metadata == nullptr || out.values == nullptr || (n > 0 && (a == nullptr || b == nullptr))))
    throw std::invalid_argument("twofour::gemm::sampled_gemm: null operand " + shape);
}

// Whether every row of a matrix (rows ld floats apart) starts on a 64-byte cache line.
bool cache_aligned(const float* p, std::size_t ld) {
  return reinterpret_cast<std::uintptr_t>(p) % 64 == 0 && ld % 16 == 0;
}

// A copy of `rows` rows of n floats with the row length padded by zeros to `padded`.
void copy_padded(const float* src, std::size_t ld, std::size_t rows, std::size_t n, std::size_t padded, float* dst) {
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy_n(src + r * ld, n, dst + r * padded);
    std::fill(dst + r * padded + n, dst + (r + 1) * padded, 0.0f);
  }
}

// The products of sampled_gemm(); with `dense`, each row block's results go to a per-thread block
// buffer and are then written or added at their dense positions (out.values unused).
void run_sampled(const SampledTarget& out, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                 std::size_t n, const GemmOptions& options, float* dense, std::size_t ld_dense) {
  check(out, a, lda, b, ldb, n);
  const detail::KernelTable& t = detail::resolve_kernels(options.isa);
  if (out.rows == 0 || out.cols == 0) return;
  if (options.validate_metadata) validate_metadata(out.metadata, out.rows, out.cols);
  const std::size_t half = out.cols / 2;
  if (n == 0) {  // every sum is +0
    if (options.accumulate) return;
    if (dense == nullptr) {
      std::fill(out.values, out.values + out.rows * half, 0.0f);
    } else {
      const std::vector<float> zeros(out.rows * half, 0.0f);
      t.place_sampled(detail::PlaceArgs{out.metadata, out.cols, zeros.data(), 0, out.rows, dense, ld_dense, false});
    }
    return;
  }
  // Zero padding adds 0 * 0 to chains that start from +0, which never changes them.
  const std::size_t np = round_up(n, kSampledLanes);
  const bool copy_a = np != n || !cache_aligned(a, lda), copy_b = np != n || !cache_aligned(b, ldb);
  if (copy_a || copy_b) {
    // A partial last batch (padding), or rows that do not start on a cache line: every 64-byte load
    // of such a row spans two lines, which made the kernel 1.4x slower (MLP fc1's shape, one thread,
    // rows 16 bytes off); the copy costs a small part of that. Scratch slot 1 (64-byte aligned).
    float* pad = detail::scratch<float>(((copy_a ? out.rows : 0) + (copy_b ? out.cols : 0)) * np, 1);
    if (copy_a) {
      copy_padded(a, lda, out.rows, n, np, pad);
      a = pad;
      lda = np;
      pad += out.rows * np;
    }
    if (copy_b) {
      copy_padded(b, ldb, out.cols, n, np, pad);
      b = pad;
      ldb = np;
    }
  }
  // Slices of about kSlice (between kSlice and 2 kSlice), evenly split, so that no short tail slice
  // pays the per-slice cost of storing and reloading the chain sums for a few elements.
  const std::size_t slices = std::max<std::size_t>(1, np / kSlice);
  const std::size_t slice = round_up((np + slices - 1) / slices, kSampledLanes);
  const std::size_t groups = out.cols / 4;
  const std::size_t row_blocks = (out.rows + kRowBlock - 1) / kRowBlock;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
#pragma omp parallel num_threads(threads)
  {
    // Only used when the reduction spans several slices.
    float* partial = np > slice ? detail::scratch<float>(kRowBlock * half * kSampledLanes, 0) : nullptr;
    float* block = dense != nullptr ? detail::scratch<float>(kRowBlock * half, 2) : nullptr;
#pragma omp for schedule(dynamic, 1)
    for (std::size_t blk = 0; blk < row_blocks; ++blk) {
      const std::size_t r0 = blk * kRowBlock, r1 = std::min(out.rows, r0 + kRowBlock);
      for (std::size_t i0 = 0; i0 < np; i0 += slice) {
        const std::size_t i1 = std::min(np, i0 + slice);
        for (std::size_t g0 = 0; g0 < groups; g0 += kColBlock / 4) {
          const detail::SampledArgs args{out.metadata, out.cols, r0, r1, g0, std::min(groups, g0 + kColBlock / 4), i0, i1,
                                         a, lda, b, ldb, partial, i0 == 0, i1 == np,
                                         dense != nullptr ? block : out.values, dense != nullptr ? r0 : 0,
                                         dense == nullptr && options.accumulate};
          t.sampled(args);
        }
      }
      if (dense == nullptr) continue;
      t.place_sampled(detail::PlaceArgs{out.metadata, out.cols, block, r0, r1, dense, ld_dense, options.accumulate});
    }
  }
}

}  // namespace

void sampled_gemm(const SampledTarget& out, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                  std::size_t n, const GemmOptions& options) {
  run_sampled(out, a, lda, b, ldb, n, options, nullptr, 0);
}

void sampled_gemm_dense(const SampledDenseTarget& out, const float* a, std::size_t lda, const float* b,
                        std::size_t ldb, std::size_t n, const GemmOptions& options) {
  const std::string shape = "(target " + std::to_string(out.rows) + " x " + std::to_string(out.cols) + ")";
  if (out.rows > 0 && out.cols > 0 && out.dense == nullptr)
    throw std::invalid_argument("twofour::gemm::sampled_gemm_dense: null dense target " + shape);
  if (out.rows > 0 && out.ld < out.cols)
    throw std::invalid_argument("twofour::gemm::sampled_gemm_dense: ld = " + std::to_string(out.ld) + " is smaller than cols " + shape);
  float unused = 0.0f;  // check() wants a values pointer; the dense path never writes it
  run_sampled({out.metadata, out.rows, out.cols, &unused}, a, lda, b, ldb, n, options, out.dense, out.ld);
}

void reference_sampled_gemm(const SampledTarget& out, const float* a, std::size_t lda, const float* b,
                            std::size_t ldb, std::size_t n, bool accumulate) {
  check(out, a, lda, b, ldb, n);
  const std::size_t half = out.cols / 2;
  const std::size_t mw = sparse::meta_words_per_row(out.cols);
  for (std::size_t r = 0; r < out.rows; ++r) {
    for (std::size_t slot = 0; slot < half; ++slot) {
      const unsigned nib = sparse::meta_nibble(out.metadata + r * mw, slot / 2);
      const std::size_t col = 4 * (slot / 2) + (slot % 2 == 0 ? sparse::nibble_idx0(nib) : sparse::nibble_idx1(nib));
      float chain[kSampledLanes] = {};
      for (std::size_t i = 0; i < n; ++i)
        chain[i % kSampledLanes] = std::fma(a[r * lda + i], b[col * ldb + i], chain[i % kSampledLanes]);
      float t[8];
      for (std::size_t j = 0; j < 8; ++j) t[j] = chain[j] + chain[j + 8];
      for (std::size_t j = 0; j < 4; ++j) t[j] = t[j] + t[j + 4];
      for (std::size_t j = 0; j < 2; ++j) t[j] = t[j] + t[j + 2];
      const float sum = t[0] + t[1];
      float& v = out.values[r * half + slot];
      v = accumulate ? v + sum : sum;
    }
  }
}

}  // namespace twofour::gemm
