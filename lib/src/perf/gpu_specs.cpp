#include "twofour/perf/gpu_specs.hpp"

#include "json_file.hpp"
#include "twofour/io/array.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <stdexcept>

namespace twofour::perf {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& where, const std::string& what) {
  throw io::FormatError(path.string() + ": " + where + ": " + what);
}

double positive(const json& j, const char* key, const std::filesystem::path& path, const std::string& where) {
  if (!j.contains(key) || !j[key].is_number() || !(j[key].get<double>() > 0))
    fail(path, where + "." + key, "a positive number is required");
  return j[key].get<double>();
}

std::string source(const json& j, const char* key, const GpuTable& table, const std::filesystem::path& path,
                   const std::string& where) {
  if (!j.contains(key) || !j[key].is_string()) fail(path, where + "." + key, "a source document key is required");
  const std::string s = j[key].get<std::string>();
  if (!table.documents.contains(s)) fail(path, where + "." + key, "unknown document '" + s + "'");
  return s;
}

}  // namespace

const Peak& GpuSpec::peak(const std::string& dtype) const {
  const auto it = peaks.find(dtype);
  if (it == peaks.end()) {
    std::string known;
    for (const auto& [k, v] : peaks) known += (known.empty() ? "" : " ") + k;
    throw std::invalid_argument("no published " + dtype + " peak for " + name + " (" + known + ")");
  }
  return it->second;
}

const GpuSpec& GpuTable::gpu(const std::string& name) const {
  for (const auto& g : gpus)
    if (g.name == name) return g;
  std::string known;
  for (const auto& g : gpus) known += (known.empty() ? "" : " ") + g.name;
  throw std::invalid_argument("unknown GPU '" + name + "' (" + known + ")");
}

double bytes_per_element(const std::string& dtype) {
  if (dtype == "fp16" || dtype == "bf16") return 2;
  if (dtype == "tf32") return 4;  // stored as fp32
  if (dtype == "int8" || dtype == "fp8") return 1;
  if (dtype == "int4") return 0.5;
  throw std::invalid_argument("unknown data type '" + dtype + "' (fp16 bf16 tf32 int8 fp8 int4)");
}

GpuTable load_gpu_table(const std::filesystem::path& path) {
  const json j = read_json_file(path);
  GpuTable table;
  if (!j.contains("documents") || !j["documents"].is_object()) fail(path, "documents", "an object is required");
  for (const auto& [key, text] : j["documents"].items()) {
    if (!text.is_string() || text.get<std::string>().empty()) fail(path, "documents." + key, "a citation is required");
    table.documents[key] = text.get<std::string>();
  }
  if (!j.contains("gpus") || !j["gpus"].is_array() || j["gpus"].empty()) fail(path, "gpus", "a non-empty array is required");
  for (std::size_t i = 0; i < j["gpus"].size(); ++i) {
    const json& g = j["gpus"][i];
    const std::string where = "gpus[" + std::to_string(i) + "]";
    GpuSpec spec;
    if (!g.contains("name") || !g["name"].is_string()) fail(path, where + ".name", "a name is required");
    spec.name = g["name"].get<std::string>();
    spec.variant = g.value("variant", spec.name);
    spec.dram_bytes_per_second = positive(g, "dram_bytes_per_second", path, where);
    spec.l2_bytes = positive(g, "l2_bytes", path, where);
    spec.sms = static_cast<int>(positive(g, "sms", path, where));
    spec.sources["dram"] = source(g, "dram_source", table, path, where);
    spec.sources["l2"] = source(g, "l2_source", table, path, where);
    spec.sources["sms"] = source(g, "sms_source", table, path, where);
    if (!g.contains("peaks") || !g["peaks"].is_object() || g["peaks"].empty())
      fail(path, where + ".peaks", "an object of data types is required");
    for (const auto& [dtype, p] : g["peaks"].items()) {
      const std::string pw = where + ".peaks." + dtype;
      try {
        (void)bytes_per_element(dtype);
      } catch (const std::invalid_argument& e) {
        fail(path, pw, e.what());
      }
      Peak peak;
      peak.dense = positive(p, "dense", path, pw);
      peak.sparse = positive(p, "sparse", path, pw);
      // The documents round each figure on its own (989.4 and 1978.9): allow that, no more.
      if (std::abs(peak.sparse / peak.dense - 2.0) > 1e-3) fail(path, pw, "sparse must be twice dense");
      peak.source = source(p, "source", table, path, pw);
      spec.peaks[dtype] = peak;
    }
    table.gpus.push_back(std::move(spec));
  }
  return table;
}

}  // namespace twofour::perf
