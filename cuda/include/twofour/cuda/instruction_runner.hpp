#pragma once
// Runs warp-level MMA instructions on the GPU with exactly the per-lane register buffers of sim's
// warp-level API: case i occupies lanes [32i, 32i+32) of `lanes`, and its D registers come back in
// d[32i + lane][0..3]. Host-only header (no CUDA headers), usable from plain C++.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace twofour::cuda {

struct GpuLaneRegisters {
  std::uint32_t a[4];
  std::uint32_t b[4];
  std::uint32_t c[4];
  std::uint32_t e;
};

// row = index into sim::spec::instruction_table. Throws std::runtime_error when there is no GPU,
// the device is older than the row needs, or a CUDA call fails; std::invalid_argument for a bad
// row/selector or buffer sizes.
void run_instruction_on_gpu(int row, int selector, std::span<const GpuLaneRegisters> lanes,
                            std::span<std::array<std::uint32_t, 4>> d);

}  // namespace twofour::cuda
