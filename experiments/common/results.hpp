#pragma once
// The two result files every experiment writes: results.json ({"meta": ..., "rows": [...]}, for
// plot scripts and programs) and results.csv (one line per row, for spreadsheets). Both are
// written atomically, so an interrupted run never leaves a half-written table behind.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace twofour::experiments {

// Writes dir/results.json and dir/results.csv (creating dir). CSV columns are the union of the
// rows' flattened keys in first-seen order; nested objects become "parent.child" columns, arrays
// are written as their JSON text, null and absent values as empty cells.
// Throws std::runtime_error when the folder or a file cannot be written.
void write_results(const std::filesystem::path& dir, const nlohmann::json& meta, const std::vector<nlohmann::json>& rows);

// The CSV text write_results produces (exposed for tests and for callers writing other tables).
std::string results_csv(const std::vector<nlohmann::json>& rows);

// One row flattened to ("a.b", value) pairs in the object's own key order.
std::vector<std::pair<std::string, nlohmann::json>> flatten(const nlohmann::json& row);

// RFC 4180 quoting: a field holding a comma, a quote or a line break is quoted, quotes doubled.
std::string csv_field(const std::string& text);

}  // namespace twofour::experiments
