#pragma once
// Finished runs are remembered on disk so that re-running an experiment (after an interruption,
// or with more seeds) redoes only what is missing. One JSON file per run, named by a key derived
// from the run's configuration; each is written atomically, so a file is either whole or absent.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace twofour::experiments {

class RunCache {
 public:
  // `dir` is created on the first store.
  explicit RunCache(std::filesystem::path dir);

  // The stored value, or nullopt when absent. A file that does not parse (e.g. edited by hand) is
  // treated as absent, with a one-line warning on stderr, and is overwritten by the next store.
  std::optional<nlohmann::json> find(const std::string& key) const;
  // Throws std::invalid_argument for a key that is not a plain file name, std::runtime_error when
  // the file cannot be written.
  void store(const std::string& key, const nlohmann::json& value) const;
  // A folder reserved for the run's own files (checkpoints): dir/key. Not created here.
  std::filesystem::path dir_for(const std::string& key) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path file_for(const std::string& key) const;
  std::filesystem::path dir_;
};

// "mlp-asp-2-4-magnitude-1a2b3c4d5e6f": the config's scalar values as a readable slug (at most 60
// characters of [a-z0-9.-]) and 12 hex digits of a 64-bit FNV-1a hash of the canonical dump
// (nlohmann's objects are key-sorted, so equal configs give equal keys on every platform).
std::string run_key(const nlohmann::json& config);

// "<label>-<12 hex digits of the config's hash>", the label reduced to [a-z0-9.-] (60 characters
// at most): for callers that know a better name than the config's values.
std::string run_key(const std::string& label, const nlohmann::json& config);

// The 64-bit FNV-1a hash of `text` (stable: fixed by its definition, unlike std::hash).
std::uint64_t stable_hash(const std::string& text);

}  // namespace twofour::experiments
