// `twofour show-24 IN.npy --png OUT.png`: Figure 1 of the whitepaper drawn from a real matrix: W, its
// 2:4 mask, the compressed values and the metadata indices (experiments/plots/figure1.py). Without
// --png it prints the same story as text.
#include "cli/command.hpp"
#include "common/picture.hpp"
#include "common/picture_data.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/sparse/render.hpp"

#include <iostream>
#include <memory>

namespace twofour::cli {
namespace {

struct Options {
  std::string input, png;
};

int run_show_24(const Options& o) {
  io::Array in;
  std::vector<float> values;
  try {
    in = io::read_npy(o.input);
    if (!io::is_floating(in.dtype)) throw io::FormatError(o.input + ": dtype " + std::string(io::dtype_name(in.dtype)) + " is not floating point");
    values = io::to_float32(in);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  if (in.shape.size() != 2) throw CommandFailed(o.input + ": a 2-D matrix is needed, not rank " + std::to_string(in.shape.size()));
  nlohmann::json data;
  try {
    data = experiments::figure1_data(values, in.shape[0], in.shape[1]);
  } catch (const std::invalid_argument& e) {
    throw CommandFailed(o.input + ": " + e.what());
  }
  if (o.png.empty()) {
    std::cout << sparse::render_24(values, in.shape[0], in.shape[1]);
    return 0;
  }
  if (std::filesystem::exists(o.png) && std::filesystem::equivalent(o.png, o.input))
    throw UsageError("--png would overwrite the input " + o.input);
  try {
    experiments::draw_picture_from_json("figure1.py", data.dump(), o.png);
  } catch (const std::runtime_error& e) {
    throw CommandFailed(e.what());
  }
  std::cout << "wrote " << o.png << " (" << in.shape[0] << "x" << in.shape[1]
            << (data["already_24"].get<bool>() ? ", already 2:4" : ", pruned to 2:4 by magnitude") << ")\n";
  return 0;
}

RegisterCommand reg{{"show-24", "Draw Figure 1 from a matrix: W, its 2:4 mask, compressed values and metadata indices",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("input", o->input, "a small 2-D floating-point .npy (columns a multiple of 4, at most 64 x 64)")->required();
    sub.add_option("--png", o->png, "write the picture here (without it: print the text form)");
    return [o]() { return run_show_24(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
