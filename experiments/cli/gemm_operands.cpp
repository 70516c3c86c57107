#include "cli/gemm_operands.hpp"

#include "cli/command.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/sim/compress.hpp"
#include "twofour/sim/spec/rounding.hpp"
#include "twofour/sparse/nibbles.hpp"

#include <cstring>
#include <stdexcept>

namespace twofour::cli {

namespace spec = sim::spec;

Major parse_major(const std::string& text, const std::string& option) {
  if (text == "row") return Major::row;
  if (text == "col") return Major::col;
  throw UsageError(option + " must be row or col, not '" + text + "'");
}

namespace {

io::Array load(const std::string& path) {
  try {
    return io::read_npy(path);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  } catch (const std::runtime_error& e) {
    throw CommandFailed(e.what());
  }
}

std::string shape_text(const io::Array& a) {
  std::string s;
  for (std::size_t d : a.shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "a scalar" : s;
}

// Bit patterns of `f` from the array's elements (row-major order of the array).
std::vector<std::uint32_t> element_bits(const io::Array& a, const spec::FormatSpec& f, const std::string& path,
                                        const std::string& what) {
  const std::size_t size = io::dtype_size(a.dtype);
  const bool float_dtype = io::is_floating(a.dtype);
  const bool same_width = static_cast<int>(size * 8) == f.container_bits || (f == spec::tf32 && size == 4);
  std::vector<std::uint32_t> bits(a.numel());
  if (float_dtype && !f.is_integer && !same_width && a.dtype != io::DType::bf16) {
    const std::vector<float> values = io::to_float32(a);
    for (std::size_t i = 0; i < values.size(); ++i) bits[i] = spec::encode(f, static_cast<double>(values[i]));
    return bits;
  }
  if (!same_width || (float_dtype && f.is_integer) || a.dtype == io::DType::c64)
    throw CommandFailed(path + ": " + what + " has dtype " + std::string(io::dtype_name(a.dtype)) + ", which cannot hold " +
                        std::string(f.name) + " values (raw bits of the same width, or float32 values to round)");
  for (std::size_t i = 0; i < bits.size(); ++i) {
    std::uint32_t v = 0;
    std::memcpy(&v, a.data.data() + i * size, size);  // little-endian host
    bits[i] = v & f.container_mask();
  }
  return bits;
}

}  // namespace

sim::Tile read_matrix(const std::string& path, const spec::FormatSpec& f, int rows, int cols, Major major,
                      const std::string& what) {
  const io::Array a = load(path);
  if (a.shape.size() != 2)
    throw CommandFailed(path + ": " + what + " must be a 2-D array, not " + shape_text(a));
  const int r = static_cast<int>(major == Major::row ? a.shape[0] : a.shape[1]);
  const int c = static_cast<int>(major == Major::row ? a.shape[1] : a.shape[0]);
  if ((rows >= 0 && r != rows) || (cols >= 0 && c != cols)) {
    const auto dim = [](int v) { return v < 0 ? std::string("any") : std::to_string(v); };
    const std::string want = major == Major::row ? dim(rows) + " x " + dim(cols) : dim(cols) + " x " + dim(rows);
    throw CommandFailed(path + ": " + what + " must be " + want + (major == Major::col ? " (column-major: stored transposed)" : "") +
                        ", not " + shape_text(a));
  }
  const std::vector<std::uint32_t> bits = element_bits(a, f, path, what);
  sim::Tile t(r, c);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < c; ++j)
      t.at(i, j) = major == Major::row ? bits[static_cast<std::size_t>(i) * static_cast<std::size_t>(c) + static_cast<std::size_t>(j)]
                                       : bits[static_cast<std::size_t>(j) * static_cast<std::size_t>(r) + static_cast<std::size_t>(i)];
  return t;
}

namespace {

// A 1:2 (tf32) dense A: one non-zero per pair, nibble 0100 (element 0) or 1110 (element 1).
void compress_one_of_two(const sim::Tile& dense, sim::GemmOperands& ops, const std::string& path) {
  ops.a = sim::Tile(dense.rows, dense.cols / 2);
  ops.metadata.assign(static_cast<std::size_t>(dense.rows) * static_cast<std::size_t>(dense.cols / 2), 0);
  const auto nonzero = [](std::uint32_t v) { return (v & spec::tf32.container_mask() & 0x7fffffffu) != 0; };
  for (int i = 0; i < dense.rows; ++i)
    for (int g = 0; g < dense.cols / 2; ++g) {
      const bool n0 = nonzero(dense.at(i, 2 * g)), n1 = nonzero(dense.at(i, 2 * g + 1));
      if (n0 && n1)
        throw CommandFailed(path + ": A is not 1:2 (tf32 mma.sp keeps 1 of every 2): row " + std::to_string(i) +
                            ", columns " + std::to_string(2 * g) + ".." + std::to_string(2 * g + 1) + " are both non-zero");
      ops.a.at(i, g) = n1 ? dense.at(i, 2 * g + 1) : dense.at(i, 2 * g);
      ops.metadata[static_cast<std::size_t>(i) * static_cast<std::size_t>(dense.cols / 2) + static_cast<std::size_t>(g)] =
          n1 ? 0xe : 0x4;
    }
}

sparse::ElementType layout_type(const spec::Instruction& instr) {
  const spec::FormatSpec& f = *instr.a;
  if (f == spec::fp16) return sparse::ElementType::f16;
  if (f == spec::bf16) return sparse::ElementType::bf16;
  if (f == spec::tf32) return sparse::ElementType::tf32;
  if (f.container_bits == 8) return sparse::ElementType::s8;  // s8/u8/e4m3/e5m2: the same bytes and metadata
  throw UsageError(std::string(instr.name) + ": the library's compressed layouts do not hold " + std::string(f.name) +
                   " (use --layout dense or nibbles)");
}

}  // namespace

void read_a(const spec::Instruction& instr, const AInput& in, int k, sim::GemmOperands& ops) {
  if (!instr.is_sparse()) {
    if (in.layout != "dense") throw UsageError(std::string(instr.name) + " is dense: A takes --layout dense");
    ops.a = read_matrix(in.values, *instr.a, -1, k, Major::row, "A (M x K, K = the rows of B)");
    return;
  }
  if (in.layout == "dense") {
    if (!in.metadata.empty()) throw UsageError("--meta is for compressed layouts; --layout dense takes A as M x K");
    const sim::Tile dense = read_matrix(in.values, *instr.a, -1, k, Major::row, "A (dense M x K, K = the rows of B)");
    if (instr.sparsity == spec::Sparsity::one_of_two) {
      compress_one_of_two(dense, ops, in.values);
      return;
    }
    if (instr.sparsity != spec::Sparsity::two_of_four)
      throw UsageError(std::string(instr.name) + ": dense A is read for 2:4 and 1:2 rows; give 4-bit rows with --layout nibbles");
    try {
      sim::CompressedA c = sim::compress_a(instr, dense);
      ops.a = std::move(c.values);
      ops.metadata = std::move(c.metadata);
    } catch (const std::invalid_argument& e) {
      throw CommandFailed(in.values + ": A: " + e.what());
    }
    return;
  }
  if (in.metadata.empty()) throw UsageError("--layout " + in.layout + " needs the metadata file (--meta)");
  const int stored = k / instr.chunk_width() * instr.stored_per_chunk(), chunks = k / instr.chunk_width();
  ops.a = read_matrix(in.values, *instr.a, -1, stored, Major::row, "A values (M x stored K, K = the rows of B)");
  const int m = ops.a.rows;
  if (in.layout == "nibbles") {
    const sim::Tile e = read_matrix(in.metadata, spec::u8, m, chunks, Major::row, "metadata (M x K/chunk nibbles, uint8)");
    for (int i = 0; i < e.rows; ++i)
      for (int j = 0; j < e.cols; ++j)
        if (e.at(i, j) > 0xfu)
          throw CommandFailed(in.metadata + ": metadata row " + std::to_string(i) + ", chunk " + std::to_string(j) + " is " +
                              std::to_string(e.at(i, j)) + ", not a nibble (0..15)");
    ops.metadata.assign(e.bits.begin(), e.bits.end());
    return;
  }
  if (in.layout != "rowmajor" && in.layout != "cutlass")
    throw UsageError("--layout must be dense, nibbles, rowmajor or cutlass, not '" + in.layout + "'");
  sparse::Compressed c;
  c.type = layout_type(instr);
  c.layout = in.layout == "rowmajor" ? sparse::MetaLayout::rowmajor : sparse::MetaLayout::cutlass;
  if (c.type == sparse::ElementType::tf32 && c.layout == sparse::MetaLayout::rowmajor)
    throw UsageError("the rowmajor layout groups tf32 as 2:4, but tf32 mma.sp is 1:2: use --layout cutlass or dense");
  c.rows = static_cast<std::size_t>(m);
  c.cols = static_cast<std::size_t>(k);
  const io::Array meta = load(in.metadata);
  const std::size_t mb = sparse::meta_element_bytes(c.type, c.layout);
  if (io::dtype_size(meta.dtype) != mb || io::is_floating(meta.dtype))
    throw CommandFailed(in.metadata + ": " + in.layout + " metadata of " + std::string(sparse::to_string(c.type)) + " is " +
                        (mb == 2 ? "int16/uint16" : "int32/uint32") + ", not " + std::string(io::dtype_name(meta.dtype)));
  c.metadata = meta.data;  // storage order: the layout defines where each element lives
  try {
    const std::vector<std::uint8_t> nibbles = sparse::metadata_nibbles(c);
    ops.metadata.assign(nibbles.begin(), nibbles.end());
  } catch (const std::invalid_argument& e) {
    throw CommandFailed(in.metadata + ": " + e.what());
  }
}

}  // namespace twofour::cli
