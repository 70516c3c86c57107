#include "twofour/io/npz.hpp"

#include "twofour/io/atomic_file.hpp"
#include "twofour/io/npy.hpp"

#include <zlib.h>

#include <limits>
#include <set>

namespace twofour::io {
namespace {

// PKWARE APPNOTE.TXT 6.3 record signatures and fixed sizes.
constexpr std::uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22, kZip64EndSize = 56, kZip64LocatorSize = 20;
// Deflate's best ratio is about 1032:1 (258-byte matches coded in ~2 bits); more means a lie.
constexpr std::uint64_t kMaxDeflateRatio = 1032;
constexpr std::uint64_t kMaxMember = std::numeric_limits<std::uint32_t>::max();

class Reader {
 public:
  explicit Reader(std::span<const std::byte> b) : b_(b) {}
  std::uint64_t le(std::uint64_t at, std::size_t n, const char* what) const {
    if (at > b_.size() || n > b_.size() - at) throw FormatError(std::string("npz: truncated ") + what);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(b_[at + i]) << (8 * i);
    return v;
  }
  std::span<const std::byte> slice(std::uint64_t at, std::uint64_t n, const char* what) const {
    if (at > b_.size() || n > b_.size() - at) throw FormatError(std::string("npz: ") + what + " lies outside the file");
    return b_.subspan(at, n);
  }
  std::size_t size() const { return b_.size(); }

