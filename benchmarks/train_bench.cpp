// Training throughput of the nn stack (forward + backward, images/s) next to the rate of the same
// build's Eigen float GEMM, which bounds it: the CNN's convolutions and linears are GEMMs.
//   twofour_train_bench --benchmark_counters_tabular=true
// Threads: OpenMP's default (OMP_NUM_THREADS), except the retrain benchmarks, whose last argument
// is the thread count.
#include "twofour/nn/models.hpp"
#include "twofour/nn/optim.hpp"
#include "twofour/nn/sparse_layers.hpp"
#include "twofour/sparse/mask.hpp"

#include <Eigen/Core>
#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <optional>

namespace {

using namespace twofour::nn;

Tensor random_batch(std::vector<std::size_t> shape, std::uint64_t seed) {
  Tensor t(std::move(shape));
  Rng rng(seed);
  for (auto& v : t.data) v = static_cast<float>(rng.normal());
  return t;
}

void train_step(benchmark::State& state, const std::string& kind, bool with_optimizer) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto model = make_model(kind);
  initialize(*model, 1);
  std::vector<std::size_t> shape{batch};
  shape.insert(shape.end(), model->image_shape.begin(), model->image_shape.end());
  const Tensor x = random_batch(shape, 2);
  std::vector<std::uint8_t> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
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
  Tensor x;
  std::vector<std::uint8_t> labels;
  std::vector<Parameter*> params, targets;
  std::optional<Optimizer> opt;

  StepRig(const std::string& kind, std::size_t batch, bool transposable) : model(make_model(kind)) {
    initialize(*model, 1);
    std::vector<std::size_t> shape{batch};
    shape.insert(shape.end(), model->image_shape.begin(), model->image_shape.end());
    x = random_batch(shape, 2);
    labels.resize(batch);
    for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
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
    const Tensor logits = model->net.forward(x, true);
    benchmark::DoNotOptimize(softmax_cross_entropy(logits, labels, &d).loss);
    model->net.backward(d);
    if (retrain)
      for (auto* p : targets) twofour::sparse::apply_mask(p->grad.data, p->mask);
    opt->step(0.01f);
    if (retrain)
      for (auto* p : targets) twofour::sparse::apply_mask(p->value.data, p->mask);
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

// Square float GEMM through Eigen, compiled with the same flags as lib (the nn layers' GEMM).
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

}  // namespace

BENCHMARK_MAIN();
