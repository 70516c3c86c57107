#pragma once
// REPORT.md building blocks: sections of markdown, tables from result rows, numbers formatted
// for reading (mean ± std over seeds), written atomically. A report file can collect sections of
// several experiments: merge_report_section replaces the section of the same title, or appends.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace twofour::experiments {

struct ReportSection {
  std::string title;  // rendered "## title"
  std::string body;   // markdown, without the heading
};

// "| a | b |\n|---|---|\n| 1 | 2 |\n"; '|' and line breaks inside cells are escaped. Rows shorter
// than the header are padded with empty cells.
std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& cells);

// A table of `columns` (flattened keys, see results.hpp) of `rows`; numbers with `digits`
// decimals, absent values as "–".
std::string rows_table(const std::vector<nlohmann::json>& rows, const std::vector<std::string>& columns,
                           int digits = 4);

// "12.35" (fixed decimals); "–" for NaN.
std::string fixed(double value, int digits);
// "91.23 ± 0.15" over the finite values (sample std, n - 1); "91.23" for one value; "–" for none.
std::string mean_pm_std(const std::vector<double>& values, int digits = 2);
double mean_of(const std::vector<double>& values);      // NaN for no finite value
double std_of(const std::vector<double>& values);       // sample std; 0 for one value, NaN for none

// Writes `# title`, an optional preamble and the sections to `file`, atomically.
void write_report(const std::filesystem::path& file, const std::string& title, const std::string& preamble,
                  const std::vector<ReportSection>& sections);

// Replaces the "## section.title" block of `file` (up to the next "## " heading) with `section`,
// or appends it; creates the file with `# report_title` when absent. Atomic.
void merge_report_section(const std::filesystem::path& file, const std::string& report_title, const ReportSection& section);

}  // namespace twofour::experiments
