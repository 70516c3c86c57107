#pragma once
// Internal: a masked weight's compressed 2:4 form for the sparse layers (sparse_layers.hpp), and
// the transposes that turn batch-major activations into the kernels' operands.
#include "twofour/gemm/packed_sparse_gemm.hpp"
#include "twofour/gemm/sparse_gemm.hpp"
#include "twofour/sparse/rowmajor_layout.hpp"

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace twofour::nn::detail {

// Float storage whose data starts on a 64-byte cache line. The operands the sampled GEMM reads in
// place (dY and X, or the patches) are kept in it: rows of whole vectors that start on a line
// never split a 64-byte load across two lines (a 16-byte offset made that kernel 1.4x slower).
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const CacheLineAllocator<U>&) const noexcept { return true; }
};
using AlignedFloats = std::vector<float, CacheLineAllocator<float>>;

// The kernels' options for metadata built by Compressed24 (valid by construction: skip the
// per-call validation pass).
inline const gemm::GemmOptions kTrusted24 = [] {
  gemm::GemmOptions o;
  o.validate_metadata = false;
  return o;
}();

// W*M viewed as a rows x cols matrix, 2:4 along cols, in the row-major compressed layout. The
// view is any arrangement of the weight tensor: at(row, col) gives the element's offset in it (a
// linear layer's W or W^T, a convolution's (K, R*S*C) view). The metadata, the offset of every
// stored value and the packed form's layout depend only on the mask, so they are rebuilt when the
// mask changes; at every step refresh() gathers the values from the weights straight into the
// packed form the 2:4 GEMM reads (no compressed copy, no per-call packing).
class Compressed24 {
 public:
  static constexpr std::uint32_t kFiller = 0xffffffffu;  // a stored slot the mask does not keep

  // Returns false (and the form is unusable) when cols % 4 != 0 or a group keeps more than 2.
  // A group keeping fewer stores zeros at its lowest unused columns.
  template <class At>
  bool rebuild(const std::uint8_t* mask, std::size_t rows, std::size_t cols, At at) {
    rows_ = rows;
    cols_ = cols;
    ok_ = cols % 4 == 0;
    if (!ok_) return false;
    const std::size_t mw = sparse::meta_words_per_row(cols);
    meta_.assign(rows * mw, 0);
    pos_.resize(rows * cols / 2);
    fillers_.clear();
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t g = 0; g < cols / 4; ++g) {
        unsigned chosen = 0, kept = 0;
        for (unsigned j = 0; j < 4; ++j)
          if (mask[at(r, 4 * g + j)] != 0) {
            chosen |= 1u << j;
            ++kept;
          }
        if (kept > 2) return ok_ = false;
        for (unsigned j = 0; j < 4 && kept < 2; ++j)
          if ((chosen & (1u << j)) == 0) {
            chosen |= 1u << j;
            ++kept;
          }
        unsigned idx[2] = {0, 0}, slot = 0;
        for (unsigned j = 0; j < 4; ++j)
          if ((chosen & (1u << j)) != 0) {
            const std::size_t off = at(r, 4 * g + j);
            pos_[r * cols / 2 + 2 * g + slot] = mask[off] != 0 ? static_cast<std::uint32_t>(off) : kFiller;
            if (mask[off] == 0) fillers_.push_back(off);
            idx[slot++] = j;
          }
        meta_[r * mw + g / 4] |= static_cast<std::uint16_t>(sparse::make_nibble(idx[0], idx[1]) << (4 * (g % 4)));
      }
    }
    const std::vector<float> zeros(rows * cols / 2, 0.0f);
    packed_ = gemm::PackedSparseMatrix({zeros.data(), meta_.data(), rows, cols}, kTrusted24);
    from_ = packed_.sources();
    for (auto& f : from_)
      if (f != gemm::PackedSparseMatrix::kNoSource) f = pos_[f] == kFiller ? gemm::PackedSparseMatrix::kNoSource : pos_[f];
    return true;
  }
  // The packed form's values from the weight tensor: one pass over the packed slots' weight
  // offsets, composed once per mask (gathering through the compressed index took 1 ns per slot).
  void refresh(const float* weights) { packed_.gather_values(weights, from_.data()); }
  // dense[pos] += v for each kept slot (the compressed gradient into the dense gradient tensor).
  void scatter_add(const float* compressed, float* dense) const;
  // Runs `product`, which writes or adds values at every stored slot's position of `tensor` (a
  // tensor shaped like the weight, e.g. the sampled GEMM's dense output into the gradient), and
  // restores the entries at filler slots: the mask prunes those, so they must not change.
  template <class Product>
  void preserving_fillers(float* tensor, Product&& product) {
    saved_.resize(fillers_.size());
    for (std::size_t i = 0; i < fillers_.size(); ++i) saved_[i] = tensor[fillers_[i]];
    product();
    for (std::size_t i = 0; i < fillers_.size(); ++i) tensor[fillers_[i]] = saved_[i];
  }
  // W*M as the dense rows x cols view (row-major), zeros at pruned positions.
  void decompress(const float* weights, std::vector<float>& dense) const;

  bool ok() const { return ok_; }
  const gemm::PackedSparseMatrix& packed() const { return packed_; }
  const std::uint16_t* metadata() const { return meta_.data(); }

 private:
  gemm::PackedSparseMatrix packed_;
  std::vector<std::uint32_t> from_;    // per packed slot: its weight-tensor offset, or kNoSource
  std::vector<std::size_t> fillers_;  // weight-tensor offsets of the filler slots (rare)
  std::vector<float> saved_;
  std::vector<std::uint16_t> meta_;
  std::vector<std::uint32_t> pos_;
  std::size_t rows_ = 0, cols_ = 0;
  bool ok_ = false;
};

// dst (cols x rows) = src (rows x cols)^T, both row-major and dense.
void transpose(const float* src, std::size_t rows, std::size_t cols, float* dst);

}  // namespace twofour::nn::detail
