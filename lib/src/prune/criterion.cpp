#include "twofour/prune/criterion.hpp"

#include "prune/criteria_table.hpp"
#include "twofour/prune/finite.hpp"

#include <algorithm>
#include <stdexcept>

namespace twofour::prune {
namespace {

bool listed_before(const Criterion& a, const Criterion& b) {
  return a.listing_order != b.listing_order ? a.listing_order < b.listing_order : a.name < b.name;
}

void check(const Criterion& c) {
  if (c.name.empty()) throw std::invalid_argument("a criterion needs a name");
  if (static_cast<bool>(c.score) == static_cast<bool>(c.prune))
    throw std::invalid_argument("criterion '" + c.name + "' must define exactly one of score and prune");
}

std::vector<Criterion>& registry() {
  static std::vector<Criterion> table = [] {
    std::vector<Criterion> t;
    for (const Criterion& (*make)() : built_in_criteria()) {
      check(make());
      t.push_back(make());
    }
    std::stable_sort(t.begin(), t.end(), listed_before);
    return t;
  }();
  return table;
}

}  // namespace

Criterion score_criterion(std::string name, std::string summary, int listing_order, CriterionNeeds needs,
                          ScoreFunction score) {
  Criterion c;
  c.name = std::move(name);
  c.summary = std::move(summary);
  c.listing_order = listing_order;
  c.needs = needs;
  c.score = std::move(score);
  return c;
}

Criterion prune_criterion(std::string name, std::string summary, int listing_order, CriterionNeeds needs,
                          bool updates_weights, PruneFunction prune) {
  Criterion c = score_criterion(std::move(name), std::move(summary), listing_order, needs, {});
  c.updates_weights = updates_weights;
  c.prune = std::move(prune);
  return c;
}

const std::vector<Criterion>& criteria() { return registry(); }

const Criterion* find_criterion(std::string_view name) {
  for (const auto& c : registry())
    if (c.name == name) return &c;
  return nullptr;
}

void register_criterion(Criterion criterion) {
  check(criterion);
  auto& table = registry();
  auto same = std::find_if(table.begin(), table.end(), [&](const Criterion& c) { return c.name == criterion.name; });
  if (same != table.end()) table.erase(same);
  table.insert(std::upper_bound(table.begin(), table.end(), criterion, listed_before), std::move(criterion));
}

std::string criterion_names() {
  std::string s;
  for (const auto& c : registry()) s += (s.empty() ? "" : ", ") + c.name;
  return s;
}

PruneResult select_by_scores(std::span<const float> weights, std::span<const float> scores,
                             const sparse::GroupedShape& shape, const PruneSpec& spec) {
  PruneResult result;
  if (spec.transposable) {
    if (spec.pattern != sparse::NMPattern{2, 4})
      throw std::invalid_argument("transposable masks are implemented for 2:4 only, not " + sparse::to_string(spec.pattern));
    result.mask = sparse::transposable_24_mask(scores, shape, spec.method);
  } else {
    result.mask = sparse::nm_mask(scores, shape, spec.pattern, spec.padding);
  }
  result.pruned.assign(weights.begin(), weights.end());
  sparse::apply_mask(result.pruned, result.mask);
  result.kept_l1 = sparse::kept_l1_fraction(weights, result.mask);
  return result;
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
  if (criterion->prune) return criterion->prune(weights, shape, spec, inputs);
  const std::vector<float> scores = criterion->score(weights, grouped, inputs);
  return select_by_scores(weights, scores, grouped, spec);
}

}  // namespace twofour::prune
