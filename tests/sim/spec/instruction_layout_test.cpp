// The instruction table and its fragment layouts.
// Oracles: the PTX ISA 9.1 fragment figures as transcribed in docs/ptx-facts.md §Fragments (written out
// independently below for several rows), register counts of the PTX operand lists, and the
// structural fact that every layout is a bijection from (lane, register, element) onto its tile.
#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/spec/metadata.hpp"
#include "twofour/sim/spec/registry.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::sim::spec {
namespace {

const Instruction& row(const char* name) {
  const Instruction* in = find_instruction(name);
  if (in == nullptr) throw std::runtime_error(std::string("no instruction ") + name);
  return *in;
}

template <typename F>
void expect_bijection(const Instruction& in, const char* what, int regs, int per_reg, int rows, int cols, F coord) {
  std::vector<int> hits(static_cast<std::size_t>(rows * cols), 0);
  for (int lane = 0; lane < 32; ++lane) {
    for (int r = 0; r < regs; ++r) {
      for (int e = 0; e < per_reg; ++e) {
        const Coord c = coord(lane, r, e);
        ASSERT_TRUE(c.row >= 0 && c.row < rows && c.col >= 0 && c.col < cols)
            << in.name << " " << what << " lane " << lane << " reg " << r << " elem " << e << " -> (" << c.row << ","
            << c.col << ")";
        ++hits[static_cast<std::size_t>(c.row * cols + c.col)];
      }
    }
  }
  for (int i = 0; i < rows * cols; ++i) ASSERT_EQ(hits[static_cast<std::size_t>(i)], 1) << in.name << " " << what << " element " << i;
}

TEST(InstructionTable, EveryLayoutIsABijectionOntoItsTile) {
  int rows_checked = 0;
  for (const Instruction& in : instruction_table) {
    expect_bijection(in, "A", in.a_registers(), in.a_elements_per_register(), in.m, in.stored_k(),
                     [&](int l, int r, int e) { return a_coord(in, l, r, e); });
    expect_bijection(in, "B", in.b_registers(), in.b_elements_per_register(), in.k, in.n,
                     [&](int l, int r, int e) { return b_coord(in, l, r, e); });
    expect_bijection(in, "C/D", in.c_registers(), in.c_elements_per_register(), in.m, in.n,
                     [&](int l, int r, int e) { return c_coord(in, l, r, e); });
    if (in.is_sparse()) {
      // For each selector, the supplying lanes' used nibbles cover every (row, chunk) exactly once.
      for (int f = 0; f < in.selector_count(); ++f) {
        std::vector<int> hits(static_cast<std::size_t>(16 * in.chunks_per_row()), 0);
        for (int g = 0; g < 8; ++g) {
          for (int u = 0; u < in.metadata.lanes_per_quad; ++u) {
            ASSERT_LT(metadata_lane_in_quad(in, f, u), 4);
            for (int j = 0; j < metadata_nibbles_used(in); ++j) {
              const MetaCoord mc = metadata_coord(in, g, u, j);
              ASSERT_TRUE(mc.row >= 0 && mc.row < 16 && mc.chunk >= 0 && mc.chunk < in.chunks_per_row()) << in.name;
              ++hits[static_cast<std::size_t>(mc.row * in.chunks_per_row() + mc.chunk)];
            }
          }
        }
        for (int h : hits) ASSERT_EQ(h, 1) << in.name << " selector " << f;
      }
      EXPECT_LE(metadata_nibbles_used(in), 8) << in.name;
    }
    ++rows_checked;
  }
  EXPECT_EQ(rows_checked, 116);
}

TEST(InstructionTable, RegisterCountsMatchPtxOperandLists) {
  // PTX ISA 9.1 operand lists, e.g. mma.sp m16n8k32 f16: A {4 x .b32}, B {4 x .b32}, C/D {4 x .f32}.
  struct Want { const char* name; int a, b, c; };
  for (const Want& w : {Want{"SM80_SP_16x8x16_F32F16F16F32_TN", 2, 2, 4}, Want{"SM80_SP_16x8x32_F16F16F16F16_TN", 4, 4, 2},
                        Want{"SM80_SP_16x8x8_F32TF32TF32F32_TN", 2, 2, 4}, Want{"SM80_SP_16x8x16_F32TF32TF32F32_TN", 4, 4, 4},
                        Want{"SM80_SP_16x8x32_S32S8S8S32_TN", 2, 2, 4}, Want{"SM80_SP_16x8x64_S32U8S8S32_SATFINITE_TN", 4, 4, 4},
                        Want{"SM80_SP_16x8x64_S32S4S4S32_TN", 2, 2, 4}, Want{"SM80_SP_16x8x128_S32U4U4S32_TN", 4, 4, 4},
                        Want{"SM89_SP_16x8x64_F32E4M3E5M2F32_TN", 4, 4, 4}, Want{"SM80_16x8x16_F32F16F16F32_TN", 4, 2, 4},
                        Want{"SM80_16x8x8_F32TF32TF32F32_TN", 4, 2, 4}, Want{"SM80_16x8x32_S32S8U8S32_TN", 4, 2, 4},
                        Want{"SM80_16x8x64_S32S4S4S32_TN", 4, 2, 4}, Want{"SM89_16x8x32_F32E4M3E4M3F32_TN", 4, 2, 4}}) {
    const Instruction* in = find_instruction(w.name);
    ASSERT_NE(in, nullptr) << w.name;
    EXPECT_EQ(in->a_registers(), w.a) << w.name;
    EXPECT_EQ(in->b_registers(), w.b) << w.name;
    EXPECT_EQ(in->c_registers(), w.c) << w.name;
  }
  EXPECT_NE(find_instruction("mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.bf16.bf16.f32"), nullptr);
  EXPECT_EQ(find_instruction("mma.sp.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32"), nullptr);
}

TEST(InstructionTable, SelectorRangesFollowPtx) {
  // PTX: f16 k16 / tf32 k8: 0..3; f16 k32, tf32 k16, 8-bit k32, 4-bit k64: 0..1; k64 8-bit, k128, fp8: 0.
  EXPECT_EQ(row("SM80_SP_16x8x16_F32F16F16F32_TN").selector_count(), 4);
  EXPECT_EQ(row("SM80_SP_16x8x8_F32TF32TF32F32_TN").selector_count(), 4);
  EXPECT_EQ(row("SM80_SP_16x8x32_F32BF16BF16F32_TN").selector_count(), 2);
  EXPECT_EQ(row("SM80_SP_16x8x32_S32S8S8S32_TN").selector_count(), 2);
  EXPECT_EQ(row("SM80_SP_16x8x64_S32S4S4S32_TN").selector_count(), 2);
  EXPECT_EQ(row("SM80_SP_16x8x64_S32S8S8S32_TN").selector_count(), 1);
  EXPECT_EQ(row("SM80_SP_16x8x128_S32S4S4S32_TN").selector_count(), 1);
  EXPECT_EQ(row("SM89_SP_16x8x64_F32E5M2E5M2F32_TN").selector_count(), 1);
}

TEST(InstructionLayout, PublishedElementFormulas) {
  // docs/ptx-facts.md §Fragments, element by element, written independently of layout.hpp.
  const Instruction& f16k32 = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  const Instruction& s8k32 = row("SM80_SP_16x8x32_S32S8S8S32_TN");
  const Instruction& tf32k16 = row("SM80_SP_16x8x16_F32TF32TF32F32_TN");
  const Instruction& dense16 = row("SM80_16x8x16_F32F16F16F32_TN");
  const Instruction& f16acc = row("SM80_SP_16x8x16_F16F16F16F16_TN");
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    for (int i = 0; i < 8; ++i) {  // f16 k32 B: k = 2t + (i&1) + 8(i>>1), n = g
      const Coord c = b_coord(f16k32, lane, i / 2, i % 2);
      EXPECT_EQ(c.row, 2 * t + (i & 1) + 8 * (i >> 1));
      EXPECT_EQ(c.col, g);
    }
    for (int r = 0; r < 4; ++r) {  // f16 k32 A: row g+8(r&1), dense cols 4t+16(r>>1).. => stored 2t+8(r>>1)
      for (int e = 0; e < 2; ++e) {
        const Coord c = a_coord(f16k32, lane, r, e);
        EXPECT_EQ(c.row, g + 8 * (r & 1));
        EXPECT_EQ(c.col / 2 * 4, 4 * t + 16 * (r >> 1));  // its dense chunk
      }
    }
    for (int r = 0; r < 2; ++r) {  // 8-bit k32 A: bytes 0-1 = chunk at 8t, bytes 2-3 = chunk at 8t+4
      for (int e = 0; e < 4; ++e) {
        const Coord c = a_coord(s8k32, lane, r, e);
        EXPECT_EQ(c.row, g + 8 * r);
        EXPECT_EQ(c.col / 2 * 4, 8 * t + 4 * (e / 2));
      }
    }
    for (int i = 0; i < 4; ++i) {  // tf32 k16 B: k = t + 4i
      EXPECT_EQ(b_coord(tf32k16, lane, i, 0).row, t + 4 * i);
    }
    for (int i = 0; i < 8; ++i) {  // dense m16n8k16 A: a_i row g+8((i>>1)&1), col 2t+(i&1)+8(i>>2)
      const Coord c = a_coord(dense16, lane, i / 2, i % 2);
      EXPECT_EQ(c.row, g + 8 * ((i >> 1) & 1));
      EXPECT_EQ(c.col, 2 * t + (i & 1) + 8 * (i >> 2));
    }
    for (int i = 0; i < 4; ++i) {  // C: c_i row g+8(i>>1), col 2t+(i&1); f16 packs pairs
      const Coord c = c_coord(f16acc, lane, i / 2, i % 2);
      EXPECT_EQ(c.row, g + 8 * (i >> 1));
      EXPECT_EQ(c.col, 2 * t + (i & 1));
    }
  }
  // E for pair shapes: lane 4g + 2f + w holds rows g (low half) and g+8 (high half) of window w.
  EXPECT_EQ(metadata_lane_in_quad(f16k32, 1, 1), 3);
  EXPECT_EQ(metadata_coord(f16k32, 5, 1, 6).row, 13);
  EXPECT_EQ(metadata_coord(f16k32, 5, 1, 6).chunk, 6);
  // 8-bit k64: lane q holds row g + 8(q&1), window q>>1.
  const Instruction& s8k64 = row("SM80_SP_16x8x64_S32S8S8S32_TN");
  EXPECT_EQ(metadata_coord(s8k64, 2, 3, 7).row, 10);
  EXPECT_EQ(metadata_coord(s8k64, 2, 3, 7).chunk, 15);
}