 private:
  std::span<const std::byte> b_;
};

std::vector<std::byte> inflate_raw(std::span<const std::byte> in, std::uint64_t out_size, const std::string& name) {
  std::vector<std::byte> out(out_size);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw FormatError("npz: zlib inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const auto produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != out_size)
    throw FormatError("npz: member '" + name + "': corrupt deflate stream or wrong uncompressed size");
  return out;
}

std::uint32_t crc_of(std::span<const std::byte> data) {
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

}  // namespace

NamedArrays parse_npz(std::span<const std::byte> bytes) {
  const Reader r(bytes);
  if (bytes.size() < kEndSize) throw FormatError("npz: file of " + std::to_string(bytes.size()) + " bytes is too short for a zip archive");
  // The end record sits in the last 22 + 65535 (comment) bytes.
  std::uint64_t end = 0;
  bool found = false;
  const std::size_t lowest = bytes.size() > kEndSize + 65535 ? bytes.size() - kEndSize - 65535 : 0;
  for (std::size_t at = bytes.size() - kEndSize + 1; at-- > lowest;) {
    if (r.le(at, 4, "end record") == kEndSig && at + kEndSize + r.le(at + 20, 2, "end record") == bytes.size()) {
      end = at;
      found = true;
      break;
    }
  }
  if (!found) throw FormatError("npz: no zip end-of-central-directory record (not a zip/npz file, or truncated)");
  if (r.le(end + 4, 2, "end record") != 0 || r.le(end + 6, 2, "end record") != 0)
    throw FormatError("npz: multi-disk archives are not supported");
  std::uint64_t entries = r.le(end + 10, 2, "end record");
  std::uint64_t cd_size = r.le(end + 12, 4, "end record");
  std::uint64_t cd_offset = r.le(end + 16, 4, "end record");
  if (entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    if (end < kZip64LocatorSize || r.le(end - kZip64LocatorSize, 4, "zip64 locator") != kZip64LocatorSig)
      throw FormatError("npz: zip64 end record locator missing");
    const std::uint64_t z64 = r.le(end - kZip64LocatorSize + 8, 8, "zip64 locator");
    if (r.le(z64, 4, "zip64 end record") != kZip64EndSig || z64 + kZip64EndSize > bytes.size())
      throw FormatError("npz: bad zip64 end record");
    entries = r.le(z64 + 32, 8, "zip64 end record");
    cd_size = r.le(z64 + 40, 8, "zip64 end record");
    cd_offset = r.le(z64 + 48, 8, "zip64 end record");
  }
  const auto cd = r.slice(cd_offset, cd_size, "central directory");
  if (entries > cd.size() / kCentralSize) throw FormatError("npz: central directory too small for " + std::to_string(entries) + " entries");
  const Reader c(cd);
  NamedArrays out;
  std::set<std::string> names;
  std::uint64_t at = 0;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (c.le(at, 4, "central directory entry") != kCentralSig) throw FormatError("npz: bad central directory entry signature");
    const auto flags = c.le(at + 8, 2, "central directory entry");
    const auto method = c.le(at + 10, 2, "central directory entry");
    const auto crc = static_cast<std::uint32_t>(c.le(at + 16, 4, "central directory entry"));
    std::uint64_t csize = c.le(at + 20, 4, "central directory entry");
    std::uint64_t usize = c.le(at + 24, 4, "central directory entry");
    const auto name_len = c.le(at + 28, 2, "central directory entry");
    const auto extra_len = c.le(at + 30, 2, "central directory entry");
    const auto comment_len = c.le(at + 32, 2, "central directory entry");
    std::uint64_t local = c.le(at + 42, 4, "central directory entry");
    const auto name_bytes = c.slice(at + kCentralSize, name_len, "member name");
    std::string name(reinterpret_cast<const char*>(name_bytes.data()), name_bytes.size());
    const auto extra = c.slice(at + kCentralSize + name_len, extra_len, "extra field");
    // ZIP64 extended information (header id 1): the 64-bit values of the fields set to all ones.
    for (std::uint64_t x = 0; x + 4 <= extra.size();) {
      const Reader xr(extra);
      const auto id = xr.le(x, 2, "extra field");
      const auto len = xr.le(x + 2, 2, "extra field");
      if (id == 1) {
        std::uint64_t y = x + 4;
        const std::uint64_t stop = x + 4 + len;
        auto next = [&](std::uint64_t& field) {
          if (field != 0xffffffff) return;
          if (y + 8 > stop) throw FormatError("npz: short zip64 extra field");
          field = xr.le(y, 8, "zip64 extra field");
          y += 8;
        };
        next(usize);
        next(csize);
        next(local);
      }
      x += 4 + len;
    }
    at += kCentralSize + name_len + extra_len + comment_len;
    if (flags & 1u) throw FormatError("npz: member '" + name + "' is encrypted");
    if (method != 0 && method != 8)
      throw FormatError("npz: member '" + name + "' uses compression method " + std::to_string(method) + " (only stored and deflate)");
    if (name.size() < 4 || name.substr(name.size() - 4) != ".npy") throw FormatError("npz: member '" + name + "' is not a .npy file");
    name.resize(name.size() - 4);
    if (!names.insert(name).second) throw FormatError("npz: duplicate member '" + name + "'");
    if (usize > kMaxMember || csize > kMaxMember) throw FormatError("npz: member '" + name + "' is larger than 4 GiB");
    if (method == 0 && csize != usize) throw FormatError("npz: stored member '" + name + "' has different sizes");
    if (method == 8 && usize > csize * kMaxDeflateRatio + 1024)
      throw FormatError("npz: member '" + name + "' claims an impossible compression ratio");
    if (r.le(local, 4, "local header") != kLocalSig) throw FormatError("npz: bad local header for member '" + name + "'");
    const auto local_name = r.le(local + 26, 2, "local header");
    const auto local_extra = r.le(local + 28, 2, "local header");
    const auto data = r.slice(local + kLocalSize + local_name + local_extra, csize, "member data");
    std::vector<std::byte> member = method == 0 ? std::vector<std::byte>(data.begin(), data.end()) : inflate_raw(data, usize, name);
    if (crc_of(member) != crc) throw FormatError("npz: member '" + name + "' fails its CRC-32 check");
    try {
      out.emplace_back(name, parse_npy(member));
    } catch (const FormatError& err) {
      throw FormatError("npz: member '" + name + "': " + err.what());
    }
  }
  return out;
}

std::vector<std::byte> serialize_npz(const NamedArrays& arrays, bool compress) {
  std::vector<std::byte> out, central;
  auto put = [](std::vector<std::byte>& v, std::uint64_t x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) v.push_back(static_cast<std::byte>((x >> (8 * i)) & 0xffu));
  };
  std::set<std::string> names;
  for (const auto& [base, array] : arrays) {
    if (!names.insert(base).second) throw std::invalid_argument("npz: duplicate array name '" + base + "'");
    const std::string name = base + ".npy";
    const std::vector<std::byte> raw = serialize_npy(array);
    std::vector<std::byte> stored = raw;
    if (compress) {
      z_stream z{};
      if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("npz: zlib deflateInit2 failed");
      stored.assign(deflateBound(&z, static_cast<uLong>(raw.size())), std::byte{0});
      z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(raw.data()));
      z.avail_in = static_cast<uInt>(raw.size());
      z.next_out = reinterpret_cast<Bytef*>(stored.data());
      z.avail_out = static_cast<uInt>(stored.size());
      const int rc = deflate(&z, Z_FINISH);
      stored.resize(z.total_out);
      deflateEnd(&z);
      if (rc != Z_STREAM_END) throw std::runtime_error("npz: deflate failed");
    }
    if (raw.size() > kMaxMember || out.size() > kMaxMember || name.size() > 0xffff)
      throw std::invalid_argument("npz: member '" + base + "' too large for a zip without zip64");
    const std::uint32_t crc = crc_of(raw);
    const std::uint64_t method = compress ? 8 : 0;
    const std::uint64_t offset = out.size();
    put(out, kLocalSig, 4);
    put(out, 20, 2);      // version needed: 2.0 (deflate)
    put(out, 0, 2);       // flags
    put(out, method, 2);
    put(out, 0, 2);       // time
    put(out, 0x21, 2);    // date: 1980-01-01
    put(out, crc, 4);
    put(out, stored.size(), 4);
    put(out, raw.size(), 4);
    put(out, name.size(), 2);
    put(out, 0, 2);
    for (char ch : name) out.push_back(static_cast<std::byte>(ch));
    out.insert(out.end(), stored.begin(), stored.end());

