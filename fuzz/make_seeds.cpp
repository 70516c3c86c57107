// Writes small valid .npy / .npz / .safetensors files as seed corpora: make_seeds OUT_DIR
// creates OUT_DIR/{npy,npz,safetensors,idx}/.
#include "twofour/io/atomic_file.hpp"
#include "twofour/io/safetensors.hpp"
#include "twofour/io/npy.hpp"

#include <zlib.h>

#include <filesystem>
#include <vector>
#include <iostream>

int main(int argc, char** argv) {
  using namespace twofour::io;
  if (argc != 2) {
    std::cerr << "usage: make_seeds OUT_DIR\n";
    return 2;
  }
  const std::filesystem::path out = argv[1];
  for (const char* d : {"npy", "npz", "safetensors", "idx"}) std::filesystem::create_directories(out / d);
  const float v[6] = {1.5f, -2.0f, 0.0f, 3.25f, 0.0f, -0.5f};
  const Array f32 = from_float32(v, {2, 3}, DType::f32);
  const Array f16 = from_float32(v, {3, 2}, DType::f16);
  const Array bf16 = from_float32(v, {6}, DType::bf16);
  const Array i8 = from_float32(v, {1, 2, 3}, DType::i8);
  const Array f64 = from_float32(v, {2, 1, 3}, DType::f64);
  const Array scalar = from_float32(std::span<const float>(v, 1), {}, DType::i64);
  int n = 0;
  for (const Array* a : {&f32, &f16, &bf16, &i8, &f64, &scalar})
    write_file_atomically(out / "npy" / ("seed" + std::to_string(n++) + ".npy"), serialize_npy(*a));
  const NamedArrays named = {{"w", f32}, {"b", i8}, {"h", f16}};
  write_file_atomically(out / "npz" / "stored.npz", serialize_npz(named, false));
  write_file_atomically(out / "npz" / "deflated.npz", serialize_npz(named, true));
  SafetensorsFile st;
  st.tensors = {{"layer.weight", f32}, {"layer.bias", bf16}, {"emb", f16}};
  st.metadata = {{"format", "pt"}};
  write_file_atomically(out / "safetensors" / "seed0.safetensors", serialize_safetensors(st));
  st.metadata.clear();
  st.tensors.resize(1);
  write_file_atomically(out / "safetensors" / "seed1.safetensors", serialize_safetensors(st));
  // IDX (LeCun's format as Fashion-MNIST ships it): a 2x3 u8 matrix, plain and gzip'd.
  std::vector<unsigned char> idx = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6};
  write_file_atomically(out / "idx" / "seed0.idx", std::as_bytes(std::span<const unsigned char>(idx)));
  z_stream zs{};
  std::vector<unsigned char> gz(256);
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  zs.next_in = idx.data();
  zs.avail_in = static_cast<uInt>(idx.size());
  zs.next_out = gz.data();
  zs.avail_out = static_cast<uInt>(gz.size());
  deflate(&zs, Z_FINISH);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  write_file_atomically(out / "idx" / "seed1.idx.gz", std::as_bytes(std::span<const unsigned char>(gz)));
  return 0;
}
