// Driver of the 2:4 GEMM: argument checks, metadata validation, instruction-set dispatch,
// packing, cache blocking and OpenMP. Compiled for the baseline; the kernels it calls live in
// kernels_<isa>.cpp (see kernels.hpp).
//
// GEMM (N > 16): the blocked, packed driver of blocked_gemm.hpp with the 2:4 packer below.
//
// Small N (<= 16, GEMV): B is transposed to fp32 once (N x K, small) and the kernel streams A
// in its compressed form; threads split the rows.
#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sim/kernel_isa.hpp"

#include <omp.h>


#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "blocked_gemm.hpp"
#include "packer24.hpp"
#include "half.hpp"
#include "kernels.hpp"
#include "round_half.hpp"

namespace twofour::gemm {
namespace {

using detail::KernelTable;
using detail::AOperand;
using detail::Packer24;
using detail::PackedSlot;
using detail::ValueKind;

bool cpu_supports(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && sim::cpu_has_f16c();
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             sim::cpu_has_f16c();
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

}  // namespace

namespace detail {
const KernelTable& resolve_kernels(Isa requested) { return kernels_for(resolve(requested)); }
}  // namespace detail

namespace {

std::string shape_text(std::size_t m, std::size_t k, std::size_t n) {
  return "A is " + std::to_string(m) + " x " + std::to_string(k) + " (2:4 along K), B is " + std::to_string(k) +
         " x " + std::to_string(n);
}

int thread_count(const GemmOptions& o) { return o.threads > 0 ? o.threads : omp_get_max_threads(); }

template <class BT>
void run_gemm(const AOperand& a, const BT* b, ValueKind b_kind, std::size_t ldb, float* c, std::size_t ldc,
              std::size_t n, const GemmOptions& o, const KernelTable& t) {
  const int threads = thread_count(o);
  switch (a.kind) {
    case ValueKind::fp32:
      detail::run_blocked_gemm(Packer24<ValueKind::fp32>{a}, a.m, a.k, b, b_kind, ldb, c, ldc, n, threads,
                               o.accumulate, t.gemm);
      break;
    case ValueKind::fp16:
      detail::run_blocked_gemm(Packer24<ValueKind::fp16>{a}, a.m, a.k, b, b_kind, ldb, c, ldc, n, threads,
                               o.accumulate, t.gemm);
      break;
    case ValueKind::bf16:
      detail::run_blocked_gemm(Packer24<ValueKind::bf16>{a}, a.m, a.k, b, b_kind, ldb, c, ldc, n, threads,
                               o.accumulate, t.gemm);
      break;
  }
}

// Throws std::invalid_argument naming `row` and its first malformed nibble (a scalar search:
// the error path).
[[noreturn]] void throw_bad_metadata(const std::uint16_t* meta, std::size_t row, std::size_t k) {
  const std::uint16_t* row_meta = meta + row * sparse::meta_words_per_row(k);
  std::size_t g = 0;
  while (g + 1 < k / 4 && sparse::nibble_idx0(sparse::meta_nibble(row_meta, g)) <
                              sparse::nibble_idx1(sparse::meta_nibble(row_meta, g)))
    ++g;
  const unsigned nib = sparse::meta_nibble(row_meta, g);
  throw std::invalid_argument("twofour::gemm: malformed 2:4 metadata at row " + std::to_string(row) + ", group " +
                              std::to_string(g) + ": nibble 0x" + "0123456789abcdef"[nib] + " has idx0 = " +
                              std::to_string(sparse::nibble_idx0(nib)) + ", idx1 = " +
                              std::to_string(sparse::nibble_idx1(nib)) + " (idx0 < idx1 required)");
}

// Throws std::invalid_argument naming the row and group of the first malformed nibble. The
// rows are checked by the instruction set's vectorised kernel, split across threads above a
// size where that pays (rows are independent; the first bad row is the minimum found). Runs
// before any output is written, so a rejected call leaves C as it was.
void check_metadata(const std::uint16_t* meta, std::size_t rows, std::size_t k, Isa isa, int threads) {
  if (rows == 0 || k < 4) return;
  const KernelTable& t = kernels_for(isa);
  std::size_t first_bad = rows;
  constexpr std::size_t kRowBlock = 256;
  const std::size_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  if (threads > 1 && blocks > 1 && rows * (k / 4) >= (std::size_t{1} << 18)) {
#pragma omp parallel for schedule(static) num_threads(threads) reduction(min : first_bad)
    for (std::size_t blk = 0; blk < blocks; ++blk) {
      const std::size_t end = std::min(rows, (blk + 1) * kRowBlock);
      const std::size_t bad = t.first_bad_metadata_row(meta, blk * kRowBlock, end, k);
      if (bad < end) first_bad = std::min(first_bad, bad);
    }
  } else {
    first_bad = t.first_bad_metadata_row(meta, 0, rows, k);
  }
  if (first_bad < rows) throw_bad_metadata(meta, first_bad, k);
}

template <class BT>
void run_small_n(const AOperand& a, const BT* b, ValueKind b_kind, std::size_t ldb, float* c, std::size_t ldc,
                 std::size_t n, const GemmOptions& o, const KernelTable& t, bool validate) {
  const std::size_t k = a.k;
  const float* bt = nullptr;
  if constexpr (std::is_same_v<BT, float>) {
    if (n == 1 && ldb == 1) bt = b;  // x is already K-contiguous
  }
  if (bt == nullptr) {
    float* store = detail::scratch<float>(n * k, 1);
    for (std::size_t kk = 0; kk < k; ++kk)
      for (std::size_t j = 0; j < n; ++j) store[j * k + kk] = detail::b_to_float(b[kk * ldb + j], b_kind);
    bt = store;
  }
  // Metadata validation is fused into the row loop: each block's metadata is checked just
  // before the block is computed, so the kernel reads it from cache, not a second time from
  // memory (a separate pass cost 14% of the N = 1 time at 4096 x 4096). A bad block is skipped;
  // at the end C is restored from a copy (M x N floats, small next to A) and the first bad row
  // is reported, so a rejected call still leaves C as it was.
  float* backup = nullptr;
  if (validate) {
    backup = detail::scratch<float>(a.m * n, 0);
    for (std::size_t i = 0; i < a.m; ++i) std::copy(c + i * ldc, c + i * ldc + n, backup + i * n);
  }
  std::size_t first_bad = a.m;
  // 48: a multiple of every kernel's row block (1, 2, 3, 4, 8). Dynamic schedule: a thread that
  // is descheduled on a shared machine does not hold up the others at the end (rows are
  // independent, so the bits do not depend on which thread takes a block).
  constexpr std::size_t kRowBlock = 48;
  const std::size_t blocks = (a.m + kRowBlock - 1) / kRowBlock;
#pragma omp parallel for schedule(dynamic, 1) num_threads(thread_count(o))
  for (std::size_t blk = 0; blk < blocks; ++blk) {
    const std::size_t r0 = blk * kRowBlock;
    const std::size_t r1 = std::min(a.m, r0 + kRowBlock);
    if (validate) {
      const std::size_t bad = t.first_bad_metadata_row(a.meta, r0, r1, k);
      if (bad < r1) {
#pragma omp critical(twofour_gemm_first_bad_row)
        first_bad = std::min(first_bad, bad);
        continue;
      }
    }
    t.small_n(detail::SmallNArgs{a.values, a.kind, a.meta, k, r0, r1, bt, k, n, c, ldc, o.accumulate});
  }
  if (first_bad < a.m) {
    for (std::size_t i = 0; i < a.m; ++i) std::copy(backup + i * n, backup + i * n + n, c + i * ldc);
    throw_bad_metadata(a.meta, first_bad, k);
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
  const bool small_n = n <= kSmallNMax;
  // Small N validates inside its row loop (run_small_n); GEMM first, separately (negligible next
  // to its compute).
  if (o.validate_metadata && !(small_n && k > 0)) check_metadata(a.meta, m, k, isa, thread_count(o));
  if (k == 0) {
    if (!o.accumulate)
      for (std::size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const KernelTable& t = kernels_for(isa);
  if (small_n) {
    run_small_n(a, b, b_kind, ldb, c, ldc, n, o, t, o.validate_metadata);
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

std::uint16_t round_to_half(float x, HalfType type) {
  return type == HalfType::fp16 ? detail::float_to_fp16_bits(x) : detail::float_to_bf16_bits(x);
}

void round_to_half(const float* in, std::uint16_t* out, std::size_t n, HalfType type, Isa isa) {
  if (n == 0) return;
  if (in == nullptr || out == nullptr) throw std::invalid_argument("twofour::gemm::round_to_half: null array");
  const auto in_begin = reinterpret_cast<std::uintptr_t>(in), in_end = in_begin + n * sizeof(float);
  const auto out_begin = reinterpret_cast<std::uintptr_t>(out), out_end = out_begin + n * sizeof(std::uint16_t);
  if (in_begin < out_end && out_begin < in_end) {
    throw std::invalid_argument("twofour::gemm::round_to_half: input and output overlap");
  }
  kernels_for(resolve(isa)).round_to_half(in, out, n, kind_of(type));
}

void validate_metadata(const std::uint16_t* metadata, std::size_t rows, std::size_t k) {
  check_metadata(metadata, rows, k, resolve(Isa::automatic), 1);
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
