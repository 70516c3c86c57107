#pragma once
// The ONNX branch of `twofour check`: which Gemm/Conv weight initializers of MODEL.onnx are 2:4,
// beside what twofour's export metadata claims. Returns the exit code (0, or 1 when a weight the
// metadata calls 2:4 is not).
#include <filesystem>

namespace twofour::cli {

int check_onnx_file(const std::filesystem::path& model);

}  // namespace twofour::cli
