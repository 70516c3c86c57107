// `twofour decompress`: values + metadata (rowmajor or cutlass layout) -> the dense matrix.
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
  std::string values, meta, output, layout, dtype;
};

int run(const Options& o) {
  sparse::MetaLayout layout{};
  if (o.layout == "rowmajor") {
    layout = sparse::MetaLayout::rowmajor;
  } else if (o.layout == "cutlass") {
    layout = sparse::MetaLayout::cutlass;
  } else {
    throw UsageError("--layout must be rowmajor or cutlass, not '" + o.layout + "'");
  }
  if (!o.dtype.empty() && o.dtype != "bf16" && o.dtype != "tf32") throw UsageError("--dtype accepts bf16 or tf32, not '" + o.dtype + "'");
  io::OutputSet outputs({o.values, o.meta}, {o.output});
  io::Array values, meta;
  try {
    values = io::read_npy(o.values);
    meta = io::read_npy(o.meta);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
  const std::string dt(io::dtype_name(values.dtype));
  sparse::ElementType type{};
  if (o.dtype == "bf16") {
    if (values.dtype != io::DType::u16 && values.dtype != io::DType::i16) throw UsageError("--dtype bf16 needs uint16 values, got " + dt);
    type = sparse::ElementType::bf16;
  } else if (o.dtype == "tf32") {
    if (values.dtype != io::DType::f32) throw UsageError("--dtype tf32 needs float32 values, got " + dt);
    type = sparse::ElementType::tf32;
  } else if (values.dtype == io::DType::f32) {
    type = sparse::ElementType::f32;
  } else if (values.dtype == io::DType::f16) {
    type = sparse::ElementType::f16;
  } else if (values.dtype == io::DType::i8) {
    type = sparse::ElementType::s8;
  } else if (values.dtype == io::DType::u16) {
    throw CommandFailed(o.values + " holds uint16: pass --dtype bf16 if these are bfloat16 bit patterns");
  } else {
    throw CommandFailed(o.values + " holds " + dt + "; values must be float32, float16, uint16 (--dtype bf16) or int8");
  }
  if (values.shape.size() != 2 || meta.shape.size() != 2)
    throw CommandFailed("values and metadata must be 2-D, got " + sparse::shape_string(values.shape) + " and " +
                        sparse::shape_string(meta.shape));
  const std::size_t rows = values.shape[0], cols = 2 * values.shape[1];
  try {
    sparse::check_dense_shape(type, layout, rows, cols);
  } catch (const std::invalid_argument& e) {
    throw CommandFailed(o.values + ": values of shape " + sparse::shape_string(values.shape) + " make a " + e.what());
  }
  const std::size_t mb = sparse::meta_element_bytes(type, layout);
  const bool meta_ok = mb == 2 ? (meta.dtype == io::DType::i16 || meta.dtype == io::DType::u16)
                               : (meta.dtype == io::DType::i32 || meta.dtype == io::DType::u32);
  if (!meta_ok)
    throw CommandFailed(o.meta + " holds " + std::string(io::dtype_name(meta.dtype)) + ", expected " + (mb == 2 ? "int16" : "int32") +
                        " metadata for " + std::string(sparse::to_string(type)) + " in the " + o.layout + " layout");
  const std::size_t want_cols = sparse::meta_cols(type, layout, cols);
  if (meta.shape[0] != rows || meta.shape[1] != want_cols)
    throw CommandFailed(o.meta + " has shape " + sparse::shape_string(meta.shape) + ", expected (" + std::to_string(rows) + ", " +
                        std::to_string(want_cols) + ") for values of shape " + sparse::shape_string(values.shape));
  sparse::Compressed c;
  c.type = type;
  c.layout = layout;
  c.rows = rows;
  c.cols = cols;
  c.values = std::move(values.data);
  c.metadata = std::move(meta.data);
  io::Array out;
  out.dtype = values.dtype;
  out.shape = {rows, cols};
  try {
    out.data = sparse::decompress(c);
  } catch (const std::invalid_argument& e) {
    throw CommandFailed(o.meta + ": " + e.what());
  }
  outputs.write(o.output, io::serialize_npy(out));
  outputs.commit();
  return 0;
}

RegisterCommand reg{{"decompress", "Rebuild the dense matrix from compressed values and metadata",
  [](CLI::App& sub) -> std::function<int()> {
    auto o = std::make_shared<Options>();
    sub.add_option("values", o->values, "values .npy, M x K/2 (its dtype is the output dtype)")->required();
    sub.add_option("meta", o->meta, "metadata .npy (int16; int32 for int8 in cutlass)")->required();
    sub.add_option("output", o->output, "dense M x K .npy")->required();
    sub.add_option("--layout", o->layout, "rowmajor or cutlass")->required();
    sub.add_option("--dtype", o->dtype, "bf16 (uint16 values) or tf32 (float32 values)");
    return [o]() { return run(*o); };
  }}};

}  // namespace
}  // namespace twofour::cli
