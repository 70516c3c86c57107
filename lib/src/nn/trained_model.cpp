#include "twofour/nn/trained_model.hpp"

#include "twofour/io/array.hpp"
#include "twofour/io/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <stdexcept>

namespace twofour::nn {

TrainedModel load_trained_model(const std::filesystem::path& checkpoint) {
  using json = nlohmann::json;
  const io::SafetensorsFile f = io::read_safetensors(checkpoint);
  const std::string file = checkpoint.string();
  const auto meta = [&](const std::string& key) -> const std::string& {
    const auto it = f.metadata.find(key);
    if (it == f.metadata.end()) throw io::FormatError(file + ": not a twofour training checkpoint (no '" + key + "' metadata)");
    return it->second;
  };
  if (meta("format").rfind("twofour-train-checkpoint/", 0) != 0)
    throw io::FormatError(file + ": checkpoint format '" + meta("format") + "' is not a twofour training checkpoint");
  TrainedModel out;
  out.config_json = meta("config");
  const auto git = f.metadata.find("git_revision");
  if (git != f.metadata.end()) out.git_revision = git->second;
  std::string kind;
  try {
    const json config = json::parse(out.config_json);
    kind = config.at("model").get<std::string>();
    out.workflow = config.value("workflow", "");
    out.completed_epochs = json::parse(meta("state")).at("completed_epochs").get<int>();
    out.model = make_model(kind);
  } catch (const json::exception& e) {
    throw io::FormatError(file + ": bad config or state metadata (" + e.what() + ")");
  } catch (const std::invalid_argument& e) {
    throw io::FormatError(file + ": " + e.what());
  }
  std::map<std::string, const io::Array*> tensors;
  for (const auto& [name, a] : f.tensors) tensors[name] = &a;
  const auto copy = [&](const std::string& key, Tensor& t) {
    const auto it = tensors.find(key);
    if (it == tensors.end()) throw io::FormatError(file + ": checkpoint lacks tensor '" + key + "'");
    const io::Array& a = *it->second;
    if (a.dtype != io::DType::f32 || a.shape != t.shape)
      throw io::FormatError(file + ": tensor '" + key + "' is not float32 " + t.shape_string());
    std::memcpy(t.data.data(), a.data.data(), a.data.size());
  };
  for (Parameter* p : out.model->parameters()) {
    copy("param/" + p->name, p->value);
    const auto m = tensors.find("mask/" + p->name);
    if (m == tensors.end()) continue;
    if (m->second->dtype != io::DType::u8 || m->second->shape != p->value.shape)
      throw io::FormatError(file + ": mask of '" + p->name + "' is not uint8 " + p->value.shape_string());
    p->mask.resize(m->second->data.size());
    std::memcpy(p->mask.data(), m->second->data.data(), m->second->data.size());
    // Training keeps pruned weights at zero; enforce it so inference never depends on that.
    for (std::size_t i = 0; i < p->mask.size(); ++i)
      if (p->mask[i] == 0) p->value.data[i] = 0.0f;
  }
  for (auto& [name, t] : out.model->net.buffers()) copy("buffer/" + name, *t);
  return out;
}

}  // namespace twofour::nn
