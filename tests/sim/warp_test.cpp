// Warp level: register scatter/gather, metadata from the selector's lanes, UB, and random tiles
// against a scalar reference written directly on the independent datapath oracle.
#include "twofour/sim/warp.hpp"

#include "sim/mma_support.hpp"
#include "sim/support/fp8_lowering_reference.hpp"
#include "sim/support/reference_datapath.hpp"
#include "support/seed.hpp"
#include "twofour/sim/spec/datapath.hpp"
#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/spec/rounding.hpp"
#include "twofour/sim/vectors.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace twofour::sim {
namespace {

using spec::Arch;
using spec::Instruction;
using testing::rows_on;

const Instruction& row(const char* name) {
  const Instruction* in = spec::find_instruction(name);
  if (in == nullptr) throw std::runtime_error(std::string("no row ") + name);
  return *in;
}

// Scalar reference, independent of layout.hpp, metadata.hpp and blockfma.cpp: metadata decoded
// here from docs/ptx-facts.md §Metadata, products grouped as the default (stored-products) assumption says, dots
// by the exact wide-integer oracle.
// sm_90 fp8 rows follow the ptxas lowering (fp8_lowering.hpp): inputs converted to fp16, the fp16
// datapath from C = +0 over the low register halves' elements, then over the high halves', then a
// host float (or _Float16) add of C.
Tile reference_tile(const Instruction& in, Arch arch, const TileOperands& t) {
  const InstructionDatapath datapath(in, arch);
  const spec::DatapathSpec dp = datapath.spec();
  const bool lowered = datapath.lowering() == Lowering::fp8_via_fp16_sm90;
  Tile d(in.m, in.n);
  for (int i = 0; i < in.m; ++i) {
    std::vector<int> cols;  // dense column of each stored value
    if (in.is_sparse()) {
      for (int ch = 0; ch < in.chunks_per_row(); ++ch) {
        const unsigned nib = t.metadata[static_cast<std::size_t>(i * in.chunks_per_row() + ch)];
        const int i0 = static_cast<int>(nib & 3u), i1 = static_cast<int>(nib >> 2);
        if (in.sparsity == spec::Sparsity::one_of_two) {
          cols.push_back(ch * 2 + (nib == 0xe ? 1 : 0));
        } else if (in.sparsity == spec::Sparsity::pairs_4of8) {
          for (int v : {2 * i0, 2 * i0 + 1, 2 * i1, 2 * i1 + 1}) cols.push_back(ch * 8 + v);
        } else {
          cols.push_back(ch * 4 + i0);
          cols.push_back(ch * 4 + i1);
        }
      }
    }
    for (int j = 0; j < in.n; ++j) {
      std::vector<std::uint32_t> a, b;
      for (int s = 0; s < t.a.cols; ++s) {
        a.push_back(t.a.at(i, s));
        b.push_back(t.b.at(in.is_sparse() ? cols[static_cast<std::size_t>(s)] : s, j));
      }
      if (lowered) {
        // Two passes: stored / K positions s with (s / 2) even (low register halves), then odd.
        std::uint32_t sum = 0u;
        for (int pass = 0; pass < 2; ++pass) {
          std::vector<std::uint32_t> pa, pb;
          for (std::size_t s = 0; s < a.size(); ++s) {
            if (static_cast<int>((s / 2) % 2) != pass) continue;
            pa.push_back(a[s]);
            pb.push_back(b[s]);
          }
          sum = testing::reference_dot(dp, testing::host_fp8_to_fp16(*in.a, pa), testing::host_fp8_to_fp16(*in.b, pb), sum);
        }
        d.at(i, j) = *in.d == spec::fp16 ? testing::host_hadd(sum, t.c.at(i, j)) : testing::host_fadd(sum, t.c.at(i, j));
        continue;
      }
      d.at(i, j) = dp.is_integer() ? testing::reference_dot_int(dp, a, b, t.c.at(i, j))
                                   : testing::reference_dot(dp, a, b, t.c.at(i, j));
    }
  }
  return d;
}

TEST(Warp, PackUnpackRoundTripsEveryRow) {
  std::mt19937_64 rng(testing::test_seed("Warp.PackUnpackRoundTripsEveryRow", 11));
  int rows = 0;
  for (const Instruction& in : spec::instruction_table) {
    for (int sel = 0; sel < (in.is_sparse() ? in.selector_count() : 1); ++sel) {
      const TileOperands t = random_tile_operands(in, rng);
      const WarpRegisters regs = pack_registers(in, t, sel);
      bool unconfirmed = false;
      const TileOperands back = unpack_operands(in, regs, sel, &unconfirmed);
      EXPECT_EQ(back.a, t.a) << in.name;
      EXPECT_EQ(back.b, t.b) << in.name;
      EXPECT_EQ(back.c, t.c) << in.name;
      EXPECT_EQ(back.metadata, t.metadata) << in.name << " selector " << sel;
      EXPECT_FALSE(unconfirmed);
      // Only the selector's lanes carry metadata.
      for (int lane = 0; lane < 32; ++lane) {
        const int q = lane & 3;
        const bool supplies = in.is_sparse() && q / in.metadata.lanes_per_quad == sel;
        if (!supplies) {
          EXPECT_EQ(regs[static_cast<std::size_t>(lane)].e, 0u) << in.name << " lane " << lane;
        }
      }
      WarpOutput d{};
      for (auto& lane : d)
        for (int r = 0; r < in.d_registers(); ++r) lane[static_cast<std::size_t>(r)] = static_cast<std::uint32_t>(rng());
      EXPECT_EQ(pack_d(in, unpack_d(in, d)), d) << in.name;
      ++rows;
    }
  }
  EXPECT_GT(rows, 112);
}

TEST(Warp, RandomTilesMatchScalarReference) {
  std::mt19937_64 rng(testing::test_seed("Warp.RandomTilesMatchScalarReference", 12));
  int cases = 0;
  for (Arch arch : testing::kArchs) {
    for (const Instruction* in : rows_on(arch)) {
      for (int rep = 0; rep < 2; ++rep) {
        const int sel = in->is_sparse() ? rep % in->selector_count() : 0;
        const TileOperands t = random_tile_operands(*in, rng);
        const WarpResult r = run_warp(*in, arch, pack_registers(*in, t, sel), sel);
        const Tile want = reference_tile(*in, arch, t);
        const Tile got = unpack_d(*in, r.d);
        ASSERT_EQ(got, want) << in->name << " on " << spec::arch_name(arch) << " selector " << sel;
        EXPECT_FALSE(r.unconfirmed);
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 300);
}

// Every metadata nibble x every selector, for one row of each sparse kind (and its ordered form):
// defined nibbles execute and move the stored values to the columns they name; UB nibbles throw
// naming lane, register and nibble; descending pairs under plain mma.sp run and are flagged.
TEST(Warp, EveryNibbleTimesSelector) {
  const char* kinds[] = {"SM80_SP_16x8x16_F32F16F16F32_TN", "SM80_SP_16x8x32_F32F16F16F32_TN",
                         "SM80_SP_16x8x8_F32TF32TF32F32_TN", "SM80_SP_16x8x16_F32TF32TF32F32_TN",
                         "SM80_SP_16x8x32_S32S8S8S32_TN",   "SM80_SP_16x8x64_S32S8S8S32_TN",
                         "SM80_SP_16x8x64_S32S4S4S32_TN",   "SM80_SP_16x8x128_S32S4S4S32_TN",
                         "SM89_SP_16x8x64_F32E4M3E4M3F32_TN"};
  std::mt19937_64 rng(testing::test_seed("Warp.EveryNibbleTimesSelector", 13));
  int checked = 0;
  for (const char* base : kinds) {
    for (const bool ordered : {false, true}) {
      std::string name = base;
      if (ordered) name.insert(name.find("_SP_") + 4, "ORDERED_");
      const Instruction& in = row(name.c_str());
      const Arch arch = in.min_arch == Arch::sm89 ? Arch::sm90 : Arch::sm80;
      for (int sel = 0; sel < in.selector_count(); ++sel) {
        for (unsigned nib = 0; nib < 16; ++nib) {
          // Put `nib` in row 9, chunk 1 (covered by some lane/nibble of the selector's lanes).
          TileOperands t = random_tile_operands(in, rng);
          const int target = 9 * in.chunks_per_row() + 1;
          t.metadata[static_cast<std::size_t>(target)] = static_cast<std::uint8_t>(nib);
          const WarpRegisters regs = pack_registers(in, t, sel);
          const unsigned i0 = nib & 3u, i1 = nib >> 2;
          const bool tf32 = in.sparsity == spec::Sparsity::one_of_two;
          const bool ub = tf32 ? (nib != 0x4 && nib != 0xe) : (i0 == i1 || (ordered && i0 > i1));
          if (ub) {
            try {
              (void)run_warp(in, arch, regs, sel);
              ADD_FAILURE() << name << " nibble " << nib << " selector " << sel << " ran";
            } catch (const MetadataError& e) {
              const std::string msg = e.what();
              EXPECT_NE(msg.find("lane "), std::string::npos) << msg;
              EXPECT_NE(msg.find("register e"), std::string::npos) << msg;
              EXPECT_NE(msg.find("nibble "), std::string::npos) << msg;
              EXPECT_NE(msg.find("A row 9 chunk 1"), std::string::npos) << msg;
            }
          } else {
            const WarpResult r = run_warp(in, arch, regs, sel);
            EXPECT_EQ(r.unconfirmed, !tf32 && i0 > i1) << name << " nibble " << nib;
            if (r.unconfirmed) {
              ASSERT_EQ(r.notes.size(), 1u);
              EXPECT_NE(r.notes[0].find("unconfirmed"), std::string::npos) << r.notes[0];
            }
            EXPECT_EQ(unpack_d(in, r.d), reference_tile(in, arch, t)) << name << " nibble " << nib << " sel " << sel;
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 300);
}

TEST(Warp, SelectorOutOfRangeIsRejected) {
  const Instruction& k16 = row("SM80_SP_16x8x16_F32F16F16F32_TN");   // selector 0..3
  const Instruction& k32 = row("SM80_SP_16x8x32_F32F16F16F32_TN");   // 0..1
  const Instruction& s8k64 = row("SM80_SP_16x8x64_S32S8S8S32_TN");   // 0 only
  const Instruction& dense = row("SM80_16x8x16_F32F16F16F32_TN");
  WarpRegisters regs{};
  for (auto& l : regs) l.e = 0x44444444u;
  EXPECT_NO_THROW((void)run_warp(k16, Arch::sm80, regs, 3));
  EXPECT_THROW((void)run_warp(k16, Arch::sm80, regs, 4), MetadataError);
  EXPECT_THROW((void)run_warp(k32, Arch::sm80, regs, 2), MetadataError);
  EXPECT_THROW((void)run_warp(s8k64, Arch::sm80, regs, 1), MetadataError);
  EXPECT_THROW((void)run_warp(k16, Arch::sm80, regs, -1), MetadataError);
  EXPECT_THROW((void)run_warp(dense, Arch::sm80, regs, 1), MetadataError);
  try {
    (void)run_warp(k32, Arch::sm80, regs, 2);
  } catch (const MetadataError& e) {
    EXPECT_NE(std::string(e.what()).find("selector 2"), std::string::npos) << e.what();
  }
}

TEST(Warp, Fp8NeedsSm89) {
  WarpRegisters regs{};
  for (auto& l : regs) l.e = 0x44444444u;
  EXPECT_THROW((void)run_warp(row("SM89_SP_16x8x64_F32E4M3E4M3F32_TN"), Arch::sm80, regs, 0), UnsupportedInstruction);
  EXPECT_NO_THROW((void)run_warp(row("SM89_SP_16x8x64_F32E4M3E4M3F32_TN"), Arch::sm90, regs, 0));
}

// ARANGE inputs with registers built by hand from docs/ptx-facts.md §Fragments (not from layout.hpp): A holds
// 1..N distinct small integers, B selects column j of A, C = 0, so D exposes any permutation.
TEST(Warp, ArangeExposesLayoutsSparseF16K32) {
  const Instruction& in = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  WarpRegisters regs{};
  // Compressed A value (row, c) = row * 16 + c + 1; metadata nibble 0b0100 everywhere: stored
  // values of chunk q sit at dense columns 4q and 4q+1, so dense col 4q+v (v<2) = compressed 2q+v.
  auto a_val = [](int r, int c) { return static_cast<double>(r * 16 + c + 1); };
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    auto& L = regs[static_cast<std::size_t>(lane)];
    for (int r = 0; r < 4; ++r) {
      const int arow = g + 8 * (r & 1);
      const int c0 = 2 * t + 8 * (r >> 1);  // compressed cols of dense chunk cols 4t+16(r>>1)..+3
      L.a[static_cast<std::size_t>(r)] = spec::encode(spec::fp16, a_val(arow, c0)) |
                                         (spec::encode(spec::fp16, a_val(arow, c0 + 1)) << 16);
    }
    // B (K x N) with B[k][n] = 1 when k == 4n (dense col of compressed col 2n), else 0.
    for (int i = 0; i < 8; ++i) {
      const int k = 2 * t + (i & 1) + 8 * (i >> 1), n = g;
      const std::uint32_t one = k == 4 * n ? spec::encode(spec::fp16, 1.0) : 0u;
      L.b[static_cast<std::size_t>(i >> 1)] |= one << (16 * (i & 1));
    }
    // Selector 1: lanes 4g+2 (window 0) and 4g+3 (window 1) supply E; all nibbles 0b0100.
    if (t >= 2) L.e = 0x44444444u;
  }
  const WarpResult r = run_warp(in, Arch::sm80, regs, 1);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    for (int i = 0; i < 4; ++i) {
      const int drow = g + 8 * (i >> 1), dcol = 2 * t + (i & 1);
      const float got = spec::bits_float(r.d[static_cast<std::size_t>(lane)][static_cast<std::size_t>(i)]);
      EXPECT_EQ(static_cast<double>(got), a_val(drow, 2 * dcol)) << "lane " << lane << " c" << i;
    }
  }
}

TEST(Warp, ArangeExposesLayoutsDenseS8K32) {
  const Instruction& in = row("SM80_16x8x32_S32S8S8S32_TN");
  WarpRegisters regs{};
  // A[r][k] = (r * 32 + k) mod 127; B[k][n] = 1 when k == n + 8, so D[r][n] = A[r][n + 8].
  auto a_val = [](int r, int k) { return (r * 32 + k) % 127; };
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    auto& L = regs[static_cast<std::size_t>(lane)];
    for (int r = 0; r < 2; ++r)  // PTX: a_i at row g + 8(i>>2 & 1), col 4t + (i&3) (8-bit k32)
      for (int e = 0; e < 4; ++e)
        L.a[static_cast<std::size_t>(r)] |= static_cast<std::uint32_t>(a_val(g + 8 * r, 4 * t + e)) << (8 * e);
    for (int i = 0; i < 8; ++i) {  // b_i at k = 4t + (i&3) + 16(i>>2), n = g
      const int k = 4 * t + (i & 3) + 16 * (i >> 2);
      if (k == g + 8) L.b[static_cast<std::size_t>(i >> 2)] |= 1u << (8 * (i & 3));
    }
  }
  // A's cols 16..31 live in registers a2, a3 for k32 8-bit dense: fill them too.
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    auto& L = regs[static_cast<std::size_t>(lane)];
    for (int r = 2; r < 4; ++r)
      for (int e = 0; e < 4; ++e)
        L.a[static_cast<std::size_t>(r)] |= static_cast<std::uint32_t>(a_val(g + 8 * (r & 1), 4 * t + e + 16)) << (8 * e);
  }
  ASSERT_EQ(in.a_registers(), 4);
  const WarpResult r = run_warp(in, Arch::sm80, regs, 0);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane >> 2, t = lane & 3;
    for (int i = 0; i < 4; ++i) {
      const int drow = g + 8 * (i >> 1), dcol = 2 * t + (i & 1);
      EXPECT_EQ(static_cast<int>(r.d[static_cast<std::size_t>(lane)][static_cast<std::size_t>(i)]), a_val(drow, dcol + 8))
          << "lane " << lane << " c" << i;
    }
  }
}

}  // namespace
}  // namespace twofour::sim
