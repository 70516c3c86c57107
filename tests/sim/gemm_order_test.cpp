// The GEMM accumulation order (gemm_order.hpp). Oracle: the order rebuilt here from single
// instruction tiles (sim::run_tile, 16 x 8 outputs, one k-step each) chained in the stated order,
// with the reduction and the epilogue written out in this file with the host's fp32 arithmetic;
// exact integer products for integer-valued inputs; and inputs derived from the datapath's
// truncation (its fraction_bits) on which the orders must give different bits.
#include "twofour/sim/compress.hpp"
#include "twofour/sim/gemm_order.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>

namespace {

namespace sim = twofour::sim;
namespace spec = twofour::sim::spec;

const spec::Instruction& row(const char* name) { return *spec::find_instruction(name); }
constexpr const char* kF16 = "SM80_SP_16x8x32_F32F16F16F32_TN";
constexpr const char* kF16Acc = "SM80_SP_16x8x32_F16F16F16F16_TN";
constexpr const char* kS8 = "SM80_SP_16x8x32_S32S8S8S32_TN";

// Random operands of a 2:4 row: values spread over 2^-scale..2^scale so that alignment inside the
// datapath cuts bits (and different orders round differently); `integers` gives small integers.
sim::GemmOperands random_operands(const spec::Instruction& in, int m, int n, int k, unsigned seed, int scale,
                                  bool integers = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> expo(-scale, scale), small(-4, 4), pick(0, 5);
  const auto value = [&](const spec::FormatSpec& f) {
    if (integers) return spec::encode(f, static_cast<double>(small(rng)));
    return spec::encode(f, normal(rng) * std::ldexp(1.0, expo(rng)));
  };
  const auto int_value = [&](const spec::FormatSpec& f) {
    return static_cast<std::uint32_t>(small(rng)) & f.container_mask();
  };
  sim::Tile dense(m, k);
  static constexpr int kPairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  for (int i = 0; i < m; ++i)
    for (int g = 0; g < k / 4; ++g) {
      const int p = pick(rng);
      for (int e : kPairs[p]) dense.at(i, 4 * g + e) = in.a->is_integer ? int_value(*in.a) : value(*in.a);
    }
  sim::GemmOperands ops;
  sim::CompressedA c = sim::compress_a(in, dense);
  ops.a = c.values;
  ops.metadata = c.metadata;
  ops.b = sim::Tile(k, n);
  for (auto& v : ops.b.bits) v = in.b->is_integer ? int_value(*in.b) : value(*in.b);
  ops.c = sim::Tile(m, n);
  for (auto& v : ops.c.bits) v = in.d->is_integer ? static_cast<std::uint32_t>(small(rng)) : value(*in.d);
  return ops;
}

float as_float(const spec::FormatSpec& f, std::uint32_t bits) {
  return f == spec::fp32 ? std::bit_cast<float>(bits) : static_cast<float>(spec::decode_to_double(f, bits));
}
std::uint32_t to_bits(const spec::FormatSpec& f, float v) {
  return f == spec::fp32 ? std::bit_cast<std::uint32_t>(v) : spec::encode(f, static_cast<double>(v));
}

// The oracle: the stated order rebuilt from run_tile.
sim::Tile composed(const spec::Instruction& in, const sim::GemmOperands& ops, const sim::GemmOrder& o,
                   spec::Arch arch = spec::Arch::sm80) {
  const int m = ops.c.rows, n = ops.c.cols, k = ops.b.rows;
  const int tile = o.tile_k == 0 ? in.k : o.tile_k, tiles = (k + tile - 1) / tile;
  const int per = (tiles + o.split_k - 1) / o.split_k * tile;
  const int stored = in.stored_k(), chunks = in.chunks_per_row(), all_chunks = k / in.chunk_width();
  const spec::FormatSpec& acc = *in.d;
  const spec::FormatSpec& out = o.output ? *o.output : acc;
  sim::Tile d(m, n);
  for (int ti = 0; ti < m / in.m; ++ti)
    for (int tj = 0; tj < n / in.n; ++tj) {
      std::vector<sim::Tile> partials;
      for (int s = 0; s < o.split_k; ++s) {
        sim::Tile c(in.m, in.n);
        if (s == 0 && o.c_entry == sim::CEntry::first)
          for (int r = 0; r < in.m; ++r)
            for (int j = 0; j < in.n; ++j) c.at(r, j) = ops.c.at(ti * in.m + r, tj * in.n + j);
        for (int k0 = std::min(k, s * per); k0 < std::min(k, (s + 1) * per); k0 += in.k) {
          sim::TileOperands t;
          t.a = sim::Tile(in.m, stored);
          t.b = sim::Tile(in.k, in.n);
          t.c = c;
          for (int r = 0; r < in.m; ++r) {
            for (int j = 0; j < stored; ++j) t.a.at(r, j) = ops.a.at(ti * in.m + r, k0 / in.k * stored + j);
            for (int j = 0; j < chunks; ++j)
              t.metadata.push_back(ops.metadata[static_cast<std::size_t>((ti * in.m + r) * all_chunks + k0 / in.chunk_width() + j)]);
          }
          for (int r = 0; r < in.k; ++r)
            for (int j = 0; j < in.n; ++j) t.b.at(r, j) = ops.b.at(k0 + r, tj * in.n + j);
          c = sim::run_tile(in, arch, t).d;
        }
        partials.push_back(c);
      }
      for (int r = 0; r < in.m; ++r)
        for (int j = 0; j < in.n; ++j) {
          const int i = ti * in.m + r, jj = tj * in.n + j;
          const std::uint32_t cb = ops.c.at(i, jj);
          const bool add_c = o.c_entry == sim::CEntry::epilogue;
          if (acc.is_integer) {
            std::int64_t sum = add_c ? static_cast<std::int32_t>(cb) : 0;
            for (const auto& p : partials) sum += static_cast<std::int32_t>(p.at(r, j));
            d.at(i, jj) = static_cast<std::uint32_t>(static_cast<std::uint64_t>(sum));
            continue;
          }
          const float source = add_c && o.beta != 0.0f ? o.beta * as_float(acc, cb) : 0.0f;
          if (o.reduction == sim::SplitReduction::serial) {
            float v = add_c && o.beta != 0.0f ? std::fma(o.alpha, as_float(acc, partials[0].at(r, j)), source)
                                              : o.alpha * as_float(acc, partials[0].at(r, j));
            std::uint32_t bits = to_bits(out, v);
            for (std::size_t s = 1; s < partials.size(); ++s)
              bits = to_bits(out, std::fma(o.alpha, as_float(acc, partials[s].at(r, j)), as_float(out, bits)));
            d.at(i, jj) = bits;
          } else {
            float sum = 0.0f;
            for (const auto& p : partials) sum += as_float(acc, p.at(r, j));
            d.at(i, jj) = to_bits(out, add_c && o.beta != 0.0f ? std::fma(o.alpha, sum, source) : o.alpha * sum);
          }
        }
    }
  return d;
}

std::size_t differing(const sim::Tile& x, const sim::Tile& y) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < x.bits.size(); ++i) n += x.bits[i] != y.bits[i] ? 1u : 0u;
  return n;
}

