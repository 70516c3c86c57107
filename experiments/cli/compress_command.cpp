// `twofour compress`: a dense 2:4 (1:2 for f32 in the cutlass layout) matrix -> values + metadata,
// in the plain row-major layout or the CUTLASS/PyTorch reordered one (twofour/sparse/compress.hpp).
#include "cli/command.hpp"
#include "twofour/io/npy.hpp"
#include "twofour/io/output_set.hpp"
#include "twofour/sparse/compress.hpp"
#include "twofour/sparse/pattern.hpp"

#include <memory>
#include <string>

namespace twofour::cli {
namespace {

struct Options {
  std::string input, values, meta, layout, dtype;
  bool prune = false;
};

sparse::MetaLayout parse_layout(const std::string& s) {
  if (s == "rowmajor") return sparse::MetaLayout::rowmajor;
  if (s == "cutlass") return sparse::MetaLayout::cutlass;
  throw UsageError("--layout must be rowmajor or cutlass, not '" + s + "'");
}

int run(const Options& o) {
  const auto layout = parse_layout(o.layout);
  if (!o.dtype.empty() && o.dtype != "bf16" && o.dtype != "tf32") throw UsageError("--dtype accepts bf16 or tf32, not '" + o.dtype + "'");
  io::OutputSet outputs({o.input}, {o.values, o.meta});
  io::Array in;
  try {
    in = io::read_npy(o.input);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  if (in.shape.size() != 2) throw CommandFailed(o.input + ": expected a 2-D matrix, shape is " + sparse::shape_string(in.shape));
  sparse::ElementType type{};
  const std::string dt(io::dtype_name(in.dtype));
  if (o.dtype == "bf16") {
    if (in.dtype != io::DType::u16 && in.dtype != io::DType::i16) throw UsageError("--dtype bf16 needs uint16 input, got " + dt);
    type = sparse::ElementType::bf16;
  } else if (o.dtype == "tf32") {
    if (in.dtype != io::DType::f32) throw UsageError("--dtype tf32 needs float32 input, got " + dt);
    type = sparse::ElementType::tf32;
  } else if (in.dtype == io::DType::f32) {
    type = sparse::ElementType::f32;
  } else if (in.dtype == io::DType::f16) {
    type = sparse::ElementType::f16;
  } else if (in.dtype == io::DType::i8) {
    type = sparse::ElementType::s8;
  } else if (in.dtype == io::DType::u16) {
    throw CommandFailed(o.input + " holds uint16: pass --dtype bf16 if these are bfloat16 bit patterns");
  } else {
    throw CommandFailed(o.input + " holds " + dt + "; compress takes float32, float16, bfloat16 (uint16 + --dtype bf16) or int8");
  }
  sparse::Compressed c;
  try {
    c = sparse::compress(in.data, type, in.shape[0], in.shape[1], layout, o.prune);
  } catch (const std::invalid_argument& e) {
    throw CommandFailed(o.input + ": " + e.what());
  }
  io::Array values;
  values.dtype = in.dtype;  // bf16 stays uint16 on disk
  values.shape = {c.rows, c.cols / 2};
  values.data = std::move(c.values);
  io::Array meta;
  meta.dtype = sparse::meta_element_bytes(type, layout) == 4 ? io::DType::i32 : io::DType::i16;
  meta.shape = {c.rows, sparse::meta_cols(type, layout, c.cols)};
  meta.data = std::move(c.metadata);
  outputs.write(o.values, io::serialize_npy(values));
  outputs.write(o.meta, io::serialize_npy(meta));
  outputs.commit();
  return 0;
}

RegisterCommand reg{{"compress", "Compress a dense 2:4 matrix (.npy) into values and metadata",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("input", o->input, "dense M x K .npy: float32 (1:2 in cutlass), float16, uint16 with --dtype bf16, int8")->required();
    sub.add_option("values", o->values, "output values .npy, M x K/2, input dtype")->required();
    sub.add_option("meta", o->meta, "output metadata .npy: int16 (int32 for int8 in cutlass)")->required();
    sub.add_option("--layout", o->layout, "rowmajor (plain nibbles in K order) or cutlass (CUTLASS/PyTorch reordered)")->required();
    sub.add_option("--dtype", o->dtype, "bf16 (uint16 input) or tf32 (float32 input)");
    sub.add_flag("--prune", o->prune, "magnitude-prune to 2:4 (1:2) first instead of failing on a dense group");
    return [o]() { return run(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
