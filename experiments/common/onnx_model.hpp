#pragma once
// twofour models in and out of ONNX. Writing and reading the protobuf is done by the `onnx`
// Python package (experiments/onnx/*.py, called like the plot scripts); the decisions (which
// layers become which ONNX ops, which weights are 2:4) are made here.
#include "twofour/io/npz.hpp"
#include "twofour/nn/trained_model.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace twofour::experiments {

// Opset 17 (Gemm-13, Conv-11, BatchNormalization-15, MaxPool-12, Relu-14, Flatten-13) with IR
// version 8, its matching IR: read by onnxruntime and by TensorRT 8.6 and later.
inline constexpr int kOnnxOpset = 17;
inline constexpr int kOnnxIrVersion = 8;

// The graph description export_onnx.py turns into ONNX (layers in order, their initializer
// names, the metadata) and the initializers themselves.
struct OnnxDescription {
  nlohmann::json graph;
  io::NamedArrays weights;
};
OnnxDescription describe_for_onnx(nn::TrainedModel& trained, const std::string& source);

// Writes `out` atomically. Throws std::runtime_error (one line) when python3 with onnx and numpy
// is missing or the writer fails.
void export_onnx(nn::TrainedModel& trained, const std::string& source, const std::filesystem::path& out);

struct OnnxInitializer {
  std::string name;
  std::vector<std::size_t> shape;
  std::string consumer;      // "Gemm input 1", "Conv input 1", ... ("" when unused)
  bool weight = false;       // a Gemm (transB=1) or Conv weight: 2:4 groups along its input axis
  bool is_24 = false;        // every group of 4 along the input axis has at most 2 non-zeros
  double zero_fraction = 0;
  std::string detail;        // why not 2:4 (the first bad group), or why not checked
  std::string metadata_says; // twofour's sparsity metadata for it ("" when none)
};
struct OnnxReport {
  int opset = 0;
  int ir_version = 0;
  std::string producer;
  std::map<std::string, std::string> metadata;
  std::vector<OnnxInitializer> initializers;
};
// Reads `model` (through experiments/onnx/read_onnx.py) and checks every weight initializer for
// 2:4. Throws std::runtime_error (one line) when the file cannot be read as ONNX or the Python
// packages are missing.
OnnxReport onnx_24_report(const std::filesystem::path& model);

}  // namespace twofour::experiments
