// `twofour check`, `convert` and `prune` on whole checkpoints, run as a user would on the
// synthetic Llama-style checkpoint of support/synthetic_checkpoint.hpp (3 shards + index,
// bf16/fp16/fp32/fp8, norms, tied embedding, a layer that is not 2:4, -0.0, all-zero and
// one-non-zero groups). Oracles: the bytes the test wrote (round trips compared bit for bit),
// NumPy's packbits(bitorder="little") for the sparse-24-bitmask layout, and the N:M definition.
#include "twofour/io/checkpoint.hpp"
#include "twofour/io/npz.hpp"
#include "twofour/io/safetensors.hpp"

#include "support/run_tool.hpp"
#include "support/synthetic_checkpoint.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace {

using namespace twofour::io;
using twofour::testing::run_tool;
using twofour::testing::slurp;
using twofour::testing::write_synthetic_llama;

class CheckpointTool : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("twofour-ckpt-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    model_ = write_synthetic_llama(dir_ / "model");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string q(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }
  std::filesystem::path p(const std::string& name) const { return dir_ / name; }
  // Every tensor of a checkpoint folder, by name.
  static std::map<std::string, Array> tensors_of(const std::filesystem::path& folder) {
    const auto c = Checkpoint::open(folder);
    std::map<std::string, Array> out;
    for (const auto& t : c.tensors()) out[t.name] = c.read(t);
    return out;
  }
  // -0.0 replaced by +0.0 (every other bit pattern unchanged).
  static Array plus_zeros(Array a) {
    const std::size_t es = dtype_size(a.dtype);
    const std::uint64_t sign = sign_bit(a.dtype);
    for (std::size_t i = 0; i < a.data.size(); i += es) {
      std::uint64_t v = 0;
      std::memcpy(&v, a.data.data() + i, es);
      if (sign != 0 && v == sign) std::memset(a.data.data() + i, 0, es);
    }
    return a;
  }
  std::filesystem::path dir_;
  std::map<std::string, Array> model_;
};

