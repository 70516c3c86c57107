// Training throughput of the nn stack (images/s).
//   twofour_train_bench --benchmark_counters_tabular=true [--data DIR] [--epoch-images N]
//   twofour_train_bench --profile [--steps N] [--model mlp|cnn] where the time of a training step goes (dense, and
//                                                   an ASP retrain step on the 2:4 kernels)
// Threads: OpenMP's default (OMP_NUM_THREADS).
//
// BM_Epoch/<model>: one asp run of one epoch per phase through nn::train (shuffled batches of
// 128, loss, backward, SGD with momentum, the cosine schedule; for the retrain phase also the
// gradient and weight masking): `dense_img/s` and `retrain_img/s` are the images of each phase
// over its wall time (EpochRecord::seconds; the test set is empty, so no evaluation is timed),
// `*_img/cpu_s` over the process CPU time of the phase.
// Data: Fashion-MNIST's first --epoch-images training images from --data DIR, else synthetic
// normal pixels and cyclic labels. benchmarks/train_peer.py runs PyTorch on the same work.
// `retrain/dense` is their ratio (the retrain phase runs on the 2:4 kernels, sparse_layers.hpp).
// BM_*TrainStep*: one step on a fixed batch (no data handling), the kernel-level view.
// BM_*RetrainVsDense/<batch>/<threads>/<transposable mask>: a dense step and an ASP retrain step
// on the 2:4 kernels taken alternately on fixed batches (same machine load for both), their
// images/s and ratio; BM_*RetrainStep24 / *DenseGemm: the retrain step alone on the 2:4 kernels
// or on dense GEMMs over W*M. These set their own thread count (the second argument).
#include "twofour/gemm/dense_gemm.hpp"
#include "twofour/gemm/sampled_gemm.hpp"
#include "twofour/nn/data.hpp"
#include "twofour/nn/models.hpp"
#include "twofour/nn/optim.hpp"
#include "twofour/nn/sparse_layers.hpp"
#include "twofour/nn/train.hpp"
#include "twofour/sparse/mask.hpp"

