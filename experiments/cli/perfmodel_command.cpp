// `twofour perfmodel`: a roofline estimate of dense and 2:4 time of every GEMM of a network and of
// the whole network, per GPU and batch size, from the published peaks in data/perf/gpus.json
// (lib/include/twofour/perf/roofline.hpp states the assumptions).
#include "cli/command.hpp"
#include "common/perf_report.hpp"
#include "common/picture.hpp"
#include "common/results.hpp"
#include "twofour/io/array.hpp"
#include "twofour/io/atomic_file.hpp"

#include <iostream>
#include <memory>
#include <sstream>

namespace twofour::cli {
namespace {

using json = nlohmann::json;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

struct Options {
  std::string gpus = "A100,H100,H200", model = "resnext101", batches = "1,8,32,128,512", dtype = "fp16", json_out,
              csv_out, png_out, data;
  bool per_gemm = false;
};

int run_perfmodel(const Options& o) {
  perf::GpuTable table;
  try {
    table = perf::load_gpu_table(o.data.empty() ? experiments::perf_data_dir() / "gpus.json" : std::filesystem::path(o.data));
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  experiments::PerfRun run;
  run.dtype = o.dtype;
  try {
    (void)perf::bytes_per_element(o.dtype);
    for (const auto& name : split(o.gpus)) {
      run.gpus.push_back(&table.gpu(name));
      (void)run.gpus.back()->peak(o.dtype);
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  for (const auto& b : split(o.batches)) {
    std::size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(b, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != b.size() || v < 1 || v > (1LL << 24)) throw UsageError("--batch wants positive integers, not '" + b + "'");
    run.batches.push_back(v);
  }
  if (run.batches.empty() || run.gpus.empty()) throw UsageError("--batch and --gpu need at least one value");
  try {
    run.network = experiments::network_named(o.model);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }

  // Outputs never replace the files this command reads.
  for (const std::string* out : {&o.json_out, &o.csv_out, &o.png_out}) {
    std::error_code ec;
    for (const std::string& in : {o.data, o.model})
      if (!out->empty() && !in.empty() && std::filesystem::exists(*out, ec) && std::filesystem::exists(in, ec) &&
          std::filesystem::equivalent(*out, in, ec))
        throw UsageError("output " + *out + " would overwrite the input " + in);
  }
  const json document = experiments::perf_document(run, table);
  std::vector<json> records = document["records"].get<std::vector<json>>();
  std::cout << experiments::perf_table_text(run, records);
  if (o.per_gemm) {
    for (const auto& r : records) {
      if (r["gemm"] == "total") continue;
      char line[240];
      std::snprintf(line, sizeof line, "%-5s b=%-5lld %-28s m=%-5lld n=%-8lld k=%-5lld x%-4lld %-6s %10.2f %10.2f us %6.3fx %s/%s\n",
                    r["gpu"].get<std::string>().c_str(), static_cast<long long>(r["batch"].get<std::int64_t>()),
                    r["gemm"].get<std::string>().c_str(), static_cast<long long>(r["m"].get<std::int64_t>()),
                    static_cast<long long>(r["n"].get<std::int64_t>()), static_cast<long long>(r["k"].get<std::int64_t>()),
                    static_cast<long long>(r["count"].get<std::int64_t>()), r["sparse"].get<bool>() ? "2:4" : "dense",
                    1e6 * r["dense_s"].get<double>(), 1e6 * r["sparse_s"].get<double>(), r["speedup"].get<double>(),
                    r["dense_bound"].get<std::string>().c_str(), r["sparse_bound"].get<std::string>().c_str());
      std::cout << line;
    }
  }
  std::cout << "\nNetwork shapes: " << run.network.source << "\n";
  try {
    if (!o.json_out.empty()) io::write_file_atomically(o.json_out, document.dump(1) + "\n");
    if (!o.csv_out.empty()) io::write_file_atomically(o.csv_out, experiments::results_csv(records));
    if (!o.png_out.empty()) {
      if (!o.json_out.empty()) experiments::draw_perf_plot(o.json_out, o.png_out);
      else experiments::draw_picture_from_json("perfmodel.py", document.dump(), o.png_out);
    }
  } catch (const std::runtime_error& e) {
    throw CommandFailed(e.what());
  }
  return 0;
}

RegisterCommand reg{{"perfmodel", "Roofline estimate of dense versus 2:4 time per GEMM and network, per GPU and batch size",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("--gpu", o->gpus, "GPUs, comma-separated (A100, H100, H200)")->capture_default_str();
    sub.add_option("--model", o->model, "mlp, cnn (twofour's models), resnext101, bert-large or a description file")
        ->capture_default_str();
    sub.add_option("--batch", o->batches, "batch sizes, comma-separated")->capture_default_str();
    sub.add_option("--dtype", o->dtype, "tensor-core input type: fp16, bf16, int8, fp8 (H100/H200), tf32")->capture_default_str();
    sub.add_option("--json", o->json_out, "write the assumptions, sources and one record per (GPU, batch, GEMM or total)");
    sub.add_option("--csv", o->csv_out, "write the records as CSV");
    sub.add_option("--png", o->png_out, "draw the network's speed-up against batch size per GPU");
    sub.add_option("--data", o->data, "published-figures file (default: data/perf/gpus.json of the sources)");
    sub.add_flag("--per-gemm", o->per_gemm, "also print every GEMM's estimate");
    return [o]() { return run_perfmodel(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
