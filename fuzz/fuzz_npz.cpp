// libFuzzer target: parse_npz must either return arrays or throw FormatError; parsed archives
// survive serialize -> parse unchanged.
#include "twofour/io/npz.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace twofour::io;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const NamedArrays a = parse_npz(bytes);
    const NamedArrays b = parse_npz(serialize_npz(a, size % 2 == 0));
    if (a.size() != b.size()) std::abort();
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i].first != b[i].first || a[i].second.shape != b[i].second.shape || a[i].second.data != b[i].second.data)
        std::abort();
  } catch (const FormatError&) {
  }
  return 0;
}
