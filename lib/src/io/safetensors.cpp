#include "twofour/io/safetensors.hpp"

#include "twofour/io/atomic_file.hpp"
#include "twofour/io/npy.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace twofour::io {
namespace {

using nlohmann::json;

constexpr std::pair<DType, std::string_view> kNames[] = {
    {DType::b1, "BOOL"}, {DType::u8, "U8"},   {DType::i8, "I8"},    {DType::i16, "I16"}, {DType::u16, "U16"},
    {DType::f16, "F16"}, {DType::bf16, "BF16"}, {DType::i32, "I32"}, {DType::u32, "U32"}, {DType::f32, "F32"},
    {DType::f64, "F64"}, {DType::i64, "I64"}, {DType::u64, "U64"}, {DType::c64, "C64"},
    {DType::f8e4m3, "F8_E4M3"}, {DType::f8e5m2, "F8_E5M2"}};

// Dtypes the format defines that twofour refuses by name: packed sub-byte floats and the E8M0
// scale type have no element-wise meaning as weights here.
constexpr std::string_view kRefused[] = {"F4", "F6_E2M3", "F6_E3M2", "F8_E8M0"};

std::uint64_t unsigned_field(const json& v, const std::string& what) {
  if (!v.is_number_unsigned()) throw FormatError("safetensors: " + what + " is not a non-negative integer");
  return v.get<std::uint64_t>();
}

}  // namespace

std::optional<std::string_view> safetensors_dtype(DType t) {
  for (const auto& [d, n] : kNames)
    if (d == t) return n;
  return std::nullopt;
}

std::uint64_t safetensors_header_length(std::span<const std::byte> first8, std::uint64_t file_size) {
  if (file_size < 8 || first8.size() < 8)
    throw FormatError("safetensors: file of " + std::to_string(file_size) + " bytes has no header length");
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(first8[i]) << (8 * i);
  if (n > kMaxSafetensorsHeader) throw FormatError("safetensors: header length " + std::to_string(n) + " exceeds 100 MB");
  if (n > file_size - 8)
    throw FormatError("safetensors: truncated: header needs " + std::to_string(n) + " bytes, " + std::to_string(file_size - 8) + " left");
  return n;
}

SafetensorsHeader parse_safetensors_header(std::span<const std::byte> prefix, std::uint64_t file_size) {
  const std::uint64_t n = safetensors_header_length(prefix, file_size);
  if (prefix.size() < 8 + n) throw FormatError("safetensors: header bytes missing");
  if (n == 0 || static_cast<char>(prefix[8]) != '{') throw FormatError("safetensors: header does not start with '{'");
  const char* begin = reinterpret_cast<const char*>(prefix.data() + 8);
  const json header = json::parse(begin, begin + n, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) throw FormatError("safetensors: header is not a valid JSON object");
  const std::uint64_t buffer_size = file_size - 8 - n;

  SafetensorsHeader out;
  out.data_start = 8 + n;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) throw FormatError("safetensors: __metadata__ is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) throw FormatError("safetensors: __metadata__ value of '" + k + "' is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string what = "tensor '" + name + "'";
    if (!value.is_object()) throw FormatError("safetensors: " + what + " is not an object");
    for (const auto& [k, v] : value.items())
      if (k != "dtype" && k != "shape" && k != "data_offsets") throw FormatError("safetensors: " + what + " has unknown field '" + k + "'");
    if (!value.contains("dtype") || !value["dtype"].is_string()) throw FormatError("safetensors: " + what + " has no string dtype");
    if (!value.contains("shape") || !value["shape"].is_array()) throw FormatError("safetensors: " + what + " has no shape array");
    if (!value.contains("data_offsets") || !value["data_offsets"].is_array() || value["data_offsets"].size() != 2)
      throw FormatError("safetensors: " + what + " has no [begin, end] data_offsets");
    const std::string dtype = value["dtype"].get<std::string>();
    std::optional<DType> type;
    for (const auto& [d, nm] : kNames)
      if (nm == dtype) type = d;
    if (!type) {
      for (const auto refused : kRefused)
        if (refused == dtype)
          throw FormatError("safetensors: " + what + " has dtype " + dtype +
                            ", which the format defines but twofour does not support (packed sub-byte or scale type)");
      throw FormatError("safetensors: " + what + " has unsupported dtype '" + dtype + "'");
    }
    SafetensorsEntry e;
    e.name = name;
    e.dtype = *type;
    if (value["shape"].size() > 64) throw FormatError("safetensors: " + what + " has more than 64 dimensions");
    for (const auto& d : value["shape"]) {
      const std::uint64_t dim = unsigned_field(d, what + " shape");
      if (dim > std::numeric_limits<std::size_t>::max()) throw FormatError("safetensors: " + what + " dimension too large");
      e.shape.push_back(static_cast<std::size_t>(dim));
    }
    e.begin = unsigned_field(value["data_offsets"][0], what + " data_offsets[0]");
    e.end = unsigned_field(value["data_offsets"][1], what + " data_offsets[1]");
    if (e.begin > e.end || e.end > buffer_size)
      throw FormatError("safetensors: " + what + " data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                        "] lie outside the " + std::to_string(buffer_size) + "-byte buffer");
    const std::size_t es = dtype_size(*type);
    const std::size_t numel = checked_numel(e.shape, es, std::numeric_limits<std::size_t>::max());
    if (numel * es != e.end - e.begin)
      throw FormatError("safetensors: " + what + " holds " + std::to_string(e.end - e.begin) + " bytes, its shape needs " +
                        std::to_string(numel * es));
    out.tensors.push_back(std::move(e));
  }
  std::sort(out.tensors.begin(), out.tensors.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t at = 0;
  for (const auto& e : out.tensors) {
    if (e.begin != at)
      throw FormatError("safetensors: tensor '" + e.name + "' starts at byte " + std::to_string(e.begin) + ", expected " +
                        std::to_string(at) + " (tensors must be contiguous, without holes or overlaps)");
    at = e.end;
  }
  if (at != buffer_size)
    throw FormatError("safetensors: " + std::to_string(buffer_size - at) + " bytes of the buffer belong to no tensor");
  return out;
}

