// `twofour gemm`: the same GEMM from every A layout gives the same D (layouts written by
// `twofour compress`), a check passes on the simulator's own D and fails, located and explained,
// on another order's D, --explain-order names that order, and bad input gets one located error.
#include "support/run_tool.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/sim/spec/rounding.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>

namespace {

namespace io = twofour::io;
namespace spec = twofour::sim::spec;
using twofour::testing::count_lines;
using twofour::testing::run_tool;
using twofour::testing::slurp;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/twofour-gemm-cli-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

constexpr int kM = 32, kN = 16, kK = 128;
const std::string kRow = "gemm --instr SM80_SP_16x8x32_F32F16F16F32_TN ";

io::Array f16_array(const std::vector<std::uint16_t>& bits, std::size_t rows, std::size_t cols) {
  return io::make_array(io::DType::f16, {rows, cols}, std::as_bytes(std::span(bits)));
}

// A (dense 2:4, fp16, wide exponents so that orders differ), B (fp16) and C (fp32).
void write_operands(const TempDir& dir, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> expo(-8, 8), pick(0, 3);
  std::vector<std::uint16_t> a(kM * kK, 0), b(kK * kN);
  for (int i = 0; i < kM; ++i)
    for (int g = 0; g < kK / 4; ++g) {
      const int first = pick(rng) % 3, second = first + 1 + pick(rng) % (3 - first);
      for (int e : {first, second})
        a[static_cast<std::size_t>(i * kK + 4 * g + e)] =
            static_cast<std::uint16_t>(spec::encode(spec::fp16, normal(rng) * std::ldexp(1.0, expo(rng))));
    }
  for (auto& v : b) v = static_cast<std::uint16_t>(spec::encode(spec::fp16, normal(rng) * std::ldexp(1.0, expo(rng))));
  std::vector<float> c(kM * kN);
  for (auto& v : c) v = static_cast<float>(normal(rng));
  io::write_npy(dir.file("A.npy"), f16_array(a, kM, kK));
  io::write_npy(dir.file("B.npy"), f16_array(b, kK, kN));
  io::write_npy(dir.file("C.npy"), io::make_array(io::DType::f32, {kM, kN}, std::as_bytes(std::span(c))));
}

std::string operands(const TempDir& dir) {
  return kRow + "--a '" + dir.file("A.npy") + "' --b '" + dir.file("B.npy") + "' --c '" + dir.file("C.npy") + "' ";
}

TEST(GemmCli, EveryLayoutOfAGivesTheSameD) {
  TempDir dir;
  write_operands(dir, 1);
  ASSERT_EQ(run_tool(operands(dir) + "--out '" + dir.file("D_dense.npy") + "'").exit_code, 0);
  for (const char* layout : {"rowmajor", "cutlass"}) {
    const std::string v = dir.file(std::string("V_") + layout + ".npy"), m = dir.file(std::string("M_") + layout + ".npy");
    const auto c = run_tool(std::string("compress --layout ") + layout + " '" + dir.file("A.npy") + "' '" + v + "' '" + m + "'");
    ASSERT_EQ(c.exit_code, 0) << c.err;
    const std::string d = dir.file(std::string("D_") + layout + ".npy");
    const auto r = run_tool(kRow + "--layout " + layout + " --a '" + v + "' --meta '" + m + "' --b '" + dir.file("B.npy") +
                            "' --c '" + dir.file("C.npy") + "' --out '" + d + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(slurp(d), slurp(dir.file("D_dense.npy"))) << layout;
  }
  // Column-major B (stored N x K) and D written column-major read back to the same matrix.
  io::Array b = io::read_npy(dir.file("B.npy"));
  std::vector<std::uint16_t> bt(kK * kN);
  for (int k = 0; k < kK; ++k)
    for (int n = 0; n < kN; ++n) std::memcpy(&bt[static_cast<std::size_t>(n * kK + k)], b.data.data() + 2 * (k * kN + n), 2);
  io::write_npy(dir.file("BT.npy"), f16_array(bt, kN, kK));
  const auto r = run_tool(kRow + "--a '" + dir.file("A.npy") + "' --b '" + dir.file("BT.npy") + "' --b-major col --c '" +
                          dir.file("C.npy") + "' --check '" + dir.file("D_dense.npy") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(GemmCli, CheckPassesOnItsOwnDAndExplainsAnotherOrdersD) {
  TempDir dir;
  write_operands(dir, 2);
  const std::string kernel_d = dir.file("kernel_D.npy");
  ASSERT_EQ(run_tool(operands(dir) + "--order cutlass,tile_k=32,split_k=2 --out '" + kernel_d + "'").exit_code, 0);
  const auto same = run_tool(operands(dir) + "--order cutlass,tile_k=32,split_k=2 --check '" + kernel_d + "'");
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("all 512 elements equal bit for bit"), std::string::npos) << same.out;

  const auto r = run_tool(operands(dir) + "--order twofour --check '" + kernel_d + "' --show 2 --explain-order");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("elements differ; largest difference"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("simulated 0x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kernel    0x"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("block K {"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reproduced exactly by\n  --order 'cutlass: tile_k=32,split_k=2,reduction=serial,c=epilogue"),
            std::string::npos)
      << r.out;
}

// A D computed under the other reading of the sparse datapath's blocks: the search says which.
TEST(GemmCli, ExplainOrderAlsoTriesTheOtherGrouping) {
  TempDir dir;
  write_operands(dir, 5);
  const std::string kernel_d = dir.file("kernel_D.npy");
  ASSERT_EQ(run_tool(operands(dir) + "--grouping logical --order cutlass --out '" + kernel_d + "'").exit_code, 0);
  const auto r = run_tool(operands(dir) + "--check '" + kernel_d + "' --show 0 --explain-order");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("with --grouping logical the kernel's D is reproduced exactly by\n  --order 'cutlass: tile_k=64,split_k=1,"),
            std::string::npos)
      << r.out;
  // Bits no order produces: the search says so.
  io::Array d = io::read_npy(kernel_d);
  d.data[0] ^= std::byte{1};
  io::write_npy(kernel_d, d);
  const auto none = run_tool(operands(dir) + "--grouping logical --order cutlass --check '" + kernel_d + "' --show 0 --explain-order");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.out.find("none reproduces the kernel's D"), std::string::npos) << none.out;
}

TEST(GemmCli, BadInputGetsOneLocatedError) {
  TempDir dir;
  write_operands(dir, 3);
  // B with the wrong K.
  std::vector<std::uint16_t> b(96 * kN, 0x3c00);
  io::write_npy(dir.file("B96.npy"), f16_array(b, 96, kN));
  auto r = run_tool(kRow + "--a '" + dir.file("A.npy") + "' --b '" + dir.file("B96.npy") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("A (dense M x K, K = the rows of B) must be any x 96, not 32x128"), std::string::npos) << r.err;
  // A that is not 2:4: named row and chunk.
  io::Array a = io::read_npy(dir.file("A.npy"));
  const std::uint16_t one = 0x3c00;
  for (int e = 0; e < 4; ++e) std::memcpy(a.data.data() + 2 * (5 * kK + 8 + e), &one, 2);
  io::write_npy(dir.file("A_bad.npy"), a);
  r = run_tool(kRow + "--a '" + dir.file("A_bad.npy") + "' --b '" + dir.file("B.npy") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("row 5"), std::string::npos) << r.err;
  // Metadata that is not valid 2:4 (equal indices), in the nibble layout: located.
  std::vector<std::uint8_t> nib(kM * kK / 4, 0x4);
  nib[static_cast<std::size_t>(2 * (kK / 4) + 9)] = 0x5;
  io::write_npy(dir.file("E.npy"), io::make_array(io::DType::u8, {kM, kK / 4}, std::as_bytes(std::span(nib))));
  std::vector<std::uint16_t> v(kM * kK / 2, 0x3c00);
  io::write_npy(dir.file("V.npy"), f16_array(v, kM, kK / 2));
  r = run_tool(kRow + "--layout nibbles --a '" + dir.file("V.npy") + "' --meta '" + dir.file("E.npy") + "' --b '" + dir.file("B.npy") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("A row 2, chunk 9 (K 36..39)"), std::string::npos) << r.err;
  // The kernel's D of the wrong dtype, then of the wrong shape.
  std::vector<std::uint16_t> dh(kM * kN, 0);
  io::write_npy(dir.file("D16.npy"), f16_array(dh, kM, kN));
  r = run_tool(operands(dir) + "--check '" + dir.file("D16.npy") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("dtype float16"), std::string::npos) << r.err;
  std::vector<float> ds(kN * kN, 0.0f);
  io::write_npy(dir.file("Dsq.npy"), io::make_array(io::DType::f32, {kN, kN}, std::as_bytes(std::span(ds))));
  r = run_tool(operands(dir) + "--check '" + dir.file("Dsq.npy") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("must be 32 x 16"), std::string::npos) << r.err;
  // Usage errors: exit 2. An output that is an input: refused, the input intact.
  EXPECT_EQ(run_tool(operands(dir) + "--explain-order").exit_code, 2);
  EXPECT_EQ(run_tool(operands(dir) + "--order cutlass,split_k=0").exit_code, 2);
  const std::string before = slurp(dir.file("B.npy"));
  r = run_tool(operands(dir) + "--out '" + dir.file("B.npy") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("is the input"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(dir.file("B.npy")), before);
}

// int8 in, int32 out: split-K and C in the epilogue still give the exact integer product (the oracle,
// computed here in 64-bit integers), from the dense A and from its cutlass layout.
TEST(GemmCli, Int8GemmEqualsTheExactIntegerProduct) {
  TempDir dir;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> v(-128, 127), pick(0, 2);
  std::vector<std::int8_t> a(kM * kK, 0), b(kK * kN);
  std::vector<std::int32_t> c(kM * kN), exact(kM * kN);
  for (int i = 0; i < kM; ++i)
    for (int g = 0; g < kK / 4; ++g) {
      const int first = pick(rng);
      a[static_cast<std::size_t>(i * kK + 4 * g + first)] = static_cast<std::int8_t>(v(rng));
      a[static_cast<std::size_t>(i * kK + 4 * g + 3)] = static_cast<std::int8_t>(v(rng));
    }
  for (auto& x : b) x = static_cast<std::int8_t>(v(rng));
  for (auto& x : c) x = v(rng) * 1000;
  for (int i = 0; i < kM; ++i)
    for (int j = 0; j < kN; ++j) {
      std::int64_t s = c[static_cast<std::size_t>(i * kN + j)];
      for (int k = 0; k < kK; ++k) s += std::int64_t{a[static_cast<std::size_t>(i * kK + k)]} * b[static_cast<std::size_t>(k * kN + j)];
      exact[static_cast<std::size_t>(i * kN + j)] = static_cast<std::int32_t>(s);
    }
  io::write_npy(dir.file("A.npy"), io::make_array(io::DType::i8, {kM, kK}, std::as_bytes(std::span(a))));
  io::write_npy(dir.file("B.npy"), io::make_array(io::DType::i8, {kK, kN}, std::as_bytes(std::span(b))));
  io::write_npy(dir.file("C.npy"), io::make_array(io::DType::i32, {kM, kN}, std::as_bytes(std::span(c))));
  io::write_npy(dir.file("D.npy"), io::make_array(io::DType::i32, {kM, kN}, std::as_bytes(std::span(exact))));
  const std::string row = "gemm --instr SM80_SP_16x8x32_S32S8S8S32_TN --b '" + dir.file("B.npy") + "' --c '" + dir.file("C.npy") +
                          "' --check '" + dir.file("D.npy") + "' ";
  auto r = run_tool(row + "--a '" + dir.file("A.npy") + "' --order cutlass,tile_k=32,split_k=3");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(run_tool("compress --layout cutlass '" + dir.file("A.npy") + "' '" + dir.file("V.npy") + "' '" + dir.file("M.npy") + "'").exit_code, 0);
  r = run_tool(row + "--layout cutlass --a '" + dir.file("V.npy") + "' --meta '" + dir.file("M.npy") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(GemmCli, NanAndInfOperandsAreSimulated) {
  TempDir dir;
  write_operands(dir, 4);
  io::Array b = io::read_npy(dir.file("B.npy"));
  const std::uint16_t nan = 0x7e00;
  for (int k = 0; k < kK; ++k) std::memcpy(b.data.data() + 2 * (k * kN + 3), &nan, 2);  // column 3 all NaN
  io::write_npy(dir.file("B.npy"), b);
  const auto r = run_tool(operands(dir) + "--out '" + dir.file("D.npy") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const io::Array d = io::read_npy(dir.file("D.npy"));
  for (int i = 0; i < kM; ++i) {
    float v = 0;
    std::memcpy(&v, d.data.data() + 4 * (i * kN + 3), 4);
    EXPECT_TRUE(std::isnan(v)) << i;
    std::memcpy(&v, d.data.data() + 4 * (i * kN + 2), 4);
    EXPECT_TRUE(std::isfinite(v)) << i;
  }
}

}  // namespace
