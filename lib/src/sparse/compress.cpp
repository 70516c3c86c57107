#include "twofour/sparse/compress.hpp"

#include "twofour/sim/spec/format.hpp"
#include "twofour/sim/spec/two_four_group.hpp"
#include "twofour/sparse/mask.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace twofour::sparse {
namespace {

std::uint32_t load(const std::byte* p, std::size_t width) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}
void store(std::byte* p, std::size_t width, std::uint32_t v) {
  for (std::size_t i = 0; i < width; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xffu);
}

bool is_nonzero(ElementType t, std::uint32_t bits) {
  switch (t) {
    case ElementType::f32:
    case ElementType::tf32: return (bits & 0x7fffffffu) != 0;
    case ElementType::f16:
    case ElementType::bf16: return (bits & 0x7fffu) != 0;
    case ElementType::s8: return (bits & 0xffu) != 0;
  }
  return true;
}

float magnitude(ElementType t, std::uint32_t bits) {
  switch (t) {
    case ElementType::f32:
    case ElementType::tf32: return std::fabs(std::bit_cast<float>(bits));
    case ElementType::f16: return static_cast<float>(std::fabs(sim::spec::decode_to_double(sim::spec::fp16, bits)));
    case ElementType::bf16: return static_cast<float>(std::fabs(sim::spec::decode_to_double(sim::spec::bf16, bits)));
    case ElementType::s8: return std::fabs(static_cast<float>(static_cast<std::int8_t>(bits & 0xffu)));
  }
  return 0.0f;
}

bool one_of_two(ElementType t, MetaLayout l) {
  return l == MetaLayout::cutlass && (t == ElementType::f32 || t == ElementType::tf32);
}

void check_shape(ElementType t, MetaLayout l, std::size_t rows, std::size_t cols) {
  const std::string where = std::string(to_string(t)) + " matrix of " + std::to_string(rows) + " x " +
                            std::to_string(cols) + " in the " + std::string(to_string(l)) + " layout";
  if (rows == 0 || cols == 0) throw std::invalid_argument("empty " + where);
  if (l == MetaLayout::rowmajor) {
    if (cols % 4 != 0) throw std::invalid_argument(where + ": K must be a multiple of 4");
    return;
  }
  const std::size_t row_mult = t == ElementType::s8 ? 16 : 32;
  const std::size_t per_elem = meta_element_bytes(t, l) * 2 * static_cast<std::size_t>(group_size(t, l));
  if (rows % row_mult != 0) throw std::invalid_argument(where + ": M must be a multiple of " + std::to_string(row_mult));
  if (cols % (2 * per_elem) != 0)
    throw std::invalid_argument(where + ": K must be a multiple of " + std::to_string(2 * per_elem) +
                                " (an even number of metadata columns)");
}

}  // namespace

std::string_view to_string(ElementType t) {
  switch (t) {
    case ElementType::f32: return "f32";
    case ElementType::tf32: return "tf32";
    case ElementType::f16: return "f16";
    case ElementType::bf16: return "bf16";
    case ElementType::s8: return "s8";
  }
  return "?";
}

std::string_view to_string(MetaLayout l) { return l == MetaLayout::rowmajor ? "rowmajor" : "cutlass"; }

std::size_t element_bytes(ElementType t) {
  switch (t) {
    case ElementType::f32:
    case ElementType::tf32: return 4;
    case ElementType::f16:
    case ElementType::bf16: return 2;
    case ElementType::s8: return 1;
  }
  return 1;
}

int group_size(ElementType t, MetaLayout l) { return one_of_two(t, l) ? 2 : 4; }

std::size_t meta_element_bytes(ElementType t, MetaLayout l) {
  return l == MetaLayout::cutlass && t == ElementType::s8 ? 4 : 2;
}

std::size_t meta_cols(ElementType t, MetaLayout l, std::size_t k) {
  if (l == MetaLayout::rowmajor) return meta_words_per_row(k);
  return k / (2 * meta_element_bytes(t, l) * static_cast<std::size_t>(group_size(t, l)));
}

