#pragma once
// The perf data files (GPU figures, network shapes) are JSON read through the one input path
// (io::read_text_file: a folder, device or unreadable file is a located error).
#include "twofour/io/array.hpp"
#include "twofour/io/input_file.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace twofour::perf {

inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  try {
    return nlohmann::json::parse(io::read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw io::FormatError(path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

}  // namespace twofour::perf
