#pragma once
// Dense <-> compressed (values, metadata) for the element types of sparse tensor cores, in two
// layouts:
//
//  MetaLayout::rowmajor  the plain layout of rowmajor_layout.hpp for every type: groups of 4
//                        consecutive elements of a row, at most 2 non-zeros, values M x K/2,
//                        uint16 metadata words (4 nibbles each) in K order; K % 4 == 0.
//                        f32/tf32 use the same 2:4 grouping here (a 1:2 tensor is also 2:4).
//  MetaLayout::cutlass   CUTLASS SM80 `reorder_meta` + ColumnMajorInterleaved<2>, byte-identical to
//                        PyTorch `sparse_semi_structured_from_dense_cutlass` (docs/ptx-facts.md §CUTLASS
//                        layout, §PyTorch layout): 2:4 for f16/bf16/s8, 1:2 for f32/tf32 (one value per pair,
//                        nibble 0100 = element 0, 1110 = element 1, "as if 4 halves"). Metadata
//                        elements are int16 for 16/32-bit types and int32 for s8; shape
//                        M x (K / (elements per metadata element)). Needs M % 32 == 0 (M % 16 for
//                        s8) and an even number of metadata columns: K % 32 (f16/bf16), K % 16
//                        (f32/tf32), K % 64 (s8), as ColumnMajorInterleaved<2> stores column pairs.
//
// Nibbles follow mma.sp (PTX ISA "sparse matrix storage"): (idx1 << 2) | idx0, idx0 < idx1, values
// in idx0, idx1 order. A group with fewer than 2 non-zeros uses PyTorch's fixed encodings (both
// layouts, sim::spec::select_two_of_four): e.g. all-zero -> 0b1110, only element 0 -> 0b1000,
// only element 1 -> 0b1001; the stored values are the dense elements at idx0 and idx1. "Non-zero" means != 0, so
// -0.0 counts as zero and NaN as non-zero, as in PyTorch (`dense != 0`).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::sparse {

enum class ElementType { f32, tf32, f16, bf16, s8 };
enum class MetaLayout { rowmajor, cutlass };

std::string_view to_string(ElementType t);
std::string_view to_string(MetaLayout l);
std::size_t element_bytes(ElementType t);  // 4, 4, 2, 2, 1
// Group size and kept count of the hardware pattern in `layout`: (4, 2), or (2, 1) for f32/tf32
// in the cutlass layout.
int group_size(ElementType t, MetaLayout l);
// Bytes per metadata element: 2 (uint16 words; int16 in files), or 4 for s8 in the cutlass layout.
std::size_t meta_element_bytes(ElementType t, MetaLayout l);
// Metadata elements per row.
std::size_t meta_cols(ElementType t, MetaLayout l, std::size_t k);
// Throws std::invalid_argument when `layout` cannot hold a dense rows x cols matrix of `type`
// (the check compress and decompress make first), so callers can blame the right file.
void check_dense_shape(ElementType type, MetaLayout layout, std::size_t rows, std::size_t cols);

struct Compressed {
  ElementType type = ElementType::f16;
  MetaLayout layout = MetaLayout::rowmajor;
  std::size_t rows = 0, cols = 0;    // the dense shape M x K
  std::vector<std::byte> values;     // rows x cols/2 elements of `type`, little-endian
  std::vector<std::byte> metadata;   // rows x meta_cols elements of meta_element_bytes, little-endian
};

// Throws std::invalid_argument (naming the first offending group, see mask.hpp's checker) when
// `dense` (rows x cols elements of `type`, little-endian) is not 2:4 (1:2), unless prune_first:
// then the largest-magnitude elements of each group are kept first (ties: lower column).
// Also throws on shapes the layout cannot hold.
Compressed compress(std::span<const std::byte> dense, ElementType type, std::size_t rows, std::size_t cols,
                    MetaLayout layout, bool prune_first = false);
// The dense matrix back (rows x cols elements). Throws std::invalid_argument on sizes that do not
// match or metadata that is not a valid encoding (equal indices, descending indices, or for
// f32/tf32 cutlass a nibble other than 0100/1110).
std::vector<std::byte> decompress(const Compressed& c);

// Typed conveniences.
Compressed compress_f32(std::span<const float> dense, std::size_t rows, std::size_t cols, MetaLayout layout,
                        bool prune_first = false);
std::vector<float> decompress_f32(const Compressed& c);

// CUTLASS reorder_meta: storage index (in metadata elements) of logical metadata element
// (row, col) of an M-row matrix; meta_bytes = 2 (G, I = 32, 4) or 4 (G, I = 16, 2).
std::size_t cutlass_meta_index(std::size_t row, std::size_t col, std::size_t rows, std::size_t meta_bytes);

}  // namespace twofour::sparse
