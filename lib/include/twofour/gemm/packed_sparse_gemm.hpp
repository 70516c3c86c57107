#pragma once
// A 2:4 matrix packed once for the 2:4 GEMM (sparse_gemm.hpp), for callers that multiply the same
// sparsity pattern many times: gemm() on it skips the per-call packing of A into the kernel's
// micro-panels (a fifth of a 300 x 784 x 128 product on Zen 4), and set_values() / gather_values()
// rewrite the values in place when they change but the metadata does not (a 2:4 layer during
// retraining).
//
// Results are bit-identical to gemm() on the view it was packed from (the same kernel, the same
// K-ordered fused multiply-add chain per output, starting from 0 or from C), for every N: a packed
// matrix always runs the blocked GEMM kernel, also for N <= kSmallNMax, where the view's gemm()
// takes the small-N kernel with its own summation order.
//
// fp32 values and fp32 B. The packed layout belongs to one instruction set, resolved when packing
// (GemmOptions::isa or TWOFOUR_GEMM_ISA as for gemm()); gemm() runs that set's kernel.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::gemm {

namespace detail {
// One kept element of a packed micro-panel: its value and the offset (in floats) of the B row it
// multiplies inside the driver's packed B strip. Expanding the 2-bit indices once, when packing,
// keeps the kernels' inner loop free of gathers and index arithmetic.
struct PackedSlot {
  float value;
  std::int32_t offset;
};
}  // namespace detail

class PackedSparseMatrix {
 public:
  PackedSparseMatrix() = default;
  // Packs A. Throws std::invalid_argument when A's K is not a multiple of 4, an operand is null,
  // or (options.validate_metadata) a metadata nibble is malformed; std::runtime_error when
  // options.isa names a path this CPU lacks.
  explicit PackedSparseMatrix(const sparse::RowMajor24View<float>& a, const GemmOptions& options = {});

  // A packed slot that holds no value of A (the padding rows of the last micro-panel).
  static constexpr std::uint32_t kNoSource = 0xffffffffu;

  // New values for the same metadata, from the view's layout (rows x cols / 2, slot s of row r
  // at r * cols / 2 + s).
  void set_values(const float* values);
  // Where each packed slot's value comes from, in packed order: its index in the view's values
  // (r * cols / 2 + s), or kNoSource. A caller that refreshes values often composes this once with
  // its own map (a layer: compressed index -> weight-tensor offset) and then calls gather_values.
  std::vector<std::uint32_t> sources() const;
  // Packed slot j takes base[from[j]], or 0 where from[j] == kNoSource; from has one entry per
  // packed slot (sources().size()). One sequential pass (OpenMP threads on large matrices).
  void gather_values(const float* base, const std::uint32_t* from);

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  Isa isa() const { return isa_; }

  // Internal (the driver): micro-panels of rows [row0, row0 + mr) for K block [k0, k0 + kc).
  const detail::PackedSlot* panel_block(std::size_t row0, std::size_t k0) const;

 private:
  std::vector<detail::PackedSlot> slots_;  // per K block of kc columns: every micro-panel, slot-major
  std::size_t rows_ = 0, cols_ = 0, mr_ = 1, kc_ = 4;
  Isa isa_ = Isa::scalar;
};

// C (M x N) = A * B (+ C), A packed; B K x N row-major (ldb >= N), C M x N (ldc >= N). Throws
// std::invalid_argument for a too small leading dimension or a null operand, and when
// options.isa names another instruction set than the one A was packed for (automatic: A's).
// options.validate_metadata is ignored (checked when packing).
void gemm(const PackedSparseMatrix& a, const float* b, std::size_t ldb, float* c, std::size_t ldc, std::size_t n,
          const GemmOptions& options = {});

}  // namespace twofour::gemm
