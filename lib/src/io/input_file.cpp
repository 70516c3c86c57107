#include "twofour/io/input_file.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace twofour::io {

namespace {

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void fail_errno(const std::filesystem::path& path, int err) {
  throw FormatError("cannot read " + path.string() + ": " + std::strerror(err));
}

// An open descriptor of a regular file. O_NONBLOCK so that opening a FIFO never waits for a
// writer before we can refuse it; it has no effect on reading a regular file.
class InputFd {
 public:
  explicit InputFd(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) {
    if (fd_ < 0) fail_errno(path, errno);
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      ::close(fd_);
      fail_errno(path, err);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw FormatError("cannot read " + path.string() + ": it is " + kind_of(st.st_mode) + ", not a file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
  }
  ~InputFd() { ::close(fd_); }
  InputFd(const InputFd&) = delete;
  InputFd& operator=(const InputFd&) = delete;
  int get() const { return fd_; }
  std::size_t size() const { return size_; }

 private:
  int fd_;
  std::size_t size_ = 0;
};

template <class Buffer>
Buffer read_all(const std::filesystem::path& path) {
  InputFd in(path);
  Buffer bytes;
  try {
    bytes.resize(in.size());
  } catch (const std::exception&) {  // bad_alloc, length_error
    throw FormatError("cannot read " + path.string() + ": " + std::to_string(in.size()) + " bytes do not fit in memory");
  }
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(in.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, errno);
    }
    if (n == 0) break;  // the file shrank while we read it
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

}  // namespace

void require_input_file(const std::filesystem::path& path) { InputFd check(path); }

void require_input_folder(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail_errno(path, errno);
  if (!S_ISDIR(st.st_mode)) throw FormatError("cannot read the folder " + path.string() + ": it is " + (S_ISREG(st.st_mode) ? std::string("a file") : kind_of(st.st_mode)));
  if (::access(path.c_str(), R_OK | X_OK) != 0) fail_errno(path, errno);
}

std::vector<std::byte> read_file_bytes(const std::filesystem::path& path) { return read_all<std::vector<std::byte>>(path); }

std::string read_text_file(const std::filesystem::path& path) { return read_all<std::string>(path); }

}  // namespace twofour::io
