// The warpgroup rows (wgmma.mma_async and wgmma.mma_async.sp, sm_90a): the matrix descriptor and
// the shared-memory layouts, the register and metadata fragments, and execution.
// Oracles: descriptor fields and addresses computed by hand from the PTX ISA 9.1 §9.7.15 ("Matrix Descriptor Format")
// definitions (written out below); exact integer products; the dense twin on the decompressed A;
// the H100 fp8 -> fp32 dot products of tests/data/tensor-core-hw (measured with wgmma, C = 0).
#include "sim/mma_support.hpp"
#include "support/paths.hpp"
#include "support/seed.hpp"
#include "twofour/sim/measured_dots.hpp"
#include "twofour/sim/shared_operands.hpp"
#include "twofour/sim/spec/descriptor.hpp"
#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/vectors.hpp"
#include "twofour/sim/warp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace twofour::sim {
namespace {

using spec::Arch;
using spec::Instruction;
using spec::Swizzle;

const Instruction& row(const std::string& name) {
  const Instruction* in = spec::find_instruction(name);
  if (in == nullptr) throw std::runtime_error("no instruction " + name);
  return *in;
}

std::vector<const Instruction*> warpgroup_rows() {
  std::vector<const Instruction*> rows;
  for (const Instruction& in : spec::instruction_table)
    if (in.threads == 128) rows.push_back(&in);
  return rows;
}

bool sampled_n(const Instruction& in) { return in.n == 8 || in.n == 24 || in.n == 136 || in.n == 256; }

std::string expect_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

// ---- rows -------------------------------------------------------------------------------------

TEST(WgmmaRows, ShapesTypesAndCountsFollowThePtxLists) {
  int sparse = 0, dense = 0;
  for (const Instruction* in : warpgroup_rows()) {
    EXPECT_EQ(in->m, 64) << in->name;
    EXPECT_EQ(in->threads, 128);
    EXPECT_EQ(in->b_source, spec::OperandSource::shared_descriptor) << in->name;
    EXPECT_EQ(in->min_arch, Arch::sm90);
    // 32 bytes of A per row per dense instruction; sparse doubles K.
    EXPECT_EQ(in->k * in->a->container_bits / 8, in->is_sparse() ? 64 : 32) << in->name;
    if (in->a->is_integer) EXPECT_TRUE(in->n <= 32 ? in->n % 8 == 0 : in->n % 16 == 0) << in->name;
    else EXPECT_EQ(in->n % 8, 0) << in->name;
    // C/D: 64 x N over 128 threads.
    EXPECT_EQ(in->c_registers(), 64 * in->n / 128 / (32 / in->c->container_bits)) << in->name;
    EXPECT_EQ(in->a_registers(), in->a_source == spec::OperandSource::registers ? 4 : 0) << in->name;
    EXPECT_EQ(in->b_registers(), 0);
    (in->is_sparse() ? sparse : dense)++;
  }
  // Per source (SS, RS): f16->f16, f16->f32, bf16, tf32 and 8 fp8 rows at 32 N each; 8 integer
  // rows (4 type pairs, with and without .satfinite) at 18 N each.
  EXPECT_EQ(sparse, 2 * (12 * 32 + 8 * 18));
  EXPECT_EQ(dense, sparse);
  EXPECT_EQ(row("SM90_SP_64x256x32_F32F16F16F32_RS").c_registers(), 128);
  EXPECT_EQ(row("SM90_SP_64x8x32_F16F16F16F16_SS").c_registers(), 2);
  EXPECT_EQ(row("SM90_SP_64x8x32_F32BF16BF16F32_SS").ptx, "wgmma.mma_async.sp.sync.aligned.m64n8k32.f32.bf16.bf16");
  EXPECT_EQ(row("SM90_SP_64x16x64_S32S8U8S32_SATFINITE_SS").ptx,
            "wgmma.mma_async.sp.sync.aligned.m64n16k64.satfinite.s32.s8.u8");
  EXPECT_EQ(spec::find_instruction("SM90_64x40x32_S32S8S8S32_SS"), nullptr);  // integer N steps by 16 past 32
  // Selector ranges: 0/1 for 16- and 32-bit types, 0 for 8-bit types.
  EXPECT_EQ(row("SM90_SP_64x8x32_F32F16F16F32_SS").selector_count(), 2);
  EXPECT_EQ(row("SM90_SP_64x8x16_F32TF32TF32F32_SS").selector_count(), 2);
  EXPECT_EQ(row("SM90_SP_64x8x64_F32E4M3E5M2F32_SS").selector_count(), 1);
  EXPECT_EQ(row("SM90_SP_64x8x64_S32U8U8S32_RS").selector_count(), 1);
  // fp8 wgmma is Hopper's native fp8 path, not the ptxas lowering of warp-level fp8 mma.
  EXPECT_EQ(lowering_of(row("SM90_64x8x32_F32E4M3E4M3F32_SS"), Arch::sm90), Lowering::native);
}

// ---- register and metadata fragments ---------------------------------------------------------

TEST(WgmmaFragments, WarpsHoldSixteenRowsEachWithTheMmaLayout) {
  const Instruction& rs = row("SM90_SP_64x16x32_F32F16F16F32_RS");
  const Instruction& mma = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  for (int thread = 0; thread < 128; ++thread) {
    const int w = thread / 32, lane = thread % 32, g = lane / 4, t = lane % 4;
    for (int r = 0; r < 4; ++r)
      for (int e = 0; e < 2; ++e) {
        const spec::Coord c = spec::a_coord(rs, thread, r, e), m = spec::a_coord(mma, lane, r, e);
        EXPECT_EQ(c.row, 16 * w + m.row);
        EXPECT_EQ(c.col, m.col);
      }
    // D (f32): d_i at row 16w + g + 8((i>>1)&1), col 8(i>>2) + 2t + (i&1), i = 0..7 for N = 16.
    for (int i = 0; i < 8; ++i) {
      const spec::Coord d = spec::c_coord(rs, thread, i, 0);
      EXPECT_EQ(d.row, 16 * w + g + 8 * ((i >> 1) & 1));
      EXPECT_EQ(d.col, 8 * (i >> 2) + 2 * t + (i & 1));
    }
  }
  // Metadata: quad q of warp w covers rows 16w + (q % 8) and 16w + (q % 8) + 8 (16-bit types).
  EXPECT_EQ(spec::metadata_coord(rs, 8, 0, 0).row, 16);
  EXPECT_EQ(spec::metadata_coord(rs, 8, 0, 4).row, 24);
  EXPECT_EQ(spec::metadata_coord(rs, 31, 1, 3).row, 48 + 7);
  EXPECT_EQ(spec::metadata_thread(rs, 31, 1, 0), 4 * 31 + 2);  // selector 1: the quad's threads 2 and 3
}

TEST(WgmmaFragments, UndefinedTf32MetadataNamesTheThread) {
  const Instruction& in = row("SM90_SP_64x8x16_F32TF32TF32F32_SS");
  std::mt19937_64 rng(testing::test_seed("WgmmaFragments.UndefinedTf32MetadataNamesTheThread", 21));
  const TileOperands t = random_tile_operands(in, rng);
  WarpRegisters regs = pack_registers(in, t, 1);
  const SharedOperands shared = pack_shared(in, t, Swizzle::b128);
  regs[99].e = (regs[99].e & ~0xf0u) | 0x50u;  // thread 99 = warp 3, quad 24: nibble 1 = 0101
  ASSERT_EQ(spec::metadata_thread(in, 24, 1, 1), 99);
  try {
    (void)run_warp(in, Arch::sm90, regs, 1, {}, &shared);
    ADD_FAILURE() << "undefined metadata accepted";
  } catch (const MetadataError& e) {
    EXPECT_NE(std::string(e.what()).find("lane 99"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("A row 48"), std::string::npos) << e.what();
  }
}

// ---- descriptor and shared-memory layouts ----------------------------------------------------

TEST(WgmmaDescriptor, FieldsAndAddressesComputedByHand) {
  // start 0x400, LBO 128, SBO 256, 128B swizzle:
  //   0x400 >> 4 = 0x40; (128 >> 4) << 16 = 0x80000; (256 >> 4) << 32 = 0x10'0000'0000; 1 << 62.
  const spec::MatrixDescriptor d{0x400, 128, 256, 0, Swizzle::b128};
  EXPECT_EQ(spec::encode_descriptor(d), 0x4000001000080040ull);
  const spec::MatrixDescriptor back = spec::decode_descriptor(0x4000001000080040ull);
  EXPECT_EQ(back.start, 0x400u);
  EXPECT_EQ(back.lbo, 128u);
  EXPECT_EQ(back.sbo, 256u);
  EXPECT_EQ(back.swizzle, Swizzle::b128);
  EXPECT_EQ(spec::decode_descriptor(3ull << 62).swizzle, Swizzle::b32);
  EXPECT_EQ(spec::decode_descriptor(2ull << 62).swizzle, Swizzle::b64);
  EXPECT_EQ(spec::decode_descriptor(5ull << 49).base_offset, 5);

  // No swizzle, 2-byte elements, LBO 128, SBO 256: element (row 9, k 10) = 256 (8-row group 1)
  // + 128 (K chunk 1: bytes 16..31) + 16 (row 1 of the core matrix) + 4 (byte 20 % 16).
  EXPECT_EQ(spec::k_major_address({0, 128, 256, 0, Swizzle::none}, 2, 9, 10), 404u);
  // 128B swizzle from 0, SBO 1024: row r at 128 r, chunk ^= (address bits 7..9).
  const spec::MatrixDescriptor s128{0, 16, 1024, 0, Swizzle::b128};
  EXPECT_EQ(spec::k_major_address(s128, 2, 0, 0), 0u);
  EXPECT_EQ(spec::k_major_address(s128, 2, 1, 0), 144u);   // 128 ^ (1 << 4)
  EXPECT_EQ(spec::k_major_address(s128, 2, 1, 8), 128u);   // 144 ^ 16
  EXPECT_EQ(spec::k_major_address(s128, 2, 7, 0), 1008u);  // 896 ^ (7 << 4)
  EXPECT_EQ(spec::k_major_address(s128, 2, 8, 0), 1024u);  // next group: bits 7..9 = 0 again
  // A start address inside the atom (a K step of 32 bytes) keeps the address-based XOR.
  EXPECT_EQ(spec::k_major_address({32, 16, 1024, 0, Swizzle::b128}, 2, 1, 0), 176u);  // 160 ^ 16
  // 64B: rows 64 bytes apart, chunk ^= bits 7..8; 32B: rows 32 apart, chunk ^= bit 7.
  EXPECT_EQ(spec::k_major_address({0, 16, 512, 0, Swizzle::b64}, 2, 2, 0), 144u);  // 128 ^ 16
  EXPECT_EQ(spec::k_major_address({0, 16, 512, 0, Swizzle::b64}, 2, 6, 0), 432u);  // 384 ^ (3 << 4)
  EXPECT_EQ(spec::k_major_address({0, 16, 256, 0, Swizzle::b32}, 2, 4, 0), 144u);  // 128 ^ 16
  EXPECT_EQ(spec::k_major_address({0, 16, 256, 0, Swizzle::b32}, 2, 3, 0), 96u);   // bit 7 clear
}

TEST(WgmmaDescriptor, EveryRowAndSwizzleModeIsABijectionOntoItsBytes) {
  std::mt19937_64 rng(testing::test_seed("WgmmaDescriptor.EveryRowAndSwizzleModeIsABijectionOntoItsBytes", 22));
  int checked = 0, rejected = 0;
  for (const Instruction* in : warpgroup_rows()) {
    if (in->a_source != spec::OperandSource::shared_descriptor || !sampled_n(*in)) continue;
    for (Swizzle s : {Swizzle::none, Swizzle::b32, Swizzle::b64, Swizzle::b128}) {
      const TileOperands t = random_tile_operands(*in, rng);
      const int b_bytes = in->k * in->b->container_bits / 8;
      if (b_bytes > spec::swizzle_bytes(s) && s != Swizzle::none) {
        // K-major B wider than the swizzle row (sparse B is 64 bytes of K): a located error.
        const std::string what = expect_error([&] { (void)pack_shared(*in, t, s); });
        EXPECT_NE(what.find("wider than the " + std::string(spec::swizzle_name(s))), std::string::npos) << what;
        ++rejected;
        continue;
      }
      const SharedOperands shared = pack_shared(*in, t, s);
      // Loading checks that no two elements share a byte and all lie in the buffer.
      EXPECT_EQ(load_shared_operand(*in, Operand::a, shared), t.a) << in->name << " " << spec::swizzle_name(s);
      EXPECT_EQ(load_shared_operand(*in, Operand::b, shared), t.b) << in->name << " " << spec::swizzle_name(s);
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
  EXPECT_GT(rejected, 10);
}

TEST(WgmmaDescriptor, BadDescriptorsAreLocatedErrors) {
  const Instruction& in = row("SM90_64x8x16_F32F16F16F32_SS");
  std::mt19937_64 rng(testing::test_seed("WgmmaDescriptor.BadDescriptorsAreLocatedErrors", 23));
  const TileOperands t = random_tile_operands(in, rng);
  const SharedOperands good = pack_shared(in, t, Swizzle::b64);
  const WarpRegisters regs = pack_registers(in, t, 0);
  auto run_with = [&](SharedOperands s) { (void)run_warp(in, Arch::sm90, regs, 0, {}, &s); };
  SharedOperands s = good;
  s.a_descriptor |= 1ull << 14;
  EXPECT_NE(expect_error([&] { run_with(s); }).find("A descriptor 0x"), std::string::npos);
  EXPECT_NE(expect_error([&] { run_with(s); }).find("reserved bits"), std::string::npos);
  s = good;
  s.b_descriptor |= 2ull << 49;
  EXPECT_NE(expect_error([&] { run_with(s); }).find("base offset 2"), std::string::npos);
  s = good;
  s.bytes.resize(s.bytes.size() - 1);  // B's last byte is missing
  std::string what = expect_error([&] { run_with(s); });
  EXPECT_NE(what.find("B element ("), std::string::npos) << what;
  EXPECT_NE(what.find("outside the"), std::string::npos) << what;
  s = good;
  spec::MatrixDescriptor d = spec::decode_descriptor(s.a_descriptor);
  d.sbo = 0;  // every 8-row group on top of the first
  s.a_descriptor = spec::encode_descriptor(d);
  what = expect_error([&] { run_with(s); });
  EXPECT_NE(what.find("A element (8, 0)"), std::string::npos) << what;
  EXPECT_NE(what.find("overlaps element (0, 0)"), std::string::npos) << what;
  EXPECT_THROW((void)run_warp(in, Arch::sm90, regs, 0), DescriptorError);  // no shared memory given
  EXPECT_THROW((void)load_shared_operand(row("SM90_64x8x16_F32F16F16F32_RS"), Operand::a, good), DescriptorError);
}

// ---- execution -------------------------------------------------------------------------------

// Runs a warpgroup row through its registers and shared memory (swizzle s).
Tile run_through_threads(const Instruction& in, const TileOperands& t, int selector, Swizzle s) {
  const WarpRegisters regs = pack_registers(in, t, selector);
  const SharedOperands shared = pack_shared(in, t, s);
  return unpack_d(in, run_warp(in, Arch::sm90, regs, selector, {}, &shared).d);
}

TEST(WgmmaExecution, IntegerTilesEqualTheExactProduct) {
  std::mt19937_64 rng(testing::test_seed("WgmmaExecution.IntegerTilesEqualTheExactProduct", 24));
  int tiles = 0;
  for (const Instruction* in : warpgroup_rows()) {
    if (!in->a->is_integer || !sampled_n(*in)) continue;
    const TileOperands t = random_tile_operands(*in, rng);
    const Tile d = run_through_threads(*in, t, 0, Swizzle::b128);
    const Tile a = decompress_a(*in, t.a, t.metadata);
    for (int i = 0; i < in->m; ++i)
      for (int j = 0; j < in->n; ++j) {
        std::int64_t sum = static_cast<std::int32_t>(t.c.at(i, j));
        for (int k = 0; k < in->k; ++k) {
          const std::int64_t av = in->a->is_signed ? static_cast<std::int64_t>(static_cast<std::int8_t>(a.at(i, k)))
                                                   : static_cast<std::int64_t>(a.at(i, k));
          const std::int64_t bv = in->b->is_signed ? static_cast<std::int64_t>(static_cast<std::int8_t>(t.b.at(k, j)))
                                                   : static_cast<std::int64_t>(t.b.at(k, j));
          sum += av * bv;
        }
        const std::int64_t want = in->satfinite ? std::clamp<std::int64_t>(sum, INT32_MIN, INT32_MAX)
                                                : static_cast<std::int32_t>(static_cast<std::uint32_t>(sum));
        ASSERT_EQ(static_cast<std::int32_t>(d.at(i, j)), want) << in->name << " (" << i << "," << j << ") sum " << sum
                                                               << " c " << static_cast<std::int32_t>(t.c.at(i, j));
      }
    ++tiles;
  }
  EXPECT_EQ(tiles, 2 * 2 * 8 * 3);  // sparse/dense x SS/RS x 8 integer rows x 3 sampled N (136 is no integer N)
}

// The sparse row on (compressed A, metadata) equals two chained dense twins on the decompressed A
// for integer rows (exact sums), and for every type when the values make every sum exact.
// (.satfinite rows are left out: the chain would clamp its intermediate sum.)
TEST(WgmmaExecution, SparseEqualsDenseTwinOnDecompressedData) {
  std::mt19937_64 rng(testing::test_seed("WgmmaExecution.SparseEqualsDenseTwinOnDecompressedData", 25));
  int rows = 0;
  for (const Instruction* in : warpgroup_rows()) {
    if (!in->is_sparse() || !sampled_n(*in) || in->satfinite) continue;
    const Instruction* twin = nullptr;
    for (const Instruction* d : warpgroup_rows())
      if (!d->is_sparse() && d->a == in->a && d->b == in->b && d->d == in->d && d->n == in->n &&
          d->satfinite == in->satfinite && d->a_source == in->a_source)
        twin = d;
    ASSERT_NE(twin, nullptr) << in->name;
    TileOperands t = random_tile_operands(*in, rng);
    if (!in->a->is_integer) {  // small integers: every product and sum is exact in every format
      auto small = [&](const spec::FormatSpec& f) { return spec::encode(f, static_cast<double>(static_cast<int>(rng() % 7) - 3)); };
      for (auto& v : t.a.bits) v = small(*in->a);
      for (auto& v : t.b.bits) v = small(*in->b);
      for (auto& v : t.c.bits) v = small(*in->c);
    }
    const int selector = static_cast<int>(rng() % static_cast<unsigned>(in->selector_count()));
    const Tile sparse_d = run_through_threads(*in, t, selector, Swizzle::none);
    const Tile a = decompress_a(*in, t.a, t.metadata);
    Tile d = t.c;
    for (int half = 0; half < 2; ++half) {
      TileOperands dt;
      dt.a = Tile(64, twin->k);
      dt.b = Tile(twin->k, in->n);
      for (int i = 0; i < 64; ++i)
        for (int k = 0; k < twin->k; ++k) dt.a.at(i, k) = a.at(i, half * twin->k + k);
      for (int k = 0; k < twin->k; ++k)
        for (int j = 0; j < in->n; ++j) dt.b.at(k, j) = t.b.at(half * twin->k + k, j);
      dt.c = d;
      d = run_through_threads(*twin, dt, 0, Swizzle::b128);
    }
    EXPECT_EQ(sparse_d, d) << in->name << " vs " << twin->name;
    ++rows;
  }
  EXPECT_EQ(rows, 2 * (12 * 4 + 4 * 3));  // SS/RS x (12 float rows x 4 N + 4 integer rows x 3 N)
}

// H100 fp8 -> fp32 dot products, measured with wgmma (K = 32, C = 0), through the dense fp8 rows:
// eight cases per instruction on the diagonal of D (A row i = case i's a, B column i = its b).
// The sparse rows get the same products as their 32 stored values (metadata 0100 everywhere puts
// them at dense columns 4q, 4q+1); that they round like the dense block is the model's
// assumption for sparse fp8 (one block of 32 stored products) [I], checked here for consistency.
TEST(WgmmaExecution, Fp8RowsReplayH100MeasuredDots) {
  const std::filesystem::path data = std::filesystem::path(testing::test_data_dir()) / "tensor-core-hw";
  for (const char* fmt : {"e4m3", "e5m2"}) {
    const MeasuredDots dots = read_measured_dots(data, "H100", fmt, "fp32");
    const std::string f = std::string(fmt) == "e4m3" ? "E4M3" : "E5M2";
    const Instruction& dense = row("SM90_64x8x32_F32" + f + f + "F32_SS");
    const Instruction& sparse = row("SM90_SP_64x8x64_F32" + f + f + "F32_RS");
    std::size_t passed_dense = 0, passed_sparse = 0;
    for (std::size_t first = 0; first < dots.cases.size(); first += 8) {
      const std::size_t count = std::min<std::size_t>(8, dots.cases.size() - first);
      TileOperands t = {Tile(64, 32), {}, Tile(32, 8), Tile(64, 8)};
      TileOperands s = {Tile(64, 32), std::vector<std::uint8_t>(64 * 16, 0x4), Tile(64, 8), Tile(64, 8)};
      for (std::size_t i = 0; i < count; ++i) {
        const MeasuredCase& mc = dots.cases[first + i];
        for (int k = 0; k < 32; ++k) {
          t.a.at(static_cast<int>(i), k) = s.a.at(static_cast<int>(i), k) = mc.a[static_cast<std::size_t>(k)];
          t.b.at(k, static_cast<int>(i)) = mc.b[static_cast<std::size_t>(k)];
          s.b.at(4 * (k / 2) + k % 2, static_cast<int>(i)) = mc.b[static_cast<std::size_t>(k)];
        }
      }
      const Tile dd = run_through_threads(dense, t, 0, Swizzle::b128);
      const Tile sd = run_through_threads(sparse, s, 0, Swizzle::none);
      for (std::size_t i = 0; i < count; ++i) {
        passed_dense += dd.at(static_cast<int>(i), static_cast<int>(i)) == dots.cases[first + i].d;
        passed_sparse += sd.at(static_cast<int>(i), static_cast<int>(i)) == dots.cases[first + i].d;
      }
    }
    std::printf("[ wgmma    ] H100 %s -> fp32: dense %zu, sparse %zu of %zu bit-exact\n", fmt, passed_dense,
                passed_sparse, dots.cases.size());
    EXPECT_EQ(passed_dense, dots.cases.size());
    EXPECT_EQ(passed_sparse, dots.cases.size());
  }
}

}  // namespace
}  // namespace twofour::sim
