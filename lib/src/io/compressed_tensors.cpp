#include "twofour/io/compressed_tensors.hpp"

#include "twofour/sparse/bitmask24.hpp"
#include "twofour/sparse/pattern.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <memory>

namespace twofour::io {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

constexpr const char* kParts[] = {".compressed", ".bitmask", ".shape"};

std::string shape_text(const std::vector<std::size_t>& s) { return sparse::shape_string(s); }

}  // namespace

std::string bitmask24_prefix(const std::string& weight_name) {
  return ends_with(weight_name, ".weight") ? weight_name.substr(0, weight_name.size() - 7) : weight_name;
}

std::vector<CompressedWeight> find_compressed_weights(const Checkpoint& c) {
  std::map<std::string, CompressedWeight> found;
  for (const auto& t : c.tensors())
    for (int part = 0; part < 3; ++part)
      if (ends_with(t.name, kParts[part])) {
        const std::string prefix = t.name.substr(0, t.name.size() - std::strlen(kParts[part]));
        auto& w = found[prefix];
        w.prefix = prefix;
        (part == 0 ? w.compressed : part == 1 ? w.bitmask : w.shape) = &t;
      }
  std::vector<CompressedWeight> out;
  for (auto& [prefix, w] : found) {
    // A lone "x.shape" or "x.bitmask" may be an ordinary tensor; only P.compressed commits to the format.
    if (w.compressed == nullptr) continue;
    for (int part = 1; part < 3; ++part)
      if ((part == 1 ? w.bitmask : w.shape) == nullptr)
        throw FormatError(c.path().string() + ": '" + prefix + ".compressed' has no '" + prefix + kParts[part] +
                          "' (sparse-24-bitmask stores compressed, bitmask and shape)");
    out.push_back(w);
  }
  return out;
}

std::pair<std::size_t, std::size_t> compressed_weight_shape(const Checkpoint& c, const CompressedWeight& w) {
  const std::string where = c.path().string() + ": " + w.prefix + ": ";
  const auto& st = *w.shape;
  if ((st.dtype != DType::i64 && st.dtype != DType::i32) || st.size / dtype_size(st.dtype) != 2)
    throw FormatError(where + "'" + st.name + "' must hold 2 int64 values (rows, cols), it is " + std::string(dtype_name(st.dtype)) +
                      " " + shape_text(st.shape));
  const auto bytes = c.bytes(st);
  std::int64_t dims[2];
  for (int i = 0; i < 2; ++i) {
    if (st.dtype == DType::i64) {
      std::memcpy(&dims[i], bytes.data() + 8 * i, 8);
    } else {
      std::int32_t v;
      std::memcpy(&v, bytes.data() + 4 * i, 4);
      dims[i] = v;
    }
  }
  if (dims[0] <= 0 || dims[1] <= 0 || dims[1] % 4 != 0)
    throw FormatError(where + "'" + st.name + "' says (" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) +
                      "): rows and cols must be positive and cols a multiple of 4");
  const auto rows = static_cast<std::size_t>(dims[0]), cols = static_cast<std::size_t>(dims[1]);
  const auto& v = *w.compressed;
  if (v.shape != std::vector<std::size_t>{rows, cols / 2})
    throw FormatError(where + "'" + v.name + "' is " + shape_text(v.shape) + ", but '" + st.name + "' (" + std::to_string(rows) + ", " +
                      std::to_string(cols) + ") needs (" + std::to_string(rows) + ", " + std::to_string(cols / 2) + ")");
  const auto& b = *w.bitmask;
  if (b.dtype != DType::u8 && b.dtype != DType::i8)
    throw FormatError(where + "'" + b.name + "' is " + std::string(dtype_name(b.dtype)) + ", not uint8");
  if (b.shape != std::vector<std::size_t>{rows, sparse::bitmask24_row_bytes(cols)})
    throw FormatError(where + "'" + b.name + "' is " + shape_text(b.shape) + ", but (" + std::to_string(rows) + ", " +
                      std::to_string(cols) + ") needs (" + std::to_string(rows) + ", " + std::to_string(sparse::bitmask24_row_bytes(cols)) + ")");
  return {rows, cols};
}

