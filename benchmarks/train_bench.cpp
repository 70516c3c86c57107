// Training throughput of the nn stack (forward + backward, images/s) next to the rate of the same
// build's Eigen float GEMM, which bounds it: the CNN's convolutions and linears are GEMMs.
//   twofour_train_bench --benchmark_counters_tabular=true
// Threads: OpenMP's default (OMP_NUM_THREADS).
#include "twofour/nn/models.hpp"
#include "twofour/nn/optim.hpp"

#include <Eigen/Core>
#include <benchmark/benchmark.h>

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
BENCHMARK(BM_CnnInference)->Arg(500)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EigenSgemm)->Arg(256)->Arg(512)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
