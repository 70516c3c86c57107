#include "common/picture_data.hpp"

#include "twofour/sim/spec/layout.hpp"
#include "twofour/sparse/compress.hpp"
#include "twofour/sparse/mask.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace twofour::experiments {

using json = nlohmann::json;
namespace spec = sim::spec;

json figure1_data(std::span<const float> dense, std::size_t rows, std::size_t cols) {
  if (dense.size() != rows * cols || rows == 0 || cols == 0 || cols % 4 != 0 || rows > 64 || cols > 64)
    throw std::invalid_argument("Figure 1 needs a small 2-D matrix: columns a multiple of 4 (2:4 groups run along a "
                                "row), at most 64 x 64; this one is " + std::to_string(rows) + " x " + std::to_string(cols));
  const std::size_t dims[2] = {rows, cols};
  const sparse::Mask mask = sparse::nm_magnitude_mask(dense, sparse::GroupedShape(dims), {2, 4});
  std::vector<float> pruned(dense.begin(), dense.end());
  sparse::apply_mask(pruned, mask);
  bool already = true;
  for (std::size_t i = 0; i < dense.size(); ++i) already = already && (mask[i] != 0 || dense[i] == 0.0f);
  const sparse::Compressed c = sparse::compress_f32(pruned, rows, cols, sparse::MetaLayout::rowmajor);
  std::vector<float> values(rows * cols / 2);
  std::memcpy(values.data(), c.values.data(), c.values.size());
  const std::size_t words = sparse::meta_words_per_row(cols);
  json d = {{"rows", rows}, {"cols", cols}, {"already_24", already}};
  json jd = json::array(), jm = json::array(), jv = json::array(), ji = json::array();
  for (std::size_t r = 0; r < rows; ++r) {
    json dr = json::array(), mr = json::array(), vr = json::array(), ir = json::array();
    for (std::size_t k = 0; k < cols; ++k) {
      dr.push_back(dense[r * cols + k]);
      mr.push_back(mask[r * cols + k]);
    }
    std::vector<std::uint16_t> row_words(words);
    for (std::size_t w = 0; w < words; ++w)
      row_words[w] = static_cast<std::uint16_t>(static_cast<unsigned>(c.metadata[2 * (r * words + w)]) |
                                                static_cast<unsigned>(c.metadata[2 * (r * words + w) + 1]) << 8);
    for (std::size_t g = 0; g < cols / 4; ++g) {
      const unsigned nib = sparse::meta_nibble(row_words.data(), g);
      vr.push_back(values[r * cols / 2 + 2 * g]);
      vr.push_back(values[r * cols / 2 + 2 * g + 1]);
      ir.push_back(sparse::nibble_idx0(nib));
      ir.push_back(sparse::nibble_idx1(nib));
    }
    jd.push_back(dr);
    jm.push_back(mr);
    jv.push_back(vr);
    ji.push_back(ir);
  }
  d["dense"] = jd;
  d["mask"] = jm;
  d["values"] = jv;
  d["indices"] = ji;
  return d;
}

namespace {

template <typename CoordFn>
json panel(const std::string& title, int rows, int cols, int regs, int per, const char* reg, CoordFn coord) {
  json cells = json::array();
  for (int lane = 0; lane < 32; ++lane)
    for (int r = 0; r < regs; ++r)
      for (int e = 0; e < per; ++e) {
        const spec::Coord c = coord(lane, r, e);
        cells.push_back({c.row, c.col, lane, std::string(reg) + std::to_string(r) + (per > 1 ? "[" + std::to_string(e) + "]" : "")});
      }
  return {{"title", title}, {"rows", rows}, {"cols", cols}, {"cells", cells}};
}

}  // namespace

json fragment_panels(const spec::Instruction& in) {
  // One warp's picture: a warpgroup row (128 threads, operands in shared memory) would need a
  // picture of its own; its text form (`twofour explain`) shows threads and shared byte addresses.
  if (in.threads != 32)
    throw std::invalid_argument(std::string(in.name) + ": pictures are drawn for warp-level mma / mma.sp rows; for a wgmma "
                                "row use the text form (`twofour explain " + std::string(in.name) + "`)");
  json panels = json::array();
  const int a_cols = in.is_sparse() ? in.stored_k() : in.k;
  panels.push_back(panel(std::string("A") + (in.is_sparse() ? " (compressed: kept values)" : "") + " " +
                             std::to_string(in.m) + "x" + std::to_string(a_cols),
                         in.m, a_cols, in.a_registers(), in.a_elements_per_register(), "a",
                         [&](int l, int r, int e) { return spec::a_coord(in, l, r, e); }));
  panels.push_back(panel("B " + std::to_string(in.k) + "x" + std::to_string(in.n), in.k, in.n, in.b_registers(),
                         in.b_elements_per_register(), "b", [&](int l, int r, int e) { return spec::b_coord(in, l, r, e); }));
  panels.push_back(panel("C and D " + std::to_string(in.m) + "x" + std::to_string(in.n), in.m, in.n, in.c_registers(),
                         in.c_elements_per_register(), "c", [&](int l, int r, int e) { return spec::c_coord(in, l, r, e); }));
  if (in.is_sparse()) {
    // E for selector 0: one cell per (A row, chunk of chunk_width dense columns) holding a nibble.
    json cells = json::array();
    for (int g = 0; g < 8; ++g)
      for (int u = 0; u < in.metadata.lanes_per_quad; ++u) {
        const int lane = 4 * g + spec::metadata_lane_in_quad(in, 0, u);
        for (int j = 0; j < spec::metadata_nibbles_used(in); ++j) {
          const spec::MetaCoord mc = spec::metadata_coord(in, g, u, j);
          cells.push_back({mc.row, mc.chunk, lane, "e n" + std::to_string(j)});
        }
      }
    panels.push_back({{"title", "E (metadata, selector 0): row x chunk of " + std::to_string(in.chunk_width()) +
                                    " columns, nibble n of e"},
                      {"rows", in.m},
                      {"cols", in.chunks_per_row()},
                      {"cells", cells}});
  }
  return {{"name", std::string(in.name)}, {"ptx", std::string(in.ptx)}, {"panels", panels}};
}

}  // namespace twofour::experiments
