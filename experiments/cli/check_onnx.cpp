// `twofour check MODEL.onnx`: which initializers of an ONNX model are 2:4 (every group of 4
// consecutive input channels of a Gemm or Conv weight holds at most 2 non-zeros), beside what
// twofour's metadata claims. Exit 0 when every claimed 2:4 weight is 2:4, 1 otherwise.
//
// check_onnx_file() is the whole ONNX branch of `twofour check` (one entry of check_command.cpp's
// table of input kinds).
#include "cli/check_onnx.hpp"
#include "cli/command.hpp"
#include "common/onnx_model.hpp"

#include <cstdio>
#include <filesystem>

namespace twofour::cli {

int check_onnx_file(const std::filesystem::path& model) {
  experiments::OnnxReport r;
  try {
    r = experiments::onnx_24_report(model);
  } catch (const std::exception& e) {
    throw CommandFailed(e.what());
  }
  std::printf("%s: ONNX IR version %d, opset %d, producer '%s'\n", model.string().c_str(), r.ir_version, r.opset,
              r.producer.c_str());
  std::size_t weights = 0, sparse = 0, broken = 0;
  std::printf("  %-26s %-18s %-28s %-6s %7s  %s\n", "initializer", "shape", "used by", "2:4", "zeros", "note");
  for (const auto& i : r.initializers) {
    std::string shape = "(";
    for (std::size_t d = 0; d < i.shape.size(); ++d) shape += (d ? ", " : "") + std::to_string(i.shape[d]);
    shape += ")";
    std::string note = i.detail;
    if (!i.metadata_says.empty()) {
      note = "metadata: 2:4";
      if (!i.is_24) {
        note += ", BUT NOT 2:4: " + i.detail;
        ++broken;
      }
    }
    char zeros[16] = "-";
    if (i.weight) std::snprintf(zeros, sizeof zeros, "%.1f%%", 100 * i.zero_fraction);
    std::printf("  %-26s %-18s %-28s %-6s %7s  %s\n", i.name.c_str(), shape.c_str(), i.consumer.c_str(),
                i.weight ? (i.is_24 ? "yes" : "no") : "-", zeros, note.c_str());
    weights += i.weight ? 1 : 0;
    sparse += i.weight && i.is_24 ? 1 : 0;
  }
  std::printf("%zu of %zu weight initializers are 2:4 along their input channels\n", sparse, weights);
  if (broken > 0) {
    std::fprintf(stderr, "twofour: error: %zu initializer(s) that the metadata calls 2:4 are not 2:4\n", broken);
    return 1;
  }
  return 0;
}

}  // namespace twofour::cli
