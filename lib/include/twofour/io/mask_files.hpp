#pragma once
// Mask files published by other tools, applied by `twofour prune --mask FILE`:
//   * MaskLLM: an .npz with one key per weight holding np.packbits(mask) of the flattened mask,
//     NumPy's default (big-endian) bit order: element i is bit 7 - i % 8 of byte i / 8; the
//     shape comes from the weight.
//   * ASP-style mask tensors: a tensor of the weight's shape (bool, integers or floats; non-zero =
//     kept) in an .npz or .safetensors, keyed by the weight's name or by ASP's buffer name
//     "P.__weight_mma_mask" for "P.weight".
// Keys tried for a weight "P.weight", in order: "P.weight", "P.weight.mask", "P.mask",
// "P.__weight_mma_mask".
#include "twofour/io/checkpoint.hpp"
#include "twofour/io/npz.hpp"
#include "twofour/sparse/mask.hpp"

#include <optional>
#include <set>

namespace twofour::io {

class MaskFile {
 public:
  // Throws FormatError naming the path (unreadable, not .npz or .safetensors).
  static MaskFile open(const std::filesystem::path& path);

  // The mask of `tensor` (1 = kept), or nullopt when the file has none. Throws FormatError naming
  // the key when its entry fits neither layout.
  std::optional<sparse::Mask> mask_for(const std::string& tensor, std::span<const std::size_t> shape);
  // Keys no mask_for() call has used (a typo or another model's masks).
  std::vector<std::string> unused_keys() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  NamedArrays npz_;
  std::optional<Checkpoint> safetensors_;
  std::set<std::string> used_;
  const Array* find_npz(const std::string& key) const;
};

// The flattened bits of np.packbits (big-endian bit order) for `count` elements.
sparse::Mask unpack_bits_big_endian(std::span<const std::byte> packed, std::size_t count);

}  // namespace twofour::io
