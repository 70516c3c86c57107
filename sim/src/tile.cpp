#include "twofour/sim/tile.hpp"

#include "twofour/sim/spec/metadata.hpp"

#include <algorithm>
#include <string>

namespace twofour::sim {
namespace {

void expect_shape(const Tile& t, int rows, int cols, const char* what, const spec::Instruction& instr) {
  if (t.rows != rows || t.cols != cols ||
      t.bits.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols)) {
    throw std::invalid_argument(std::string(instr.name) + ": " + what + " must be " + std::to_string(rows) + "x" +
                                std::to_string(cols) + ", got " + std::to_string(t.rows) + "x" + std::to_string(t.cols));
  }
}

void expect_metadata(const spec::Instruction& instr, const std::vector<std::uint8_t>& metadata) {
  const auto want = static_cast<std::size_t>(instr.m) * static_cast<std::size_t>(instr.chunks_per_row());
  if (metadata.size() != want) {
    throw std::invalid_argument(std::string(instr.name) + ": metadata must hold " + std::to_string(want) +
                                " nibbles (rows x chunks), got " + std::to_string(metadata.size()));
  }
}

std::string nibble_text(unsigned nibble) {
  std::string s = "0b";
  for (int bit = 3; bit >= 0; --bit) s += ((nibble >> bit) & 1u) != 0 ? '1' : '0';
  return s;
}

std::span<const std::uint8_t> row_nibbles(const spec::Instruction& instr, const std::vector<std::uint8_t>& metadata,
                                          int row) {
  const auto chunks = static_cast<std::size_t>(instr.chunks_per_row());
  return std::span<const std::uint8_t>(metadata).subspan(static_cast<std::size_t>(row) * chunks, chunks);
}

}  // namespace

void metadata_columns(const spec::Instruction& instr, std::span<const std::uint8_t> nibbles, int row,
                      std::vector<int>& columns, bool& unconfirmed, std::vector<std::string>* notes) {
  columns.clear();
  const int chunks = instr.chunks_per_row();
  for (int chunk = 0; chunk < chunks; ++chunk) {
    const unsigned nibble = nibbles[static_cast<std::size_t>(chunk)] & 0xfu;
    const spec::DecodedNibble d = spec::decode_nibble(instr, nibble);
    if (spec::is_undefined(d.status)) {
      throw MetadataError(std::string(instr.name) + ": metadata of A row " + std::to_string(row) + ", chunk " +
                          std::to_string(chunk) + " is " + nibble_text(nibble) + ": " +
                          std::string(spec::nibble_status_text(d.status)));
    }
    if (d.status == spec::NibbleStatus::descending_unconfirmed) {
      unconfirmed = true;
      if (notes != nullptr) {
        notes->push_back("A row " + std::to_string(row) + ", chunk " + std::to_string(chunk) + ": " +
                         nibble_text(nibble) + " " + std::string(spec::nibble_status_text(d.status)));
      }
    }
    for (int s = 0; s < d.count; ++s) columns.push_back(chunk * instr.chunk_width() + d.offset[s]);
  }
}

std::uint32_t element_dot(const spec::Instruction& instr, const InstructionDatapath& datapath,
                          SparseGrouping grouping, std::span<const std::uint32_t> a_row,
                          std::span<const int> columns, std::span<const std::uint32_t> b_column, std::uint32_t c,
                          ElementScratch& scratch) {
  if (!instr.is_sparse()) return datapath.dot(a_row, b_column, c);
  const std::size_t stored = a_row.size();
  if (grouping == SparseGrouping::stored_products) {
    // Stored products in storage order: value s meets the B row its metadata selects.
    scratch.b.resize(stored);
    for (std::size_t s = 0; s < stored; ++s) scratch.b[s] = b_column[static_cast<std::size_t>(columns[s])];
    return datapath.dot(a_row, scratch.b, c);
  }
  // Logical K: kept products at their dense positions, +0 x +0 elsewhere. A pruned position never
  // reads B (the sparse unit does not fetch it), so an Inf or NaN there cannot reach the result.
  scratch.a.assign(b_column.size(), 0u);
  scratch.b.assign(b_column.size(), 0u);
  for (std::size_t s = 0; s < stored; ++s) {
    const auto k = static_cast<std::size_t>(columns[s]);
    scratch.a[k] = a_row[s];
    scratch.b[k] = b_column[k];
  }
  return datapath.dot(scratch.a, scratch.b, c);
}

Tile decompress_a(const spec::Instruction& instr, const Tile& a_compressed, const std::vector<std::uint8_t>& metadata) {
  if (!instr.is_sparse()) return a_compressed;
  expect_shape(a_compressed, instr.m, instr.stored_k(), "compressed A", instr);
  expect_metadata(instr, metadata);
  Tile dense(instr.m, instr.k);
  bool unconfirmed = false;
  std::vector<int> columns;
  for (int r = 0; r < instr.m; ++r) {
    metadata_columns(instr, row_nibbles(instr, metadata, r), r, columns, unconfirmed);
    for (int s = 0; s < instr.stored_k(); ++s) dense.at(r, columns[static_cast<std::size_t>(s)]) = a_compressed.at(r, s);
  }
  return dense;
}

TileResult run_tile(const spec::Instruction& instr, spec::Arch arch, const TileOperands& ops,
                    const ExecutionOptions& options) {
  const int a_cols = instr.is_sparse() ? instr.stored_k() : instr.k;
  expect_shape(ops.a, instr.m, a_cols, "A", instr);
  expect_shape(ops.b, instr.k, instr.n, "B", instr);
  expect_shape(ops.c, instr.m, instr.n, "C", instr);
  if (instr.is_sparse()) expect_metadata(instr, ops.metadata);
  const InstructionDatapath datapath(instr, arch);

  TileResult result;
  result.d = Tile(instr.m, instr.n);
  // B transposed once so that each output element reads a contiguous column.
  std::vector<std::uint32_t> bt(static_cast<std::size_t>(instr.k) * static_cast<std::size_t>(instr.n));
  for (int k = 0; k < instr.k; ++k)
    for (int j = 0; j < instr.n; ++j) bt[static_cast<std::size_t>(j * instr.k + k)] = ops.b.at(k, j);
  std::vector<int> columns;
  ElementScratch scratch;
  for (int i = 0; i < instr.m; ++i) {
    if (instr.is_sparse()) metadata_columns(instr, row_nibbles(instr, ops.metadata, i), i, columns, result.unconfirmed, &result.notes);
    const std::span<const std::uint32_t> a_row(ops.a.bits.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(a_cols),
                                               static_cast<std::size_t>(a_cols));
    for (int j = 0; j < instr.n; ++j) {
      const std::span<const std::uint32_t> b_col(bt.data() + static_cast<std::size_t>(j) * static_cast<std::size_t>(instr.k),
                                                 static_cast<std::size_t>(instr.k));
      result.d.at(i, j) = element_dot(instr, datapath, options.grouping, a_row, columns, b_col, ops.c.at(i, j), scratch);
    }
  }
  return result;
}

}  // namespace twofour::sim
