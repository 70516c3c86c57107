// libFuzzer target: parse_idx_maybe_gzip (IDX, plain or gzip'd) must either return an array whose
// byte count matches its shape and dtype or throw FormatError.
#include "twofour/io/idx.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace twofour::io;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const Array a = parse_idx_maybe_gzip(bytes, "fuzz");
    std::size_t numel = 1;
    for (auto d : a.shape) numel *= d;
    if (a.shape.empty() || numel == 0 || a.data.size() != numel * dtype_size(a.dtype)) std::abort();
  } catch (const FormatError&) {
  }
  return 0;
}
