#include "twofour/io/npy.hpp"

#include "twofour/io/atomic_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

namespace twofour::io {
namespace {

// ---- header parsing: the Python dict literal that numpy.lib.format writes ----
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!eat(c)) fail(std::string("expected '") + c + "' " + what);
  }
  std::string string_literal() {
    skip_ws();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("expected a quoted string");
    const char q = s_[i_++];
    std::string out;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') fail("escape sequences are not supported in header strings");
      out += s_[i_++];
      if (out.size() > 256) fail("header string too long");
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return out;
  }
  bool boolean() {
    skip_ws();
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  std::size_t integer() {
    skip_ws();
    std::size_t v = 0;
    std::size_t digits = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      const auto d = static_cast<std::size_t>(s_[i_] - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - d) / 10) fail("dimension overflows");
      v = v * 10 + d;
      ++i_;
      ++digits;
    }
    if (digits == 0) fail("expected a non-negative integer dimension");
    if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long suffix
    return v;
  }
  std::vector<std::size_t> tuple() {
    expect('(', "to open the shape tuple");
    std::vector<std::size_t> dims;
    if (eat(')')) return dims;
    while (true) {
      dims.push_back(integer());
      if (dims.size() > 64) fail("more than 64 dimensions");
      if (eat(')')) return dims;
      expect(',', "between shape dimensions");
      if (eat(')')) return dims;
    }
  }
  bool at_end() {
    skip_ws();
    return i_ == s_.size();
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError("npy header: " + what + " at offset " + std::to_string(i_));
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

struct Descr {
  DType type;
  bool big_endian;
};

Descr parse_descr(const std::string& d) {
  if (d.size() < 3) throw FormatError("npy header: unsupported descr '" + d + "'");
  const char order = d[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    throw FormatError("npy header: descr '" + d + "' has no byte-order character");
  const std::string code = d.substr(1);
  static const std::pair<const char*, DType> table[] = {
      {"b1", DType::b1},  {"i1", DType::i8},  {"u1", DType::u8},  {"i2", DType::i16},  {"u2", DType::u16},
      {"i4", DType::i32}, {"u4", DType::u32}, {"i8", DType::i64}, {"u8", DType::u64},  {"f2", DType::f16},
      {"f4", DType::f32}, {"f8", DType::f64}, {"c8", DType::c64}, {"c16", DType::c128}};
  for (const auto& [name, type] : table)
    if (code == name) return {type, order == '>'};
  throw FormatError("npy header: unsupported dtype '" + d + "' (numeric dtypes only)");
}

void swap_bytes(std::vector<std::byte>& data, std::size_t unit) {
  for (std::size_t i = 0; i + unit <= data.size(); i += unit) std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i), data.begin() + static_cast<std::ptrdiff_t>(i + unit));
}

