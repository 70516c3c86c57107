#include "twofour/sparse/pattern.hpp"

#include <charconv>
#include <stdexcept>

namespace twofour::sparse {

void validate(NMPattern p) {
  if (p.n < 1 || p.m > kMaxGroupSize || p.n >= p.m)
    throw std::invalid_argument("pattern " + to_string(p) + " is not N:M with 1 <= N < M <= 32 (N = kept)");
}

NMPattern parse_pattern(std::string_view text) {
  const auto colon = text.find(':');
  NMPattern p{0, 0};
  auto parse_int = [](std::string_view s, int& out) {
    if (s.empty()) return false;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
  };
  if (colon == std::string_view::npos || !parse_int(text.substr(0, colon), p.n) ||
      !parse_int(text.substr(colon + 1), p.m) || p.n < 1 || p.m > kMaxGroupSize || p.n >= p.m)
    throw std::invalid_argument("pattern '" + std::string(text) +
                                "' is not N:M with 1 <= N < M <= 32 (N = weights kept per group, e.g. 2:4)");
  return p;
}

std::string to_string(NMPattern p) { return std::to_string(p.n) + ":" + std::to_string(p.m); }

std::string shape_string(std::span<const std::size_t> shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) s += ",";
  return s + ")";
}

GroupedShape::GroupedShape(std::span<const std::size_t> shape) : shape_(shape.begin(), shape.end()) {
  if (shape.size() < 2 || shape.size() > 4)
    throw std::invalid_argument("weight of shape " + shape_string(shape) +
                                " is not 2-D (out, in), 3-D Conv1d (K, C, R) or 4-D Conv2d (K, C, R, S)");
  for (std::size_t d : shape)
    if (d == 0) throw std::invalid_argument("weight of shape " + shape_string(shape) + " is empty");
  out_ = shape[0];
  in_ = shape[1];
  for (std::size_t i = 2; i < shape.size(); ++i) spatial_ *= shape[i];
}

std::string GroupedShape::describe(std::size_t row, std::size_t col, std::size_t count) const {
  const std::string cols = std::to_string(col) + ".." + std::to_string(col + count - 1);
  if (shape_.size() == 2) return "row " + std::to_string(row) + ", columns " + cols;
  const std::size_t k = row % out_;
  std::size_t sp = row / out_;
  std::string pos;
  if (shape_.size() == 3) {
    pos = std::to_string(sp);
  } else {
    pos = "(" + std::to_string(sp / shape_[3]) + ", " + std::to_string(sp % shape_[3]) + ")";
  }
  return "output channel " + std::to_string(k) + ", input channels " + cols + ", kernel position " + pos;
}

}  // namespace twofour::sparse
