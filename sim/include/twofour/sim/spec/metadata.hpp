#pragma once
// Decoding one metadata nibble: which dense columns of its chunk the stored values occupy, and
// whether the nibble is defined behaviour for the instruction.
//
// Source: PTX ISA 9.1 §9.7.14.6.1 "Sparse matrix storage" (docs/ptx-facts.md §Metadata):
//  - 2:4 (16-bit, 8-bit, fp8): nibble = (idx1 << 2) | idx0; the first stored value goes to
//    column idx0, the second to idx1. Equal indices are undefined behaviour (UB).
//  - ::ordered_metadata additionally requires idx0 < idx1. Plain mma.sp accepts a descending pair
//    (still "first value to idx0"): accepted here but flagged, since no GPU has confirmed it [I].
//  - tf32 (1:2): only 0b0100 (element 0) and 0b1110 (element 1) are meaningful.
//  - 4-bit (4:8 in pairs): idx0/idx1 count pairs of the 8-wide chunk; stored values 0,1 go to pair
//    idx0 and 2,3 to pair idx1.
#include "twofour/sim/spec/instruction.hpp"

#include <cstdint>

namespace twofour::sim::spec {

enum class NibbleStatus : std::uint8_t {
  ok,
  descending_unconfirmed,  // plain mma.sp with idx0 > idx1: executed as written, flagged [I]
  equal_indices,           // UB for every variant
  unordered,               // UB under ::ordered_metadata (idx0 > idx1)
  invalid_tf32,            // UB: a tf32 nibble other than 0100 / 1110
};

constexpr std::string_view nibble_status_text(NibbleStatus s) {
  switch (s) {
    case NibbleStatus::ok: return "ok";
    case NibbleStatus::descending_unconfirmed: return "descending indices under plain mma.sp (unconfirmed on hardware)";
    case NibbleStatus::equal_indices: return "equal indices (undefined behaviour)";
    case NibbleStatus::unordered: return "indices not increasing under ::ordered_metadata (undefined behaviour)";
    case NibbleStatus::invalid_tf32: return "tf32 nibble other than 0100/1110 (undefined behaviour)";
  }
  return "?";
}

constexpr bool is_undefined(NibbleStatus s) {
  return s != NibbleStatus::ok && s != NibbleStatus::descending_unconfirmed;
}

struct DecodedNibble {
  NibbleStatus status;
  int count;         // stored values this chunk holds: 2 (2:4), 1 (tf32), 4 (4-bit pairs)
  int offset[4];     // dense column within the chunk of each stored value, in storage order
};

constexpr DecodedNibble decode_nibble(const Instruction& in, unsigned nibble) {
  const int idx0 = static_cast<int>(nibble & 3u), idx1 = static_cast<int>((nibble >> 2) & 3u);
  DecodedNibble d{NibbleStatus::ok, in.stored_per_chunk(), {0, 0, 0, 0}};
  if (in.sparsity == Sparsity::one_of_two) {
    if (nibble == 0x4u) d.offset[0] = 0;
    else if (nibble == 0xeu) d.offset[0] = 1;
    else d.status = NibbleStatus::invalid_tf32;
    return d;
  }
  if (idx0 == idx1) d.status = NibbleStatus::equal_indices;
  else if (idx0 > idx1) d.status = in.order == MetadataOrder::ordered ? NibbleStatus::unordered : NibbleStatus::descending_unconfirmed;
  if (in.sparsity == Sparsity::pairs_4of8) {
    d.offset[0] = 2 * idx0;
    d.offset[1] = 2 * idx0 + 1;
    d.offset[2] = 2 * idx1;
    d.offset[3] = 2 * idx1 + 1;
  } else {
    d.offset[0] = idx0;
    d.offset[1] = idx1;
  }
  return d;
}

}  // namespace twofour::sim::spec
