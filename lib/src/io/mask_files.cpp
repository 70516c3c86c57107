#include "twofour/io/mask_files.hpp"

#include "twofour/sparse/pattern.hpp"

#include <algorithm>

namespace twofour::io {
namespace {

std::vector<std::string> candidate_keys(const std::string& tensor) {
  std::vector<std::string> keys = {tensor, tensor + ".mask"};
  const auto dot = tensor.rfind('.');
  if (dot != std::string::npos) {
    const std::string prefix = tensor.substr(0, dot);
    const std::string last = tensor.substr(dot + 1);
    keys.push_back(prefix + ".mask");
    keys.push_back(prefix + ".__" + last + "_mma_mask");
  }
  return keys;
}

sparse::Mask decode(const Array& a, const std::string& where, std::span<const std::size_t> shape) {
  const std::size_t n = checked_numel(shape, 1);
  if (a.shape.size() == shape.size() && std::equal(a.shape.begin(), a.shape.end(), shape.begin())) {
    const auto v = to_float32(a);
    sparse::Mask m(n);
    for (std::size_t i = 0; i < n; ++i) m[i] = v[i] != 0.0f ? 1 : 0;
    return m;
  }
  if ((a.dtype == DType::u8 || a.dtype == DType::i8) && a.numel() == (n + 7) / 8) return unpack_bits_big_endian(a.data, n);
  throw FormatError(where + " is " + std::string(dtype_name(a.dtype)) + " " + sparse::shape_string(a.shape) + ": neither the weight's shape " +
                    sparse::shape_string(shape) + " nor " + std::to_string((n + 7) / 8) + " packed uint8 bytes");
}

}  // namespace

sparse::Mask unpack_bits_big_endian(std::span<const std::byte> packed, std::size_t count) {
  if (packed.size() != (count + 7) / 8) throw FormatError("packed mask holds " + std::to_string(packed.size()) + " bytes, " +
                                                          std::to_string(count) + " elements need " + std::to_string((count + 7) / 8));
  sparse::Mask m(count);
  for (std::size_t i = 0; i < count; ++i) m[i] = (std::to_integer<unsigned>(packed[i / 8]) >> (7 - i % 8)) & 1u;
  return m;
}

MaskFile MaskFile::open(const std::filesystem::path& path) {
  MaskFile f;
  f.path_ = path;
  if (path.extension() == ".npz") {
    try {
      f.npz_ = read_npz(path);
    } catch (const FormatError& e) {
      throw FormatError(path.string() + ": " + e.what());
    }
  } else if (path.extension() == ".safetensors") {
    f.safetensors_ = Checkpoint::open(path);
  } else {
    throw FormatError(path.string() + ": a mask file is an .npz (MaskLLM, or mask tensors) or a .safetensors");
  }
  return f;
}

const Array* MaskFile::find_npz(const std::string& key) const {
  for (const auto& [name, a] : npz_)
    if (name == key) return &a;
  return nullptr;
}

std::optional<sparse::Mask> MaskFile::mask_for(const std::string& tensor, std::span<const std::size_t> shape) {
  for (const auto& key : candidate_keys(tensor)) {
    const std::string where = path_.string() + ": '" + key + "'";
    if (safetensors_) {
      if (const auto* t = safetensors_->find(key)) {
        used_.insert(key);
        auto m = decode(safetensors_->read(*t), where, shape);
        safetensors_->release(*t);
        return m;
      }
    } else if (const Array* a = find_npz(key)) {
      used_.insert(key);
      return decode(*a, where, shape);
    }
  }
  return std::nullopt;
}

std::vector<std::string> MaskFile::unused_keys() const {
  std::vector<std::string> out;
  if (safetensors_) {
    for (const auto& t : safetensors_->tensors())
      if (used_.count(t.name) == 0) out.push_back(t.name);
  } else {
    for (const auto& [name, a] : npz_)
      if (used_.count(name) == 0) out.push_back(name);
  }
  return out;
}

}  // namespace twofour::io
