#include "twofour/sim/warp.hpp"

#include "twofour/sim/spec/layout.hpp"
#include "twofour/sim/spec/metadata.hpp"

#include <cstdio>
#include <string>
#include <utility>

namespace twofour::sim {
namespace {

using RegisterField = std::vector<std::uint32_t> LaneRegisters::*;

std::size_t at(int i) { return static_cast<std::size_t>(i); }

// Registers -> tile through `coord` (lane, register, element) -> (row, col).
template <typename CoordFn>
void scatter(int regs, const spec::FormatSpec& f, const WarpRegisters& lanes, RegisterField field, Tile& tile,
             CoordFn coord) {
  const int per = 32 / f.container_bits;
  const std::uint32_t mask = f.container_mask();
  for (int lane = 0; lane < static_cast<int>(lanes.size()); ++lane) {
    for (int r = 0; r < regs; ++r) {
      const std::uint32_t word = (lanes[at(lane)].*field)[at(r)];
      for (int e = 0; e < per; ++e) {
        const spec::Coord c = coord(lane, r, e);
        tile.at(c.row, c.col) = (word >> (e * f.container_bits)) & mask;
      }
    }
  }
}

// Tile -> registers through `coord`.
template <typename CoordFn>
void gather(int regs, const spec::FormatSpec& f, const Tile& tile, WarpRegisters& lanes, RegisterField field,
            CoordFn coord) {
  const int per = 32 / f.container_bits;
  const std::uint32_t mask = f.container_mask();
  for (int lane = 0; lane < static_cast<int>(lanes.size()); ++lane) {
    for (int r = 0; r < regs; ++r) {
      std::uint32_t word = 0;
      for (int e = 0; e < per; ++e) {
        const spec::Coord c = coord(lane, r, e);
        word |= (tile.at(c.row, c.col) & mask) << (e * f.container_bits);
      }
      (lanes[at(lane)].*field)[at(r)] = word;
    }
  }
}

void expect_shape(const spec::Instruction& instr, const Tile& t, int rows, int cols, const char* what) {
  if (t.rows != rows || t.cols != cols || t.bits.size() != at(rows) * at(cols)) {
    throw std::invalid_argument(std::string(instr.name) + ": " + what + " must be " + std::to_string(rows) + "x" +
                                std::to_string(cols) + ", got " + std::to_string(t.rows) + "x" + std::to_string(t.cols));
  }
}

// Throws unless `regs` has the row's thread count and every thread at least its register counts.
void expect_registers(const spec::Instruction& instr, const WarpRegisters& regs) {
  if (regs.size() != at(instr.threads))
    throw std::invalid_argument(std::string(instr.name) + ": registers for " + std::to_string(regs.size()) +
                                " threads, the instruction has " + std::to_string(instr.threads));
  for (std::size_t t = 0; t < regs.size(); ++t) {
    const LaneRegisters& l = regs[t];
    if (l.a.size() < at(instr.a_registers()) || l.b.size() < at(instr.b_registers()) ||
        l.c.size() < at(instr.c_registers()))
      throw std::invalid_argument(std::string(instr.name) + ": thread " + std::to_string(t) + " holds " +
                                  std::to_string(l.a.size()) + "/" + std::to_string(l.b.size()) + "/" +
                                  std::to_string(l.c.size()) + " A/B/C registers, the instruction needs " +
                                  std::to_string(instr.a_registers()) + "/" + std::to_string(instr.b_registers()) +
                                  "/" + std::to_string(instr.c_registers()));
  }
}

}  // namespace

WarpRegisters make_registers(const spec::Instruction& instr) {
  LaneRegisters lane;
  lane.a.assign(at(instr.a_registers()), 0u);
  lane.b.assign(at(instr.b_registers()), 0u);
  lane.c.assign(at(instr.c_registers()), 0u);
  return WarpRegisters(at(instr.threads), lane);
}

WarpOutput make_output(const spec::Instruction& instr) {
  return WarpOutput(at(instr.threads), std::vector<std::uint32_t>(at(instr.d_registers()), 0u));
}

void check_selector(const spec::Instruction& instr, int selector) {
  const int count = instr.is_sparse() ? instr.selector_count() : 1;
  if (selector < 0 || selector >= count) {
    throw MetadataError(std::string(instr.name) + ": sparsity selector " + std::to_string(selector) +
                        " is undefined behaviour (legal: " +
                        (count == 1 ? std::string("0 only") : "0.." + std::to_string(count - 1)) + ")");
  }
}

WarpRegisters pack_registers(const spec::Instruction& instr, const TileOperands& tiles, int selector) {
  check_selector(instr, selector);
  expect_shape(instr, tiles.a, instr.m, instr.is_sparse() ? instr.stored_k() : instr.k, "A");
  expect_shape(instr, tiles.b, instr.k, instr.n, "B");
  expect_shape(instr, tiles.c, instr.m, instr.n, "C");
  WarpRegisters lanes = make_registers(instr);
  gather(instr.a_registers(), *instr.a, tiles.a, lanes, &LaneRegisters::a,
         [&](int l, int r, int e) { return spec::a_coord(instr, l, r, e); });
  gather(instr.b_registers(), *instr.b, tiles.b, lanes, &LaneRegisters::b,
         [&](int l, int r, int e) { return spec::b_coord(instr, l, r, e); });
  gather(instr.c_registers(), *instr.c, tiles.c, lanes, &LaneRegisters::c,
         [&](int l, int r, int e) { return spec::c_coord(instr, l, r, e); });
  if (instr.is_sparse()) {
    const int chunks = instr.chunks_per_row();
    if (tiles.metadata.size() != at(instr.m) * at(chunks))
      throw std::invalid_argument(std::string(instr.name) + ": metadata must hold rows x chunks nibbles");
    for (int q = 0; q < instr.quads(); ++q) {
      for (int u = 0; u < instr.metadata.lanes_per_quad; ++u) {
        std::uint32_t word = 0;
        for (int j = 0; j < spec::metadata_nibbles_used(instr); ++j) {
          const spec::MetaCoord mc = spec::metadata_coord(instr, q, u, j);
          word |= (tiles.metadata[at(mc.row * chunks + mc.chunk)] & 0xfu) << (4 * j);
        }
        lanes[at(spec::metadata_thread(instr, q, selector, u))].e = word;
      }
    }
  }
  return lanes;
}

TileOperands unpack_operands(const spec::Instruction& instr, const WarpRegisters& regs, int selector,
                             bool* unconfirmed, std::vector<std::string>* notes, const SharedOperands* shared) {
  check_selector(instr, selector);
  expect_registers(instr, regs);
  TileOperands tiles;
  tiles.a = Tile(instr.m, instr.is_sparse() ? instr.stored_k() : instr.k);
  tiles.b = Tile(instr.k, instr.n);
  tiles.c = Tile(instr.m, instr.n);
  scatter(instr.a_registers(), *instr.a, regs, &LaneRegisters::a, tiles.a,
          [&](int l, int r, int e) { return spec::a_coord(instr, l, r, e); });
  scatter(instr.b_registers(), *instr.b, regs, &LaneRegisters::b, tiles.b,
          [&](int l, int r, int e) { return spec::b_coord(instr, l, r, e); });
  scatter(instr.c_registers(), *instr.c, regs, &LaneRegisters::c, tiles.c,
          [&](int l, int r, int e) { return spec::c_coord(instr, l, r, e); });
  const bool a_shared = instr.a_source == spec::OperandSource::shared_descriptor;
  const bool b_shared = instr.b_source == spec::OperandSource::shared_descriptor;
  if ((a_shared || b_shared) && shared == nullptr)
    throw DescriptorError(std::string(instr.name) + ": " + (a_shared ? "A and B come" : "B comes") +
                          " from shared memory through descriptors; none given");
  if (a_shared) tiles.a = load_shared_operand(instr, Operand::a, *shared);
  if (b_shared) tiles.b = load_shared_operand(instr, Operand::b, *shared);
  if (!instr.is_sparse()) return tiles;
  // Metadata from the lanes the selector names; UB is reported with lane, register and nibble.
  const int chunks = instr.chunks_per_row();
  tiles.metadata.assign(at(instr.m) * at(chunks), 0);
  for (int q = 0; q < instr.quads(); ++q) {
    for (int u = 0; u < instr.metadata.lanes_per_quad; ++u) {
      const int lane = spec::metadata_thread(instr, q, selector, u);
      const std::uint32_t e = regs[at(lane)].e;
      for (int j = 0; j < spec::metadata_nibbles_used(instr); ++j) {
        const unsigned nibble = (e >> (4 * j)) & 0xfu;
        const spec::DecodedNibble d = spec::decode_nibble(instr, nibble);
        const spec::MetaCoord mc = spec::metadata_coord(instr, q, u, j);
        if (spec::is_undefined(d.status) || d.status == spec::NibbleStatus::descending_unconfirmed) {
          char value[8];
          std::snprintf(value, sizeof value, "0x%x", nibble);
          const std::string where = "lane " + std::to_string(lane) + ", register e, nibble " + std::to_string(j) +
                                    " (bits " + std::to_string(4 * j + 3) + ":" + std::to_string(4 * j) + ") = " +
                                    value + ", A row " + std::to_string(mc.row) + " chunk " + std::to_string(mc.chunk);
          if (spec::is_undefined(d.status)) {
            throw MetadataError(std::string(instr.name) + " selector " + std::to_string(selector) + ": " + where +
                                ": " + std::string(spec::nibble_status_text(d.status)));
          }
          if (unconfirmed != nullptr) *unconfirmed = true;
          if (notes != nullptr) notes->push_back(where + ": " + std::string(spec::nibble_status_text(d.status)));
        }
        tiles.metadata[at(mc.row * chunks + mc.chunk)] = static_cast<std::uint8_t>(nibble);
      }
    }
  }
  return tiles;
}

Tile unpack_d(const spec::Instruction& instr, const WarpOutput& d) {
  if (d.size() != at(instr.threads))
    throw std::invalid_argument(std::string(instr.name) + ": D registers for " + std::to_string(d.size()) +
                                " threads, the instruction has " + std::to_string(instr.threads));
  WarpRegisters lanes(d.size());
  for (std::size_t lane = 0; lane < d.size(); ++lane) {
    if (d[lane].size() < at(instr.d_registers()))
      throw std::invalid_argument(std::string(instr.name) + ": thread " + std::to_string(lane) + " holds " +
                                  std::to_string(d[lane].size()) + " D registers, the instruction has " +
                                  std::to_string(instr.d_registers()));
    lanes[lane].c = d[lane];
  }
  Tile tile(instr.m, instr.n);
  scatter(instr.d_registers(), *instr.d, lanes, &LaneRegisters::c, tile,
          [&](int l, int r, int e) { return spec::c_coord(instr, l, r, e); });
  return tile;
}

WarpOutput pack_d(const spec::Instruction& instr, const Tile& d) {
  expect_shape(instr, d, instr.m, instr.n, "D");
  WarpRegisters lanes = make_registers(instr);
  gather(instr.d_registers(), *instr.d, d, lanes, &LaneRegisters::c,
         [&](int l, int r, int e) { return spec::c_coord(instr, l, r, e); });
  WarpOutput out(lanes.size());
  for (std::size_t lane = 0; lane < lanes.size(); ++lane) out[lane] = std::move(lanes[lane].c);
  return out;
}

WarpResult run_warp(const spec::Instruction& instr, spec::Arch arch, const WarpRegisters& regs, int selector,
                    const ExecutionOptions& options, const SharedOperands* shared) {
  WarpResult result;
  const TileOperands tiles = unpack_operands(instr, regs, selector, &result.unconfirmed, &result.notes, shared);
  const TileResult tile = run_tile(instr, arch, tiles, options);
  result.d = pack_d(instr, tile.d);
  return result;
}

}  // namespace twofour::sim
