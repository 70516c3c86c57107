#include "cli/checkpoint_support.hpp"

#include "twofour/build_info.hpp"
#include "twofour/io/checkpoint_writer.hpp"
#include "twofour/sparse/bitmask24.hpp"
#include "twofour/sparse/nm_scan.hpp"

#include <fstream>
#include <sstream>

namespace twofour::cli {

void ZeroCount::add(std::span<const std::byte> bytes, io::DType dtype) {
  if (!io::is_floating(dtype)) return;
  const auto s = sparse::count_zeros(bytes, io::dtype_size(dtype), io::sign_bit(dtype));
  zeros += s.zeros;
  elements += s.elements;
}

io::OutputTensor counted(io::OutputTensor t, ZeroCount& count, std::size_t dropped_zeros) {
  auto inner = std::move(t.produce);
  const io::DType dtype = t.dtype;
  t.produce = [inner = std::move(inner), dtype, &count, dropped_zeros](const io::ByteSink& sink) {
    inner([&](std::span<const std::byte> b) {
      count.add(b, dtype);
      sink(b);
    });
    count.zeros += dropped_zeros;
    count.elements += dropped_zeros;
  };
  return t;
}

void count_all(std::vector<io::OutputTensor>& tensors, ZeroCount& count) {
  const auto ends_with = [](const std::string& s, const std::string& x) {
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  for (auto& t : tensors) {
    if (ends_with(t.name, ".bitmask") || ends_with(t.name, ".shape")) continue;
    const bool compressed = ends_with(t.name, ".compressed") && t.shape.size() == 2;
    t = counted(std::move(t), count, compressed ? t.shape[0] * t.shape[1] : 0);
  }
}

io::Checkpoint open_checkpoint(const std::string& path) {
  try {
    return io::Checkpoint::open(path);
  } catch (const io::FormatError& e) {
    throw CommandFailed(e.what());
  }
}

std::string provenance(const std::string& what) {
  return std::string("twofour ") + build_info::version + " (git " + build_info::git_revision + ") " + what;
}

std::map<std::string, std::string> with_provenance(std::map<std::string, std::string> metadata, const std::string& what) {
  std::string key = "twofour";
  for (int i = 1; metadata.count(key) != 0; ++i) key = "twofour." + std::to_string(i);
  metadata[key] = provenance(what);
  return metadata;
}

std::optional<std::string> read_config(const io::Checkpoint& c) {
  if (!c.is_folder()) return std::nullopt;
  std::ifstream f(c.path() / "config.json", std::ios::binary);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_output(const io::Checkpoint& in, const std::string& out, const std::vector<io::OutputShard>& shards,
                  const std::function<std::map<std::string, std::string>()>& replaced_files) {
  try {
    io::write_checkpoint(in, out, shards, replaced_files);
  } catch (const CommandFailed&) {
    throw;
  } catch (const UsageError&) {
    throw;
  } catch (const sparse::Bitmask24Error& e) {
    throw CommandFailed(std::string(e.what()) + "; nothing was written");
  } catch (const std::exception& e) {
    throw CommandFailed(std::string(e.what()) + " (nothing was written)");
  }
}

}  // namespace twofour::cli