sim::Tile run(const char* name, const sim::GemmOperands& ops, const sim::GemmOrder& o) {
  return sim::run_ordered_gemm(row(name), spec::Arch::sm80, ops, o).d;
}

TEST(GemmOrder, EveryOrderEqualsItsCompositionOfInstructionTiles) {
  const sim::GemmOperands ops = random_operands(row(kF16), 32, 16, 320, 11, 8);
  std::vector<sim::GemmOrder> orders = {sim::gemm_order_preset("twofour"), sim::gemm_order_preset("chained"),
                                        sim::gemm_order_preset("cutlass")};
  for (const char* text : {"cutlass,tile_k=32,split_k=3", "cutlass,tile_k=64,split_k=2,reduction=fp32",
                           "c=first,tile_k=32,split_k=4,reduction=fp32", "cutlass,alpha=0.5,beta=-2,split_k=2,tile_k=32",
                           "cutlass,beta=0,split_k=16,tile_k=32"})
    orders.push_back(sim::parse_gemm_order(text));
  sim::GemmOrder half = sim::parse_gemm_order("cutlass,split_k=2,tile_k=32");
  half.output = &spec::fp16;
  orders.push_back(half);
  for (const sim::GemmOrder& o : orders)
    EXPECT_EQ(differing(run(kF16, ops, o), composed(row(kF16), ops, o)), 0u) << sim::describe_order(o);
  // fp16 accumulators (partials rounded to fp16 by the tensor core) and int32 accumulators.
  const sim::GemmOperands h = random_operands(row(kF16Acc), 16, 16, 128, 12, 3);
  for (const char* text : {"chained", "cutlass,tile_k=32,split_k=2", "cutlass,tile_k=32,split_k=4,reduction=fp32"})
    EXPECT_EQ(differing(run(kF16Acc, h, sim::parse_gemm_order(text)), composed(row(kF16Acc), h, sim::parse_gemm_order(text))), 0u) << text;
}

