#include "twofour/prune/criterion.hpp"

#include "twofour/prune/finite.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace twofour::prune {
namespace {

std::vector<Criterion>& registry() {
  static std::vector<Criterion> table = {
      {"magnitude", "|w| (Apex ASP m4n2_1d / mn_1d_best): keep the largest weights of each group",
       [](std::span<const float> w, const sparse::GroupedShape&, const CriterionInputs&) {
         std::vector<float> s(w.size());
         std::transform(w.begin(), w.end(), s.begin(), [](float x) { return std::fabs(x); });
         return s;
       }},
  };
  return table;
}

}  // namespace

const std::vector<Criterion>& criteria() { return registry(); }

const Criterion* find_criterion(std::string_view name) {
  for (const auto& c : registry())
    if (c.name == name) return &c;
  return nullptr;
}

void register_criterion(Criterion criterion) {
  auto& table = registry();
  for (auto& c : table)
    if (c.name == criterion.name) {
      c = std::move(criterion);
      return;
    }
  table.push_back(std::move(criterion));
}

std::string criterion_names() {
  std::string s;
  for (const auto& c : registry()) s += (s.empty() ? "" : ", ") + c.name;
  return s;
}

PruneResult prune_nm(std::span<const float> weights, std::span<const std::size_t> shape, const PruneSpec& spec,
                     const CriterionInputs& inputs) {
  const Criterion* criterion = find_criterion(spec.criterion);
  if (criterion == nullptr)
    throw std::invalid_argument("unknown criterion '" + spec.criterion + "' (known: " + criterion_names() + ")");
  sparse::validate(spec.pattern);
  const sparse::GroupedShape grouped(shape);
  if (weights.size() != grouped.numel())
    throw std::invalid_argument("weights have " + std::to_string(weights.size()) + " elements, shape " +
                                sparse::shape_string(shape) + " needs " + std::to_string(grouped.numel()));
  require_finite_weights(weights, shape);  // the NaN/Inf policy: finite.hpp
  const std::vector<float> scores = criterion->score(weights, grouped, inputs);
  PruneResult result;
  if (spec.transposable) {
    if (spec.pattern != sparse::NMPattern{2, 4})
      throw std::invalid_argument("transposable masks are implemented for 2:4 only, not " + sparse::to_string(spec.pattern));
    result.mask = sparse::transposable_24_mask(scores, grouped, spec.method);
  } else {
    result.mask = sparse::nm_mask(scores, grouped, spec.pattern, spec.padding);
  }
  result.pruned.assign(weights.begin(), weights.end());
  sparse::apply_mask(result.pruned, result.mask);
  result.kept_l1 = sparse::kept_l1_fraction(weights, result.mask);
  return result;
}

}  // namespace twofour::prune
