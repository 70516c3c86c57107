#include "twofour/perf/roofline.hpp"

#include "json_file.hpp"
#include "twofour/io/array.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace twofour::perf {

double GemmTime::dense_s() const { return std::max(dense_compute_s, dense_memory_s); }
double GemmTime::sparse_s() const { return std::max(sparse_compute_s, sparse_memory_s); }

double compressed_weight_bytes(std::int64_t m, std::int64_t k, const std::string& dtype) {
  const double kept = static_cast<double>(m) * static_cast<double>(k) / 2;
  // 2-bit index of each kept value within its group of 4 (PTX ISA, "Sparse matrix storage").
  return kept * bytes_per_element(dtype) + kept * 2 / 8;
}

Traffic gemm_traffic(const GemmShape& g, std::int64_t batch, const std::string& dtype, bool sparse_weights) {
  const double s = bytes_per_element(dtype);
  const double copies = static_cast<double>(g.count) * (g.weight_per_example ? static_cast<double>(batch) : 1.0);
  const double per_example_n = static_cast<double>(g.n_per_example);
  Traffic t;
  t.weight_bytes = copies * (sparse_weights ? compressed_weight_bytes(g.m, g.k, dtype)
                                            : static_cast<double>(g.m) * static_cast<double>(g.k) * s);
  // A per-example "weight" (attention) pairs with one example's columns only.
  const double examples = g.weight_per_example ? 1.0 : static_cast<double>(batch);
  const double input_per_example = g.input_per_example > 0 ? static_cast<double>(g.input_per_example)
                                                             : static_cast<double>(g.k) * per_example_n;
  t.input_bytes = copies * examples * input_per_example * s;
  t.output_bytes = copies * examples * static_cast<double>(g.m) * per_example_n * s;
  return t;
}

GemmTime estimate(const GemmShape& g, std::int64_t batch, const GpuSpec& gpu, const std::string& dtype) {
  if (g.m <= 0 || g.k <= 0 || g.n_per_example <= 0 || g.count <= 0)
    throw std::invalid_argument("GEMM '" + g.name + "' needs positive m, k, n_per_example and count");
  if (batch <= 0) throw std::invalid_argument("the batch size must be positive");
  const Peak& peak = gpu.peak(dtype);
  GemmTime t;
  t.operations = 2.0 * static_cast<double>(g.m) * static_cast<double>(g.k) * static_cast<double>(g.n_per_example) *
                 static_cast<double>(batch) * static_cast<double>(g.count);
  t.dense_bytes = gemm_traffic(g, batch, dtype, false);
  t.sparse_bytes = gemm_traffic(g, batch, dtype, g.sparse);
  t.dense_compute_s = t.operations / peak.dense;
  t.dense_memory_s = t.dense_bytes.total() / gpu.dram_bytes_per_second;
  t.sparse_compute_s = t.operations / (g.sparse ? peak.sparse : peak.dense);
  t.sparse_memory_s = t.sparse_bytes.total() / gpu.dram_bytes_per_second;
  return t;
}

NetworkTime estimate(const NetworkShape& net, std::int64_t batch, const GpuSpec& gpu, const std::string& dtype) {
  NetworkTime t;
  t.batch = batch;
  for (const auto& g : net.gemms) {
    t.gemms.push_back(estimate(g, batch, gpu, dtype));
    t.dense_s += t.gemms.back().dense_s();
    t.sparse_s += t.gemms.back().sparse_s();
  }
  return t;
}

NetworkShape load_network(const std::filesystem::path& path) {
  using json = nlohmann::json;
  const json j = read_json_file(path);
  NetworkShape net;
  net.name = j.value("name", path.stem().string());
  net.source = j.value("source", "");
  if (!j.contains("gemms") || !j["gemms"].is_array() || j["gemms"].empty())
    throw io::FormatError(path.string() + ": gemms: a non-empty array is required");
  for (std::size_t i = 0; i < j["gemms"].size(); ++i) {
    const json& e = j["gemms"][i];
    const std::string where = path.string() + ": gemms[" + std::to_string(i) + "]";
    GemmShape g;
    g.name = e.value("name", "gemm" + std::to_string(i));
    for (auto [key, field] : {std::pair{"m", &g.m}, {"k", &g.k}, {"n_per_example", &g.n_per_example}, {"count", &g.count},
                              {"input_per_example", &g.input_per_example}}) {
      if (!e.contains(key)) {
        if (std::string(key) == "count" || std::string(key) == "input_per_example") continue;
        throw io::FormatError(where + "." + key + ": a positive integer is required");
      }
      if (!e[key].is_number_integer() || e[key].get<std::int64_t>() <= 0 || e[key].get<std::int64_t>() > (std::int64_t{1} << 32))
        throw io::FormatError(where + "." + key + ": a positive integer (at most 2^32) is required");
      *field = e[key].get<std::int64_t>();
    }
    g.sparse = e.value("sparse", false);
    g.weight_per_example = e.value("weight_per_example", false);
    if (g.sparse && g.weight_per_example) throw io::FormatError(where + ": an activation-times-activation GEMM cannot be 2:4");
    if (g.sparse && g.k % 4 != 0) throw io::FormatError(where + ": a 2:4 GEMM needs k divisible by 4");
    net.gemms.push_back(std::move(g));
  }
  return net;
}

}  // namespace twofour::perf
