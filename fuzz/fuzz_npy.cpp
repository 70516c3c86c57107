// libFuzzer target: parse_npy must either return an array or throw FormatError; a parsed array
// survives serialize -> parse unchanged.
#include "twofour/io/npy.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace twofour::io;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const Array a = parse_npy(bytes);
    const Array b = parse_npy(serialize_npy(a));
    if (a.dtype != b.dtype || a.shape != b.shape || a.data != b.data) std::abort();
  } catch (const FormatError&) {
  }
  return 0;
}
