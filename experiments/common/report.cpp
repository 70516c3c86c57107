#include "common/report.hpp"

#include "common/results.hpp"
#include "twofour/io/atomic_file.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;

std::string escape_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string render_section(const ReportSection& s) {
  std::string body = s.body;
  if (!body.empty() && body.back() != '\n') body += '\n';
  return "## " + s.title + "\n\n" + body + "\n";
}

}  // namespace

std::string fixed(double value, int digits) {
  if (!std::isfinite(value)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

double mean_of(const std::vector<double>& values) {
  double sum = 0;
  std::size_t n = 0;
  for (double v : values)
    if (std::isfinite(v)) sum += v, ++n;
  return n ? sum / static_cast<double>(n) : std::nan("");
}

double std_of(const std::vector<double>& values) {
  const double m = mean_of(values);
  double ss = 0;
  std::size_t n = 0;
  for (double v : values)
    if (std::isfinite(v)) ss += (v - m) * (v - m), ++n;
  if (n == 0) return std::nan("");
  return n == 1 ? 0.0 : std::sqrt(ss / static_cast<double>(n - 1));
}

std::string mean_pm_std(const std::vector<double>& values, int digits) {
  std::size_t n = 0;
  for (double v : values) n += std::isfinite(v);
  if (n == 0) return "–";
  if (n == 1) return fixed(mean_of(values), digits);
  return fixed(mean_of(values), digits) + " ± " + fixed(std_of(values), digits);
}

std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& cells) {
  std::string md = "|";
  for (const auto& h : header) md += " " + escape_cell(h) + " |";
  md += "\n|";
  for (std::size_t i = 0; i < header.size(); ++i) md += "---|";
  md += "\n";
  for (const auto& row : cells) {
    md += "|";
    for (std::size_t i = 0; i < header.size(); ++i) md += " " + (i < row.size() ? escape_cell(row[i]) : std::string()) + " |";
    md += "\n";
  }
  return md;
}

std::string rows_table(const std::vector<json>& rows, const std::vector<std::string>& columns, int digits) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : rows) {
    std::map<std::string, json> flat;
    for (auto& [k, v] : flatten(row)) flat.emplace(k, v);
    std::vector<std::string> line;
    for (const auto& c : columns) {
      const auto it = flat.find(c);
      if (it == flat.end() || it->second.is_null()) line.push_back("–");
      else if (it->second.is_number_float()) line.push_back(fixed(it->second.get<double>(), digits));
      else if (it->second.is_string()) line.push_back(it->second.get<std::string>());
      else line.push_back(it->second.dump());
    }
    cells.push_back(std::move(line));
  }
  return markdown_table(columns, cells);
}

void write_report(const std::filesystem::path& file, const std::string& title, const std::string& preamble,
                  const std::vector<ReportSection>& sections) {
  std::string md = "# " + title + "\n\n";
  if (!preamble.empty()) md += preamble + (preamble.back() == '\n' ? "\n" : "\n\n");
  for (const auto& s : sections) md += render_section(s);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  io::write_file_atomically(file, md);
}

void merge_report_section(const std::filesystem::path& file, const std::string& report_title, const ReportSection& section) {
  std::string text;
  if (std::ifstream in(file, std::ios::binary); in) {
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.empty()) text = "# " + report_title + "\n\n";
  if (text.back() != '\n') text += '\n';
  const std::string heading = "## " + section.title + "\n";
  std::size_t begin = text.rfind(heading, 0) == 0 ? 0 : text.find("\n" + heading);
  if (begin == std::string::npos) {
    if (text.size() < 2 || text.substr(text.size() - 2) != "\n\n") text += '\n';
    text += render_section(section);
  } else {
    if (begin != 0) ++begin;  // past the newline before the heading
    std::size_t end = text.find("\n## ", begin + heading.size() - 1);
    end = end == std::string::npos ? text.size() : end + 1;
    text.replace(begin, end - begin, render_section(section));
  }
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  io::write_file_atomically(file, text);
}

}  // namespace twofour::experiments
