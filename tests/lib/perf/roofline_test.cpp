// The roofline model's invariants (lib/include/twofour/perf/roofline.hpp) over every GPU, data type,
// network and batch size it knows, its memory term against bytes counted independently (the
// library's own compressed layout for the weights), and the published-figures file's checks.
#include "support/paths.hpp"
#include "twofour/io/array.hpp"
#include "twofour/nn/models.hpp"
#include "twofour/perf/model_shapes.hpp"
#include "twofour/perf/roofline.hpp"
#include "twofour/sparse/compress.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

using namespace twofour;

const std::filesystem::path kData = std::filesystem::path(twofour::testing::test_data_dir()) / ".." / ".." / "data" / "perf";

perf::GpuTable table() { return perf::load_gpu_table(kData / "gpus.json"); }

std::vector<perf::NetworkShape> all_networks() {
  std::vector<perf::NetworkShape> nets = {perf::load_network(kData / "models" / "resnext101.json"),
                                          perf::load_network(kData / "models" / "bert-large.json")};
  for (const char* kind : {"mlp", "cnn"}) nets.push_back(perf::network_of(*nn::make_model(kind)));
  return nets;
}

TEST(PerfGpuTable, EveryGpuHasSourcedPeaksWithSparseTwiceDense) {
  const auto t = table();
  ASSERT_EQ(t.gpus.size(), 3u);
  for (const char* name : {"A100", "H100", "H200"}) {
    const auto& g = t.gpu(name);
    EXPECT_GT(g.dram_bytes_per_second, 1e12);
    EXPECT_GT(g.l2_bytes, 1e7);
    for (const char* dtype : {"fp16", "bf16", "int8", "tf32"}) {
      const auto& p = g.peak(dtype);
      EXPECT_NEAR(p.sparse / p.dense, 2.0, 1e-3) << name << " " << dtype;
      EXPECT_TRUE(t.documents.contains(p.source));
    }
  }
  // The whitepaper's Table 1 (A100): 312 / 624 TFLOPS fp16, 624 / 1248 TOPS int8.
  EXPECT_EQ(t.gpu("A100").peak("fp16").dense, 312e12);
  EXPECT_EQ(t.gpu("A100").peak("int8").sparse, 1248e12);
  EXPECT_THROW((void)t.gpu("V100"), std::invalid_argument);
  EXPECT_THROW((void)t.gpu("A100").peak("fp8"), std::invalid_argument);  // Ampere has no fp8 tensor cores
}

TEST(PerfGpuTable, BadFilesNameTheFieldAtFault) {
  const auto dir = std::filesystem::temp_directory_path() / ("twofour-perf-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& text) {
    std::ofstream(dir / "g.json") << text;
    return dir / "g.json";
  };
  const std::string head = R"({"documents": {"d": "doc"}, "gpus": [{"name": "X", "dram_bytes_per_second": 1e12,
    "dram_source": "d", "l2_bytes": 1e6, "l2_source": "d", "sms": 10, "sms_source": "d", "peaks": {"fp16": )";
  EXPECT_NO_THROW(perf::load_gpu_table(write(head + R"({"dense": 1e12, "sparse": 2e12, "source": "d"}}}]})")));
  try {
    perf::load_gpu_table(write(head + R"({"dense": 1e12, "sparse": 3e12, "source": "d"}}}]})"));
    ADD_FAILURE() << "no error";
  } catch (const io::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("gpus[0].peaks.fp16"), std::string::npos) << e.what();
  }
  EXPECT_THROW(perf::load_gpu_table(write(head + R"({"dense": 1e12, "sparse": 2e12, "source": "nowhere"}}}]})")),
               io::FormatError);
  EXPECT_THROW(perf::load_gpu_table(write("{")), io::FormatError);
  std::filesystem::remove_all(dir);
}

TEST(PerfRoofline, SpeedupStaysWithinOneAndTwoEverywhere) {
  const auto t = table();
  for (const auto& net : all_networks())
    for (const auto& gpu : t.gpus)
      for (const auto& [dtype, peak] : gpu.peaks)
        for (std::int64_t batch : {1, 2, 7, 64, 1000, 65536}) {
          const auto total = perf::estimate(net, batch, gpu, dtype);
          EXPECT_GE(total.speedup(), 1.0) << net.name << " " << gpu.name << " " << dtype << " b" << batch;
          // The bound is the published peak ratio: 2, or 1978.9 / 989.4 where the documents round.
          const double bound = peak.sparse / peak.dense;
          EXPECT_LE(total.speedup(), bound * (1 + 1e-12)) << net.name << " " << gpu.name << " " << dtype << " b" << batch;
          for (const auto& g : total.gemms) {
            EXPECT_GE(g.speedup(), 1.0);
            EXPECT_LE(g.speedup(), bound * (1 + 1e-12));
          }
        }
}

