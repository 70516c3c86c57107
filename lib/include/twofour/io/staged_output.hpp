#pragma once
// An output that appears complete or not at all: a file or a folder is built under a hidden
// staging name beside its final path and renamed into place by commit(), without replacing
// anything (an existing final path is refused up front, so an input is never overwritten).
// Destroyed before commit(), it removes what was staged.
#include <filesystem>

namespace twofour::io {

class StagedOutput {
 public:
  enum class Kind { file, folder };
  // Throws std::runtime_error naming `final_path` when it already exists or its folder is missing.
  StagedOutput(std::filesystem::path final_path, Kind kind);
  ~StagedOutput();
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  // Where to write: the staging file (Kind::file) or the staging folder (Kind::folder).
  const std::filesystem::path& staging() const { return staging_; }
  const std::filesystem::path& final_path() const { return final_; }
  // Flushes the staged folder's entry list and renames it (or the file) into place.
  void commit();

 private:
  std::filesystem::path final_, staging_;
  Kind kind_;
  bool committed_ = false;
};

}  // namespace twofour::io
