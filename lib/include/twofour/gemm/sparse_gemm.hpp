#pragma once
// CPU 2:4 sparse GEMM / GEMV: C (M x N) = A (M x K, 2:4 along K, row-major compressed layout of
// twofour/sparse/rowmajor_layout.hpp) * B (K x N, dense row-major) (+ C).
//
// Element types: fp32 A and B; or fp16 / bf16 A (uint16 bit patterns) with B either in the same
// 16-bit format or in fp32. Products and sums are always fp32 (fused multiply-add), C is fp32.
// 16-bit weights halve the bytes a memory-bound GEMV streams; round_to_half() makes them from
// fp32 (round to nearest even), and the metadata stays as it is.
//
// Two kernel families, chosen by N:
//  * N > kSmallNMax ("GEMM"): every output keeps the reference's K order (one fused multiply-add
//    chain per C element, starting from 0 or from C), so it is bit-equal to reference_gemm().
//  * N <= kSmallNMax ("GEMV / small N", memory-bound): each output is summed in the 16-lane
//    order below, the same on every instruction set (bit-identical across them, tested against
//    an independent implementation of the order); it differs from the reference's K order and
//    stays within sum_k |a||b| * K * eps of it (tested). The order, per C element: number the
//    row's kept elements s = 0, 1, ... in K order; those of the first 32 * floor(K / 32)
//    columns go to partial sum p[s mod 16] (each p one fused multiply-add chain from +0, in K
//    order); then q[i] = p[i] + p[i+8] (i < 8), r[i] = q[i] + q[i+4] (i < 4), t[i] = r[i] + r[i+2]
//    (i < 2), sum = t[0] + t[1]; the kept elements of the last K mod 32 columns continue sum as
//    one fused multiply-add chain in K order; C = sum, or C + sum when accumulating.
//
// Instruction sets: AVX-512 (F+BW, F16C), AVX2 (+FMA, F16C), or portable scalar code, picked at
// run time from the CPU; GemmOptions::isa or the environment variable TWOFOUR_GEMM_ISA
// (scalar|avx2|avx512) forces one. Forcing a path the CPU lacks throws std::runtime_error.
//
// Other N:M patterns (1:4, 2:8, 4:8, ...): nm_gemm.hpp, a generic path on the same driver.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "twofour/sparse/rowmajor_layout.hpp"

namespace twofour::gemm {

enum class Isa : std::uint8_t { automatic, scalar, avx2, avx512 };
enum class HalfType : std::uint8_t { fp16, bf16 };

inline constexpr std::size_t kSmallNMax = 16;

std::string_view isa_name(Isa isa);
// Parses "scalar", "avx2", "avx512" (and "auto"); throws std::invalid_argument otherwise.
Isa parse_isa(std::string_view name);
// Whether this CPU (and OS) can run the path.
bool isa_supported(Isa isa);
// The paths this CPU can run, scalar first.
std::vector<Isa> supported_isas();
// The path an Isa::automatic call takes: TWOFOUR_GEMM_ISA if set, else the best supported.
Isa default_isa();

struct GemmOptions {
  bool accumulate = false;         // C += A*B instead of C = A*B
  Isa isa = Isa::automatic;        // force a path (tests); automatic = default_isa()
  int threads = 0;                 // OpenMP threads; 0 = omp_get_max_threads()
  bool validate_metadata = true;   // reject nibbles with idx0 >= idx1 (std::invalid_argument)
};

// Leading dimensions: ldb >= n (elements of B per row), ldc >= n. Throws std::invalid_argument
// when K is not a multiple of 4, a leading dimension is too small, or (validate_metadata) a
// metadata nibble is malformed; a call that throws leaves C as it was. With validation off a malformed nibble is memory-safe: each
// value multiplies the B row its 2-bit index names.
void gemm(const sparse::RowMajor24View<float>& a, const float* b, std::size_t ldb, float* c,
          std::size_t ldc, std::size_t n, const GemmOptions& options = {});
// fp16/bf16 A and B (same format), fp32 C.
void gemm(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const std::uint16_t* b,
          std::size_t ldb, float* c, std::size_t ldc, std::size_t n, const GemmOptions& options = {});
// fp16/bf16 A (weights) with fp32 B (activations), fp32 C.
void gemm(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const float* b,
          std::size_t ldb, float* c, std::size_t ldc, std::size_t n, const GemmOptions& options = {});

// y = A x (+ y): the N = 1 case, x of length K, y of length M.
inline void gemv(const sparse::RowMajor24View<float>& a, const float* x, float* y,
                 const GemmOptions& options = {}) {
  gemm(a, x, 1, y, 1, 1, options);
}

// y = A x (+ y) with fp16 / bf16 weights and fp32 x.
inline void gemv(const sparse::RowMajor24View<std::uint16_t>& a, HalfType type, const float* x, float* y,
                 const GemmOptions& options = {}) {
  gemm(a, type, x, 1, y, 1, 1, options);
}

// Throws std::invalid_argument naming the row and group of the first nibble with idx0 >= idx1.
void validate_metadata(const std::uint16_t* metadata, std::size_t rows, std::size_t k);

// Exact fp16 / bf16 -> fp32 conversion (every pattern; NaN payloads kept, quiet bit set by
// nothing: the conversion is a pure widening).
float half_to_float(std::uint16_t bits, HalfType type);

// fp32 -> fp16 / bf16, rounded to nearest, ties to even, subnormals kept (no flush to zero),
// overflow to infinity. NaN: bf16 gives the quiet NaN 0x7fc0 with the input's sign (as
// ml_dtypes and Eigen do); fp16 keeps the sign and the top 10 payload bits and sets the quiet
// bit (as the x86 F16C instruction vcvtps2ph does). Identical bits on every instruction set.
std::uint16_t round_to_half(float x, HalfType type);
// The same over n elements (in and out must not overlap), through the instruction-set dispatch.
void round_to_half(const float* in, std::uint16_t* out, std::size_t n, HalfType type, Isa isa = Isa::automatic);

}  // namespace twofour::gemm