TEST(GemmOrder, PresetsReproduceTheirOwnOrderAndNotTheOthers) {
  // Wide exponents: every order rounds differently somewhere.
  const sim::GemmOperands ops = random_operands(row(kF16), 32, 16, 256, 13, 8);
  const std::vector<sim::GemmOrder> orders = {sim::gemm_order_preset("twofour"), sim::gemm_order_preset("cutlass"),
                                              sim::parse_gemm_order("cutlass,tile_k=64,split_k=2"),
                                              sim::parse_gemm_order("cutlass,tile_k=64,split_k=2,reduction=fp32"),
                                              sim::parse_gemm_order("c=first,tile_k=64,split_k=2")};
  std::vector<sim::Tile> d;
  for (const auto& o : orders) d.push_back(run(kF16, ops, o));
  for (std::size_t i = 0; i < orders.size(); ++i) {
    EXPECT_EQ(differing(d[i], composed(row(kF16), ops, orders[i])), 0u) << sim::describe_order(orders[i]);
    for (std::size_t j = i + 1; j < orders.size(); ++j)
      EXPECT_GT(differing(d[i], d[j]), 0u) << sim::describe_order(orders[i]) << " vs " << sim::describe_order(orders[j]);
  }
  // twofour and chained are the same order for an fp32-output row.
  EXPECT_EQ(differing(d[0], run(kF16, ops, sim::gemm_order_preset("chained"))), 0u);
}

// One 16 x 8 x 64 GEMM whose products all equal p = 2^-(F+1), F the datapath's kept fraction bits,
// and C = 1: with C in the accumulators every block aligns to 2^0 and cuts every product off;
// from +0 the products sum exactly and the epilogue adds 32p to 1.
TEST(GemmOrder, CEntryFirstVersusEpilogueFromTheDatapathsTruncation) {
  const spec::Instruction& in = row(kF16);
  const int f = sim::InstructionDatapath(in, spec::Arch::sm80).spec().fraction_bits();
  const int half_exp = -(f + 1) / 2;  // a = b = 2^half_exp (f + 1 even) or a = 2b
  const int a_exp = -(f + 1) - half_exp;
  sim::GemmOperands ops;
  const int k = 64;
  ops.a = sim::Tile(16, k / 2);
  for (auto& v : ops.a.bits) v = spec::encode(spec::fp16, std::ldexp(1.0, a_exp));
  ops.metadata.assign(16 * k / 4, 0x4);  // idx0 = 0, idx1 = 1
  ops.b = sim::Tile(k, 8);
  for (auto& v : ops.b.bits) v = spec::encode(spec::fp16, std::ldexp(1.0, half_exp));
  ops.c = sim::Tile(16, 8);
  for (auto& v : ops.c.bits) v = std::bit_cast<std::uint32_t>(1.0f);
  const float p = std::ldexp(1.0f, -(f + 1));
  const sim::Tile first = run(kF16, ops, sim::gemm_order_preset("twofour"));
  const sim::Tile epilogue = run(kF16, ops, sim::gemm_order_preset("cutlass"));
  for (std::size_t e = 0; e < first.bits.size(); ++e) {
    ASSERT_EQ(first.bits[e], std::bit_cast<std::uint32_t>(1.0f)) << "every product cut off under C = 1";
    ASSERT_EQ(epilogue.bits[e], std::bit_cast<std::uint32_t>(1.0f + 32 * p)) << "32 exact products, then + C";
  }
}

