#pragma once
// A small Llama-style checkpoint written by the tests: 3 shards + model.safetensors.index.json +
// config.json, tensors in bf16, fp16, fp32, fp8 e4m3 and e5m2, 1-D norms, a tied embedding (no
// lm_head), one MLP weight that is not 2:4, -0.0 in pruned slots, an all-zero group and a group
// with one non-zero. Values are random normals encoded by io::from_float32; 2:4 weights keep the
// 2 largest |w| of each group of 4 along the input dim (ties: the lower column).
#include "twofour/io/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace twofour::testing {

struct SyntheticTensor {
  std::string name;
  io::DType dtype;
  std::vector<std::size_t> shape;
  bool two_four;  // pruned 2:4 (with the special groups) or dense random
  int shard;
};

inline std::vector<SyntheticTensor> synthetic_llama_layout() {
  using io::DType;
  return {
      {"model.embed_tokens.weight", DType::bf16, {128, 64}, false, 0},
      {"model.layers.0.input_layernorm.weight", DType::bf16, {64}, false, 0},
      {"model.layers.0.self_attn.q_proj.weight", DType::bf16, {64, 64}, true, 0},
      {"model.layers.0.self_attn.k_proj.weight", DType::f16, {64, 64}, true, 1},
      {"model.layers.0.self_attn.v_proj.weight", DType::f32, {16, 64}, true, 1},
      {"model.layers.0.self_attn.o_proj.weight", DType::f8e4m3, {64, 64}, true, 1},
      {"model.layers.0.post_attention_layernorm.weight", DType::f32, {64}, false, 1},
      {"model.layers.0.mlp.gate_proj.weight", DType::f8e5m2, {128, 64}, true, 2},
      {"model.layers.0.mlp.up_proj.weight", DType::bf16, {128, 64}, false, 2},
      {"model.layers.0.mlp.down_proj.weight", DType::bf16, {64, 128}, true, 2},
      {"model.norm.weight", DType::f32, {64}, false, 2},
  };
}

inline const char* kSyntheticNot24 = "model.layers.0.mlp.up_proj.weight";

// Elements of `dtype` from random normals; 2:4 tensors: magnitude-pruned, then row 0 group 0
// all zero (one of them -0.0), row 0 group 1 with one non-zero, and every 7th pruned slot -0.0.
inline io::Array synthetic_tensor(const SyntheticTensor& t, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::size_t n = 1;
  for (auto d : t.shape) n *= d;
  std::vector<float> v(n);
  for (auto& x : v) {
    x = normal(rng);
    if (x == 0.0f) x = 0.5f;
  }
  io::Array a = io::from_float32(v, t.shape, t.dtype);
  if (!t.two_four) return a;
  const std::size_t es = io::dtype_size(t.dtype);
  const std::uint64_t sign = io::sign_bit(t.dtype);
  const auto decoded = io::to_float32(a);  // rank by the stored values
  auto set_zero = [&](std::size_t i, bool negative) {
    std::uint64_t bits = negative ? sign : 0;
    std::memcpy(a.data.data() + i * es, &bits, es);
  };
  std::size_t pruned = 0;
  for (std::size_t g = 0; g < n / 4; ++g) {
    std::size_t order[4] = {0, 1, 2, 3};
    std::stable_sort(order, order + 4, [&](std::size_t x, std::size_t y) {
      return std::fabs(decoded[4 * g + x]) > std::fabs(decoded[4 * g + y]);
    });
    for (std::size_t k = 2; k < 4; ++k) set_zero(4 * g + order[k], ++pruned % 7 == 0);
  }
  for (std::size_t k = 0; k < 4; ++k) set_zero(k, k == 2);  // row 0, group 0: all zero, one -0.0
  const float one_and_half = 1.5f;                             // row 0, group 1: only column 4 non-zero
  const io::Array nonzero = io::from_float32(std::span<const float>(&one_and_half, 1), {1}, t.dtype);
  std::memcpy(a.data.data() + 4 * es, nonzero.data.data(), es);
  for (std::size_t k = 5; k < 8; ++k) set_zero(k, false);
  return a;
}

inline void write_text_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

// Writes the checkpoint folder `dir` (created) and returns the tensors written, by name.
inline std::map<std::string, io::Array> write_synthetic_llama(const std::filesystem::path& dir, std::uint64_t seed = 7) {
  std::filesystem::create_directories(dir);
  const auto layout = synthetic_llama_layout();
  std::map<std::string, io::Array> all;
  io::SafetensorsFile shards[3];
  nlohmann::json map = nlohmann::json::object();
  std::size_t total = 0;
  const char* names[3] = {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                          "model-00003-of-00003.safetensors"};
  std::uint64_t s = seed;
  for (const auto& t : layout) {
    io::Array a = synthetic_tensor(t, s++);
    all[t.name] = a;
    total += a.data.size();
    map[t.name] = names[t.shard];
    shards[t.shard].tensors.emplace_back(t.name, std::move(a));
  }
  for (int i = 0; i < 3; ++i) {
    shards[i].metadata["format"] = "pt";
    io::write_safetensors(dir / names[i], shards[i]);
  }
  const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", map}};
  write_text_file(dir / "model.safetensors.index.json", index.dump(2));
  const nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
                                 {"hidden_size", 64},                     {"tie_word_embeddings", true}};
  write_text_file(dir / "config.json", config.dump(2));
  write_text_file(dir / "tokenizer.json", "{\"version\": \"1.0\"}");
  return all;
}

}  // namespace twofour::testing
