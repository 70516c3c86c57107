#include "twofour/io/array.hpp"

#include "twofour/sim/spec/rounding.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace twofour::io {
namespace {

struct DTypeInfo {
  DType type;
  std::size_t size;
  std::string_view name;
};

constexpr DTypeInfo kInfo[] = {
    {DType::b1, 1, "bool"},     {DType::i8, 1, "int8"},       {DType::u8, 1, "uint8"},
    {DType::i16, 2, "int16"},   {DType::u16, 2, "uint16"},    {DType::i32, 4, "int32"},
    {DType::u32, 4, "uint32"},  {DType::i64, 8, "int64"},     {DType::u64, 8, "uint64"},
    {DType::f16, 2, "float16"}, {DType::bf16, 2, "bfloat16"}, {DType::f32, 4, "float32"},
    {DType::f64, 8, "float64"}, {DType::c64, 8, "complex64"}, {DType::c128, 16, "complex128"},
    {DType::f8e4m3, 1, "float8_e4m3"}, {DType::f8e5m2, 1, "float8_e5m2"},
};

const DTypeInfo& info(DType t) {
  for (const auto& i : kInfo)
    if (i.type == t) return i;
  return kInfo[0];
}

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
void store_int(std::byte* p, float x) {
  double v = std::isnan(x) ? 0.0 : std::nearbyint(static_cast<double>(x));
  const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  const double hi = static_cast<double>(std::numeric_limits<T>::max());
  T out;
  if (v <= lo) {
    out = std::numeric_limits<T>::lowest();
  } else if (v >= hi) {
    out = std::numeric_limits<T>::max();
  } else {
    out = static_cast<T>(v);
  }
  std::memcpy(p, &out, sizeof out);
}

}  // namespace

std::size_t dtype_size(DType t) { return info(t).size; }
std::string_view dtype_name(DType t) { return info(t).name; }
std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& i : kInfo)
    if (i.name == name) return i.type;
  return std::nullopt;
}
bool is_floating(DType t) {
  return t == DType::f16 || t == DType::bf16 || t == DType::f32 || t == DType::f64 || t == DType::f8e4m3 ||
         t == DType::f8e5m2;
}

std::uint64_t sign_bit(DType t) {
  if (!is_floating(t)) return 0;
  return std::uint64_t{1} << (8 * dtype_size(t) - 1);
}

std::size_t checked_numel(std::span<const std::size_t> shape, std::size_t element_size, std::size_t limit_bytes) {
  std::size_t n = 1;
  for (std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / d) throw FormatError("shape overflows the element count");
    n *= d;
  }
  if (element_size != 0 && n > limit_bytes / element_size)
    throw FormatError("shape of " + std::to_string(n) + " elements exceeds the size limit");
  return n;
}

