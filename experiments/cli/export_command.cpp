// `twofour export --onnx OUT.onnx RUN_DIR`: a trained MLP or CNN (the checkpoint `twofour train
// --out RUN_DIR` wrote) as a standard ONNX model for deployment (TensorRT, onnxruntime): opset 17,
// weights as plain float32 initializers (2:4 ones keep their zeros), sparsity in the metadata.
#include "cli/command.hpp"
#include "common/onnx_model.hpp"
#include "twofour/io/array.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>

namespace twofour::cli {
namespace {

struct Options {
  std::string onnx, run_dir;
};

int run_export(const Options& o) {
  if (o.onnx.empty()) throw UsageError("give --onnx OUT.onnx (the only export format)");
  const std::filesystem::path run = o.run_dir;
  const auto checkpoint = std::filesystem::is_directory(run) ? run / "checkpoint.safetensors" : run;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(checkpoint, ec))
    throw CommandFailed(checkpoint.string() + ": no training checkpoint (run `twofour train --out " + o.run_dir + "` first)");
  if (std::filesystem::exists(o.onnx, ec) && std::filesystem::equivalent(o.onnx, checkpoint, ec))
    throw UsageError("--onnx would overwrite the checkpoint " + checkpoint.string());
  nn::TrainedModel trained;
  try {
    trained = nn::load_trained_model(checkpoint);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  try {
    experiments::export_onnx(trained, "run " + std::filesystem::absolute(run).lexically_normal().string(), o.onnx);
  } catch (const std::exception& e) {
    throw CommandFailed(e.what());
  }
  std::printf("wrote %s: %s (%s, %d epoch(s)), ONNX opset %d, IR version %d\n", o.onnx.c_str(), trained.model->kind.c_str(),
              trained.workflow.c_str(), trained.completed_epochs, experiments::kOnnxOpset, experiments::kOnnxIrVersion);
  for (nn::Parameter* p : trained.model->pruned_parameters())
    if (!p->mask.empty()) std::printf("  %-14s 2:4 (metadata twofour.sparsity)\n", p->name.c_str());
  return 0;
}

RegisterCommand reg{{"export", "Export a trained MLP or CNN run as ONNX (opset 17; 2:4 weights recorded in metadata)",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("--onnx", o->onnx, "write the ONNX model here");
    sub.add_option("run", o->run_dir, "the folder `twofour train --out` wrote (or its checkpoint.safetensors)")->required();
    return [o]() { return run_export(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
