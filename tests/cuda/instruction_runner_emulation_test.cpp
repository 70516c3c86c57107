// The instruction runner's buffer layout replayed on the CPU (runs everywhere): sim's per-thread
// registers are flattened into the runner's input words, read back exactly as the kernel reads
// them (cuda::emulate_instruction_runner), executed by sim and unflattened. The result must equal
// sim's thread-level execution of the same registers for every row of the table, which checks the
// word order and the per-row thread and register counts without a GPU. (What it cannot check: the
// PTX wrappers themselves and the GPU's arithmetic; the GPU tests and the validator do.)
#include "twofour/cuda/runner_buffers.hpp"
#include "twofour/cuda/wgmma_runner.hpp"
#include "twofour/sim/shared_operands.hpp"
#include "twofour/sim/spec/registry.hpp"
#include "twofour/sim/vectors.hpp"
#include "twofour/sim/warp.hpp"
#include "support/seed.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <vector>

namespace {

namespace sim = twofour::sim;
namespace spec = twofour::sim::spec;
namespace cuda = twofour::cuda;

spec::Arch arch_for(const spec::Instruction& in) { return in.min_arch == spec::Arch::sm80 ? spec::Arch::sm80 : spec::Arch::sm90; }

TEST(InstructionRunnerEmulation, EveryRowReplaysToTheThreadLevelResult) {
  std::mt19937_64 rng(twofour::testing::test_seed("InstructionRunnerEmulation", 20));
  for (std::size_t row = 0; row < spec::instruction_table.size(); ++row) {
    const spec::Instruction& in = spec::instruction_table[row];
    if (in.threads != 32) continue;  // the runner has wrappers for the warp-level rows only
    const int selector = in.is_sparse() ? static_cast<int>(rng() % static_cast<unsigned>(in.selector_count())) : 0;
    // Two cases in one launch, so that the per-case offsets are exercised too.
    std::vector<sim::LaneRegisters> lanes;
    std::vector<sim::WarpOutput> expected;
    for (int c = 0; c < 2; ++c) {
      const sim::WarpRegisters regs = sim::pack_registers(in, sim::random_tile_operands(in, rng), selector);
      lanes.insert(lanes.end(), regs.begin(), regs.end());
      expected.push_back(sim::run_warp(in, arch_for(in), regs, selector).d);
    }
    const std::vector<std::uint32_t> words = cuda::flatten_inputs(in, lanes);
    ASSERT_EQ(words.size(), lanes.size() * static_cast<std::size_t>(in.a_registers() + in.b_registers() +
                                                                     in.c_registers() + 1)) << in.name;
    std::vector<std::uint32_t> flat_d(lanes.size() * static_cast<std::size_t>(in.d_registers()));
    cuda::emulate_instruction_runner(static_cast<int>(row), selector, arch_for(in), words, flat_d);
    std::vector<std::vector<std::uint32_t>> d(lanes.size());
    cuda::unflatten_d(in, flat_d, d);
    const auto threads = static_cast<std::size_t>(in.threads);
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t t = 0; t < threads; ++t)
        ASSERT_EQ(d[c * threads + t], expected[c][t]) << in.name << " case " << c << " thread " << t;
  }
}

TEST(InstructionRunnerEmulation, WrongBufferSizesAreRejected) {
  const spec::Instruction& in = *spec::find_instruction("SM80_SP_16x8x32_F32F16F16F32_TN");
  const int row = static_cast<int>(&in - spec::instruction_table.data());
  sim::WarpRegisters regs = sim::make_registers(in);
  EXPECT_THROW((void)cuda::flatten_inputs(in, std::span<const sim::LaneRegisters>(regs).first(31)), std::invalid_argument);
  regs[5].a.pop_back();
  EXPECT_THROW((void)cuda::flatten_inputs(in, regs), std::invalid_argument);
  std::vector<std::uint32_t> words(32 * 13), d(32 * 4);
  EXPECT_NO_THROW(cuda::emulate_instruction_runner(row, 0, spec::Arch::sm80, std::vector<std::uint32_t>(32 * 13, 0x44444444u), d));
  EXPECT_THROW(cuda::emulate_instruction_runner(row, 0, spec::Arch::sm80, std::span<const std::uint32_t>(words).first(100), d),
               std::invalid_argument);
  std::vector<std::vector<std::uint32_t>> out(31);
  EXPECT_THROW(cuda::unflatten_d(in, d, out), std::invalid_argument);
}

}  // namespace