SafetensorsFile parse_safetensors(std::span<const std::byte> bytes) {
  const auto header = parse_safetensors_header(bytes, bytes.size());
  SafetensorsFile file;
  file.metadata = header.metadata;
  const auto buffer = bytes.subspan(static_cast<std::size_t>(header.data_start));
  for (const auto& e : header.tensors) {
    Array a;
    a.dtype = e.dtype;
    a.shape = e.shape;
    a.data.assign(buffer.begin() + static_cast<std::ptrdiff_t>(e.begin), buffer.begin() + static_cast<std::ptrdiff_t>(e.end));
    file.tensors.emplace_back(e.name, std::move(a));
  }
  return file;
}

std::vector<std::byte> serialize_safetensors_header(std::span<const SafetensorsEntry> tensors,
                                                   const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  std::uint64_t at = 0;
  for (const auto& e : tensors) {
    const auto dtype = safetensors_dtype(e.dtype);
    if (!dtype) throw std::invalid_argument("safetensors has no dtype for " + std::string(dtype_name(e.dtype)) + " ('" + e.name + "')");
    if (e.name == "__metadata__" || header.contains(e.name))
      throw std::invalid_argument("safetensors: bad or duplicate tensor name '" + e.name + "'");
    if (e.begin != at || e.end - e.begin != checked_numel(e.shape, dtype_size(e.dtype), std::numeric_limits<std::size_t>::max()) * dtype_size(e.dtype))
      throw std::invalid_argument("safetensors: '" + e.name + "' offsets do not match its shape and position");
    header[e.name] = {{"dtype", std::string(*dtype)}, {"shape", e.shape}, {"data_offsets", {e.begin, e.end}}};
    at = e.end;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<std::byte> out;
  out.reserve(8 + text.size());
  for (std::size_t i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xffu));
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::vector<SafetensorsEntry> layout_safetensors(std::span<const SafetensorsEntry> planned) {
  std::vector<SafetensorsEntry> out(planned.begin(), planned.end());
  std::uint64_t at = 0;
  for (auto& e : out) {
    e.begin = at;
    e.end = at + checked_numel(e.shape, dtype_size(e.dtype), std::numeric_limits<std::size_t>::max()) * dtype_size(e.dtype);
    at = e.end;
  }
  return out;
}

std::vector<std::byte> serialize_safetensors(const SafetensorsFile& file) {
  std::vector<SafetensorsEntry> planned;
  for (const auto& [name, a] : file.tensors) {
    if (a.data.size() != a.numel() * dtype_size(a.dtype)) throw std::invalid_argument("safetensors: '" + name + "' data does not match its shape");
    planned.push_back({name, a.dtype, a.shape, 0, 0});
  }
  std::vector<std::byte> out = serialize_safetensors_header(layout_safetensors(planned), file.metadata);
  for (const auto& [name, a] : file.tensors) out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  const auto bytes = read_file_bytes(path);
  try {
    return parse_safetensors(bytes);
  } catch (const FormatError& e) {
    throw FormatError(path.string() + ": " + e.what());
  }
}

void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file) {
  write_file_atomically(path, serialize_safetensors(file));
}

}  // namespace twofour::io
