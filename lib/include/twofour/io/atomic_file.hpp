#pragma once
// Writes that never leave a half-written file behind: the bytes go to a temporary file in the
// same folder, are flushed to disk, and the temporary is renamed over the target (POSIX rename is
// atomic within a file system). A failure leaves any previous file untouched.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace twofour::io {

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace twofour::io
