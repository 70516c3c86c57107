// twofour._core.prune: N:M masks from the library's criterion registry, SparseGPT, channel
// permutations and the N:M checker.
#include "bindings.hpp"

#include "twofour/prune/criterion.hpp"
#include "twofour/prune/metrics.hpp"
#include "twofour/prune/permutation.hpp"
#include "twofour/prune/wanda.hpp"
#include "twofour/sparse/mask.hpp"
#include "twofour/sparse/violations.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>

namespace twofour::python {
namespace {

using Floats = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
using Matrix = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

std::span<const float> span_of(const Floats& a) { return {a.data(), a.size()}; }

sparse::TransposableMethod method_named(const std::string& name) {
  if (name == "best") return sparse::TransposableMethod::best;
  if (name == "best90") return sparse::TransposableMethod::best90;
  if (name == "greedy") return sparse::TransposableMethod::greedy;
  throw std::invalid_argument("method must be best, best90 or greedy, not '" + name + "'");
}

prune::Activations activations(const Matrix& x) { return {{x.data(), x.size()}, x.shape(0), x.shape(1)}; }

// Runs any registered criterion through prune::prune_nm, with the inputs its entry declares
// it needs taken from the arguments (the registry checks that the needed ones are there).
std::pair<nb::ndarray<nb::numpy, float>, nb::ndarray<nb::numpy, std::uint8_t>> run_criterion(
    Floats weights, const std::string& criterion, const std::string& pattern, bool transposable,
    const std::string& method, bool pad, std::optional<Matrix> calib, std::optional<Floats> grad, std::uint64_t seed,
    std::size_t block_size, double damping, double seconds) {
  prune::PruneSpec spec;
  spec.criterion = criterion;
  spec.pattern = sparse::parse_pattern(pattern);
  spec.transposable = transposable;
  spec.method = method_named(method);
  spec.padding = pad ? sparse::Padding::zeros : sparse::Padding::none;
  const std::vector<std::size_t> shape = shape_of(weights);
  prune::PruneResult result;
  {
    nb::gil_scoped_release release;
    const sparse::GroupedShape grouped(shape);
    std::vector<float> norms;
    prune::CriterionInputs inputs;
    inputs.seed = seed;
    inputs.block_size = block_size;
    inputs.damping = damping;
    inputs.time_limit_seconds = seconds;
    if (calib) {
      inputs.calibration = activations(*calib);
      prune::validate_activations(inputs.calibration, grouped.in(), "calib");
      norms = prune::activation_norms(inputs.calibration);
      inputs.input_norms = norms;
    }
    if (grad) {
      if (shape_of(*grad) != shape)
        throw std::invalid_argument("grad has shape " + sparse::shape_string(shape_of(*grad)) + ", the weight " +
                                    sparse::shape_string(shape));
      inputs.gradients = span_of(*grad);
    }
    result = prune::prune_nm(span_of(weights), shape, spec, inputs);
  }
  return {to_numpy(std::move(result.pruned), shape), to_numpy(std::move(result.mask), shape)};
}

nb::dict permutation(Floats weights, const std::string& pattern, double seconds, std::size_t escapes,
                     std::size_t stripes_per_group, std::uint64_t seed, const std::string& method, int threads) {
  prune::PermutationOptions options;
  options.method = prune::parse_permutation_method(method);
  options.threads = threads;
  options.pattern = sparse::parse_pattern(pattern);
  options.time_limit_seconds = seconds;
  options.escape_attempts = escapes;
  options.stripes_per_group = stripes_per_group;
  options.seed = seed;
  const std::vector<std::size_t> shape = shape_of(weights);
  prune::PermutationResult r;
  {
    nb::gil_scoped_release release;
    r = prune::search_permutation(span_of(weights), sparse::GroupedShape(shape), options);
  }
  nb::dict d;
  const std::size_t n = r.permutation.size();
  d["permutation"] = to_numpy(std::move(r.permutation), {n});
  d["total_l1"] = r.total_l1;
  d["kept_default"] = r.kept_default;
  d["kept_permuted"] = r.kept_permuted;
  d["kept_bound"] = r.kept_bound;
  d["efficacy"] = r.efficacy;
  d["seconds"] = r.seconds;
  d["timed_out"] = r.timed_out;
  d["method"] = std::string(prune::permutation_method_name(r.method));
  d["improvements"] = r.improvements;
  d["refined_by_stripe_groups"] = r.refined_by_stripe_groups;
  nb::list progress;  // (seconds, efficacy) pairs
  for (const prune::PermutationProgress& p : r.progress) progress.append(nb::make_tuple(p.seconds, p.efficacy));
  d["progress"] = progress;
  return d;
}

nb::dict check(Floats weights, const std::string& pattern, bool pad) {
  const std::vector<std::size_t> shape = shape_of(weights);
  sparse::NMCheck c;
  std::vector<std::int64_t> groups;  // (row, column, non-zeros) of every violating group
  {
    nb::gil_scoped_release release;
    const sparse::GroupedShape grouped(shape);
    const sparse::NMPattern p = sparse::parse_pattern(pattern);
    const sparse::Padding padding = pad ? sparse::Padding::zeros : sparse::Padding::none;
    c = sparse::check_nm(span_of(weights), grouped, p, padding);
    if (padding == sparse::Padding::zeros || grouped.in() % static_cast<std::size_t>(p.m) == 0) {
      for (const sparse::NMViolation& v : sparse::nm_violations(span_of(weights), grouped, p, padding)) {
        groups.push_back(static_cast<std::int64_t>(v.row));
        groups.push_back(static_cast<std::int64_t>(v.col));
        groups.push_back(static_cast<std::int64_t>(v.nonzeros));
      }
    }
  }
  const std::size_t n = groups.size() / 3;
  nb::dict d;
  d["groups_violating"] = to_numpy(std::move(groups), {n, std::size_t{3}});
  d["ok"] = c.ok;
  d["groups"] = c.groups;
  d["bad_groups"] = c.bad_groups;
  d["message"] = c.message;
  if (!c.ok) d["first"] = std::make_tuple(c.first_row, c.first_col, c.first_nonzeros);
  return d;
}

}  // namespace

void bind_prune(nb::module_& m) {
  // The same registry the `twofour` tool walks (twofour/prune/criterion.hpp).
  m.def("criteria", [] {
    nb::list out;
    for (const prune::Criterion& c : prune::criteria()) {
      nb::dict d;
      d["name"] = c.name;
      d["summary"] = c.summary;
      d["needs_calibration"] = c.needs.calibration;
      d["needs_gradients"] = c.needs.gradients;
      d["uses_seed"] = c.needs.seed;
      d["updates_weights"] = c.updates_weights;
      out.append(d);
    }
    return out;
  }, "Every registered criterion, in listing order, with what it needs.");
  m.def("run", &run_criterion, nb::arg("weights"), nb::arg("criterion"), nb::arg("pattern"), nb::arg("transposable"),
        nb::arg("method"), nb::arg("pad"), nb::arg("calib").none(), nb::arg("grad").none(), nb::arg("seed"),
        nb::arg("block_size"), nb::arg("damping"), nb::arg("seconds"),
        "prune::prune_nm on float32 weights -> (pruned weights, uint8 0/1 mask).");
  m.def("permutation", &permutation, nb::arg("weights"), nb::arg("pattern"), nb::arg("seconds"), nb::arg("escapes"),
        nb::arg("stripes_per_group"), nb::arg("seed"), nb::arg("method"), nb::arg("threads"),
        "prune::search_permutation as a dict.");
  m.def("check", &check, nb::arg("weights"), nb::arg("pattern"), nb::arg("pad"), "sparse::check_nm as a dict.");
}

}  // namespace twofour::python
