// libFuzzer target: parse_safetensors must either return tensors or throw FormatError; parsed
// files survive serialize -> parse unchanged.
#include "twofour/io/safetensors.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace twofour::io;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const SafetensorsFile a = parse_safetensors(bytes);
    const SafetensorsFile b = parse_safetensors(serialize_safetensors(a));
    if (a.tensors.size() != b.tensors.size() || a.metadata != b.metadata) std::abort();
    for (std::size_t i = 0; i < a.tensors.size(); ++i)
      if (a.tensors[i].second.data != b.tensors[i].second.data || a.tensors[i].second.shape != b.tensors[i].second.shape)
        std::abort();
  } catch (const FormatError&) {
  }
  return 0;
}
