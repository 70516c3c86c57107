#include "common/onnx_model.hpp"

#include "common/plot.hpp"
#include "twofour/build_info.hpp"
#include "twofour/io/atomic_file.hpp"
#include "twofour/nn/layers.hpp"
#include "twofour/sparse/mask.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace twofour::experiments {

using json = nlohmann::json;

namespace {

io::Array array_of(const nn::Tensor& t) {
  return io::make_array(io::DType::f32, t.shape, std::as_bytes(std::span<const float>(t.data)));
}

// A scratch folder beside `near`, removed with everything in it when the guard goes.
struct ScratchDir {
  explicit ScratchDir(const std::filesystem::path& near, const std::string& what) {
    const auto folder = near.parent_path().empty() ? std::filesystem::path(".") : near.parent_path();
    path = folder / ("." + near.filename().string() + "." + what + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

void need_python(const char* modules, const char* what) {
  if (!python_has_modules(modules))
    throw std::runtime_error(std::string(what) + " needs python3 with the packages " + modules +
                             " (./scripts/install-deps installs them: pip onnx, onnxruntime)");
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  if (in) ss << in.rdbuf();
  return ss.str();
}

}  // namespace

OnnxDescription describe_for_onnx(nn::TrainedModel& trained, const std::string& source) {
  nn::Model& model = *trained.model;
  OnnxDescription d;
  json layers = json::array();
  json sparsity = json::object();
  auto weight = [&](nn::Parameter& p) {
    d.weights.emplace_back(p.name, array_of(p.value));
    if (p.prunable && !p.mask.empty())
      sparsity[p.name] = "2:4 (2 kept of every 4 consecutive input channels, ONNX axis 1)";
    return p.name;
  };
  for (auto& owned : model.net.layers) {
    nn::Layer* l = owned.get();
    if (auto* fc = dynamic_cast<nn::Linear*>(l)) {
      layers.push_back({{"op", "Gemm"}, {"name", fc->name}, {"weight", weight(fc->weight)},
                        {"bias", fc->has_bias ? json(weight(fc->bias)) : json(nullptr)}});
    } else if (auto* conv = dynamic_cast<nn::Conv2d*>(l)) {
      layers.push_back({{"op", "Conv"}, {"name", conv->name}, {"weight", weight(conv->weight)},
                        {"bias", conv->has_bias ? json(weight(conv->bias)) : json(nullptr)},
                        {"kernel", conv->k}, {"stride", conv->stride}, {"padding", conv->pad}});
    } else if (auto* bn = dynamic_cast<nn::BatchNorm*>(l)) {
      d.weights.emplace_back(bn->name + ".running_mean", array_of(bn->running_mean));
      d.weights.emplace_back(bn->name + ".running_var", array_of(bn->running_var));
      layers.push_back({{"op", "BatchNormalization"}, {"name", bn->name}, {"scale", weight(bn->gamma)},
                        {"bias", weight(bn->beta)}, {"mean", bn->name + ".running_mean"},
                        {"var", bn->name + ".running_var"}, {"epsilon", bn->eps}});
    } else if (dynamic_cast<nn::ReLU*>(l) != nullptr) {
      layers.push_back({{"op", "Relu"}, {"name", l->name}});
    } else if (auto* pool = dynamic_cast<nn::MaxPool2d*>(l)) {
      layers.push_back({{"op", "MaxPool"}, {"name", pool->name}, {"kernel", pool->k}, {"stride", pool->stride}});
    } else if (dynamic_cast<nn::Flatten*>(l) != nullptr) {
      layers.push_back({{"op", "Flatten"}, {"name", l->name}});
    } else {
      throw std::invalid_argument("layer '" + l->name + "' (" + l->describe() + ") has no ONNX export");
    }
  }
  const std::string doc = "twofour " + model.kind + " trained with workflow '" + trained.workflow + "' (" + source +
                          "). Inputs: Fashion-MNIST images scaled as twofour's loader does; outputs: class logits.";
  d.graph = {{"name", "twofour_" + model.kind},
             {"input_shape", model.image_shape},
             {"classes", 10},
             {"opset", kOnnxOpset},
             {"ir_version", kOnnxIrVersion},
             {"producer_version", build_info::version},
             {"doc", doc},
             {"layers", layers},
             {"metadata",
              {{"twofour.model", model.kind},
               {"twofour.workflow", trained.workflow},
               {"twofour.train_config", trained.config_json},
               {"twofour.trained_by_git_revision", trained.git_revision},
               {"twofour.exported_by_git_revision", build_info::git_revision},
               {"twofour.source", source},
               {"twofour.sparsity", sparsity.dump()},
               {"twofour.sparsity_note",
                "weights listed in twofour.sparsity are 2:4 structured along ONNX axis 1 (input channels), stored "
                "dense with their zeros; build a TensorRT engine with sparse weights enabled (trtexec --sparsity=enable) "
                "to run them on sparse tensor cores"}}}};
  return d;
}

void export_onnx(nn::TrainedModel& trained, const std::string& source, const std::filesystem::path& out) {
  need_python("onnx, numpy", "ONNX export");
  const OnnxDescription d = describe_for_onnx(trained, source);
  const ScratchDir scratch(out, "export");
  io::write_file_atomically(scratch.path / "graph.json", d.graph.dump());
  io::write_npz(scratch.path / "weights.npz", d.weights);
  const auto onnx_file = scratch.path / "model.onnx";
  const int rc = run_python_script("experiments/onnx/export_onnx.py",
                                   {(scratch.path / "graph.json").string(), (scratch.path / "weights.npz").string(),
                                    onnx_file.string()});
  if (rc != 0) throw std::runtime_error("writing " + out.string() + " failed (export_onnx.py exit " + std::to_string(rc) + ", see above)");
  io::write_file_atomically(out, slurp(onnx_file));
}

OnnxReport onnx_24_report(const std::filesystem::path& model) {
  need_python("onnx, numpy", "reading ONNX");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model, ec)) throw std::runtime_error(model.string() + ": no such file");
  const ScratchDir scratch(std::filesystem::temp_directory_path() / model.filename(), "check");
  const auto npz = scratch.path / "initializers.npz";
  const auto summary_file = scratch.path / "summary.json";
  const int rc = run_python_script("experiments/onnx/read_onnx.py", {model.string(), npz.string(), summary_file.string()});
  if (rc != 0) throw std::runtime_error(model.string() + ": could not be read as ONNX (read_onnx.py exit " + std::to_string(rc) + ")");
  const json summary = json::parse(slurp(summary_file));
  const io::NamedArrays arrays = io::read_npz(npz);
  std::map<std::string, const io::Array*> by_key;
  for (const auto& [name, a] : arrays) by_key[name] = &a;

