#include "common/results.hpp"

#include "twofour/io/output_set.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

void flatten_into(const std::string& prefix, const json& value, std::vector<std::pair<std::string, json>>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) flatten_into(prefix.empty() ? key : prefix + "." + key, child, out);
  } else {
    out.emplace_back(prefix, value);
  }
}

// A cell's text: numbers with enough digits to round-trip a double, strings as they are.
std::string cell_text(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d)) return "";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
  }
  return v.dump();  // integers, arrays, empty objects
}

void create_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
}

}  // namespace

std::vector<std::pair<std::string, json>> flatten(const json& row) {
  std::vector<std::pair<std::string, json>> out;
  if (!row.is_object()) {
    out.emplace_back("value", row);
    return out;
  }
  flatten_into("", row, out);
  return out;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string results_csv(const std::vector<json>& rows) {
  std::vector<std::string> columns;
  std::map<std::string, std::size_t> index;
  std::vector<std::vector<std::pair<std::string, json>>> flat;
  flat.reserve(rows.size());
  for (const auto& row : rows) {
    flat.push_back(flatten(row));
    for (const auto& [key, value] : flat.back())
      if (index.emplace(key, columns.size()).second) columns.push_back(key);
  }
  std::string csv;
  for (std::size_t c = 0; c < columns.size(); ++c) csv += (c ? "," : "") + csv_field(columns[c]);
  csv += "\n";
  for (const auto& row : flat) {
    std::vector<std::string> cells(columns.size());
    for (const auto& [key, value] : row) cells[index.at(key)] = cell_text(value);
    for (std::size_t c = 0; c < cells.size(); ++c) csv += (c ? "," : "") + csv_field(cells[c]);
    csv += "\n";
  }
  return csv;
}

void write_results(const std::filesystem::path& dir, const json& meta, const std::vector<json>& rows) {
  create_dir(dir);
  // NaN is not JSON: nlohmann writes it as null, which readers treat as "not measured".
  const json doc = {{"meta", meta}, {"rows", rows}};
  io::OutputSet out({}, {dir / "results.json", dir / "results.csv"});  // both or neither
  out.write(dir / "results.json", doc.dump(2) + "\n");
  out.write(dir / "results.csv", results_csv(rows));
  out.commit();
}

}  // namespace twofour::experiments
