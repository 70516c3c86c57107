#include "twofour/io/staged_output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <string>
#include <unistd.h>

namespace twofour::io {
namespace {

void sync_path(const std::filesystem::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

StagedOutput::StagedOutput(std::filesystem::path final_path, Kind kind) : final_(std::move(final_path)), kind_(kind) {
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(final_, ec)))
    throw std::runtime_error(final_.string() + " already exists; twofour never replaces an existing output (choose a new path)");
  const std::filesystem::path dir = final_.has_parent_path() ? final_.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(dir, ec)) throw std::runtime_error(final_.string() + ": folder " + dir.string() + " does not exist");
  std::string tmpl = (dir / ("." + final_.filename().string() + ".tmp-XXXXXX")).string();
  if (kind == Kind::folder) {
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("cannot create a staging folder beside " + final_.string() + ": " + std::strerror(errno));
  } else {
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw std::runtime_error("cannot create a staging file beside " + final_.string() + ": " + std::strerror(errno));
    ::fchmod(fd, 0644);
    ::close(fd);
  }
  staging_ = tmpl;
}

StagedOutput::~StagedOutput() {
  if (committed_) return;
  std::error_code ec;
  std::filesystem::remove_all(staging_, ec);
}

void StagedOutput::commit() {
  if (committed_) return;
  if (kind_ == Kind::folder) {
    std::filesystem::permissions(staging_, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                               std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                               std::filesystem::perms::others_exec);
    sync_path(staging_, O_RDONLY | O_DIRECTORY);
  } else {
    sync_path(staging_, O_RDONLY);
  }
  // RENAME_NOREPLACE: an output created meanwhile by someone else is not replaced either.
  if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(), RENAME_NOREPLACE) != 0)
    throw std::runtime_error("cannot move the finished output into place at " + final_.string() + ": " + std::strerror(errno));
  committed_ = true;
  const std::filesystem::path dir = final_.has_parent_path() ? final_.parent_path() : std::filesystem::path(".");
  sync_path(dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace twofour::io
