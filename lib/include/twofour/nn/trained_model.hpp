#pragma once
// A finished (or interrupted) training run's model, read back from its checkpoint
// (`twofour train --out DIR` writes DIR/checkpoint.safetensors): the architecture named in the
// checkpoint's config, its weights, BatchNorm statistics and 2:4 masks, ready for inference.
#include "twofour/nn/models.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace twofour::nn {

struct TrainedModel {
  std::unique_ptr<Model> model;
  std::string config_json;   // the run's configuration as recorded
  std::string git_revision;  // of the build that trained it
  std::string workflow;      // "dense", "asp" or "srste"
  int completed_epochs = 0;
};

// Throws io::FormatError (naming the file and the field) for a file that is not a twofour
// training checkpoint or whose tensors do not fit the model it names.
TrainedModel load_trained_model(const std::filesystem::path& checkpoint);

}  // namespace twofour::nn