#include <Eigen/Core>
#include <immintrin.h>
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace {

using namespace twofour::nn;

std::string g_data_dir;                 // --data: Fashion-MNIST folder ("" = synthetic)
std::size_t g_epoch_images = 60000;     // --epoch-images

Tensor random_batch(std::vector<std::size_t> shape, std::uint64_t seed) {
  Tensor t(std::move(shape));
  Rng rng(seed);
  for (auto& v : t.data) v = static_cast<float>(rng.normal());
  return t;
}

// The fixed batch the step benchmarks train on: normal pixels and cyclic labels.
struct FixedBatch {
  Tensor x;
  std::vector<std::uint8_t> labels;
};
FixedBatch fixed_batch(const Model& model, std::size_t batch) {
  std::vector<std::size_t> shape{batch};
  shape.insert(shape.end(), model.image_shape.begin(), model.image_shape.end());
  FixedBatch b{random_batch(shape, 2), std::vector<std::uint8_t>(batch)};
  for (std::size_t i = 0; i < batch; ++i) b.labels[i] = static_cast<std::uint8_t>(i % 10);
  return b;
}

// Process CPU time (all threads): on a shared machine wall time mostly measures the neighbours.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

const Dataset& epoch_data() {
  static const Dataset d = [] {
    if (!g_data_dir.empty()) return load_fashion_mnist(g_data_dir, true, g_epoch_images);
    Dataset s;
    s.rows = s.cols = 28;
    s.images = random_batch({g_epoch_images * 784}, 7).data;
    s.labels.resize(g_epoch_images);
    for (std::size_t i = 0; i < g_epoch_images; ++i) s.labels[i] = static_cast<std::uint8_t>(i % 10);
    return s;
  }();
  return d;
}

void epoch(benchmark::State& state, const std::string& kind) {
  TrainConfig config;
  config.model = kind;
  config.workflow = Workflow::asp;
  config.epochs = 1;
  const Dataset& data = epoch_data();
  const Dataset no_test;
  double dense = 0, retrain = 0, dense_cpu = 0, retrain_cpu = 0;
  for (auto _ : state) {
    // CPU time of each phase: from the start (or the previous epoch's end) to its on_epoch call.
    double mark = cpu_seconds();
    TrainHooks hooks;
    hooks.on_epoch = [&](const EpochRecord& rec) {
      const double now = cpu_seconds();
      (rec.phase == "dense" ? dense_cpu : retrain_cpu) += now - mark;
      mark = now;
    };
    const TrainResult r = train(config, data, no_test, {}, hooks);
    for (const auto& rec : r.history) (rec.phase == "dense" ? dense : retrain) += rec.seconds;
  }
  const auto images = static_cast<double>(data.size() * state.iterations());
  state.counters["dense_img/s"] = images / dense;
  state.counters["retrain_img/s"] = images / retrain;
  state.counters["retrain/dense"] = dense / retrain;
  // Images per CPU second of the process (all threads): steadier than wall time on a shared machine.
  state.counters["dense_img/cpu_s"] = images / dense_cpu;
  state.counters["retrain_img/cpu_s"] = images / retrain_cpu;
  state.counters["threads"] = omp_get_max_threads();
}

void BM_Epoch_mlp(benchmark::State& state) { epoch(state, "mlp"); }
void BM_Epoch_cnn(benchmark::State& state) { epoch(state, "cnn"); }

void train_step(benchmark::State& state, const std::string& kind, bool with_optimizer) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto model = make_model(kind);
  initialize(*model, 1);
  const auto [x, labels] = fixed_batch(*model, batch);
  auto params = model->parameters();
  Optimizer opt(OptimizerConfig{}, params);
  for (auto _ : state) {
    zero_grad(params);
    Tensor d;
    const Tensor logits = model->net.forward(x, true);
    benchmark::DoNotOptimize(softmax_cross_entropy(logits, labels, &d).loss);
    model->net.backward(d);
    if (with_optimizer) opt.step(0.01f);
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
}

void BM_CnnForwardBackward(benchmark::State& state) { train_step(state, "cnn", false); }
void BM_CnnTrainStepSgd(benchmark::State& state) { train_step(state, "cnn", true); }
void BM_MlpTrainStepSgd(benchmark::State& state) { train_step(state, "mlp", true); }

// One SGD step as the trainer takes it in each phase: dense (dense training), or ASP retraining
// with the mask fixed (pruned gradients zeroed, weights re-masked after the step) on the 2:4
// kernels (sparse_layers.hpp) or, for comparison, on dense GEMMs over W*M.
enum class Step { dense, retrain_sparse, retrain_dense_gemm };

struct StepRig {
  std::unique_ptr<Model> model;
  FixedBatch data;
  std::vector<Parameter*> params, targets;
  std::optional<Optimizer> opt;

  StepRig(const std::string& kind, std::size_t batch, bool transposable) : model(make_model(kind)) {
    initialize(*model, 1);
    data = fixed_batch(*model, batch);
    params = model->parameters();
    targets = model->pruned_parameters();
    for (auto* p : targets) {
      const twofour::sparse::GroupedShape g(p->value.shape);
      p->mask = transposable ? twofour::sparse::transposable_24_mask(p->value.data, g, twofour::sparse::TransposableMethod::best)
                             : twofour::sparse::nm_magnitude_mask(p->value.data, g, twofour::sparse::NMPattern{2, 4});
    }
    opt.emplace(OptimizerConfig{}, params);
  }

  void step(Step kind) {
    const bool retrain = kind != Step::dense;
    zero_grad(params);
    Tensor d;
    const Tensor logits = model->net.forward(data.x, true);
    benchmark::DoNotOptimize(softmax_cross_entropy(logits, data.labels, &d).loss);
    model->net.backward(d);
    if (retrain)
      opt->step_masked(0.01f);  // as train() retrains
    else
      opt->step(0.01f);
  }
};

double seconds_of(StepRig& rig, Step kind) {
  const auto t0 = std::chrono::steady_clock::now();
  rig.step(kind);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Args: batch, threads, transposable mask (0/1). Each iteration takes one dense step and one
// retrain step on the 2:4 kernels, alternating, so both see the same machine load; the counters
// are their images/s (medians over iterations would need repetitions: use
// --benchmark_repetitions) and the ratio retrain / dense.
void retrain_vs_dense(benchmark::State& state, const std::string& kind) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const int saved = omp_get_max_threads();
  omp_set_num_threads(static_cast<int>(state.range(1)));
  StepRig dense(kind, batch, false), sparse(kind, batch, state.range(2) != 0);
  const SparseExecutionScope scope(*sparse.model, SparseWeightGrad::kept_only);
  dense.step(Step::dense);  // warm-up: buffers, packed scratch
  sparse.step(Step::retrain_sparse);
  double t_dense = 0, t_sparse = 0;
  for (auto _ : state) {
    t_dense += seconds_of(dense, Step::dense);
    t_sparse += seconds_of(sparse, Step::retrain_sparse);
  }
  const double images = static_cast<double>(state.iterations() * batch);
  state.counters["dense_img/s"] = images / t_dense;
  state.counters["retrain_img/s"] = images / t_sparse;
  state.counters["retrain/dense"] = t_dense / t_sparse;
  state.SetLabel(scope.describe());
  omp_set_num_threads(saved);
}

// The retrain step alone, on the 2:4 kernels or (Step::retrain_dense_gemm) on dense GEMMs.
void retrain_step(benchmark::State& state, const std::string& kind, Step how) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const int saved = omp_get_max_threads();
  omp_set_num_threads(static_cast<int>(state.range(1)));
  StepRig rig(kind, batch, state.range(2) != 0);
  std::optional<SparseExecutionScope> scope;
  if (how == Step::retrain_sparse) scope.emplace(*rig.model, SparseWeightGrad::kept_only);
  for (auto _ : state) rig.step(how);
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
  omp_set_num_threads(saved);
}

