#pragma once
// The accumulation ORDER of a whole GEMM, as data, on top of the GEMM level (gemm.hpp).
//
// Two kernels built on the same mma / mma.sp row can produce different bits for D = alpha*A*B + beta*C:
// the tensor core rounds after every instruction, so where C enters, how K is split across thread
// blocks and how the partial sums are combined all change the result. A GemmOrder states each of
// these choices (docs/kernel-check.md §Orders):
//
//   * k-steps: inside a slice, the instruction's K per step, ascending, D of a step the C of the
//     next (gemm.hpp). `instr_k` names another K for the same instruction (the sibling row with the
//     same types, sparsity and metadata rule, e.g. mma.sp m16n8k16 instead of m16n8k32): a kernel
//     issuing the shorter instruction rounds twice as often. `tile_k` is the kernel's K per main-loop iteration; it does not
//     change the chain by itself, but split-K slices are whole K tiles.
//   * split-K: `split_k` slices of ceil(ceil(K / tile_k) / split_k) K tiles each (the last ones
//     shorter or empty), every slice an independent chain starting from +0 (slice 0 from C when C
//     enters first). Their partials are combined by `reduction`:
//       serial: slice by slice, each slice's epilogue reading the previous slice's D in the OUTPUT
//               type: R = out(fp32(R_prev) + partial) (a CUTLASS "serial" split-K);
//       fp32:   partials kept in fp32, summed in slice order in fp32 (IEEE, round to nearest),
//               then the epilogue, then converted (a "parallel" split-K reduction kernel).
//   * C entry: `first` (the accumulators start from C, as twofour's own kernel does) or
//     `epilogue` (they start from +0 and the epilogue adds beta*C).
//   * the epilogue, in fp32: D = out(fma(alpha, acc, beta*c)), beta*c left out when beta == 0 or
//     C entered first (then beta must be 1); `out` converts to the output type with round to
//     nearest even (exact when the output is the accumulator's type and alpha == 1 and no C is added).
//
// Integer rows (s32 accumulators): every addition is an exact int32 sum (wrapping as the tensor
// core does without .satfinite); alpha and beta must be 1 and the output int32.
#include "twofour/sim/gemm.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::sim {

enum class CEntry { first, epilogue };
enum class SplitReduction { serial, fp32 };

struct GemmOrder {
  std::string preset = "explicit";  // the preset it came from (for reports)
  int instr_k = 0;                  // K per instruction: 0 = the row's own, else a sibling row's
  int tile_k = 64;                  // the kernel's K per main-loop iteration; a multiple of instr.k
  int split_k = 1;                  // slices along K (>= 1)
  SplitReduction reduction = SplitReduction::serial;
  CEntry c_entry = CEntry::first;
  float alpha = 1.0f, beta = 1.0f;
  const spec::FormatSpec* output = nullptr;  // D element type in memory; nullptr: the row's D type

  bool operator==(const GemmOrder&) const = default;
};

// Presets, by name:
//   twofour   twofour's CUDA kernel (cuda/gemm.hpp): C first, K tile 64, no split-K, fp32 D.
//   chained   the GEMM level as stated in gemm.hpp: C first, no split-K (tile_k = instr K).
//   cutlass   a CUTLASS-style main loop: accumulators from +0, K tile 64, C added in the fp32
//             epilogue (alpha = beta = 1), split-K 1, serial reduction. Give another tile K or
//             split-K as overrides: "cutlass,tile_k=32,split_k=4,reduction=fp32".
// Throws std::invalid_argument naming the presets for an unknown name.
GemmOrder gemm_order_preset(std::string_view name);
std::vector<std::string> gemm_order_preset_names();

// "PRESET[,key=value...]" or "key=value,..." (the fully explicit form, starting from the
// defaults above). Keys: instr_k, tile_k, split_k, reduction (serial|fp32), c (first|epilogue), alpha,
// beta. Throws std::invalid_argument naming the token at fault.
GemmOrder parse_gemm_order(std::string_view text);
// The explicit form (parse_gemm_order reads it back), preceded by the preset name, e.g.
// "cutlass: tile_k=64,split_k=2,reduction=serial,c=epilogue,alpha=1,beta=1".
std::string describe_order(const GemmOrder& order);

// The row that runs the k-steps: `instr` itself when order.instr_k is 0 or instr.k, else the row
// with K = instr_k and everything else (shape M x N, types, sparsity, metadata rule, .satfinite)
// equal. Throws std::invalid_argument when there is none.
const spec::Instruction& ordered_instruction(const spec::Instruction& instr, const GemmOrder& order);

// Throws std::invalid_argument naming the field when `order` cannot run `instr` (tile_k not a
// positive multiple of instr.k, split_k < 1, beta != 1 with C first, an output type that is not
// fp32/fp16 for float rows or int32 for integer rows, alpha/beta != 1 on integer rows).
void check_gemm_order(const spec::Instruction& instr, const GemmOrder& order);

// The K range [begin, end) of every slice (empty slices have begin == end); tile_k = 0 means instr.k.
struct KRange {
  int begin = 0, end = 0;
};
std::vector<KRange> split_k_ranges(const spec::Instruction& instr, const GemmOrder& order, int k);

struct OrderedGemmResult {
  Tile d;                             // M x N bit patterns of the output type
  const spec::FormatSpec* output = nullptr;
  bool unconfirmed = false;           // as GemmResult: descending metadata pairs under plain mma.sp
};

// D of the GEMM under `order`: each slice through run_gemm (the instruction chain), then the
// reduction and the epilogue as stated above. Throws what run_gemm throws and what
// check_gemm_order throws.
OrderedGemmResult run_ordered_gemm(const spec::Instruction& instr, spec::Arch arch, const GemmOperands& operands,
                                   const GemmOrder& order, const GemmOptions& options = {});

// The reduction and the epilogue of one element: `partials` are the slices' results (accumulator
// bits, one per slice, in slice order), `c` the element of C (accumulator format). Returns D's
// bits in the output type. Assumes check_gemm_order passed.
std::uint32_t reduce_and_finish(const spec::Instruction& instr, const GemmOrder& order,
                                std::span<const std::uint32_t> partials, std::uint32_t c);

// The operands of the K range [begin, end) (a multiple of instr.k at both ends) with `c` as C.
GemmOperands slice_operands(const spec::Instruction& instr, const GemmOperands& operands, KRange range, const Tile& c);

}  // namespace twofour::sim
