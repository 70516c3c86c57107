#pragma once
// Scale-out of the studies (docs/scale-out.md): a plan of independent runs (OUT/plan.json), run by
// array index (a Slurm array task) or by any number of workers that claim runs whose dependencies
// are done, and a merge that writes the studies' outputs from the finished runs alone. The runs
// come from the studies' own enumeration (StudyContext::run_grid), never from a second list.
#include "study/study.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace twofour::experiments {

// Lists every run of `studies` with `options` (dense models once, before the runs that need them)
// and writes options.out/plan.json atomically. Returns the plan.
nlohmann::json write_study_plan(const std::vector<std::string>& studies, const StudyOptions& options);

// Reads OUT/plan.json; throws io::FormatError (naming the file) when it is absent or malformed.
nlohmann::json read_study_plan(const std::filesystem::path& out);

// Whether run `id` of the plan in `out` has finished (its result is recorded).
bool plan_run_done(const std::filesystem::path& out, const std::string& id);

// Runs plan entry `index` (0-based). `threads` > 0 overrides the plan's thread count. Returns 0;
// a run already finished is skipped; a run whose dependencies have not finished throws
// std::runtime_error naming them.
int run_plan_index(const std::filesystem::path& out, std::size_t index, int threads);

// Claims (OUT/plan-claims/ID, created with O_EXCL) and runs entries whose dependencies are done,
// until every entry is done; waits while others hold the remaining ones. A claim is stale, and is
// taken over, when its process is gone (same host) or it is older than `stale_seconds`. Returns
// the number of runs this worker did.
std::size_t run_plan_worker(const std::filesystem::path& out, int threads, double stale_seconds);

// Writes the outputs of the plan's studies (or of `only`, when not empty) from the finished runs;
// returns the ids of the runs still missing (their rows are absent from the tables).
std::vector<std::string> merge_study_plan(const std::filesystem::path& out, const std::vector<std::string>& only);

}  // namespace twofour::experiments
