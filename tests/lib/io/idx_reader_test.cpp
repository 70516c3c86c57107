// IDX reader: well-formed files of every element type (plain and gzip'd, several gzip members),
// and every malformed header, size and stream rejected with a message naming the fault.
#include "twofour/io/idx.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

using namespace twofour::io;

std::vector<std::byte> idx_bytes(std::uint8_t type, std::vector<std::uint32_t> dims, std::vector<std::uint8_t> payload) {
  std::vector<std::byte> b{std::byte{0}, std::byte{0}, std::byte{type}, static_cast<std::byte>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::byte>((d >> s) & 0xff));
  for (auto v : payload) b.push_back(static_cast<std::byte>(v));
  return b;
}

std::vector<std::byte> gzip(std::span<const std::byte> in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::byte> out(deflateBound(&z, static_cast<uLong>(in.size())) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string error_of(std::span<const std::byte> bytes) {
  try {
    parse_idx_maybe_gzip(bytes, "test.idx");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(IdxReader, ParsesUnsignedBytesImages) {
  std::vector<std::uint8_t> pixels(2 * 3 * 4);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 10);
  const Array a = parse_idx(idx_bytes(0x08, {2, 3, 4}, pixels));
  EXPECT_EQ(a.dtype, DType::u8);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3, 4}));
  ASSERT_EQ(a.data.size(), 24u);
  EXPECT_EQ(static_cast<int>(a.data[23]), 230);
}

TEST(IdxReader, ConvertsBigEndianElements) {
  // i16 {-2, 258}, i32 {0x01020304}, f32 {1.5}, f64 {-0.25}
  const Array s = parse_idx(idx_bytes(0x0B, {2}, {0xff, 0xfe, 0x01, 0x02}));
  std::int16_t sv[2];
  std::memcpy(sv, s.data.data(), 4);
  EXPECT_EQ(sv[0], -2);
  EXPECT_EQ(sv[1], 258);
  const Array i = parse_idx(idx_bytes(0x0C, {1}, {0x01, 0x02, 0x03, 0x04}));
  std::int32_t iv;
  std::memcpy(&iv, i.data.data(), 4);
  EXPECT_EQ(iv, 0x01020304);
  const Array f = parse_idx(idx_bytes(0x0D, {1, 1}, {0x3f, 0xc0, 0x00, 0x00}));
  float fv;
  std::memcpy(&fv, f.data.data(), 4);
  EXPECT_EQ(fv, 1.5f);
  EXPECT_EQ(f.dtype, DType::f32);
  const Array d = parse_idx(idx_bytes(0x0E, {1}, {0xbf, 0xd0, 0, 0, 0, 0, 0, 0}));
  double dv;
  std::memcpy(&dv, d.data.data(), 8);
  EXPECT_EQ(dv, -0.25);
  EXPECT_EQ(parse_idx(idx_bytes(0x09, {1}, {0x80})).dtype, DType::i8);
}

TEST(IdxReader, ReadsGzipIncludingMultipleMembers) {
  const auto plain = idx_bytes(0x08, {3}, {7, 8, 9});
  const auto gz = gzip(plain);
  EXPECT_EQ(parse_idx_maybe_gzip(gz).shape, (std::vector<std::size_t>{3}));
  // The same bytes split across two gzip members (as `cat a.gz b.gz` makes).
  auto two = gzip(std::span(plain).first(5));
  const auto second = gzip(std::span(plain).subspan(5));
  two.insert(two.end(), second.begin(), second.end());
  const Array a = parse_idx_maybe_gzip(two);
  ASSERT_EQ(a.data.size(), 3u);
  EXPECT_EQ(static_cast<int>(a.data[2]), 9);
}

TEST(IdxReader, RejectsBadHeaders) {
  EXPECT_NE(error_of(std::vector<std::byte>{}).find("too short"), std::string::npos);
  auto bad_magic = idx_bytes(0x08, {1}, {0});
  bad_magic[1] = std::byte{1};
  EXPECT_NE(error_of(bad_magic).find("magic"), std::string::npos);
  EXPECT_NE(error_of(idx_bytes(0x0A, {1}, {0})).find("unknown IDX element type 0x0A"), std::string::npos);
  EXPECT_NE(error_of(idx_bytes(0x08, {}, {})).find("rank 0"), std::string::npos);
  auto huge_rank = idx_bytes(0x08, {1}, {0});
  huge_rank[3] = std::byte{200};
  EXPECT_NE(error_of(huge_rank).find("rank 200"), std::string::npos);
  auto short_dims = idx_bytes(0x08, {1, 2, 3}, {});
  short_dims.resize(10);
  EXPECT_NE(error_of(short_dims).find("truncated IDX header"), std::string::npos);
  EXPECT_NE(error_of(idx_bytes(0x08, {4, 0}, {})).find("dimension 1 is zero"), std::string::npos);
}

TEST(IdxReader, RejectsSizeMismatches) {
  const std::string truncated = error_of(idx_bytes(0x08, {2, 3}, {1, 2, 3, 4, 5}));
  EXPECT_NE(truncated.find("need 6 data bytes but the file has 5 (truncated)"), std::string::npos) << truncated;
  EXPECT_NE(error_of(idx_bytes(0x0C, {1}, {1, 2, 3, 4, 5})).find("trailing bytes"), std::string::npos);
  // Dimensions whose product overflows or exceeds the cap are refused before any allocation.
  const std::string huge = error_of(idx_bytes(0x0E, {0xffffffffu, 0xffffffffu, 0xffffffffu}, {}));
  EXPECT_FALSE(huge.empty());
  EXPECT_NE(huge.find("test.idx"), std::string::npos) << huge;
}

TEST(IdxReader, RejectsCorruptAndTruncatedGzip) {
  const auto plain = idx_bytes(0x08, {64}, std::vector<std::uint8_t>(64, 5));
  const auto gz = gzip(plain);
  auto truncated = gz;
  truncated.resize(gz.size() / 2);
  EXPECT_NE(error_of(truncated).find("truncated gzip"), std::string::npos) << error_of(truncated);
  auto corrupt = gz;
  corrupt[corrupt.size() - 6] ^= std::byte{0xff};  // the CRC-32 / size trailer
  EXPECT_NE(error_of(corrupt).find("corrupt gzip"), std::string::npos) << error_of(corrupt);
  auto garbage = gz;
  garbage.push_back(std::byte{'x'});
  EXPECT_NE(error_of(garbage).find("trailing garbage"), std::string::npos) << error_of(garbage);
  // A gzip bomb is cut off at the limit.
  EXPECT_THROW(gunzip(gzip(std::vector<std::byte>(1 << 20)), 1000, "bomb"), FormatError);
}

TEST(IdxReader, ReadsFilesAndNamesThemInErrors) {
  const auto dir = std::filesystem::temp_directory_path() / ("twofour-idx-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, std::span<const std::byte> b) {
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return dir / name;
  };
  const auto good = write("good-idx1-ubyte.gz", gzip(idx_bytes(0x08, {2}, {1, 2})));
  EXPECT_EQ(read_idx(good).shape, (std::vector<std::size_t>{2}));
  const auto bad = write("bad-idx1-ubyte", idx_bytes(0x08, {3}, {1}));
  try {
    read_idx(bad);
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad-idx1-ubyte"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_idx(dir / "missing"), FormatError);
  std::filesystem::remove_all(dir);
}

}  // namespace
