#pragma once
// The extension module twofour._core: one function per submodule adds its bindings. The
// bindings only convert arguments and call the C++ library; the public, documented API (array
// conversion, dtypes, defaults) is the pure-Python package in python/twofour/.
//
// Conventions shared by every binding:
//  - arrays come in as C-contiguous NumPy arrays of the exact dtype the library takes (the
//    Python layer converts); nanobind rejects anything else with a TypeError;
//  - arrays go out as NumPy arrays that own the library's result vector (no copy);
//  - std::invalid_argument (and the library's errors derived from it) become ValueError with the
//    library's message, which is the message the `twofour` tool prints after its file name;
//  - calls that can take long release the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <initializer_list>
#include <utility>
#include <vector>

namespace twofour::python {

namespace nb = nanobind;

// A NumPy array owning `values` (moved to the heap, freed with the array).
template <typename T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values, std::initializer_list<std::size_t> shape) {
  auto* owner = new std::vector<T>(std::move(values));
  nb::capsule free_owner(owner, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(owner->data(), shape, free_owner);
}

template <typename T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values, const std::vector<std::size_t>& shape) {
  auto* owner = new std::vector<T>(std::move(values));
  nb::capsule free_owner(owner, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(owner->data(), shape.size(), shape.data(), free_owner);
}

template <typename Array>
std::vector<std::size_t> shape_of(const Array& a) {
  std::vector<std::size_t> shape(a.ndim());
  for (std::size_t i = 0; i < a.ndim(); ++i) shape[i] = a.shape(i);
  return shape;
}

void bind_formats(nb::module_& m);
void bind_sparse(nb::module_& m);
void bind_prune(nb::module_& m);
void bind_sim(nb::module_& m);
void bind_gemm(nb::module_& m);

}  // namespace twofour::python