std::size_t cutlass_meta_index(std::size_t row, std::size_t col, std::size_t rows, std::size_t meta_bytes) {
  // CUTLASS tools/util/include/cutlass/util/host_reorder.h (reorder_meta): interleave rows,
  // swap the off-diagonal of each 2x2 block, store ColumnMajorInterleaved<2>.
  const std::size_t g = meta_bytes == 2 ? 32 : 16;
  const std::size_t interleave = meta_bytes == 2 ? 4 : 2;
  std::size_t dr = row / g * g + (row % 8) * interleave + (row % g) / 8;
  std::size_t dc = col;
  if (dr % 2 == 0 && dc % 2 == 1) {
    ++dr;
    --dc;
  } else if (dr % 2 == 1 && dc % 2 == 0) {
    --dr;
    ++dc;
  }
  return (dc / 2) * 2 * rows + 2 * dr + dc % 2;
}

Compressed compress(std::span<const std::byte> dense, ElementType type, std::size_t rows, std::size_t cols,
                    MetaLayout layout, bool prune_first) {
  check_shape(type, layout, rows, cols);
  const std::size_t eb = element_bytes(type);
  if (dense.size() != rows * cols * eb)
    throw std::invalid_argument("dense buffer has " + std::to_string(dense.size()) + " bytes, " + std::to_string(rows) +
                                " x " + std::to_string(cols) + " " + std::string(to_string(type)) + " needs " +
                                std::to_string(rows * cols * eb));
  const int gs = group_size(type, layout);
  const NMPattern pattern{gs / 2, gs};
  const std::size_t shape_dims[2] = {rows, cols};
  const GroupedShape shape(shape_dims);

  std::vector<std::uint32_t> bits(rows * cols);
  for (std::size_t i = 0; i < bits.size(); ++i) bits[i] = load(dense.data() + i * eb, eb);
  if (prune_first) {
    std::vector<float> mag(bits.size());
    for (std::size_t i = 0; i < bits.size(); ++i) mag[i] = magnitude(type, bits[i]);
    const Mask mask = nm_mask(mag, shape, pattern);
    for (std::size_t i = 0; i < bits.size(); ++i)
      if (!mask[i]) bits[i] = 0;
  }
  std::vector<std::uint8_t> nz(bits.size());
  for (std::size_t i = 0; i < bits.size(); ++i) nz[i] = is_nonzero(type, bits[i]);
  const NMCheck check = check_nm(nz, shape, pattern);
  if (!check.ok)
    throw std::invalid_argument(check.message + " in the " + std::string(to_string(type)) +
                                " matrix; prune it first (magnitude) to compress anyway");

  Compressed c;
  c.type = type;
  c.layout = layout;
  c.rows = rows;
  c.cols = cols;
  c.values.assign(rows * (cols / 2) * eb, std::byte{0});
  const std::size_t mb = meta_element_bytes(type, layout);
  const std::size_t mcols = meta_cols(type, layout, cols);
  const std::size_t nibbles_per_elem = 2 * mb;
  std::vector<std::uint32_t> logical(rows * mcols, 0);
  const std::size_t groups = cols / static_cast<std::size_t>(gs);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::uint32_t* row = bits.data() + r * cols;
    for (std::size_t g = 0; g < groups; ++g) {
      unsigned nib = 0;
      if (gs == 4) {
        const std::uint32_t* e = row + 4 * g;
        unsigned flags = 0;
        for (unsigned i = 0; i < 4; ++i) flags |= static_cast<unsigned>(nz[r * cols + 4 * g + i]) << i;
        const auto pick = sim::spec::select_two_of_four(flags);
        nib = pick.nibble();
        store(c.values.data() + (r * (cols / 2) + 2 * g) * eb, eb, e[pick.idx0]);
        store(c.values.data() + (r * (cols / 2) + 2 * g + 1) * eb, eb, e[pick.idx1]);
      } else {
        const unsigned flags = nz[r * cols + 2 * g] | (static_cast<unsigned>(nz[r * cols + 2 * g + 1]) << 1);
        const auto pick = sim::spec::select_one_of_two(flags);
        nib = pick.nibble();
        store(c.values.data() + (r * (cols / 2) + g) * eb, eb, row[2 * g + pick.idx0 / 2]);
      }
      logical[r * mcols + g / nibbles_per_elem] |= static_cast<std::uint32_t>(nib) << (4 * (g % nibbles_per_elem));
    }
  }
  c.metadata.assign(rows * mcols * mb, std::byte{0});
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < mcols; ++j) {
      const std::size_t at = layout == MetaLayout::rowmajor ? r * mcols + j : cutlass_meta_index(r, j, rows, mb);
      store(c.metadata.data() + at * mb, mb, logical[r * mcols + j]);
    }
  return c;
}

