// `twofour mma` and `twofour explain` on warpgroup (wgmma) rows: per-thread text for register
// operands, .npy tiles for shared-memory operands, shared-memory addresses through descriptors,
// and bad descriptors as located errors (exit 1) or usage errors (exit 2).
#include "support/run_tool.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/vectors.hpp"
#include "twofour/sim/warp.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace {

namespace sim = twofour::sim;
namespace io = twofour::io;
using twofour::testing::run_tool;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/twofour-wgmma-cli-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_words(const std::string& path, const sim::WarpRegisters& regs, int which) {
  std::ofstream out(path);
  for (const sim::LaneRegisters& l : regs) {
    const std::vector<std::uint32_t> words = which == 0 ? l.a : which == 2 ? l.c : std::vector<std::uint32_t>{l.e};
    for (std::uint32_t w : words) {
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

io::Array u16_array(const sim::Tile& t) {
  std::vector<std::byte> bytes(t.bits.size() * 2);
  for (std::size_t i = 0; i < t.bits.size(); ++i) {
    const auto v = static_cast<std::uint16_t>(t.bits[i]);
    std::memcpy(bytes.data() + 2 * i, &v, 2);
  }
  return io::make_array(io::DType::u16, {static_cast<std::size_t>(t.rows), static_cast<std::size_t>(t.cols)}, bytes);
}

TEST(WgmmaCli, RegisterTextAndSharedTileMatchTheSimulator) {
  const sim::spec::Instruction& in = *sim::spec::find_instruction("SM90_SP_64x16x32_F32F16F16F32_RS");
  std::mt19937_64 rng(61);
  const sim::TileOperands t = sim::random_tile_operands(in, rng);
  const sim::WarpRegisters regs = sim::pack_registers(in, t, 1);
  TempDir dir;
  write_words(dir.file("a.txt"), regs, 0);
  write_words(dir.file("c.txt"), regs, 2);
  write_words(dir.file("e.txt"), regs, 3);
  io::write_npy(dir.file("b.npy"), u16_array(t.b));
  const auto r = run_tool("mma --instr SM90_SP_64x16x32_F32F16F16F32_RS --arch sm90 --selector 1 --a " + dir.file("a.txt") +
                          " --b " + dir.file("b.npy") + " --c " + dir.file("c.txt") + " --e " + dir.file("e.txt") +
                          " --out " + dir.file("d.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const sim::WarpOutput want = sim::pack_d(in, sim::run_tile(in, sim::spec::Arch::sm90, t).d);
  const auto words = read_hex_words(dir.file("d.txt"));
  ASSERT_EQ(words.size(), 128u * 8u);
  for (std::size_t thread = 0; thread < 128; ++thread)
    for (std::size_t reg = 0; reg < 8; ++reg) EXPECT_EQ(words[thread * 8 + reg], want[thread][reg]) << thread << " " << reg;
  // B of a wgmma row lives in shared memory: as text it is a usage error.
  const auto bad = run_tool("mma --instr SM90_SP_64x16x32_F32F16F16F32_RS --arch sm90 --a " + dir.file("a.txt") + " --b " +
                            dir.file("a.txt") + " --e " + dir.file("e.txt"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("reads B from shared memory"), std::string::npos) << bad.err;
}

TEST(WgmmaCli, ExplainShowsThreadsAndSharedMemoryBytes) {
  const auto r = run_tool("explain SM90_64x8x16_F32F16F16F32_SS --swizzle 128B");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("threads: 128"), std::string::npos);
  // 128B swizzle from address 0: A element (1, 0) sits at 128 ^ 16 = 144, (1, 8) at 128.
  EXPECT_NE(r.out.find("   1:  s144"), std::string::npos) << r.out.substr(0, 3000);
  EXPECT_NE(r.out.find("T127.c3"), std::string::npos);
  const auto rs = run_tool("explain SM90_SP_64x8x32_F32F16F16F32_RS --swizzle none");
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  EXPECT_NE(rs.out.find("T127.a3[1]"), std::string::npos);
  EXPECT_NE(rs.out.find("selector 1: lanes 2 3 6 7"), std::string::npos);
}

TEST(WgmmaCli, BadDescriptorsAreLocatedErrors) {
  // A descriptor whose 8-row groups coincide (SBO = 0): the overlap is named element by element.
  const auto overlap = run_tool("explain SM90_64x8x16_F32F16F16F32_SS --a-desc 0x0000000000080000");
  EXPECT_EQ(overlap.exit_code, 1);
  EXPECT_NE(overlap.err.find("A element (8, 0)"), std::string::npos) << overlap.err;
  EXPECT_NE(overlap.err.find("overlaps"), std::string::npos) << overlap.err;
  // Sparse B holds 64 bytes of K per row: wider than a 32B swizzle row.
  const auto wide = run_tool("explain SM90_SP_64x8x32_F32F16F16F32_SS --swizzle 32B");
  EXPECT_EQ(wide.exit_code, 1);
  EXPECT_NE(wide.err.find("wider than the 32B swizzle row"), std::string::npos) << wide.err;
  const auto junk = run_tool("explain SM90_64x8x16_F32F16F16F32_SS --a-desc zz");
  EXPECT_EQ(junk.exit_code, 2);
}

}  // namespace
