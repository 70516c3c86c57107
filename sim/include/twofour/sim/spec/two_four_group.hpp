#pragma once
// Compressing one 2:4 group (four consecutive elements of a row): which two positions are stored
// and the metadata nibble (idx1 << 2) | idx0 that names them. The one definition behind
// sim::compress_a, sparse::compress and the CUDA prune-and-compress kernel (host and device).
//
// A group with two non-zeros stores them in column order. A group with fewer non-zeros must
// still name two distinct positions; the choice follows PyTorch's semi-structured conversion
// (torch/sparse/_semi_structured_conversions.py, sparse_semi_structured_from_dense_cutlass),
// the reference of the CUTLASS layout, so matrices compressed here and there match bit for bit.
// docs/compression.md lists the table and how CUTLASS's own SM90 compressor differs.
// The rule is a function of the non-zero flags only; callers decide what counts as zero (-0
// does) and reject groups with more than two non-zeros before asking.
#if defined(__CUDACC__)
#define TWOFOUR_HOST_DEVICE __host__ __device__
#else
#define TWOFOUR_HOST_DEVICE
#endif

namespace twofour::sim::spec {

struct TwoFourSelection {
  unsigned idx0;  // position (0..3) of the first stored value
  unsigned idx1;  // position of the second, idx0 < idx1
  TWOFOUR_HOST_DEVICE constexpr unsigned nibble() const { return (idx1 << 2) | idx0; }
};

// Bit i of `nonzero` = element i of the group is non-zero (at most two bits set).
// PyTorch's Boolean functions of the flags m0, m1, m3 (m2 is implied when at most two are set):
// groups with two non-zeros get their own positions; (0 0 0 0), (0 0 1 0) and (0 0 0 1) store
// positions 2, 3; (0 1 0 0) stores 1, 2; (1 0 0 0) stores 0, 2.
TWOFOUR_HOST_DEVICE constexpr TwoFourSelection select_two_of_four(unsigned nonzero) {
  const bool m0 = (nonzero & 1u) != 0, m1 = (nonzero & 2u) != 0, m3 = (nonzero & 8u) != 0;
  const bool both_low = m0 && m1, only_second = !m0 && m1, neither_low = !m0 && !m1;
  const unsigned idx0 = static_cast<unsigned>(only_second) | (static_cast<unsigned>(neither_low) << 1);
  const unsigned idx1 = static_cast<unsigned>(both_low || neither_low || m3) |
                        (static_cast<unsigned>(only_second || !m1) << 1);
  return {idx0, idx1};
}

// The 1:2 groups of 32-bit elements (tf32 mma.sp, CUTLASS f32 layout) are encoded "as if four
// halves": element j's flag stands for halves 2j and 2j+1, giving 0b0100 (element 0 stored) or
// 0b1110 (element 1 stored; also the all-zero group).
TWOFOUR_HOST_DEVICE constexpr TwoFourSelection select_one_of_two(unsigned nonzero) {
  const unsigned f0 = nonzero & 1u, f1 = (nonzero >> 1) & 1u;
  return select_two_of_four(f0 | (f0 << 1) | (f1 << 2) | (f1 << 3));
}

static_assert(select_two_of_four(0b0000).nibble() == 0b1110 && select_two_of_four(0b0001).nibble() == 0b1000 &&
              select_two_of_four(0b0010).nibble() == 0b1001 && select_two_of_four(0b0100).nibble() == 0b1110 &&
              select_two_of_four(0b1000).nibble() == 0b1110 && select_two_of_four(0b1001).nibble() == 0b1100);
static_assert(select_one_of_two(0b01).nibble() == 0b0100 && select_one_of_two(0b10).nibble() == 0b1110 &&
              select_one_of_two(0b00).nibble() == 0b1110);

}  // namespace twofour::sim::spec
