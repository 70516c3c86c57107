#include "twofour/io/checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <unistd.h>

namespace twofour::io {
namespace {

using nlohmann::json;

std::string read_text(const std::filesystem::path& p) {
  const MappedFile file(p);
  const auto bytes = file.bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool plain_file_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos && s.find('\\') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

}  // namespace

Checkpoint Checkpoint::open(const std::filesystem::path& path) {
  Checkpoint c;
  c.path_ = path;
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) throw FormatError(path.string() + ": no such file or folder");
  std::vector<std::string> shard_files;
  std::map<std::string, std::string> weight_map;  // from the index
  if (std::filesystem::is_directory(st)) {
    c.folder_ = true;
    const auto index = path / kIndexFileName;
    if (std::filesystem::exists(index)) {
      c.index_text_ = read_text(index);
      const json j = json::parse(c.index_text_, nullptr, false);
      const std::string where = index.string() + ": ";
      if (j.is_discarded() || !j.is_object()) throw FormatError(where + "not a JSON object");
      if (!j.contains("weight_map") || !j["weight_map"].is_object()) throw FormatError(where + "has no \"weight_map\" object");
      if (j.contains("metadata") && !j["metadata"].is_object()) throw FormatError(where + "\"metadata\" is not an object");
      for (const auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string()) throw FormatError(where + "weight_map entry of '" + name + "' is not a file name");
        const std::string f = file.get<std::string>();
        if (!plain_file_name(f))
          throw FormatError(where + "weight_map maps '" + name + "' to '" + f + "', which is not a file name inside the folder");
        weight_map[name] = f;
        if (std::find(shard_files.begin(), shard_files.end(), f) == shard_files.end()) shard_files.push_back(f);
      }
      std::sort(shard_files.begin(), shard_files.end());
      for (const auto& f : shard_files) {
        const auto sp = path / f;
        if (!std::filesystem::is_regular_file(sp, ec)) {
          std::string first;
          for (const auto& [n, file] : weight_map)
            if (file == f) {
              first = n;
              break;
            }
          throw FormatError(where + "names shard '" + f + "' (for tensor '" + first + "'), which is missing");
        }
      }
    } else if (std::filesystem::is_regular_file(path / "model.safetensors", ec)) {
      shard_files.push_back("model.safetensors");
    } else {
      std::size_t n = 0;
      for (const auto& e : std::filesystem::directory_iterator(path))
        if (e.path().extension() == ".safetensors") ++n;
      throw FormatError(path.string() + ": it is a folder, and not a checkpoint: a checkpoint folder holds " + kIndexFileName +
                        " or model.safetensors (found " + std::to_string(n) + " other .safetensors files)");
    }
  } else {
    shard_files.push_back(path.filename().string());
  }

  for (std::size_t s = 0; s < shard_files.size(); ++s) {
    const auto sp = c.folder_ ? path / shard_files[s] : path;
    MappedFile map(sp);
    SafetensorsHeader header;
    try {
      header = parse_safetensors_header(map.bytes(), map.size());
    } catch (const FormatError& e) {
      throw FormatError(sp.string() + ": " + e.what());
    }
    CheckpointShard shard;
    shard.file = shard_files[s];
    shard.metadata = header.metadata;
    for (auto& e : header.tensors) {
      if (const auto it = c.by_name_.find(e.name); it != c.by_name_.end())
        throw FormatError(path.string() + ": tensor '" + e.name + "' is in two shards, " + shards_of(c, it->second) + " and " +
                          shard_files[s]);
      if (c.has_index()) {
        const auto m = weight_map.find(e.name);
        if (m == weight_map.end())
          throw FormatError(sp.string() + ": holds tensor '" + e.name + "', which the index does not name");
        if (m->second != shard_files[s])
          throw FormatError(path.string() + ": tensor '" + e.name + "' is in shard " + shard_files[s] + " but the index maps it to " +
                            m->second);
      }
      CheckpointTensor t;
      t.name = e.name;
      t.shard = s;
      t.dtype = e.dtype;
      t.shape = std::move(e.shape);
      t.offset = header.data_start + e.begin;
      t.size = e.end - e.begin;
      shard.tensors.push_back(c.tensors_.size());
      c.by_name_[t.name] = c.tensors_.size();
      c.tensors_.push_back(std::move(t));
    }
    c.shards_.push_back(std::move(shard));
    c.maps_.push_back(std::move(map));
  }
  for (const auto& [name, file] : weight_map)
    if (c.by_name_.find(name) == c.by_name_.end())
      throw FormatError(path.string() + ": the index maps tensor '" + name + "' to shard " + file + ", which does not hold it");
  return c;
}

