#pragma once
// Checking a kernel's D against the simulator: bit comparison, the distance in ulps, the
// simulator's account of one element (which K blocks, the alignment and the truncation that
// produced its bits), and a search over the preset orders for one that reproduces the kernel.
#include "twofour/sim/gemm_order.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace twofour::sim {

struct GemmMismatch {
  int row = 0, col = 0;
  std::uint32_t simulated = 0, actual = 0;
  std::optional<std::uint64_t> ulps;  // none when either is NaN
};

struct GemmCheckReport {
  std::size_t elements = 0;
  std::size_t differing = 0;              // elements whose bits differ
  std::uint64_t max_ulps = 0;             // over the differing pairs with no NaN
  std::size_t nan_mismatches = 0;         // differing pairs where either side is NaN
  std::vector<GemmMismatch> first;        // the first `keep` differing elements, row-major order
  bool all_equal() const { return differing == 0; }
};

// Distance between two patterns of `format`: floats as the number of representable values between
// them (+0 and -0 are 0 apart; none when either is NaN), integers as |x - y|.
std::optional<std::uint64_t> ulp_distance(const spec::FormatSpec& format, std::uint32_t x, std::uint32_t y);

// Compares `actual` (the kernel's D) with `simulated`, bit for bit. Throws std::invalid_argument
// when the shapes differ.
GemmCheckReport compare_gemm_outputs(const spec::FormatSpec& format, const Tile& simulated, const Tile& actual,
                                     std::size_t keep = 5);

// How the simulator computes D[row][col] under `order`, one line per fact: each slice, every
// k-step whose datapath blocks truncated bits (its K blocks, alignment exponent, the terms cut
// and the amount lost; at most `max_steps` per slice), the reduction and the epilogue. Throws as
// run_ordered_gemm, and std::out_of_range for an element outside D.
std::vector<std::string> explain_gemm_element(const spec::Instruction& instr, spec::Arch arch,
                                              const GemmOperands& operands, const GemmOrder& order, int row, int col,
                                              const GemmOptions& options = {}, int max_steps = 4);

// The orders `explain-order` tries: the presets, then the CUTLASS-style family for the row's K
// and every sibling instruction K dividing `k` (C first or in the epilogue; split-K 1, 2, 3, 4, 8,
// 16 with serial and fp32 reduction; K tiles 32..256 that are multiples of the instruction's K),
// with the stated order's alpha, beta and output type; orders that would compute the same thing
// for this K are listed once.
std::vector<GemmOrder> candidate_orders(const spec::Instruction& instr, int k, const GemmOrder& stated);

struct OrderSearch {
  std::size_t tried = 0;
  std::vector<GemmOrder> matching;  // orders whose D equals `actual` bit for bit, in candidate order
};
OrderSearch find_matching_orders(const spec::Instruction& instr, spec::Arch arch, const GemmOperands& operands,
                                 const Tile& actual, const GemmOrder& stated, const GemmOptions& options = {});

}  // namespace twofour::sim
