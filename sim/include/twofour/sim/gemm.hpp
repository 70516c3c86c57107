#pragma once
// GEMM level: an M x N x K sparse or dense GEMM executed as a chain of instruction tiles, the way
// a CUDA kernel built on one mma / mma.sp row computes it.
//
// Stated order: the output is cut into 16 x 8 tiles (instr.m x instr.n). For each tile the K
// dimension is walked in ascending k-steps of instr.k: step s uses A columns [s*K, (s+1)*K)
// (compressed: [s*K/2, ...) and metadata chunks [s*chunks, ...)) and B rows [s*K, (s+1)*K).
// D of step s is the C of step s+1 (C of step 0 is the given C); every step's result is already
// rounded to the D format by the instruction, as on the GPU, where the accumulator registers
// hold D between mma instructions. Output tiles are independent and run in parallel (OpenMP).
#include "twofour/sim/kernel_isa.hpp"
#include "twofour/sim/tile.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace twofour::sim {

struct GemmOperands {
  Tile a;                              // sparse rows: M x (K / chunk_width * stored_per_chunk), compressed
                                       // (storage order, idx0 value first); dense rows: M x K
  std::vector<std::uint8_t> metadata;  // sparse rows: M x (K / chunk_width) nibbles, row-major, in K order
  Tile b;                              // K x N
  Tile c;                              // M x N, in the D format
};

enum class GemmPath {
  automatic,  // fast when the row has one (every row of the table today), else generic
  generic,    // run_tile per output tile and k-step: the definition
  fast,       // pre-decoded operands, vectorised block-FMA; bit-identical to generic (tested);
              // elements whose inputs hold Inf/NaN fall back to the generic element path
};

struct GemmOptions {
  ExecutionOptions execution;
  GemmPath path = GemmPath::automatic;
  int threads = 0;  // 0: OpenMP's default
  KernelIsa isa = KernelIsa::automatic;  // fast path's instruction set (kernel_isa.hpp); same bits on each
};

struct GemmResult {
  Tile d;                         // M x N, D format
  bool unconfirmed = false;       // metadata used descending pairs under plain mma.sp [I]
  std::size_t unconfirmed_chunks = 0;
  GemmPath path_used = GemmPath::generic;
  std::size_t generic_fallbacks = 0;  // fast path: (element, k-step) pairs run generically
  KernelIsa isa_used = KernelIsa::automatic;  // fast path: the instruction set that ran it
};

// Throws std::invalid_argument when M, N, K are not multiples of the instruction's shape or the
// operands have the wrong size, MetadataError (naming A row and global chunk) for undefined
// metadata, UnsupportedInstruction when the row does not run on `arch`, and std::invalid_argument
// when GemmPath::fast is asked for a row without a fast path.
GemmResult run_gemm(const spec::Instruction& instr, spec::Arch arch, const GemmOperands& operands,
                    const GemmOptions& options = {});

// True when run_gemm has a fast path for this row on this architecture.
bool gemm_fast_path_available(const spec::Instruction& instr, spec::Arch arch);

std::string gemm_path_name(GemmPath path);

}  // namespace twofour::sim
