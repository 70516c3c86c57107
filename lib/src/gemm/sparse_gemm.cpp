// Driver of the 2:4 GEMM: argument checks, metadata validation, instruction-set dispatch,
// packing, cache blocking and OpenMP. Compiled for the baseline; the kernels it calls live in
// kernels_<isa>.cpp (see kernels.hpp).
//
// GEMM (N > 16), per thread team:
//   for each column block jc of NC columns:
//     pack B[:, jc] into NR-wide strips, fp32, K rows each                  (shared, L3)
//     for each row block ib of MC rows (dynamic schedule across threads):
//       for each K block pc of KC:
//         pack A[ib, pc] into MR-row micro-panels of PackedSlot            (thread-local, L2)
//         for each strip jr: for each micro-panel ir: gemm_tile           (strip KC x NR in L1)
// The C block (MC x NC) stays in L2 across the K blocks, so C is read and written from memory
// once per column block, not once per K block.
//
// Small N (<= 16, GEMV): B is transposed to fp32 once (N x K, small) and the kernel streams A
// in its compressed form; threads split the rows.
#include "twofour/gemm/sparse_gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "half.hpp"
#include "kernels.hpp"

namespace twofour::gemm {
namespace {

using detail::KernelTable;
using detail::PackedSlot;
using detail::ValueKind;

bool cpu_supports(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::automatic: return true;
  }
  return false;
#else
  return isa == Isa::scalar || isa == Isa::automatic;
#endif
}

Isa resolve(Isa requested) {
  const Isa isa = requested == Isa::automatic ? default_isa() : requested;
  if (!isa_supported(isa)) {
    throw std::runtime_error("twofour::gemm: instruction set '" + std::string(isa_name(isa)) +
                             "' was requested but this CPU does not support it");
  }
  return isa;
}

const KernelTable& kernels_for(Isa isa) {
  switch (isa) {
    case Isa::avx512: return detail::avx512::table();
    case Isa::avx2: return detail::avx2::table();
    default: return detail::scalar::table();
  }
}

std::string shape_text(std::size_t m, std::size_t k, std::size_t n) {
  return "A is " + std::to_string(m) + " x " + std::to_string(k) + " (2:4 along K), B is " + std::to_string(k) +
         " x " + std::to_string(n);
}

float to_float(float x, ValueKind /*kind*/) { return x; }
float to_float(std::uint16_t h, ValueKind kind) {
  return kind == ValueKind::fp16 ? detail::fp16_bits_to_float(h) : detail::bf16_bits_to_float(h);
}

// A's values as the kernels see them.
struct AOperand {
  const void* values;
  ValueKind kind;
  const std::uint16_t* meta;
  std::size_t m;
  std::size_t k;