namespace {

// The warpgroup runner's buffers (cuda/wgmma_runner.hpp) replayed on the CPU for every warpgroup
// row the runner has a kernel for: per-thread words, shared-memory images and descriptors
// relative to each image, two cases per launch; D must equal the tile-level result.
TEST(WarpgroupRunnerEmulation, RowsWithKernelsReplayToTheTileResult) {
  std::mt19937_64 rng(twofour::testing::test_seed("WarpgroupRunnerEmulation", 26));
  int rows = 0;
  for (std::size_t row = 0; row < spec::instruction_table.size(); ++row) {
    const spec::Instruction& in = spec::instruction_table[row];
    if (in.threads != 128 || !cuda::warpgroup_row_on_gpu(static_cast<int>(row))) continue;
    const int selector = in.is_sparse() ? static_cast<int>(rng() % static_cast<unsigned>(in.selector_count())) : 0;
    std::vector<sim::LaneRegisters> lanes;
    std::vector<std::uint8_t> shared;
    std::vector<std::uint64_t> descriptors;
    std::vector<sim::Tile> expected;
    std::size_t image_bytes = 0;
    for (int c = 0; c < 2; ++c) {
      const sim::TileOperands t = sim::random_tile_operands(in, rng);
      const sim::WarpRegisters regs = sim::pack_registers(in, t, selector);
      sim::SharedOperands image = sim::pack_shared(in, t, c == 0 ? spec::Swizzle::b128 : spec::Swizzle::none);
      image_bytes = std::max(image_bytes, image.bytes.size());
      image.bytes.resize(40 * 1024, 0);  // one image size for every case of the launch
      lanes.insert(lanes.end(), regs.begin(), regs.end());
      shared.insert(shared.end(), image.bytes.begin(), image.bytes.end());
      descriptors.push_back(image.a_descriptor);
      descriptors.push_back(image.b_descriptor);
      expected.push_back(sim::run_tile(in, spec::Arch::sm90, t).d);
    }
    ASSERT_LE(image_bytes, 40u * 1024u) << in.name;
    const std::vector<std::uint32_t> words = cuda::flatten_warpgroup_inputs(in, lanes);
    ASSERT_EQ(words.size(), lanes.size() * static_cast<std::size_t>(cuda::warpgroup_input_words_per_thread(static_cast<int>(row))));
    std::vector<std::uint32_t> flat_d(lanes.size() * static_cast<std::size_t>(in.d_registers()));
    cuda::emulate_warpgroup_runner(static_cast<int>(row), selector, words, shared, 40 * 1024, descriptors, flat_d);
    std::vector<std::vector<std::uint32_t>> d(lanes.size());
    cuda::unflatten_d(in, flat_d, d);
    for (std::size_t c = 0; c < 2; ++c) {
      const sim::WarpOutput out(d.begin() + static_cast<std::ptrdiff_t>(c * 128), d.begin() + static_cast<std::ptrdiff_t>((c + 1) * 128));
      ASSERT_EQ(sim::unpack_d(in, out), expected[c]) << in.name << " case " << c;
    }
    ++rows;
  }
  EXPECT_EQ(rows, 2 * 2 * 20 + 2 * 2);  // sparse/dense x SS/RS x 20 type rows at N = 8, and f16 -> f32 at N = 256
}

}  // namespace
