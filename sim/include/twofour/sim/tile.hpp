#pragma once
// Tile-level execution of one instruction row: matrices of bit patterns in, D out, no lanes. The
// warp level (warp.hpp) scatters registers into these tiles and gathers D back; the GEMM level
// (gemm.hpp) chains tiles along K.
#include "twofour/sim/instruction_datapath.hpp"
#include "twofour/sim/spec/instruction.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::sim {

// A row-major matrix of bit patterns, each in the low bits of a word in its format's container
// (fp16/bf16 in the low 16 bits, s4/u4 in the low 4, tf32 as its fp32 container).
struct Tile {
  int rows = 0;
  int cols = 0;
  std::vector<std::uint32_t> bits;

  Tile() = default;
  Tile(int r, int c) : rows(r), cols(c), bits(static_cast<std::size_t>(r) * static_cast<std::size_t>(c), 0u) {}
  std::uint32_t& at(int r, int c) { return bits[index(r, c)]; }
  std::uint32_t at(int r, int c) const { return bits[index(r, c)]; }
  bool operator==(const Tile&) const = default;

 private:
  std::size_t index(int r, int c) const {
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(cols) + static_cast<std::size_t>(c);
  }
};

struct TileOperands {
  Tile a;                              // sparse rows: M x stored K (compressed); dense rows: M x K
  std::vector<std::uint8_t> metadata;  // sparse rows: M x chunks_per_row() nibbles, row-major
  Tile b;                              // K x N
  Tile c;                              // M x N, in the C (= D) format
};

// How mma.sp forms datapath blocks is unpublished (docs/ptx-facts.md §Sparse datapath). THE switch:
//  - stored_products (default, most likely): the sparse unit selects, per stored A value, the B
//    row its metadata names and feeds the K/2 *stored* products, in storage order, to the same
//    block-FMA datapath as dense mma. So m16n8k32 f16 on sm_80 is two blocks of 8 stored products
//    (16 logical K each), and m16n8k16 is one block of 8. This is what makes the sparse unit
//    twice as fast per cycle with the same adder tree.
//  - logical_k: blocks of n consecutive *logical* K (pruned positions contribute nothing), i.e.
//    mma.sp equals the dense twin run on the decompressed A.
// The two agree when all of K fits in one block (K <= n) and for integer rows (exact sums). A GPU
// probe (`twofour validate --probe grouping`, docs/isa-findings.md) settles it; the CUDA side can run the
// same vectors (vectors.hpp) under both and compare.
enum class SparseGrouping { stored_products, logical_k };

struct ExecutionOptions {
  SparseGrouping grouping = SparseGrouping::stored_products;
};

// Undefined behaviour in the metadata or the selector. The message names where (warp level: lane,
// register, nibble; tile and GEMM level: row and chunk).
struct MetadataError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct TileResult {
  Tile d;
  // Set when the metadata used a legal but hardware-unconfirmed form (a descending index pair
  // under plain mma.sp, docs/ptx-facts.md §Metadata [I]); `notes` says where.
  bool unconfirmed = false;
  std::vector<std::string> notes;
};

// Throws std::invalid_argument for wrong tile shapes, MetadataError for undefined metadata and
// UnsupportedInstruction when the row does not run on `arch`.
TileResult run_tile(const spec::Instruction& instr, spec::Arch arch, const TileOperands& operands,
                    const ExecutionOptions& options = {});

// The dense M x K matrix a sparse row's compressed A and metadata stand for (zeros elsewhere).
// Dense rows: returns A unchanged.
Tile decompress_a(const spec::Instruction& instr, const Tile& a_compressed, const std::vector<std::uint8_t>& metadata);

// --- Building blocks shared with the GEMM level ---------------------------------------------

// Decodes the nibbles of one A row (chunks_per_row() of them, low 4 bits used) into the dense
// column of each stored value, in storage order. Undefined nibbles throw MetadataError naming
// `row` and the chunk; descending pairs under plain mma.sp set `unconfirmed` and, when `notes` is
// given, add a note.
void metadata_columns(const spec::Instruction& instr, std::span<const std::uint8_t> row_nibbles, int row,
                      std::vector<int>& columns, bool& unconfirmed, std::vector<std::string>* notes = nullptr);

// Reusable buffers for element_dot.
struct ElementScratch {
  std::vector<std::uint32_t> a, b;
};

// One output element of one instruction, exactly as run_tile computes it: `a_row` is the row of A
// as the instruction holds it (stored K values for sparse rows, K for dense), `columns` the dense
// column of each stored value (sparse rows only), `b_column` the K values of B's column, `c` the
// accumulator. The grouping switch is applied here and nowhere else.
std::uint32_t element_dot(const spec::Instruction& instr, const InstructionDatapath& datapath,
                          SparseGrouping grouping, std::span<const std::uint32_t> a_row,
                          std::span<const int> columns, std::span<const std::uint32_t> b_column, std::uint32_t c,
                          ElementScratch& scratch);

}  // namespace twofour::sim
