#pragma once
// CPU 2:4 sparse GEMM / GEMV: C (M x N) = A (M x K, 2:4 along K, row-major compressed layout of
// twofour/sparse/rowmajor_layout.hpp) * B (K x N, dense row-major) (+ C).
//
// Element types: fp32 A and B; or fp16 / bf16 A (uint16 bit patterns) with B either in the same
// 16-bit format or in fp32. Products and sums are always fp32 (fused multiply-add), C is fp32.
//
// Two kernel families, chosen by N:
//  * N > kSmallNMax ("GEMM"): every output keeps the reference's K order (one fused multiply-add
//    chain per C element, starting from 0 or from C), so it is bit-equal to reference_gemm().
//  * N <= kSmallNMax ("GEMV / small N", memory-bound): each row's kept elements are summed in
//    SIMD lanes and reduced at the end of the row; this reorders the sum, and the result stays
//    within sum_k |a||b| * K * eps of the reference (tested).
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
// metadata nibble is malformed. With validation off a malformed nibble is memory-safe: each
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

// Throws std::invalid_argument naming the row and group of the first nibble with idx0 >= idx1.
void validate_metadata(const std::uint16_t* metadata, std::size_t rows, std::size_t k);

// Exact fp16 / bf16 -> fp32 conversion (every pattern; NaN payloads kept, quiet bit set by
// nothing: the conversion is a pure widening).
float half_to_float(std::uint16_t bits, HalfType type);

}  // namespace twofour::gemm