Array decompress_weight(const Checkpoint& c, const CompressedWeight& w) {
  const auto [rows, cols] = compressed_weight_shape(c, w);
  const auto values = c.bytes(*w.compressed);
  const auto mask = c.bytes(*w.bitmask);
  Array a;
  a.dtype = w.compressed->dtype;
  a.shape = {rows, cols};
  try {
    a.data = sparse::decompress_bitmask24(values, {reinterpret_cast<const std::uint8_t*>(mask.data()), mask.size()}, rows, cols,
                                          dtype_size(a.dtype));
  } catch (const std::invalid_argument& e) {
    throw FormatError(c.path().string() + ": " + w.prefix + ": " + e.what());
  }
  return a;
}

std::vector<OutputTensor> compressed_outputs(const std::string& weight_name, DType dtype, std::size_t rows, std::size_t cols,
                                             std::function<std::vector<std::byte>()> dense) {
  const std::string p = bitmask24_prefix(weight_name);
  auto state = std::make_shared<sparse::Bitmask24>();
  std::vector<OutputTensor> out;
  out.push_back({p + ".compressed", dtype, {rows, cols / 2}, [=](const ByteSink& sink) {
                   const auto bytes = dense();
                   try {
                     *state = sparse::compress_bitmask24(bytes, rows, cols, dtype_size(dtype), sign_bit(dtype));
                   } catch (const sparse::Bitmask24Error& e) {
                     throw sparse::Bitmask24Error("tensor '" + weight_name + "' is not 2:4 at " + e.what(), e.row, e.group);
                   }
                   sink(state->values);
                   state->values = {};
                 }});
  out.push_back({p + ".bitmask", DType::u8, {rows, sparse::bitmask24_row_bytes(cols)}, [state](const ByteSink& sink) {
                   sink(std::as_bytes(std::span<const std::uint8_t>(state->bitmask)));
                   state->bitmask = {};
                 }});
  out.push_back({p + ".shape", DType::i64, {2, 1}, [rows, cols](const ByteSink& sink) {
                   const std::int64_t dims[2] = {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)};
                   sink(std::as_bytes(std::span<const std::int64_t>(dims)));
                 }});
  return out;
}

std::optional<SparsityConfig> read_sparsity_config(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw FormatError("config.json is not a JSON object");
  const json* q = nullptr;
  for (const char* key : {"quantization_config", "compression_config"})
    if (j.contains(key) && j[key].is_object()) q = &j[key];
  if (q == nullptr || !q->contains("sparsity_config") || !(*q)["sparsity_config"].is_object()) return std::nullopt;
  const json& s = (*q)["sparsity_config"];
  SparsityConfig out;
  const auto str = [&](const char* k) { return s.contains(k) && s[k].is_string() ? s[k].get<std::string>() : std::string(); };
  const auto list = [&](const char* k) {
    std::vector<std::string> v;
    if (s.contains(k) && s[k].is_array())
      for (const auto& x : s[k])
        if (x.is_string()) v.push_back(x.get<std::string>());
    return v;
  };
  out.format = str("format");
  out.sparsity_structure = str("sparsity_structure");
  out.targets = list("targets");
  out.ignore = list("ignore");
  if (s.contains("global_sparsity") && s["global_sparsity"].is_number()) out.global_sparsity = s["global_sparsity"].get<double>();
  return out;
}

std::string write_sparsity_config(const std::string& text, const std::optional<SparsityConfig>& s) {
  json j = text.empty() ? json::object() : json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw FormatError("config.json is not a JSON object");
  if (!s) {
    if (j.contains("quantization_config") && j["quantization_config"].is_object()) {
      auto& q = j["quantization_config"];
      q.erase("sparsity_config");
      bool other = false;
      for (const auto& [k, v] : q.items()) other = other || (k != "quant_method" && k != "version");
      if (!other) j.erase("quantization_config");
    }
    return j.dump(2) + "\n";
  }
  if (!j.contains("quantization_config") || !j["quantization_config"].is_object()) j["quantization_config"] = json::object();
  auto& q = j["quantization_config"];
  if (!q.contains("quant_method")) q["quant_method"] = "compressed-tensors";
  q["sparsity_config"] = {{"format", s->format},
                          {"sparsity_structure", s->sparsity_structure},
                          {"targets", s->targets},
                          {"ignore", s->ignore},
                          {"global_sparsity", s->global_sparsity}};
  return j.dump(2) + "\n";
}

}  // namespace twofour::io
