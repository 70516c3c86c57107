#include "twofour/sparse/mask.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace twofour::sparse {
namespace {

float key(float s) { return std::isnan(s) ? std::numeric_limits<float>::infinity() : s; }

// True when element a ranks before element b: higher score, then the lower position.
bool ranks_before(float sa, std::size_t a, float sb, std::size_t b) {
  const float ka = key(sa), kb = key(sb);
  if (ka != kb) return ka > kb;
  return a < b;
}

void check_sizes(std::size_t got, const GroupedShape& shape, const char* what) {
  if (got != shape.numel())
    throw std::invalid_argument(std::string(what) + " has " + std::to_string(got) + " elements, shape " +
                                shape_string(shape.shape()) + " needs " + std::to_string(shape.numel()));
}

void check_divides(const GroupedShape& shape, NMPattern p, Padding padding) {
  if (padding == Padding::none && shape.in() % static_cast<std::size_t>(p.m) != 0)
    throw std::invalid_argument("input channels (" + std::to_string(shape.in()) + ", dimension 1 of shape " +
                                shape_string(shape.shape()) + ") are not a multiple of M = " + std::to_string(p.m) +
                                " for pattern " + to_string(p) + "; ask for zero padding to prune anyway");
}

std::array<std::array<std::uint8_t, 16>, 90> make_patterns() {
  std::array<std::array<std::uint8_t, 16>, 90> out{};
  std::size_t count = 0;
  // Rows are 4-bit masks with two bits set; enumerate rows in increasing order, keep those whose
  // columns also hold exactly two.
  std::array<unsigned, 6> rows{};
  std::size_t nr = 0;
  for (unsigned r = 0; r < 16; ++r)
    if (__builtin_popcount(r) == 2) rows[nr++] = r;
  for (unsigned a : rows)
    for (unsigned b : rows)
      for (unsigned c : rows)
        for (unsigned d : rows) {
          const unsigned rr[4] = {a, b, c, d};
          bool ok = true;
          for (unsigned col = 0; col < 4 && ok; ++col) {
            int n = 0;
            for (unsigned x : rr) n += (x >> (3 - col)) & 1u;  // bit 3 = column 0
            ok = n == 2;
          }
          if (!ok) continue;
          for (unsigned i = 0; i < 4; ++i)
            for (unsigned col = 0; col < 4; ++col)
              out[count][i * 4 + col] = static_cast<std::uint8_t>((rr[i] >> (3 - col)) & 1u);
          ++count;
        }
  if (count != 90) throw std::logic_error("transposable 2:4 pattern count is not 90");
  return out;
}

std::vector<std::array<std::uint8_t, 16>> make_maximal() {
  auto valid = [](unsigned bits) {
    for (unsigned i = 0; i < 4; ++i) {
      unsigned rn = 0, cn = 0;
      for (unsigned j = 0; j < 4; ++j) {
        rn += (bits >> (4 * i + j)) & 1u;
        cn += (bits >> (4 * j + i)) & 1u;
      }
      if (rn > 2 || cn > 2) return false;
    }
    return true;
  };
  std::vector<std::array<std::uint8_t, 16>> out(transposable_24_patterns().begin(), transposable_24_patterns().end());
  for (unsigned bits = 0; bits < 65536; ++bits) {
    if (!valid(bits) || __builtin_popcount(bits) == 8) continue;  // the 90 are already in
    bool maximal = true;
    for (unsigned i = 0; i < 16 && maximal; ++i)
      if (!((bits >> i) & 1u) && valid(bits | (1u << i))) maximal = false;
    if (!maximal) continue;
    std::array<std::uint8_t, 16> m{};
    for (unsigned i = 0; i < 16; ++i) m[i] = static_cast<std::uint8_t>((bits >> i) & 1u);
    out.push_back(m);
  }
  return out;
}

}  // namespace

const std::vector<std::array<std::uint8_t, 16>>& transposable_24_maximal_masks() {
  static const auto masks = make_maximal();
  return masks;
}

const std::array<std::array<std::uint8_t, 16>, 90>& transposable_24_patterns() {
  static const auto patterns = make_patterns();
  return patterns;
}

