// The literal block-FMA oracle; see reference_datapath.hpp. Each numbered step below is the step of
// the published model (docs/datapath.md §Model) it implements.
#include "sim/support/reference_datapath.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace twofour::testing {
namespace {

using sim::spec::DatapathSpec;
using sim::spec::FormatSpec;

// Unsigned fixed-size wide integer; values in the oracle are Wide * 2^-kScale.
constexpr int kLimbs = 9;
constexpr int kScale = 290;  // below the smallest bit any term can have (2^-266 for bf16 x bf16); top 2^286

struct Wide {
  std::array<std::uint64_t, kLimbs> limb{};

  static Wide pow2(int k) {
    Wide w;
    if (k < 0 || k >= 64 * kLimbs) throw std::logic_error("oracle: 2^k out of range");
    w.limb[static_cast<std::size_t>(k / 64)] = std::uint64_t{1} << (k % 64);
    return w;
  }
  static Wide from(std::uint64_t v) {
    Wide w;
    w.limb[0] = v;
    return w;
  }
  bool zero() const {
    for (auto l : limb) if (l != 0) return false;
    return true;
  }
  int msb() const {  // -1 for zero
    for (int i = kLimbs - 1; i >= 0; --i) {
      const std::uint64_t l = limb[static_cast<std::size_t>(i)];
      if (l != 0) {
        int b = 63;
        while (((l >> b) & 1u) == 0) --b;
        return 64 * i + b;
      }
    }
    return -1;
  }
  bool bit(int k) const { return k >= 0 && k < 64 * kLimbs && ((limb[static_cast<std::size_t>(k / 64)] >> (k % 64)) & 1u); }
  void set_bit(int k) { limb[static_cast<std::size_t>(k / 64)] |= std::uint64_t{1} << (k % 64); }
  // Multiplies by 2^k (k < 0: floor division by 2^-k); throws if a one bit would leave the top.
  Wide shl(int k) const {
    if (k < 0) return shr(-k);
    if (k >= 64 * kLimbs) {
      if (!zero()) throw std::logic_error("oracle: overflow in shl");
      return {};
    }
    if (msb() + k >= 64 * kLimbs) throw std::logic_error("oracle: overflow in shl");
    Wide r;
    const int q = k / 64, b = k % 64;
    for (int i = kLimbs - 1; i >= q; --i) {
      const std::uint64_t x = limb[static_cast<std::size_t>(i - q)];
      std::uint64_t v = b == 0 ? x : (x << b);
      if (b != 0 && i - q - 1 >= 0) v |= limb[static_cast<std::size_t>(i - q - 1)] >> (64 - b);
      r.limb[static_cast<std::size_t>(i)] = v;
    }
    return r;
  }
  Wide shr(int k) const {
    if (k < 0) return shl(-k);
    Wide r;
    if (k >= 64 * kLimbs) return r;
    const int q = k / 64, b = k % 64;
    for (int i = 0; i + q < kLimbs; ++i) {
      const std::uint64_t x = limb[static_cast<std::size_t>(i + q)];
      std::uint64_t v = b == 0 ? x : (x >> b);
      if (b != 0 && i + q + 1 < kLimbs) v |= limb[static_cast<std::size_t>(i + q + 1)] << (64 - b);
      r.limb[static_cast<std::size_t>(i)] = v;
    }
    return r;
  }
  std::uint64_t low64() const { return limb[0]; }
};

int cmp(const Wide& x, const Wide& y) {
  for (int i = kLimbs - 1; i >= 0; --i) {
    const auto a = x.limb[static_cast<std::size_t>(i)], b = y.limb[static_cast<std::size_t>(i)];
    if (a != b) return a < b ? -1 : 1;
  }
  return 0;
}
Wide add(const Wide& x, const Wide& y) {
  Wide r;
  unsigned carry = 0;
  for (std::size_t i = 0; i < kLimbs; ++i) {
    const std::uint64_t s = x.limb[i] + y.limb[i];
    const unsigned c1 = s < x.limb[i];
    r.limb[i] = s + carry;
    const unsigned c2 = r.limb[i] < s;
    carry = c1 | c2;
  }
  if (carry) throw std::logic_error("oracle: overflow in add");
  return r;
}
Wide sub(const Wide& x, const Wide& y) {  // x >= y
  Wide r;
  unsigned borrow = 0;
  for (std::size_t i = 0; i < kLimbs; ++i) {
    const std::uint64_t d = x.limb[i] - y.limb[i];
    const unsigned b1 = x.limb[i] < y.limb[i];
    r.limb[i] = d - borrow;
    const unsigned b2 = d < borrow;
    borrow = b1 | b2;
  }
  return r;
}

// An exact finite value: (-1)^neg * mag * 2^-kScale.
struct Exact {
  bool neg = false;
  Wide mag;
};

enum class Kind { zero, finite, inf, nan };

struct Value {
  Kind kind;
  bool neg;
  Exact x;                 // finite (and zero) values, as a wide fixed-point number
  std::uint64_t sig = 0;   // the same value = sig * 2^lsb
  int lsb = 0;
};

// Decodes a pattern from the format's definition: sign, exponent field, fraction field; IEEE
// specials, or OCP E4M3 (only S.1111.111 is NaN, no infinity).
Value oracle_decode(const FormatSpec& f, std::uint32_t bits) {
  const int lo = f.ignored_low_bits;
  const int m = f.mantissa_bits, e = f.exponent_bits;
  const bool neg = (bits >> (f.container_bits - 1)) & 1u;
  const std::uint32_t frac = (bits >> lo) & ((1u << m) - 1u);
  const std::uint32_t expf = (bits >> (lo + m)) & ((1u << e) - 1u);
  const std::uint32_t all = (1u << e) - 1u;
  if (expf == all) {
    if (f.has_infinity) return {frac == 0 ? Kind::inf : Kind::nan, neg, {}};
    if (frac == (1u << m) - 1u) return {Kind::nan, neg, {}};
  }
  Value v{Kind::finite, neg, {neg, {}}};
  // value = frac * 2^(1 - bias - m) (subnormal) or (2^m + frac) * 2^(expf - bias - m)
  const std::uint64_t sig = expf == 0 ? frac : (std::uint64_t{1} << m) + frac;
  const int lsb = (expf == 0 ? 1 : static_cast<int>(expf)) - f.bias - m;
  if (sig == 0) return {Kind::zero, neg, {neg, {}}};
  v.x.mag = Wide::from(sig).shl(lsb + kScale);
  v.sig = sig;
  v.lsb = lsb;
  return v;
}

// floor(log2 |x|) of a non-zero exact value.
int ilog2(const Exact& x) { return x.mag.msb() - kScale; }

// |x| / 2^k, exactly (the oracle's scale has room for it).
Wide div_pow2_exact(const Wide& w, int k) {
  const Wide r = w.shr(k);
  if (cmp(r.shl(k), w) != 0) throw std::logic_error("oracle: inexact scaling");
  return r;
}

struct Term {
  bool neg;
  Wide sig;  // significand * 2^kScale (exact), in [0, 4)
  int exp;
};

Value product(const Value& a, const Value& b) {
  Value p{Kind::finite, a.neg != b.neg, {}};
  if (a.kind == Kind::nan || b.kind == Kind::nan) return {Kind::nan, false, {}};
  if (a.kind == Kind::inf || b.kind == Kind::inf) {
    if (a.kind == Kind::zero || b.kind == Kind::zero) return {Kind::nan, false, {}};
    p.kind = Kind::inf;
    return p;
  }
  if (a.kind == Kind::zero || b.kind == Kind::zero) p.kind = Kind::zero;
  return p;
}

// Step 6: one rounding of (-1)^neg * S * 2^unit into the output format, bits assembled here.
std::uint32_t round_out(const DatapathSpec& s, bool neg, const Wide& S, int unit) {
  const FormatSpec& f = *s.out_format;
  const std::uint32_t sign = neg ? (1u << (f.container_bits - 1)) : 0u;
  const int p = std::min(f.mantissa_bits, s.result_fraction_bits);
  const int emin = 1 - f.bias;
  const int emax = (1 << f.exponent_bits) - 2 - f.bias;  // fp32/fp16: IEEE
  const std::uint32_t inf = sign | (((1u << f.exponent_bits) - 1u) << f.mantissa_bits);
  const int ve = S.msb() + unit;
  if (s.overflow_to_infinity && ve > emax) return inf;
  const int q = std::max(ve, emin) - p;  // quantum of the result
  const int sh = q - unit;
  Wide r = sh > 0 ? S.shr(sh) : S.shl(-sh);
  if (sh > 0) {
    const Wide rest = sub(S, r.shl(sh));
    const int c = cmp(rest, Wide::pow2(sh - 1));
    bool up = false;
    switch (s.rounding) {
      case sim::spec::RoundingMode::toward_zero: up = false; break;
      case sim::spec::RoundingMode::nearest_even: up = c > 0 || (c == 0 && r.bit(0)); break;
      case sim::spec::RoundingMode::nearest_ties_away: up = c >= 0; break;
      case sim::spec::RoundingMode::toward_positive: up = !neg && !rest.zero(); break;
      case sim::spec::RoundingMode::toward_negative: up = neg && !rest.zero(); break;
    }
    if (up) r = add(r, Wide::from(1));
  }
  int qq = q;
  if (r.msb() == p + 1) {  // rounded up into the next binade
    r = r.shr(1);
    ++qq;
  }
  if (r.zero()) return sign;
  if (qq + p > emax) {  // overflow after rounding
    const bool to_inf = s.overflow_to_infinity || s.rounding == sim::spec::RoundingMode::nearest_even ||
                        s.rounding == sim::spec::RoundingMode::nearest_ties_away;
    if (to_inf) return inf;
    return sign | (static_cast<std::uint32_t>(emax + f.bias) << f.mantissa_bits) | ((1u << f.mantissa_bits) - 1u);
  }
  // r has p fraction bits; widen to the format's mantissa.
  const std::uint64_t full = r.shl(f.mantissa_bits - p).low64();
  if (r.msb() < p) return sign | static_cast<std::uint32_t>(full);  // subnormal: exponent field 0
  const std::uint32_t expf = static_cast<std::uint32_t>(qq + p + f.bias);
  return sign | (expf << f.mantissa_bits) | (static_cast<std::uint32_t>(full) & ((1u << f.mantissa_bits) - 1u));
}

std::uint32_t block(const DatapathSpec& s, const std::vector<Value>& av, const std::vector<Value>& bv, const Value& cv) {
  const FormatSpec& out = *s.out_format;
  if (cv.kind == Kind::inf) return (cv.neg ? (1u << (out.container_bits - 1)) : 0u) |
                                   (((1u << out.exponent_bits) - 1u) << out.mantissa_bits);
  const int emin_a = 1 - s.a_format->bias, emin_b = 1 - s.b_format->bias;
  // Step 2: exact products of the non-zero inputs; exponent = sum of the inputs' exponents
  // (floor(log2), at least e_min), significand = product of the inputs' significands in [0,4).
  std::vector<Term> terms;
  for (std::size_t k = 0; k < av.size(); ++k) {
    if (av[k].kind == Kind::zero || bv[k].kind == Kind::zero) continue;  // zero products dropped
    const int ea = std::max(ilog2(av[k].x), emin_a);
    const int eb = std::max(ilog2(bv[k].x), emin_b);
    // |a*b| = (sig_a * sig_b) * 2^(lsb_a + lsb_b) exactly; m = |a*b| / 2^(ea + eb).
    const Wide mag = Wide::from(av[k].sig * bv[k].sig).shl(av[k].lsb + bv[k].lsb + kScale);
    terms.push_back({av[k].neg != bv[k].neg, ea + eb >= 0 ? div_pow2_exact(mag, ea + eb) : mag.shl(-(ea + eb)), ea + eb});
  }
  // c: exponent floor(log2|c|) but at least -126 (c read as fp32), significand |c| / 2^e.
  if (cv.kind == Kind::finite) {
    const int ec = std::max(ilog2(cv.x), -126);
    terms.push_back({cv.neg, ec >= 0 ? div_pow2_exact(cv.x.mag, ec) : cv.x.mag.shl(-ec), ec});
  }
  if (terms.empty()) return 0u;
  // Step 3: reference exponent.
  int E = s.min_exp_limit;
  for (const Term& t : terms) E = std::max(E, t.exp);
  // Step 4: F = 23 + neab fraction bits; first the significand to F bits (truncated, as
  // K&M's bitshift(sig, neab)), then the right shift by E - e (truncated).
  const int F = 23 + s.neab;
  Wide pos, negsum;
  for (const Term& t : terms) {
    const Wide fixed = t.sig.shl(F).shr(kScale);         // floor(m * 2^F)
    const Wide aligned = fixed.shr(E - t.exp);           // floor(... / 2^(E - e))
    if (t.neg) negsum = add(negsum, aligned);
    else pos = add(pos, aligned);
  }
  // Step 5: exact signed sum; zero gives +0.
  const int c = cmp(pos, negsum);
  if (c == 0) return 0u;
  const bool neg = c < 0;
  const Wide S = neg ? sub(negsum, pos) : sub(pos, negsum);
  return round_out(s, neg, S, E - F);
}

}  // namespace

