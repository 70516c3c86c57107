#include "temporaries.hpp"

#include <array>
#include <atomic>
#include <climits>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <unistd.h>

namespace twofour::io::detail {
namespace {

// Fixed storage: the handler may only touch memory that is never freed or reallocated.
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 live
  bool is_folder = false;
  char path[PATH_MAX] = {};
};
constexpr std::size_t kSlots = 128;
std::array<Slot, kSlots> slots;

// Async-signal-safe removal of a folder tree: raw open/getdents64/unlinkat, no allocation.
// Entries are re-read from the start after each pass because unlinking while reading a
// directory stream may skip entries.
void remove_tree_at(int parent, const char* name, int depth) {
  const int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    ::unlinkat(parent, name, 0);
    return;
  }
  alignas(8) char buffer[4096];
  for (int pass = 0; pass < 1000; ++pass) {
    ::lseek(fd, 0, SEEK_SET);
    const ssize_t n = ::getdents64(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    bool removed = false;
    for (ssize_t at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + at);
      at += entry->d_reclen;
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      if (entry->d_type == DT_DIR && depth < 32) {
        remove_tree_at(fd, entry->d_name, depth + 1);
      } else {
        ::unlinkat(fd, entry->d_name, 0);
      }
      removed = true;
    }
    if (!removed) break;
  }
  ::close(fd);
  ::unlinkat(parent, name, AT_REMOVEDIR);
}

extern "C" void remove_temporaries_and_die(int sig) {
  const int saved = errno;
  for (auto& slot : slots) {
    if (slot.state.load(std::memory_order_acquire) != 2) continue;
    if (slot.is_folder) {
      remove_tree_at(AT_FDCWD, slot.path, 0);
    } else {
      ::unlink(slot.path);
    }
  }
  errno = saved;
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_handlers() {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) continue;  // keep the program's own
    struct sigaction action {};
    action.sa_handler = remove_temporaries_and_die;
    sigemptyset(&action.sa_mask);
    ::sigaction(sig, &action, nullptr);
  }
}

}  // namespace

int track_temporary(const std::filesystem::path& path, bool is_folder) {
  static std::once_flag installed;
  std::call_once(installed, install_handlers);
  const std::string absolute = std::filesystem::absolute(path).string();
  if (absolute.size() >= PATH_MAX) return -1;
  for (std::size_t i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (!slots[i].state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) continue;
    slots[i].is_folder = is_folder;
    std::memcpy(slots[i].path, absolute.c_str(), absolute.size() + 1);
    slots[i].state.store(2, std::memory_order_release);
    return static_cast<int>(i);
  }
  return -1;
}

void untrack_temporary(int slot) {
  if (slot >= 0 && static_cast<std::size_t>(slot) < kSlots) slots[static_cast<std::size_t>(slot)].state.store(0, std::memory_order_release);
}

}  // namespace twofour::io::detail
