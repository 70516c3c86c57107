#pragma once
// One output file written safely: a one-file OutputSet (output_set.hpp). The bytes go to a
// temporary file beside the target, are flushed to disk and renamed onto it; a symlink is
// written through, a device or FIFO written in place, and a failure leaves any previous file
// untouched. Commands that read inputs or write several outputs use an OutputSet directly, so
// that an output can never be one of their inputs and their outputs appear all or none.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string_view>

namespace twofour::io {

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes);
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace twofour::io