std::uint32_t reference_dot(const DatapathSpec& s, const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b,
                            std::uint32_t c) {
  if (a.size() != b.size()) throw std::invalid_argument("reference_dot: sizes differ");
  const FormatSpec& out = *s.out_format;
  std::vector<Value> av, bv;
  for (auto x : a) av.push_back(oracle_decode(*s.a_format, x));
  for (auto x : b) bv.push_back(oracle_decode(*s.b_format, x));
  Value cv = oracle_decode(out, c);
  // Step 1: specials over the whole row.
  bool nan = cv.kind == Kind::nan, pinf = cv.kind == Kind::inf && !cv.neg, ninf = cv.kind == Kind::inf && cv.neg;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const Value p = product(av[k], bv[k]);
    nan = nan || p.kind == Kind::nan;
    pinf = pinf || (p.kind == Kind::inf && !p.neg);
    ninf = ninf || (p.kind == Kind::inf && p.neg);
  }
  if (nan || (pinf && ninf)) return out.canonical_nan;
  if (pinf || ninf) return (ninf ? (1u << (out.container_bits - 1)) : 0u) | (((1u << out.exponent_bits) - 1u) << out.mantissa_bits);
  // Step 7: blocks of n, zero-padded, c rounded to the output format between blocks.
  const std::size_t n = static_cast<std::size_t>(s.block_size);
  std::uint32_t acc = c;
  for (std::size_t k0 = 0; k0 < a.size(); k0 += n) {
    std::vector<Value> ab, bb;
    for (std::size_t k = k0; k < k0 + n; ++k) {
      ab.push_back(k < a.size() ? av[k] : Value{Kind::zero, false, {}});
      bb.push_back(k < a.size() ? bv[k] : Value{Kind::zero, false, {}});
    }
    acc = block(s, ab, bb, oracle_decode(out, acc));
  }
  return acc;
}

std::uint32_t reference_dot_int(const DatapathSpec& s, const std::vector<std::uint32_t>& a,
                                const std::vector<std::uint32_t>& b, std::uint32_t c) {
  // Values from the definitions: two's complement of `bits` bits, or unsigned.
  auto value = [](const FormatSpec& f, std::uint32_t x) -> long long {
    const std::uint32_t m = f.bits >= 32 ? 0xffffffffu : ((1u << f.bits) - 1u);
    const long long u = static_cast<long long>(x & m);
    if (f.is_signed && u >= (1LL << (f.bits - 1))) return u - (1LL << f.bits);
    return u;
  };
  long long sum = value(sim::spec::s32, c);
  for (std::size_t k = 0; k < a.size(); ++k) sum += value(*s.a_format, a[k]) * value(*s.b_format, b[k]);
  if (s.satfinite) sum = std::clamp(sum, -2147483648LL, 2147483647LL);
  // Wrap: the value modulo 2^32.
  long long wrapped = sum % 4294967296LL;
  if (wrapped < 0) wrapped += 4294967296LL;
  return static_cast<std::uint32_t>(wrapped);
}

}  // namespace twofour::testing