// For a GEMM of fixed shape, more examples never take less time, dense or sparse; and once both are
// compute-bound the speed-up is the peak ratio (2) exactly.
TEST(PerfRoofline, TimeIsMonotoneInBatchAndSpeedupReachesTheMathBound) {
  const auto t = table();
  for (const auto& net : all_networks())
    for (const auto& gpu : t.gpus) {
      double prev_dense = 0, prev_sparse = 0;
      for (std::int64_t batch = 1; batch <= 4096; batch *= 2) {
        const auto total = perf::estimate(net, batch, gpu, "fp16");
        EXPECT_GT(total.dense_s, prev_dense);
        EXPECT_GT(total.sparse_s, prev_sparse);
        prev_dense = total.dense_s;
        prev_sparse = total.sparse_s;
      }
    }
  perf::GemmShape big{"big", 8192, 8192, 1};
  big.sparse = true;
  const auto e = perf::estimate(big, 65536, table().gpu("A100"), "fp16");
  ASSERT_GT(e.sparse_compute_s, e.sparse_memory_s);
  EXPECT_DOUBLE_EQ(e.speedup(), 2.0);
}

// Oracle: bytes counted by hand, and the weight's compressed size as the library's compressor
// stores it (values plus rowmajor metadata words).
TEST(PerfRoofline, MemoryTermIsTheBytesMovedOverBandwidth) {
  const perf::GpuTable t = table();  // kept alive: gpu refers into it
  const auto& gpu = t.gpu("A100");
  perf::GemmShape g{"fc", 64, 128, 3};
  g.count = 2;
  g.sparse = true;
  const std::int64_t batch = 5;
  const auto e = perf::estimate(g, batch, gpu, "fp16");
  const double n = 3 * batch;
  const double dense_bytes = 2.0 * 2 * (64 * 128 + 128 * n + 64 * n);
  EXPECT_DOUBLE_EQ(e.dense_bytes.total(), dense_bytes);
  EXPECT_DOUBLE_EQ(e.dense_memory_s, dense_bytes / gpu.dram_bytes_per_second);

  std::vector<float> w(64 * 128, 1.0f);
  const auto c = sparse::compress_f32(w, 64, 128, sparse::MetaLayout::rowmajor, true);
  // compress_f32 stores fp32 values; the model's are fp16: half the value bytes, same metadata.
  const double compressed_fp16 = static_cast<double>(c.values.size()) / 2 + static_cast<double>(c.metadata.size());
  EXPECT_DOUBLE_EQ(perf::compressed_weight_bytes(64, 128, "fp16"), compressed_fp16);
  const double sparse_bytes = 2 * compressed_fp16 + 2.0 * 2 * (128 * n + 64 * n);
  EXPECT_DOUBLE_EQ(e.sparse_bytes.total(), sparse_bytes);
  EXPECT_DOUBLE_EQ(e.sparse_memory_s, sparse_bytes / gpu.dram_bytes_per_second);
  EXPECT_DOUBLE_EQ(e.operations, 2.0 * 64 * 128 * n * 2);
  EXPECT_DOUBLE_EQ(e.dense_compute_s, e.operations / 312e12);
  EXPECT_DOUBLE_EQ(e.sparse_compute_s, e.operations / 624e12);
}

TEST(PerfRoofline, AttentionProductsScaleTheirLeftOperandWithTheBatch) {
  const perf::GpuTable t = table();  // kept alive: gpu refers into it
  const auto& gpu = t.gpu("H100");
  perf::GemmShape qk{"qk", 384, 64, 384};
  qk.weight_per_example = true;
  const auto one = perf::estimate(qk, 1, gpu, "fp16");
  const auto eight = perf::estimate(qk, 8, gpu, "fp16");
  EXPECT_DOUBLE_EQ(eight.dense_bytes.total(), 8 * one.dense_bytes.total());
  EXPECT_DOUBLE_EQ(eight.speedup(), 1.0);
}

TEST(PerfModelShapes, TheTrainedModelsGemmsComeFromTheModels) {
  const auto mlp = perf::network_of(*nn::make_model("mlp"));
  ASSERT_EQ(mlp.gemms.size(), 3u);
  EXPECT_EQ(mlp.gemms[0].m, 300);
  EXPECT_EQ(mlp.gemms[0].k, 784);
  EXPECT_TRUE(mlp.gemms[0].sparse);
  EXPECT_TRUE(mlp.gemms[1].sparse);
  EXPECT_FALSE(mlp.gemms[2].sparse);
  const auto cnn = perf::network_of(*nn::make_model("cnn"));
  ASSERT_EQ(cnn.gemms.size(), 5u);
  EXPECT_EQ(cnn.gemms[1].name, "conv2");
  EXPECT_EQ(cnn.gemms[1].m, 32);
  EXPECT_EQ(cnn.gemms[1].k, 16 * 9);
  EXPECT_EQ(cnn.gemms[1].n_per_example, 14 * 14);
  EXPECT_EQ(cnn.gemms[1].input_per_example, 16 * 14 * 14);
  EXPECT_TRUE(cnn.gemms[1].sparse);
  EXPECT_FALSE(cnn.gemms[0].sparse);
  EXPECT_EQ(cnn.gemms[3].k, 3136);
}

// The ResNeXt description's total multiply-adds match the network's published cost (16.5 G).
TEST(PerfModelShapes, ResNeXt101DescriptionHasThePublishedCost) {
  const auto net = perf::load_network(kData / "models" / "resnext101.json");
  double macs = 0;
  for (const auto& g : net.gemms) macs += static_cast<double>(g.m * g.k * g.n_per_example * g.count);
  EXPECT_NEAR(macs / 1e9, 16.5, 0.15);
}

}  // namespace
