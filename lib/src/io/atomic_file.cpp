#include "twofour/io/atomic_file.hpp"

#include "twofour/io/output_set.hpp"

namespace twofour::io {

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  OutputSet out({}, {path});
  out.write(path, bytes);
  out.commit();
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

}  // namespace twofour::io