// Split-K into fp16 D: partials q = 3 * 2^-13 each (exact in fp16, below half an ulp of 1).
// Serial: fp16(1 + q) = 1, twice; fp32 reduction: fp16(2q + 1) = 1 + 2^-10.
TEST(GemmOrder, SplitKSerialVersusFp32Reduction) {
  const spec::Instruction& in = row(kF16);
  sim::GemmOperands ops;
  const int k = 64;
  ops.a = sim::Tile(16, k / 2);
  ops.metadata.assign(16 * k / 4, 0x4);
  ops.b = sim::Tile(k, 8);
  // One product per k32 step: A = 3 * 2^-7 at K 0 and 32, B = 2^-6 there; everything else zero.
  for (int i = 0; i < 16; ++i) {
    ops.a.at(i, 0) = spec::encode(spec::fp16, 3.0 / 128);
    ops.a.at(i, 16) = spec::encode(spec::fp16, 3.0 / 128);
  }
  for (int j = 0; j < 8; ++j) {
    ops.b.at(0, j) = spec::encode(spec::fp16, 1.0 / 64);
    ops.b.at(32, j) = spec::encode(spec::fp16, 1.0 / 64);
  }
  ops.c = sim::Tile(16, 8);
  for (auto& v : ops.c.bits) v = std::bit_cast<std::uint32_t>(1.0f);
  sim::GemmOrder serial = sim::parse_gemm_order("cutlass,tile_k=32,split_k=2,reduction=serial");
  sim::GemmOrder fp32 = sim::parse_gemm_order("cutlass,tile_k=32,split_k=2,reduction=fp32");
  serial.output = fp32.output = &spec::fp16;
  const sim::Tile ds = sim::run_ordered_gemm(in, spec::Arch::sm80, ops, serial).d;
  const sim::Tile df = sim::run_ordered_gemm(in, spec::Arch::sm80, ops, fp32).d;
  for (std::size_t e = 0; e < ds.bits.size(); ++e) {
    ASSERT_EQ(ds.bits[e], 0x3c00u) << "fp16 1.0";
    ASSERT_EQ(df.bits[e], 0x3c01u) << "fp16 1 + 2^-10";
  }
  // fp32 output keeps both partials in either reduction.
  serial.output = fp32.output = &spec::fp32;
  EXPECT_EQ(sim::run_ordered_gemm(in, spec::Arch::sm80, ops, serial).d, sim::run_ordered_gemm(in, spec::Arch::sm80, ops, fp32).d);
}

// The instruction's K is part of the order: on sm_90 a k16 mma.sp (8 stored products, one block)
// and a k32 one (16 stored products) align and round differently; instr_k=16 runs the k16 row.
TEST(GemmOrder, InstructionKIsPartOfTheOrder) {
  const spec::Instruction& k32 = row(kF16);
  const spec::Instruction& k16 = row("SM80_SP_16x8x16_F32F16F16F32_TN");
  const sim::GemmOperands ops = random_operands(k32, 32, 16, 128, 19, 8);
  const sim::GemmOrder o = sim::parse_gemm_order("chained,instr_k=16");
  EXPECT_EQ(&sim::ordered_instruction(k32, o), &k16);
  const sim::Tile d16 = sim::run_ordered_gemm(k32, spec::Arch::sm90, ops, o).d;
  EXPECT_EQ(differing(d16, composed(k16, ops, sim::gemm_order_preset("chained"), spec::Arch::sm90)), 0u);
  EXPECT_GT(differing(d16, sim::run_ordered_gemm(k32, spec::Arch::sm90, ops, sim::gemm_order_preset("chained")).d), 0u);
  EXPECT_THROW(sim::run_ordered_gemm(k32, spec::Arch::sm90, ops, sim::parse_gemm_order("instr_k=8")), std::invalid_argument);
  EXPECT_THROW(sim::run_ordered_gemm(k32, spec::Arch::sm90, ops, sim::parse_gemm_order("instr_k=16,tile_k=24")), std::invalid_argument);
}

