// Packed 2:4 matrices (packed_sparse_gemm.hpp): packing with the 2:4 packer of the per-call path,
// and the blocked driver reading the panels in place.
#include "twofour/gemm/packed_sparse_gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>
#include <stdexcept>
#include <string>

#include "blocked_gemm.hpp"
#include "packer24.hpp"

namespace twofour::gemm {
namespace {

std::string shape_text(std::size_t m, std::size_t k, std::size_t n) {
  return "packed A is " + std::to_string(m) + " x " + std::to_string(k) + " (2:4 along K), B is " + std::to_string(k) +
         " x " + std::to_string(n);
}

// The driver's view of a packed matrix (blocked_gemm.hpp's Packer concept, packed ahead).
struct Prepacked {
  const PackedSparseMatrix& a;
  std::size_t group() const { return 4; }
  std::size_t slots(std::size_t kc) const { return kc / 2; }
  const detail::PackedSlot* panel_block(std::size_t row0, std::size_t k0) const { return a.panel_block(row0, k0); }
};

}  // namespace

PackedSparseMatrix::PackedSparseMatrix(const sparse::RowMajor24View<float>& a, const GemmOptions& options)
    : rows_(a.rows), cols_(a.cols) {
  if (a.cols % 4 != 0)
    throw std::invalid_argument("twofour::gemm::PackedSparseMatrix: K = " + std::to_string(a.cols) +
                                " is not a multiple of 4");
  if (a.rows > 0 && a.cols > 0 && (a.values == nullptr || a.metadata == nullptr))
    throw std::invalid_argument("twofour::gemm::PackedSparseMatrix: null values or metadata");
  isa_ = options.isa == Isa::automatic ? default_isa() : options.isa;
  const detail::TileKernel& t = detail::resolve_kernels(isa_).gemm;  // throws for a path the CPU lacks
  if (options.validate_metadata && a.rows > 0 && a.cols > 0) validate_metadata(a.metadata, a.rows, a.cols);
  mr_ = static_cast<std::size_t>(t.mr);
  kc_ = std::max<std::size_t>(4, static_cast<std::size_t>(t.kc) / 4 * 4);  // as run_blocked_gemm rounds it
  const std::size_t panels = (rows_ + mr_ - 1) / mr_;
  slots_.resize(panels * mr_ * cols_ / 2);
  const detail::AOperand op{a.values, detail::ValueKind::fp32, a.metadata, a.rows, a.cols};
  const detail::Packer24<detail::ValueKind::fp32> packer{op};
  for (std::size_t k0 = 0; k0 < cols_; k0 += kc_) {
    const std::size_t kc = std::min(kc_, cols_ - k0);
    detail::pack_panels(packer, 0, rows_, k0, kc, mr_, static_cast<std::size_t>(t.nr), slots_.data() + panels * mr_ * k0 / 2);
  }
}

std::vector<std::uint32_t> PackedSparseMatrix::sources() const {
  std::vector<std::uint32_t> from(slots_.size());
  const std::size_t half = cols_ / 2, panels = (rows_ + mr_ - 1) / mr_;
  std::size_t j = 0;
  for (std::size_t k0 = 0; k0 < cols_; k0 += kc_) {  // the order pack_panels writes
    const std::size_t block_slots = std::min(kc_, cols_ - k0) / 2;
    for (std::size_t p = 0; p < panels; ++p)
      for (std::size_t s = 0; s < block_slots; ++s)
        for (std::size_t r = p * mr_; r < (p + 1) * mr_; ++r)
          from[j++] = r < rows_ ? static_cast<std::uint32_t>(r * half + k0 / 2 + s) : kNoSource;
  }
  return from;
}

void PackedSparseMatrix::gather_values(const float* base, const std::uint32_t* from) {
  const std::size_t count = slots_.size();
  if (count > 0 && (base == nullptr || from == nullptr))
    throw std::invalid_argument("twofour::gemm::PackedSparseMatrix::gather_values: null array");
  detail::PackedSlot* out = slots_.data();
  // A select, not a branch: padding is rare but would be mispredicted.
#pragma omp parallel for schedule(static) if (count >= (std::size_t{1} << 16))
  for (std::size_t j = 0; j < count; ++j) {
    const bool none = from[j] == kNoSource;
    const float v = base[none ? 0 : from[j]];
    out[j].value = none ? 0.0f : v;
  }
}

void PackedSparseMatrix::set_values(const float* values) {
  if (slots_.empty()) return;
  const std::vector<std::uint32_t> from = sources();
  gather_values(values, from.data());
}

const detail::PackedSlot* PackedSparseMatrix::panel_block(std::size_t row0, std::size_t k0) const {
  const std::size_t panels = (rows_ + mr_ - 1) / mr_;
  const std::size_t block_slots = std::min(kc_, cols_ - k0) / 2;
  return slots_.data() + panels * mr_ * k0 / 2 + row0 / mr_ * block_slots * mr_;
}

void gemm(const PackedSparseMatrix& a, const float* b, std::size_t ldb, float* c, std::size_t ldc, std::size_t n,
          const GemmOptions& options) {
  const std::size_t m = a.rows(), k = a.cols();
  if (options.isa != Isa::automatic && options.isa != a.isa())
    throw std::invalid_argument("twofour::gemm: A was packed for " + std::string(isa_name(a.isa())) + ", not " +
                                std::string(isa_name(options.isa)) + " (" + shape_text(m, k, n) + ")");
  if (n > 0 && (ldb < n || ldc < n))
    throw std::invalid_argument("twofour::gemm: leading dimensions ldb = " + std::to_string(ldb) + ", ldc = " +
                                std::to_string(ldc) + " are smaller than N (" + shape_text(m, k, n) + ")");
  if (m == 0 || n == 0) return;
  if (c == nullptr || (k > 0 && b == nullptr))
    throw std::invalid_argument("twofour::gemm: null operand (" + shape_text(m, k, n) + ")");
  if (k == 0) {
    if (!options.accumulate)
      for (std::size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  detail::run_blocked_gemm(Prepacked{a}, m, k, b, detail::ValueKind::fp32, ldb, c, ldc, n, threads, options.accumulate,
                           detail::resolve_kernels(a.isa()).gemm);
}

}  // namespace twofour::gemm
