#include "twofour/io/checkpoint_writer.hpp"

#include "twofour/io/output_set.hpp"

#include <fstream>
#include <stdexcept>

namespace twofour::io {
namespace {

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
  f.close();
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

}  // namespace

OutputTensor copy_tensor(const Checkpoint& in, const CheckpointTensor& t) {
  return {t.name, t.dtype, t.shape, [&in, &t](const ByteSink& sink) {
            sink(in.bytes(t));
            in.release(t);
          }};
}

void write_checkpoint(const Checkpoint& in, const std::filesystem::path& out, const std::vector<OutputShard>& shards,
                      const std::function<std::map<std::string, std::string>()>& replaced_files) {
  if (shards.size() != in.shards().size()) throw std::invalid_argument("write_checkpoint: one output shard per input shard");
  if (!in.is_folder()) {
    OutputSet set({in.path()}, {out});
    std::vector<std::byte> bytes;
    write_safetensors_to(shards[0], [&](std::span<const std::byte> b) { bytes.insert(bytes.end(), b.begin(), b.end()); });
    set.write(out, bytes);
    set.commit();
    return;
  }
  OutputSet set({in.path()}, {}, {out});
  const auto dir = set.folder(out);
  for (const auto& s : shards) write_streamed_safetensors(dir / s.file, s);
  if (in.has_index()) write_text(dir / kIndexFileName, build_index(in.index_text(), shards));
  const auto replaced = replaced_files ? replaced_files() : std::map<std::string, std::string>{};
  for (const auto& entry : in.other_entries()) {
    const std::string name = entry.filename().string();
    if (replaced.count(name) != 0) continue;
    std::filesystem::copy(entry, dir / name, std::filesystem::copy_options::recursive);
  }
  for (const auto& [name, text] : replaced) write_text(dir / name, text);
  set.commit();
}

}  // namespace twofour::io
