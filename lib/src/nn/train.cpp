#include "twofour/nn/train.hpp"

#include "twofour/io/safetensors.hpp"
#include "twofour/nn/sparse_layers.hpp"
#include "twofour/sparse/mask.hpp"

#include <nlohmann/json.hpp>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <numeric>
#include <optional>
#include <stdexcept>

namespace twofour::nn {
namespace {

using json = nlohmann::json;
constexpr const char* kCheckpointFormat = "twofour-train-checkpoint/1";
constexpr sparse::NMPattern k24{2, 4};

json num_or_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
double num_or_nan(const json& j) { return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>(); }

// Everything besides tensors that a resumed run needs.
struct RunState {
  int completed = 0;
  std::uint64_t optimizer_steps = 0;
  std::vector<EpochRecord> history;
  double dense_accuracy = std::numeric_limits<double>::quiet_NaN();
  double oneshot_accuracy = std::numeric_limits<double>::quiet_NaN();
  // asp: the model's parameters and buffers at the end of the dense phase ("param/<name>",
  // "buffer/<name>"), kept in every later checkpoint so that a resumed run can still return it.
  std::vector<std::pair<std::string, Tensor>> dense_snapshot;
};

std::vector<std::pair<std::string, Tensor>> snapshot(Model& model) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto* p : model.parameters()) out.emplace_back("param/" + p->name, p->value);
  for (auto& [name, t] : model.net.buffers()) out.emplace_back("buffer/" + name, *t);
  return out;
}

json to_json(const EpochRecord& r) {
  json j = {{"phase", r.phase}, {"epoch", r.epoch}, {"lr", r.lr}, {"train_loss", r.train_loss},
            {"train_accuracy", r.train_accuracy}, {"test_accuracy", r.test_accuracy}, {"seconds", r.seconds}};
  if (!std::isnan(r.mask_change)) j["mask_change"] = r.mask_change;  // absent in older checkpoints
  return j;
}

EpochRecord record_from_json(const json& j) {
  EpochRecord r;
  r.phase = j.at("phase").get<std::string>();
  r.epoch = j.at("epoch").get<int>();
  r.lr = j.at("lr").get<double>();
  r.train_loss = j.at("train_loss").get<double>();
  r.train_accuracy = j.at("train_accuracy").get<double>();
  r.test_accuracy = j.at("test_accuracy").get<double>();
  r.seconds = j.at("seconds").get<double>();
  if (j.contains("mask_change")) r.mask_change = j.at("mask_change").get<double>();
  return r;
}

io::Array float_array(const Tensor& t) {
  return io::make_array(io::DType::f32, t.shape, std::as_bytes(std::span<const float>(t.data)));
}

void copy_into(const io::Array& a, Tensor& t, const std::string& name) {
  if (a.dtype != io::DType::f32 || a.shape != t.shape)
    throw io::FormatError("checkpoint: tensor '" + name + "' has the wrong dtype or shape (expected float32 " +
                          t.shape_string() + ")");
  std::memcpy(t.data.data(), a.data.data(), a.data.size());
}

void save_checkpoint(const CheckpointOptions& ck, const TrainConfig& config, Model& model, Optimizer& opt,
                     const RunState& st) {
  io::SafetensorsFile f;
  for (auto* p : model.parameters()) {
    f.tensors.emplace_back("param/" + p->name, float_array(p->value));
    if (!p->mask.empty())
      f.tensors.emplace_back("mask/" + p->name,
                             io::make_array(io::DType::u8, p->value.shape, std::as_bytes(std::span<const std::uint8_t>(p->mask))));
  }
  for (auto& [name, t] : model.net.buffers()) f.tensors.emplace_back("buffer/" + name, float_array(*t));
  for (auto& [name, t] : opt.state()) f.tensors.emplace_back("opt/" + name, float_array(*t));
  for (const auto& [name, t] : st.dense_snapshot) f.tensors.emplace_back("dense/" + name, float_array(t));
  json history = json::array();
  for (const auto& r : st.history) history.push_back(to_json(r));
  const json state = {{"completed_epochs", st.completed}, {"optimizer_steps", st.optimizer_steps},
                      {"dense_accuracy", num_or_null(st.dense_accuracy)},
                      {"oneshot_accuracy", num_or_null(st.oneshot_accuracy)}, {"history", history}};
  f.metadata = {{"format", kCheckpointFormat},
                {"config", config_json(config)},
                {"seed", std::to_string(config.seed)},
                {"git_revision", ck.git_revision},
                {"state", state.dump()}};
  io::write_safetensors(ck.path, f);
}

