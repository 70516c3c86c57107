// twofour._core.formats: the simulator's number formats and its one rounding function.
#include "bindings.hpp"

#include "twofour/sim/spec/rounding.hpp"

#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace twofour::python {
namespace {

namespace spec = sim::spec;

constexpr spec::RoundingMode kModes[] = {spec::RoundingMode::nearest_even, spec::RoundingMode::toward_zero,
                                         spec::RoundingMode::toward_negative, spec::RoundingMode::toward_positive,
                                         spec::RoundingMode::nearest_ties_away};

std::string format_names() {
  std::string s;
  for (const spec::FormatSpec* f : spec::all_formats) s += (s.empty() ? "" : ", ") + std::string(f->name);
  return s;
}

const spec::FormatSpec& format_named(const std::string& name) {
  const spec::FormatSpec* f = spec::find_format(name);
  if (f == nullptr) throw std::invalid_argument("unknown format '" + name + "' (known: " + format_names() + ")");
  return *f;
}

spec::RoundingMode mode_named(const std::string& name) {
  for (spec::RoundingMode m : kModes)
    if (spec::rounding_mode_name(m) == name) return m;
  throw std::invalid_argument("unknown rounding mode '" + name + "' (rn rz rm rp rna)");
}

using Values = nb::ndarray<const double, nb::c_contig, nb::device::cpu>;
using Bits = nb::ndarray<const std::uint32_t, nb::c_contig, nb::device::cpu>;

nb::ndarray<nb::numpy, std::uint32_t> encode(Values values, const std::string& format, const std::string& rounding,
                                             bool satfinite) {
  const spec::FormatSpec& f = format_named(format);
  const spec::RoundingMode mode = mode_named(rounding);
  std::vector<std::uint32_t> out(values.size());
  {
    nb::gil_scoped_release release;
    const double* in = values.data();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = spec::encode(f, in[i], mode, satfinite);
  }
  return to_numpy(std::move(out), shape_of(values));
}

nb::ndarray<nb::numpy, double> decode(Bits bits, const std::string& format) {
  const spec::FormatSpec& f = format_named(format);
  std::vector<double> out(bits.size());
  {
    nb::gil_scoped_release release;
    const std::uint32_t* in = bits.data();
    for (std::size_t i = 0; i < out.size(); ++i) {
      if ((in[i] & ~f.container_mask()) != 0)
        throw std::invalid_argument("element " + std::to_string(i) + ": " + std::to_string(in[i]) + " is not a " +
                                    std::string(f.name) + " bit pattern (" + std::to_string(f.container_bits) + " bits)");
      out[i] = spec::decode_to_double(f, in[i]);
    }
  }
  return to_numpy(std::move(out), shape_of(bits));
}

nb::dict describe(const spec::FormatSpec& f) {
  nb::dict d;
  d["name"] = std::string(f.name);
  d["bits"] = f.bits;
  d["container_bits"] = f.container_bits;
  d["ignored_low_bits"] = f.ignored_low_bits;
  d["exponent_bits"] = f.exponent_bits;
  d["mantissa_bits"] = f.mantissa_bits;
  d["bias"] = f.bias;
  d["has_infinity"] = f.has_infinity;
  d["is_signed"] = f.is_signed;
  d["is_integer"] = f.is_integer;
  d["canonical_nan"] = f.canonical_nan;
  return d;
}

}  // namespace

void bind_formats(nb::module_& m) {
  m.def("names", [] {
    std::vector<std::string> names;
    for (const spec::FormatSpec* f : spec::all_formats) names.emplace_back(f->name);
    return names;
  }, "The format names, in the simulator's order.");
  m.def("rounding_modes", [] {
    std::vector<std::string> names;
    for (spec::RoundingMode mode : kModes) names.emplace_back(spec::rounding_mode_name(mode));
    return names;
  }, "The PTX rounding modifiers the simulator implements (rn, rz, rm, rp, rna).");
  m.def("describe", [](const std::string& name) { return describe(format_named(name)); }, nb::arg("format"),
        "The parameters of a format as a dict.");
  m.def("encode", &encode, nb::arg("values"), nb::arg("format"), nb::arg("rounding"), nb::arg("satfinite"),
        "float64 values -> uint32 bit patterns of `format` (PTX cvt semantics).");
  m.def("decode", &decode, nb::arg("bits"), nb::arg("format"), "uint32 bit patterns -> exact float64 values.");
}

}  // namespace twofour::python
