#pragma once
// Internal: the per-instruction-set kernel tables. The driver (sparse_gemm.cpp, compiled for the
// x86-64 baseline) does validation, packing, blocking and OpenMP; it calls these kernels through
// function pointers. Each kernel_<isa>.cpp is compiled with its own -m flags and holds only
// internal-linkage code plus its table, so no inline function compiled with AVX instructions can
// be picked by the linker for a caller on a machine without them.
#include <cstddef>
#include <cstdint>

namespace twofour::gemm::detail {

// One kept element of a packed A micro-panel: its value and the offset (in floats) of the B
// row it multiplies inside the packed B strip. Expanding the 2-bit indices here, once per
// (row block, K block), is what keeps the inner loop free of gathers and index arithmetic.
struct PackedSlot {
  float value;
  std::int32_t offset;
};

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

struct KernelTable {
  int mr;  // rows per GEMM micro-tile
  int nr;  // columns per packed B strip
  int kc;  // K block (multiple of 4): kc rows of a B strip stay in L1
  void (*gemm_tile)(const TileArgs&);
  void (*small_n)(const SmallNArgs&);
};

namespace scalar { const KernelTable& table(); }
namespace avx2 { const KernelTable& table(); }
namespace avx512 { const KernelTable& table(); }

}  // namespace twofour::gemm::detail