// `file` is ck.path or ck.start_from; `expected_config` the config_json it must carry.
RunState load_checkpoint(const std::filesystem::path& file, const std::string& expected_config, Model& model,
                         Optimizer& opt) {
  const CheckpointOptions ck{file, {}, {}};
  const io::SafetensorsFile f = io::read_safetensors(ck.path);
  const auto meta = [&](const std::string& key) -> const std::string& {
    const auto it = f.metadata.find(key);
    if (it == f.metadata.end()) throw io::FormatError(ck.path.string() + ": not a twofour training checkpoint (no '" + key + "')");
    return it->second;
  };
  if (meta("format") != kCheckpointFormat)
    throw io::FormatError(ck.path.string() + ": checkpoint format '" + meta("format") + "' (expected " + kCheckpointFormat + ")");
  if (meta("config") != expected_config)
    throw std::runtime_error(ck.path.string() + " belongs to another configuration (" + meta("config") +
                             "); use another output folder or delete it");
  std::map<std::string, const io::Array*> tensors;
  for (const auto& [name, a] : f.tensors) tensors[name] = &a;
  const auto find = [&](const std::string& name) -> const io::Array* {
    const auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : it->second;
  };
  const auto need = [&](const std::string& name) -> const io::Array& {
    const io::Array* a = find(name);
    if (!a) throw io::FormatError(ck.path.string() + ": checkpoint lacks tensor '" + name + "'");
    return *a;
  };
  for (auto* p : model.parameters()) {
    copy_into(need("param/" + p->name), p->value, p->name);
    p->mask.clear();
    if (const io::Array* m = find("mask/" + p->name)) {
      if (m->dtype != io::DType::u8 || m->shape != p->value.shape)
        throw io::FormatError(ck.path.string() + ": mask of '" + p->name + "' has the wrong dtype or shape");
      p->mask.resize(m->data.size());
      std::memcpy(p->mask.data(), m->data.data(), m->data.size());
    }
  }
  for (auto& [name, t] : model.net.buffers()) copy_into(need("buffer/" + name), *t, name);
  for (auto& [name, t] : opt.state()) copy_into(need("opt/" + name), *t, name);
  RunState st;
  if (find("dense/param/" + model.parameters().front()->name) != nullptr) {
    st.dense_snapshot = snapshot(model);  // right names and shapes; values from the file
    for (auto& [name, t] : st.dense_snapshot) copy_into(need("dense/" + name), t, name);
  }
  try {
    const json s = json::parse(meta("state"));
    st.completed = s.at("completed_epochs").get<int>();
    st.optimizer_steps = s.at("optimizer_steps").get<std::uint64_t>();
    st.dense_accuracy = num_or_nan(s.at("dense_accuracy"));
    st.oneshot_accuracy = num_or_nan(s.at("oneshot_accuracy"));
    for (const auto& r : s.at("history")) st.history.push_back(record_from_json(r));
  } catch (const json::exception& e) {
    throw io::FormatError(ck.path.string() + ": bad checkpoint state: " + e.what());
  }
  if (st.completed < 0 || static_cast<std::size_t>(st.completed) != st.history.size())
    throw io::FormatError(ck.path.string() + ": checkpoint history does not match its completed epochs");
  opt.set_steps(st.optimizer_steps);
  return st;
}

// The asp run's dense-phase model, rebuilt from its snapshot (nullptr before the dense phase ends
// and for other workflows).
std::unique_ptr<Model> dense_model_from(const TrainConfig& config, const RunState& st) {
  if (st.dense_snapshot.empty()) return nullptr;
  auto model = make_model(config.model);
  std::map<std::string, const Tensor*> saved;
  for (const auto& [name, t] : st.dense_snapshot) saved[name] = &t;
  for (auto* p : model->parameters()) p->value = *saved.at("param/" + p->name);
  for (auto& [name, t] : model->net.buffers()) *t = *saved.at("buffer/" + name);
  return model;
}

