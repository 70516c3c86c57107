#pragma once
// Internal: the per-instruction-set kernel tables. The driver (sparse_gemm.cpp, compiled for the
// x86-64 baseline) does validation, packing, blocking and OpenMP; it calls these kernels through
// function pointers. Each kernel_<isa>.cpp is compiled with its own -m flags and holds only
// internal-linkage code plus its table, so no inline function compiled with AVX instructions can
// be picked by the linker for a caller on a machine without them.
#include <cstddef>
#include <cstdint>

#include "twofour/gemm/packed_sparse_gemm.hpp"
#include "twofour/gemm/sampled_gemm.hpp"
#include "twofour/gemm/sparse_gemm.hpp"

namespace twofour::gemm::detail {

// PackedSlot (one kept element of a packed A micro-panel) is declared with the packed matrices
// in twofour/gemm/packed_sparse_gemm.hpp.

// One MR x NR tile of C over one K block. a: slots x MR PackedSlot, slot-major (the MR rows of
// one slot are adjacent). b: the packed strip, kc rows of NR floats. rows <= MR and cols <= NR
// are the valid part of the tile (edge tiles). load_c: start the chains from C, else from 0.
struct TileArgs {
  const PackedSlot* a;
  std::size_t slots;
  const float* b;
  float* c;
  std::size_t ldc;
  std::size_t rows;
  std::size_t cols;
  bool load_c;
};

enum class ValueKind : std::uint8_t { fp32, fp16, bf16 };

// Small N (<= 16): rows [row_begin, row_end) of C. values/meta: the whole A (row strides
// k/2 elements and meta_words_per_row(k) words). bt: B transposed to fp32, n rows of ldbt >= k
// floats (the kernels read it in 32-float chunks of K, so it is laid out K-contiguous).
struct SmallNArgs {
  const void* values;
  ValueKind kind;
  const std::uint16_t* meta;
  std::size_t k;
  std::size_t row_begin;
  std::size_t row_end;
  const float* bt;
  std::size_t ldbt;
  std::size_t n;
  float* c;
  std::size_t ldc;
  bool accumulate;
};

// A register-tiled GEMM micro-kernel and the blocking it was sized for.
struct TileKernel {
  int mr;  // rows per micro-tile
  int nr;  // columns per packed B strip
  int kc;  // K block (the driver rounds it down to a multiple of the pattern's group size)
  void (*run)(const TileArgs&);
};

// Generic N:M at N <= one vector (kernels_nm.inl): rows [row_begin, row_end) of C. values /
// indices: the whole A in the N:M layout of nm_gemm.hpp, kept_row elements per row. b: B packed
// as K rows of kWidth floats (columns >= cols zero). cols <= kWidth valid columns of C.
struct NMRowsArgs {
  const float* values;
  const std::uint8_t* indices;
  std::size_t kept_row;
  std::size_t keep;    // N of N:M
  std::size_t group;   // M of N:M
  std::size_t groups;  // K / M
  std::size_t row_begin;
  std::size_t row_end;
  const float* b;
  float* c;
  std::size_t ldc;
  std::size_t cols;
  bool accumulate;
};

// Dense 16-bit GEMV (dense_gemv.hpp): rows [row_begin, row_end) of y.
struct DenseGemvArgs {
  const std::uint16_t* a;
  ValueKind kind;  // fp16 or bf16
  std::size_t lda;
  std::size_t k;
  std::size_t row_begin;
  std::size_t row_end;
  const float* x;
  float* y;
  bool accumulate;
};

// Sampled 2:4 GEMM (sampled_gemm.hpp, kernels_sampled.inl): rows [row_begin, row_end), groups
// [group_begin, group_end) of each, over the reduction slice [i_begin, i_end) (multiples of
// kSampledLanes; a and b are zero-padded to them by the driver). partial: the 16 chain sums of
// every stored slot of the rows, (row - row_begin) * (cols / 2) + slot, kSampledLanes floats
// each; first: start the chains from +0 (else load them from partial); last: reduce them into
// values (else store them to partial).
struct SampledArgs {
  const std::uint16_t* meta;
  std::size_t cols;
  std::size_t row_begin, row_end;
  std::size_t group_begin, group_end;
  std::size_t i_begin, i_end;
  const float* a;
  std::size_t lda;
  const float* b;
  std::size_t ldb;
  float* partial;
  bool first, last;
  float* values;        // row r's results at values + (r - values_row0) * cols / 2
  std::size_t values_row0;
  bool accumulate;
};

// sampled_gemm_dense's placing of a row block's results: rows [row_begin, row_end) of `sums`
// (rows of cols / 2, the first at row_begin) written, or added (add), at dense[row * ld + column]
// for the column each metadata nibble names (kernels_sampled.inl; AVX-512 its own).
struct PlaceArgs {
  const std::uint16_t* meta;
  std::size_t cols;
  const float* sums;
  std::size_t row_begin, row_end;
  float* dense;
  std::size_t ld;
  bool add;
};

// Dense GEMM, outer-product form (kernels_dense.inl): one MR x NR tile of C over one K block.
// a: the packed A micro-panel, kc rows of MR floats (row k holds A[r0..r0+MR)[k0 + k]); b: the
// packed B strip, kc rows of NR floats. rows <= MR, cols <= NR: the valid part (edge tiles).
// load_c: continue the chains from C, else start them from +0.
struct DenseTileArgs {
  const float* a;
  const float* b;
  std::size_t kc;
  float* c;
  std::size_t ldc;
  std::size_t rows;
  std::size_t cols;
  bool load_c;
};

struct DenseTileKernel {
  int mr;
  int nr;
  void (*run)(const DenseTileArgs&);
};

// Dense GEMM, dot form (kernels_dense.inl), for C = A * B^T with both operands K-contiguous: an
// MI x NJ block of outputs over columns [k0, k0 + kc) of K. Each output is kDotLanes partial
// chains, lane l summing the products at k = l (mod kDotLanes) in increasing k; `partial` holds
// them between K blocks (kDotLanes floats per output, row stride ldp floats). first: start the
// lanes from +0, else load them; last: add the K tail (kc % kDotLanes products, lanes 0..) and
// reduce the lanes by a fixed pairwise tree (lane l += lane l + w for w = 8, 4, 2, 1) into C
// (added to C when accumulate). k0 and every block but the last are multiples of kDotLanes.
inline constexpr std::size_t kDotLanes = 16;

struct DotArgs {
  const float* a;  // row 0 of the block at column k0
  std::size_t lda;
  const float* b;
  std::size_t ldb;
  std::size_t kc;
  float* partial;
  std::size_t ldp;
  float* c;
  std::size_t ldc;
  bool first;
  bool last;
  bool accumulate;
};

struct DotKernel {
  int mi;
  int nj;
  void (*run)(const DotArgs&);   // a full MI x NJ block
  void (*one)(const DotArgs&);   // a single output (edges)
};

struct KernelTable {
  TileKernel gemm;  // for N > kSmallNMax (and the generic N:M path above one vector of N)
  void (*small_n)(const SmallNArgs&);
  int vector_width;  // floats per vector: the N up to which nm_rows is used
  void (*nm_rows)(const NMRowsArgs&);
  DenseTileKernel dense;
  DotKernel dot;
  // fp32 -> fp16 / bf16 (kind != fp32), round to nearest even: round_to_half() of sparse_gemm.hpp.
  void (*round_to_half)(const float* in, std::uint16_t* out, std::size_t n, ValueKind kind);
  void (*dense_gemv)(const DenseGemvArgs&);
  // The first row in [row_begin, row_end) of a 2:4 metadata array (K columns) with a nibble
  // idx0 >= idx1, or row_end (validate_meta.hpp).
  std::size_t (*first_bad_metadata_row)(const std::uint16_t* meta, std::size_t row_begin, std::size_t row_end,
                                        std::size_t k);
  // dW at kept positions only (sampled_gemm.hpp).
  void (*sampled)(const SampledArgs&);
  // sampled_gemm_dense: a row block's sums placed at their dense positions.
  void (*place_sampled)(const PlaceArgs&);
};

namespace scalar { const KernelTable& table(); }
namespace avx2 { const KernelTable& table(); }
namespace avx512 { const KernelTable& table(); }

// The table of the path a call takes (Isa::automatic = default_isa()); throws
// std::runtime_error when the CPU lacks the requested one (defined in sparse_gemm.cpp).
const KernelTable& resolve_kernels(Isa requested);

}  // namespace twofour::gemm::detail