    put(central, kCentralSig, 4);
    put(central, 20, 2);
    put(central, 20, 2);
    put(central, 0, 2);
    put(central, method, 2);
    put(central, 0, 2);
    put(central, 0x21, 2);
    put(central, crc, 4);
    put(central, stored.size(), 4);
    put(central, raw.size(), 4);
    put(central, name.size(), 2);
    put(central, 0, 2);   // extra
    put(central, 0, 2);   // comment
    put(central, 0, 2);   // disk
    put(central, 0, 2);   // internal attributes
    put(central, 0, 4);   // external attributes
    put(central, offset, 4);
    for (char ch : name) central.push_back(static_cast<std::byte>(ch));
  }
  if (arrays.size() >= 0xffff || out.size() > kMaxMember) throw std::invalid_argument("npz: archive too large without zip64");
  const std::uint64_t cd_offset = out.size();
  out.insert(out.end(), central.begin(), central.end());
  put(out, kEndSig, 4);
  put(out, 0, 2);
  put(out, 0, 2);
  put(out, arrays.size(), 2);
  put(out, arrays.size(), 2);
  put(out, central.size(), 4);
  put(out, cd_offset, 4);
  put(out, 0, 2);
  return out;
}

NamedArrays read_npz(const std::filesystem::path& path) {
  const auto bytes = read_file_bytes(path);
  try {
    return parse_npz(bytes);
  } catch (const FormatError& e) {
    throw FormatError(path.string() + ": " + e.what());
  }
}

void write_npz(const std::filesystem::path& path, const NamedArrays& arrays, bool compress) {
  write_file_atomically(path, serialize_npz(arrays, compress));
}

}  // namespace twofour::io
