// twofour._core.sparse: dense <-> (values, metadata) in the library's compressed layouts.
#include "bindings.hpp"

#include "twofour/sparse/bitmask_layout.hpp"
#include "twofour/sparse/compress.hpp"

#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace twofour::python {
namespace {

using sparse::ElementType;
using sparse::MetaLayout;

constexpr ElementType kTypes[] = {ElementType::f32, ElementType::tf32, ElementType::f16, ElementType::bf16,
                                  ElementType::s8};
constexpr MetaLayout kLayouts[] = {MetaLayout::rowmajor, MetaLayout::cutlass};

template <typename Enum, std::size_t N>
Enum named(const Enum (&all)[N], const std::string& name, const char* what) {
  std::string known;
  for (Enum e : all) {
    if (sparse::to_string(e) == name) return e;
    known += (known.empty() ? "" : ", ") + std::string(sparse::to_string(e));
  }
  throw std::invalid_argument("unknown " + std::string(what) + " '" + name + "' (known: " + known + ")");
}

using Bytes = nb::ndarray<const std::uint8_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using OutBytes = nb::ndarray<nb::numpy, std::uint8_t>;

std::span<const std::byte> as_bytes(const Bytes& b) {
  return {reinterpret_cast<const std::byte*>(b.data()), b.size()};
}

OutBytes to_numpy_bytes(std::vector<std::byte>&& bytes) {
  // std::byte and uint8_t have the same representation; hand the vector over without a copy.
  auto* owner = new std::vector<std::byte>(std::move(bytes));
  nb::capsule free_owner(owner, [](void* p) noexcept { delete static_cast<std::vector<std::byte>*>(p); });
  return OutBytes(reinterpret_cast<std::uint8_t*>(owner->data()), {owner->size()}, free_owner);
}

std::pair<OutBytes, OutBytes> compress(Bytes dense, const std::string& type, std::size_t rows, std::size_t cols,
                                       const std::string& layout, bool prune_first) {
  const ElementType t = named(kTypes, type, "element type");
  const MetaLayout l = named(kLayouts, layout, "layout");
  sparse::Compressed c;
  {
    nb::gil_scoped_release release;
    c = sparse::compress(as_bytes(dense), t, rows, cols, l, prune_first);
  }
  return {to_numpy_bytes(std::move(c.values)), to_numpy_bytes(std::move(c.metadata))};
}

OutBytes decompress(Bytes values, Bytes metadata, const std::string& type, std::size_t rows, std::size_t cols,
                    const std::string& layout) {
  sparse::Compressed c;
  c.type = named(kTypes, type, "element type");
  c.layout = named(kLayouts, layout, "layout");
  c.rows = rows;
  c.cols = cols;
  const auto v = as_bytes(values), m = as_bytes(metadata);
  c.values.assign(v.begin(), v.end());
  c.metadata.assign(m.begin(), m.end());
  std::vector<std::byte> dense;
  {
    nb::gil_scoped_release release;
    dense = sparse::decompress(c);
  }
  return to_numpy_bytes(std::move(dense));
}

std::pair<OutBytes, OutBytes> compress_bitmask(Bytes dense, const std::string& type, std::size_t rows,
                                               std::size_t cols, bool prune_first) {
  const ElementType t = named(kTypes, type, "element type");
  sparse::BitmaskCompressed c;
  {
    nb::gil_scoped_release release;
    c = sparse::compress_bitmask(as_bytes(dense), t, rows, cols, prune_first);
  }
  return {to_numpy_bytes(std::move(c.values)), to_numpy_bytes(std::move(c.bitmask))};
}

OutBytes decompress_bitmask(Bytes values, Bytes bitmask, const std::string& type, std::size_t rows, std::size_t cols) {
  sparse::BitmaskCompressed c;
  c.type = named(kTypes, type, "element type");
  c.rows = rows;
  c.cols = cols;
  const auto v = as_bytes(values), b = as_bytes(bitmask);
  c.values.assign(v.begin(), v.end());
  c.bitmask.assign(b.begin(), b.end());
  std::vector<std::byte> dense;
  {
    nb::gil_scoped_release release;
    dense = sparse::decompress_bitmask(c);
  }
  return to_numpy_bytes(std::move(dense));
}

}  // namespace

void bind_sparse(nb::module_& m) {
  m.def("layouts", [] {
    std::vector<std::string> names;
    for (MetaLayout l : kLayouts) names.emplace_back(sparse::to_string(l));
    return names;
  }, "The compressed layouts the library writes.");
  m.def("meta_element_bytes", [](const std::string& type, const std::string& layout) {
    return sparse::meta_element_bytes(named(kTypes, type, "element type"), named(kLayouts, layout, "layout"));
  }, nb::arg("type"), nb::arg("layout"), "Bytes per metadata element (2, or 4 for s8 in the cutlass layout).");
  m.def("meta_cols", [](const std::string& type, const std::string& layout, std::size_t k) {
    return sparse::meta_cols(named(kTypes, type, "element type"), named(kLayouts, layout, "layout"), k);
  }, nb::arg("type"), nb::arg("layout"), nb::arg("k"), "Metadata elements per row of a K-column matrix.");
  m.def("compress", &compress, nb::arg("dense"), nb::arg("type"), nb::arg("rows"), nb::arg("cols"), nb::arg("layout"),
        nb::arg("prune_first"), "Raw little-endian bytes of a dense matrix -> (value bytes, metadata bytes).");
  m.def("compress_bitmask", &compress_bitmask, nb::arg("dense"), nb::arg("type"), nb::arg("rows"), nb::arg("cols"),
        nb::arg("prune_first"), "sparse-24-bitmask: raw bytes -> (value bytes, bitmask bytes).");
  m.def("decompress_bitmask", &decompress_bitmask, nb::arg("values"), nb::arg("bitmask"), nb::arg("type"),
        nb::arg("rows"), nb::arg("cols"), "sparse-24-bitmask: (value bytes, bitmask bytes) -> dense bytes.");
  m.def("decompress", &decompress, nb::arg("values"), nb::arg("metadata"), nb::arg("type"), nb::arg("rows"),
        nb::arg("cols"), nb::arg("layout"), "(value bytes, metadata bytes) -> the dense matrix's bytes.");
}

}  // namespace twofour::python
