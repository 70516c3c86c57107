#pragma once
// Private to sim/src: what gemm.cpp (the definition: run_tile per tile) and gemm_fast.cpp (the
// vectorised fast path) share.
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/instruction_datapath.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace twofour::sim::gemm_detail {

inline std::size_t sz(int i) { return static_cast<std::size_t>(i); }
inline std::size_t sz(int a, int b) { return static_cast<std::size_t>(a) * static_cast<std::size_t>(b); }

struct Shape {
  int m = 0, n = 0, k = 0;
  int a_cols = 0;  // stored K of the whole GEMM (sparse) or K
  int steps = 0;
  int chunks = 0;  // metadata nibbles per A row (whole GEMM)
};

// Whether the fast path runs this row under `grouping`.
bool fast_path_exists(const spec::Instruction& instr, const InstructionDatapath& dp, SparseGrouping grouping);

// D by the fast path, or nullopt when the row has none. `cols`: the dense column (within its
// k-step) of every stored A value (sparse rows). Counts elements that fell back to the generic
// per-element dot (Inf/NaN operands) in `fallbacks`; `isa_used`: the kernels' instruction set
// (options.isa resolved; throws std::runtime_error when the CPU lacks a forced one).
std::optional<Tile> run_fast_path(const spec::Instruction& instr, const InstructionDatapath& dp, const GemmOperands& ops,
                                  const Shape& s, const std::vector<std::int32_t>& cols, const GemmOptions& options,
                                  std::size_t& fallbacks, KernelIsa& isa_used);

}  // namespace twofour::sim::gemm_detail
