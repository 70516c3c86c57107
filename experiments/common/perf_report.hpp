#pragma once
// What `twofour perfmodel` and `twofour formats --table` print and write, shared with the
// reproduction's report: the roofline estimates (lib/include/twofour/perf/roofline.hpp) as
// records, a text table, CSV and a plot, and the whitepaper's Table 1 from the published figures.
#include "twofour/perf/gpu_specs.hpp"
#include "twofour/perf/roofline.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace twofour::experiments {

// data/perf/ in the source tree: gpus.json, models/*.json, whitepaper-figure2.json.
std::filesystem::path perf_data_dir();

// "mlp" and "cnn": read off twofour's own models; "resnext101", "bert-large": data/perf/models;
// anything else: a description file. Throws std::invalid_argument for an unknown name.
perf::NetworkShape network_named(const std::string& name_or_file);

struct PerfRun {
  perf::NetworkShape network;
  std::string dtype;
  std::vector<std::int64_t> batches;
  std::vector<const perf::GpuSpec*> gpus;
};

// One record per (GPU, batch, GEMM) and one per (GPU, batch) network total ("gemm": "total"):
// gpu, network, dtype, batch, gemm, m, n, k, count, sparse, operations, dense/sparse bytes and
// seconds, bound, speedup.
std::vector<nlohmann::json> perf_records(const PerfRun& run);
// {"assumptions": [...], "gpus": {...sources}, "figure2": {...}, "records": [...]}.
nlohmann::json perf_document(const PerfRun& run, const perf::GpuTable& table);
// The network totals as a text table, one block per GPU, with the assumptions above it.
std::string perf_table_text(const PerfRun& run, const std::vector<nlohmann::json>& records);
// The model's assumptions, one sentence each (also in docs/perf-model.md).
const std::vector<std::string>& perf_assumptions();
// Sparse speed-up against batch size per GPU, with the whitepaper's Figure 2 beside it.
void draw_perf_plot(const std::filesystem::path& document_json, const std::filesystem::path& png);

// The reproduction report's performance section (markdown): Table 1, the roofline model's
// speed-ups of ResNeXt-101 (the whitepaper's deployment network) and of the two trained models on
// every GPU, the assumptions, and perfmodel.png when `plots`. Writes perfmodel.json and
// perfmodel.csv (ResNeXt-101, every GEMM) into `out`. Throws std::runtime_error when the
// published-figures data cannot be read or a file cannot be written.
std::string perf_report_section(const std::filesystem::path& out, bool plots);

// Table 1: dense and sparse peak per data type, one block per GPU, with sources.
std::string table1_text(const perf::GpuTable& table);
std::string table1_markdown(const perf::GpuTable& table);

}  // namespace twofour::experiments
