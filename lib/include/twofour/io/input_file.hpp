#pragma once
// Every input file is opened here, so that each kind of unusable path gives one error naming it:
// a missing file, a folder, a device, FIFO or socket where a regular file is needed (their size is
// unknown and reading one may block), or a file without read permission. The errors are
// FormatError (array.hpp), which the tool reports on one line with exit code 1.
#include "twofour/io/array.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace twofour::io {

// Throws FormatError unless `path` is a readable regular file (symlinks followed).
void require_input_file(const std::filesystem::path& path);
// Throws FormatError unless `path` is a readable, searchable folder.
void require_input_folder(const std::filesystem::path& path);

// The whole file; throws FormatError as above, or when reading fails.
std::vector<std::byte> read_file_bytes(const std::filesystem::path& path);
std::string read_text_file(const std::filesystem::path& path);

}  // namespace twofour::io
