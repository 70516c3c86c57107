#pragma once
// An n-dimensional array as read from or written to .npy / .npz / .safetensors: a dtype, a shape
// and the raw little-endian bytes in C (row-major) order.
//
// bf16 convention: NumPy has no bfloat16, so a bf16 array is written to .npy as '<u2' (the raw
// bit patterns, the upper half of the float32 bits) and read back as u16; callers reinterpret it
// with as_dtype(DType::bf16) (the tool's `--dtype bf16`). Safetensors has a native BF16 dtype.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace twofour::io {

// A malformed, truncated or unsupported file. The message names the file (when known) and the
// field at fault.
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// f8e4m3 / f8e5m2: the OCP 8-bit floats (safetensors F8_E4M3 / F8_E5M2; PyTorch float8_e4m3fn /
// float8_e5m2), decoded through sim/spec's e4m3 and e5m2 formats.
enum class DType { b1, i8, u8, i16, u16, i32, u32, i64, u64, f16, bf16, f32, f64, c64, c128, f8e4m3, f8e5m2 };

std::size_t dtype_size(DType t);
std::string_view dtype_name(DType t);  // "float32", "bfloat16", "int8", ...
std::optional<DType> dtype_from_name(std::string_view name);
bool is_floating(DType t);  // f8e4m3, f8e5m2, f16, bf16, f32, f64
// The bits that are the sign of a floating dtype's element (0 for integers): an element is zero
// when every other bit is 0, whatever its sign.
std::uint64_t sign_bit(DType t);

struct Array {
  DType dtype = DType::f32;
  std::vector<std::size_t> shape;
  std::vector<std::byte> data;  // numel * dtype_size bytes

  std::size_t numel() const;
};

// Checked product of the dimensions; throws FormatError on overflow or beyond `limit` elements.
std::size_t checked_numel(std::span<const std::size_t> shape, std::size_t element_size,
                          std::size_t limit_bytes = static_cast<std::size_t>(1) << 40);

// Values as float32 (f16/bf16 decoded exactly, f64 and 64-bit integers rounded to nearest).
// Throws FormatError for complex dtypes.
std::vector<float> to_float32(const Array& a);
// An array of `dtype` from float32 values (round to nearest even; integers round and saturate).
Array from_float32(std::span<const float> values, std::vector<std::size_t> shape, DType dtype);
// The same bytes under another dtype of the same size (u16 <-> bf16 <-> f16 <-> i16...).
Array as_dtype(Array a, DType dtype);
// Typed constructors for tests and tools.
Array make_array(DType dtype, std::vector<std::size_t> shape, std::span<const std::byte> bytes);

}  // namespace twofour::io