TEST(GemmOrder, SplitKRangesAreWholeKTiles) {
  const spec::Instruction& in = row(kF16);
  sim::GemmOrder o = sim::parse_gemm_order("cutlass,tile_k=64,split_k=3");
  const auto r = sim::split_k_ranges(in, o, 320);  // 5 tiles: 2, 2, 1
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].begin, 0);
  EXPECT_EQ(r[0].end, 128);
  EXPECT_EQ(r[1].end, 256);
  EXPECT_EQ(r[2].begin, 256);
  EXPECT_EQ(r[2].end, 320);
  o.split_k = 8;  // more slices than tiles: the last ones are empty
  const auto e = sim::split_k_ranges(in, o, 320);
  EXPECT_EQ(e[4].end, 320);
  EXPECT_EQ(e[5].begin, e[5].end);
}

TEST(GemmOrder, IntegerValuedInputsEqualTheExactProductInEveryOrder) {
  for (const char* name : {kF16, kS8}) {
    const spec::Instruction& in = row(name);
    const sim::GemmOperands ops = random_operands(in, 32, 16, 128, 14, 0, true);
    sim::Tile a(32, 128);  // the dense A, from the nibbles (idx0 | idx1 << 2, values in that order)
    for (int i = 0; i < 32; ++i)
      for (int g = 0; g < 32; ++g) {
        const unsigned nib = ops.metadata[static_cast<std::size_t>(i * 32 + g)];
        a.at(i, 4 * g + static_cast<int>(nib & 3u)) = ops.a.at(i, 2 * g);
        a.at(i, 4 * g + static_cast<int>(nib >> 2)) = ops.a.at(i, 2 * g + 1);
      }
    std::vector<std::uint32_t> exact(32 * 16);
    for (int i = 0; i < 32; ++i)
      for (int j = 0; j < 16; ++j) {
        std::int64_t s = in.d->is_integer ? static_cast<std::int32_t>(ops.c.at(i, j))
                                          : static_cast<std::int64_t>(spec::decode_to_double(*in.d, ops.c.at(i, j)));
        for (int kk = 0; kk < 128; ++kk) {
          const auto val = [&](const spec::FormatSpec& f, std::uint32_t b) -> std::int64_t {
            if (!f.is_integer) return static_cast<std::int64_t>(spec::decode_to_double(f, b));
            return static_cast<std::int8_t>(b & 0xffu);
          };
          s += val(*in.a, a.at(i, kk)) * val(*in.b, ops.b.at(kk, j));
        }
        exact[static_cast<std::size_t>(i * 16 + j)] = in.d->is_integer ? static_cast<std::uint32_t>(s)
                                                                       : std::bit_cast<std::uint32_t>(static_cast<float>(s));
      }
    for (const char* text : {"chained", "cutlass", "cutlass,tile_k=32,split_k=3", "cutlass,tile_k=32,split_k=4,reduction=fp32"})
      EXPECT_EQ(run(name, ops, sim::parse_gemm_order(text)).bits, exact) << name << " " << text;
  }
}

TEST(GemmOrder, ParsesPresetsOverridesAndTheExplicitForm) {
  const sim::GemmOrder o = sim::parse_gemm_order("cutlass, split_k=4 ,reduction=fp32,tile_k=128,alpha=2,beta=0.5");
  EXPECT_EQ(o.preset, "cutlass");
  EXPECT_EQ(o.split_k, 4);
  EXPECT_EQ(o.tile_k, 128);
  EXPECT_EQ(o.reduction, sim::SplitReduction::fp32);
  EXPECT_EQ(o.c_entry, sim::CEntry::epilogue);
  EXPECT_EQ(o.alpha, 2.0f);
  EXPECT_EQ(o.beta, 0.5f);
  // describe_order's explicit part reads back to the same order.
  const std::string text = sim::describe_order(o);
  sim::GemmOrder back = sim::parse_gemm_order(text.substr(text.find(": ") + 2));
  back.preset = o.preset;
  EXPECT_EQ(back, o);
  EXPECT_THROW(sim::parse_gemm_order("nvidia"), std::invalid_argument);
  EXPECT_THROW(sim::parse_gemm_order("split_k=2,cutlass"), std::invalid_argument);
  EXPECT_THROW(sim::parse_gemm_order("split_k=two"), std::invalid_argument);
  EXPECT_THROW(sim::parse_gemm_order("reduction=tree"), std::invalid_argument);
  EXPECT_THROW(sim::parse_gemm_order("colour=blue"), std::invalid_argument);
  EXPECT_THROW(sim::parse_gemm_order("alpha=inf"), std::invalid_argument);
}

