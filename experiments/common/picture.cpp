#include "common/picture.hpp"

#include "common/plot.hpp"
#include "twofour/io/atomic_file.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace twofour::experiments {

void draw_picture_from_json(const std::string& script, const std::string& data_json, const std::filesystem::path& out) {
  const std::filesystem::path folder = out.parent_path().empty() ? std::filesystem::path(".") : out.parent_path();
  const auto data = folder / ("." + out.filename().string() + ".data-" + std::to_string(::getpid()) + ".json");
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) throw std::runtime_error("cannot write " + out.string() + ": no folder " + folder.string());
  io::write_file_atomically(data, data_json);
  try {
    draw_picture(script, {data.string()}, out);
  } catch (...) {
    std::filesystem::remove(data, ec);
    throw;
  }
  std::filesystem::remove(data, ec);
}

bool looks_like_png(const std::string& bytes, int* width, int* height) {
  static const std::string signature = "\x89PNG\r\n\x1a\n";
  if (bytes.size() < 33 || bytes.compare(0, 8, signature) != 0 || bytes.compare(12, 4, "IHDR") != 0) return false;
  auto be32 = [&](std::size_t at) {
    return static_cast<int>((static_cast<unsigned char>(bytes[at]) << 24) | (static_cast<unsigned char>(bytes[at + 1]) << 16) |
                            (static_cast<unsigned char>(bytes[at + 2]) << 8) | static_cast<unsigned char>(bytes[at + 3]));
  };
  if (width != nullptr) *width = be32(16);
  if (height != nullptr) *height = be32(20);
  return true;
}

void draw_picture(const std::string& script, const std::vector<std::string>& args, const std::filesystem::path& out) {
  if (!plotting_available())
    throw std::runtime_error("cannot draw " + out.string() +
                             ": python3 with numpy and matplotlib is needed (./scripts/install-deps installs them)");
  const std::filesystem::path folder = out.parent_path().empty() ? std::filesystem::path(".") : out.parent_path();
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) throw std::runtime_error("cannot write " + out.string() + ": no folder " + folder.string());
  // The temporary sits beside the target so a crash leaves nothing under the target's name.
  const auto temp = folder / ("." + out.filename().string() + ".drawing-" + std::to_string(::getpid()) + ".png");
  std::vector<std::string> full = args;
  full.push_back(temp.string());
  const bool ok = run_plot(script, full);
  std::string bytes;
  {
    std::ifstream in(temp, std::ios::binary);
    std::ostringstream ss;
    if (in) ss << in.rdbuf();
    bytes = ss.str();
  }
  std::filesystem::remove(temp, ec);
  if (!ok) throw std::runtime_error("drawing " + out.string() + " failed (" + script + ", see above)");
  if (!looks_like_png(bytes)) throw std::runtime_error("drawing " + out.string() + " failed: " + script + " wrote no PNG");
  io::write_file_atomically(out, bytes);
}

}  // namespace twofour::experiments
