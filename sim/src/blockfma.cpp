// Fast block-FMA datapath; the model is documented in twofour/sim/blockfma.hpp and
// docs/datapath.md, and checked against the independent oracle in tests/sim/support/.
#include "twofour/sim/blockfma.hpp"

#include "twofour/sim/spec/block_sum.hpp"

#include <bit>
#include <stdexcept>

namespace twofour::sim {
namespace {

using spec::DatapathSpec;
using spec::FormatSpec;

// Field extraction constants of one float format, hoisted out of the per-element loop.
struct Unpacker {
  int lo, man_bits, bias, emin;
  std::uint32_t man_mask, exp_mask, special_mask, sign_bit;
  bool e4m3_like;  // NaN only when exponent and mantissa are all ones; no infinity

  explicit Unpacker(const FormatSpec& f)
      : lo(f.ignored_low_bits), man_bits(f.mantissa_bits), bias(f.bias), emin(f.min_exponent()),
        man_mask((1u << f.mantissa_bits) - 1u), exp_mask((1u << f.exponent_bits) - 1u),
        special_mask(0), sign_bit(1u << (f.container_bits - 1)),
        e4m3_like(f.nan == spec::NanEncoding::mantissa_all_ones) {
    // Bits that are all ones exactly for Inf/NaN patterns (E4M3: only NaN).
    special_mask = e4m3_like ? ((exp_mask << man_bits) | man_mask) << lo : (exp_mask << man_bits) << lo;
  }
  bool special(std::uint32_t x) const { return (x & special_mask) == special_mask; }
  // Magnitude as sig * 2^lsb; `align` = the model's exponent (floor(log2) or e_min if subnormal).
  void unpack(std::uint32_t x, std::uint32_t& sig, int& lsb) const {
    const std::uint32_t e = (x >> (lo + man_bits)) & exp_mask;
    const std::uint32_t m = (x >> lo) & man_mask;
    if (e == 0) {
      sig = m;
      lsb = emin - man_bits;
    } else {
      sig = m | (1u << man_bits);
      lsb = static_cast<int>(e) - bias - man_bits;
    }
  }
};

struct SpecialScan {
  bool nan = false, pos_inf = false, neg_inf = false;
};

// Step 1 of the model over products and c; returns true when the result is special.
bool scan_specials(const DatapathSpec& s, std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                   std::uint32_t c, std::uint32_t& out) {
  const Unpacker ua(*s.a_format), ub(*s.b_format), uc(*s.out_format);
  bool any = uc.special(c);
  for (std::size_t k = 0; k < a.size() && !any; ++k) any = ua.special(a[k]) || ub.special(b[k]);
  if (!any) return false;
  SpecialScan scan;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const spec::FpClass ca = spec::classify(*s.a_format, a[k]);
    const spec::FpClass cb = spec::classify(*s.b_format, b[k]);
    if (ca == spec::FpClass::nan || cb == spec::FpClass::nan) {
      scan.nan = true;
      continue;
    }
    const bool ia = ca == spec::FpClass::infinity, ib = cb == spec::FpClass::infinity;
    if (!ia && !ib) continue;
    if (ca == spec::FpClass::zero || cb == spec::FpClass::zero) {
      scan.nan = true;  // Inf * 0
      continue;
    }
    const bool neg = ((a[k] & ua.sign_bit) != 0) != ((b[k] & ub.sign_bit) != 0);
    (neg ? scan.neg_inf : scan.pos_inf) = true;
  }
  const spec::FpClass cc = spec::classify(*s.out_format, c);
  if (cc == spec::FpClass::nan) scan.nan = true;
  if (cc == spec::FpClass::infinity) ((c & uc.sign_bit) != 0 ? scan.neg_inf : scan.pos_inf) = true;
  if (scan.nan || (scan.pos_inf && scan.neg_inf)) {
    out = s.out_format->canonical_nan;
    return true;
  }
  if (scan.pos_inf || scan.neg_inf) {
    out = spec::infinity_bits(*s.out_format, scan.neg_inf);
    return true;
  }
  return false;
}

// One block on finite inputs (c may be Inf only as the carried result of an overflowed block).
std::uint32_t finite_block(const DatapathSpec& s, const Unpacker& ua, const Unpacker& ub, const Unpacker& uc,
                           const std::uint32_t* a, const std::uint32_t* b, std::size_t count, std::uint32_t c) {
  if (uc.special(c)) return c;  // an Inf carried from the previous block stays
  constexpr std::size_t kMax = 64;
  std::uint64_t sig[kMax + 1];
  int lsb[kMax + 1];
  bool neg[kMax + 1];
  std::size_t terms = 0;
  int e_max = s.min_exp_limit;
  for (std::size_t k = 0; k < count; ++k) {
    std::uint32_t sa, sb;
    int la, lb;
    ua.unpack(a[k], sa, la);
    ub.unpack(b[k], sb, lb);
    const std::uint64_t p = std::uint64_t{sa} * sb;
    if (p == 0) continue;
    const int l = la + lb;
    const int e = l + ua.man_bits + ub.man_bits;  // unnormalised product exponent
    if (e > e_max) e_max = e;
    sig[terms] = p;
    lsb[terms] = l;
    neg[terms] = ((a[k] & ua.sign_bit) != 0) != ((b[k] & ub.sign_bit) != 0);
    ++terms;
  }
  {
    std::uint32_t sc;
    int lc;
    uc.unpack(c, sc, lc);
    if (sc != 0) {
      int e = (31 - std::countl_zero(sc)) + lc;
      if (e < -126) e = -126;  // fp32 view of c (K&M: c_exp = max(c_exp, -126))
      if (e > e_max) e_max = e;
      sig[terms] = sc;
      lsb[terms] = lc;
      neg[terms] = (c & uc.sign_bit) != 0;
      ++terms;
    }
  }
  if (terms == 0) return 0u;  // +0
  const int unit = e_max - s.fraction_bits();  // value of the fixed-point lsb: 2^unit
  std::int64_t sum = 0;
  for (std::size_t t = 0; t < terms; ++t) {
    const int shift = lsb[t] - unit;  // term = sig * 2^shift, truncated toward zero
    std::uint64_t v;
    if (shift >= 0) {
      v = sig[t] << shift;  // shift small: terms are below 2^(F+2) in units of 2^unit
    } else if (shift > -64) {
      v = sig[t] >> -shift;
    } else {
      v = 0;
    }
    const std::int64_t iv = static_cast<std::int64_t>(v);
    sum += neg[t] ? -iv : iv;
  }
  return spec::round_block_sum(*s.out_format, sum, unit, s.rounding, s.overflow_to_infinity, s.result_fraction_bits);
}

void check_sizes(const DatapathSpec& s, std::span<const std::uint32_t> a, std::span<const std::uint32_t> b) {
  if (a.size() != b.size()) throw std::invalid_argument("dot: a and b differ in length");
  if (s.is_integer()) throw std::invalid_argument("dot: integer datapath given to the float path (use dot_int)");
  if (s.block_size <= 0 || s.block_size > 64) throw std::invalid_argument("dot: block size must be 1..64");
}

}  // namespace