std::size_t Array::numel() const {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

std::vector<float> to_float32(const Array& a) {
  const std::size_t n = a.numel();
  const std::size_t es = dtype_size(a.dtype);
  if (a.data.size() != n * es) throw FormatError("array data size does not match its shape");
  std::vector<float> out(n);
  const std::byte* p = a.data.data();
  for (std::size_t i = 0; i < n; ++i, p += es) {
    switch (a.dtype) {
      case DType::b1: out[i] = load<std::uint8_t>(p) != 0 ? 1.0f : 0.0f; break;
      case DType::i8: out[i] = static_cast<float>(load<std::int8_t>(p)); break;
      case DType::u8: out[i] = static_cast<float>(load<std::uint8_t>(p)); break;
      case DType::i16: out[i] = static_cast<float>(load<std::int16_t>(p)); break;
      case DType::u16: out[i] = static_cast<float>(load<std::uint16_t>(p)); break;
      case DType::i32: out[i] = static_cast<float>(load<std::int32_t>(p)); break;
      case DType::u32: out[i] = static_cast<float>(load<std::uint32_t>(p)); break;
      case DType::i64: out[i] = static_cast<float>(load<std::int64_t>(p)); break;
      case DType::u64: out[i] = static_cast<float>(load<std::uint64_t>(p)); break;
      case DType::f16:
        out[i] = static_cast<float>(sim::spec::decode_to_double(sim::spec::fp16, load<std::uint16_t>(p)));
        break;
      case DType::bf16:
        out[i] = static_cast<float>(sim::spec::decode_to_double(sim::spec::bf16, load<std::uint16_t>(p)));
        break;
      case DType::f32: out[i] = load<float>(p); break;
      case DType::f64: out[i] = static_cast<float>(load<double>(p)); break;
      case DType::f8e4m3:
        out[i] = static_cast<float>(sim::spec::decode_to_double(sim::spec::e4m3, load<std::uint8_t>(p)));
        break;
      case DType::f8e5m2:
        out[i] = static_cast<float>(sim::spec::decode_to_double(sim::spec::e5m2, load<std::uint8_t>(p)));
        break;
      case DType::c64:
      case DType::c128: throw FormatError("complex arrays have no float32 value");
    }
  }
  return out;
}

Array from_float32(std::span<const float> values, std::vector<std::size_t> shape, DType dtype) {
  Array a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  const std::size_t n = a.numel();
  if (n != values.size()) throw std::invalid_argument("from_float32: shape does not match the value count");
  const std::size_t es = dtype_size(dtype);
  a.data.assign(n * es, std::byte{0});
  std::byte* p = a.data.data();
  for (std::size_t i = 0; i < n; ++i, p += es) {
    const float x = values[i];
    switch (dtype) {
      case DType::b1: *p = static_cast<std::byte>(x != 0.0f); break;
      case DType::i8: store_int<std::int8_t>(p, x); break;
      case DType::u8: store_int<std::uint8_t>(p, x); break;
      case DType::i16: store_int<std::int16_t>(p, x); break;
      case DType::u16: store_int<std::uint16_t>(p, x); break;
      case DType::i32: store_int<std::int32_t>(p, x); break;
      case DType::u32: store_int<std::uint32_t>(p, x); break;
      case DType::i64: store_int<std::int64_t>(p, x); break;
      case DType::u64: store_int<std::uint64_t>(p, x); break;
      case DType::f16:
      case DType::bf16: {
        const auto bits = static_cast<std::uint16_t>(
            sim::spec::encode(dtype == DType::f16 ? sim::spec::fp16 : sim::spec::bf16, static_cast<double>(x)));
        std::memcpy(p, &bits, 2);
        break;
      }
      case DType::f32: std::memcpy(p, &x, 4); break;
      case DType::f64: {
        const double d = static_cast<double>(x);
        std::memcpy(p, &d, 8);
        break;
      }
      case DType::f8e4m3:
      case DType::f8e5m2:
        *p = static_cast<std::byte>(sim::spec::encode(dtype == DType::f8e4m3 ? sim::spec::e4m3 : sim::spec::e5m2,
                                                      static_cast<double>(x)));
        break;
      case DType::c64:
      case DType::c128: throw std::invalid_argument("from_float32: complex dtypes are not supported");
    }
  }
  return a;
}

Array as_dtype(Array a, DType dtype) {
  if (dtype_size(dtype) != dtype_size(a.dtype))
    throw std::invalid_argument("cannot view " + std::string(dtype_name(a.dtype)) + " as " + std::string(dtype_name(dtype)) +
                                ": element sizes differ");
  a.dtype = dtype;
  return a;
}

Array make_array(DType dtype, std::vector<std::size_t> shape, std::span<const std::byte> bytes) {
  Array a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  if (bytes.size() != a.numel() * dtype_size(dtype)) throw std::invalid_argument("make_array: byte count does not match the shape");
  a.data.assign(bytes.begin(), bytes.end());
  return a;
}

}  // namespace twofour::io