Mask nm_mask(std::span<const float> scores, const GroupedShape& shape, NMPattern pattern, Padding padding) {
  validate(pattern);
  check_sizes(scores.size(), shape, "score tensor");
  check_divides(shape, pattern, padding);
  Mask mask(shape.numel(), 0);
  const std::size_t m = static_cast<std::size_t>(pattern.m);
  const std::size_t n = static_cast<std::size_t>(pattern.n);
  std::array<std::size_t, kMaxGroupSize> order{};
  std::array<float, kMaxGroupSize> s{};
  for (std::size_t row = 0; row < shape.rows(); ++row) {
    for (std::size_t c0 = 0; c0 < shape.in(); c0 += m) {
      const std::size_t len = std::min(m, shape.in() - c0);
      for (std::size_t i = 0; i < len; ++i) {
        s[i] = scores[shape.offset(row, c0 + i)];
        order[i] = i;
      }
      // Padded slots rank last, so a partial group keeps min(N, len) real weights.
      const std::size_t keep = std::min(n, len);
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep),
                        order.begin() + static_cast<std::ptrdiff_t>(len),
                        [&](std::size_t a, std::size_t b) { return ranks_before(s[a], a, s[b], b); });
      for (std::size_t i = 0; i < keep; ++i) mask[shape.offset(row, c0 + order[i])] = 1;
    }
  }
  return mask;
}

Mask nm_magnitude_mask(std::span<const float> weights, const GroupedShape& shape, NMPattern pattern, Padding padding) {
  std::vector<float> scores(weights.size());
  std::transform(weights.begin(), weights.end(), scores.begin(), [](float w) { return std::fabs(w); });
  return nm_mask(scores, shape, pattern, padding);
}

Mask transposable_24_mask(std::span<const float> scores, const GroupedShape& shape, TransposableMethod method) {
  check_sizes(scores.size(), shape, "score tensor");
  if (shape.out() % 4 != 0 || shape.in() % 4 != 0)
    throw std::invalid_argument("transposable 2:4 needs output and input channels that are multiples of 4, shape " +
                                shape_string(shape.shape()) + " has " + std::to_string(shape.out()) + " and " +
                                std::to_string(shape.in()));
  const auto& p90 = transposable_24_patterns();
  const std::vector<std::array<std::uint8_t, 16>> patterns =
      method == TransposableMethod::best90 ? std::vector<std::array<std::uint8_t, 16>>(p90.begin(), p90.end())
                                           : transposable_24_maximal_masks();
  Mask mask(shape.numel(), 0);
  std::array<float, 16> b{};
  for (std::size_t r0 = 0; r0 < shape.rows(); r0 += 4) {
    for (std::size_t c0 = 0; c0 < shape.in(); c0 += 4) {
      for (std::size_t i = 0; i < 16; ++i) b[i] = key(scores[shape.offset(r0 + i / 4, c0 + i % 4)]);
      std::array<std::uint8_t, 16> chosen{};
      if (method != TransposableMethod::greedy) {
        // Sum in double so the comparison does not depend on float rounding order.
        double best = -std::numeric_limits<double>::infinity();
        std::size_t best_i = 0;
        for (std::size_t p = 0; p < patterns.size(); ++p) {
          double sum = 0;
          for (std::size_t i = 0; i < 16; ++i)
            if (patterns[p][i]) sum += static_cast<double>(b[i]);
          if (sum > best) {
            best = sum;
            best_i = p;
          }
        }
        chosen = patterns[best_i];
      } else {
        std::array<std::size_t, 16> order{};
        for (std::size_t i = 0; i < 16; ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return b[x] > b[y]; });
        std::array<int, 4> row_n{}, col_n{};
        for (std::size_t i : order) {
          if (row_n[i / 4] < 2 && col_n[i % 4] < 2) {
            chosen[i] = 1;
            ++row_n[i / 4];
            ++col_n[i % 4];
          }
        }
      }
      for (std::size_t i = 0; i < 16; ++i) mask[shape.offset(r0 + i / 4, c0 + i % 4)] = chosen[i];
    }
  }
  return mask;
}

