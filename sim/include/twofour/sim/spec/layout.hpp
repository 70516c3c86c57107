#pragma once
// Per-lane register fragments: (lane, register, element within the register) -> (row, col) of the
// A (compressed for sparse rows), B, C/D tiles, and (lane, nibble) -> (row, chunk) of metadata.
// g = lane >> 2 (group), t = lane & 3 (thread in group); a register's low bits hold the
// lower-indexed element. One formula per operand serves every row of the table: the shapes differ
// only in elements per register (E = 32 / element bits) and the stored K.
//
// Sources: PTX ISA 9.1 "Matrix fragments for mma.m16n8k*" and "for sparse mma.m16n8k*"
// (docs/ptx-facts.md §Fragments, cross-checked with CUTLASS, CuTe mma_traits_sm80/sm120_sparse, the MLIR
// sparse-mma-2-4-f16 test and the TVM mma.sp hardware test).
#include "twofour/sim/spec/instruction.hpp"

namespace twofour::sim::spec {

struct Coord {
  int row;
  int col;
};

// A: row g + 8(r & 1); col E*t + e + (stored K / 2) * (r >> 1). Two-register shapes only use r & 1.
// Dense rows use the same formula with stored K = K (e.g. m16n8k16 f16: a_i at row g+8((i>>1)&1),
// col 2t+(i&1)+8(i>>2)). Sparse rows index the compressed tile (M x stored K).
constexpr Coord a_coord(const Instruction& in, int lane, int reg, int elem) {
  const int g = lane >> 2, t = lane & 3, per = in.a_elements_per_register();
  return {g + 8 * (reg & 1), per * t + elem + (in.stored_k() / 2) * (reg >> 1)};
}

// B (K x N, "col" operand): row k = E*t + e + 4E*r, col n = g.
constexpr Coord b_coord(const Instruction& in, int lane, int reg, int elem) {
  const int g = lane >> 2, t = lane & 3, per = in.b_elements_per_register();
  return {per * t + elem + 4 * per * reg, g};
}

// C and D: c_i at row g + 8(i >> 1), col 2t + (i & 1), i = 0..3; f16 packs two per register.
constexpr Coord c_coord(const Instruction& in, int lane, int reg, int elem) {
  const int g = lane >> 2, t = lane & 3;
  const int i = reg * in.c_elements_per_register() + elem;
  return {g + 8 * (i >> 1), 2 * t + (i & 1)};
}

// Metadata: which lanes of a quad supply E for a selector, and what each nibble of their E covers.
constexpr int metadata_lane_in_quad(const Instruction& in, int selector, int u) {
  return selector * in.metadata.lanes_per_quad + u;  // u = 0 .. lanes_per_quad-1
}

struct MetaCoord {
  int row;    // of the 16-row A tile
  int chunk;  // chunk index along K (chunk_width() dense columns each)
};

// Nibble j (0..7) of the E register of the u-th supplying lane of group g.
//  16/32-bit types: low 16 bits = row g, high 16 = row g+8; lane u covers window u of 4 chunks.
//  8/4-bit types: one row per register, row g + 8(u & 1), window u >> 1 of 8 chunks.
constexpr MetaCoord metadata_coord(const Instruction& in, int g, int u, int nibble) {
  if (in.metadata.two_rows_per_register) return {g + 8 * (nibble >> 2), u * 4 + (nibble & 3)};
  return {g + 8 * (u & 1), (u >> 1) * 8 + nibble};
}

// Nibbles per E register that carry metadata (the rest of the register is ignored).
constexpr int metadata_nibbles_used(const Instruction& in) {
  return 2 * in.chunks_per_row() / in.metadata.lanes_per_quad;  // a quad covers 2 rows, split over its lanes
}

}  // namespace twofour::sim::spec