void check_dense_shape(ElementType type, MetaLayout layout, std::size_t rows, std::size_t cols) {
  check_shape(type, layout, rows, cols);
}

std::vector<std::byte> decompress(const Compressed& c) {
  check_shape(c.type, c.layout, c.rows, c.cols);
  const std::size_t eb = element_bytes(c.type);
  const std::size_t mb = meta_element_bytes(c.type, c.layout);
  const std::size_t mcols = meta_cols(c.type, c.layout, c.cols);
  if (c.values.size() != c.rows * (c.cols / 2) * eb)
    throw std::invalid_argument("values hold " + std::to_string(c.values.size()) + " bytes, expected " +
                                std::to_string(c.rows * (c.cols / 2) * eb));
  if (c.metadata.size() != c.rows * mcols * mb)
    throw std::invalid_argument("metadata holds " + std::to_string(c.metadata.size()) + " bytes, expected " +
                                std::to_string(c.rows * mcols * mb));
  const int gs = group_size(c.type, c.layout);
  const std::size_t groups = c.cols / static_cast<std::size_t>(gs);
  const std::size_t nibbles_per_elem = 2 * mb;
  std::vector<std::byte> dense(c.rows * c.cols * eb, std::byte{0});
  for (std::size_t r = 0; r < c.rows; ++r) {
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t j = g / nibbles_per_elem;
      const std::size_t at = c.layout == MetaLayout::rowmajor ? r * mcols + j : cutlass_meta_index(r, j, c.rows, mb);
      const unsigned nib = (load(c.metadata.data() + at * mb, mb) >> (4 * (g % nibbles_per_elem))) & 0xfu;
      const unsigned i0 = nibble_idx0(nib), i1 = nibble_idx1(nib);
      auto bad = [&](const char* why) {
        return std::invalid_argument("metadata nibble 0b" + std::to_string((nib >> 3) & 1) +
                                     std::to_string((nib >> 2) & 1) + std::to_string((nib >> 1) & 1) +
                                     std::to_string(nib & 1) + " of row " + std::to_string(r) + ", group " +
                                     std::to_string(g) + " " + why);
      };
      if (gs == 2) {
        if (nib != 0x4u && nib != 0xeu) throw bad("is not 0b0100 or 0b1110, the only 1:2 (f32/tf32) encodings");
        std::memcpy(dense.data() + (r * c.cols + 2 * g + i0 / 2) * eb, c.values.data() + (r * (c.cols / 2) + g) * eb, eb);
        continue;
      }
      if (i0 == i1) throw bad("has equal indices (undefined on the hardware)");
      if (c.layout == MetaLayout::rowmajor && i0 > i1) throw bad("has descending indices (the rowmajor layout needs idx0 < idx1)");
      std::memcpy(dense.data() + (r * c.cols + 4 * g + i0) * eb, c.values.data() + (r * (c.cols / 2) + 2 * g) * eb, eb);
      std::memcpy(dense.data() + (r * c.cols + 4 * g + i1) * eb, c.values.data() + (r * (c.cols / 2) + 2 * g + 1) * eb, eb);
    }
  }
  return dense;
}

Compressed compress_f32(std::span<const float> dense, std::size_t rows, std::size_t cols, MetaLayout layout,
                        bool prune_first) {
  return compress(std::as_bytes(dense), ElementType::f32, rows, cols, layout, prune_first);
}

std::vector<float> decompress_f32(const Compressed& c) {
  if (element_bytes(c.type) != 4) throw std::invalid_argument("decompress_f32 on a " + std::string(to_string(c.type)) + " matrix");
  const auto bytes = decompress(c);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

}  // namespace twofour::sparse