  float value(std::size_t row, std::size_t slot) const {
    const std::size_t i = row * (k / 2) + slot;
    switch (kind) {
      case ValueKind::fp32: return static_cast<const float*>(values)[i];
      case ValueKind::fp16: return detail::fp16_bits_to_float(static_cast<const std::uint16_t*>(values)[i]);
      case ValueKind::bf16: return detail::bf16_bits_to_float(static_cast<const std::uint16_t*>(values)[i]);
    }
    return 0.0f;
  }
};

int thread_count(const GemmOptions& o) { return o.threads > 0 ? o.threads : omp_get_max_threads(); }

// Grow-only per-thread scratch: reusing it across calls avoids re-faulting fresh pages from the
// allocator on every call (measurable at GEMV and 1024-square sizes).
template <class T>
T* scratch(std::size_t count, int slot) {
  thread_local std::vector<T> buffers[2];
  std::vector<T>& v = buffers[slot];
  if (v.size() < count) v.resize(count);
  return v.data();
}

template <ValueKind KIND>
void pack_a_kind(const AOperand& a, std::size_t row0, std::size_t rows, std::size_t k0, std::size_t kc, std::size_t mr,
                 std::size_t nr, PackedSlot* out) {
  const std::size_t slots = kc / 2;
  const std::size_t mw = sparse::meta_words_per_row(a.k);
  const std::size_t panels = (rows + mr - 1) / mr;
  const auto nr32 = static_cast<std::int32_t>(nr);
  for (std::size_t p = 0; p < panels; ++p) {
    PackedSlot* panel = out + p * slots * mr;
    for (std::size_t r = 0; r < mr; ++r) {
      const std::size_t rr = p * mr + r;
      if (rr >= rows) {
        for (std::size_t s = 0; s < slots; ++s) panel[s * mr + r] = PackedSlot{0.0f, 0};
        continue;
      }
      const std::size_t row = row0 + rr;
      const std::uint16_t* meta = a.meta + row * mw;
      const std::size_t vbase = row * (a.k / 2) + k0 / 2;
      for (std::size_t gl = 0; gl < kc / 4; ++gl) {
        const unsigned nib = sparse::meta_nibble(meta, k0 / 4 + gl);
        const auto base = static_cast<std::int32_t>(4 * gl);
        PackedSlot* dst = panel + 2 * gl * mr + r;
        dst[0] = PackedSlot{detail::scalar_value<KIND>(a.values, vbase + 2 * gl),
                            (base + static_cast<std::int32_t>(sparse::nibble_idx0(nib))) * nr32};
        dst[mr] = PackedSlot{detail::scalar_value<KIND>(a.values, vbase + 2 * gl + 1),
                             (base + static_cast<std::int32_t>(sparse::nibble_idx1(nib))) * nr32};
      }
    }
  }
}

// Packs rows [row0, row0 + rows) (missing rows of the last micro-panel get value 0, offset 0)
// and K block [k0, k0 + kc) into MR-row micro-panels, slot-major, indices expanded to offsets.
void pack_a(const AOperand& a, std::size_t row0, std::size_t rows, std::size_t k0, std::size_t kc, std::size_t mr,
            std::size_t nr, PackedSlot* out) {
  switch (a.kind) {
    case ValueKind::fp32: pack_a_kind<ValueKind::fp32>(a, row0, rows, k0, kc, mr, nr, out); break;
    case ValueKind::fp16: pack_a_kind<ValueKind::fp16>(a, row0, rows, k0, kc, mr, nr, out); break;
    case ValueKind::bf16: pack_a_kind<ValueKind::bf16>(a, row0, rows, k0, kc, mr, nr, out); break;
  }
}

template <class BT>
void run_gemm(const AOperand& a, const BT* b, ValueKind b_kind, std::size_t ldb, float* c, std::size_t ldc,
              std::size_t n, const GemmOptions& o, const KernelTable& t) {
  const std::size_t mr = static_cast<std::size_t>(t.mr);
  const std::size_t nr = static_cast<std::size_t>(t.nr);
  const std::size_t kcmax = static_cast<std::size_t>(t.kc);
  const std::size_t mc = 32 * mr;
  const std::size_t nc = std::max<std::size_t>(1024 / nr, 1) * nr;
  const std::size_t m = a.m;
  const std::size_t k = a.k;
  const std::size_t nc_used = std::min(nc, (n + nr - 1) / nr * nr);
  float* const bpack = scratch<float>(k * nc_used, 1);
  const std::size_t row_blocks = (m + mc - 1) / mc;
#pragma omp parallel num_threads(thread_count(o))
  {
    PackedSlot* const apack = scratch<PackedSlot>((mc / 2) * kcmax, 0);  // mc rows x kc/2 slots
    for (std::size_t jc = 0; jc < n; jc += nc) {
      const std::size_t ncols = std::min(nc, n - jc);
      const std::size_t strips = (ncols + nr - 1) / nr;
      // B strip s: K rows of nr floats (zero beyond column n).
#pragma omp for schedule(static)
      for (std::size_t s = 0; s < strips; ++s) {
        float* dst = bpack + s * k * nr;
        const std::size_t col0 = jc + s * nr;
        const std::size_t w = std::min(nr, n - col0);
        for (std::size_t kk = 0; kk < k; ++kk) {
          const BT* src = b + kk * ldb + col0;
          for (std::size_t j = 0; j < w; ++j) dst[kk * nr + j] = to_float(src[j], b_kind);
          for (std::size_t j = w; j < nr; ++j) dst[kk * nr + j] = 0.0f;
        }
      }
#pragma omp for schedule(dynamic, 1)
      for (std::size_t ib = 0; ib < row_blocks; ++ib) {
        const std::size_t row0 = ib * mc;
        const std::size_t rows = std::min(mc, m - row0);
        const std::size_t panels = (rows + mr - 1) / mr;
        for (std::size_t k0 = 0; k0 < k; k0 += kcmax) {
          const std::size_t kc = std::min(kcmax, k - k0);
          const std::size_t slots = kc / 2;
          pack_a(a, row0, rows, k0, kc, mr, nr, apack);
          for (std::size_t s = 0; s < strips; ++s) {
            const std::size_t col0 = jc + s * nr;
            const float* bstrip = bpack + s * k * nr + k0 * nr;
            for (std::size_t p = 0; p < panels; ++p) {
              const std::size_t r0 = row0 + p * mr;
              const detail::TileArgs args{apack + p * slots * mr, slots, bstrip, c + r0 * ldc + col0, ldc,
                                          std::min(mr, m - r0), std::min(nr, n - col0), o.accumulate || k0 > 0};
              t.gemm_tile(args);
            }
          }
        }
      }
    }
  }
}

template <class BT>
void run_small_n(const AOperand& a, const BT* b, ValueKind b_kind, std::size_t ldb, float* c, std::size_t ldc,
                 std::size_t n, const GemmOptions& o, const KernelTable& t) {
  const std::size_t k = a.k;
  const float* bt = nullptr;
  if constexpr (std::is_same_v<BT, float>) {
    if (n == 1 && ldb == 1) bt = b;  // x is already K-contiguous
  }
  if (bt == nullptr) {
    float* store = scratch<float>(n * k, 1);
    for (std::size_t kk = 0; kk < k; ++kk)
      for (std::size_t j = 0; j < n; ++j) store[j * k + kk] = to_float(b[kk * ldb + j], b_kind);
    bt = store;
  }
  constexpr std::size_t kRowBlock = 64;  // multiple of every kernel's row block
  const std::size_t blocks = (a.m + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for schedule(static) num_threads(thread_count(o))
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    const std::size_t r0 = blk * kRowBlock;
    const detail::SmallNArgs args{a.values, a.kind, a.meta, k, r0, std::min(a.m, r0 + kRowBlock), bt, k, n, c, ldc,
                                  o.accumulate};
    t.small_n(args);
  }
}

template <class BT>
void run(const AOperand& a, const BT* b, ValueKind b_kind, std::size_t ldb, float* c, std::size_t ldc, std::size_t n,
         const GemmOptions& o) {
  const std::size_t m = a.m;
  const std::size_t k = a.k;
  if (k % 4 != 0) {
    throw std::invalid_argument("twofour::gemm: K = " + std::to_string(k) + " is not a multiple of 4 (" +
                                shape_text(m, k, n) + ")");
  }
  if (n > 0 && (ldb < n || ldc < n)) {
    throw std::invalid_argument("twofour::gemm: leading dimensions ldb = " + std::to_string(ldb) + ", ldc = " +
                                std::to_string(ldc) + " are smaller than N (" + shape_text(m, k, n) + ")");
  }
  if (m == 0 || n == 0) return;
  if (c == nullptr || (k > 0 && (b == nullptr || a.values == nullptr || a.meta == nullptr))) {
    throw std::invalid_argument("twofour::gemm: null operand (" + shape_text(m, k, n) + ")");
  }
  const Isa isa = resolve(o.isa);
  if (o.validate_metadata) validate_metadata(a.meta, m, k);
  if (k == 0) {
    if (!o.accumulate)
      for (std::size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const KernelTable& t = kernels_for(isa);
  if (n <= kSmallNMax) {
    run_small_n(a, b, b_kind, ldb, c, ldc, n, o, t);
  } else {
    run_gemm(a, b, b_kind, ldb, c, ldc, n, o, t);
  }
}

ValueKind kind_of(HalfType t) { return t == HalfType::fp16 ? ValueKind::fp16 : ValueKind::bf16; }

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::automatic: return "auto";
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

Isa parse_isa(std::string_view name) {
  if (name == "scalar") return Isa::scalar;
  if (name == "avx2") return Isa::avx2;
  if (name == "avx512") return Isa::avx512;
  if (name == "auto" || name.empty()) return Isa::automatic;
  throw std::invalid_argument("twofour::gemm: unknown instruction set '" + std::string(name) +
                              "' (expected scalar, avx2, avx512 or auto)");
}

bool isa_supported(Isa isa) { return cpu_supports(isa); }

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

Isa default_isa() {
  if (const char* env = std::getenv("TWOFOUR_GEMM_ISA"); env != nullptr && *env != '\0') {
    const Isa forced = parse_isa(env);
    if (forced != Isa::automatic) return forced;
  }
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::scalar;
}

float half_to_float(std::uint16_t bits, HalfType type) {
  return type == HalfType::fp16 ? detail::fp16_bits_to_float(bits) : detail::bf16_bits_to_float(bits);
}

void validate_metadata(const std::uint16_t* metadata, std::size_t rows, std::size_t k) {
  const std::size_t groups = k / 4;
  const std::size_t mw = sparse::meta_words_per_row(k);
  if (rows == 0 || groups == 0) return;
  // 16 nibbles at a time: d = (idx1 | 4) - idx0 per nibble is 1..7 with no borrow across
  // nibbles, and idx1 > idx0 exactly when d >= 5, i.e. bit 2 set and bits 0-1 not both clear.
  constexpr std::uint64_t k3 = 0x3333333333333333ull;
  constexpr std::uint64_t k4 = 0x4444444444444444ull;
  constexpr std::uint64_t k1 = 0x1111111111111111ull;
  for (std::size_t row = 0; row < rows; ++row) {
    const std::uint16_t* meta = metadata + row * mw;
    for (std::size_t w0 = 0; w0 < mw; w0 += 4) {
      const std::size_t nw = std::min<std::size_t>(4, mw - w0);
      std::uint64_t word = 0;
      std::memcpy(&word, meta + w0, nw * sizeof(std::uint16_t));
      const std::size_t nibbles = std::min<std::size_t>(16, groups - w0 * 4);
      const std::uint64_t used = nibbles == 16 ? k1 : (k1 & ((std::uint64_t{1} << (4 * nibbles)) - 1));
      const std::uint64_t idx0 = word & k3;
      const std::uint64_t idx1 = (word >> 2) & k3;
      const std::uint64_t d = (idx1 | k4) - idx0;
      const std::uint64_t ok = ((d & k4) >> 2) & ((d | (d >> 1)) & k1);
      if ((ok & used) != used) {
        std::size_t bad = 0;
        while (((ok >> (4 * bad)) & 1u) != 0) ++bad;
        const std::size_t g = w0 * 4 + bad;
        const unsigned nib = sparse::meta_nibble(meta, g);
        throw std::invalid_argument("twofour::gemm: malformed 2:4 metadata at row " + std::to_string(row) +
                                    ", group " + std::to_string(g) + ": nibble 0x" + "0123456789abcdef"[nib] +
                                    " has idx0 = " + std::to_string(sparse::nibble_idx0(nib)) + ", idx1 = " +
                                    std::to_string(sparse::nibble_idx1(nib)) + " (idx0 < idx1 required)");
      }
    }
  }
}

void gemm(const sparse::RowMajor24View<float>& a, const float* b, std::size_t ldb, float* c, std::size_t ldc,
          std::size_t n, const GemmOptions& options) {
  run(AOperand{a.values, ValueKind::fp32, a.metadata, a.rows, a.cols}, b, ValueKind::fp32, ldb, c, ldc, n, options);
}

void gemm(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const std::uint16_t* b, std::size_t ldb,
          float* c, std::size_t ldc, std::size_t n, const GemmOptions& options) {
  run(AOperand{a.values, kind_of(type), a.metadata, a.rows, a.cols}, b, kind_of(type), ldb, c, ldc, n, options);
}

void gemm(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const float* b, std::size_t ldb, float* c,
          std::size_t ldc, std::size_t n, const GemmOptions& options) {
  run(AOperand{a.values, kind_of(type), a.metadata, a.rows, a.cols}, b, ValueKind::fp32, ldb, c, ldc, n, options);
}

}  // namespace twofour::gemm
