// TrainConfig's additions for the studies: any mask through a MaskProvider (kept exactly during
// retraining), N:M patterns other than 2:4 for ASP and SR-STE, SR-STE's per-epoch mask change,
// and an ASP run that starts from a finished dense run's checkpoint (bit for bit the same as the
// full ASP run). Defaults leave config_json unchanged, so older checkpoints still resume.
#include "twofour/nn/train.hpp"
#include "twofour/sparse/mask.hpp"
#include "lib/nn/nn_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <unistd.h>

#include <cmath>

namespace {

using namespace twofour::nn;
using twofour::testing::synthetic_dataset;

TrainConfig small(const std::string& model, Workflow w, int epochs) {
  TrainConfig c;
  c.model = model;
  c.workflow = w;
  c.epochs = epochs;
  c.seed = 4;
  c.batch_size = 32;
  c.threads = 1;
  return c;
}

std::filesystem::path scratch_dir() {
  const auto dir = std::filesystem::temp_directory_path() / ("twofour-train-masks-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<std::vector<float>> weights_of(Model& m) {
  std::vector<std::vector<float>> w;
  for (auto* p : m.parameters()) w.push_back(p->value.data);
  return w;
}

TEST(NnTrainMasks, DefaultsKeepTheConfigJson) {
  const auto c = small("mlp", Workflow::asp, 1);
  const std::string j = config_json(c);
  EXPECT_EQ(j.find("pattern"), std::string::npos) << j;
  EXPECT_EQ(j.find("\"mask\""), std::string::npos) << j;
  auto d = c;
  d.pattern = {1, 4};
  d.mask_name = "x";
  EXPECT_NE(config_json(d).find("\"pattern\":\"1:4\""), std::string::npos);
  EXPECT_NE(config_json(d).find("\"mask\":\"x\""), std::string::npos);
}

TEST(NnTrainMasks, ProviderMasksAreKeptExactlyDuringRetraining) {
  const auto data = synthetic_dataset(200, 21);
  const auto test = synthetic_dataset(80, 22);
  auto c = small("mlp", Workflow::asp, 1);
  // Every other output row of fc1 pruned entirely, fc2 left dense: not an N:M mask at all.
  std::vector<std::uint8_t> given;
  c.mask_name = "rows";
  c.mask_provider = [&](Model& m, const Dataset& calibration) {
    EXPECT_EQ(calibration.size(), data.size());
    auto targets = m.pruned_parameters();
    Parameter* fc1 = targets[0];
    fc1->mask.assign(fc1->value.numel(), 1);
    for (std::size_t r = 0; r < fc1->value.dim(0); r += 2)
      for (std::size_t k = 0; k < fc1->value.dim(1); ++k) fc1->mask[r * fc1->value.dim(1) + k] = 0;
    given = fc1->mask;
  };
  std::vector<std::string> log;
  TrainHooks hooks;
  hooks.log = [&](const std::string& line) { log.push_back(line); };
  const auto r = train(c, data, test, {}, hooks);
  ASSERT_TRUE(r.completed);
  EXPECT_FALSE(std::isnan(r.oneshot_accuracy));
  auto targets = r.model->pruned_parameters();
  EXPECT_EQ(targets[0]->mask, given);
  for (std::size_t i = 0; i < given.size(); ++i)
    if (!given[i]) {
      ASSERT_EQ(targets[0]->value.data[i], 0.0f) << i;
    }
  EXPECT_TRUE(targets[1]->mask.empty());  // left dense
  std::size_t zeros = 0;
  for (float w : targets[1]->value.data) zeros += w == 0.0f;
  EXPECT_LT(zeros, targets[1]->value.numel() / 10);
  EXPECT_EQ(r.history.back().mask_change, 0.0);
  // The pruning line names the mask (the retraining adds its own line on the 2:4 kernels).
  ASSERT_FALSE(log.empty());
  EXPECT_TRUE(std::any_of(log.begin(), log.end(), [](const std::string& l) { return l.find("pruned to rows") != std::string::npos; }))
      << log.front();
}

TEST(NnTrainMasks, BadProvidersAreRejected) {
  const auto data = synthetic_dataset(64, 23);
  auto c = small("mlp", Workflow::asp, 1);
  c.mask_provider = [](Model&, const Dataset&) {};
  EXPECT_THROW(train(c, data, data), std::invalid_argument);  // no mask_name
  c.mask_name = "wrong size";
  c.mask_provider = [](Model& m, const Dataset&) { m.pruned_parameters()[0]->mask.assign(3, 1); };
  EXPECT_THROW(train(c, data, data), std::invalid_argument);
  auto d = small("mlp", Workflow::dense, 1);
  d.mask_name = "x";
  d.mask_provider = [](Model&, const Dataset&) {};
  EXPECT_THROW(train(d, data, data), std::invalid_argument);  // asp only
  auto e = small("mlp", Workflow::asp, 1);
  e.pattern = {4, 4};
  EXPECT_THROW(train(e, data, data), std::invalid_argument);
}

TEST(NnTrainMasks, OtherNMPatternsForAspAndSrste) {
  const auto data = synthetic_dataset(160, 24);
  const auto test = synthetic_dataset(60, 25);
  for (Workflow w : {Workflow::asp, Workflow::srste}) {
    auto c = small("mlp", w, w == Workflow::srste ? 2 : 1);
    c.pattern = {1, 4};
    const auto r = train(c, data, test);
    for (auto* p : r.model->pruned_parameters()) {
      const auto check = twofour::sparse::check_nm(p->value.data, twofour::sparse::GroupedShape(p->value.shape), {1, 4});
      EXPECT_TRUE(check.ok) << to_string(w) << " " << p->name << ": " << check.message;
    }
    if (w == Workflow::srste) {
      ASSERT_EQ(r.history.size(), 2u);
      for (const auto& e : r.history) {
        EXPECT_GE(e.mask_change, 0.0);
        EXPECT_LE(e.mask_change, 1.0);
      }
      EXPECT_GT(r.history[0].mask_change, 0.0);  // the first epoch moves weights across group ranks
    }
  }
}

TEST(NnTrainMasks, AspFromADenseCheckpointEqualsTheFullAspRun) {
  const auto data = synthetic_dataset(96, 26);
  const auto test = synthetic_dataset(40, 27);
  const auto dir = scratch_dir();
  auto dense = small("cnn", Workflow::dense, 1);
  train(dense, data, test, CheckpointOptions{dir / "dense.safetensors", "rev"});
  auto asp = small("cnn", Workflow::asp, 1);
  const auto straight = train(asp, data, test);
  CheckpointOptions ck{dir / "asp.safetensors", "rev"};
  ck.start_from = dir / "dense.safetensors";
  std::vector<std::string> log;
  TrainHooks hooks;
  hooks.log = [&](const std::string& line) { log.push_back(line); };
  const auto from_dense = train(asp, data, test, ck, hooks);
  EXPECT_EQ(from_dense.resumed_from_epoch, 1);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front().find("starting from the dense run"), std::string::npos) << log.front();
  EXPECT_EQ(weights_of(*from_dense.model), weights_of(*straight.model));
  EXPECT_EQ(from_dense.oneshot_accuracy, straight.oneshot_accuracy);
  EXPECT_EQ(from_dense.final_accuracy, straight.final_accuracy);
  // A dense checkpoint of another seed is refused; start_from is for asp only.
  auto other = asp;
  other.seed = 5;
  CheckpointOptions ck2{dir / "other.safetensors", "rev"};
  ck2.start_from = dir / "dense.safetensors";
  EXPECT_THROW(train(other, data, test, ck2), std::runtime_error);
  auto srste = small("cnn", Workflow::srste, 1);
  EXPECT_THROW(train(srste, data, test, ck2), std::invalid_argument);
  std::filesystem::remove_all(dir);
}

}  // namespace
