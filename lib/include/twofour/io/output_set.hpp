#pragma once
// Every output a command writes goes through one OutputSet, so that no command can destroy what
// the user owns:
//
//   * The command declares ALL its inputs and outputs up front; the constructor checks them before
//     any work is done and throws OutputError naming the path when
//       - an output is one of the inputs (same resolved path, or same device and inode: `./w.npy`,
//         `w.npy`, a symlink to it and a hard link to it are all the same file),
//       - two outputs are the same file, or an input or output file lies inside an output folder,
//       - an output file is an existing folder (or an output folder an existing file), a socket,
//         a file without write permission, or its folder is missing or not writable.
//   * A symlink output is written through to its final target and stays a link (as `cp` and
//     NumPy do). A character or block device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe)
//     is opened and written directly, never renamed over or replaced.
//   * A regular file is written to a temporary file beside its (resolved) target; a folder is
//     filled in a temporary sibling folder. Nothing is visible until commit(), which writes the
//     devices and FIFOs and then renames every temporary onto its target. A command that fails
//     before commit() (exception, early return) leaves every output as it was: the destructor
//     removes the temporaries, and SIGINT/SIGTERM/SIGHUP remove them before the process dies.
//     A replaced file keeps its permission bits; a new one gets 0666 minus the umask.
//
// Folders: folder(path) returns the temporary sibling folder (created on first call) for the
// caller to fill with any files and subfolders (plain writes are fine: nobody sees it yet). At
// commit() it takes the target's place in one step: rename(2) when the target does not exist,
// renameat2(RENAME_EXCHANGE) when it does (the old folder then lies at the temporary name and is
// deleted), so a reader sees either the old complete folder or the new complete one. Example, a
// checkpoint folder of many files:
//
//   io::OutputSet out({config}, {}, {run_dir / "checkpoint"});  // inputs, files, folders
//   const auto staging = out.folder(run_dir / "checkpoint");
//   io::write_npy(staging / "w1.npy", w1);   // staging is private: direct writes are fine
//   io::write_npy(staging / "w2.npy", w2);
//   out.commit();                            // the checkpoint appears complete, or not at all
//
// Single files: write_file_atomically() (atomic_file.hpp) is a one-output OutputSet.
//
// The commit itself is a sequence of renames in the targets' own folders; each is atomic, and
// they are issued only after every output is complete, so a failure before commit() changes
// nothing. A rename failing midway through commit() (which needs the file system to fail between
// two renames in folders already checked writable) is reported and may leave earlier outputs
// renamed.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace twofour::io {

// An output that cannot or must not be written: the message names the path and the reason.
struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class OutputSet {
 public:
  // `inputs`: the files (or folders) the command reads; `files`: its output files; `folders`: its
  // output folders, each committed whole. Empty paths are skipped (options not given). Checks
  // them all (see above) and throws OutputError before anything is created.
  OutputSet(const std::vector<std::filesystem::path>& inputs, const std::vector<std::filesystem::path>& files,
            const std::vector<std::filesystem::path>& folders = {});
  ~OutputSet();  // removes every temporary unless commit() succeeded
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  // The whole content of a declared output file (a second write replaces the first). Nothing is
  // visible at `file` before commit(). Throws OutputError (disk full...) naming the file, or
  // std::logic_error for a path that was not declared.
  void write(const std::filesystem::path& file, std::span<const std::byte> bytes);
  void write(const std::filesystem::path& file, std::string_view text);

  // The temporary folder to fill for a declared output folder, created (empty) on first call.
  std::filesystem::path folder(const std::filesystem::path& declared);

  // Makes every output visible. Throws std::logic_error when a declared output was never written
  // (a command bug), OutputError when writing a device or a rename fails.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// For commands that keep a working folder they add to over time (train's checkpoints, study and
// reproduce results) rather than commit whole: throws OutputError before any work unless
// `folder` is a writable folder or can be created (its nearest existing ancestor is one).
void require_output_folder(const std::filesystem::path& folder);

}  // namespace twofour::io