void BM_MlpRetrainVsDense(benchmark::State& state) { retrain_vs_dense(state, "mlp"); }
void BM_CnnRetrainVsDense(benchmark::State& state) { retrain_vs_dense(state, "cnn"); }
void BM_MlpRetrainStep24(benchmark::State& state) { retrain_step(state, "mlp", Step::retrain_sparse); }
void BM_MlpRetrainStepDenseGemm(benchmark::State& state) { retrain_step(state, "mlp", Step::retrain_dense_gemm); }
void BM_CnnRetrainStep24(benchmark::State& state) { retrain_step(state, "cnn", Step::retrain_sparse); }
void BM_CnnRetrainStepDenseGemm(benchmark::State& state) { retrain_step(state, "cnn", Step::retrain_dense_gemm); }

void BM_CnnInference(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto model = make_model("cnn");
  const Tensor x = random_batch({batch, 1, 28, 28}, 3);
  for (auto _ : state) benchmark::DoNotOptimize(model->net.forward(x, false).data.data());
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
}

// Square float GEMM through Eigen built for this machine (-march=native): a peer for the rate the
// layers' own GEMM (twofour/gemm/dense_gemm.hpp) reaches.
void BM_EigenSgemm(benchmark::State& state) {
  const auto n = static_cast<Eigen::Index>(state.range(0));
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(n * n * n) * static_cast<double>(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// The layers' GEMMs (twofour/gemm/dense_gemm.hpp) at the models' shapes, batch 128 (convolutions:
// per chunk of 18, 4 and 9 images, as Conv2d runs them): args trans_a, trans_b, m, n, k.
void BM_LayerGemm(benchmark::State& state) {
  const bool ta = state.range(0) != 0, tb = state.range(1) != 0;
  const auto m = static_cast<std::size_t>(state.range(2)), n = static_cast<std::size_t>(state.range(3)),
             k = static_cast<std::size_t>(state.range(4));
  const Tensor a = random_batch({m * k}, 4), b = random_batch({k * n}, 5);
  std::vector<float> c(m * n);
  for (auto _ : state) {
    twofour::gemm::dense_gemm(ta, tb, m, n, k, a.data.data(), ta ? m : k, b.data.data(), tb ? k : n, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(m * n * k) * static_cast<double>(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LayerGemm)
    ->ArgNames({"ta", "tb", "m", "n", "k"})
    // mlp fc1: forward, weight gradient, input gradient
    ->Args({0, 1, 128, 300, 784})->Args({1, 0, 300, 784, 128})->Args({0, 0, 128, 784, 300})
    // cnn conv1..3 (one chunk): forward, weight gradient, input gradient (none for conv1)
    ->Args({0, 0, 16, 14112, 9})->Args({0, 1, 16, 9, 14112})
    ->Args({0, 0, 32, 784, 144})->Args({0, 1, 32, 144, 784})->Args({1, 0, 144, 784, 32})
    ->Args({0, 0, 64, 441, 288})->Args({0, 1, 64, 288, 441})->Args({1, 0, 288, 441, 64})
    // cnn fc1
    ->Args({0, 1, 128, 128, 3136})->Args({1, 0, 128, 3136, 128})->Args({0, 0, 128, 3136, 128})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

// The 2:4 kernels on the same layer shapes: op 0 the forward (or transposable-dX) GEMM,
// W (rows x cols, 2:4 along cols) times B (cols x n); op 1 the sampled weight gradient at the kept
// positions of a rows x cols 2:4 matrix, A (rows x n) times B (cols x n)^T. `dense_GFLOP/s` counts
// the dense product's 2*rows*cols*n flops (compare with BM_LayerGemm); the work done is half.
void BM_Layer24(benchmark::State& state) {
  const bool sampled = state.range(0) != 0;
  const auto rows = static_cast<std::size_t>(state.range(1)), cols = static_cast<std::size_t>(state.range(2)),
             n = static_cast<std::size_t>(state.range(3));
  // A magnitude-pruned layer keeps a different pair in every group: random pairs (a uniform pattern
  // would touch only 3 of every 4 rows of the dense operand and flatter the kernels).
  std::vector<std::uint16_t> meta(rows * twofour::sparse::meta_words_per_row(cols), 0);
  std::mt19937 pick(8);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t g = 0; g < cols / 4; ++g) {
      const auto idx0 = static_cast<unsigned>(pick() % 3);
      const auto idx1 = idx0 + 1 + static_cast<unsigned>(pick() % (3 - idx0));
      meta[r * twofour::sparse::meta_words_per_row(cols) + g / 4] |=
          static_cast<std::uint16_t>(twofour::sparse::make_nibble(idx0, idx1) << (4 * (g % 4)));
    }
  const Tensor w = random_batch({rows * cols / 2}, 4), a = random_batch({rows * n}, 5), b = random_batch({cols * n}, 6);
  std::vector<float> c(sampled ? rows * cols / 2 : rows * n);
  const twofour::sparse::RowMajor24View<float> view{w.data.data(), meta.data(), rows, cols};
  for (auto _ : state) {
    if (sampled) {
      twofour::gemm::sampled_gemm({meta.data(), rows, cols, c.data()}, a.data.data(), n, b.data.data(), n, n);
    } else {
      twofour::gemm::gemm(view, b.data.data(), n, c.data(), n, n);
    }
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["dense_GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(rows * cols * n) * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Layer24)
    ->ArgNames({"sampled", "rows", "cols", "n"})
    // mlp fc1: forward, weight gradient, transposable input gradient
    ->Args({0, 300, 784, 128})->Args({1, 300, 784, 128})->Args({0, 784, 300, 128})
    // cnn conv2, conv3 (one chunk of 4 and 9 images, as SparseConv runs them, its columns padded to
    // a multiple of 16): forward, weight gradient, transposable input gradient
    ->Args({0, 32, 144, 784})->Args({1, 32, 144, 784})->Args({0, 144, 32, 784})
    ->Args({0, 64, 288, 448})->Args({1, 64, 288, 448})->Args({0, 288, 64, 448})
    // cnn fc1
    ->Args({0, 128, 3136, 128})->Args({1, 128, 3136, 128})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK(BM_Epoch_mlp)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_Epoch_cnn)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_CnnForwardBackward)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CnnTrainStepSgd)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MlpTrainStepSgd)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
// {batch, threads, transposable mask}
BENCHMARK(BM_MlpRetrainVsDense)->Args({128, 1, 0})->Args({128, 2, 0})->Args({128, 1, 1})->Args({128, 2, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CnnRetrainVsDense)->Args({128, 1, 0})->Args({128, 2, 0})->Args({128, 1, 1})->Args({128, 2, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(4.0);
BENCHMARK(BM_MlpRetrainStep24)->Args({128, 1, 0})->Args({128, 2, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MlpRetrainStepDenseGemm)->Args({128, 1, 0})->Args({128, 2, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CnnRetrainStep24)->Args({128, 1, 0})->Args({128, 2, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CnnRetrainStepDenseGemm)->Args({128, 1, 0})->Args({128, 2, 0})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CnnInference)->Arg(500)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EigenSgemm)->Arg(256)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

// What a 2:4 product can gain on this core without reusing a loaded vector across output rows:
// select each kept activation inside registers instead (the permute form, the small-N kernel's
// approach, and the only in-register way to gather 16 kept columns of an activation row). Eight
// independent chains of one AVX-512 fused multiply-add (arg 0) or of a two-source permute
// (vpermt2ps) feeding it (arg 1); `ns/FMA` per vector FMA. Where the permute costs as much as the
// FMA, the permute form runs at half the FMA rate, i.e. no faster than dense arithmetic on zeros.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,fma"))) double probe_ns_per_fma(bool permute, long iters) {
  __m512 acc[8];
  __m512i idx[8];
  for (int i = 0; i < 8; ++i) {
    acc[i] = _mm512_setzero_ps();
    idx[i] = _mm512_set1_epi32(3 * i);
  }
  __m512 lo = _mm512_set1_ps(1e-9f), hi = _mm512_set1_ps(2e-9f);
  const __m512 w = _mm512_set1_ps(1.0f);
  const double t0 = thread_cpu_seconds();  // CPU time: robust to other processes on a shared machine
  for (long it = 0; it < iters; ++it) {
    for (int i = 0; i < 8; ++i)
      acc[i] = _mm512_fmadd_ps(w, permute ? _mm512_permutex2var_ps(lo, idx[i], hi) : lo, acc[i]);
    __asm__ volatile("" : "+v"(lo), "+v"(hi));  // the operands are new each iteration
  }
  const double s = thread_cpu_seconds() - t0;
  alignas(64) float sink[16];
  for (int i = 1; i < 8; ++i) acc[0] = _mm512_add_ps(acc[0], acc[i]);
  _mm512_store_ps(sink, acc[0]);
  benchmark::DoNotOptimize(sink[0]);
  return s * 1e9 / static_cast<double>(8 * iters);
}
#endif

void BM_IsaProbe(benchmark::State& state) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("fma")) {
    state.SkipWithError("needs AVX-512F and FMA");
    return;
  }
  double ns = 0;
  for (auto _ : state) ns = probe_ns_per_fma(state.range(0) != 0, 1L << 22);
  state.counters["ns/FMA"] = ns;
  state.SetLabel(state.range(0) != 0 ? "vpermt2ps + vfmadd" : "vfmadd alone");
#else
  state.SkipWithError("x86-64 only");
#endif
}
BENCHMARK(BM_IsaProbe)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// --profile: per layer forward / backward, loss, zero_grad and optimiser step of a training step
// on a fixed batch of 128, median process CPU time over --steps steps (after one warm-up step).
double seconds_since(double t0) { return cpu_seconds() - t0; }

// retrain: an ASP retrain step on the 2:4 kernels (magnitude 2:4 masks, pruned gradients zeroed,
// weights re-masked after the step), as StepRig takes it.
void profile(const std::string& kind, int steps, bool retrain) {
  constexpr std::size_t batch = 128;
  auto model = make_model(kind);
  initialize(*model, 1);
  const auto targets = model->pruned_parameters();
  std::optional<SparseExecutionScope> scope;
  if (retrain) {
    for (auto* p : targets)
      p->mask = twofour::sparse::nm_magnitude_mask(p->value.data, twofour::sparse::GroupedShape(p->value.shape),
                                                   twofour::sparse::NMPattern{2, 4});
    scope.emplace(*model, SparseWeightGrad::kept_only);
  }
  const auto [x, labels] = fixed_batch(*model, batch);
  auto params = model->parameters();
  Optimizer opt(OptimizerConfig{}, params);
  std::vector<std::string> names;
  std::map<std::string, std::vector<double>> t;
  model->net.layers.front()->input_grad = model->net.input_grad;  // as Sequential::backward does
  for (int s = 0; s <= steps; ++s) {
    std::map<std::string, double> step;
    double t0 = cpu_seconds();
    zero_grad(params);
    step["zero_grad"] = seconds_since(t0);
    Tensor h = x;
    for (auto& l : model->net.layers) {
      t0 = cpu_seconds();
      h = l->forward(h, true);
      step[l->name + " forward"] = seconds_since(t0);
    }
    Tensor d;
    t0 = cpu_seconds();
    softmax_cross_entropy(h, labels, &d);
    step["loss"] = seconds_since(t0);
    for (auto it = model->net.layers.rbegin(); it != model->net.layers.rend(); ++it) {
      t0 = cpu_seconds();
      d = (*it)->backward(d);
      step[(*it)->name + " backward"] = seconds_since(t0);
    }
    t0 = cpu_seconds();
    if (retrain)
      opt.step_masked(0.01f);  // as train() retrains: gradient and value masked in the update
    else
      opt.step(0.01f);
    step["masks + sgd step"] = seconds_since(t0);
    if (s == 0) {  // warm-up; fix the row order
      names.push_back("zero_grad");
      for (auto& l : model->net.layers) names.push_back(l->name + " forward");
      names.push_back("loss");
      for (auto it = model->net.layers.rbegin(); it != model->net.layers.rend(); ++it) names.push_back((*it)->name + " backward");
      names.push_back("masks + sgd step");
      continue;
    }
    for (auto& [k, v] : step) t[k].push_back(v);
  }
  double total = 0;
  std::map<std::string, double> med;
  for (auto& [k, v] : t) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    med[k] = v[v.size() / 2];
    total += med[k];
  }
  std::printf("%s%s, batch %zu, %d thread(s), median of %d steps: %.2f CPU ms per step (%.0f images per CPU second)\n", kind.c_str(),
              retrain ? " 2:4 retrain" : " dense", batch, omp_get_max_threads(), steps, 1e3 * total, static_cast<double>(batch) / total);
  for (const auto& n : names) std::printf("  %-18s %8.3f ms %5.1f%%\n", n.c_str(), 1e3 * med[n], 100 * med[n] / total);
}

}  // namespace

int main(int argc, char** argv) {
  bool profile_mode = false;
  int steps = 20;
  std::vector<std::string> models{"mlp", "cnn"};
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--profile") {
      profile_mode = true;
    } else if (a == "--steps" && i + 1 < argc) {
      steps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--model" && i + 1 < argc) {
      models = {argv[++i]};
    } else if (a == "--data" && i + 1 < argc) {
      g_data_dir = argv[++i];
    } else if (a == "--epoch-images" && i + 1 < argc) {
      g_epoch_images = static_cast<std::size_t>(std::max(2L, std::atol(argv[++i])));
    } else {
      rest.push_back(argv[i]);
    }
  }
  retain_freed_memory();  // as train() does
  if (profile_mode) {
    for (const bool retrain : {false, true})
      for (const auto& m : models) profile(m, steps, retrain);
    return 0;
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