std::vector<std::byte> fortran_to_c(const std::vector<std::byte>& in, const std::vector<std::size_t>& shape, std::size_t es) {
  const std::size_t rank = shape.size();
  std::vector<std::byte> out(in.size());
  std::vector<std::size_t> idx(rank, 0), fstride(rank, 1);
  for (std::size_t d = 1; d < rank; ++d) fstride[d] = fstride[d - 1] * shape[d - 1];
  const std::size_t n = in.size() / es;
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t f = 0;
    for (std::size_t d = 0; d < rank; ++d) f += idx[d] * fstride[d];
    std::memcpy(out.data() + c * es, in.data() + f * es, es);
    for (std::size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

std::uint32_t read_le(const std::byte* p, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}

}  // namespace

Array parse_npy(std::span<const std::byte> bytes) {
  static constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10) throw FormatError("npy: file of " + std::to_string(bytes.size()) + " bytes is too short for the header");
  for (std::size_t i = 0; i < 6; ++i)
    if (static_cast<unsigned char>(bytes[i]) != kMagic[i]) throw FormatError("npy: wrong magic (not a .npy file)");
  const auto major = static_cast<unsigned>(bytes[6]);
  const auto minor = static_cast<unsigned>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    throw FormatError("npy: unsupported format version " + std::to_string(major) + "." + std::to_string(minor));
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  const std::size_t start = 8 + len_bytes;
  if (bytes.size() < start) throw FormatError("npy: truncated header length");
  const std::size_t header_len = read_le(bytes.data() + 8, len_bytes);
  if (header_len > kMaxNpyHeader) throw FormatError("npy: header length " + std::to_string(header_len) + " exceeds the limit");
  if (header_len > bytes.size() - start)
    throw FormatError("npy: truncated: header needs " + std::to_string(header_len) + " bytes, " +
                      std::to_string(bytes.size() - start) + " left");
  std::string header(reinterpret_cast<const char*>(bytes.data() + start), header_len);
  for (char c : header)
    if (c == '\0') throw FormatError("npy header: contains a NUL byte");

  HeaderParser p(header);
  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<std::size_t>> shape;
  p.expect('{', "at the start of the header dict");
  while (!p.eat('}')) {
    const std::string key = p.string_literal();
    p.expect(':', "after a key");
    if (key == "descr") {
      if (descr) p.fail("duplicate key 'descr'");
      p.skip_ws();
      descr = p.string_literal();
    } else if (key == "fortran_order") {
      if (fortran) p.fail("duplicate key 'fortran_order'");
      fortran = p.boolean();
    } else if (key == "shape") {
      if (shape) p.fail("duplicate key 'shape'");
      shape = p.tuple();
    } else {
      p.fail("unexpected key '" + key + "'");
    }
    if (!p.eat(',')) {
      p.expect('}', "to close the header dict");
      break;
    }
  }
  if (!p.at_end()) p.fail("trailing characters after the header dict");
  if (!descr || !fortran || !shape) throw FormatError("npy header: missing 'descr', 'fortran_order' or 'shape'");

  const Descr d = parse_descr(*descr);
  Array a;
  a.dtype = d.type;
  a.shape = *shape;
  const std::size_t es = dtype_size(d.type);
  const std::size_t numel = checked_numel(a.shape, es);
  const std::size_t need = numel * es;
  const std::size_t have = bytes.size() - start - header_len;
  if (have < need)
    throw FormatError("npy: truncated: shape " + std::to_string(numel) + " elements needs " + std::to_string(need) +
                      " data bytes, file has " + std::to_string(have));
  if (have > need) throw FormatError("npy: " + std::to_string(have - need) + " unexpected bytes after the data");
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(start + header_len), bytes.end());
  if (d.big_endian && es > 1) swap_bytes(a.data, d.type == DType::c64 ? 4 : d.type == DType::c128 ? 8 : es);
  if (*fortran && a.shape.size() > 1) a.data = fortran_to_c(a.data, a.shape, es);
  return a;
}

std::vector<std::byte> serialize_npy(const Array& a) {
  static const std::pair<DType, const char*> codes[] = {
      {DType::b1, "|b1"},  {DType::i8, "|i1"},  {DType::u8, "|u1"},  {DType::i16, "<i2"}, {DType::u16, "<u2"},
      {DType::i32, "<i4"}, {DType::u32, "<u4"}, {DType::i64, "<i8"}, {DType::u64, "<u8"}, {DType::f16, "<f2"},
      {DType::bf16, "<u2"} /* NumPy has no bfloat16: raw bits as uint16 */, {DType::f32, "<f4"},
      {DType::f64, "<f8"}, {DType::c64, "<c8"}, {DType::c128, "<c16"}};
  const char* descr = "";
  for (const auto& [t, c] : codes)
    if (t == a.dtype) descr = c;
  if (a.data.size() != a.numel() * dtype_size(a.dtype)) throw std::invalid_argument("serialize_npy: data size does not match the shape");
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < a.shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(a.shape[i]);
  if (a.shape.size() == 1) dict += ",";
  dict += "), }";
  // Pad with spaces and a final newline so the data starts on a 64-byte boundary (NumPy >= 1.17).
  std::size_t prefix = 10;
  unsigned major = 1;
  std::size_t total = prefix + dict.size() + 1;
  std::size_t padded = (total + 63) / 64 * 64;
  if (padded - prefix > 65535) {
    major = 2;
    prefix = 12;
    total = prefix + dict.size() + 1;
    padded = (total + 63) / 64 * 64;
  }
  dict.append(padded - total, ' ');
  dict += '\n';
  std::vector<std::byte> out;
  out.reserve(prefix + dict.size() + a.data.size());
  static constexpr unsigned char kOutMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  for (unsigned char c : kOutMagic) out.push_back(static_cast<std::byte>(c));
  out.push_back(static_cast<std::byte>(major));
  out.push_back(std::byte{0});
  const std::size_t hl = dict.size();
  for (std::size_t i = 0; i < prefix - 8; ++i) out.push_back(static_cast<std::byte>((hl >> (8 * i)) & 0xffu));
  for (char c : dict) out.push_back(static_cast<std::byte>(c));
  out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

Array read_npy(const std::filesystem::path& path) {
  const auto bytes = read_file_bytes(path);
  try {
    return parse_npy(bytes);
  } catch (const FormatError& e) {
    throw FormatError(path.string() + ": " + e.what());
  }
}

void write_npy(const std::filesystem::path& path, const Array& a) { write_file_atomically(path, serialize_npy(a)); }

}  // namespace twofour::io
