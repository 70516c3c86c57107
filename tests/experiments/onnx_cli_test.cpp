// `twofour export --onnx` and `twofour check MODEL.onnx` as a user runs them, on runs trained in a
// few seconds. Oracle: onnxruntime (tests/experiments/onnx_roundtrip.py) running the exported
// model on the test images must predict what twofour's fp32 forward predicts, logits within fp32
// rounding; `check` must find exactly the model's 2:4 targets.
#include "common/plot.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/nn/data.hpp"
#include "twofour/nn/trained_model.hpp"

#include "support/paths.hpp"
#include "support/run_tool.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <unistd.h>

namespace {

using twofour::testing::count_lines;
using twofour::testing::run_tool;
namespace nn = twofour::nn;
namespace io = twofour::io;

bool have_fashion_mnist() { return std::filesystem::exists(std::string(nn::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz"); }

class OnnxExport : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist); skipping";
    if (!twofour::experiments::python_has_modules("onnx, numpy"))
      GTEST_SKIP() << "the PyPI package onnx is not installed (./scripts/install-deps installs it); nothing to export with";
    dir_ = std::filesystem::temp_directory_path() / ("twofour-onnx-" + std::to_string(::getpid()) + "-" + GetParam());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string q(const std::filesystem::path& p) const { return "'" + p.string() + "'"; }
  std::filesystem::path dir_;
};

TEST_P(OnnxExport, OnnxruntimeAgreesWithTwofourAndCheckFindsThe24Weights) {
  const std::string kind = GetParam();
  const auto run = dir_ / "run";
  auto r = run_tool("train --model " + kind + " --workflow asp --epochs 1 --limit 400 --test-limit 100 --threads 1 --seed 3 --out " + q(run));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto onnx = dir_ / (kind + ".onnx");
  r = run_tool("export --onnx " + q(onnx) + " " + q(run));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("opset 17"), std::string::npos) << r.out;

  // twofour's fp32 forward on 500 test images.
  nn::TrainedModel trained = nn::load_trained_model(run / "checkpoint.safetensors");
  const nn::Dataset test = nn::load_fashion_mnist(nn::kFashionMnistDir, false, 500);
  std::vector<std::size_t> idx(test.size());
  std::iota(idx.begin(), idx.end(), 0);
  const nn::Tensor x = nn::make_batch(test, idx, trained.model->image_shape);
  const nn::Tensor logits = trained.model->net.forward(x, false);
  io::write_npy(dir_ / "x.npy", io::from_float32(x.data, x.shape, io::DType::f32));
  io::write_npy(dir_ / "logits.npy", io::from_float32(logits.data, logits.shape, io::DType::f32));
  const std::string script = twofour::testing::test_data_dir() + "/../experiments/onnx_roundtrip.py";
  const auto py = run_tool(q(script) + " " + q(onnx) + " " + q(dir_ / "x.npy") + " " + q(dir_ / "logits.npy"), "python3");
  if (py.exit_code == 77) GTEST_SKIP() << py.out;
  EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
  std::cerr << "  onnxruntime vs twofour (" << kind << "): " << py.out;

  r = run_tool("check " + q(onnx));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (nn::Parameter* p : trained.model->pruned_parameters()) {
    const auto at = r.out.find(p->name);
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
    EXPECT_NE(line.find(" yes "), std::string::npos) << line;
    EXPECT_NE(line.find("metadata: 2:4"), std::string::npos) << line;
  }
  EXPECT_NE(r.out.find(std::to_string(trained.model->pruned_parameters().size()) + " of "), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Models, OnnxExport, ::testing::Values("mlp", "cnn"));

TEST(OnnxCli, MissingRunAndWrongFilesAreOneLineErrors) {
  auto r = run_tool("export --onnx /tmp/x.onnx /nonexistent/run");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  r = run_tool("check /nonexistent/model.onnx");  // a missing input is a failure on the input (1)
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  if (!twofour::experiments::python_has_modules("onnx, numpy")) GTEST_SKIP() << "the PyPI package onnx is not installed";
  const auto bad = std::filesystem::temp_directory_path() / ("twofour-bad-" + std::to_string(::getpid()) + ".onnx");
  { std::ofstream(bad) << "not a protobuf at all"; }
  r = run_tool("check '" + bad.string() + "'");
  std::filesystem::remove(bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("could not be read as ONNX"), std::string::npos) << r.err;
}

}  // namespace
