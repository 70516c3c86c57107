#pragma once
// The plain row-major compressed layout of a 2:4 matrix (sparse along K, the reduction axis).
//
// A dense M x K matrix (K a multiple of 4) in which every group of 4 consecutive elements of a row
// holds at most 2 non-zeros is stored as
//   values:   M x K/2, row-major; group g of row m contributes values[m][2g] and values[m][2g+1],
//             the element at the lower column first (a group with fewer than 2 non-zeros stores
//             zeros in the unused slots);
//   metadata: M x meta_words_per_row(K) uint16 words, row-major; group g of row m is the nibble
//             (idx1 << 2) | idx0 at bits [4(g%4)+3 : 4(g%4)] of word g/4, idx0 < idx1 being the
//             in-group columns of values[m][2g] and values[m][2g+1].
// The nibble is the mma.sp metadata nibble (PTX ISA, "Sparse matrix storage"), so one row's words
// are what a kernel feeds the metadata register, before any CUTLASS reordering.
#include <cstddef>
#include <cstdint>

namespace twofour::sparse {

inline constexpr int kGroupSize = 4;  // M of 2:4: dense elements per group
inline constexpr int kKeptPerGroup = 2;
inline constexpr int kGroupsPerMetaWord = 4;  // 4 nibbles per uint16

constexpr std::size_t compressed_cols(std::size_t k) { return k / 2; }
constexpr std::size_t meta_words_per_row(std::size_t k) {
  const std::size_t groups = k / kGroupSize;
  return (groups + kGroupsPerMetaWord - 1) / kGroupsPerMetaWord;
}

constexpr unsigned meta_nibble(const std::uint16_t* row_meta, std::size_t group) {
  return (row_meta[group / kGroupsPerMetaWord] >> (4 * (group % kGroupsPerMetaWord))) & 0xfu;
}
constexpr unsigned nibble_idx0(unsigned nibble) { return nibble & 3u; }
constexpr unsigned nibble_idx1(unsigned nibble) { return (nibble >> 2) & 3u; }
constexpr unsigned make_nibble(unsigned idx0, unsigned idx1) { return (idx1 << 2) | idx0; }

// A read-only view of a matrix in this layout; element type T (float, or uint16_t bit patterns of
// fp16/bf16).
template <typename T>
struct RowMajor24View {
  const T* values = nullptr;             // rows x cols/2
  const std::uint16_t* metadata = nullptr;  // rows x meta_words_per_row(cols)
  std::size_t rows = 0;
  std::size_t cols = 0;  // dense K, a multiple of 4

  const T* row_values(std::size_t m) const { return values + m * compressed_cols(cols); }
  const std::uint16_t* row_metadata(std::size_t m) const { return metadata + m * meta_words_per_row(cols); }
};

}  // namespace twofour::sparse