TEST(MetadataNibbles, EveryNibbleOfEveryKind) {
  const Instruction& plain = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  const Instruction& ordered = row("SM80_SP_ORDERED_16x8x32_F32F16F16F32_TN");
  const Instruction& tf32 = row("SM80_SP_16x8x8_F32TF32TF32F32_TN");
  const Instruction& int4 = row("SM80_SP_16x8x64_S32S4S4S32_TN");
  int ok_plain = 0, ok_ordered = 0, ok_tf32 = 0;
  for (unsigned n = 0; n < 16; ++n) {
    const int idx0 = static_cast<int>(n & 3), idx1 = static_cast<int>(n >> 2);
    const DecodedNibble p = decode_nibble(plain, n), o = decode_nibble(ordered, n), t = decode_nibble(tf32, n);
    if (idx0 == idx1) {
      EXPECT_EQ(p.status, NibbleStatus::equal_indices);
      EXPECT_EQ(o.status, NibbleStatus::equal_indices);
    } else if (idx0 < idx1) {
      EXPECT_EQ(p.status, NibbleStatus::ok);
      EXPECT_EQ(o.status, NibbleStatus::ok);
      ++ok_ordered;
    } else {
      EXPECT_EQ(p.status, NibbleStatus::descending_unconfirmed);
      EXPECT_EQ(o.status, NibbleStatus::unordered);
    }
    ok_plain += !is_undefined(p.status);
    if (!is_undefined(p.status)) {
      EXPECT_EQ(p.offset[0], idx0);
      EXPECT_EQ(p.offset[1], idx1);
    }
    ok_tf32 += t.status == NibbleStatus::ok;
    const DecodedNibble q = decode_nibble(int4, n);
    if (!is_undefined(q.status)) {
      EXPECT_EQ(q.count, 4);
      EXPECT_EQ(q.offset[2], 2 * idx1);
    }
  }
  EXPECT_EQ(ok_plain, 12);
  EXPECT_EQ(ok_ordered, 6);  // 0100 1000 1001 1100 1101 1110
  EXPECT_EQ(ok_tf32, 2);
  EXPECT_EQ(decode_nibble(tf32, 0xe).offset[0], 1);
  EXPECT_EQ(decode_nibble(tf32, 0x4).offset[0], 0);
}

}  // namespace
}  // namespace twofour::sim::spec
