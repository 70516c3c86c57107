#include "twofour/prune/checkpoint_check.hpp"

#include "twofour/io/compressed_tensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace twofour::prune {
namespace {

void scan_into(TensorCheck& t, std::span<const std::byte> bytes, sparse::NMPattern pattern) {
  const std::size_t es = io::dtype_size(t.dtype);
  const std::uint64_t sign = io::sign_bit(t.dtype);
  if (t.shape.size() == 2 && t.shape[1] % static_cast<std::size_t>(pattern.m) == 0 && t.shape[0] > 0) {
    t.grouped = true;
    t.scan = sparse::scan_nm(bytes, t.shape[0], t.shape[1], es, sign, pattern);
  } else {
    t.scan = sparse::count_zeros(bytes, es, sign);
  }
}

}  // namespace

bool CheckReport::ok() const { return failing() == 0; }
std::size_t CheckReport::targets() const {
  std::size_t n = 0;
  for (const auto& t : tensors) n += t.target.target ? 1 : 0;
  return n;
}
std::size_t CheckReport::failing() const {
  std::size_t n = 0;
  for (const auto& t : tensors) n += t.conforms() ? 0 : 1;
  return n;
}

CheckReport check_checkpoint(const io::Checkpoint& c, const TargetRule& rule) {
  CheckReport r;
  r.path = c.path().string();
  r.pattern = rule.pattern;
  const auto compressed = io::find_compressed_weights(c);
  std::set<const io::CheckpointTensor*> parts;
  std::map<const io::CheckpointTensor*, const io::CompressedWeight*> first_part;
  for (const auto& w : compressed) {
    parts.insert({w.compressed, w.bitmask, w.shape});
    first_part[std::min({w.compressed, w.bitmask, w.shape})] = &w;
  }
  for (const auto& t : c.tensors()) {
    if (const auto it = first_part.find(&t); it != first_part.end()) {
      const auto& w = *it->second;
      TensorCheck tc;
      tc.name = w.dense_name();
      tc.shard = c.shards()[w.compressed->shard].file;
      tc.dtype = w.compressed->dtype;
      tc.layout = io::kBitmask24Format;
      try {
        const auto dense = io::decompress_weight(c, w);
        tc.shape = dense.shape;
        tc.target = decide_target(tc.name, tc.dtype, tc.shape, rule);
        scan_into(tc, dense.data, rule.pattern);
      } catch (const io::FormatError& e) {
        tc.shape = w.compressed->shape;
        tc.target = {true, ""};
        tc.error = e.what();
      }
      for (const auto* p : {w.compressed, w.bitmask, w.shape}) c.release(*p);
      r.tensors.push_back(std::move(tc));
      continue;
    }
    if (parts.count(&t) != 0) continue;
    TensorCheck tc;
    tc.name = t.name;
    tc.shard = c.shards()[t.shard].file;
    tc.dtype = t.dtype;
    tc.shape = t.shape;
    tc.target = decide_target(t.name, t.dtype, t.shape, rule);
    scan_into(tc, c.bytes(t), rule.pattern);
    c.release(t);
    r.tensors.push_back(std::move(tc));
  }
  return r;
}

std::string first_violation(const TensorCheck& t, sparse::NMPattern pattern) {
  if (!t.grouped || t.scan.ok()) return "";
  const auto m = static_cast<std::size_t>(pattern.m);
  return "row " + std::to_string(t.scan.first_row) + ", group " + std::to_string(t.scan.first_group) + " (columns " +
         std::to_string(t.scan.first_group * m) + ".." + std::to_string(t.scan.first_group * m + m - 1) + "): " +
         std::to_string(t.scan.first_nonzeros) + " non-zero";
}

std::string check_report_json(const CheckReport& r) {
  using nlohmann::json;
  json tensors = json::array();
  for (const auto& t : r.tensors) {
    json j = {{"name", t.name},
              {"shard", t.shard},
              {"dtype", std::string(io::dtype_name(t.dtype))},
              {"shape", t.shape},
              {"layout", t.layout},
              {"target", t.target.target},
              {"elements", t.scan.elements},
              {"zeros", t.scan.zeros},
              {"negative_zeros", t.scan.negative_zeros},
              {"sparsity", t.scan.elements ? static_cast<double>(t.scan.zeros) / static_cast<double>(t.scan.elements) : 0.0},
              {"conforms", t.conforms()}};
    if (!t.target.target) j["why_not_target"] = t.target.reason;
    if (t.grouped) {
      j["groups"] = t.scan.groups;
      j["violating_groups"] = t.scan.bad_groups;
      j["bitwise_violating_groups"] = t.scan.bitwise_bad_groups;
      if (!t.scan.ok())
        j["first_violation"] = {{"row", t.scan.first_row}, {"group", t.scan.first_group}, {"nonzeros", t.scan.first_nonzeros}};
    }
    if (!t.error.empty()) j["error"] = t.error;
    tensors.push_back(std::move(j));
  }
  const json out = {{"path", r.path},
                    {"pattern", sparse::to_string(r.pattern)},
                    {"pattern_meaning", "N kept of every M along the input dim"},
                    {"targets", r.targets()},
                    {"failing", r.failing()},
                    {"ok", r.ok()},
                    {"tensors", tensors}};
  return out.dump(2) + "\n";
}

}  // namespace twofour::prune
