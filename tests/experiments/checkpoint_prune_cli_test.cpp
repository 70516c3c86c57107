// `twofour prune` on whole checkpoints and the hostile checkpoints `check` and `convert` must
// refuse with one located error. Oracles: the input bytes (kept values bit for bit), the N:M
// definition (via `twofour check` and a direct count), NumPy's documented packbits bit order
// (0xCC = keep, keep, drop, drop, keep, keep, drop, drop), and the compressed-tensors layout rules.
#include "twofour/io/checkpoint.hpp"
#include "twofour/io/npz.hpp"
#include "twofour/io/safetensors.hpp"

#include "support/run_tool.hpp"
#include "support/synthetic_checkpoint.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <filesystem>
#include <unistd.h>

namespace {

using namespace twofour::io;
using twofour::testing::run_tool;
using twofour::testing::slurp;
using twofour::testing::write_synthetic_llama;
using twofour::testing::write_text_file;

const char* kUp = "model.layers.0.mlp.up_proj.weight";
const char* kShard3 = "model-00003-of-00003.safetensors";

class CheckpointPrune : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("twofour-ckprune-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    model_ = write_synthetic_llama(dir_ / "model");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string q(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }
  std::filesystem::path p(const std::string& name) const { return dir_ / name; }
  Array read_tensor(const std::string& folder, const std::string& name) const {
    const auto c = Checkpoint::open(p(folder));
    return c.read(*c.find(name));
  }
  // Kept elements equal the input bit for bit; pruned ones are +0.
  void expect_kept_bits(const Array& in, const Array& out, const std::string& name) const {
    ASSERT_EQ(in.data.size(), out.data.size()) << name;
    const std::size_t es = dtype_size(in.dtype);
    for (std::size_t i = 0; i < in.data.size(); i += es) {
      const bool zero = std::all_of(out.data.begin() + static_cast<std::ptrdiff_t>(i), out.data.begin() + static_cast<std::ptrdiff_t>(i + es),
                                    [](std::byte b) { return b == std::byte{0}; });
      if (!zero) {
        ASSERT_EQ(std::memcmp(in.data.data() + i, out.data.data() + i, es), 0) << name << " element " << i / es;
      }
    }
  }
  // Copies model/ to `name`/ with `edit` applied to the shard-3 tensors and the index.
  void rewrite_shard3(const std::string& name, const std::function<void(SafetensorsFile&)>& edit) {
    std::filesystem::copy(p("model"), p(name), std::filesystem::copy_options::recursive);
    auto f = read_safetensors(p(name) / kShard3);
    edit(f);
    std::filesystem::remove(p(name) / kShard3);
    write_safetensors(p(name) / kShard3, f);
  }
  std::filesystem::path dir_;
  std::map<std::string, Array> model_;
};

TEST_F(CheckpointPrune, MagnitudeFolderKeepsLayoutListsSkippedTensorsAndPassesCheck) {
  const auto r = run_tool("prune " + q("model") + " " + q("pruned"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("skipped model.embed_tokens.weight: name rule: embeddings"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipped model.norm.weight: rank 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipped model.layers.0.self_attn.v_proj.weight: kernel shapes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::string("pruning ") + kUp), std::string::npos) << r.out;
  for (const auto* f : {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", kShard3, "model.safetensors.index.json",
                        "config.json", "tokenizer.json"})
    EXPECT_TRUE(std::filesystem::exists(p("pruned") / f)) << f;
  EXPECT_EQ(run_tool("check " + q("pruned")).exit_code, 0);
  const auto c = Checkpoint::open(p("pruned"));
  EXPECT_NE(c.shards()[2].metadata.at("twofour").find("prune --criterion magnitude --pattern 2:4"), std::string::npos);
  EXPECT_EQ(c.shards()[2].metadata.at("format"), "pt");
  for (const auto& [name, a] : model_) {
    const auto out = c.read(*c.find(name));
    EXPECT_EQ(out.dtype, a.dtype);
    if (name.find("proj") == std::string::npos || name.find("v_proj") != std::string::npos) {
      EXPECT_TRUE(out.data == a.data) << name << " was skipped and must be copied unchanged";
    } else {
      expect_kept_bits(a, out, name);
    }
  }
  // The largest 2 of every 4 |w| survive in up_proj (the one layer that was dense).
  const auto in = to_float32(model_.at(kUp)), out = to_float32(c.read(*c.find(kUp)));
  for (std::size_t g = 0; g < in.size() / 4; ++g) {
    float kept_min = 1e30f, dropped_max = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      if (out[4 * g + k] != 0) {
        kept_min = std::min(kept_min, std::fabs(in[4 * g + k]));
      } else {
        dropped_max = std::max(dropped_max, std::fabs(in[4 * g + k]));
      }
    }
    ASSERT_GE(kept_min, dropped_max) << "group " << g;
  }
}

TEST_F(CheckpointPrune, CompressedOutputIsReadByCheckAndConvert) {
  const auto r = run_tool("prune --format sparse-24-bitmask --any-shape " + q("model") + " " + q("sparse"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto c = Checkpoint::open(p("sparse"));
  EXPECT_EQ(c.find(kUp), nullptr);
  EXPECT_NE(c.find("model.layers.0.mlp.up_proj.compressed"), nullptr);
  const auto check = run_tool("check " + q("sparse") + " --any-shape --json " + q("r.json"));
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_NE(check.out.find("[sparse-24-bitmask]"), std::string::npos);
  const auto config = nlohmann::json::parse(slurp(p("sparse/config.json").string()));
  EXPECT_EQ(config["quantization_config"]["sparsity_config"]["format"], "sparse-24-bitmask");
  const double gs = config["quantization_config"]["sparsity_config"]["global_sparsity"];
  EXPECT_GT(gs, 0.3);
  EXPECT_LT(gs, 0.5);
  ASSERT_EQ(run_tool("convert --to dense " + q("sparse") + " " + q("dense")).exit_code, 0);
  ASSERT_EQ(run_tool("prune --any-shape " + q("model") + " " + q("pruned")).exit_code, 0);
  for (const auto& [name, a] : model_) {
    const auto x = read_tensor("dense", name), y = read_tensor("pruned", name);
    expect_kept_bits(y, x, name);
    expect_kept_bits(x, y, name);
  }
}

TEST_F(CheckpointPrune, MaskLLMPackedBitsAreApplied) {
  // keep columns 0 and 1 of every group: bits 1,1,0,0,1,1,0,0 -> 0xCC in NumPy's big-endian order
  const std::size_t n = 128 * 64;
  NamedArrays masks = {{std::string(kUp) + ".mask", make_array(DType::u8, {n / 8}, std::vector<std::byte>(n / 8, std::byte{0xCC}))}};
  write_npz(p("maskllm.npz"), masks);
  const auto r = run_tool("prune --mask " + q("maskllm.npz") + " " + q("model") + " " + q("out"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("skipped model.layers.0.self_attn.q_proj.weight: no mask in"), std::string::npos) << r.out;
  const auto out = read_tensor("out", kUp);
  const auto& in = model_.at(kUp);
  for (std::size_t i = 0; i < n; ++i) {
    const bool kept = i % 4 < 2;
    if (kept) {
      ASSERT_EQ(std::memcmp(out.data.data() + 2 * i, in.data.data() + 2 * i, 2), 0) << i;
    } else {
      ASSERT_EQ(std::to_integer<int>(out.data[2 * i]) | std::to_integer<int>(out.data[2 * i + 1]), 0) << i;
    }
  }
}

TEST_F(CheckpointPrune, AspMaskTensorsAreAppliedAndBadMasksRefused) {
  SafetensorsFile f;
  Array mask;
  mask.dtype = DType::b1;
  mask.shape = {128, 64};
  for (std::size_t i = 0; i < 128 * 64; ++i) mask.data.push_back(std::byte{static_cast<unsigned char>(i % 4 == 1 || i % 4 == 3)});
  f.tensors.emplace_back("model.layers.0.mlp.up_proj.__weight_mma_mask", mask);
  write_safetensors(p("asp.safetensors"), f);
  ASSERT_EQ(run_tool("prune --mask " + q("asp.safetensors") + " " + q("model") + " " + q("out")).exit_code, 0);
  const auto out = to_float32(read_tensor("out", kUp));
  for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i] != 0, i % 4 == 1 || i % 4 == 3) << i;

  f.tensors.emplace_back("model.layers.9.mlp.up_proj.__weight_mma_mask", mask);  // no such layer
  write_safetensors(p("typo.safetensors"), f);
  const auto typo = run_tool("prune --mask " + q("typo.safetensors") + " " + q("model") + " " + q("out2"));
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_NE(typo.err.find("model.layers.9"), std::string::npos) << typo.err;
  EXPECT_FALSE(std::filesystem::exists(p("out2")));

  for (auto& b : f.tensors[0].second.data) b = std::byte{1};  // keeps everything: not 2:4
  f.tensors.pop_back();
  write_safetensors(p("dense.safetensors"), f);
  const auto dense = run_tool("prune --mask " + q("dense.safetensors") + " " + q("model") + " " + q("out3"));
  EXPECT_EQ(dense.exit_code, 1);
  EXPECT_NE(dense.err.find("is not 2:4"), std::string::npos) << dense.err;
}

TEST_F(CheckpointPrune, DataAwareCriteriaTakeCalibrationKeyedByTensorName) {
  NamedArrays calib;
  std::vector<float> x(16 * 64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 13) - 6.0f;
  calib.emplace_back(kUp, from_float32(x, {16, 64}, DType::f32));
  write_npz(p("calib.npz"), calib);
  const auto r = run_tool("prune --criterion wanda --calib " + q("calib.npz") + " --tensor '*up_proj*' " + q("model") + " " + q("out"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto up = read_tensor("out", kUp);
  expect_kept_bits(model_.at(kUp), up, kUp);
  const auto missing = run_tool("prune --criterion sparsegpt --calib " + q("calib.npz") + " --tensor '*proj*' --any-shape " + q("model") +
                                " " + q("out2"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("has no calibration data for 'model.layers.0.self_attn.q_proj.weight'"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(p("out2")));
  const auto gpt = run_tool("prune --criterion sparsegpt --calib " + q("calib.npz") + " --tensor '*up_proj*' " + q("model") + " " + q("out3"));
  ASSERT_EQ(gpt.exit_code, 0) << gpt.err;
  EXPECT_EQ(run_tool("check --tensor '*up_proj*' " + q("out3")).exit_code, 0);
}

TEST_F(CheckpointPrune, FolderWithOneModelSafetensorsAndNoIndex) {
  std::filesystem::create_directories(p("single"));
  std::filesystem::copy_file(p("model") / kShard3, p("single") / "model.safetensors");
  std::filesystem::copy_file(p("model") / "config.json", p("single") / "config.json");
  const auto r = run_tool("prune --format sparse-24-bitmask --tensor '*down_proj*' " + q("single") + " " + q("out"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(p("out") / "model.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(p("out") / "model.safetensors.index.json"));
  EXPECT_TRUE(std::filesystem::exists(p("out") / "config.json"));
  EXPECT_EQ(run_tool("check --tensor '*down_proj*' " + q("out")).exit_code, 0);
}

// --- hostile checkpoints: one located error, exit 1 ---

TEST_F(CheckpointPrune, IndexNamingAMissingShard) {
  std::filesystem::remove(p("model") / kShard3);
  const auto r = run_tool("check " + q("model"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("names shard 'model-00003-of-00003.safetensors'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("which is missing"), std::string::npos) << r.err;
}

TEST_F(CheckpointPrune, ShardMissingATensorTheIndexNames) {
  rewrite_shard3("bad", [](SafetensorsFile& f) { f.tensors.pop_back(); });
  const auto r = run_tool("check " + q("bad"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the index maps tensor 'model.norm.weight' to shard model-00003-of-00003.safetensors, which does not hold it"),
            std::string::npos)
      << r.err;
}

TEST_F(CheckpointPrune, TensorInTwoShards) {
  rewrite_shard3("bad", [this](SafetensorsFile& f) { f.tensors.emplace_back("model.layers.0.self_attn.q_proj.weight", model_.at("model.layers.0.self_attn.q_proj.weight")); });
  const auto r = run_tool("check " + q("bad"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("model.layers.0.self_attn.q_proj.weight"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("model-00003-of-00003.safetensors"), std::string::npos) << r.err;
}

TEST_F(CheckpointPrune, IndexWithAPathOutsideTheFolder) {
  auto index = nlohmann::json::parse(slurp((p("model") / "model.safetensors.index.json").string()));
  index["weight_map"]["model.norm.weight"] = "../model-00003-of-00003.safetensors";
  write_text_file(p("model") / "model.safetensors.index.json", index.dump());
  const auto r = run_tool("check " + q("model"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a file name inside the folder"), std::string::npos) << r.err;
}

class CompressedHostile : public CheckpointPrune {
 protected:
  void SetUp() override {
    CheckpointPrune::SetUp();
    ASSERT_EQ(run_tool("convert --to sparse-24-bitmask --tensor '*down_proj*' " + q("model") + " " + q("sparse")).exit_code, 0);
  }
  // Replaces a down_proj part in shard 3 of sparse/ and runs check and convert --to dense.
  std::pair<twofour::testing::ToolResult, twofour::testing::ToolResult> with_part(const std::string& part, const Array& a) {
    auto f = read_safetensors(p("sparse") / kShard3);
    for (auto& [name, t] : f.tensors)
      if (name == "model.layers.0.mlp.down_proj." + part) t = a;
    std::filesystem::remove(p("sparse") / kShard3);
    write_safetensors(p("sparse") / kShard3, f);
    return {run_tool("check " + q("sparse")), run_tool("convert --to dense " + q("sparse") + " " + q("dense"))};
  }
  Array part(const std::string& name) const {
    const auto c = Checkpoint::open(p("sparse"));
    return c.read(*c.find("model.layers.0.mlp.down_proj." + name));
  }
};

TEST_F(CompressedHostile, BitmaskOfTheWrongSize) {
  Array b = part("bitmask");
  b.shape = {32, 32};
  const auto [check, convert] = with_part("bitmask", b);
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.out.find("'model.layers.0.mlp.down_proj.bitmask' is (32, 32), but (64, 128) needs (64, 16)"), std::string::npos) << check.out;
  EXPECT_EQ(convert.exit_code, 1);
  EXPECT_NE(convert.err.find("down_proj.bitmask' is (32, 32)"), std::string::npos) << convert.err;
  EXPECT_FALSE(std::filesystem::exists(p("dense")));
}

TEST_F(CompressedHostile, ThreeBitsInAGroup) {
  const Array original = part("bitmask");
  Array b = original;
  b.data[3 * 16 + 1] |= std::byte{0x0f};  // row 3, columns 8..11: all four bits
  const auto [check, convert] = with_part("bitmask", b);
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.out.find("row 3, group 2 (columns 8..11) has 4 bits set"), std::string::npos) << check.out;
  EXPECT_EQ(convert.exit_code, 1);
  EXPECT_NE(convert.err.find("row 3, group 2"), std::string::npos) << convert.err;
  EXPECT_FALSE(std::filesystem::exists(p("dense")));
  Array c = original;
  c.data[5 * 16] = std::byte{0x07};  // row 5, group 0: three bits
  const auto [check3, convert3] = with_part("bitmask", c);
  EXPECT_NE(check3.out.find("row 5, group 0 (columns 0..3) has 3 bits set"), std::string::npos) << check3.out;
}

TEST_F(CompressedHostile, ShapeDisagreeingWithTheValues) {
  Array s = part("shape");
  const std::int64_t dims[2] = {64, 256};
  std::memcpy(s.data.data(), dims, 16);
  const auto [check, convert] = with_part("shape", s);
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.out.find("'model.layers.0.mlp.down_proj.compressed' is (64, 64), but 'model.layers.0.mlp.down_proj.shape' (64, 256) needs (64, 128)"),
            std::string::npos)
      << check.out;
  EXPECT_EQ(convert.exit_code, 1);
}

}  // namespace
