#pragma once
// Pictures a user asked for by name (--png OUT): drawn by a plot script (common/plot.hpp) into a
// temporary file, then written to OUT atomically, so a failed drawing never leaves a partial PNG.
// Unlike the optional plots of the experiments, a picture that cannot be drawn is an error.
#include <filesystem>
#include <string>
#include <vector>

namespace twofour::experiments {

// Runs plots/<script> with `args` followed by a temporary PNG path, checks the result is a PNG,
// and writes it to `out`. Throws std::runtime_error (one line) when python3 with matplotlib is
// missing, the script fails, or its output is not a PNG.
void draw_picture(const std::string& script, const std::vector<std::string>& args, const std::filesystem::path& out);

// draw_picture for a script that reads one JSON document: `data` goes to a temporary file beside
// `out` (removed afterwards, also on failure) and the script is run as `script DATA.json OUT.png`.
void draw_picture_from_json(const std::string& script, const std::string& data_json, const std::filesystem::path& out);

// Whether `bytes` start with the PNG signature and carry an IHDR chunk; width/height when so.
bool looks_like_png(const std::string& bytes, int* width = nullptr, int* height = nullptr);

}  // namespace twofour::experiments
