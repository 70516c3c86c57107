#pragma once
// The host side of the instruction runner's buffer layout (instruction_runner.hpp): sim's
// per-thread registers to the runner's flat input words and back, and a CPU emulation of the
// runner's kernel that reads the flat words exactly as the kernel does and runs the simulator.
// Tests replay cases through it, so the layout is checked without a GPU.
#include "twofour/sim/spec/instruction.hpp"
#include "twofour/sim/warp.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace twofour::cuda {

// instr.threads threads per case -> per thread A, B, C words then e. Throws std::invalid_argument
// when a thread holds fewer registers than the row needs or the thread count is not a whole
// number of cases.
std::vector<std::uint32_t> flatten_inputs(const sim::spec::Instruction& instr, std::span<const sim::LaneRegisters> lanes);

// The runner's flat D words -> one entry per thread (d.size() threads).
void unflatten_d(const sim::spec::Instruction& instr, std::span<const std::uint32_t> words,
                 std::span<std::vector<std::uint32_t>> d);

// What run_instruction_on_gpu computes, on the CPU: same buffers, same checks, D from sim.
void emulate_instruction_runner(int row, int selector, sim::spec::Arch arch, std::span<const std::uint32_t> inputs,
                                std::span<std::uint32_t> d);

// The warpgroup runner (wgmma_runner.hpp): per thread A (RS rows), C, then e.
std::vector<std::uint32_t> flatten_warpgroup_inputs(const sim::spec::Instruction& instr,
                                                    std::span<const sim::LaneRegisters> lanes);

// What run_warpgroup_on_gpu computes, on the CPU: the same buffers read as the kernel reads them
// (descriptors relative to each case's image), D from sim's thread-level execution.
void emulate_warpgroup_runner(int row, int selector, std::span<const std::uint32_t> inputs,
                              std::span<const std::uint8_t> shared, std::size_t shared_bytes,
                              std::span<const std::uint64_t> descriptors, std::span<std::uint32_t> d);

}  // namespace twofour::cuda
