// Generic N:M GEMM (nm_gemm.hpp): the blocked driver of blocked_gemm.hpp with an N:M packer.
// Each kept element is expanded once per (row block, K block) into {value, B-strip offset}, so
// the micro-kernel is the same gather-free broadcast-FMA loop as the 2:4 GEMM, whatever N and M.
// At N up to one vector, A is used once and packing it would cost as much as the multiply:
// kernels_nm.inl reads it in place instead.
#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "blocked_gemm.hpp"
#include "kernels.hpp"
#include "twofour/gemm/nm_gemm.hpp"

namespace twofour::gemm {
namespace {

struct PackerNM {
  const RowMajorNMView& a;
  std::size_t n;     // kept per group
  std::size_t m;     // group size
  std::size_t kept;  // kept elements per row
  std::size_t group() const { return m; }
  std::size_t slots(std::size_t kc) const { return kc / m * n; }
  void pack_row(std::size_t row, std::size_t k0, std::size_t kc, std::int32_t nr, detail::PackedSlot* dst,
                std::size_t stride) const {
    const std::size_t s0 = k0 / m * n;
    const float* values = a.values + row * kept + s0;
    const std::uint8_t* idx = a.indices + row * kept + s0;
    const auto last = static_cast<std::uint8_t>(m - 1);
    for (std::size_t g = 0; g < kc / m; ++g) {
      const auto base = static_cast<std::int32_t>(g * m);
      for (std::size_t s = 0; s < n; ++s) {
        // min(): an unvalidated index past the group stays inside the packed strip.
        const auto col = base + static_cast<std::int32_t>(std::min(idx[g * n + s], last));
        dst[(g * n + s) * stride] = detail::PackedSlot{values[g * n + s], col * nr};
      }
    }
  }
};

}  // namespace

void nm_gemm(const RowMajorNMView& a, const float* b, std::size_t ldb, float* c, std::size_t ldc, std::size_t n,
             const GemmOptions& o) {
  sparse::validate(a.pattern);
  const auto group = static_cast<std::size_t>(a.pattern.m);
  const std::string shape = "A is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) + " (" +
                            sparse::to_string(a.pattern) + " along K), B is " + std::to_string(a.cols) + " x " +
                            std::to_string(n);
  if (a.cols % group != 0) {
    throw std::invalid_argument("twofour::gemm::nm_gemm: K = " + std::to_string(a.cols) + " is not a multiple of M = " +
                                std::to_string(group) + " (" + shape + ")");
  }
  if (n > 0 && (ldb < n || ldc < n)) {
    throw std::invalid_argument("twofour::gemm::nm_gemm: leading dimensions ldb = " + std::to_string(ldb) +
                                ", ldc = " + std::to_string(ldc) + " are smaller than N (" + shape + ")");
  }
  if (a.rows == 0 || n == 0) return;
  if (c == nullptr || (a.cols > 0 && (b == nullptr || a.values == nullptr || a.indices == nullptr))) {
    throw std::invalid_argument("twofour::gemm::nm_gemm: null operand (" + shape + ")");
  }
  const detail::KernelTable& t = detail::resolve_kernels(o.isa);
  if (o.validate_metadata) validate_nm(a);
  if (a.cols == 0) {
    if (!o.accumulate)
      for (std::size_t i = 0; i < a.rows; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  const std::size_t kept = nm_kept_cols(a.cols, a.pattern);
  const auto width = static_cast<std::size_t>(t.vector_width);
  if (n <= width) {
    // Small N: B packed once as K rows of one vector; A read in place (kernels_nm.inl).
    float* bp = detail::scratch<float>(a.cols * width, 1);
    for (std::size_t k = 0; k < a.cols; ++k)
      for (std::size_t j = 0; j < width; ++j) bp[k * width + j] = j < n ? b[k * ldb + j] : 0.0f;
    constexpr std::size_t kRowBlock = 64;  // a multiple of the kernel's 8 rows
    const std::size_t blocks = (a.rows + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::size_t blk = 0; blk < blocks; ++blk) {
      const std::size_t r0 = blk * kRowBlock;
      const detail::NMRowsArgs args{a.values, a.indices, kept, static_cast<std::size_t>(a.pattern.n), group,
                                    a.cols / group, r0, std::min(a.rows, r0 + kRowBlock), bp, c, ldc, n,
                                    o.accumulate};
      t.nm_rows(args);
    }
    return;
  }
  const PackerNM packer{a, static_cast<std::size_t>(a.pattern.n), group, kept};
  detail::run_blocked_gemm(packer, a.rows, a.cols, b, detail::ValueKind::fp32, ldb, c, ldc, n, threads, o.accumulate,
                           t.gemm);
}

}  // namespace twofour::gemm