  OnnxReport report;
  report.ir_version = summary.value("ir_version", 0);
  report.opset = summary["opsets"].value("ai.onnx", 0);
  report.producer = summary.value("producer", "");
  for (const auto& [k, v] : summary["metadata"].items()) report.metadata[k] = v.get<std::string>();
  json claimed = json::object();
  if (report.metadata.contains("twofour.sparsity")) claimed = json::parse(report.metadata["twofour.sparsity"], nullptr, false);
  if (claimed.is_discarded()) claimed = json::object();

  for (const auto& init : summary["initializers"]) {
    OnnxInitializer r;
    r.name = init["name"].get<std::string>();
    r.shape = init["shape"].get<std::vector<std::size_t>>();
    if (claimed.contains(r.name)) r.metadata_says = claimed[r.name].get<std::string>();
    const io::Array* a = by_key.count(init["key"].get<std::string>()) ? by_key[init["key"].get<std::string>()] : nullptr;
    if (init.contains("use")) {
      const auto& use = init["use"];
      r.consumer = use["op"].get<std::string>() + " input " + std::to_string(use["slot"].get<int>());
      // 2:4 applies to the weight operand along its input axis: Conv W (K, C, kh, kw) and Gemm B
      // stored (N, K) with transB=1 — axis 1 both times, as the sparse tensor cores read them.
      r.weight = use["slot"] == 1 && ((use["op"] == "Conv" && r.shape.size() == 4) ||
                                      (use["op"] == "Gemm" && r.shape.size() == 2 && use["transB"] == 1));
      if (use["op"] == "MatMul" || (use["op"] == "Gemm" && use["transB"] != 1))
        r.detail = "a (K, N) right operand: not checked (twofour checks (N, K) weights along K)";
    }
    if (a == nullptr || !io::is_floating(a->dtype)) {
      r.detail = "not a floating-point array";
      r.weight = false;
    }
    if (r.weight) {
      const std::vector<float> values = io::to_float32(*a);
      std::size_t zeros = 0;
      for (float v : values) zeros += v == 0.0f ? 1 : 0;
      r.zero_fraction = values.empty() ? 0 : static_cast<double>(zeros) / static_cast<double>(values.size());
      const sparse::GroupedShape shape(r.shape);
      const sparse::NMCheck c = sparse::check_nm(values, shape, {2, 4});
      r.is_24 = c.ok;
      if (!c.ok) r.detail = c.message;
    } else if (r.detail.empty()) {
      r.detail = "not a Gemm/Conv weight";
    }
    report.initializers.push_back(std::move(r));
  }
  return report;
}

}  // namespace twofour::experiments
