#include "twofour/sim/shared_operands.hpp"

#include <cstdio>
#include <string>

namespace twofour::sim {
namespace {


const char* operand_name(Operand w) { return w == Operand::a ? "A" : "B"; }

struct OperandShape {
  const spec::FormatSpec* format;
  int rows, cols;   // of the tile (A: M x stored K, B: K x N)
  int k_extent;     // elements along K per K-major row
};

OperandShape shape_of(const spec::Instruction& in, Operand w) {
  if (w == Operand::a) return {in.a, in.m, in.is_sparse() ? in.stored_k() : in.k, in.is_sparse() ? in.stored_k() : in.k};
  return {in.b, in.k, in.n, in.k};
}

std::string hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The decoded descriptor after the checks that do not depend on the buffer.
spec::MatrixDescriptor checked(const spec::Instruction& in, Operand w, std::uint64_t bits) {
  const std::string where = std::string(in.name) + ": " + operand_name(w) + " descriptor " + hex64(bits);
  const bool from_shared = (w == Operand::a ? in.a_source : in.b_source) == spec::OperandSource::shared_descriptor;
  if (!from_shared) throw DescriptorError(std::string(in.name) + ": " + operand_name(w) + " comes from registers, not a descriptor");
  if ((bits & spec::kDescriptorReservedMask) != 0)
    throw DescriptorError(where + ": reserved bits set (" + hex64(bits & spec::kDescriptorReservedMask) + ")");
  const spec::MatrixDescriptor d = spec::decode_descriptor(bits);
  if (d.base_offset != 0)
    throw DescriptorError(where + ": matrix base offset " + std::to_string(d.base_offset) +
                          " is not modelled (only 0; the swizzle is taken from the address bits)");
  const OperandShape s = shape_of(in, w);
  const int bytes = spec::shared_element_bytes(*s.format);
  if (!spec::k_fits_swizzle_row(d.swizzle, s.k_extent, bytes))
    throw DescriptorError(where + ": K extent of " + std::to_string(s.k_extent * bytes) + " bytes is wider than the " +
                          spec::swizzle_name(d.swizzle) + " swizzle row (not modelled: use a wider swizzle or none)");
  return d;
}

// (row, col) of the tile -> (K-major row, k).
void k_major_index(Operand w, int row, int col, int& mn, int& k) {
  mn = w == Operand::a ? row : col;
  k = w == Operand::a ? col : row;
}

}  // namespace

std::uint32_t shared_element_address(const spec::Instruction& instr, Operand which, std::uint64_t descriptor, int row,
                                     int col) {
  const spec::MatrixDescriptor d = checked(instr, which, descriptor);
  int mn = 0, k = 0;
  k_major_index(which, row, col, mn, k);
  return spec::k_major_address(d, spec::shared_element_bytes(*shape_of(instr, which).format), mn, k);
}

Tile load_shared_operand(const spec::Instruction& instr, Operand which, const SharedOperands& shared) {
  const std::uint64_t bits = which == Operand::a ? shared.a_descriptor : shared.b_descriptor;
  const spec::MatrixDescriptor d = checked(instr, which, bits);
  const OperandShape s = shape_of(instr, which);
  const int bytes = spec::shared_element_bytes(*s.format);
  Tile t(s.rows, s.cols);
  // owner[address] = 1 + tile index of the element whose bytes start there (overlap detection).
  std::vector<int> owner(shared.bytes.size(), 0);
  for (int r = 0; r < s.rows; ++r) {
    for (int c = 0; c < s.cols; ++c) {
      int mn = 0, k = 0;
      k_major_index(which, r, c, mn, k);
      const std::uint32_t address = spec::k_major_address(d, bytes, mn, k);
      const std::string element = std::string(instr.name) + ": " + operand_name(which) + " element (" + std::to_string(r) +
                                  ", " + std::to_string(c) + ") through descriptor " + hex64(bits) + " at shared address " +
                                  std::to_string(address);
      if (static_cast<std::size_t>(address) + static_cast<std::size_t>(bytes) > shared.bytes.size())
        throw DescriptorError(element + ": outside the " + std::to_string(shared.bytes.size()) + "-byte shared memory");
      std::uint32_t value = 0;
      for (int i = 0; i < bytes; ++i) {
        int& o = owner[address + static_cast<std::size_t>(i)];
        if (o != 0) {
          const int other = o - 1;
          throw DescriptorError(element + ": overlaps element (" + std::to_string(other / s.cols) + ", " +
                                std::to_string(other % s.cols) + ")");
        }
        o = 1 + r * s.cols + c;
        value |= static_cast<std::uint32_t>(shared.bytes[address + static_cast<std::size_t>(i)]) << (8 * i);
      }
      t.at(r, c) = value & s.format->container_mask();
    }
  }
  return t;
}

SharedOperands pack_shared(const spec::Instruction& instr, const TileOperands& tiles, spec::Swizzle sw) {
  SharedOperands out;
  std::uint32_t next = 0;
  for (Operand w : {Operand::a, Operand::b}) {
    const bool from_shared = (w == Operand::a ? instr.a_source : instr.b_source) == spec::OperandSource::shared_descriptor;
    if (!from_shared) continue;
    const OperandShape s = shape_of(instr, w);
    const Tile& tile = w == Operand::a ? tiles.a : tiles.b;
    if (tile.rows != s.rows || tile.cols != s.cols)
      throw std::invalid_argument(std::string(instr.name) + ": " + operand_name(w) + " must be " + std::to_string(s.rows) +
                                  "x" + std::to_string(s.cols));
    const int bytes = spec::shared_element_bytes(*s.format);
    const int mn_rows = w == Operand::a ? s.rows : s.cols;
    const spec::MatrixDescriptor d = spec::canonical_k_major(sw, next, s.k_extent, bytes);
    (w == Operand::a ? out.a_descriptor : out.b_descriptor) = spec::encode_descriptor(d);
    (void)checked(instr, w, spec::encode_descriptor(d));
    const std::uint32_t size = static_cast<std::uint32_t>((mn_rows + 7) / 8) * d.sbo;
    out.bytes.resize(next + size, 0);
    for (int r = 0; r < s.rows; ++r) {
      for (int c = 0; c < s.cols; ++c) {
        int mn = 0, k = 0;
        k_major_index(w, r, c, mn, k);
        const std::uint32_t address = spec::k_major_address(d, bytes, mn, k);
        for (int i = 0; i < bytes; ++i)
          out.bytes[address + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(tile.at(r, c) >> (8 * i));
      }
    }
    next = (next + size + 1023u) / 1024u * 1024u;
  }
  return out;
}

}  // namespace twofour::sim
