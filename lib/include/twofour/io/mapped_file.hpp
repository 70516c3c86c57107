#pragma once
// A read-only memory map of a whole file. Pages are read on first touch; release() tells the
// kernel the process no longer needs a range, so walking a large file tensor by tensor keeps the
// resident set near one tensor instead of growing to the whole file.
#include <cstddef>
#include <filesystem>
#include <span>

namespace twofour::io {

class MappedFile {
 public:
  // Throws FormatError naming the path when it cannot be opened or mapped (a folder, missing...).
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the pages of [offset, offset + length) from the resident set (they are re-read from
  // the file if touched again).
  void release(std::size_t offset, std::size_t length) const;

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace twofour::io
