#include "twofour/io/output_set.hpp"

#include "temporaries.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace twofour::io {

namespace fs = std::filesystem;

namespace {

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

[[noreturn]] void fail(const std::string& what) { throw OutputError(what); }

[[noreturn]] void fail_errno(const std::string& what, int err) { throw OutputError(what + ": " + std::strerror(err)); }

// Follows symlinks of the last component (as open(2) would) to the path that is really written;
// a dangling link yields its missing target.
fs::path follow_links(const fs::path& declared) {
  fs::path p = fs::absolute(declared);
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p.lexically_normal();
    std::error_code ec;
    const fs::path target = fs::read_symlink(p, ec);
    if (ec) fail("cannot read the symbolic link " + quoted(declared) + ": " + ec.message());
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  fail(quoted(declared) + ": too many levels of symbolic links");
}

// What a path names, for comparing inputs and outputs: the resolved path (folders' symlinks
// resolved too) and, when it exists, the device and inode (hard links).
struct Identity {
  fs::path canonical;
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
};

Identity identify(const fs::path& resolved) {
  Identity id;
  std::error_code ec;
  id.canonical = fs::weakly_canonical(resolved, ec);
  if (ec) id.canonical = resolved.lexically_normal();
  struct stat st {};
  if (::stat(resolved.c_str(), &st) == 0) {
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
  }
  return id;
}

bool same(const Identity& a, const Identity& b) {
  return (a.exists && b.exists && a.dev == b.dev && a.ino == b.ino) || a.canonical == b.canonical;
}

bool inside(const Identity& item, const Identity& folder) {
  const std::string f = folder.canonical.string(), i = item.canonical.string();
  return i.size() > f.size() && i.compare(0, f.size(), f) == 0 && (f.back() == '/' || i[f.size()] == '/');
}

mode_t current_umask() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

void check_parent_writable(const fs::path& declared, const fs::path& resolved) {
  const fs::path parent = resolved.parent_path();
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0) fail_errno("cannot write " + quoted(declared) + ": folder " + quoted(parent), errno);
  if (!S_ISDIR(st.st_mode)) fail("cannot write " + quoted(declared) + ": " + quoted(parent) + " is not a folder");
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    fail_errno("cannot write " + quoted(declared) + " (it is written beside its target, then renamed): folder " + quoted(parent), errno);
}

void write_all(int fd, std::span<const std::byte> bytes) {
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category());
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

struct OutputSet::Impl {
  enum class Kind { absent, regular, special, folder };
  struct Target {
    fs::path declared, resolved;
    Identity id;
    bool is_folder = false;
    Kind kind = Kind::absent;
    mode_t mode = 0;
    fs::path temp;  // staged regular file or folder
    int slot = -1;
    bool written = false;
    std::vector<std::byte> special_bytes;  // written straight to a device or FIFO at commit
  };
  std::vector<Target> targets;
  bool committed = false;

  Target& find(const fs::path& declared, bool is_folder) {
    for (auto& t : targets)
      if (t.declared == declared && t.is_folder == is_folder) return t;
    throw std::logic_error("output " + quoted(declared) + " was not declared in the command's OutputSet");
  }

  void drop_temp(Target& t) {
    if (t.temp.empty()) return;
    std::error_code ec;
    if (t.is_folder) {
      fs::remove_all(t.temp, ec);
    } else {
      ::unlink(t.temp.c_str());
    }
    detail::untrack_temporary(t.slot);
    t.slot = -1;
    t.temp.clear();
  }
};

OutputSet::OutputSet(const std::vector<fs::path>& declared_inputs, const std::vector<fs::path>& files,
                     const std::vector<fs::path>& folders) : impl_(std::make_unique<Impl>()) {
  const mode_t umask = current_umask();
  std::vector<std::pair<fs::path, Identity>> inputs;
  for (const auto& in : declared_inputs)
    if (!in.empty()) inputs.emplace_back(in, identify(fs::absolute(in)));

  auto add = [&](const fs::path& declared, bool is_folder) {
    if (declared.empty()) return;
    Impl::Target t;
    t.declared = declared;
    t.is_folder = is_folder;
    t.resolved = follow_links(declared);
    t.id = identify(t.resolved);
    t.mode = (is_folder ? 0777 : 0666) & ~umask;
    struct stat st {};
    if (::stat(t.resolved.c_str(), &st) != 0) {
      if (errno != ENOENT) fail_errno("cannot write " + quoted(declared), errno);
      check_parent_writable(declared, t.resolved);
    } else if (is_folder) {
      if (!S_ISDIR(st.st_mode)) fail("output folder " + quoted(declared) + " exists and is not a folder");
      check_parent_writable(declared, t.resolved);
      t.kind = Impl::Kind::folder;
      t.mode = st.st_mode & 07777;
    } else if (S_ISDIR(st.st_mode)) {
      fail("output " + quoted(declared) + " is a folder, not a file");
    } else if (S_ISSOCK(st.st_mode)) {
      fail("output " + quoted(declared) + " is a socket; cannot write a file to it");
    } else if (S_ISREG(st.st_mode)) {
      // A file the user made read-only is not replaced behind their back (rename would allow it).
      if (::access(t.resolved.c_str(), W_OK) != 0) fail_errno("cannot write " + quoted(declared), errno);
      check_parent_writable(declared, t.resolved);
      t.kind = Impl::Kind::regular;
      t.mode = st.st_mode & 07777;
    } else {  // character or block device, FIFO: written in place
      if (::access(t.resolved.c_str(), W_OK) != 0) fail_errno("cannot write " + quoted(declared), errno);
      t.kind = Impl::Kind::special;
    }
    for (const auto& [path, id] : inputs) {
      if (same(t.id, id))
        fail("output " + quoted(declared) + " is the input " + quoted(path) + "; refusing to overwrite an input (choose another output)");
      if (is_folder && inside(id, t.id))
        fail("output folder " + quoted(declared) + " holds the input " + quoted(path) + "; refusing to replace it");
    }
    for (const auto& other : impl_->targets) {
      if (same(t.id, other.id))
        fail("outputs " + quoted(other.declared) + " and " + quoted(declared) + " are the same file; each output needs its own path");
      if ((is_folder && inside(other.id, t.id)) || (other.is_folder && inside(t.id, other.id)))
        fail("output " + quoted(is_folder ? other.declared : declared) + " lies inside the output folder " +
             quoted(is_folder ? declared : other.declared));
    }
    impl_->targets.push_back(std::move(t));
  };
  for (const auto& f : files) add(f, false);
  for (const auto& f : folders) add(f, true);
}

