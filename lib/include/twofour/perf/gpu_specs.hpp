#pragma once
// Published peak figures of the GPUs the performance model knows (data/perf/gpus.json): dense and
// 2:4-sparse tensor-core throughput per data type, DRAM bandwidth, L2 size and SM count, each with
// the document it comes from. One home for these facts: the model and `twofour formats --table`
// both read them from the data file.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace twofour::perf {

struct Peak {
  double dense = 0;   // operations per second (a multiply-add counts 2)
  double sparse = 0;  // 2:4 sparse A, counted as the dense operations it stands for; 0: none
  std::string source;
};

struct GpuSpec {
  std::string name;     // "A100"
  std::string variant;  // "A100 SXM4 80GB"
  double dram_bytes_per_second = 0;
  double l2_bytes = 0;
  int sms = 0;
  std::map<std::string, Peak> peaks;  // by data type: "fp16", "bf16", "tf32", "int8", "fp8", "int4"
  std::map<std::string, std::string> sources;  // "dram", "l2", "sms" -> document
  const Peak& peak(const std::string& dtype) const;  // throws std::invalid_argument when absent
};

struct GpuTable {
  std::vector<GpuSpec> gpus;
  std::map<std::string, std::string> documents;  // short key -> full citation
  const GpuSpec& gpu(const std::string& name) const;  // throws std::invalid_argument when absent
};

// Reads and checks the data file (every figure positive, sparse = 2 x dense where present, every
// source a known document). Throws io::FormatError with the file and the field on bad input.
GpuTable load_gpu_table(const std::filesystem::path& path);

// Bytes per element of a tensor-core input type ("fp16" -> 2).
double bytes_per_element(const std::string& dtype);

}  // namespace twofour::perf
