// GEMM level: the generic chain of run_tile calls (the definition) and the dispatch to the fast
// path (gemm_fast.cpp), which gemm_test.cpp checks is bit-identical to it.
#include "gemm_fast.hpp"
#include "twofour/sim/gemm.hpp"
#include "twofour/sim/spec/metadata.hpp"

#include <omp.h>

#include <optional>
#include <string>

namespace twofour::sim {
namespace {

using gemm_detail::Shape;
using gemm_detail::sz;

Shape check_operands(const spec::Instruction& instr, const GemmOperands& ops) {
  Shape s;
  s.m = ops.c.rows;
  s.n = ops.c.cols;
  s.k = ops.b.rows;
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(std::string(instr.name) + " GEMM: " + what);
  };
  if (s.m <= 0 || s.n <= 0 || s.k <= 0) fail("empty operands");
  if (s.m % instr.m != 0 || s.n % instr.n != 0 || s.k % instr.k != 0) {
    fail("M x N x K = " + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) +
         " must be multiples of the instruction's " + std::to_string(instr.m) + "x" + std::to_string(instr.n) + "x" +
         std::to_string(instr.k));
  }
  s.steps = s.k / instr.k;
  s.a_cols = instr.is_sparse() ? s.steps * instr.stored_k() : s.k;
  s.chunks = instr.is_sparse() ? s.steps * instr.chunks_per_row() : 0;
  if (ops.c.bits.size() != sz(s.m, s.n)) fail("C storage does not match its shape");
  if (ops.b.cols != s.n || ops.b.bits.size() != sz(s.k, s.n)) fail("B must be K x N = " + std::to_string(s.k) + "x" + std::to_string(s.n));
  if (ops.a.rows != s.m || ops.a.cols != s.a_cols || ops.a.bits.size() != sz(s.m, s.a_cols))
    fail(std::string(instr.is_sparse() ? "compressed " : "") + "A must be " + std::to_string(s.m) + "x" + std::to_string(s.a_cols));
  if (instr.is_sparse() && ops.metadata.size() != sz(s.m, s.chunks))
    fail("metadata must hold M x K/" + std::to_string(instr.chunk_width()) + " = " + std::to_string(s.m * s.chunks) + " nibbles");
  return s;
}

// Dense column (within its k-step) of every stored A value, after the UB checks.
std::vector<std::int32_t> decode_metadata(const spec::Instruction& instr, const GemmOperands& ops, const Shape& s,
                                          std::size_t& unconfirmed) {
  std::vector<std::int32_t> cols;
  if (!instr.is_sparse()) return cols;
  cols.assign(sz(s.m, s.a_cols), 0);
  const int cw = instr.chunk_width(), step_chunks = instr.chunks_per_row();
  for (int i = 0; i < s.m; ++i) {
    std::size_t out = sz(i, s.a_cols);
    for (int ch = 0; ch < s.chunks; ++ch) {
      const unsigned nibble = ops.metadata[sz(i, s.chunks) + sz(ch)] & 0xfu;
      const spec::DecodedNibble d = spec::decode_nibble(instr, nibble);
      if (spec::is_undefined(d.status)) {
        throw MetadataError(std::string(instr.name) + " GEMM: metadata of A row " + std::to_string(i) + ", chunk " +
                            std::to_string(ch) + " (k-step " + std::to_string(ch / step_chunks) + ") is 0x" +
                            "0123456789abcdef"[nibble] + ": " + std::string(spec::nibble_status_text(d.status)));
      }
      if (d.status == spec::NibbleStatus::descending_unconfirmed) ++unconfirmed;
      for (int v = 0; v < d.count; ++v) cols[out++] = (ch % step_chunks) * cw + d.offset[v];
    }
  }
  return cols;
}

// ---- generic path: run_tile per output tile and k-step ----------------------------------------

Tile run_generic(const spec::Instruction& instr, spec::Arch arch, const GemmOperands& ops, const Shape& s,
                 const GemmOptions& options) {
  Tile d = ops.c;
  const int tiles_m = s.m / instr.m, tiles_n = s.n / instr.n;
  const int a_step = instr.is_sparse() ? instr.stored_k() : instr.k;
  const int step_chunks = instr.chunks_per_row();
#pragma omp parallel for schedule(dynamic) collapse(2) num_threads(options.threads > 0 ? options.threads : omp_get_max_threads())
  for (int ti = 0; ti < tiles_m; ++ti) {
    for (int tj = 0; tj < tiles_n; ++tj) {
      TileOperands t;
      t.a = Tile(instr.m, a_step);
      t.b = Tile(instr.k, instr.n);
      t.c = Tile(instr.m, instr.n);
      if (instr.is_sparse()) t.metadata.assign(sz(instr.m, step_chunks), 0);
      for (int r = 0; r < instr.m; ++r)
        for (int c = 0; c < instr.n; ++c) t.c.at(r, c) = ops.c.at(ti * instr.m + r, tj * instr.n + c);
      for (int step = 0; step < s.steps; ++step) {
        for (int r = 0; r < instr.m; ++r) {
          for (int c = 0; c < a_step; ++c) t.a.at(r, c) = ops.a.at(ti * instr.m + r, step * a_step + c);
          for (int ch = 0; ch < (instr.is_sparse() ? step_chunks : 0); ++ch)
            t.metadata[sz(r, step_chunks) + sz(ch)] = ops.metadata[sz(ti * instr.m + r, s.chunks) + sz(step * step_chunks + ch)];
        }
        for (int r = 0; r < instr.k; ++r)
          for (int c = 0; c < instr.n; ++c) t.b.at(r, c) = ops.b.at(step * instr.k + r, tj * instr.n + c);
        t.c = run_tile(instr, arch, t, options.execution).d;  // D of this step = C of the next
      }
      for (int r = 0; r < instr.m; ++r)
        for (int c = 0; c < instr.n; ++c) d.at(ti * instr.m + r, tj * instr.n + c) = t.c.at(r, c);
    }
  }
  return d;
}

}  // namespace

bool gemm_fast_path_available(const spec::Instruction& instr, spec::Arch arch) {
  if (!instruction_supported(instr, arch)) return false;
  const InstructionDatapath dp(instr, arch);
  return gemm_detail::fast_path_exists(instr, dp, SparseGrouping::stored_products) &&
         gemm_detail::fast_path_exists(instr, dp, SparseGrouping::logical_k);
}

std::string gemm_path_name(GemmPath path) {
  switch (path) {
    case GemmPath::automatic: return "automatic";
    case GemmPath::generic: return "generic";
    case GemmPath::fast: return "fast";
  }
  return "?";
}

GemmResult run_gemm(const spec::Instruction& instr, spec::Arch arch, const GemmOperands& ops,
                    const GemmOptions& options) {
  const Shape s = check_operands(instr, ops);
  const InstructionDatapath dp(instr, arch);
  GemmResult result;
  const std::vector<std::int32_t> cols = decode_metadata(instr, ops, s, result.unconfirmed_chunks);
  result.unconfirmed = result.unconfirmed_chunks != 0;
  if (options.path != GemmPath::generic) {
    if (auto d = gemm_detail::run_fast_path(instr, dp, ops, s, cols, options, result.generic_fallbacks,
                                            result.isa_used)) {
      result.d = std::move(*d);
      result.path_used = GemmPath::fast;
      return result;
    }
    if (options.path == GemmPath::fast)
      throw std::invalid_argument(std::string(instr.name) + ": no fast GEMM path for this row");
  }
  result.d = run_generic(instr, arch, ops, s, options);
  result.path_used = GemmPath::generic;
  return result;
}

}  // namespace twofour::sim