TEST(GemmOrder, RejectsOrdersTheRowCannotRun) {
  const sim::GemmOperands ops = random_operands(row(kF16), 16, 8, 64, 15, 2);
  EXPECT_THROW(run(kF16, ops, sim::parse_gemm_order("tile_k=48")), std::invalid_argument);
  EXPECT_THROW(run(kF16, ops, sim::parse_gemm_order("split_k=0")), std::invalid_argument);
  EXPECT_THROW(run(kF16, ops, sim::parse_gemm_order("c=first,beta=2")), std::invalid_argument);
  sim::GemmOrder o = sim::gemm_order_preset("chained");
  o.output = &spec::s32;
  EXPECT_THROW(run(kF16, ops, o), std::invalid_argument);
  const sim::GemmOperands iops = random_operands(row(kS8), 16, 8, 64, 16, 0, true);
  EXPECT_THROW(run(kS8, iops, sim::parse_gemm_order("cutlass,alpha=2")), std::invalid_argument);
}

TEST(GemmOrder, BadOperandsAreLocated) {
  sim::GemmOperands ops = random_operands(row(kF16), 32, 16, 128, 17, 2);
  sim::GemmOperands wrong = ops;
  wrong.b = sim::Tile(96, 16);
  EXPECT_THROW(run(kF16, wrong, sim::gemm_order_preset("cutlass")), std::invalid_argument);
  ops.metadata[static_cast<std::size_t>(5 * 32 + 20)] = 0x5;  // equal indices: row 5, chunk 20 (K 80..83)
  try {
    run(kF16, ops, sim::parse_gemm_order("cutlass,split_k=2,tile_k=32"));
    FAIL() << "undefined metadata accepted";
  } catch (const sim::MetadataError& e) {
    EXPECT_NE(std::string(e.what()).find("A row 5, chunk 20 (K 80..83)"), std::string::npos) << e.what();
  }
}

// Specials are simulated, not rejected: a NaN in A makes its row NaN, an Inf in B its column Inf
// (same signs throughout: all A, B positive), in every order.
TEST(GemmOrder, NanAndInfInOperandsAreSimulated) {
  sim::GemmOperands ops = random_operands(row(kF16), 16, 8, 64, 18, 0, true);
  for (auto& v : ops.a.bits) v &= 0x7fffu;
  for (auto& v : ops.b.bits) v &= 0x7fffu;
  for (auto& v : ops.c.bits) v = 0;
  ops.a.at(3, 5) = 0x7e00u;       // NaN
  ops.b.at(40, 2) = 0x7c00u;      // +Inf, in k-step 1
  for (int i = 0; i < 16; ++i) ops.a.at(i, 20) = spec::encode(spec::fp16, 1.0);  // K 40 is met: nonzero A there
  for (int i = 0; i < 16; ++i) ops.metadata[static_cast<std::size_t>(i * 16 + 10)] = 0x4;  // chunk 10 keeps K 40, 41
  for (const char* text : {"chained", "cutlass,tile_k=32,split_k=2", "cutlass,tile_k=32,split_k=2,reduction=fp32"}) {
    const sim::Tile d = run(kF16, ops, sim::parse_gemm_order(text));
    for (int j = 0; j < 8; ++j) EXPECT_TRUE(std::isnan(std::bit_cast<float>(d.at(3, j)))) << text << " col " << j;
    for (int i = 0; i < 16; ++i)
      if (i != 3) {
        EXPECT_EQ(d.at(i, 2), 0x7f800000u) << text << " row " << i;
      }
  }
}

}  // namespace
