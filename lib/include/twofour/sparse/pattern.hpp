#pragma once
// N:M patterns and the grouping convention of weight tensors.
//
// N:M here means: N weights KEPT (non-zero) in every group of M consecutive weights along the
// input-channel (reduction) axis. This is the convention of NVIDIA Apex ASP (`m4n2` = keep 2 of 4)
// and SR-STE. SparseGPT (`prunen`), TF-MOT `(m, n)`, Intel Neural Compressor and coremltools count
// the ZEROED weights instead, so their "2:4" at other ratios means something else.
//
// Grouping (Apex ASP `sparse_masklib.create_mask`, snapshot 6424da3):
//   Linear  (out, in)      -> a matrix of rows = out,      cols = in;
//   Conv1d  (K, C, R)      -> ASP permutes to (R, K, C) and views (R*K, C);
//   Conv2d  (K, C, R, S)   -> ASP permutes to (R, S, K, C) and views (R*S*K, C).
// Groups are M consecutive columns (input channels C) of one row. The row order (kernel position
// major, output channel minor) matters only for 2-D (transposable) blocks, which then span 4
// consecutive output channels at one kernel position, as in ASP.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::sparse {

// N = weights kept per group, M = group size; 1 <= N < M <= 32.
struct NMPattern {
  int n = 2;
  int m = 4;
  friend bool operator==(const NMPattern&, const NMPattern&) = default;
};

inline constexpr int kMaxGroupSize = 32;

// Throws std::invalid_argument unless 1 <= n < m <= 32.
void validate(NMPattern p);
// Parses "N:M" (N kept). Throws std::invalid_argument naming the text on anything else.
NMPattern parse_pattern(std::string_view text);
std::string to_string(NMPattern p);

// What to do when the input-channel count is not a multiple of M.
enum class Padding {
  none,   // an error naming the shape
  zeros,  // the last group is treated as zero-padded to M; padded slots are never kept before a
          // real weight, so a partial group of L weights keeps min(N, L)
};

// The ASP 2-D view of a rank-2/3/4 weight tensor stored in C (row-major) order.
class GroupedShape {
 public:
  // Throws std::invalid_argument for a rank other than 2, 3, 4 or a zero dimension.
  explicit GroupedShape(std::span<const std::size_t> shape);

  std::size_t out() const { return out_; }         // K (rows of a Linear)
  std::size_t in() const { return in_; }           // C, the grouped axis
  std::size_t spatial() const { return spatial_; }  // R or R*S, 1 for Linear
  std::size_t rows() const { return spatial_ * out_; }
  std::size_t cols() const { return in_; }
  std::size_t numel() const { return rows() * in_; }
  const std::vector<std::size_t>& shape() const { return shape_; }

  // Memory offset (C order of the original tensor) of view element (row, col).
  std::size_t offset(std::size_t row, std::size_t col) const {
    const std::size_t k = row % out_;
    const std::size_t sp = row / out_;
    return (k * in_ + col) * spatial_ + sp;
  }
  // "row 3, columns 4..7" for a Linear; "output channel 3, input channels 4..7, kernel position
  // (1, 2)" for a convolution. `count` columns starting at `col`.
  std::string describe(std::size_t row, std::size_t col, std::size_t count) const;

 private:
  std::vector<std::size_t> shape_;
  std::size_t out_ = 0, in_ = 0, spatial_ = 1;
};

std::string shape_string(std::span<const std::size_t> shape);  // "(3, 4)"

}  // namespace twofour::sparse