OutputSet::~OutputSet() {
  if (impl_ == nullptr) return;
  for (auto& t : impl_->targets) impl_->drop_temp(t);
}

void OutputSet::write(const fs::path& file, std::span<const std::byte> bytes) {
  auto& t = impl_->find(file, false);
  if (t.kind == Impl::Kind::special) {
    t.special_bytes.assign(bytes.begin(), bytes.end());
    t.written = true;
    return;
  }
  impl_->drop_temp(t);
  std::string tmpl = (t.resolved.parent_path() / ("." + t.resolved.filename().string() + ".twofour-tmp-XXXXXX")).string();
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) fail_errno("cannot create a temporary file beside " + quoted(file), errno);
  t.temp = tmpl;
  t.slot = detail::track_temporary(t.temp, false);
  try {
    write_all(fd, bytes);
    if (::fchmod(fd, t.mode) != 0 || ::fsync(fd) != 0) throw std::system_error(errno, std::generic_category());
  } catch (const std::system_error& e) {
    ::close(fd);
    impl_->drop_temp(t);
    fail("cannot write " + quoted(file) + ": " + std::strerror(e.code().value()));
  }
  if (::close(fd) != 0) {
    const int err = errno;
    impl_->drop_temp(t);
    fail_errno("cannot write " + quoted(file), err);
  }
  t.written = true;
}

void OutputSet::write(const fs::path& file, std::string_view text) {
  write(file, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

fs::path OutputSet::folder(const fs::path& declared) {
  auto& t = impl_->find(declared, true);
  if (!t.temp.empty()) return t.temp;
  std::string tmpl = (t.resolved.parent_path() / ("." + t.resolved.filename().string() + ".twofour-tmp-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) fail_errno("cannot create a temporary folder beside " + quoted(declared), errno);
  t.temp = tmpl;
  t.slot = detail::track_temporary(t.temp, true);
  if (::chmod(t.temp.c_str(), t.mode) != 0) {
    const int err = errno;
    impl_->drop_temp(t);
    fail_errno("cannot set the permissions of " + quoted(declared), err);
  }
  t.written = true;
  return t.temp;
}

void OutputSet::commit() {
  if (impl_->committed) throw std::logic_error("OutputSet committed twice");
  for (const auto& t : impl_->targets)
    if (!t.written) throw std::logic_error("output " + quoted(t.declared) + " was declared but never written");
  // Devices and FIFOs first: they cannot be undone, but a failure there still leaves every
  // regular output untouched.
  for (auto& t : impl_->targets) {
    if (t.kind != Impl::Kind::special) continue;
    const int fd = ::open(t.resolved.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) fail_errno("cannot open " + quoted(t.declared), errno);
    try {
      write_all(fd, t.special_bytes);
    } catch (const std::system_error& e) {
      ::close(fd);
      fail("cannot write " + quoted(t.declared) + ": " + std::strerror(e.code().value()));
    }
    ::close(fd);
  }
  for (auto& t : impl_->targets) {
    if (t.kind == Impl::Kind::special) continue;
    if (!t.is_folder) {
      if (::rename(t.temp.c_str(), t.resolved.c_str()) != 0) fail_errno("cannot rename a temporary file onto " + quoted(t.declared), errno);
      detail::untrack_temporary(t.slot);
      t.slot = -1;
      t.temp.clear();
      continue;
    }
    if (t.kind == Impl::Kind::absent) {
      if (::renameat2(AT_FDCWD, t.temp.c_str(), AT_FDCWD, t.resolved.c_str(), RENAME_NOREPLACE) != 0)
        fail_errno("cannot move the finished folder onto " + quoted(t.declared), errno);
      detail::untrack_temporary(t.slot);
      t.slot = -1;
      t.temp.clear();
      continue;
    }
    // Swap the new folder in; the old one is now at the temporary name and is deleted below.
    if (::renameat2(AT_FDCWD, t.temp.c_str(), AT_FDCWD, t.resolved.c_str(), RENAME_EXCHANGE) != 0)
      fail_errno("cannot swap the finished folder with " + quoted(t.declared), errno);
    impl_->drop_temp(t);
  }
  impl_->committed = true;
}

void require_output_folder(const fs::path& folder) {
  fs::path p = fs::absolute(folder).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "out/" names the folder "out"
  struct stat st {};
  while (::stat(p.c_str(), &st) != 0) {
    if (errno != ENOENT) fail_errno("cannot use the output folder " + quoted(folder), errno);
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  if (!S_ISDIR(st.st_mode)) fail("cannot use the output folder " + quoted(folder) + ": " + quoted(p) + " is not a folder");
  if (::access(p.c_str(), W_OK | X_OK) != 0) fail_errno("cannot use the output folder " + quoted(folder) + ": " + quoted(p), errno);
}

}  // namespace twofour::io
