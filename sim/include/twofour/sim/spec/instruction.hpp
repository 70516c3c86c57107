#pragma once
// One row of data per PTX warp-level MMA variant (sparse `mma.sp`, `mma.sp::ordered_metadata`, and
// the dense `mma.sync` twins). A generic executor serves every row; adding an instruction is adding
// a row (registry.hpp), never new arithmetic.
//
// Source: PTX ISA 9.1 §9.7.14.6 ("Warp-level matrix multiply-accumulate with sparse matrix A") and
// §9.7.14.5 (dense mma); the variants are listed in docs/ptx-facts.md §Variants.
#include "twofour/sim/spec/format.hpp"

#include <cstdint>
#include <string_view>

namespace twofour::sim::spec {

// The GPU architectures whose tensor cores are simulated: Ampere sm_80 (A100, A30) and sm_86 (A2,
// A10, A40, RTX 30), Ada sm_89 (L4, L40S, RTX 40), Hopper sm_90 (H100, H200), Blackwell sm_100
// (B200). The value is the compute capability, so `<` orders them (PTX's minimum-target rule).
enum class Arch : int { sm80 = 80, sm86 = 86, sm89 = 89, sm90 = 90, sm100 = 100 };

inline constexpr Arch all_archs[] = {Arch::sm80, Arch::sm86, Arch::sm89, Arch::sm90, Arch::sm100};

constexpr std::string_view arch_name(Arch a) {
  switch (a) {
    case Arch::sm80: return "sm80";
    case Arch::sm86: return "sm86";
    case Arch::sm89: return "sm89";
    case Arch::sm90: return "sm90";
    case Arch::sm100: return "sm100";
  }
  return "?";
}

enum class Sparsity : std::uint8_t {
  dense,       // mma.sync
  two_of_four, // f16, bf16, 8-bit integers, fp8: 2 stored values per 4-wide chunk
  one_of_two,  // tf32: 1 stored value per 2-wide chunk (2:4 over 16-bit halves)
  pairs_4of8,  // 4-bit integers: 2 stored pairs per 8-wide chunk
};

enum class MetadataOrder : std::uint8_t {
  none,     // dense: no metadata
  any,      // plain mma.sp: equal indices are UB; descending pairs are accepted [I]
  ordered,  // mma.sp::ordered_metadata: idx0 < idx1 required
};

// How the metadata register E is spread over the lanes of a quad (lanes 4g..4g+3).
struct MetadataLayout {
  int lanes_per_quad;            // lanes supplying E per quad: 1, 2 or 4; selector range = 4 / this
  bool two_rows_per_register;    // 16/32-bit types: low half = row g, high half = row g+8
};

struct Instruction {
  std::string_view name;  // CuTe-style atom name with an SP infix for sparse rows
  std::string_view ptx;   // the PTX mnemonic (without operands)
  int m, n, k;            // logical (dense) shape
  const FormatSpec* a;
  const FormatSpec* b;
  const FormatSpec* c;
  const FormatSpec* d;
  Sparsity sparsity;
  MetadataOrder order;
  bool satfinite;         // integer .satfinite: clamp instead of wrap
  Arch min_arch;
  MetadataLayout metadata;  // unused for dense rows

  constexpr bool is_sparse() const { return sparsity != Sparsity::dense; }
  // Dense elements per metadata chunk, and stored values per chunk.
  constexpr int chunk_width() const {
    switch (sparsity) {
      case Sparsity::two_of_four: return 4;
      case Sparsity::one_of_two: return 2;
      case Sparsity::pairs_4of8: return 8;
      case Sparsity::dense: return 1;
    }
    return 1;
  }
  constexpr int stored_per_chunk() const {
    switch (sparsity) {
      case Sparsity::two_of_four: return 2;
      case Sparsity::one_of_two: return 1;
      case Sparsity::pairs_4of8: return 4;
      case Sparsity::dense: return 1;
    }
    return 1;
  }
  constexpr int stored_k() const { return k / chunk_width() * stored_per_chunk(); }  // A's columns as stored
  constexpr int a_elements_per_register() const { return 32 / a->container_bits; }
  constexpr int b_elements_per_register() const { return 32 / b->container_bits; }
  constexpr int c_elements_per_register() const { return 32 / c->container_bits; }
  constexpr int a_registers() const { return m * stored_k() / 32 / a_elements_per_register(); }
  constexpr int b_registers() const { return k * n / 32 / b_elements_per_register(); }
  constexpr int c_registers() const { return m * n / 32 / c_elements_per_register(); }
  constexpr int d_registers() const { return c_registers(); }
  constexpr int selector_count() const { return is_sparse() ? 4 / metadata.lanes_per_quad : 0; }
  constexpr int chunks_per_row() const { return k / chunk_width(); }
};

}  // namespace twofour::sim::spec