std::uint32_t block_fma(const DatapathSpec& s, std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                        std::uint32_t c) {
  check_sizes(s, a, b);
  if (a.size() > static_cast<std::size_t>(s.block_size)) throw std::invalid_argument("block_fma: more products than a block");
  std::uint32_t special = 0;
  if (scan_specials(s, a, b, c, special)) return special;
  const Unpacker ua(*s.a_format), ub(*s.b_format), uc(*s.out_format);
  return finite_block(s, ua, ub, uc, a.data(), b.data(), a.size(), c);
}

std::uint32_t dot(const DatapathSpec& s, std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                  std::uint32_t c) {
  check_sizes(s, a, b);
  std::uint32_t special = 0;
  if (scan_specials(s, a, b, c, special)) return special;
  const Unpacker ua(*s.a_format), ub(*s.b_format), uc(*s.out_format);
  const std::size_t n = static_cast<std::size_t>(s.block_size);
  for (std::size_t k = 0; k < a.size(); k += n) {
    const std::size_t count = a.size() - k < n ? a.size() - k : n;
    c = finite_block(s, ua, ub, uc, a.data() + k, b.data() + k, count, c);
  }
  return c;
}

std::uint32_t dot_int(const DatapathSpec& s, std::span<const std::uint32_t> a, std::span<const std::uint32_t> b,
                      std::uint32_t c) {
  if (a.size() != b.size()) throw std::invalid_argument("dot_int: a and b differ in length");
  if (!s.is_integer()) throw std::invalid_argument("dot_int: not an integer datapath");
  const FormatSpec& fa = *s.a_format;
  const FormatSpec& fb = *s.b_format;
  // Sign-extend by shifting the value bits to the top of an int32 and back.
  const int ua = 32 - fa.bits, ub = 32 - fb.bits;
  const std::uint32_t ma = fa.container_mask(), mb = fb.container_mask();
  std::int64_t sum = static_cast<std::int32_t>(c);
  for (std::size_t k = 0; k < a.size(); ++k) {
    const std::uint32_t xa = a[k] & ma, xb = b[k] & mb;
    const std::int64_t va = fa.is_signed ? (static_cast<std::int32_t>(xa << ua) >> ua) : static_cast<std::int64_t>(xa);
    const std::int64_t vb = fb.is_signed ? (static_cast<std::int32_t>(xb << ub) >> ub) : static_cast<std::int64_t>(xb);
    sum += va * vb;
  }
  if (s.satfinite) {
    constexpr std::int64_t hi = 2147483647, lo = -2147483647 - 1;
    if (sum > hi) sum = hi;
    if (sum < lo) sum = lo;
  }
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(sum));
}

}  // namespace twofour::sim