// Swaps the 2:4-masked weights in for the duration of a scope (SR-STE's forward and evaluation).
class SparseView {
 public:
  SparseView(std::span<Parameter* const> targets, sparse::NMPattern pattern) : targets_(targets.begin(), targets.end()) {
    compute_magnitude_masks(targets, pattern);
    for (auto* p : targets_) {
      dense_.push_back(p->value.data);
      sparse::apply_mask(p->value.data, p->mask);
    }
  }
  ~SparseView() {
    for (std::size_t i = 0; i < targets_.size(); ++i) targets_[i]->value.data.swap(dense_[i]);
  }
  SparseView(const SparseView&) = delete;
  SparseView& operator=(const SparseView&) = delete;

 private:
  std::vector<Parameter*> targets_;
  std::vector<std::vector<float>> dense_;
};

Dataset first_n(const Dataset& d, std::size_t limit) {
  if (limit == 0 || limit >= d.size()) return d;
  Dataset out;
  out.rows = d.rows;
  out.cols = d.cols;
  out.labels.assign(d.labels.begin(), d.labels.begin() + static_cast<std::ptrdiff_t>(limit));
  out.images.assign(d.images.begin(), d.images.begin() + static_cast<std::ptrdiff_t>(limit * d.rows * d.cols));
  return out;
}

// Sets the OpenMP thread count for a scope and restores the previous one.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : saved_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~ThreadScope() { omp_set_num_threads(saved_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
};

}  // namespace

Workflow parse_workflow(const std::string& name) {
  if (name == "dense") return Workflow::dense;
  if (name == "asp") return Workflow::asp;
  if (name == "srste") return Workflow::srste;
  throw std::invalid_argument("unknown workflow '" + name + "' (dense, asp, srste)");
}

std::string to_string(Workflow w) {
  return w == Workflow::dense ? "dense" : w == Workflow::asp ? "asp" : "srste";
}

