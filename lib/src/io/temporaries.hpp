#pragma once
// Temporaries that must not outlive an interrupted command: OutputSet registers each temporary
// file or folder here, and a SIGINT, SIGTERM or SIGHUP handler (installed on first use, only where
// the program left the default action) removes them before the process dies of the signal.
#include <filesystem>

namespace twofour::io::detail {

// A slot id for untrack_temporary, or -1 when every slot is taken (the temporary is then still
// removed by its owner on normal exit and on exceptions, only not on a signal).
int track_temporary(const std::filesystem::path& path, bool is_folder);
void untrack_temporary(int slot);

}  // namespace twofour::io::detail
