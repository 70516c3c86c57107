#include "study/plan.hpp"

#include "twofour/io/array.hpp"
#include "twofour/io/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>
#include <thread>

namespace twofour::experiments {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json options_json(const StudyOptions& o) {
  return {{"full", o.full},   {"seeds", o.seeds},          {"first_seed", o.first_seed}, {"data", o.data.string()},
          {"limit", o.limit}, {"test_limit", o.test_limit}, {"threads", o.threads},       {"models", o.models},
          {"plots", o.plots}};
}

StudyOptions options_from(const json& plan, const fs::path& out) {
  try {
    const json& j = plan.at("options");
    StudyOptions o;
    o.full = j.at("full");
    o.seeds = j.at("seeds");
    o.first_seed = j.at("first_seed");
    o.data = j.at("data").get<std::string>();
    o.limit = j.at("limit");
    o.test_limit = j.at("test_limit");
    o.threads = j.at("threads");
    o.models = j.at("models").get<std::vector<std::string>>();
    o.plots = j.at("plots");
    o.out = out;
    return o;
  } catch (const json::exception& e) {
    throw io::FormatError((out / "plan.json").string() + ": bad options: " + e.what());
  }
}

fs::path claim_file(const fs::path& out, const std::string& id) { return out / "plan-claims" / id; }

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// A claim is stale when its process is gone (same host: kill(pid, 0) says ESRCH) or older than
// `stale_seconds` (another host, or a process that hangs).
bool claim_is_stale(const fs::path& file, double stale_seconds) {
  std::ifstream in(file);
  std::string host;
  long pid = 0;
  in >> host >> pid;
  if (in && host == host_name() && pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  std::error_code ec;
  const auto written = fs::last_write_time(file, ec);
  if (ec) return false;  // removed meanwhile: the next try creates it
  const double age = std::chrono::duration<double>(fs::file_time_type::clock::now() - written).count();
  return age > stale_seconds;
}

// Creates the claim with O_EXCL (atomic on local file systems and on NFSv3+); false when held.
bool try_claim(const fs::path& file, double stale_seconds) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      const std::string text = host_name() + " " + std::to_string(getpid()) + "\n";
      const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      ::close(fd);
      if (!ok) throw std::runtime_error("cannot write the claim " + file.string());
      return true;
    }
    if (errno != EEXIST) throw std::runtime_error("cannot create the claim " + file.string() + ": " + std::strerror(errno));
    if (attempt > 0 || !claim_is_stale(file, stale_seconds)) return false;
    std::fprintf(stderr, "worker: taking over the stale claim %s\n", file.string().c_str());
    std::error_code ec;
    fs::remove(file, ec);
  }
  return false;
}

void run_entry(const fs::path& out, const json& plan, const json& entry, int threads) {
  StudyOptions o = options_from(plan, out);
  if (threads > 0) o.threads = threads;
  o.step = StudyOptions::Step::unit;
  o.unit = entry.at("id").get<std::string>();
  run_study(entry.at("study").get<std::string>(), o);
}

}  // namespace

json write_study_plan(const std::vector<std::string>& studies, const StudyOptions& options) {
  std::vector<json> listed;
  for (const auto& name : studies) {
    StudyOptions o = options;
    o.step = StudyOptions::Step::plan;
    o.plan = &listed;
    run_study(name, o);
  }
  // Dense models are shared by the studies: each is listed once, where first needed; the runs
  // keep their studies' order, so the plan (and every index in it) is the same on every call.
  json runs = json::array();
  std::set<std::string> seen;
  for (auto& entry : listed) {
    const std::string id = entry.at("id");
    if (!seen.insert(id).second) continue;
    entry["index"] = runs.size();
    runs.push_back(std::move(entry));
  }
  json plan = {{"version", 1}, {"studies", studies}, {"options", options_json(options)}, {"runs", runs}};
  std::error_code ec;
  fs::create_directories(options.out, ec);
  if (ec) throw std::runtime_error("cannot create " + options.out.string() + ": " + ec.message());
  io::write_file_atomically(options.out / "plan.json", plan.dump(1) + "\n");
  return plan;
}

json read_study_plan(const fs::path& out) {
  const fs::path file = out / "plan.json";
  std::ifstream in(file);
  if (!in) throw io::FormatError(file.string() + ": no plan (write one with `twofour study NAME --plan --out DIR`)");
  json plan = json::parse(in, nullptr, false);
  if (plan.is_discarded() || !plan.is_object() || plan.value("version", 0) != 1 || !plan.contains("runs") ||
      !plan["runs"].is_array() || !plan.contains("studies"))
    throw io::FormatError(file.string() + ": not a version-1 study plan");
  return plan;
}

bool plan_run_done(const fs::path& out, const std::string& id) {
  return fs::exists(plan_results_dir(out) / (id + ".json"));
}

int run_plan_index(const fs::path& out, std::size_t index, int threads) {
  const json plan = read_study_plan(out);
  const auto& runs = plan["runs"];
  if (index >= runs.size())
    throw std::invalid_argument("index " + std::to_string(index) + " is out of the plan's range 0.." +
                                std::to_string(runs.size() - 1));
  const json& entry = runs[index];
  if (plan_run_done(out, entry["id"])) {
    std::fprintf(stderr, "run %zu (%s) already finished\n", index, entry["id"].get<std::string>().c_str());
    return 0;
  }
  std::string waiting;
  for (const auto& dep : entry["depends_on"])
    if (!plan_run_done(out, dep)) waiting += " " + dep.get<std::string>();
  if (!waiting.empty())
    throw std::runtime_error("run " + std::to_string(index) + " needs runs that have not finished:" + waiting);
  run_entry(out, plan, entry, threads);
  return 0;
}

std::size_t run_plan_worker(const fs::path& out, int threads, double stale_seconds) {
  const json plan = read_study_plan(out);
  std::error_code ec;
  fs::create_directories(out / "plan-claims", ec);
  if (ec) throw std::runtime_error("cannot create " + (out / "plan-claims").string() + ": " + ec.message());
  std::size_t done_here = 0;
  for (;;) {
    bool all_done = true, ran = false;
    for (const auto& entry : plan["runs"]) {
      const std::string id = entry["id"];
      if (plan_run_done(out, id)) continue;
      all_done = false;
      bool ready = true;
      for (const auto& dep : entry["depends_on"]) ready = ready && plan_run_done(out, dep);
      if (!ready || !try_claim(claim_file(out, id), stale_seconds)) continue;
      // Another worker may have finished it between our check and our claim.
      if (!plan_run_done(out, id)) {
        try {
          run_entry(out, plan, entry, threads);
        } catch (...) {
          fs::remove(claim_file(out, id), ec);  // let another worker retry it
          throw;
        }
        ++done_here;
      }
      fs::remove(claim_file(out, id), ec);
      ran = true;
      break;  // rescan from the start: dependencies may have become ready
    }
    if (all_done) return done_here;
    if (!ran) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

std::vector<std::string> merge_study_plan(const fs::path& out, const std::vector<std::string>& only) {
  const json plan = read_study_plan(out);
  std::vector<std::string> studies = only.empty() ? plan["studies"].get<std::vector<std::string>>() : only;
  std::vector<std::string> missing;
  for (const auto& name : studies) {
    StudyOptions o = options_from(plan, out);
    o.step = StudyOptions::Step::merge;
    o.missing = &missing;
    run_study(name, o);
  }
  return missing;
}

}  // namespace twofour::experiments
