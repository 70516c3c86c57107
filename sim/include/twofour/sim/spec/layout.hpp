#pragma once
// Per-thread register fragments: (thread, register, element within the register) -> (row, col) of
// the A (compressed for sparse rows), B, C/D tiles, and (quad, lane, nibble) -> (row, chunk) of
// metadata. For thread T: warp w = T >> 5, lane = T & 31, g = lane >> 2 (group), t = lane & 3
// (thread in group); a register's low bits hold the lower-indexed element. One formula per
// operand serves every row of the table: the shapes differ only in elements per register
// (E = 32 / element bits), the stored K, N and the number of warps. Warp w of a multi-warp row
// holds rows 16w..16w+15 of A and C/D with the layout of a one-warp m16 fragment; C/D registers
// walk N in blocks of 8 columns.
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

// A (register source): row 16w + g + 8(r & 1); col E*t + e + (stored K / 2) * (r >> 1).
// Two-register shapes only use r & 1. Dense rows use the same formula with stored K = K (e.g.
// m16n8k16 f16: a_i at row g+8((i>>1)&1), col 2t+(i&1)+8(i>>2)). Sparse rows index the compressed
// tile (M x stored K).
constexpr Coord a_coord(const Instruction& in, int thread, int reg, int elem) {
  const int w = thread >> 5, g = (thread & 31) >> 2, t = thread & 3, per = in.a_elements_per_register();
  return {16 * w + g + 8 * (reg & 1), per * t + elem + (in.stored_k() / 2) * (reg >> 1)};
}

// B (register source, one-warp rows; K x N, "col" operand): row k = E*t + e + 4E*r, col n = g.
constexpr Coord b_coord(const Instruction& in, int thread, int reg, int elem) {
  const int g = (thread & 31) >> 2, t = thread & 3, per = in.b_elements_per_register();
  return {per * t + elem + 4 * per * reg, g};
}

// C and D: c_i (i = register * E + element) at row 16w + g + 8((i >> 1) & 1),
// col 8(i >> 2) + 2t + (i & 1); f16 packs two per register. One-warp n8 rows have i = 0..3.
constexpr Coord c_coord(const Instruction& in, int thread, int reg, int elem) {
  const int w = thread >> 5, g = (thread & 31) >> 2, t = thread & 3;
  const int i = reg * in.c_elements_per_register() + elem;
  return {16 * w + g + 8 * ((i >> 1) & 1), 8 * (i >> 2) + 2 * t + (i & 1)};
}

// Metadata: which lanes of a quad supply E for a selector, and what each nibble of their E covers.
constexpr int metadata_lane_in_quad(const Instruction& in, int selector, int u) {
  return selector * in.metadata.lanes_per_quad + u;  // u = 0 .. lanes_per_quad-1
}

// The thread of quad q (threads 4q..4q+3; q = 0 .. quads()-1) that supplies E as its u-th lane.
constexpr int metadata_thread(const Instruction& in, int quad, int selector, int u) {
  return 4 * quad + metadata_lane_in_quad(in, selector, u);
}

struct MetaCoord {
  int row;    // of the A tile
  int chunk;  // chunk index along K (chunk_width() dense columns each)
};

// Nibble j (0..7) of the E register of the u-th supplying lane of quad q: g = q & 7 within warp
// w = q >> 3, whose rows are 16w..16w+15.
//  16/32-bit types: low 16 bits = row g, high 16 = row g+8; lane u covers window u of 4 chunks.
//  8/4-bit types: one row per register, row g + 8(u & 1), window u >> 1 of 8 chunks.
constexpr MetaCoord metadata_coord(const Instruction& in, int quad, int u, int nibble) {
  const int g = quad & 7, base = 16 * (quad >> 3);
  if (in.metadata.two_rows_per_register) return {base + g + 8 * (nibble >> 2), u * 4 + (nibble & 3)};
  return {base + g + 8 * (u & 1), (u >> 1) * 8 + nibble};
}

// Nibbles per E register that carry metadata (the rest of the register is ignored).
constexpr int metadata_nibbles_used(const Instruction& in) {
  return 2 * in.chunks_per_row() / in.metadata.lanes_per_quad;  // a quad covers 2 rows, split over its lanes
}

}  // namespace twofour::sim::spec
