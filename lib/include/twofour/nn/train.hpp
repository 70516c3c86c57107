#pragma once
// Training workflows on a Model:
//   dense  — plain training for `epochs`.
//   asp    — NVIDIA's recipe (Mishra et al. 2021, arXiv 2104.08378; Apex ASP): train dense for
//            `epochs`, prune every 2:4 target once by magnitude (keep the 2 largest |w| of each
//            group of 4 input channels), evaluate (the "one-shot" accuracy), then retrain for the
//            same epochs with a fresh optimiser of the same kind and the same schedule. As Apex
//            patches optimizer.step: gradients of pruned weights are zeroed before each step and
//            weights re-masked after it, so pruned weights stay exactly 0.
//   srste  — SR-STE from scratch (Zhou et al., ICLR 2021): every step the mask is recomputed from
//            the dense weights W, the forward/backward use W*M, the gradient passes straight
//            through to W and the pruned weights get the extra decay: g + lambda_W (1-M) W
//            (lambda_W = 2e-4). At the end the model is W*M (exactly 2:4).
// Runs are deterministic for a seed: every loop owns its outputs and the GEMMs' summation order does
// not depend on the thread split or the instruction set, so any OpenMP thread count gives the same
// bits for a given build (tested for 1-3 threads). With a checkpoint path, the state
// is saved atomically after every epoch (safetensors: weights, BN statistics, masks, optimiser
// state; metadata: config, seed, git revision, progress, history); a later call with the same
// config resumes after the last completed epoch.
#include "twofour/nn/data.hpp"
#include "twofour/nn/models.hpp"
#include "twofour/nn/optim.hpp"
#include "twofour/sparse/pattern.hpp"

#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace twofour::nn {

enum class Workflow { dense, asp, srste };

// asp: computes the masks of the retraining phase from the dense-trained model. Must set `mask` on
// model.pruned_parameters() (1 kept, value's shape; an empty mask leaves that layer dense) and may
// also change their weights (SparseGPT's update). `calibration` is the run's training data.
using MaskProvider = std::function<void(Model& model, const Dataset& calibration)>;
Workflow parse_workflow(const std::string& name);  // "dense", "asp", "srste"
std::string to_string(Workflow w);

struct TrainConfig {
  std::string model = "mlp";
  Workflow workflow = Workflow::dense;
  int epochs = 5;
  std::uint64_t seed = 0;
  std::size_t batch_size = 128;
  std::size_t train_limit = 0;  // 0 = every training example
  std::size_t test_limit = 0;   // 0 = every test example
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  float srste_lambda = 2e-4f;
  // The N:M pattern of asp's default magnitude pruning and of SR-STE (Apex's 2:4 by default).
  sparse::NMPattern pattern{2, 4};
  // asp: replaces the default magnitude pruning at the end of the dense phase (any mask: other
  // criteria, blocks, channels, unstructured...); the retraining then keeps exactly its masks.
  // `mask_name` identifies the provider in config_json (so checkpoints of different masks are told
  // apart) and is required with a provider. Both default to empty: the whitepaper's recipe.
  MaskProvider mask_provider = {};
  std::string mask_name = {};
  // asp retraining and srste run every 2:4-masked layer on the lib's 2:4 kernels
  // (sparse_layers.hpp, docs/training.md "Sparse retraining"); false runs them as dense GEMMs on
  // W*M, as before. The summation order differs, so the bits do; part of config_json when false.
  bool sparse_kernels = true;
  // OpenMP threads for this run (0: OpenMP's default). Results do not depend on it; not part of
  // config_json, so a run may resume on another count.
  int threads = 0;
};

// Canonical JSON of the config (compared on resume; stored in checkpoints and results).
std::string config_json(const TrainConfig& config);

struct EpochRecord {
  std::string phase;   // "dense", "retrain", "srste"
  int epoch = 0;       // 1-based within the phase
  double lr = 0;       // at the start of the epoch
  double train_loss = 0, train_accuracy = 0, test_accuracy = 0;
  double seconds = 0;
  // srste: the share of the pruned layers' weights whose kept/pruned state changed during the epoch
  // (mask at the end versus at the start); asp retraining: 0 (the mask is fixed); else NaN.
  double mask_change = std::numeric_limits<double>::quiet_NaN();
};

struct LayerReport {
  std::string name;
  std::vector<std::size_t> shape;
  bool pruned = false;     // a 2:4 target of this workflow
  double zero_fraction = 0;
  bool is_2_4 = false;     // every group of 4 input channels holds <= 2 non-zeros
};

struct TrainResult {
  std::unique_ptr<Model> model;
  // asp: the model as it was at the end of the dense phase (also after a resume); else nullptr.
  std::unique_ptr<Model> dense_model;
  std::vector<EpochRecord> history;
  double dense_accuracy = std::numeric_limits<double>::quiet_NaN();    // after the dense phase (dense, asp)
  double oneshot_accuracy = std::numeric_limits<double>::quiet_NaN();  // asp: pruned, not retrained
  double final_accuracy = std::numeric_limits<double>::quiet_NaN();    // the model returned
  std::vector<LayerReport> layers;
  int resumed_from_epoch = 0;  // completed epochs found in the checkpoint (0: fresh start)
  bool completed = false;      // false when stop_requested ended the run early
};

struct Progress {
  std::string phase;
  int epoch = 0, epochs = 0;            // within the phase, 1-based
  std::size_t batch = 0, batches = 0;   // within the epoch, 1-based
  double loss = 0, accuracy = 0;        // running means over the epoch so far
  double fraction_done = 0;             // of the whole run, in [0, 1]
};

struct TrainHooks {
  std::function<void(const Progress&)> on_batch;
  std::function<void(const EpochRecord&)> on_epoch;
  std::function<void(const std::string&)> log;       // one-line messages ("pruned to 2:4 ...")
  std::function<bool()> stop_requested;              // checked after each epoch's checkpoint
};

struct CheckpointOptions {
  std::filesystem::path path;  // empty: no checkpoint
  std::string git_revision;    // recorded in the checkpoint
  // asp only, used when `path` does not exist yet: the checkpoint of a DENSE run whose config equals
  // this one's apart from workflow, pattern and mask. The run starts from that state, so with the
  // same epochs it skips its dense phase (which a dense run reproduces bit for bit). This lets many
  // masks be retrained from one trained dense model.
  std::filesystem::path start_from = {};
};

// Throws std::invalid_argument for a bad config, std::runtime_error for a checkpoint of another
// config, io::FormatError for a corrupt checkpoint.
TrainResult train(const TrainConfig& config, const Dataset& train_data, const Dataset& test_data,
                  const CheckpointOptions& checkpoint = {}, const TrainHooks& hooks = {});

// Accuracy in [0, 1] in eval mode (BatchNorm running statistics).
double evaluate(Model& model, const Dataset& data, std::size_t batch_size = 500);

// 2:4 helpers on the 2:4 targets (groups of 4 along input channels; twofour::sparse masks).
void compute_magnitude_masks(std::span<Parameter* const> params);  // p->mask from |w|
void compute_magnitude_masks(std::span<Parameter* const> params, sparse::NMPattern pattern);
void apply_masks(std::span<Parameter* const> params);               // w *= mask
std::vector<LayerReport> sparsity_report(Model& model, bool pruned_workflow);

}  // namespace twofour::nn