TEST_F(CheckpointTool, CheckFindsTheOneLayerThatIsNot24AndExitsOne) {
  const auto r = run_tool("check " + q("model") + " --json " + q("report.json"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::cout << r.out;  // the table, for the record
  EXPECT_NE(r.out.find("model.layers.0.mlp.up_proj.weight: first violation at row 0, group 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("name rule: embeddings"), std::string::npos);
  EXPECT_NE(r.out.find("rank 1 (64,): only 2-D"), std::string::npos);
  EXPECT_NE(r.out.find("no: kernel shapes: (16, 64) is not (32k, 64k)"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(p("report.json").string()));
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["failing"].get<int>(), 1);
  EXPECT_EQ(j["tensors"].size(), model_.size());
  for (const auto& t : j["tensors"]) {
    const std::string name = t["name"];
    if (name == twofour::testing::kSyntheticNot24) {
      EXPECT_TRUE(t["target"].get<bool>());
      EXPECT_EQ(t["violating_groups"].get<int>(), 128 * 16) << "random normals: every group has 4 non-zeros";
      EXPECT_EQ(t["first_violation"]["row"].get<int>(), 0);
      EXPECT_EQ(t["first_violation"]["nonzeros"].get<int>(), 4);
    } else if (name == "model.layers.0.self_attn.q_proj.weight") {
      EXPECT_TRUE(t["conforms"].get<bool>());
      EXPECT_GT(t["negative_zeros"].get<int>(), 0);
      EXPECT_EQ(t["dtype"], "bfloat16");
    } else if (name == "model.layers.0.self_attn.o_proj.weight") {
      EXPECT_EQ(t["dtype"], "float8_e4m3");
      EXPECT_TRUE(t["conforms"].get<bool>());
      EXPECT_NEAR(t["sparsity"].get<double>(), 0.5 + 3.0 / 4096, 1e-12) << "the all-zero and one-non-zero groups add 3 zeros";
    }
  }
}

TEST_F(CheckpointTool, CheckPassesWhenTheTargetsAreRestrictedToThe24Layers) {
  const auto r = run_tool("check " + q("model") + " --tensor '*_proj.weight' --tensor '*down*'");
  EXPECT_EQ(r.exit_code, 1) << "up_proj matches *_proj.weight";
  const auto ok = run_tool("check " + q("model") + " --tensor '*attn*' --tensor '*gate*' --tensor '*down*' --any-shape");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("every target is 2:4"), std::string::npos);
  const auto file = run_tool("check " + q("model/model-00002-of-00003.safetensors"));
  EXPECT_EQ(file.exit_code, 0) << file.out << file.err;
}

TEST_F(CheckpointTool, CheckAnyNMPattern) {
  const auto r = run_tool("check " + q("model") + " --tensor '*q_proj*' --pattern 1:4 --json " + q("r.json"));
  EXPECT_EQ(r.exit_code, 1);
  const auto j = nlohmann::json::parse(slurp(p("r.json").string()));
  EXPECT_EQ(j["pattern"], "1:4");
  const auto loose = run_tool("check " + q("model") + " --tensor '*q_proj*' --pattern 2:8");
  EXPECT_EQ(loose.exit_code, 1) << "2 kept of every 4 is 4 of every 8, not 2";
  const auto wide = run_tool("check " + q("model") + " --tensor '*q_proj*' --pattern 4:8");
  EXPECT_EQ(wide.exit_code, 0) << wide.out;
}

TEST_F(CheckpointTool, ConvertRoundTripIsBitExactInEveryDtype) {
  const auto c = run_tool("convert --to sparse-24-bitmask --tensor '*attn*' --tensor '*gate*' --tensor '*down*' --any-shape " +
                          q("model") + " " + q("sparse"));
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  const auto sparse = tensors_of(p("sparse"));
  EXPECT_EQ(sparse.count("model.layers.0.self_attn.q_proj.weight"), 0u);
  ASSERT_EQ(sparse.count("model.layers.0.self_attn.q_proj.compressed"), 1u);
  EXPECT_EQ(sparse.at("model.layers.0.self_attn.q_proj.compressed").shape, (std::vector<std::size_t>{64, 32}));
  EXPECT_EQ(sparse.at("model.layers.0.self_attn.q_proj.bitmask").dtype, DType::u8);
  EXPECT_EQ(sparse.at("model.layers.0.self_attn.q_proj.bitmask").shape, (std::vector<std::size_t>{64, 8}));
  EXPECT_EQ(sparse.at("model.layers.0.self_attn.q_proj.shape").shape, (std::vector<std::size_t>{2, 1}));
  EXPECT_EQ(sparse.at("model.layers.0.self_attn.o_proj.compressed").dtype, DType::f8e4m3);
  const auto config = nlohmann::json::parse(slurp(p("sparse/config.json").string()));
  const auto& sc = config["quantization_config"]["sparsity_config"];
  EXPECT_EQ(sc["format"], "sparse-24-bitmask");
  EXPECT_EQ(sc["sparsity_structure"], "2:4");
  EXPECT_EQ(sc["targets"].size(), 6u);
  EXPECT_EQ(config["tie_word_embeddings"], true) << "other config fields kept";
  EXPECT_TRUE(std::filesystem::exists(p("sparse/tokenizer.json")));
  EXPECT_EQ(std::filesystem::file_size(p("sparse/model-00001-of-00003.safetensors")) <
                std::filesystem::file_size(p("model/model-00001-of-00003.safetensors")),
            true);

  const auto d = run_tool("convert --to dense " + q("sparse") + " " + q("dense"));
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  const auto back = tensors_of(p("dense"));
  ASSERT_EQ(back.size(), model_.size());
  for (const auto& [name, a] : model_) {
    ASSERT_EQ(back.count(name), 1u) << name;
    EXPECT_EQ(back.at(name).dtype, a.dtype) << name;
    EXPECT_EQ(back.at(name).shape, a.shape) << name;
    // Non-zero values bit for bit; a -0.0 beside two non-zeros has no slot and comes back +0.0.
    EXPECT_TRUE(plus_zeros(back.at(name)).data == plus_zeros(a).data) << name;
    if (name.find("proj") == std::string::npos) {
      EXPECT_TRUE(back.at(name).data == a.data) << name << " was copied";
    }
  }
  const auto c2 = Checkpoint::open(p("dense"));
  EXPECT_EQ(c2.shards().size(), 3u);
  EXPECT_EQ(c2.shards()[0].metadata.at("format"), "pt");
  EXPECT_NE(c2.shards()[0].metadata.at("twofour.1").find("convert --to dense"), std::string::npos);
  const auto dense_config = nlohmann::json::parse(slurp(p("dense/config.json").string()));
  EXPECT_EQ(dense_config["quantization_config"]["sparsity_config"]["format"], "dense");
}

TEST_F(CheckpointTool, ConvertMatchesNumpyPackbitsLittle) {
  if (std::system("python3 -c 'import numpy' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 with numpy is needed for this oracle";
  ASSERT_EQ(run_tool("convert --to sparse-24-bitmask --tensor '*attn*' --any-shape " + q("model") + " " + q("sparse")).exit_code, 0);
  // The oracle reads both checkpoints itself and checks, per weight: the bitmask is
  // packbits(kept, axis=-1, bitorder="little"), every non-zero is kept, 2 kept per group, and
  // compressed == dense[kept] bit for bit.
  const std::string script = R"PY(
import json, struct, sys, numpy as np
def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    h.pop("__metadata__", None)
    size = {"BF16": 2, "F16": 2, "F32": 4, "F8_E4M3": 1, "F8_E5M2": 1, "U8": 1, "I64": 8}
    uint = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
    out = {}
    for k, v in h.items():
        b, e = v["data_offsets"]
        out[k] = (v["dtype"], np.frombuffer(raw[8 + n + b:8 + n + e], dtype=uint[size[v["dtype"]]]).reshape(v["shape"]))
    return out
src, dst = sys.argv[1], sys.argv[2]
checked = 0
for shard in ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors"]:
    a, b = load(src + "/" + shard), load(dst + "/" + shard)
    for name, (dt, w) in a.items():
        if "attn" not in name: continue
        p = name[:-len(".weight")]
        bits = b[p + ".bitmask"][1]
        kept = np.unpackbits(bits, axis=-1, count=w.shape[1], bitorder="little").astype(bool)
        assert (np.packbits(kept, axis=-1, bitorder="little") == bits).all(), name
        sign = np.array(1 << (8 * w.dtype.itemsize - 1), dtype=w.dtype)
        nonzero = (w & ~sign) != 0
        assert (kept | ~nonzero).all(), name + ": a non-zero is not kept"
        assert (kept.reshape(w.shape[0], -1, 4).sum(-1) == 2).all(), name
        assert (b[p + ".compressed"][1] == w[kept].reshape(w.shape[0], -1)).all(), name
        assert (b[p + ".shape"][1].ravel() == np.array(w.shape)).all(), name
        checked += 1
assert checked == 4, checked
print("numpy oracle: ok", checked)
)PY";
  twofour::testing::write_text_file(p("oracle.py"), script);
  const auto r = run_tool("'" + p("oracle.py").string() + "' " + q("model") + " " + q("sparse"), "python3");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("numpy oracle: ok 4"), std::string::npos) << r.out << r.err;
}

TEST_F(CheckpointTool, ConvertRefusesANon24TargetNamingTensorRowAndGroupAndWritesNothing) {
  const auto r = run_tool("convert --to sparse-24-bitmask --any-shape " + q("model") + " " + q("out"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tensor 'model.layers.0.mlp.up_proj.weight' is not 2:4 at row 0, group 0"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(p("out")));
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".out."), std::string::npos) << "staging left behind: " << e.path();
}

TEST_F(CheckpointTool, OutputsNeverReplaceAnExistingPath) {
  const auto r = run_tool("convert --to sparse-24-bitmask --tensor '*attn*' --any-shape " + q("model") + " " + q("model"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("refusing to overwrite an input"), std::string::npos) << r.err;
  EXPECT_EQ(tensors_of(p("model")).size(), model_.size());
}

TEST_F(CheckpointTool, ConvertSingleFile) {
  const auto in = q("model/model-00001-of-00003.safetensors");
  ASSERT_EQ(run_tool("convert --to sparse-24-bitmask --any-shape " + in + " " + q("one.safetensors")).exit_code, 0);
  ASSERT_EQ(run_tool("convert --to dense " + q("one.safetensors") + " " + q("back.safetensors")).exit_code, 0);
  const auto back = read_safetensors(p("back.safetensors"));
  for (const auto& [name, a] : back.tensors) EXPECT_TRUE(plus_zeros(a).data == plus_zeros(model_.at(name)).data) << name;
}

}  // namespace
