// `twofour mma` and `twofour explain`: results equal the library's, errors are one line with the
// documented exit codes.
#include "support/run_tool.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/vectors.hpp"
#include "twofour/sim/warp.hpp"

#include "support/seed.hpp"
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace {

namespace sim = twofour::sim;
namespace io = twofour::io;
using twofour::testing::count_lines;
using twofour::testing::run_tool;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/twofour-mma-cli-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

const sim::spec::Instruction& row(const char* name) {
  const sim::spec::Instruction* in = sim::spec::find_instruction(name);
  if (in == nullptr) throw std::runtime_error(name);
  return *in;
}

void write_words(const std::string& path, const sim::WarpRegisters& regs, int count, int which) {
  std::ofstream out(path);
  out << "# lane-major words\n";
  for (int lane = 0; lane < 32; ++lane) {
    const auto& l = regs[static_cast<std::size_t>(lane)];
    for (int r = 0; r < count; ++r) {
      const std::uint32_t w = which == 0 ? l.a[static_cast<std::size_t>(r)] : which == 1 ? l.b[static_cast<std::size_t>(r)]
                              : which == 2 ? l.c[static_cast<std::size_t>(r)] : l.e;
      char buf[16];
      std::snprintf(buf, sizeof buf, "%08x ", w);
      out << buf;
    }
    out << "\n";
  }
}

std::vector<std::uint32_t> read_hex_words(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::uint32_t> words;
  std::string w;
  while (in >> w) words.push_back(static_cast<std::uint32_t>(std::stoul(w, nullptr, 16)));
  return words;
}

TEST(MmaCli, LaneHexInputMatchesRunWarp) {
  const auto& in = row("SM80_SP_16x8x32_F32F16F16F32_TN");
  std::mt19937_64 rng(twofour::testing::test_seed("MmaCli.LaneHexInputMatchesRunWarp", 51));
  const sim::VectorCase c = sim::make_random_case(in, sim::spec::Arch::sm80, 1, rng);
  TempDir dir;
  write_words(dir.file("a.txt"), c.in, in.a_registers(), 0);
  write_words(dir.file("b.txt"), c.in, in.b_registers(), 1);
  write_words(dir.file("c.txt"), c.in, in.c_registers(), 2);
  write_words(dir.file("e.txt"), c.in, 1, 3);
  const auto r = run_tool("mma --instr SM80_SP_16x8x32_F32F16F16F32_TN --arch sm80 --selector 1 --a " + dir.file("a.txt") +
                          " --b " + dir.file("b.txt") + " --c " + dir.file("c.txt") + " --e " + dir.file("e.txt") +
                          " --out " + dir.file("d.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto words = read_hex_words(dir.file("d.txt"));
  ASSERT_EQ(words.size(), 128u);
  for (int lane = 0; lane < 32; ++lane)
    for (int reg = 0; reg < 4; ++reg)
      EXPECT_EQ(words[static_cast<std::size_t>(lane * 4 + reg)], c.d[static_cast<std::size_t>(lane)][static_cast<std::size_t>(reg)]);
  // Printing works too and shows the 16 rows of D.
  const auto p = run_tool("mma --instr SM80_SP_16x8x32_F32F16F16F32_TN --selector 1 --a " + dir.file("a.txt") + " --b " +
                          dir.file("b.txt") + " --c " + dir.file("c.txt") + " --e " + dir.file("e.txt"));
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(count_lines(p.out), 17) << p.out;
}

io::Array u16_array(const sim::Tile& t) {
  std::vector<std::byte> bytes(t.bits.size() * 2);
  for (std::size_t i = 0; i < t.bits.size(); ++i) {
    const auto v = static_cast<std::uint16_t>(t.bits[i]);
    std::memcpy(bytes.data() + 2 * i, &v, 2);
  }
  return io::make_array(io::DType::u16, {static_cast<std::size_t>(t.rows), static_cast<std::size_t>(t.cols)}, bytes);
}

TEST(MmaCli, NpyTilesMatchRunTile) {
  const auto& in = row("SM80_SP_16x8x16_F16F16F16F16_TN");
  std::mt19937_64 rng(twofour::testing::test_seed("MmaCli.NpyTilesMatchRunTile", 52));
  const sim::TileOperands t = sim::random_tile_operands(in, rng);
  TempDir dir;
  io::write_npy(dir.file("a.npy"), u16_array(t.a));
  io::write_npy(dir.file("b.npy"), u16_array(t.b));
  io::write_npy(dir.file("c.npy"), u16_array(t.c));
  std::vector<std::byte> meta(t.metadata.size());
  std::memcpy(meta.data(), t.metadata.data(), meta.size());
  io::write_npy(dir.file("e.npy"), io::make_array(io::DType::u8, {16, 4}, meta));
  const auto r = run_tool("mma --instr SM80_SP_16x8x16_F16F16F16F16_TN --a " + dir.file("a.npy") + " --b " + dir.file("b.npy") +
                          " --c " + dir.file("c.npy") + " --e " + dir.file("e.npy") + " --out " + dir.file("d.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const io::Array d = io::read_npy(dir.file("d.npy"));
  ASSERT_EQ(d.dtype, io::DType::f16);
  const sim::Tile want = sim::run_tile(in, sim::spec::Arch::sm80, t).d;
  for (std::size_t i = 0; i < want.bits.size(); ++i) {
    std::uint16_t v = 0;
    std::memcpy(&v, d.data.data() + 2 * i, 2);
    EXPECT_EQ(v, want.bits[i]) << i;
  }
}

// An sm_90 fp8 row says that ptxas lowers it, and the lowering's grouping shows in D: 16 * 16 at
// K position 0, -16 * 16 at 2 and 2^-9 * 2^-9 at 16 give +0 on sm_90 (register halves) and 2^-18
// on sm_89 (one native QMMA block over positions 0-15, then 16-31).
// A (16 x k) and B (k x 8) as f32 .npy tiles, zero except the products a[0][p] * b[p][0] given.
// Returns the --a/--b arguments.
std::string write_products(const TempDir& dir, int k, const std::vector<std::array<float, 3>>& products) {
  std::vector<float> a(16 * static_cast<std::size_t>(k), 0.0f), b(static_cast<std::size_t>(k) * 8, 0.0f);
  for (const auto& [p, x, y] : products) {
    a[static_cast<std::size_t>(p)] = x;
    b[static_cast<std::size_t>(p) * 8] = y;
  }
  const auto as_bytes = [](const std::vector<float>& v) {
    std::vector<std::byte> out(v.size() * sizeof(float));
    std::memcpy(out.data(), v.data(), out.size());
    return out;
  };
  const auto rows = static_cast<std::size_t>(k);
  io::write_npy(dir.file("a.npy"), io::make_array(io::DType::f32, {16, rows}, as_bytes(a)));
  io::write_npy(dir.file("b.npy"), io::make_array(io::DType::f32, {rows, 8}, as_bytes(b)));
  return " --a " + dir.file("a.npy") + " --b " + dir.file("b.npy");
}

// The fp8 grouping probe: 16 * 16 at K position 0, -16 * 16 at 2 and 2^-9 * 2^-9 at 16.
std::string write_grouping_probe(const TempDir& dir) {
  return write_products(dir, 32, {{0, 16.0f, 16.0f}, {2, -16.0f, 16.0f}, {16, 0x1p-9f, 0x1p-9f}});
}

// D(0, 0) of `twofour mma`'s printout: the first token of the first line that is neither the
// header nor the lowering note.
std::string first_value(const std::string& out) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("D (", 0) == 0 || line.rfind("(", 0) == 0) continue;
    std::istringstream words(line);
    std::string first;
    words >> first;
    return first;
  }
  return std::string();
}

// An sm_90 fp8 row says that ptxas lowers it, and the lowering's grouping shows in D: the probe
// gives +0 on sm_90 (register halves) and 2^-18 on sm_89 (one native QMMA block over positions
// 0-15, then 16-31).
TEST(MmaCli, Fp8RowOnSm90NamesItsLowering) {
  TempDir dir;
  const std::string args = write_grouping_probe(dir);
  const auto h = run_tool("mma --instr mma.sync.aligned.m16n8k32.row.col.f16.e4m3.e4m3.f16 --arch sm90" + args);
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_NE(h.out.find("ptxas lowers it on sm90"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("HADD2"), std::string::npos) << h.out;
  EXPECT_EQ(first_value(h.out), "0") << h.out;
  const auto ada = run_tool("mma --instr SM89_16x8x32_F16E4M3E4M3F16_TN --arch sm89" + args);
  ASSERT_EQ(ada.exit_code, 0) << ada.err;
  EXPECT_EQ(ada.out.find("ptxas lowers"), std::string::npos) << ada.out;
  EXPECT_EQ(first_value(ada.out), "3.814697265625e-06") << ada.out;
}

// --arch takes every simulated architecture: sm_100 lowers fp8 as sm_90 does (same D), sm_86 has
// no fp8 (one usage line), and "sm_86" / "86" are spellings of sm86.
TEST(MmaCli, EveryArchitectureByName) {
  TempDir dir;
  const std::string args = write_grouping_probe(dir);
  const auto b200 = run_tool("mma --instr SM89_16x8x32_F32E4M3E4M3F32_TN --arch sm100" + args);
  ASSERT_EQ(b200.exit_code, 0) << b200.err;
  EXPECT_NE(b200.out.find("ptxas lowers it on sm100"), std::string::npos) << b200.out;
  EXPECT_NE(b200.out.find("FADD"), std::string::npos) << b200.out;
  EXPECT_EQ(first_value(b200.out), "0") << b200.out;
  const auto ampere = run_tool("mma --instr SM89_16x8x32_F32E4M3E4M3F32_TN --arch sm86" + args);
  EXPECT_EQ(ampere.exit_code, 2);
  EXPECT_EQ(count_lines(ampere.err), 1) << ampere.err;
  EXPECT_NE(ampere.err.find("needs sm89"), std::string::npos) << ampere.err;
  const std::string f16_args = write_products(dir, 16, {{0, 1.5f, 2.0f}});
  for (const char* spelling : {"sm86", "sm_86", "86"}) {
    const auto r = run_tool(std::string("mma --instr SM80_16x8x16_F32F16F16F32_TN --arch ") + spelling + f16_args);
    ASSERT_EQ(r.exit_code, 0) << spelling << r.err;
    EXPECT_NE(r.out.find("on sm86"), std::string::npos) << r.out;
    EXPECT_EQ(first_value(r.out), "3") << r.out;
  }
  const auto unknown = run_tool("mma --instr SM80_16x8x16_F32F16F16F32_TN --arch sm87" + f16_args);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(count_lines(unknown.err), 1) << unknown.err;
  EXPECT_NE(unknown.err.find("sm100"), std::string::npos) << unknown.err;
}

TEST(MmaCli, BadInstructionIsOneUsageLine) {
  const auto r = run_tool("mma --instr NOT_AN_MMA --a x --b y");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("NOT_AN_MMA"), std::string::npos) << r.err;
  const auto s = run_tool("mma --instr SM80_SP_16x8x32_F32F16F16F32_TN --selector 2 --a x --b y --e z");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_EQ(count_lines(s.err), 1) << s.err;
  const auto f8 = run_tool("mma --instr SM89_SP_16x8x64_F32E4M3E4M3F32_TN --arch sm80 --a x --b y --e z");
  EXPECT_EQ(f8.exit_code, 2);
  EXPECT_EQ(count_lines(f8.err), 1) << f8.err;
}

TEST(MmaCli, UndefinedMetadataFailsNamingTheLane) {
  const auto& in = row("SM80_SP_ORDERED_16x8x16_F32F16F16F32_TN");
  sim::WarpRegisters regs{};
  for (auto& l : regs) l.e = 0x44444444u;
  regs[9].e = 0x44444441u;  // lane 9 = quad 2, selector 1: nibble 0 descending -> UB when ordered
  TempDir dir;
  write_words(dir.file("a.txt"), regs, in.a_registers(), 0);
  write_words(dir.file("b.txt"), regs, in.b_registers(), 1);
  write_words(dir.file("e.txt"), regs, 1, 3);
  const auto r = run_tool("mma --instr SM80_SP_ORDERED_16x8x16_F32F16F16F32_TN --selector 1 --a " + dir.file("a.txt") +
                          " --b " + dir.file("b.txt") + " --e " + dir.file("e.txt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("lane 9, register e, nibble 0"), std::string::npos) << r.err;
}

TEST(ExplainCli, ShowsLanesOfEveryOperand) {
  const auto r = run_tool("explain SM80_SP_16x8x32_F32F16F16F32_TN");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"A (compressed", "B: 32x8", "C and D: 16x8", "selector 1: lanes 2 3 6 7", "T0.a0[0]", "T31.c3"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  const auto bad = run_tool("explain NOPE");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(count_lines(bad.err), 1) << bad.err;
  const auto list = run_tool("explain --list");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_EQ(count_lines(list.out), 116);
}

}  // namespace