NMCheck check_nm(std::span<const std::uint8_t> nonzero, const GroupedShape& shape, NMPattern pattern, Padding padding) {
  validate(pattern);
  check_sizes(nonzero.size(), shape, "tensor");
  NMCheck result;
  const std::size_t m = static_cast<std::size_t>(pattern.m);
  if (padding == Padding::none && shape.in() % m != 0) {
    result.ok = false;
    result.message = "shape " + shape_string(shape.shape()) + " has " + std::to_string(shape.in()) +
                     " input channels, not a multiple of M = " + std::to_string(m);
    return result;
  }
  // C order of a group's first element: output channel, input-channel group, kernel position.
  for (std::size_t k = 0; k < shape.out(); ++k) {
    for (std::size_t c0 = 0; c0 < shape.in(); c0 += m) {
      for (std::size_t sp = 0; sp < shape.spatial(); ++sp) {
        const std::size_t row = sp * shape.out() + k;
        const std::size_t len = std::min(m, shape.in() - c0);
        std::size_t count = 0;
        for (std::size_t i = 0; i < len; ++i) count += nonzero[shape.offset(row, c0 + i)] != 0;
        ++result.groups;
        if (count > static_cast<std::size_t>(pattern.n)) {
          if (result.ok) {
            result.first_row = row;
            result.first_col = c0;
            result.first_nonzeros = count;
            result.message = "not " + to_string(pattern) + ": group at " + shape.describe(row, c0, len) + " has " +
                             std::to_string(count) + " non-zeros (at most " + std::to_string(pattern.n) + " allowed)";
          }
          result.ok = false;
          ++result.bad_groups;
        }
      }
    }
  }
  return result;
}

NMCheck check_nm(std::span<const float> weights, const GroupedShape& shape, NMPattern pattern, Padding padding) {
  std::vector<std::uint8_t> nz(weights.size());
  std::transform(weights.begin(), weights.end(), nz.begin(), [](float w) { return static_cast<std::uint8_t>(w != 0.0f); });
  return check_nm(nz, shape, pattern, padding);
}

NMCheck check_transposable_24(std::span<const std::uint8_t> nonzero, const GroupedShape& shape) {
  check_sizes(nonzero.size(), shape, "tensor");
  NMCheck result;
  if (shape.out() % 4 != 0 || shape.in() % 4 != 0) {
    result.ok = false;
    result.message = "shape " + shape_string(shape.shape()) + " does not tile into 4x4 blocks";
    return result;
  }
  for (std::size_t r0 = 0; r0 < shape.rows(); r0 += 4) {
    for (std::size_t c0 = 0; c0 < shape.in(); c0 += 4) {
      ++result.groups;
      std::array<std::size_t, 4> rn{}, cn{};
      for (std::size_t i = 0; i < 16; ++i) {
        const bool nz = nonzero[shape.offset(r0 + i / 4, c0 + i % 4)] != 0;
        rn[i / 4] += nz;
        cn[i % 4] += nz;
      }
      const std::size_t worst = std::max(*std::max_element(rn.begin(), rn.end()), *std::max_element(cn.begin(), cn.end()));
      if (worst > 2) {
        if (result.ok) {
          result.first_row = r0;
          result.first_col = c0;
          result.first_nonzeros = worst;
          result.message = "not transposable 2:4: 4x4 block at rows " + std::to_string(r0) + ".." +
                           std::to_string(r0 + 3) + " of the grouped view, input channels " + std::to_string(c0) +
                           ".." + std::to_string(c0 + 3) + " has a row or column with " + std::to_string(worst) +
                           " non-zeros";
        }
        result.ok = false;
        ++result.bad_groups;
      }
    }
  }
  return result;
}

double kept_l1_fraction(std::span<const float> weights, std::span<const std::uint8_t> mask) {
  if (weights.size() != mask.size()) throw std::invalid_argument("kept_l1_fraction: weights and mask differ in size");
  double total = 0, kept = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double a = std::fabs(static_cast<double>(weights[i]));
    total += a;
    if (mask[i]) kept += a;
  }
  return total == 0 ? 1.0 : kept / total;
}

void apply_mask(std::span<float> weights, std::span<const std::uint8_t> mask) {
  if (weights.size() != mask.size()) throw std::invalid_argument("apply_mask: weights and mask differ in size");
  // A select, not a branch: with a 2:4 mask the branch is mispredicted half the time, which made
  // this loop cost as much as a retraining step's GEMMs on small layers.
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = mask[i] != 0 ? weights[i] : 0.0f;
}

}  // namespace twofour::sparse