std::string Checkpoint::shards_of(const Checkpoint& c, std::size_t tensor) { return c.shards_.empty() ? "" : c.shards_[c.tensors_[tensor].shard].file; }

const CheckpointTensor* Checkpoint::find(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

std::vector<std::filesystem::path> Checkpoint::other_entries() const {
  std::vector<std::filesystem::path> out;
  if (!folder_) return out;
  for (const auto& e : std::filesystem::directory_iterator(path_)) {
    const std::string name = e.path().filename().string();
    if (name == kIndexFileName) continue;
    if (std::any_of(shards_.begin(), shards_.end(), [&](const CheckpointShard& s) { return s.file == name; })) continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::filesystem::path Checkpoint::shard_path(std::size_t shard) const { return folder_ ? path_ / shards_[shard].file : path_; }

std::span<const std::byte> Checkpoint::bytes(const CheckpointTensor& t) const {
  return maps_[t.shard].bytes().subspan(static_cast<std::size_t>(t.offset), static_cast<std::size_t>(t.size));
}

Array Checkpoint::read(const CheckpointTensor& t) const { return make_array(t.dtype, t.shape, bytes(t)); }

void Checkpoint::release(const CheckpointTensor& t) const {
  maps_[t.shard].release(static_cast<std::size_t>(t.offset), static_cast<std::size_t>(t.size));
}

void write_safetensors_to(const OutputShard& shard, const ByteSink& put) {
  std::vector<SafetensorsEntry> planned;
  for (const auto& t : shard.tensors) planned.push_back({t.name, t.dtype, t.shape, 0, 0});
  const auto laid = layout_safetensors(planned);
  put(serialize_safetensors_header(laid, shard.metadata));
  for (std::size_t i = 0; i < shard.tensors.size(); ++i) {
    const std::uint64_t need = laid[i].end - laid[i].begin;
    std::uint64_t got = 0;
    shard.tensors[i].produce([&](std::span<const std::byte> b) {
      got += b.size();
      if (got > need) throw std::runtime_error("tensor '" + laid[i].name + "' produced more bytes than its shape holds");
      put(b);
    });
    if (got != need)
      throw std::runtime_error("tensor '" + laid[i].name + "' produced " + std::to_string(got) + " bytes, its shape holds " +
                               std::to_string(need));
  }
}

void write_streamed_safetensors(const std::filesystem::path& path, const OutputShard& shard) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  write_safetensors_to(shard, [&](std::span<const std::byte> b) {
    while (!b.empty()) {
      const ssize_t n = ::write(fd, b.data(), b.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
      }
      b = b.subspan(static_cast<std::size_t>(n));
    }
  });
  if (::fsync(fd) != 0) throw std::runtime_error("cannot flush " + path.string() + ": " + std::strerror(errno));
}

std::string build_index(const std::string& input_index_text, const std::vector<OutputShard>& shards) {
  json j = json::object();
  if (!input_index_text.empty()) {
    j = json::parse(input_index_text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) j = json::object();
  }
  json map = json::object();
  std::uint64_t total = 0;
  for (const auto& s : shards)
    for (const auto& t : s.tensors) {
      map[t.name] = s.file;
      total += checked_numel(t.shape, dtype_size(t.dtype), std::numeric_limits<std::size_t>::max()) * dtype_size(t.dtype);
    }
  if (!j.contains("metadata") || !j["metadata"].is_object()) j["metadata"] = json::object();
  j["metadata"]["total_size"] = total;
  j["weight_map"] = map;
  return j.dump(2) + "\n";
}

}  // namespace twofour::io
