// twofour._core.gemm: the CPU 2:4 GEMM C = A B with A in the row-major compressed layout.
#include "bindings.hpp"

#include "twofour/gemm/sparse_gemm.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace twofour::python {
namespace {

template <typename T>
using Matrix = nb::ndarray<const T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using Meta = Matrix<std::uint16_t>;

template <typename T>
sparse::RowMajor24View<T> view_of(const Matrix<T>& values, const Meta& meta, std::size_t k) {
  const std::size_t rows = values.shape(0);
  if (k % 4 != 0) throw std::invalid_argument("K = " + std::to_string(k) + " is not a multiple of 4");
  if (values.shape(1) != sparse::compressed_cols(k))
    throw std::invalid_argument("values must be M x K/2 = " + std::to_string(rows) + "x" + std::to_string(k / 2) +
                                " for B with K = " + std::to_string(k) + " rows, got " + std::to_string(rows) + "x" +
                                std::to_string(values.shape(1)));
  if (meta.shape(0) != rows || meta.shape(1) != sparse::meta_words_per_row(k))
    throw std::invalid_argument("meta must be M x " + std::to_string(sparse::meta_words_per_row(k)) +
                                " uint16 words (rowmajor layout), got " + std::to_string(meta.shape(0)) + "x" +
                                std::to_string(meta.shape(1)));
  return {values.data(), meta.data(), rows, k};
}

gemm::GemmOptions options_of(int threads, const std::string& isa) {
  if (threads < 0) throw std::invalid_argument("threads must be >= 0 (0: OpenMP's default)");
  gemm::GemmOptions o;
  o.threads = threads;
  o.isa = gemm::parse_isa(isa);
  return o;
}

template <typename A, typename B, typename... Type>
nb::ndarray<nb::numpy, float> run(const Matrix<A>& values, const Meta& meta, const Matrix<B>& b, int threads,
                                  const std::string& isa, Type... type) {
  const std::size_t k = b.shape(0), n = b.shape(1);
  const auto view = view_of(values, meta, k);
  const auto options = options_of(threads, isa);
  std::vector<float> c(view.rows * n, 0.0f);
  {
    nb::gil_scoped_release release;
    gemm::gemm(view, type..., b.data(), n, c.data(), n, n, options);
  }
  return to_numpy(std::move(c), {view.rows, n});
}

gemm::HalfType half_named(const std::string& name) {
  if (name == "fp16") return gemm::HalfType::fp16;
  if (name == "bf16") return gemm::HalfType::bf16;
  throw std::invalid_argument("16-bit type must be fp16 or bf16, not '" + name + "'");
}

}  // namespace

void bind_gemm(nb::module_& m) {
  m.def("spmm_f32", [](Matrix<float> values, Meta meta, Matrix<float> b, int threads, const std::string& isa) {
    return run(values, meta, b, threads, isa);
  }, nb::arg("values"), nb::arg("meta"), nb::arg("b"), nb::arg("threads"), nb::arg("isa"), "fp32 A and B.");
  m.def("spmm_half", [](Matrix<std::uint16_t> values, Meta meta, Matrix<std::uint16_t> b, const std::string& type,
                        int threads, const std::string& isa) {
    return run(values, meta, b, threads, isa, half_named(type));
  }, nb::arg("values"), nb::arg("meta"), nb::arg("b"), nb::arg("type"), nb::arg("threads"), nb::arg("isa"),
     "fp16/bf16 A and B (bit patterns), fp32 C.");
  m.def("spmm_half_f32", [](Matrix<std::uint16_t> values, Meta meta, Matrix<float> b, const std::string& type,
                            int threads, const std::string& isa) {
    return run(values, meta, b, threads, isa, half_named(type));
  }, nb::arg("values"), nb::arg("meta"), nb::arg("b"), nb::arg("type"), nb::arg("threads"), nb::arg("isa"),
     "fp16/bf16 A (bit patterns), fp32 B and C.");
  m.def("round_to_half", [](nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu> x,
                            const std::string& type, const std::string& isa) {
    const gemm::HalfType t = half_named(type);
    const gemm::Isa i = gemm::parse_isa(isa);
    std::vector<std::uint16_t> out(x.shape(0));
    {
      nb::gil_scoped_release release;
      gemm::round_to_half(x.data(), out.data(), out.size(), t, i);
    }
    const std::size_t n = out.size();
    return to_numpy(std::move(out), {n});
  }, nb::arg("x"), nb::arg("type"), nb::arg("isa"),
     "float32 (1-D) -> fp16/bf16 bit patterns, round to nearest even (twofour::gemm::round_to_half).");
  m.def("isas", [] {
    std::vector<std::string> names;
    for (gemm::Isa i : gemm::supported_isas()) names.emplace_back(gemm::isa_name(i));
    return names;
  }, "The instruction sets this CPU can run, scalar first.");
}

}  // namespace twofour::python