std::string config_json(const TrainConfig& c) {
  const auto& o = c.optimizer;
  const auto& s = c.schedule;
  json j = {{"model", c.model},
            {"workflow", to_string(c.workflow)},
            {"epochs", c.epochs},
            {"seed", c.seed},
            {"batch_size", c.batch_size},
            {"train_limit", c.train_limit},
            {"test_limit", c.test_limit},
            {"optimizer",
             {{"kind", to_string(o.kind)}, {"lr", o.lr}, {"momentum", o.momentum}, {"weight_decay", o.weight_decay},
              {"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}}},
            {"schedule",
             {{"kind", to_string(s.kind)}, {"step_epochs", s.step_epochs}, {"gamma", s.gamma}, {"min_factor", s.min_factor}}},
            {"srste_lambda", c.srste_lambda}};
  // Only when they differ from the defaults, so that older checkpoints keep matching.
  if (c.pattern != sparse::NMPattern{2, 4}) j["pattern"] = sparse::to_string(c.pattern);
  if (!c.mask_name.empty()) j["mask"] = c.mask_name;
  if (!c.sparse_kernels) j["sparse_kernels"] = false;
  return j.dump();
}

namespace {

// The config of the dense run an asp run may start from (CheckpointOptions::start_from).
std::string dense_start_config_json(const TrainConfig& c) {
  TrainConfig d = c;
  d.workflow = Workflow::dense;
  d.pattern = sparse::NMPattern{2, 4};
  d.mask_provider = nullptr;
  d.mask_name.clear();
  d.sparse_kernels = true;  // the dense phase runs no 2:4 kernel
  return config_json(d);
}

// Share of the targets' mask entries that differ between `before` and the current masks.
double mask_change(std::span<Parameter* const> targets, const std::vector<sparse::Mask>& before) {
  std::size_t changed = 0, total = 0;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    const auto& now = targets[t]->mask;
    if (before[t].size() != now.size()) continue;
    for (std::size_t i = 0; i < now.size(); ++i) changed += (now[i] != 0) != (before[t][i] != 0);
    total += now.size();
  }
  return total ? static_cast<double>(changed) / static_cast<double>(total) : 0.0;
}

}  // namespace

void compute_magnitude_masks(std::span<Parameter* const> params) { compute_magnitude_masks(params, k24); }

void compute_magnitude_masks(std::span<Parameter* const> params, sparse::NMPattern pattern) {
  for (auto* p : params) p->mask = sparse::nm_magnitude_mask(p->value.data, sparse::GroupedShape(p->value.shape), pattern);
}

void apply_masks(std::span<Parameter* const> params) {
  for (auto* p : params)
    if (!p->mask.empty()) sparse::apply_mask(p->value.data, p->mask);
}

std::vector<LayerReport> sparsity_report(Model& model, bool pruned_workflow) {
  std::vector<LayerReport> out;
  for (auto* p : model.parameters()) {
    if (p->value.rank() < 2) continue;  // biases and BatchNorm: never pruned
    LayerReport r;
    r.name = p->name;
    r.shape = p->value.shape;
    r.pruned = pruned_workflow && p->prunable;
    std::size_t zeros = 0;
    for (float w : p->value.data) zeros += w == 0.0f;
    r.zero_fraction = static_cast<double>(zeros) / static_cast<double>(p->value.numel());
    r.is_2_4 = p->value.dim(1) % 4 == 0 && sparse::check_nm(p->value.data, sparse::GroupedShape(p->value.shape), k24).ok;
    out.push_back(r);
  }
  return out;
}

double evaluate(Model& model, const Dataset& data, std::size_t batch_size) {
  if (data.size() == 0) return std::numeric_limits<double>::quiet_NaN();
  std::size_t correct = 0;
  std::vector<std::size_t> idx;
  for (std::size_t start = 0; start < data.size(); start += batch_size) {
    const std::size_t n = std::min(batch_size, data.size() - start);
    idx.resize(n);
    std::iota(idx.begin(), idx.end(), start);
    const Tensor logits = model.net.forward(make_batch(data, idx, model.image_shape), false);
    const std::span<const std::uint8_t> labels(data.labels.data() + start, n);
    correct += softmax_cross_entropy(logits, labels, nullptr).correct;
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

TrainResult train(const TrainConfig& config, const Dataset& train_all, const Dataset& test_all,
                  const CheckpointOptions& ck, const TrainHooks& hooks) {
  if (config.epochs < 1) throw std::invalid_argument("epochs must be at least 1");
  if (config.batch_size < 2) throw std::invalid_argument("batch size must be at least 2 (BatchNorm)");
  if (!(config.optimizer.lr > 0.0f)) throw std::invalid_argument("learning rate must be positive");
  if (!(config.srste_lambda >= 0.0f)) throw std::invalid_argument("SR-STE lambda must be non-negative");
  sparse::validate(config.pattern);
  if (config.mask_provider && config.mask_name.empty())
    throw std::invalid_argument("a mask provider needs a mask_name (it identifies the run's checkpoints)");
  if (config.mask_provider && config.workflow != Workflow::asp)
    throw std::invalid_argument("a mask provider applies to the asp workflow only");
  if (!ck.start_from.empty() && config.workflow != Workflow::asp)
    throw std::invalid_argument("starting from a dense checkpoint applies to the asp workflow only");
  const Dataset train_data = first_n(train_all, config.train_limit);
  const Dataset test_data = first_n(test_all, config.test_limit);
  if (train_data.size() < 2) throw std::invalid_argument("need at least 2 training examples");
  if (config.threads < 0) throw std::invalid_argument("threads must be >= 0");
  const ThreadScope thread_scope(config.threads);
  retain_freed_memory();

  TrainResult result;
  result.model = make_model(config.model);
  Model& model = *result.model;
  initialize(model, config.seed);
  const auto params = model.parameters();
  const auto targets = model.pruned_parameters();
  auto opt = std::make_unique<Optimizer>(config.optimizer, params);
  const auto log = [&](const std::string& line) {
    if (hooks.log) hooks.log(line);
  };

  RunState st;
  if (!ck.path.empty() && std::filesystem::exists(ck.path)) {
    st = load_checkpoint(ck.path, config_json(config), model, *opt);
    result.resumed_from_epoch = st.completed;
    log("resuming from " + ck.path.string() + " after " + std::to_string(st.completed) + " completed epoch(s)");
  } else if (!ck.start_from.empty()) {
    st = load_checkpoint(ck.start_from, dense_start_config_json(config), model, *opt);
    if (st.completed > config.epochs)
      throw std::runtime_error(ck.start_from.string() + " has more epochs than this run's dense phase");
    result.resumed_from_epoch = st.completed;
    log("starting from the dense run " + ck.start_from.string() + " after " + std::to_string(st.completed) +
        " completed epoch(s)");
  }

  const bool asp = config.workflow == Workflow::asp;
  const bool srste = config.workflow == Workflow::srste;
  const int E = config.epochs;
  const int total = asp ? 2 * E : E;
  const std::size_t n = train_data.size();
  const std::size_t batches = (n + config.batch_size - 1) / config.batch_size;
  bool sparse_logged = false;

  for (int g = st.completed; g < total; ++g) {
    const bool retrain = asp && g >= E;
    if (asp && g == E) {
      st.dense_accuracy = st.history.at(static_cast<std::size_t>(E - 1)).test_accuracy;
      st.dense_snapshot = snapshot(model);
      if (config.mask_provider) {
        for (auto* p : targets) p->mask.clear();
        config.mask_provider(model, train_data);
        for (auto* p : targets)
          if (!p->mask.empty() && p->mask.size() != p->value.numel())
            throw std::invalid_argument("mask provider '" + config.mask_name + "' gave " + p->name + " a mask of " +
                                        std::to_string(p->mask.size()) + " entries for " +
                                        std::to_string(p->value.numel()) + " weights");
      } else {
        compute_magnitude_masks(targets, config.pattern);
      }
      apply_masks(targets);
      st.oneshot_accuracy = evaluate(model, test_data);
      // Same optimiser kind and schedule, started afresh (the whitepaper retrains with the
      // original hyper-parameters).
      opt = std::make_unique<Optimizer>(config.optimizer, params);
      st.optimizer_steps = 0;
      const std::string how = config.mask_provider ? config.mask_name : sparse::to_string(config.pattern) + " by magnitude";
      char line[96];
      std::snprintf(line, sizeof line, ": one-shot test accuracy %.2f%%", 100 * st.oneshot_accuracy);
      log("pruned to " + how + line);
    }
    const int phase_epoch = retrain ? g - E : g;
    EpochRecord rec;
    rec.phase = retrain ? "retrain" : srste ? "srste" : "dense";
    rec.epoch = phase_epoch + 1;
    rec.lr = learning_rate(config.optimizer, config.schedule, phase_epoch, E);
    const auto t0 = std::chrono::steady_clock::now();
    // SR-STE's mask at the start of the epoch (that of the initial weights before the first one),
    // to measure how many mask entries flip during it.
    std::vector<sparse::Mask> masks_before;
    if (srste) {
      if (g == 0 || targets.front()->mask.empty()) compute_magnitude_masks(targets, config.pattern);
      for (auto* p : targets) masks_before.push_back(p->mask);
    }

    // This epoch's order: a Fisher-Yates shuffle from a stream derived from (seed, epoch).
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    Rng rng(derive_seed(config.seed, 0x5eed, static_cast<std::uint64_t>(g)));
    for (std::size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);

    // Retraining and SR-STE run the 2:4 layers on the compressed weights for this epoch (its
    // steps and its evaluation); the layers are dense again afterwards.
    std::optional<SparseExecutionScope> sparse_exec;
    if (config.sparse_kernels && (retrain || srste))
      sparse_exec.emplace(model, srste ? SparseWeightGrad::dense : SparseWeightGrad::kept_only);

    double loss_sum = 0;
    std::size_t correct = 0, seen = 0;
    std::vector<std::uint8_t> labels;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t start = b * config.batch_size;
      const std::size_t count = std::min(config.batch_size, n - start);
      if (count < 2) continue;  // BatchNorm needs two examples
      const std::span<const std::size_t> idx(order.data() + start, count);
      labels.resize(count);
      for (std::size_t i = 0; i < count; ++i) labels[i] = train_data.labels[idx[i]];
      const double progress = phase_epoch + static_cast<double>(b) / static_cast<double>(batches);
      const float lr = learning_rate(config.optimizer, config.schedule, progress, E);
      const Tensor x = make_batch(train_data, idx, model.image_shape);

      zero_grad(params);
      LossResult lr_out;
      if (srste) {
        SparseView view(targets, config.pattern);  // forward and backward see W*M(W)
        Tensor dlogits;
        const Tensor logits = model.net.forward(x, true);
        lr_out = softmax_cross_entropy(logits, labels, &dlogits);
        model.net.backward(dlogits);
      } else {
        Tensor dlogits;
        const Tensor logits = model.net.forward(x, true);
        lr_out = softmax_cross_entropy(logits, labels, &dlogits);
        model.net.backward(dlogits);
      }
      if (srste) {
        // Straight-through: the gradient at W*M is applied to the dense W, plus the sparse-refined
        // term lambda_W (1 - M) W that pulls pruned weights towards zero (SR-STE eq. 7).
        for (auto* p : targets)
          for (std::size_t i = 0; i < p->value.numel(); ++i) {  // a select: the mask is no branch pattern
            const float gi = p->grad.data[i];
            p->grad.data[i] = p->mask[i] != 0 ? gi : gi + config.srste_lambda * p->value.data[i];
          }
      }
      // Retraining: pruned gradients zeroed before the update and pruned weights after it, in the
      // update's own pass (only the targets carry masks; an empty mask leaves a layer dense).
      if (retrain)
        opt->step_masked(lr);
      else
        opt->step(lr);
      if (sparse_exec && !sparse_logged) {
        log(sparse_exec->describe());
        sparse_logged = true;
      }

      loss_sum += lr_out.loss * static_cast<double>(count);
      correct += lr_out.correct;
      seen += count;
      if (hooks.on_batch) {
        Progress pr;
        pr.phase = rec.phase;
        pr.epoch = phase_epoch + 1;
        pr.epochs = E;
        pr.batch = b + 1;
        pr.batches = batches;
        pr.loss = loss_sum / static_cast<double>(seen);
        pr.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
        pr.fraction_done = (g + static_cast<double>(b + 1) / static_cast<double>(batches)) / total;
        hooks.on_batch(pr);
      }
    }
    st.optimizer_steps = opt->steps();
    rec.train_loss = seen ? loss_sum / static_cast<double>(seen) : 0.0;
    rec.train_accuracy = seen ? static_cast<double>(correct) / static_cast<double>(seen) : 0.0;
    if (srste) {
      SparseView view(targets, config.pattern);
      rec.test_accuracy = evaluate(model, test_data);
      rec.mask_change = mask_change(targets, masks_before);
    } else {
      if (retrain) rec.mask_change = 0.0;
      rec.test_accuracy = evaluate(model, test_data);
    }
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    st.history.push_back(rec);
    st.completed = g + 1;
    if (hooks.on_epoch) hooks.on_epoch(rec);
    if (!ck.path.empty()) save_checkpoint(ck, config, model, *opt, st);
    if (g + 1 < total && hooks.stop_requested && hooks.stop_requested()) {
      result.history = st.history;
      result.dense_accuracy = st.dense_accuracy;
      result.oneshot_accuracy = st.oneshot_accuracy;
      result.final_accuracy = rec.test_accuracy;
      result.layers = sparsity_report(model, config.workflow != Workflow::dense);
      result.dense_model = dense_model_from(config, st);
      return result;
    }
  }

  if (srste) {
    compute_magnitude_masks(targets, config.pattern);
    apply_masks(targets);
  }
  if (config.workflow == Workflow::dense && !st.history.empty()) st.dense_accuracy = st.history.back().test_accuracy;
  result.history = st.history;
  result.dense_accuracy = st.dense_accuracy;
  result.oneshot_accuracy = st.oneshot_accuracy;
  // The last epoch's evaluation saw exactly this model (SR-STE's through the masked view).
  result.final_accuracy = st.history.back().test_accuracy;
  result.layers = sparsity_report(model, config.workflow != Workflow::dense);
  result.dense_model = dense_model_from(config, st);
  result.completed = true;
  return result;
}

}  // namespace twofour::nn
